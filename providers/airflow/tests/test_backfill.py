"""A pipeline run for past logical dates: each VTM run gets its own date through ``{{ ds }}``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dag_runs import states
from vtm_server import VtmServer

DATES = ("2026-11-10", "2026-11-11", "2026-11-12")


def test_three_past_dates_give_three_runs_with_their_snapshot(
    dags: dict[str, Any], test_vtm: VtmServer
) -> None:
    dag = dags["snapshots"]
    dag_runs = [
        dag.test(logical_date=datetime.fromisoformat(day).replace(tzinfo=UTC)) for day in DATES
    ]

    for dag_run in dag_runs:
        assert dag_run.state == "success", states(dag_run)
    runs = [test_vtm.runs_of("snapshots", dag_run.run_id) for dag_run in dag_runs]
    assert [len(found) for found in runs] == [1, 1, 1]
    for day, (run,) in zip(DATES, runs, strict=True):
        assert run["status"] == "completed"
        assert run["fields"]["snapshot"] == day
        assert run["meta"]["snapshot"] == day  # what the trainer received
        assert run["origin"]["airflow"]["logicalDate"].startswith(day)
