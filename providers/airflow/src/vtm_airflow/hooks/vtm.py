"""``VtmHook``: every call the provider makes to VTM, through an Airflow connection of type ``vtm``.

The connection holds VTM's host and port, the scheme in its ``schema`` (``https`` for TLS,
default ``http``) and the API token in its password, e.g. ``vtm://:TOKEN@vtm-host:8000`` or
``{"conn_type": "vtm", "host": "vtm-host", "port": 8000, "password": "TOKEN"}`` in
``AIRFLOW_CONN_VTM_DEFAULT``.
"""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import BaseHook

from vtm_airflow._client import TERMINAL, Endpoint, VtmClient

# Stopping a run on kill must not hold a dying task for the whole restart window.
STOP_RETRY_SECONDS = 30.0
# Publishing (MLflow registry, FTP upload) and drawing the report take longer than a run query.
SLOW_CALL_SECONDS = 300.0


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
            self._client = VtmClient(self.endpoint())
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def start_run(
        self, task: str, fields: dict[str, Any], airflow: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"taskId": task, "fields": fields}
        if airflow:
            body["airflow"] = airflow
        # Not idempotent: resent only when the request cannot have reached VTM.
        run: dict[str, Any] = self.client.json(
            "POST", "/api/runs/start", json=body, idempotent=False
        )
        return run

    def get_run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.client.json("GET", f"/api/runs/{run_id}")
        return run

    def stop_run(self, run_id: str) -> dict[str, Any]:
        """Ask VTM to stop the run (idempotent); retried for a shorter window than a wait."""
        client = VtmClient(self.endpoint(min(self.retry_seconds, STOP_RETRY_SECONDS)))
        try:
            run: dict[str, Any] = client.json("POST", f"/api/runs/{run_id}/stop")
        finally:
            client.close()
        return run

    def wait_for_run(self, run_id: str, poll_interval: float = 2.0) -> dict[str, Any]:
        """The run once it has ended, asking every ``poll_interval`` seconds."""
        while True:
            run = self.get_run(run_id)
            if run["status"] in TERMINAL:
                return run
            time.sleep(poll_interval)

    def publish(self, task: str, **options: Any) -> dict[str, Any]:
        body = {"task": task, **{k: v for k, v in options.items() if v is not None}}
        result: dict[str, Any] = self.client.json(
            "POST", "/api/publish", json=body, timeout=SLOW_CALL_SECONDS
        )
        return result

    def report(self, since: str = "7d", task: str | None = None, fmt: str = "json") -> Any:
        params = {"since": since, **({"task": task} if task else {})}
        if fmt == "json":
            return self.client.json("GET", "/api/report", params=params, timeout=SLOW_CALL_SECONDS)
        path = f"/api/report.{fmt}"
        return self.client.request("GET", path, params=params, timeout=SLOW_CALL_SECONDS).text
