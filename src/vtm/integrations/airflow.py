"""Airflow's REST API v2, read by the Pipelines page: the latest DAG runs and their tasks.

VTM only reads: Airflow schedules and runs the pipelines. Credentials are exchanged for a JWT
at ``/auth/token`` (Airflow 3's auth managers), renewed once when Airflow answers 401. One
client per set of settings serves every request (``client_for``): the page polls, and a login
and a new connection each time would double Airflow's work.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from vtm.errors import UpstreamError
from vtm.settings import Settings

# The XCom key VTM's publish operator leaves the reason under when it skips (not published).
NOT_PUBLISHED_XCOM = "not_published"


@dataclass(frozen=True)
class TaskState:
    task_id: str
    state: str | None
    try_number: int
    start_date: str | None
    end_date: str | None
    note: str | None = None  # why a publish step was skipped
    queue: str | None = None
    hostname: str | None = None  # the worker that ran the try, as Airflow names it


@dataclass(frozen=True)
class DagRunState:
    dag_id: str
    run_id: str
    logical_date: str | None
    state: str
    run_type: str | None
    start_date: str | None
    end_date: str | None
    tasks: list[TaskState]


class AirflowClient:
    def __init__(self, settings: Settings) -> None:
        if settings.airflow_url is None:
            raise ValueError("VTM_AIRFLOW_URL is not set")
        self.base_url = settings.airflow_url.rstrip("/")
        self._username = settings.airflow_username
        self._password = settings.airflow_password
        self._http = httpx.Client(base_url=self.base_url, timeout=10.0)
        self._token: str | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def _login(self) -> str:
        if self._username is None or self._password is None:
            raise UpstreamError(
                "Airflow needs credentials: set VTM_AIRFLOW_USERNAME and VTM_AIRFLOW_PASSWORD"
            )
        body = {"username": self._username, "password": self._password.get_secret_value()}
        response = self._http.post("/auth/token", json=body)
        if response.status_code >= 400:
            raise UpstreamError(
                f"Airflow at {self.base_url} refused the login of {self._username!r} "
                f"({response.status_code})"
            )
        return str(response.json()["access_token"])

    def _get(self, path: str, **params: Any) -> Any:
        try:
            for attempt in range(2):
                with self._lock:
                    if self._token is None:
                        self._token = self._login()
                    token = self._token
                response = self._http.get(
                    path, params=params, headers={"Authorization": f"Bearer {token}"}
                )
                if response.status_code == 401 and attempt == 0:
                    with self._lock:
                        self._token = None
                    continue
                if response.status_code == 404:
                    return None
                if response.status_code >= 400:
                    raise UpstreamError(
                        f"Airflow answered {response.status_code} to GET {path}: "
                        f"{response.text[:200]}"
                    )
                return response.json()
        except httpx.TransportError as exc:
            raise UpstreamError(f"Airflow at {self.base_url} cannot be reached: {exc}") from exc
        raise UpstreamError(f"Airflow at {self.base_url} refused VTM's token")

    def latest_runs(
        self, dag_id: str, limit: int = 5, publish_steps: frozenset[str] = frozenset()
    ) -> list[DagRunState] | None:
        """The DAG's newest runs with their tasks; None when Airflow has no such DAG. A skipped
        task of ``publish_steps`` carries the reason its operator left in XCom."""
        page = self._get(f"/api/v2/dags/{dag_id}/dagRuns", order_by="-run_after", limit=limit)
        if page is None:
            return None
        runs: list[DagRunState] = []
        for run in page.get("dag_runs", []):
            instances = self._get(
                f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances"
            )
            tasks = [
                TaskState(
                    task_id=ti["task_id"],
                    state=ti.get("state"),
                    try_number=int(ti.get("try_number") or 0),
                    start_date=ti.get("start_date"),
                    end_date=ti.get("end_date"),
                    queue=ti.get("queue") or None,
                    hostname=ti.get("hostname") or None,
                    note=self._skip_reason(dag_id, run["dag_run_id"], ti)
                    if ti["task_id"] in publish_steps
                    else None,
                )
                for ti in (instances or {}).get("task_instances", [])
            ]
            runs.append(
                DagRunState(
                    dag_id=dag_id,
                    run_id=run["dag_run_id"],
                    logical_date=run.get("logical_date"),
                    state=str(run.get("state")),
                    run_type=run.get("run_type"),
                    start_date=run.get("start_date"),
                    end_date=run.get("end_date"),
                    tasks=tasks,
                )
            )
        return runs

    def _skip_reason(self, dag_id: str, run_id: str, ti: dict[str, Any]) -> str | None:
        if ti.get("state") != "skipped":
            return None
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}"
            f"/xcomEntries/{NOT_PUBLISHED_XCOM}"
        )
        entry = self._get(path, map_index=ti.get("map_index", -1))
        value = entry.get("value") if entry else None
        if isinstance(value, str):
            try:  # stored as JSON by some paths, as the plain string by others
                decoded = json.loads(value)
            except ValueError:
                return value
            return decoded if isinstance(decoded, str) else value
        return None if value is None else str(value)


_clients: dict[tuple[str, str | None, str | None], AirflowClient] = {}
_clients_lock = threading.Lock()


def client_for(settings: Settings) -> AirflowClient:
    """The shared client of these settings (thread-safe: routes run in a thread pool)."""
    password = settings.airflow_password
    key = (
        str(settings.airflow_url),
        settings.airflow_username,
        password.get_secret_value() if password else None,
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = AirflowClient(settings)
        return client


def close_clients() -> None:
    """Close every shared client (the server is stopping)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
