"""GET /api/catalog and hot reload: a broken edit never takes the last good catalog away."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import TESTS, Server, wait_for


@pytest.fixture
def editable(vtm_home: Path, database_url: str, tmp_path: Path):
    folder = tmp_path / "catalog"
    shutil.copytree(TESTS / "trainers", folder)
    srv = Server(vtm_home, database_url, catalog=folder / "catalog.yaml").start()
    yield srv
    srv.stop()
    srv.client.close()


def test_catalog_lists_tasks_with_merged_fields(server: Server) -> None:
    body = server.client.get("/api/catalog").json()
    assert body["status"] == "ok"
    assert body["error"] is None
    tasks = {t["id"]: t for t in body["tasks"]}
    scripted = tasks["scripted"]
    assert scripted["primaryMetric"] == {"name": "val_accuracy", "goal": "max"}
    fields = {f["name"]: f for f in scripted["fields"]}
    assert fields["epochs"]["type"] == "int"
    assert fields["epochs"]["min"] == 1
    assert fields["mode"]["choices"] == ["fast", "slow"]
    assert fields["loud"]["flag"] == "--loud"
    assert next(f["name"] for f in scripted["fields"]) == "epochs"
    # Only a task whose entry has an `mlflow:` block is said to use MLflow; defaults filled in.
    assert scripted["mlflow"] is None
    assert tasks["tiny-model"]["mlflow"] == {
        "experiment": "tiny-model",
        "registeredModel": "tiny-registered",
    }
    assert tasks["mlflow-tagged"]["mlflow"] == {
        "experiment": "tagged-exp",
        "registeredModel": "mlflow-tagged",
    }


def test_broken_edit_keeps_last_good_catalog_and_shows_the_error(editable: Server) -> None:
    path = editable.catalog
    good = path.read_text()
    path.write_text(
        good.replace("title: Scripted trainer", "title: Scripted trainer\n    bogus: 1")
    )

    body = wait_for(
        lambda: (b := editable.client.get("/api/catalog").json())["status"] == "error" and b,
        "the broken catalog to be reported",
    )
    assert body["error"]["file"] == str(path)
    assert body["error"]["line"] == good.splitlines().index("    title: Scripted trainer") + 2
    assert "bogus" in body["error"]["key"]
    assert {t["id"] for t in body["tasks"]} >= {"scripted", "stubborn"}
    run = editable.start_run(epochs=1)  # the last good catalog still starts runs
    assert editable.wait_status(run["id"])["status"] == "completed"

    path.write_text(good.replace("title: Scripted trainer", "title: Renamed trainer"))
    body = wait_for(
        lambda: (b := editable.client.get("/api/catalog").json())["status"] == "ok" and b,
        "the fixed catalog to load",
    )
    assert next(t for t in body["tasks"] if t["id"] == "scripted")["title"] == "Renamed trainer"


def test_server_starts_with_a_broken_catalog_and_says_why(
    vtm_home: Path, database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text("version: 1\ntasks: [oops\n")
    srv = Server(vtm_home, database_url, catalog=bad).start()
    try:
        body = srv.client.get("/api/catalog").json()
        assert body["status"] == "error"
        assert body["error"]["line"] == 3
        assert body["tasks"] == []
        r = srv.client.post("/api/runs/start", json={"taskId": "scripted"})
        assert r.status_code == 503
        assert str(bad) in r.json()["error"]["message"]
    finally:
        srv.stop()
        srv.client.close()


def test_openapi_and_docs(server: Server) -> None:
    spec = server.client.get("/openapi.json").json()
    for path in (
        "/api/catalog",
        "/api/runs/start",
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/stop",
        "/api/runs/{run_id}/logs",
        "/api/runs/{run_id}/metrics",
        "/api/events",
        "/api/health",
    ):
        assert path in spec["paths"], path
    assert server.client.get("/docs").status_code == 200
