"""The small JSON shapes the client takes and returns by name (camelCase, as on the wire).

Run records, the catalog, the config, a publish's result and the report are returned as the
server's JSON (``dict[str, Any]``): their shapes are VTM's OpenAPI (``/docs``).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

# What a run can be; the last three are where it ends.
RunStatus = Literal["queued", "running", "completed", "failed", "stopped"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "stopped"})

Goal = Literal["max", "min"]
ReportFormat = Literal["json", "html", "md"]


class FieldError(TypedDict):
    """One request field VTM refused, and why."""

    field: str
    message: str


class _AirflowRequired(TypedDict):
    dagId: str
    runId: str
    taskId: str
    tryNumber: int


class AirflowContext(_AirflowRequired, total=False):
    """The Airflow task try that starts a run (VTM links a retry's run to the previous try's)."""

    mapIndex: int
    logicalDate: str | None
    queue: str | None
    hostname: str | None


class Gate(TypedDict, total=False):
    """How a publish judges the model first (a pipeline's publish step)."""

    evaluationRunId: str | None
    metric: str | None
    goal: Goal | None
    minMetric: float | None
    againstChampion: bool


class RunPage(TypedDict):
    runs: list[dict[str, Any]]
    nextCursor: str | None


class LogPage(TypedDict):
    runId: str
    offset: int
    nextOffset: int
    size: int
    text: str
    complete: bool


class ExternalRunAccepted(TypedDict):
    run: dict[str, Any]
    heartbeatSeconds: float
    heartbeatTimeoutSeconds: float


class ClusterRunClaimed(ExternalRunAccepted):
    token: str  # the run's own token, for its output and finish


class OutputAccepted(TypedDict):
    received: int
    status: RunStatus
    stopRequested: bool
