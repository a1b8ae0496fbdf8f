"""`make airflow` stopped with Ctrl-C while a task runs: make exits only once every process it
started is gone, the LocalExecutor workers (which ignore SIGINT) and the task's processes (in
process groups of their own) included.

Its own `airflow standalone` (one more start, 20 to 80 s): the catalog's first step calls a VTM
that is not there, so its task stays running (the provider retries for 120 s). The SIGTERM case
is the last test of test_airflow_standalone.py, on that module's Airflow.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from airflow_support import (
    COMPONENTS,
    PIPELINE,
    STOP_BOUND,
    AirflowStandalone,
    airflow_missing,
    write_catalog,
)
from support import free_port, wait_for

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(600)]


def task_processes(airflow: AirflowStandalone) -> list[psutil.Process]:
    """What make started that has a process group of its own in another session than make's
    (standalone's): a task's."""
    assert airflow.make is not None
    found = []
    for p in airflow.processes():
        try:
            sid, pgid = os.getsid(p.pid), os.getpgid(p.pid)
        except OSError:
            continue
        if sid != airflow.make.pid and pgid != sid:
            found.append(p)
    return found


def test_ctrl_c_stops_make_airflow_and_every_process_it_started(tmp_path: Path) -> None:
    if (why := airflow_missing()) is not None:
        pytest.fail(why)
    catalog = write_catalog(tmp_path / "catalog")
    nobody = f"http://127.0.0.1:{free_port()}"  # no VTM there: the first step keeps retrying
    airflow = AirflowStandalone(tmp_path / "airflow-home", catalog, nobody)
    try:
        airflow.start()
        assert airflow.wait_dag(PIPELINE)["is_paused"] is True
        airflow.unpause(PIPELINE)
        airflow.trigger(PIPELINE, "ctrl-c", "2026-11-20T00:00:00Z")

        def running() -> list[psutil.Process] | None:
            state = airflow.task_instances(PIPELINE, "ctrl-c")["prepare"]["state"]
            return task_processes(airflow) if state == "running" else None

        tasks = wait_for(running, "the first step to run", timeout=120, every=0.5)
        stopped = airflow.stop(signal.SIGINT, group=True)  # Ctrl-C: make's whole group
    finally:
        left = airflow.stop().left  # after a failure above: stops it, kills what is left

    titles = list(stopped.before.values())
    for component in COMPONENTS:
        assert any(component in t for t in titles), (component, titles)
    assert {p.pid for p in tasks} <= set(stopped.before), (tasks, stopped.before)
    assert stopped.left == {} and left == {}, f"outlived make: {stopped.left}"
    # make waited for its child (the launcher), then ended by the signal as make does.
    assert stopped.returncode == -signal.SIGINT, airflow.log()
    assert stopped.seconds < STOP_BOUND, stopped
    assert "launcher   | SIGINT: stopping Airflow" in airflow.log()
