"""A real `airflow standalone` from `.venv-airflow` for the benchmarks (as `make airflow` runs
it: the DAGs folder providers/airflow/standalone/dags, a `vtm_default` connection, LocalExecutor
with parallelism 4), with a home of its own (the test kit's migrated database copied in) and a
free port. Its REST API, home and process cleanup are the test kit's, as for the tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
from vtm_testkit import airflow_home, free_port
from vtm_testkit.airflow_api import AirflowApi
from vtm_testkit.processes import kill_all, left_behind

from bench.common import BENCH

REPO = BENCH.parent
AIRFLOW_BIN = REPO / ".venv-airflow" / "bin"
STANDALONE = REPO / "providers" / "airflow" / "standalone"


class Standalone(AirflowApi):
    """``celery_queues``: Airflow as `make airflow CELERY=1` runs it instead (the CeleryExecutor,
    the machine's Redis under a key prefix of this start's, one worker taking these queues)."""

    def __init__(
        self, home: Path, catalog: Path, vtm_url: str, celery_queues: str | None = None
    ) -> None:
        if not (AIRFLOW_BIN / "airflow").exists():
            raise RuntimeError(f"no Airflow in {AIRFLOW_BIN.parent}: `make airflow-env`")
        self.celery_queues = celery_queues
        self.port = free_port()
        super().__init__(f"http://127.0.0.1:{self.port}", home)
        self.catalog = catalog
        self.vtm_url = vtm_url
        self.log_path = home.parent / "airflow.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def sid(self) -> int:
        """Standalone's session: it, its components and their task processes."""
        assert self.proc is not None
        return self.proc.pid

    def _env(self) -> dict[str, str]:
        connection = subprocess.run(
            [str(AIRFLOW_BIN / "python"), str(STANDALONE / "connection.py")],
            env={"VTM_URL": self.vtm_url},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        env = airflow_home.environment(self.home, STANDALONE / "dags")
        env.update(
            PATH=f"{AIRFLOW_BIN}:{env.get('PATH', '')}",  # standalone runs `airflow …` children
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__BASE_URL=self.url,
            AIRFLOW_CONN_VTM_DEFAULT=connection,
            VTM_CATALOG=str(self.catalog),
            VTM_EXEC_COMMAND=str(REPO / ".venv" / "bin" / "vtm"),
            VTM_HOME=str(self.home.parent / "worker-vtm-home"),
        )
        if self.celery_queues:
            broker = "redis://127.0.0.1:6379/0"
            env.update(
                AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
                AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.url}/execution/",
                AIRFLOW__CELERY__BROKER_URL=broker,
                AIRFLOW__CELERY__RESULT_BACKEND=broker,
                AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX=f"vtm-bench-{self.port}:",
                AIRFLOW_QUEUES=self.celery_queues,
            )
        return env

    def command(self) -> list[str]:
        airflow = str(AIRFLOW_BIN / "airflow")
        if self.celery_queues:
            return [str(AIRFLOW_BIN / "python"), str(STANDALONE / "celery.py"), airflow]
        return [airflow, "standalone"]

    def __enter__(self) -> Standalone:
        airflow_home.new_home(self.home, AIRFLOW_BIN / "airflow")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                env=self._env(),
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.wait_up(self.proc, self.log_path, timeout=300)
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.close()
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        deadline = time.monotonic() + 10
        while (left := self._left()) and time.monotonic() < deadline:
            kill_all(left, timeout=2)

    def _left(self) -> list[psutil.Process]:
        """Processes of standalone's session (task processes have groups of their own) or
        naming its home."""
        sessions = {self.sid} if self.proc is not None else set()
        return list(left_behind(sessions, f"AIRFLOW_HOME={self.home}").values())

    def wait_success(self, dag_id: str, run_id: str) -> None:
        """Wait for the DAG run's end; RuntimeError unless it succeeded."""
        state = self.wait_dag_run(dag_id, run_id, timeout=120, every=0.25)["state"]
        if state != "success":
            raise RuntimeError(f"DAG run {dag_id}/{run_id} ended {state}; see {self.home}/logs")
