"""A real `airflow standalone` from `.venv-airflow` for the benchmarks (as `make airflow` runs
it: the DAGs folder providers/airflow/standalone/dags, a `vtm_default` connection, LocalExecutor
with parallelism 4), with a home of its own and a free port. Copied in spirit from
tests/airflow_support.py so that the benchmarks do not depend on the test suite.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import BENCH, free_port, processes_with_env, wait_for

REPO = BENCH.parent
AIRFLOW_BIN = REPO / ".venv-airflow" / "bin"
STANDALONE = REPO / "providers" / "airflow" / "standalone"


class Standalone:
    def __init__(self, home: Path, catalog: Path, vtm_url: str) -> None:
        if not (AIRFLOW_BIN / "airflow").exists():
            raise RuntimeError(f"no Airflow in {AIRFLOW_BIN.parent}: `make airflow-env`")
        self.home = home
        self.catalog = catalog
        self.vtm_url = vtm_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home.parent / "airflow.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.api = httpx.Client(base_url=self.url, timeout=30)

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
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VTM_", "AIRFLOW"))}
        env.update(
            PATH=f"{AIRFLOW_BIN}:{env.get('PATH', '')}",  # standalone runs `airflow …` children
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(STANDALONE / "dags"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__BASE_URL=self.url,
            AIRFLOW_CONN_VTM_DEFAULT=connection,
            VTM_CATALOG=str(self.catalog),
        )
        return env

    def __enter__(self) -> Standalone:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(AIRFLOW_BIN / "airflow"), "standalone"],
                env=self._env(),
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for(self._healthy, f"Airflow on {self.url}", timeout=300, every=0.5)
        generated = self.home / "simple_auth_manager_passwords.json.generated"
        password = json.loads(generated.read_text())["admin"]
        r = self.api.post("/auth/token", json={"username": "admin", "password": password})
        r.raise_for_status()
        self.api.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return self

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"airflow standalone exited {self.proc.returncode}")
        try:
            r = self.api.get("/api/v2/monitor/health")
        except httpx.TransportError:
            return False
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return r.status_code == 200 and all(
            (r.json().get(p) or {}).get("status") == "healthy" for p in parts
        )

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
        while (pids := self._left()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)

    def _left(self) -> list[int]:
        """Processes of standalone's session (task processes have groups of their own) or
        naming its home."""
        pids = set(processes_with_env(f"AIRFLOW_HOME={self.home}"))
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if stat[0] != "Z" and int(stat[3]) == self.sid:  # state, session
                        pids.add(int(entry.name))
        return sorted(pids)

    # -- REST API v2 ----------------------------------------------------------------------

    def wait_dag(self, dag_id: str) -> None:
        def probe() -> bool:
            return self.api.get(f"/api/v2/dags/{dag_id}").status_code == 200

        wait_for(probe, f"Airflow to parse DAG {dag_id}", timeout=180, every=0.5)
        r = self.api.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        r.raise_for_status()

    def trigger(self, dag_id: str, run_id: str) -> None:
        body: dict[str, Any] = {"dag_run_id": run_id, "logical_date": None}
        r = self.api.post(f"/api/v2/dags/{dag_id}/dagRuns", json=body)
        r.raise_for_status()

    def wait_dag_run(self, dag_id: str, run_id: str) -> str:
        def probe() -> str | None:
            r = self.api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            r.raise_for_status()
            state = str(r.json()["state"])
            return state if state in ("success", "failed") else None

        state = wait_for(probe, f"DAG run {run_id}", timeout=120, every=0.25)
        if state != "success":
            raise RuntimeError(f"DAG run {dag_id}/{run_id} ended {state}; see {self.home}/logs")
        return state
