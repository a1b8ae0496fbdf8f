"""The queue, the concurrency limit, timeouts and tokens."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from support import TESTS, Server

# The queue is the store's: scheduling reads it.
pytestmark = pytest.mark.both_databases


@pytest.fixture
def one_at_a_time(vtm_home: Path, database_url: str):
    srv = Server(vtm_home, database_url, VTM_MAX_CONCURRENT_RUNS="1").start()
    yield srv
    srv.stop()
    srv.client.close()


def test_runs_beyond_the_limit_queue_and_start_in_order(
    one_at_a_time: Server, tmp_path: Path
) -> None:
    srv = one_at_a_time
    gates = tmp_path / "gates"
    gates.mkdir()
    first = srv.start_run(epochs=1, gate_dir=str(gates), pause_at=1)
    second = srv.start_run(epochs=1)
    third = srv.start_run(epochs=1)
    srv.wait_epoch(first["id"], 1)
    assert srv.run(second["id"])["status"] == "queued"
    assert srv.run(third["id"])["status"] == "queued"

    stopped = srv.client.post(f"/api/runs/{third['id']}/stop").json()
    assert stopped["status"] == "stopped"
    assert stopped["startedAt"] is None

    (gates / first["id"]).touch()
    assert srv.wait_status(first["id"])["status"] == "completed"
    done = srv.wait_status(second["id"])
    assert done["status"] == "completed"
    assert done["startedAt"] >= srv.run(first["id"])["finishedAt"]
    assert srv.run(third["id"])["status"] == "stopped"


def test_queued_runs_survive_a_restart(one_at_a_time: Server, tmp_path: Path) -> None:
    srv = one_at_a_time
    gates = tmp_path / "gates"
    gates.mkdir()
    first = srv.start_run(epochs=1, gate_dir=str(gates), pause_at=1)
    second = srv.start_run(epochs=1)
    srv.wait_epoch(first["id"], 1)
    srv.kill9()
    again = Server(srv.home, srv.database_url, VTM_MAX_CONCURRENT_RUNS="1").start()
    try:
        assert again.run(second["id"])["status"] == "queued"
        (gates / first["id"]).touch()
        assert again.wait_status(second["id"])["status"] == "completed"
    finally:
        again.stop()
        again.client.close()


def test_runner_timeout_fails_the_run(vtm_home: Path, database_url: str, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        (TESTS / "trainers" / "catalog.yaml")
        .read_text()
        .replace("runner: {target: stubborn.py}", "runner: {target: stubborn.py, timeout: 1}")
    )
    for script in (TESTS / "trainers").glob("*.py"):  # the catalog names them all
        (tmp_path / script.name).write_text(script.read_text())
    srv = Server(vtm_home, database_url, catalog=catalog).start()
    try:
        run = srv.start_run("stubborn")
        done = srv.wait_status(run["id"])
        assert done["status"] == "failed"
        assert "timed out" in done["error"]
    finally:
        srv.stop()
        srv.client.close()


def test_token_is_required_when_set(vtm_home: Path, database_url: str) -> None:
    srv = Server(vtm_home, database_url, VTM_TOKEN="s3cret").start()
    try:
        assert srv.client.get("/api/health").status_code == 200
        denied = srv.client.get("/api/runs")
        assert denied.status_code == 401
        assert denied.json()["error"]["code"] == "unauthorized"
        assert (
            srv.client.get("/api/runs", headers={"Authorization": "Bearer nope"}).status_code == 401
        )
        ok = srv.client.get("/api/runs", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        with httpx.Client(base_url=srv.url) as c:
            assert c.get("/api/catalog", params={"token": "s3cret"}).status_code == 200
    finally:
        srv.stop()
        srv.client.close()


def test_refuses_to_listen_beyond_loopback_without_a_token(vtm_home: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "vtm", "serve", "--host", "0.0.0.0", "--port", "0"],
        env={"PATH": "/usr/bin:/bin", "VTM_HOME": str(vtm_home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "VTM_TOKEN" in result.stderr
