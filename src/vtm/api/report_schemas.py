"""The quality report's JSON shape (GET /api/report), camelCase on the wire.

Durations are seconds; times are UTC. Definitions of each number: `vtm.report.stats`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from vtm.api.schemas import ApiModel
from vtm.report.model import (
    DayOutcomes,
    Failure,
    FailureKind,
    GpuUse,
    Incident,
    MetricPointRef,
    MetricSummary,
    Outcomes,
    ReasonCount,
    Report,
    TaskReport,
)


class ReportOutcomes(ApiModel):
    runs: int
    completed: int
    failed: int
    stopped: int
    in_progress: int = Field(description="Queued or running when the report was made.")
    success_rate: float | None = Field(
        description="completed / (completed + failed); null when neither happened."
    )

    @classmethod
    def of(cls, o: Outcomes) -> ReportOutcomes:
        return cls(
            runs=o.runs,
            completed=o.completed,
            failed=o.failed,
            stopped=o.stopped,
            in_progress=o.in_progress,
            success_rate=o.success_rate,
        )


class ReportFailure(ApiModel):
    run_id: str
    created_at: datetime
    finished_at: datetime | None
    exit_code: int | None
    kind: FailureKind
    reason: str

    @classmethod
    def of(cls, f: Failure) -> ReportFailure:
        return cls(
            run_id=f.run_id,
            created_at=f.created_at,
            finished_at=f.finished_at,
            exit_code=f.exit_code,
            kind=f.kind,
            reason=f.reason,
        )


class ReportReasonCount(ApiModel):
    kind: FailureKind
    reason: str
    count: int

    @classmethod
    def of(cls, r: ReasonCount) -> ReportReasonCount:
        return cls(kind=r.kind, reason=r.reason, count=r.count)


class ReportIncident(ApiModel):
    started_at: datetime = Field(description="When the first failed run finished.")
    first_failed_run_id: str
    failed_runs: int
    ended_at: datetime | None = Field(description="When the recovering run finished.")
    recovered_by_run_id: str | None
    duration_seconds: float | None = Field(description="Time to recover; null while open.")
    open: bool
    open_for_seconds: float | None = Field(description="How long an open incident has lasted.")

    @classmethod
    def of(cls, i: Incident) -> ReportIncident:
        return cls(
            started_at=i.started_at,
            first_failed_run_id=i.first_failed_run_id,
            failed_runs=i.failed_runs,
            ended_at=i.ended_at,
            recovered_by_run_id=i.recovered_by_run_id,
            duration_seconds=i.duration_seconds,
            open=i.is_open,
            open_for_seconds=i.open_for_seconds,
        )


class ReportDurations(ApiModel):
    count: int = Field(description="Finished runs that started.")
    p50_seconds: float | None
    p95_seconds: float | None


class ReportGpuUse(ApiModel):
    gpu_hours: float = Field(description="GPUs held times hours held (to the window's end).")
    gpu_runs: int = Field(description="Runs that held a GPU.")
    energy_wh: float | None = Field(
        description="Summed over the runs whose GPUs counted it (NVML); null: none did."
    )
    measured_runs: int = Field(description="Runs whose energy is in energyWh.")
    cost: float | None = Field(description="gpuHours times VTM_GPU_HOUR_COST; null: no rate.")

    @classmethod
    def of(cls, g: GpuUse) -> ReportGpuUse:
        return cls(
            gpu_hours=g.gpu_hours,
            gpu_runs=g.gpu_runs,
            energy_wh=g.energy_wh,
            measured_runs=g.measured_runs,
            cost=g.cost,
        )


class ReportMetricValue(ApiModel):
    run_id: str
    finished_at: datetime
    value: float

    @classmethod
    def of(cls, p: MetricPointRef) -> ReportMetricValue:
        return cls(run_id=p.run_id, finished_at=p.finished_at, value=p.value)


class ReportMetric(ApiModel):
    name: str
    goal: Literal["max", "min"]
    best: ReportMetricValue | None
    latest: ReportMetricValue | None
    trend: list[ReportMetricValue] = Field(description="Completed runs with a value, oldest first.")

    @classmethod
    def of(cls, m: MetricSummary) -> ReportMetric:
        return cls(
            name=m.name,
            goal=m.goal,
            best=ReportMetricValue.of(m.best) if m.best else None,
            latest=ReportMetricValue.of(m.latest) if m.latest else None,
            trend=[ReportMetricValue.of(p) for p in m.trend],
        )


class ReportManual(ApiModel):
    stopped_by_hand: list[str] = Field(description="Runs a person asked to stop.")
    rerun_by_hand: list[str] = Field(
        description="Runs a person started after a failed or stopped run with the same fields."
    )
    total: int


class ReportStreak(ApiModel):
    days: int
    latest_day: date | None = Field(description="The latest UTC day with a finished run.")


class ReportTask(ApiModel):
    task_id: str
    title: str | None
    in_catalog: bool
    outcomes: ReportOutcomes
    failures: list[ReportFailure] = Field(description="Newest first.")
    failure_reasons: list[ReportReasonCount]
    incidents: list[ReportIncident] = Field(description="Oldest first.")
    mttr_seconds: float | None
    durations: ReportDurations
    primary_metric: ReportMetric | None
    manual_interventions: ReportManual
    success_streak: ReportStreak
    gpu_use: ReportGpuUse

    @classmethod
    def of(cls, t: TaskReport) -> ReportTask:
        d = t.durations
        return cls(
            task_id=t.info.task_id,
            title=t.info.title,
            in_catalog=t.info.in_catalog,
            outcomes=ReportOutcomes.of(t.outcomes),
            failures=[ReportFailure.of(f) for f in t.failures],
            failure_reasons=[ReportReasonCount.of(r) for r in t.reasons],
            incidents=[ReportIncident.of(i) for i in t.incidents],
            mttr_seconds=t.mttr_seconds,
            durations=ReportDurations(
                count=d.count, p50_seconds=d.p50_seconds, p95_seconds=d.p95_seconds
            ),
            primary_metric=ReportMetric.of(t.metric) if t.metric else None,
            manual_interventions=ReportManual(
                stopped_by_hand=list(t.manual.stopped_by_hand),
                rerun_by_hand=list(t.manual.rerun_by_hand),
                total=t.manual.total,
            ),
            success_streak=ReportStreak(days=t.streak.days, latest_day=t.streak.latest_day),
            gpu_use=ReportGpuUse.of(t.gpu),
        )


class ReportDay(ApiModel):
    day: date
    completed: int
    failed: int
    stopped: int

    @classmethod
    def of(cls, d: DayOutcomes) -> ReportDay:
        return cls(day=d.day, completed=d.completed, failed=d.failed, stopped=d.stopped)


class ReportSummary(ApiModel):
    tasks: int
    outcomes: ReportOutcomes
    mttr_seconds: float | None = Field(description="Mean over every recovered incident.")
    incidents_recovered: int
    incidents_open: int
    stopped_by_hand: int
    rerun_by_hand: int
    manual_interventions: int
    days: list[ReportDay] = Field(description="Finished runs per UTC day, all tasks.")
    gpu_use: ReportGpuUse


class QualityReport(ApiModel):
    generated_at: datetime
    since: str
    window_start: datetime
    window_end: datetime
    task: str | None = Field(description="The task filter, if one was given.")
    summary: ReportSummary
    tasks: list[ReportTask]

    @classmethod
    def of(cls, r: Report) -> QualityReport:
        s = r.summary
        return cls(
            generated_at=r.generated_at,
            since=r.window.since,
            window_start=r.window.start,
            window_end=r.window.end,
            task=r.task_filter,
            summary=ReportSummary(
                tasks=s.tasks,
                outcomes=ReportOutcomes.of(s.outcomes),
                mttr_seconds=s.mttr_seconds,
                incidents_recovered=s.incidents_recovered,
                incidents_open=s.incidents_open,
                stopped_by_hand=s.stopped_by_hand,
                rerun_by_hand=s.rerun_by_hand,
                manual_interventions=s.manual_interventions,
                days=[ReportDay.of(d) for d in s.days],
                gpu_use=ReportGpuUse.of(s.gpu),
            ),
            tasks=[ReportTask.of(t) for t in r.tasks],
        )
