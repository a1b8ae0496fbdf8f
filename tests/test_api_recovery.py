"""The server can die at any moment without losing a run, a line or a count."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from support import Server, processes_with_env, wait_for

# Recovery reads and settles every unfinished run from the store.
pytestmark = pytest.mark.both_databases


def _pids(server: Server, run_id: str) -> dict[str, int]:
    import json

    path = server.home / "runs" / run_id / "pid.json"
    wait_for(path.exists, f"{path} to be written")
    return json.loads(path.read_text())


def test_kill9_server_with_five_runs_then_restart(
    vtm_home: Path, database_url: str, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    server = Server(vtm_home, database_url).start()
    runs = [
        server.start_run(epochs=6, lines=200, gate_dir=str(gates), pause_at=3)["id"]
        for _ in range(5)
    ]
    for run_id in runs:
        server.wait_epoch(run_id, 3)

    server.kill9()
    finished_alone, still_going = runs[:2], runs[2:]
    for run_id in finished_alone:  # these go on and end while no server is there
        (gates / run_id).touch()
    for run_id in finished_alone:
        wait_for((vtm_home / "runs" / run_id / "exit.json").exists, f"{run_id} to finish")

    again = Server(vtm_home, database_url).start()
    try:
        for run_id in still_going:
            run = again.run(run_id)
            assert run["status"] == "running"
            assert run["progress"]["epoch"] == 3
            (gates / run_id).touch()  # ...and these resume under the new server
        for run_id in runs:
            done = again.wait_status(run_id)
            assert done["status"] == "completed", done
            assert done["progress"]["epoch"] == done["progress"]["total_epochs"] == 6
            lines = again.full_log(run_id).decode().splitlines()
            numbered = [line for line in lines if line.startswith("line ")]
            assert numbered == [f"line {i}" for i in range(1, 1201)]
            assert done["lineCount"] == len(lines)
            series = again.client.get(f"/api/runs/{run_id}/metrics").json()["series"]
            assert [p["step"] for p in series["val_accuracy"]] == [1, 2, 3, 4, 5, 6]
    finally:
        again.stop()
        again.client.close()
        server.client.close()


def test_restart_while_runs_keep_going_resumes_progress(
    vtm_home: Path, database_url: str, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    server = Server(vtm_home, database_url).start()
    run_id = server.start_run(epochs=4, gate_dir=str(gates), pause_at=2)["id"]
    server.wait_epoch(run_id, 2)
    server.stop()  # a graceful stop must not stop the runs either

    again = Server(vtm_home, database_url).start()
    try:
        assert again.run(run_id)["status"] == "running"
        (gates / run_id).touch()
        done = again.wait_status(run_id)
        assert done["status"] == "completed"
        assert done["progress"]["epoch"] == 4
    finally:
        again.stop()
        again.client.close()
        server.client.close()


def test_kill9_of_a_supervisor_fails_that_run_only(server: Server, tmp_path: Path) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    victim = server.start_run("stubborn")["id"]
    bystander = server.start_run(epochs=2, gate_dir=str(gates), pause_at=1)["id"]
    server.wait_epoch(victim, 0)
    server.wait_epoch(bystander, 1)
    pids = _pids(server, victim)
    wait_for(
        lambda: len(processes_with_env(f"VTM_RUN_ID={victim}")) >= 3,
        "the trainer and its two children",
    )

    os.kill(pids["supervisorPid"], signal.SIGKILL)

    done = server.wait_status(victim)
    assert done["status"] == "failed"
    assert "supervisor" in done["error"]
    wait_for(lambda: processes_with_env(f"VTM_RUN_ID={victim}") == [], "no process of the run")
    assert server.run(bystander)["status"] == "running"
    (gates / bystander).touch()
    assert server.wait_status(bystander)["status"] == "completed"
