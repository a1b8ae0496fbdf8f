"""Two DAGs whose BashOperator runs `vtm exec` (tests/test_exec.py runs them with dag.test()).

- exec_retry: the first try's trainer fails, Airflow retries, the second try completes;
- exec_timeout: the trainer waits at its gate past execution_timeout, so Airflow's on_kill
  sends SIGTERM to the command's process group.

Paths and the VTM server come from EXEC_TEST_* variables the test sets.
"""

import os
import sys

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag

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


exec_retry()
exec_timeout()
