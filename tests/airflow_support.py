"""A real `airflow standalone` from `.venv-airflow`, for the tests that need Airflow itself.

It runs with a home of its own (SQLite, LocalExecutor), on loopback at a free port, with the
DAGs folder of `make airflow` (providers/airflow/standalone/dags: one DAG per pipeline of the
catalog named by ``VTM_CATALOG``) and a ``vtm_default`` connection to the VTM under test.
Standalone starts its scheduler, DAG processor, API server and triggerer as children in its
process group; stopping it stops the group, then anything left that names its home.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from support import TESTS, free_port, processes_with_env, wait_for

REPO = TESTS.parent
AIRFLOW_VENV = REPO / ".venv-airflow"
AIRFLOW_BIN = AIRFLOW_VENV / "bin"
DAGS_FOLDER = REPO / "providers" / "airflow" / "standalone" / "dags"
CONNECTION_SCRIPT = REPO / "providers" / "airflow" / "standalone" / "connection.py"
TERMINAL_DAG_RUN = ("success", "failed")
PIPELINE = "vtm-standalone"
FAILING = "vtm-standalone-fails"


def write_catalog(folder: Path) -> Path:
    """The test catalog's tasks, with two pipelines: one whose ``train`` step fails its first
    try (a templated exit code) and passes its retry, and one whose first step always fails."""
    folder.mkdir(parents=True)
    shutil.copy(TESTS / "trainers" / "scripted.py", folder / "scripted.py")
    document: dict[str, Any] = yaml.safe_load((TESTS / "trainers" / "catalog.yaml").read_text())
    document["tasks"] = {"scripted": document["tasks"]["scripted"]}
    document["pipelines"] = {
        PIPELINE: {
            "description": "prepare, then a train step that passes on its second try",
            "steps": {
                "prepare": {"task": "scripted", "fields": {"epochs": 1, "text": "{{ ds }}"}},
                "train": {
                    "task": "scripted",
                    "fields": {"epochs": 2, "exit_code": "{{ 3 if ti.try_number == 1 else 0 }}"},
                    "dependsOn": ["prepare"],
                    "retries": 1,
                    "retryDelay": "1s",
                },
            },
        },
        FAILING: {
            "steps": {
                "broken": {"task": "scripted", "fields": {"exit_code": 4}},
                "after": {"task": "scripted", "dependsOn": ["broken"]},
            },
        },
    }
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def airflow_missing() -> str | None:
    """Why Airflow cannot run here, or None."""
    if not (AIRFLOW_BIN / "airflow").exists():
        return f"no Airflow in {AIRFLOW_VENV}: `make airflow-env` creates it"
    return None


class AirflowStandalone:
    """`airflow standalone` in a process group of its own; ``api`` is an authenticated client
    of its REST API v2 once ``start()`` has returned."""

    def __init__(self, home: Path, catalog: Path, vtm_url: str, port: int | None = None):
        self.home = home
        self.catalog = catalog
        self.vtm_url = vtm_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home.parent / f"airflow-standalone-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.api = httpx.Client(base_url=self.url, timeout=30)

    def env(self) -> dict[str, str]:
        connection = subprocess.run(
            [str(AIRFLOW_BIN / "python"), str(CONNECTION_SCRIPT)],
            env={"VTM_URL": self.vtm_url, "PATH": os.environ.get("PATH", "")},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("VTM_", "AIRFLOW", "PYTEST"))
        }
        env.update(
            # standalone starts each component as `airflow …` from PATH.
            PATH=f"{AIRFLOW_BIN}:{env.get('PATH', '')}",
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.port),
            # Task processes reach the execution API through the base URL.
            AIRFLOW__API__BASE_URL=self.url,
            AIRFLOW_CONN_VTM_DEFAULT=connection,
            VTM_CATALOG=str(self.catalog),
        )
        return env

    def start(self, timeout: float = 240) -> AirflowStandalone:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(AIRFLOW_BIN / "airflow"), "standalone"],
                env=self.env(),
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for(self._healthy, f"Airflow on {self.url} to be healthy", timeout, every=0.5)
        token = self.token()
        self.api.headers["Authorization"] = f"Bearer {token}"
        return self

    @property
    def password(self) -> str:
        """The admin's password standalone generated (simple auth manager)."""
        generated = self.home / "simple_auth_manager_passwords.json.generated"
        return str(json.loads(generated.read_text())["admin"])

    def token(self) -> str:
        r = self.api.post("/auth/token", json={"username": "admin", "password": self.password})
        assert r.status_code in (200, 201), r.text
        return str(r.json()["access_token"])

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"airflow standalone exited {self.proc.returncode}:\n{self.log()}")
        try:
            r = self.api.get("/api/v2/monitor/health")
        except httpx.TransportError:
            return False
        if r.status_code != 200:
            return False
        health = r.json()
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return all((health.get(p) or {}).get("status") == "healthy" for p in parts)

    def log(self, tail: int = 6000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-tail:]

    def stop(self) -> list[int]:
        """SIGTERM the process group, SIGKILL it after a grace period, then anything left in
        its session or naming this home (task processes run in groups of their own).
        Returns what could not be killed (nothing, normally)."""
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
        marker = f"AIRFLOW_HOME={self.home}"
        deadline = time.monotonic() + 10
        while (pids := self._left(marker)) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        return self._left(marker)

    def _left(self, marker: str) -> list[int]:
        """Live processes of standalone's session (its group, and the task processes that
        have groups of their own), or naming its home: Airflow's processes retitle themselves
        (setproctitle), which hides their environment."""
        pids = set(processes_with_env(marker))
        if self.proc is not None:
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                with contextlib.suppress(OSError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if fields[0] != "Z" and self.proc.pid in (int(fields[2]), int(fields[3])):
                        pids.add(int(entry.name))
        return sorted(pids)

    # -- REST API v2 ----------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        r = self.api.get(path, params=params)
        assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
        return r.json()

    def wait_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """The DAG once the DAG processor has parsed it; an import error fails at once."""

        def probe() -> dict[str, Any] | None:
            errors = self.get("/api/v2/importErrors")["import_errors"]
            assert not errors, f"the DAG file did not import: {errors}"
            r = self.api.get(f"/api/v2/dags/{dag_id}")
            return r.json() if r.status_code == 200 else None

        return wait_for(probe, f"Airflow to know DAG {dag_id}", timeout, every=0.5)

    def unpause(self, dag_id: str) -> None:
        r = self.api.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        assert r.status_code == 200 and r.json()["is_paused"] is False, r.text

    def trigger(self, dag_id: str, run_id: str, logical_date: str | None) -> dict[str, Any]:
        body = {"dag_run_id": run_id, "logical_date": logical_date}
        r = self.api.post(f"/api/v2/dags/{dag_id}/dagRuns", json=body)
        assert r.status_code == 200, r.text
        run: dict[str, Any] = r.json()
        return run

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        return run

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        page = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return {ti["task_id"]: ti for ti in page["task_instances"]}

    def wait_dag_run(self, dag_id: str, run_id: str, timeout: float = 180) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            run = self.dag_run(dag_id, run_id)
            return run if run["state"] in TERMINAL_DAG_RUN else None

        return wait_for(probe, f"DAG run {dag_id}/{run_id} to end", timeout, every=0.5)

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """A task try's log as Airflow's files hold it (for failure messages)."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        path = folder / f"attempt={try_number}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else f"(no {path})"
