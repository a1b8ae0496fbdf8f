"""Pipeline steps on Airflow's Celery workers: `make airflow CELERY=1` (the CeleryExecutor, Redis
on loopback as its broker, one `airflow celery worker` taking the queue ``gpu-a100`` only)
runs a catalog pipeline whose steps name that queue, against a live `vtm serve` with a token.

The ``train`` step has ``mode: exec``: the worker itself trains through `vtm exec`, which
records the run in VTM with the worker's host and the Airflow try; its first try fails, the
retry links to it. The ``check`` step is ``mode: api`` on the same queue: VTM runs it, the
Airflow task waits on the worker. No worker takes Airflow's default queue, so a step whose
queue were lost would never run.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_support import CELERY_COMPONENTS, AirflowStandalone, airflow_missing, vtm_reading
from support import TESTS, Server, free_port, kill_everything_of

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(900)]

PIPELINE = "vtm-celery"
QUEUE = "gpu-a100"
TOKEN = "celery-test-token-5f1e"
LOGICAL_DATE = "2026-11-20T00:00:00Z"


def write_catalog(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(TESTS / "trainers" / "scripted.py", folder / "scripted.py")
    document: dict[str, Any] = yaml.safe_load((TESTS / "trainers" / "catalog.yaml").read_text())
    document["tasks"] = {"scripted": document["tasks"]["scripted"]}
    document["pipelines"] = {
        PIPELINE: {
            "steps": {
                "train": {
                    "task": "scripted",
                    "mode": "exec",
                    "queue": QUEUE,
                    "fields": {
                        "epochs": 2,
                        "text": "{{ ds }}",
                        "exit_code": "{{ 3 if ti.try_number == 1 else 0 }}",
                    },
                    "retries": 1,
                    "retryDelay": "1s",
                },
                "check": {
                    "task": "scripted",
                    "queue": QUEUE,
                    "fields": {"epochs": 1},
                    "dependsOn": ["train"],
                },
            }
        }
    }
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def task_log_events(
    airflow: AirflowStandalone, run_id: str, task_id: str, try_number: int
) -> list[str]:
    """The lines of a task try's log (Airflow 3 writes them as JSON, one object a line)."""
    folder = (
        airflow.home / "logs" / f"dag_id={PIPELINE}" / f"run_id={run_id}" / f"task_id={task_id}"
    )
    text = (folder / f"attempt={try_number}.log").read_text()
    return [str(json.loads(line).get("event")) for line in text.splitlines() if line.strip()]


