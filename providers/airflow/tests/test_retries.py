"""Airflow's retries apply to VTM runs: a failed run fails the task try, the retry starts a new
run linked to the previous one; a step that keeps failing fails the DAG run and nothing after
it starts."""

from __future__ import annotations

from typing import Any

from dag_runs import states, tries, xcom
from vtm_server import VtmServer


def test_a_failed_first_try_is_retried_and_linked(
    dags: dict[str, Any], test_vtm: VtmServer
) -> None:
    dag_run = dags["flaky"].test()

    assert dag_run.state == "success", states(dag_run)
    assert states(dag_run) == {"flaky": "success", "after": "success"}
    assert tries(dag_run)["flaky"] == 2

    runs = test_vtm.runs_of("flaky", dag_run.run_id)
    flaky = [r for r in runs if r["origin"]["airflow"]["taskId"] == "flaky"]
    assert [r["status"] for r in flaky] == ["failed", "completed"]
    first, second = flaky
    assert first["exitCode"] == 3
    assert [r["origin"]["airflow"]["tryNumber"] for r in flaky] == [1, 2]
    assert first["origin"]["previousTryRunId"] is None
    assert second["origin"]["previousTryRunId"] == first["id"]
    assert test_vtm.run(second["id"])["origin"]["previousTryRunId"] == first["id"]
    assert xcom(dag_run, "flaky") == second["id"]
    # The step after it ran once, on the retried step's success.
    assert [r["status"] for r in runs if r["origin"]["airflow"]["taskId"] == "after"] == [
        "completed"
    ]


def test_a_step_that_always_fails_fails_the_dag_run(
    dags: dict[str, Any], test_vtm: VtmServer
) -> None:
    dag_run = dags["broken"].test()

    assert dag_run.state == "failed"
    assert states(dag_run) == {"bad": "failed", "after": "upstream_failed"}
    runs = test_vtm.runs_of("broken", dag_run.run_id)
    assert [(r["origin"]["airflow"]["taskId"], r["status"]) for r in runs] == [("bad", "failed")]
    assert runs[0]["exitCode"] == 2
