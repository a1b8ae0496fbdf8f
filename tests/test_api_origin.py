"""A run remembers where it came from; an Airflow retry's run links to the previous try's."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from airflow_support import PIPELINE, write_catalog
from support import Server
from vtm.states import RunStatus
from vtm.store import LaunchRecord, NewRun, RunRepository, create_db_engine

# The origin's columns and the queries on them.
pytestmark = pytest.mark.both_databases


def airflow(try_number: int, task: str = "train", dag_run: str = "scheduled__2026-11-25") -> Any:
    return {
        "dagId": "digits-nightly",
        "runId": dag_run,
        "taskId": task,
        "tryNumber": try_number,
        "logicalDate": "2026-11-25T02:00:00+00:00",
    }


def start(server: Server, context: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"taskId": "scripted", "fields": {"epochs": 1}}
    if context is not None:
        body["airflow"] = context
    response = server.client.post("/api/runs/start", json=body)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def test_a_retry_links_to_the_previous_try_and_the_context_is_kept(server: Server) -> None:
    person = start(server, None)
    first = start(server, airflow(1))
    other_task = start(server, airflow(1, task="evaluate"))
    second = start(server, airflow(2))
    other_dag_run = start(server, airflow(2, dag_run="manual__2026-11-26"))
    # Where the provider's task waited: its queue and worker, kept as sent.
    placed = start(server, {**airflow(1, task="check"), "queue": "gpu-a100", "hostname": "w-3"})
    assert (placed["origin"]["airflow"]["queue"], placed["origin"]["airflow"]["hostname"]) == (
        "gpu-a100",
        "w-3",
    )

    assert person["origin"] == {
        "kind": "person",
        "airflow": None,
        "previousTryRunId": None,
        "host": None,
    }
    assert first["origin"]["kind"] == "airflow"
    assert first["origin"]["airflow"] == {
        **airflow(1),
        "mapIndex": -1,
        "queue": None,
        "hostname": None,
    }
    assert first["origin"]["previousTryRunId"] is None
    assert second["origin"]["previousTryRunId"] == first["id"]
    assert other_task["origin"]["previousTryRunId"] is None
    assert other_dag_run["origin"]["previousTryRunId"] is None
    # Stored, not just echoed: the detail read back from the database says the same.
    assert server.client.get(f"/api/runs/{second['id']}").json()["origin"] == second["origin"]
    for run in (person, first, other_task, second, other_dag_run):
        assert server.wait_status(run["id"])["status"] == "completed"


def test_a_bad_airflow_context_is_refused_naming_the_field(server: Server) -> None:
    body = {"taskId": "scripted", "airflow": {**airflow(1), "tryNumber": -1}}
    response = server.client.post("/api/runs/start", json=body)
    assert response.status_code == 422
    assert "tryNumber" in response.text


# -- a busy server ---------------------------------------------------------------------------


class FakeAirflow:
    """Airflow's REST API v2 as far as the Pipelines status reads it: a login, and the runs and
    task instances of one DAG (any other DAG is unknown: 404)."""

    def __init__(self, dag_id: str, dag_runs: dict[str, list[tuple[str, str, int]]]) -> None:
        """``dag_runs``: DAG run id → its tasks' (task id, state, try number)."""
        self.dag_id = dag_id
        self.dag_runs = dag_runs
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/auth/token":
                    self._answer(201, {"access_token": "token"})
                else:
                    self._answer(404, {"detail": "not found"})

            def do_GET(self) -> None:
                self._answer(*fake.answer(self.path.split("?")[0]))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def answer(self, path: str) -> tuple[int, Any]:
        parts = path.strip("/").split("/")  # api v2 dags DAG dagRuns [RUN taskInstances]
        if parts[:3] != ["api", "v2", "dags"] or len(parts) < 5 or parts[3] != self.dag_id:
            return 404, {"detail": "not found"}
        if len(parts) == 5:
            runs = [
                {"dag_run_id": run_id, "state": "success", "run_type": "scheduled"}
                for run_id in self.dag_runs
            ]
            return 200, {"dag_runs": runs, "total_entries": len(runs)}
        tasks = [
            {"task_id": task, "state": state, "try_number": try_number, "map_index": -1}
            for task, state, try_number in self.dag_runs.get(parts[5], [])
        ]
        return 200, {"task_instances": tasks, "total_entries": len(tasks)}

    def __enter__(self) -> FakeAirflow:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def repo(database_url: str) -> Iterator[RunRepository]:
    """The store of the server under test, written directly (the server migrates it)."""
    engine = create_db_engine(database_url)
    yield RunRepository(engine)
    engine.dispose()


def _stored(
    repo: RunRepository, n: int, origin: dict[str, Any], status: RunStatus = RunStatus.COMPLETED
) -> str:
    run_id = f"20261125-020000-{n:06x}"
    repo.insert(
        NewRun(
            id=run_id,
            task_id="scripted",
            fields={"epochs": 1},
            command=["python", "scripted.py"],
            launch=LaunchRecord(mlflow_experiment="scripted"),
            origin=origin,
            status=status,  # never queued: the server's scheduler would start it
        )
    )
    return run_id


def test_on_a_busy_server_a_retry_and_the_pipelines_runs_are_still_found(
    vtm_home: Path, tmp_path: Path, database_url: str, repo: RunRepository
) -> None:
    """More runs since the first try than the old scans read (the task's newest 200 for the
    retry link, the newest 500 for the Pipelines page)."""
    dag_run = "scheduled__2026-11-25"
    tasks = [("prepare", "success", 1), ("train", "success", 2)]
    with FakeAirflow(PIPELINE, {dag_run: tasks, "manual__later": []}) as fake:
        server = Server(
            vtm_home,
            database_url,
            catalog=write_catalog(tmp_path / "catalog"),
            VTM_AIRFLOW_URL=fake.url,
            VTM_AIRFLOW_USERNAME="admin",
            VTM_AIRFLOW_PASSWORD="secret",
        ).start()
        try:

            def context(task: str, try_number: int, dag_run: str = dag_run) -> Any:
                return {**airflow(try_number, task, dag_run), "dagId": PIPELINE}

            prepare = _stored(repo, 1, {"kind": "airflow", "airflow": context("prepare", 1)})
            first = _stored(
                repo, 2, {"kind": "airflow", "airflow": context("train", 1)}, RunStatus.FAILED
            )
            for n in range(3, 563):  # people's runs and other DAG runs' of the same task
                other = {"kind": "airflow", "airflow": context("train", 1, f"scheduled__{n}")}
                _stored(repo, n, other if n % 2 else {})

            second = start(server, context("train", 2))
            assert second["origin"]["previousTryRunId"] == first

            response = server.client.get("/api/pipelines/status")
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["error"] is None
            (status,) = [p for p in body["pipelines"] if p["pipelineId"] == PIPELINE]
            runs = {r["runId"]: r for r in status["dagRuns"]}
            assert set(runs) == {dag_run, "manual__later"}
            linked = {t["taskId"]: t["vtmRunId"] for t in runs[dag_run]["tasks"]}
            assert linked == {"prepare": prepare, "train": second["id"]}
            assert runs["manual__later"]["tasks"] == []
            assert server.wait_status(second["id"])["status"] == "completed"
        finally:
            server.stop()
            server.client.close()