class Setup:
    def __init__(self, airflow: AirflowStandalone, vtm: Server) -> None:
        self.airflow, self.vtm = airflow, vtm

    def runs_of(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        """VTM's runs of the DAG run, by Airflow task, oldest try first."""
        runs = self.vtm.client.get("/api/runs", params={"limit": 200}).json()["runs"]
        steps: dict[str, list[dict[str, Any]]] = {}
        for run in sorted(runs, key=lambda r: r["createdAt"]):
            airflow = run["origin"].get("airflow") or {}
            if airflow.get("dagId") == PIPELINE and airflow.get("runId") == run_id:
                steps.setdefault(airflow["taskId"], []).append(run)
        return steps


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    if (why := airflow_missing()) is not None:
        pytest.fail(why)
    if shutil.which("redis-cli") is None:
        pytest.fail("no Redis here: `make services` starts the one the tests use")
    root = tmp_path_factory.mktemp("celery")
    catalog = write_catalog(root / "catalog")
    vtm_port = free_port()
    airflow = AirflowStandalone(
        root / "airflow-home",
        catalog,
        f"http://127.0.0.1:{vtm_port}",
        celery_queues=QUEUE,
        vtm_token=TOKEN,
    )
    vtm: Server | None = None
    try:
        airflow.start()
        vtm = vtm_reading(airflow, root, vtm_port, VTM_TOKEN=TOKEN)
        vtm.client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield Setup(airflow, vtm)
    finally:
        if vtm is not None:
            vtm.stop()
            vtm.client.close()
        stopped = airflow.stop()
        kill_everything_of(root / "vtm-home")
        assert not stopped.left, f"Airflow's processes outlived make: {stopped.left}"
        # Every component ran under make (the Celery worker too), and make stopped them all.
        titles = list(stopped.before.values())
        missing = [c for c in CELERY_COMPONENTS if not any(c in t for t in titles)]
        assert not missing, (missing, titles)


def test_an_exec_step_trains_on_the_celery_worker_of_its_queue(setup: Setup) -> None:
    airflow = setup.airflow
    run_id = "vtm-celery-1"
    assert airflow.wait_dag(PIPELINE)["is_paused"] is True
    airflow.unpause(PIPELINE)
    airflow.trigger(PIPELINE, run_id, LOGICAL_DATE)
    dag_run = airflow.wait_dag_run(PIPELINE, run_id, timeout=300)
    tis = airflow.task_instances(PIPELINE, run_id)
    logs = {t: airflow.task_log(PIPELINE, run_id, t, ti["try_number"]) for t, ti in tis.items()}
    assert dag_run["state"] == "success", logs
    assert {t: (ti["state"], ti["try_number"]) for t, ti in tis.items()} == {
        "train": ("success", 2),
        "check": ("success", 1),
    }
    # Airflow sent both to the named queue, and its one worker there ran them.
    assert {ti["queue"] for ti in tis.values()} == {QUEUE}
    worker = tis["train"]["hostname"]
    assert worker and tis["check"]["hostname"] == worker

    steps = setup.runs_of(run_id)
    first, second = steps["train"]
    # mode exec: `vtm exec` on the worker recorded each try, on the worker's host.
    for run in (first, second):
        assert run["origin"]["kind"] == "exec"
        assert run["origin"]["host"] == socket.gethostname()
        assert run["origin"]["airflow"]["queue"] == QUEUE
        assert run["origin"]["airflow"]["hostname"] == worker
        assert run["fields"]["text"] == "2026-11-20"  # {{ ds }}, rendered on the worker
    assert (first["status"], first["exitCode"]) == ("failed", 3)
    assert first["origin"]["airflow"]["tryNumber"] == 1
    assert (second["status"], second["origin"]["airflow"]["tryNumber"]) == ("completed", 2)
    assert second["origin"]["previousTryRunId"] == first["id"]
    assert second["progress"]["epoch"] == 2

    # Its whole log in VTM, each line once, and the same lines in Airflow's task log.
    page = setup.vtm.client.get(f"/api/runs/{second['id']}/logs", params={"limit": 1 << 20})
    lines = page.json()["text"].splitlines()
    assert [line for line in lines if line.startswith("line ")] == ["line 1", "line 2"]
    assert len([line for line in lines if line.startswith("VTM_PROGRESS::")]) == 2
    trainer = [line for line in lines if line.startswith(("line ", "VTM_"))]
    assert [e for e in task_log_events(airflow, run_id, "train", 2) if e in trainer] == trainer
    # The token reached `vtm exec` through its environment only: not the trainer, not a log.
    assert TOKEN not in "\n".join(lines)
    assert all(TOKEN not in log for log in logs.values())

    # mode api on the same queue: VTM ran it; the Airflow task waited on the worker.
    [check] = steps["check"]
    assert check["origin"]["kind"] == "airflow"
    assert (check["origin"]["airflow"]["queue"], check["status"]) == (QUEUE, "completed")
    assert check["origin"]["airflow"]["hostname"] == worker

    # The Pipelines page's data: where each step ran, as Airflow says.
    status = setup.vtm.client.get("/api/pipelines/status").json()
    [pipeline] = [p for p in status["pipelines"] if p["pipelineId"] == PIPELINE]
    [shown] = [r for r in pipeline["dagRuns"] if r["runId"] == run_id]
    tasks = {t["taskId"]: t for t in shown["tasks"]}
    assert (tasks["train"]["queue"], tasks["train"]["hostname"]) == (QUEUE, worker)
    assert tasks["train"]["vtmRunId"] == second["id"]
    assert (tasks["check"]["queue"], tasks["check"]["vtmRunId"]) == (QUEUE, check["id"])
