"""What the quality report reads (ReportRun, TaskInfo) and what it says (Report and its parts).

Plain frozen dataclasses: `stats` fills them, `html`/`markdown` render them, and the API turns
them into its JSON shapes. Nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from vtm.states import RunStatus

# Who started a run. Every run is started by a person today (web UI, CLI, REST API); the
# Airflow issue adds scheduled runs, which the store will then record and the loader will pass
# through here. Manual interventions only count runs a person started.
ORIGIN_PERSON = "person"

Goal = Literal["max", "min"]

# How a run failed, from what the supervisor and the run service record (see `stats.failure_kind`).
FailureKind = Literal["exit_code", "timeout", "signal", "supervisor_lost", "launch", "other"]


@dataclass(frozen=True)
class ReportRun:
    """One run as the report sees it."""

    id: str
    seq: int  # creation order; breaks ties between equal timestamps
    task_id: str
    status: RunStatus
    fields: Mapping[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int | None
    error: str | None
    stop_requested: bool
    # The last reported point of the task's primary metric; None when it reported none.
    metric: float | None = None
    origin: str = ORIGIN_PERSON
    gpus: int = 0  # how many it held
    energy_wh: float | None = None  # what its GPUs used, where their counters told


@dataclass(frozen=True)
class TaskInfo:
    task_id: str
    title: str | None
    metric_name: str | None
    metric_goal: Goal = "max"
    in_catalog: bool = True


@dataclass(frozen=True)
class Window:
    """Runs created in [start, end) are reported; ``since`` is the duration as asked for."""

    start: datetime
    end: datetime
    since: str


@dataclass(frozen=True)
class Failure:
    run_id: str
    created_at: datetime
    finished_at: datetime | None
    exit_code: int | None
    kind: FailureKind
    reason: str


@dataclass(frozen=True)
class ReasonCount:
    kind: FailureKind
    reason: str
    count: int


@dataclass(frozen=True)
class Incident:
    """From the first failure after a success (or the window's start) to the next success."""

    started_at: datetime  # the first failed run's finish
    first_failed_run_id: str
    failed_runs: int
    ended_at: datetime | None  # the recovering run's finish; None while open
    recovered_by_run_id: str | None
    duration_seconds: float | None  # None while open
    open_for_seconds: float | None  # how long an open incident has lasted, up to the window end

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class Durations:
    count: int
    p50_seconds: float | None
    p95_seconds: float | None


@dataclass(frozen=True)
class MetricPointRef:
    run_id: str
    finished_at: datetime
    value: float


@dataclass(frozen=True)
class MetricSummary:
    name: str
    goal: Goal
    best: MetricPointRef | None
    latest: MetricPointRef | None
    trend: tuple[MetricPointRef, ...]  # completed runs with a value, oldest finish first


@dataclass(frozen=True)
class ManualInterventions:
    stopped_by_hand: tuple[str, ...]  # run ids
    rerun_by_hand: tuple[str, ...]  # run ids

    @property
    def total(self) -> int:
        return len(self.stopped_by_hand) + len(self.rerun_by_hand)


@dataclass(frozen=True)
class Streak:
    days: int
    latest_day: date | None  # the latest UTC day with a finished run: where counting starts


@dataclass(frozen=True)
class Outcomes:
    runs: int
    completed: int
    failed: int
    stopped: int
    in_progress: int  # queued or running when the report was made

    @property
    def success_rate(self) -> float | None:
        """completed / (completed + failed); None without either (see stats for why)."""
        decided = self.completed + self.failed
        return self.completed / decided if decided else None


@dataclass(frozen=True)
class GpuUse:
    """What runs held of the GPUs: GPU-hours (held times hours, up to the window's end for a run
    still going), energy where the GPUs counted it, and cost at the configured rate."""

    gpu_hours: float = 0.0
    gpu_runs: int = 0  # runs that held a GPU
    energy_wh: float | None = None  # summed over the measured runs; None: none was
    measured_runs: int = 0
    cost: float | None = None  # None: no rate (VTM_GPU_HOUR_COST) is set


@dataclass(frozen=True)
class TaskReport:
    info: TaskInfo
    outcomes: Outcomes
    failures: tuple[Failure, ...]  # newest first
    reasons: tuple[ReasonCount, ...]  # most frequent first
    incidents: tuple[Incident, ...]  # oldest first
    mttr_seconds: float | None
    durations: Durations
    metric: MetricSummary | None
    manual: ManualInterventions
    streak: Streak
    gpu: GpuUse = GpuUse()


@dataclass(frozen=True)
class DayOutcomes:
    day: date
    completed: int
    failed: int
    stopped: int


@dataclass(frozen=True)
class Summary:
    tasks: int
    outcomes: Outcomes
    mttr_seconds: float | None  # mean over every recovered incident of every task
    incidents_recovered: int
    incidents_open: int
    stopped_by_hand: int
    rerun_by_hand: int
    days: tuple[DayOutcomes, ...] = field(default=())  # finished runs per UTC day, all tasks
    gpu: GpuUse = GpuUse()

    @property
    def manual_interventions(self) -> int:
        return self.stopped_by_hand + self.rerun_by_hand


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    window: Window
    task_filter: str | None
    summary: Summary
    tasks: tuple[TaskReport, ...]
