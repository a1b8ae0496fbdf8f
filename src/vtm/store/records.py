"""Plain, immutable views of stored rows that the rest of VTM passes around."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vtm.states import RunStatus
from vtm.store.launch import LaunchRecord

# Airflow's limit on a DAG, DAG run or task id (the API's too); the origin columns' width.
AIRFLOW_ID_LEN = 250


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything VTM stores is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class NewRun:
    id: str
    task_id: str
    fields: dict[str, Any]
    command: list[str]
    launch: LaunchRecord
    created_at: datetime = field(default_factory=utcnow)
    origin: dict[str, Any] = field(default_factory=dict)
    # A run `vtm exec` supervises is stored running from the start: were it ever queued, the
    # server's scheduler could launch it a second time.
    status: RunStatus = RunStatus.QUEUED
    started_at: datetime | None = None
    priority: int = 0
    host: str | None = None  # where the trainer runs, when known at the start


@dataclass(frozen=True)
class RunData:
    seq: int
    id: str
    task_id: str
    status: RunStatus
    fields: dict[str, Any]
    command: list[str]
    launch: LaunchRecord
    progress: dict[str, Any]
    meta: dict[str, Any]
    mlflow_run_id: str | None
    log_tail: list[str]
    exit_code: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    log_offset: int
    at_line_start: bool
    line_count: int
    progress_count: int
    protocol_errors: int
    stop_requested: bool
    gpus: list[int]
    origin: dict[str, Any] = field(default_factory=dict)
    event_offsets: dict[str, int] = field(default_factory=dict)
    priority: int = 0
    gpu_energy_start: dict[int, int] | None = None
    energy_wh: float | None = None
    host: str | None = None
    node_id: str | None = None
    ticket_hash: str | None = None
    token_hash: str | None = None


@dataclass(frozen=True)
class MetricPoint:
    step: int
    value: float
    recorded_at: datetime


@dataclass(frozen=True)
class ScalarPoint:
    """One scalar a trainer wrote to a TensorBoard event file."""

    name: str
    step: int
    value: float


@dataclass(frozen=True)
class OutputBatch:
    """What indexing one read of a run's output.log produced; applied in one transaction."""

    expected_offset: int
    consumed: int
    lines: int
    at_line_start: bool
    tail: list[str]
    protocol_errors: int = 0
    progress: list[dict[str, Any]] = field(default_factory=list)
    meta: list[dict[str, Any]] = field(default_factory=list)
    bar: tuple[int, int] | None = None  # a progress bar's latest n/total, if one changed
