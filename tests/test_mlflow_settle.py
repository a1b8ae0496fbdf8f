"""A finished VTM run never leaves its MLflow run ``RUNNING``: whether it was stopped, timed
out, lost its supervisor, or ended while no server was up, its MLflow run ends with the VTM
run's outcome and end time. Real trainers logging to a real MLflow store throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from support import TEST_CATALOG, Server, wait_for
from vtm.integrations.mlflow import tracking_client
from vtm.settings import Settings
from vtm.store import RunRepository, create_db_engine
from vtm.supervisor import RunDir, read_pids

MLFLOW_RUN_LINE = "mlflow-run::"


def mlflow_run_of(srv: Server, run_id: str) -> str:
    """The MLflow run the test trainer made, once it has printed it."""

    def probe() -> str | None:
        path = srv.home / "runs" / run_id / "output.log"
        text = path.read_text() if path.exists() else ""
        lines = [line for line in text.splitlines() if line.startswith(MLFLOW_RUN_LINE)]
        return lines[0][len(MLFLOW_RUN_LINE) :] if lines else None

    return wait_for(probe, f"run {run_id} to make its MLflow run", timeout=120)


def assert_ended_as(
    srv: Server, settings: Settings, run_id: str, mlflow_run_id: str, status: str
) -> None:
    """The MLflow run ends ``status`` at the VTM run's end, and the VTM run links it."""
    client = tracking_client(settings)
    wait_for(
        lambda: client.get_run(mlflow_run_id).info.status == status,
        f"MLflow run {mlflow_run_id} of {run_id} to be {status}",
        timeout=120,
        every=0.2,
    )
    vtm_run = srv.run(run_id)
    assert vtm_run["mlflowRunId"] == mlflow_run_id
    finished_ms = _ms(vtm_run["finishedAt"])
    assert client.get_run(mlflow_run_id).info.end_time == finished_ms


def _ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def test_mlflow_runs_a_trainer_left_running_end_with_the_vtm_runs_outcome(
    vtm_home: Path, tmp_path: Path, mlflow_settings: Settings
) -> None:
    database = f"sqlite:///{vtm_home / 'vtm.db'}"
    srv = Server(vtm_home, database).start()
    gates = tmp_path / "gates"
    gates.mkdir()
    try:
        # The run with a timeout starts alone: five trainers importing MLflow at once on a busy
        # machine could take longer than its timeout to make the MLflow run it must end.
        timed_out = srv.start_run("mlflow-timeout", gate_dir=str(gates))["id"]
        mlflow_ids = {timed_out: mlflow_run_of(srv, timed_out)}
        stopped = srv.start_run("mlflow-tagged", gate_dir=str(gates))["id"]
        lost = srv.start_run("mlflow-tagged", gate_dir=str(gates), meta=True)["id"]
        completed = srv.start_run("mlflow-tagged", leave_open=True)["id"]
        crashed = srv.start_run("mlflow-tagged", leave_open=True, exit_code=3)["id"]
        mlflow_ids.update({r: mlflow_run_of(srv, r) for r in (stopped, lost)})

        assert srv.client.post(f"/api/runs/{stopped}/stop").status_code == 200
        pids = read_pids(RunDir(vtm_home / "runs" / lost))
        assert pids is not None
        os.kill(pids.supervisor_pid, signal.SIGKILL)  # its trainer dies with it

        ended = {r: srv.wait_status(r, timeout=120) for r in (stopped, lost, timed_out)}
        ended.update({r: srv.wait_status(r, timeout=120) for r in (completed, crashed)})
        assert {r: e["status"] for r, e in ended.items()} == {
            stopped: "stopped",
            lost: "failed",
            timed_out: "failed",
            completed: "completed",
            crashed: "failed",
        }
        assert ended[timed_out]["error"].startswith("timed out")
        assert "supervisor" in ended[lost]["error"]
        mlflow_ids[completed] = mlflow_run_of(srv, completed)
        mlflow_ids[crashed] = mlflow_run_of(srv, crashed)

        for run_id, status in [
            (stopped, "KILLED"),
            (lost, "FAILED"),  # linked by its VTM_RUN_META line
            (timed_out, "FAILED"),
            (completed, "FINISHED"),  # exited 0 without ending it
            (crashed, "FAILED"),
        ]:
            assert_ended_as(srv, mlflow_settings, run_id, mlflow_ids[run_id], status)

        # While no server is up: a run of this server ends, and a `vtm exec` on this machine
        # records a failed run in the same store.
        during = srv.start_run("mlflow-tagged", gate_dir=str(gates), leave_open=True, exit_code=2)
        during_mlflow = mlflow_run_of(srv, during["id"])
        srv.stop()
        (gates / during["id"]).touch()
        wait_for(
            lambda: (vtm_home / "runs" / during["id"] / "exit.json").exists(),
            "the run to end while the server is down",
            timeout=60,
        )
        exec_run = _exec_failing_run(vtm_home, database)
        exec_mlflow = (vtm_home / "runs" / exec_run / "output.log").read_text()
        exec_mlflow = exec_mlflow.split(MLFLOW_RUN_LINE, 1)[1].split()[0]
        assert tracking_client(mlflow_settings).get_run(exec_mlflow).info.status == "RUNNING"

        srv.start()
        assert srv.wait_status(during["id"])["status"] == "failed"
        assert_ended_as(srv, mlflow_settings, during["id"], during_mlflow, "FAILED")
        assert srv.run(exec_run)["status"] == "failed"
        assert_ended_as(srv, mlflow_settings, exec_run, exec_mlflow, "FAILED")
        assert "Traceback" not in srv.log()
    finally:
        srv.stop()
        srv.client.close()


def _exec_failing_run(home: Path, database: str) -> str:
    """Run `vtm exec` of a trainer that fails leaving its MLflow run open; its run id."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTM_", "MLFLOW_TRACKING"))}
    env.update(VTM_HOME=str(home), VTM_DATABASE_URL=database, VTM_CATALOG=str(TEST_CATALOG))
    fields = ["--set", "leave_open=true", "--set", "exit_code=4"]
    done = subprocess.run(
        [sys.executable, "-m", "vtm", "exec", "mlflow-tagged", *fields],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 4, done.stderr
    runs, _ = RunRepository(create_db_engine(database)).page()
    (run,) = [r for r in runs if r.origin.get("kind") == "exec"]
    return run.id


def test_a_run_of_a_server_without_mlflow_is_settled_without_it(vtm_home: Path) -> None:
    """No trainer created the embedded store: there is nothing to end, and nothing creates it."""
    database = f"sqlite:///{vtm_home / 'vtm.db'}"
    srv = Server(vtm_home, database, VTM_MLFLOW_STORE_AT_START="false").start()
    try:
        run = srv.start_run(epochs=1)
        srv.wait_status(run["id"])
        repo = RunRepository(create_db_engine(database))
        wait_for(lambda: not repo.unsettled(), "the run to be settled")
        assert not (vtm_home / "mlflow" / "mlflow.db").exists()
    finally:
        srv.stop()
        srv.client.close()
