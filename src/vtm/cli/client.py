"""A small HTTP client for VTM's REST API and its event stream (used by the CLI)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


class ApiError(Exception):
    """The server refused a request; ``message`` is its explanation, ``fields`` per field,
    ``code`` VTM's name for the error (``not_published``, ``validation_failed``…)."""

    def __init__(
        self, status: int, message: str, fields: list[dict[str, str]], code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields
        self.code = code


class Unreachable(Exception):
    """No VTM server answers at the URL."""


@dataclass(frozen=True)
class SseEvent:
    id: str | None
    type: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def parse_sse(lines: Iterator[str]) -> Iterator[SseEvent]:
    event_id: str | None = None
    event_type = "message"
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield SseEvent(event_id, event_type, "\n".join(data))
            event_type, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            event_id = value
        elif name == "event":
            event_type = value
        elif name == "data":
            data.append(value)


class VtmClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(
                f"no VTM server at {self.url} ({exc}); start one with `vtm serve`"
            ) from exc
        if response.status_code >= 400:
            self._raise_for(response)
        return response.json()

    def catalog(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/api/catalog")
        return result

    def start(self, task_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", "/api/runs/start", json={"taskId": task_id, "fields": fields}
        )
        return result

    def runs(
        self,
        *,
        status: list[str],
        task_id: str | None,
        limit: int,
        cursor: str | None = None,
        id_prefix: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"status": status, "limit": limit}
        if task_id:
            params["taskId"] = task_id
        if cursor:
            params["cursor"] = cursor
        if id_prefix is not None:
            params["idPrefix"] = id_prefix
        result: dict[str, Any] = self._call("GET", "/api/runs", params=params)
        return result

    def run(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/api/runs/{run_id}")
        return result

    def stop(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/api/runs/{run_id}/stop")
        return result

    def logs(self, run_id: str, offset: int) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET", f"/api/runs/{run_id}/logs", params={"offset": offset}
        )
        return result

    def report(self, fmt: str, since: str, task: str | None) -> str:
        """The quality report as text: ``fmt`` is "json", "html" or "md"."""
        path = "/api/report" if fmt == "json" else f"/api/report.{fmt}"
        params = {"since": since, **({"task": task} if task else {})}
        try:
            response = self._http.get(path, params=params)
        except httpx.TransportError as exc:
            raise Unreachable(
                f"no VTM server at {self.url} ({exc}); start one with `vtm serve`"
            ) from exc
        if response.status_code >= 400:
            self._raise_for(response)
        return response.text

    def publish(self, body: dict[str, Any], timeout: float = 900.0) -> dict[str, Any]:
        """POST /api/publish; the server uploads the model before it answers, hence the wait."""
        result: dict[str, Any] = self._call("POST", "/api/publish", json=body, timeout=timeout)
        return result

    def events(self, run_id: str | None = None, retry_for: float = 60.0) -> Iterator[SseEvent]:
        """The event stream, reconnecting (with Last-Event-ID) when the server restarts.

        Gives up when no server has answered for ``retry_for`` seconds.
        """
        last_id: str | None = None
        down_since: float | None = None
        params = {"runId": run_id} if run_id else {}
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                with self._http.stream(
                    "GET",
                    "/api/events",
                    params=params,
                    headers=headers,
                    timeout=httpx.Timeout(30.0, read=60.0),
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        self._raise_for(response)
                    down_since = None
                    for event in parse_sse(response.iter_lines()):
                        if event.id:
                            last_id = event.id
                        yield event
            except httpx.TransportError as exc:
                now = time.monotonic()
                down_since = down_since or now
                if now - down_since > retry_for:
                    raise Unreachable(f"lost the VTM server at {self.url}: {exc}") from exc
                yield SseEvent(None, "disconnected", "{}")
                time.sleep(0.5)  # back-off between reconnect attempts, not synchronisation

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        try:
            error = response.json()["error"]
            raise ApiError(
                response.status_code, error["message"], error.get("fields", []), error.get("code")
            )
        except (ValueError, KeyError, TypeError):
            raise ApiError(response.status_code, response.text, []) from None
