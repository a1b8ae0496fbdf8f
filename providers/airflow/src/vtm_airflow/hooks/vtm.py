"""``VtmHook``: every call the provider makes to VTM, through an Airflow connection of type ``vtm``.

The connection holds VTM's host and port (schema ``https`` for TLS, default ``http``) and the
API token in its password, e.g. ``AIRFLOW_CONN_VTM_DEFAULT='vtm://:TOKEN@vtm-host:8000'``.
"""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import BaseHook

from vtm_airflow._client import TERMINAL, Endpoint, VtmClient


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
        }

    @staticmethod
    def endpoint_of(conn: Any, retry_seconds: float = 120.0) -> Endpoint:
        scheme = conn.schema or "http"
        port = f":{conn.port}" if conn.port else ""
        return Endpoint(
            base_url=f"{scheme}://{conn.host}{port}",
            token=conn.password or None,
            retry_seconds=retry_seconds,
        )

    def endpoint(self) -> Endpoint:
        return self.endpoint_of(self.get_connection(self.vtm_conn_id), self.retry_seconds)

    @property
    def client(self) -> VtmClient:
        if self._client is None:
            self._client = VtmClient(self.endpoint())
        return self._client

    def start_run(
        self, task: str, fields: dict[str, Any], airflow: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"taskId": task, "fields": fields}
        if airflow:
            body["airflow"] = airflow
        run: dict[str, Any] = self.client.json("POST", "/api/runs/start", json=body)
        return run

    def get_run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.client.json("GET", f"/api/runs/{run_id}")
        return run

    def stop_run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.client.json("POST", f"/api/runs/{run_id}/stop")
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
        result: dict[str, Any] = self.client.json("POST", "/api/publish", json=body)
        return result

    def report(self, since: str = "7d", task: str | None = None, fmt: str = "json") -> Any:
        params = {"since": since, **({"task": task} if task else {})}
        if fmt == "json":
            return self.client.json("GET", "/api/report", params=params)
        return self.client.request("GET", f"/api/report.{fmt}", params=params).text
