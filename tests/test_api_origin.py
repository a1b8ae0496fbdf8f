"""A run remembers where it came from; an Airflow retry's run links to the previous try's."""

from __future__ import annotations

from typing import Any

from support import Server


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

    assert person["origin"] == {
        "kind": "person",
        "airflow": None,
        "previousTryRunId": None,
        "host": None,
    }
    assert first["origin"]["kind"] == "airflow"
    assert first["origin"]["airflow"] == {**airflow(1), "mapIndex": -1}
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
