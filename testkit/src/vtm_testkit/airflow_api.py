"""Airflow's REST API v2 as the admin of an `airflow standalone` (its simple auth manager's
generated password, in the home), with the waits tests and benchmarks need."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx

from vtm_testkit.waiting import wait_for

TERMINAL_DAG_RUN = ("success", "failed")
# The components /api/v2/monitor/health must call healthy before anything is triggered.
COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


class AirflowApi:
    """``api``: an httpx client of the Airflow at ``url``; authenticated after ``log_in``."""

    def __init__(self, url: str, home: Path, timeout: float = 30) -> None:
        self.url = url
        self.home = home
        self.api = httpx.Client(base_url=url, timeout=timeout)

    @property
    def password(self) -> str:
        """The admin's password standalone generated."""
        generated = self.home / "simple_auth_manager_passwords.json.generated"
        return str(json.loads(generated.read_text())["admin"])

    def token(self) -> str:
        r = self.api.post("/auth/token", json={"username": "admin", "password": self.password})
        assert r.status_code in (200, 201), r.text
        return str(r.json()["access_token"])

    def log_in(self) -> None:
        self.api.headers["Authorization"] = f"Bearer {self.token()}"

    def all_healthy(self) -> bool:
        """Whether every one of COMPONENTS says it is healthy (False while none answers)."""
        try:
            r = self.api.get("/api/v2/monitor/health")
        except httpx.TransportError:
            return False
        if r.status_code != 200:
            return False
        health = r.json()
        return all((health.get(c) or {}).get("status") == "healthy" for c in COMPONENTS)

    def wait_up(self, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
        """Wait until every one of COMPONENTS is healthy, then log in; the exit of ``process``
        (what started Airflow) fails at once, with the end of ``log``."""

        def up() -> bool:
            if process.poll() is not None:
                text = log.read_text(errors="replace")[-6000:] if log.exists() else ""
                raise AssertionError(f"{process.args!r} exited {process.returncode}:\n{text}")
            return self.all_healthy()

        wait_for(up, f"Airflow on {self.url} to be healthy", timeout, every=0.5)
        self.log_in()

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

    def trigger(self, dag_id: str, run_id: str, logical_date: str | None = None) -> dict[str, Any]:
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

    def wait_dag_run(
        self, dag_id: str, run_id: str, timeout: float = 180, every: float = 0.5
    ) -> dict[str, Any]:
        """The DAG run once it has ended (success or failed)."""

        def probe() -> dict[str, Any] | None:
            run = self.dag_run(dag_id, run_id)
            return run if run["state"] in TERMINAL_DAG_RUN else None

        return wait_for(probe, f"DAG run {dag_id}/{run_id} to end", timeout, every)

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """A task try's log as Airflow's files hold it (for failure messages)."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        path = folder / f"attempt={try_number}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else f"(no {path})"
