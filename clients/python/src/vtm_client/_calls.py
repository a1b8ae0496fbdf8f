"""Every request the client can make, one builder per API operation.

A builder turns a method's arguments into a ``Call``: the operation's method and path
template, its query parameters and body in the API's own (camelCase) names, and whether it is
idempotent. The sync and the async client send the same calls, and the contract test checks
each against VTM's OpenAPI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from vtm_client._types import AirflowContext, Gate, Goal, ReportFormat

# POST /api/publish answers once the model is registered and uploaded: minutes, not seconds.
PUBLISH_TIMEOUT_SECONDS = 900.0


@dataclass(frozen=True)
class Call:
    method: str
    template: str  # the OpenAPI path, e.g. /api/runs/{run_id}
    path_params: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str | int | Sequence[str]] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # Safe to send twice: a lost answer is asked again. Otherwise the call is resent only
    # when it cannot have reached VTM.
    idempotent: bool = True
    timeout: float | None = None  # None: the client's
    text: bool = False  # the answer is text (a page), not JSON

    @property
    def path(self) -> str:
        # Quoted whole: a path parameter can never add a segment.
        return self.template.format(**{k: quote(v, safe="") for k, v in self.path_params.items()})

    @property
    def what(self) -> str:
        return f"{self.method} {self.path}"


def _given(**values: Any) -> dict[str, Any]:
    """The values that are set (None means: leave it to the server)."""
    return {k: v for k, v in values.items() if v is not None}


def _time(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def health() -> Call:
    return Call("GET", "/api/health")


def config() -> Call:
    return Call("GET", "/api/config")


def catalog() -> Call:
    return Call("GET", "/api/catalog")


def pipelines() -> Call:
    return Call("GET", "/api/pipelines")


def start_run(
    task_id: str,
    fields: Mapping[str, Any] | None,
    airflow: AirflowContext | None,
    priority: int | None = None,
    executor: str | None = None,
) -> Call:
    body: dict[str, Any] = {"taskId": task_id, "fields": dict(fields or {})}
    if airflow:
        body["airflow"] = dict(airflow)
    if priority is not None:
        body["priority"] = priority
    if executor is not None:
        body["executor"] = executor
    # Not idempotent: each start is a new run.
    return Call("POST", "/api/runs/start", json=body, idempotent=False)


def list_runs(
    status: Sequence[str],
    task_id: str | None,
    limit: int | None,
    cursor: str | None,
    id_prefix: str | None,
    created_after: datetime | str | None,
    created_before: datetime | str | None,
) -> Call:
    params = _given(
        taskId=task_id or None,
        limit=limit,
        cursor=cursor or None,
        idPrefix=id_prefix,
        createdAfter=_time(created_after),
        createdBefore=_time(created_before),
    )
    if status:
        params["status"] = [status] if isinstance(status, str) else list(status)
    return Call("GET", "/api/runs", params=params)


def get_run(run_id: str) -> Call:
    return Call("GET", "/api/runs/{run_id}", {"run_id": run_id})


def set_priority(run_id: str, priority: int) -> Call:
    body = {"priority": priority}
    return Call("PATCH", "/api/runs/{run_id}", {"run_id": run_id}, json=body)  # idempotent


def gpus() -> Call:
    return Call("GET", "/api/gpus")


def stop_run(run_id: str) -> Call:
    return Call("POST", "/api/runs/{run_id}/stop", {"run_id": run_id})  # idempotent


def logs(run_id: str, offset: int, limit: int | None) -> Call:
    params = _given(offset=offset, limit=limit)
    return Call("GET", "/api/runs/{run_id}/logs", {"run_id": run_id}, params=params)


def events(run_id: str | None, last_event_id: str | None) -> Call:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    return Call("GET", "/api/events", params=_given(runId=run_id or None), headers=headers)


def publish(
    task: str,
    run_id: str | None,
    metric: str | None,
    goal: Goal | None,
    since: str | None,
    alias: str | None,
    gate: Gate | None,
    timeout: float | None,
) -> Call:
    body = _given(
        task=task,
        runId=run_id,
        metric=metric,
        goal=goal,
        since=since,
        alias=alias,
        gate=_given(**gate) if gate is not None else None,
    )
    # Idempotent: VTM finds what an earlier attempt published and changes nothing.
    return Call("POST", "/api/publish", json=body, timeout=timeout)


def report(
    fmt: ReportFormat, since: str | None, task: str | None, timeout: float | None, text: bool
) -> Call:
    """``text``: the answer as it came (a page, or the JSON's text), not parsed."""
    if fmt not in ("json", "html", "md"):
        raise ValueError(f"no report format {fmt!r}: json, html or md")
    template = "/api/report" if fmt == "json" else f"/api/report.{fmt}"
    params = _given(since=since, task=task or None)
    return Call("GET", template, params=params, timeout=timeout, text=text or fmt != "json")


def register_external_run(
    run_id: str,
    task_id: str,
    fields: Mapping[str, Any],
    command: Sequence[str],
    host: str,
    airflow: AirflowContext | None,
    mlflow_experiment: str | None,
) -> Call:
    body: dict[str, Any] = {
        "id": run_id,
        "taskId": task_id,
        "fields": dict(fields),
        "command": list(command),
        "host": host,
        "mlflowExperiment": mlflow_experiment,
    }
    if airflow:
        body["airflow"] = dict(airflow)
    # Idempotent by id: registering the same run again returns it.
    return Call("POST", "/api/runs/external", json=body)


def claim_cluster_run(
    run_id: str, ticket: str, task_id: str, host: str, gpus: Sequence[int], command: Sequence[str]
) -> Call:
    body = {
        "ticket": ticket,
        "taskId": task_id,
        "host": host,
        "gpus": list(gpus),
        "command": list(command),
    }
    # Not idempotent: a ticket is good once, so a claim whose answer was lost cannot be resent.
    return Call("POST", "/api/runs/{run_id}/claim", {"run_id": run_id}, json=body, idempotent=False)


def append_output(run_id: str, offset: int, data: bytes) -> Call:
    # Idempotent by offset: bytes VTM holds already are skipped.
    return Call(
        "POST",
        "/api/runs/{run_id}/output",
        {"run_id": run_id},
        params={"offset": offset},
        content=bytes(data),
        headers={"Content-Type": "application/octet-stream"},
    )


def finish_external_run(
    run_id: str, status: str, exit_code: int | None, error: str | None, size: int
) -> Call:
    body = {"status": status, "exitCode": exit_code, "error": error, "size": size}
    # Idempotent: the same outcome again is accepted.
    return Call("POST", "/api/runs/{run_id}/finish", {"run_id": run_id}, json=body)
