"""DAGs that run `vtm exec` (tests/test_exec.py runs them with dag.test()).

- exec_retry (a BashOperator): the first try's trainer fails, Airflow retries, the second try
  completes;
- exec_timeout (a BashOperator): the trainer waits at its gate past execution_timeout, so
  Airflow's on_kill sends SIGTERM to the command's process group;
- exec_operator_timeout: the same with vtm-airflow's VtmExecOperator (a `mode: exec` step),
  whose on_kill sends SIGTERM to its `vtm exec`.

Paths and the VTM server come from EXEC_TEST_* variables the test sets.
"""

import os
import sys

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag
from vtm_airflow import VtmExecOperator

VTM = f"{os.environ.get('EXEC_TEST_PYTHON', sys.executable)} -m vtm exec scripted --set epochs=2"
ENV = {
    "VTM_URL": os.environ.get("EXEC_TEST_URL", ""),
    "VTM_HOME": os.environ.get("EXEC_TEST_HOME", ""),
    "VTM_CATALOG": os.environ.get("EXEC_TEST_CATALOG", ""),
    "VTM_STOP_GRACE_SECONDS": "1",
}
START = pendulum.datetime(2026, 1, 1)


@dag(schedule=None, start_date=START, catchup=False)
def exec_retry() -> None:
    BashOperator(
        task_id="train",
        bash_command=VTM
        + " --set text={{ ds }} --set exit_code={{ 0 if ti.try_number > 1 else 5 }}",
        env=ENV,
        append_env=True,
        retries=1,
        retry_delay=pendulum.duration(seconds=1),
    )


@dag(schedule=None, start_date=START, catchup=False)
def exec_timeout() -> None:
    gates = os.environ.get("EXEC_TEST_GATES", "")
    BashOperator(
        task_id="train",
        bash_command=VTM + f" --set gate_dir={gates} --set pause_at=1",
        env=ENV,
        append_env=True,
        retries=0,
        execution_timeout=pendulum.duration(seconds=10),
    )


@dag(schedule=None, start_date=START, catchup=False)
def exec_operator_timeout() -> None:
    VtmExecOperator(
        task_id="train",
        vtm_task="scripted",
        fields={"epochs": 2, "gate_dir": os.environ.get("EXEC_TEST_GATES", ""), "pause_at": 1},
        vtm_command=f"{os.environ.get('EXEC_TEST_PYTHON', sys.executable)} -m vtm",
        retries=0,
        execution_timeout=pendulum.duration(seconds=10),
    )


exec_retry()
exec_timeout()
exec_operator_timeout()
