"""Bad input gets a clear error naming what is wrong, and nothing is launched."""

from __future__ import annotations

import pytest

from support import Server


@pytest.fixture
def server(shared_server: Server) -> Server:
    """Every test here only starts runs and reads its own back: the module's server."""
    return shared_server


def _run_count(server: Server) -> int:
    return len(server.client.get("/api/runs", params={"limit": 200}).json()["runs"])


def _errors(response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}
    return {f["field"]: f["message"] for f in body["error"]["fields"]}


def test_unknown_task_is_404(server: Server) -> None:
    r = server.client.post("/api/runs/start", json={"taskId": "nope"})
    assert r.status_code == 404
    assert "nope" in r.json()["error"]["message"]


def test_each_bad_field_is_named(server: Server) -> None:
    before = _run_count(server)
    r = server.client.post(
        "/api/runs/start",
        json={
            "taskId": "scripted",
            "fields": {"epochs": "many", "lr": 99, "mode": "warp", "bogus": 1},
            "extraFields": {"lines": -1},
        },
    )
    assert r.status_code == 422
    errors = _errors(r)
    assert set(errors) == {"epochs", "lr", "mode", "bogus", "lines"}
    assert "integer" in errors["epochs"]
    assert "10" in errors["lr"]
    assert "fast" in errors["mode"]
    assert "unknown" in errors["bogus"]
    assert _run_count(server) == before  # nothing was launched


def test_missing_required_field(server: Server) -> None:
    r = server.client.post("/api/runs/start", json={"taskId": "needs-text"})
    assert r.status_code == 422
    assert "text" in _errors(r)


def test_malformed_body_has_the_same_error_shape(server: Server) -> None:
    r = server.client.post("/api/runs/start", json={"fields": []})
    assert r.status_code == 422
    errors = _errors(r)
    assert "taskId" in errors and "fields" in errors


def test_unknown_run_is_404(server: Server) -> None:
    for path in ("/api/runs/20260101-000000-abcdef", "/api/runs/..%2F..%2Fetc", "/api/runs/x/logs"):
        r = server.client.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found"


def test_bad_status_filter(server: Server) -> None:
    r = server.client.get("/api/runs", params={"status": "sleeping"})
    assert r.status_code == 422
    assert "status" in _errors(r)


def test_malformed_protocol_and_huge_lines_are_kept_as_log(server: Server) -> None:
    run = server.start_run("noisy", big_mb=10)
    done = server.wait_status(run["id"])
    assert done["status"] == "completed"
    assert done["progress"] == {"epoch": 2, "total_epochs": 2, "val_accuracy": 0.75}
    assert done["protocolErrors"] == 3
    assert done["logs"][-1] == "the end"
    log = server.full_log(run["id"])
    assert b"VTM_PROGRESS::{not json\n" in log
    assert b"plain \xc3\x28 invalid utf-8\n" in log
    assert b"x" * (10 << 20) in log
    assert server.client.get("/api/health").status_code == 200
    # the server still works for other runs
    assert server.wait_status(server.start_run(epochs=1)["id"])["status"] == "completed"
