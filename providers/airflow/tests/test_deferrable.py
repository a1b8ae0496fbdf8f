"""The deferred wait (``VtmRunTrigger``), timeouts that stop the training, and the sensor."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from vtm_client import TERMINAL_STATUSES

from dag_runs import states, xcom
from vtm_airflow import VtmRunTrigger
from vtm_server import VtmServer, free_port


def test_the_trigger_serializes_to_primitives_and_back() -> None:
    from airflow.sdk._shared.module_loading import import_string

    trigger = VtmRunTrigger(
        run_id="20261126-020000-abcdef",
        vtm_conn_id="vtm_test",
        poll_interval=0.5,
        retry_seconds=30.0,
        deadline=1_800_000_000.5,
    )
    classpath, kwargs = trigger.serialize()

    assert json.loads(json.dumps(kwargs)) == kwargs  # primitives only: Airflow stores them
    rebuilt = import_string(classpath)(**kwargs)
    assert type(rebuilt) is VtmRunTrigger
    assert rebuilt.serialize() == (classpath, kwargs)
    assert "token" not in json.dumps(kwargs).lower()


def test_a_deferred_wait_resumes_and_completes(dags: dict[str, Any], test_vtm: VtmServer) -> None:
    dag_run = dags["deferred"].test()

    assert dag_run.state == "success", states(dag_run)
    (run,) = test_vtm.runs_of("deferred", dag_run.run_id)
    assert run["status"] == "completed"
    assert xcom(dag_run, "train") == xcom(dag_run, "train", "vtm_run_id") == run["id"]
    # Pushed after the resume, from the event the trigger yielded.
    assert xcom(dag_run, "train", "progress")["epoch"] == 3


def _trigger_events(trigger: VtmRunTrigger) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


def test_the_trigger_yields_one_event_for_an_ended_run(test_vtm: VtmServer) -> None:
    run = test_vtm.start_run("step", epochs=1)
    events = _trigger_events(VtmRunTrigger(run["id"], "vtm_test", poll_interval=0.1))
    assert len(events) == 1
    assert events[0]["status"] == "ended"
    assert events[0]["run"]["id"] == run["id"]
    assert events[0]["run"]["status"] in TERMINAL_STATUSES


def test_the_trigger_reports_a_vtm_it_cannot_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = json.dumps({"conn_type": "vtm", "host": "127.0.0.1", "port": free_port()})
    monkeypatch.setenv("AIRFLOW_CONN_VTM_NOWHERE", nowhere)
    events = _trigger_events(VtmRunTrigger("some-run", "vtm_nowhere", retry_seconds=1.0))
    assert len(events) == 1
    assert events[0]["status"] == "error"
    assert "could not be reached" in events[0]["message"]


def test_killing_a_deferred_task_stops_its_run(test_vtm: VtmServer) -> None:
    run = test_vtm.start_run("step", wait_release=True)
    test_vtm.wait_status(run["id"], "running")
    try:
        asyncio.run(VtmRunTrigger(run["id"], "vtm_test").on_kill())
        assert test_vtm.wait_status(run["id"])["status"] == "stopped"
    finally:
        test_vtm.release(run["id"])


def test_an_execution_timeout_stops_the_run(dags: dict[str, Any], test_vtm: VtmServer) -> None:
    """The catalog step's `timeout: 3s`: Airflow's timeout calls on_kill, which stops the run."""
    dag_run = dags["too-slow"].test()

    assert dag_run.state == "failed"
    (run,) = test_vtm.runs_of("too-slow", dag_run.run_id)
    try:
        stopped = test_vtm.wait_status(run["id"])
        assert stopped["status"] == "stopped"
        assert stopped["stopRequested"] is True
        assert stopped["progress"]["epoch"] == 1  # it was waiting when the timeout struck
    finally:
        test_vtm.release(run["id"])


def test_a_deferred_wait_past_its_timeout_stops_the_run(
    dags: dict[str, Any], test_vtm: VtmServer
) -> None:
    dag_run = dags["deferred-too-slow"].test()

    assert dag_run.state == "failed"
    (run,) = test_vtm.runs_of("deferred-too-slow", dag_run.run_id)
    try:
        assert test_vtm.wait_status(run["id"])["status"] == "stopped"
    finally:
        test_vtm.release(run["id"])


def test_the_sensor_follows_a_run_started_elsewhere(
    dags: dict[str, Any], test_vtm: VtmServer
) -> None:
    good = test_vtm.start_run("step", epochs=2)
    bad = test_vtm.start_run("step", exit_code=4)

    passed = dags["sensor"].test(run_conf={"vtm_run_id": good["id"]})
    failed = dags["sensor"].test(run_conf={"vtm_run_id": bad["id"]})

    assert passed.state == "success", states(passed)
    assert test_vtm.run(good["id"])["status"] == "completed"
    assert failed.state == "failed"
    assert test_vtm.run(bad["id"])["status"] == "failed"
