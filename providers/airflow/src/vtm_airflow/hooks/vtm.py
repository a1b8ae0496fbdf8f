"""``VtmHook``: every call the provider makes to VTM, through an Airflow connection of type ``vtm``.

The connection holds VTM's host and port, the scheme in its ``schema`` (``https`` for TLS,
default ``http``) and the API token in its password, e.g. ``vtm://:TOKEN@vtm-host:8000`` or
``{"conn_type": "vtm", "host": "vtm-host", "port": 8000, "password": "TOKEN"}`` in
``AIRFLOW_CONN_VTM_DEFAULT``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from airflow.sdk import BaseHook
from vtm_client import (
    TERMINAL_STATUSES,
    AirflowContext,
    AsyncVtmClient,
    ReportFormat,
    VtmClient,
)

# Stopping a run on kill must not hold a dying task for the whole restart window.
STOP_RETRY_SECONDS = 30.0
# Publishing (MLflow registry, FTP upload) and drawing the report take longer than a run query.
SLOW_CALL_SECONDS = 300.0
# VtmHook.publish's options (the API's names) → vtm_client's arguments.
PUBLISH_OPTIONS = {
    "runId": "run_id",
    "metric": "metric",
    "goal": "goal",
    "since": "since",
    "alias": "alias",
    "gate": "gate",
}


@dataclass(frozen=True)
class Endpoint:
    """Where a ``vtm`` connection points, and how long its calls keep trying: a connection
    error or a 5xx answer is retried with a growing pause for ``retry_seconds``, a run start
    only when it cannot have reached VTM (vtm_client's rules)."""

    base_url: str
    token: str | None = None
    timeout: float = 30.0
    retry_seconds: float = 120.0

    def __repr__(self) -> str:
        # The token stays out of logs and tracebacks.
        return f"Endpoint({self.base_url!r}, token={'***' if self.token else None})"

    def client(self) -> VtmClient:
        return VtmClient(
            self.base_url, self.token, timeout=self.timeout, retry_seconds=self.retry_seconds
        )

    def async_client(self) -> AsyncVtmClient:
        return AsyncVtmClient(
            self.base_url, self.token, timeout=self.timeout, retry_seconds=self.retry_seconds
        )


class VtmHook(BaseHook):
    conn_name_attr = "vtm_conn_id"
    default_conn_name = "vtm_default"
    conn_type = "vtm"
    hook_name = "VTM"

    def __init__(self, vtm_conn_id: str = default_conn_name, retry_seconds: float = 120.0):
        super().__init__()
        self.vtm_conn_id = vtm_conn_id
        self.retry_seconds = retry_seconds
        self._client: VtmClient | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["login", "extra"],
            "relabeling": {"password": "API token", "schema": "Scheme (http or https)"},
            "placeholders": {"host": "127.0.0.1", "port": "8000", "schema": "http"},
        }

    @staticmethod
    def endpoint_of(conn: Any, retry_seconds: float = 120.0) -> Endpoint:
        """Where the connection points; a host given as a URL (``http://h:8000``) is kept."""
        host = str(conn.host or "127.0.0.1").rstrip("/")
        if "://" in host:
            base = host
        else:
            scheme = conn.schema or "http"
            base = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
        return Endpoint(base_url=base, token=conn.password or None, retry_seconds=retry_seconds)

    def endpoint(self, retry_seconds: float | None = None) -> Endpoint:
        window = self.retry_seconds if retry_seconds is None else retry_seconds
        return self.endpoint_of(self.get_connection(self.vtm_conn_id), window)

    @property
    def client(self) -> VtmClient:
        if self._client is None:
            self._client = self.endpoint().client()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def start_run(
        self, task: str, fields: dict[str, Any], airflow: AirflowContext | None = None
    ) -> dict[str, Any]:
        # Not idempotent: resent only when the request cannot have reached VTM.
        return self.client.start_run(task, fields, airflow=airflow)

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self.client.get_run(run_id)

    def stop_run(self, run_id: str) -> dict[str, Any]:
        """Ask VTM to stop the run (idempotent); retried for a shorter window than a wait."""
        with self.endpoint(min(self.retry_seconds, STOP_RETRY_SECONDS)).client() as client:
            return client.stop_run(run_id)

    def wait_for_run(self, run_id: str, poll_interval: float = 2.0) -> dict[str, Any]:
        """The run once it has ended, asking every ``poll_interval`` seconds."""
        while True:
            run = self.get_run(run_id)
            if run["status"] in TERMINAL_STATUSES:
                return run
            time.sleep(poll_interval)

    def publish(self, task: str, **options: Any) -> dict[str, Any]:
        """``POST /api/publish``; ``options`` in the API's names: runId, metric, goal, since,
        alias, gate (None: not given). A refusal is vtm_client's ApiError (code
        ``not_published`` for a model the floor or the gate refused)."""
        unknown = sorted(set(options) - set(PUBLISH_OPTIONS))
        if unknown:
            raise TypeError(f"publish() got unknown options: {', '.join(unknown)}")
        given = {PUBLISH_OPTIONS[k]: v for k, v in options.items() if v is not None}
        return self.client.publish(task, timeout=SLOW_CALL_SECONDS, **given)

    def report(self, since: str = "7d", task: str | None = None, fmt: str = "json") -> Any:
        """The report's JSON (``fmt="json"``), or its ``html`` or ``md`` page as text."""
        if fmt == "json":
            return self.client.report(since=since, task=task, timeout=SLOW_CALL_SECONDS)
        if fmt not in ("html", "md"):
            raise ValueError(f"no report format {fmt!r}: json, html or md")
        page: ReportFormat = "html" if fmt == "html" else "md"
        return self.client.report_text(page, since=since, task=task, timeout=SLOW_CALL_SECONDS)
