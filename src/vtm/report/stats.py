"""The quality report's numbers, computed from run records alone (no I/O, no clock).

Definitions (README "Quality report" repeats them for users):

- Window: runs *created* in [start, end). Nothing outside it is seen: a failure before the
  window whose recovery falls inside it does not make an incident.
- Success rate: completed / (completed + failed). Stopped runs are a person's decision, not an
  outcome of the training, so they count as manual interventions instead; queued and running
  runs have no outcome yet and are shown as "in progress".
- Incident and MTTR: a task's completed and failed runs in order of finish. An incident starts
  at the finish of a failed run that follows a completed run (or is the task's first outcome in
  the window) and ends at the finish of the next completed run. MTTR is the mean duration of the
  incidents that ended; an incident with no recovery yet is listed as open, never averaged.
- Durations: started → finished of every finished run that started (completed, failed and
  stopped); p50 and p95 by linear interpolation between closest ranks (Hyndman & Fan type 7,
  numpy's default): rank = p * (n - 1).
- Primary metric: a run's value is its last reported point of the task's primary metric. Best
  and latest (by finish) are taken over completed runs only: a failed run left no model.
- Manual interventions: runs a person asked to stop, plus runs a person started again by hand,
  i.e. a run whose predecessor of the same task (by creation) had failed or been stopped, had
  finished before it was created, and had the same fields.
- Nightly success streak: count back over UTC days from the latest day on which the task had a
  finished run; each day counts while the last run to finish that day completed. A day with no
  finished run, or whose last run failed or was stopped, ends the streak.
- GPU use: GPU-hours are GPUs held times hours held, from start to finish (to the window's end for
  a run still going); energy sums the runs whose GPUs' NVML counters told (how many is shown);
  cost is GPU-hours times VTM_GPU_HOUR_COST, when that rate is set.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from vtm.gpus.usage import gpu_hours
from vtm.report.model import (
    ORIGIN_PERSON,
    DayOutcomes,
    Durations,
    Failure,
    FailureKind,
    GpuUse,
    Incident,
    ManualInterventions,
    MetricPointRef,
    MetricSummary,
    Outcomes,
    ReasonCount,
    Report,
    ReportRun,
    Streak,
    Summary,
    TaskInfo,
    TaskReport,
    Window,
)
from vtm.states import RunStatus

FINISHED = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.STOPPED)


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th quantile (0 ≤ p ≤ 1), linear between closest ranks; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = p * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _by_finish(runs: Iterable[ReportRun]) -> list[ReportRun]:
    finished = [r for r in runs if r.status in FINISHED and r.finished_at is not None]
    return sorted(finished, key=lambda r: (r.finished_at, r.seq))


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of ``moment`` (PostgreSQL hands times back in its session's zone)."""
    return moment.astimezone(UTC).date()


def _by_creation(runs: Iterable[ReportRun]) -> list[ReportRun]:
    return sorted(runs, key=lambda r: (r.created_at, r.seq))


def outcomes(runs: Sequence[ReportRun]) -> Outcomes:
    count = Counter(r.status for r in runs)
    return Outcomes(
        runs=len(runs),
        completed=count[RunStatus.COMPLETED],
        failed=count[RunStatus.FAILED],
        stopped=count[RunStatus.STOPPED],
        in_progress=count[RunStatus.QUEUED] + count[RunStatus.RUNNING],
    )


# A cause read from the trainer's output leads the supervisor's words (runs/failure.py):
# "ValueError: bad batch (exited with code 1)".
_ENDED_BY = re.compile(r"(?:^|\()(exited with code|killed by signal) [^()]*\)?$")


def failure_kind(error: str | None, exit_code: int | None) -> FailureKind:
    """Sort a failure by the reason VTM recorded for it.

    The texts come from the supervisor (`supervisor/program_watch.describe` and its timeout,
    led by the cause its output showed: `runs/failure.py`),
    the run monitor (a lost supervisor) and the run service (a launch that failed).
    """
    text = (error or "").lower()
    if text.startswith("timed out"):
        return "timeout"
    ended = _ENDED_BY.search(text)
    if ended is not None and ended.group(1) == "killed by signal":
        return "signal"
    if ended is not None or (not text and exit_code not in (None, 0)):
        return "exit_code"
    if "supervisor process died" in text:
        return "supervisor_lost"
    if (
        text.startswith("could not launch")
        or "supervisor exited" in text
        or "did not start" in text
    ):
        return "launch"
    return "other"


def failure_reason(run: ReportRun) -> str:
    if run.error:
        return run.error
    if run.exit_code is not None:
        return f"exited with code {run.exit_code}"
    return "no reason recorded"


def failures(runs: Sequence[ReportRun]) -> tuple[Failure, ...]:
    failed = [r for r in runs if r.status is RunStatus.FAILED]
    failed.sort(key=lambda r: (r.finished_at or r.created_at, r.seq), reverse=True)
    return tuple(
        Failure(
            run_id=r.id,
            created_at=r.created_at,
            finished_at=r.finished_at,
            exit_code=r.exit_code,
            kind=failure_kind(r.error, r.exit_code),
            reason=failure_reason(r),
        )
        for r in failed
    )


def reason_counts(found: Sequence[Failure]) -> tuple[ReasonCount, ...]:
    count = Counter((f.kind, f.reason) for f in found)
    ordered = sorted(count.items(), key=lambda item: (-item[1], item[0]))
    return tuple(ReasonCount(kind, reason, n) for (kind, reason), n in ordered)


def incidents(runs: Sequence[ReportRun], end: datetime) -> tuple[Incident, ...]:
    """One task's incidents in order; ``end`` (the window's end) ages an open incident."""
    found: list[Incident] = []
    start: ReportRun | None = None
    failed = 0
    for run in _by_finish(r for r in runs if r.status is not RunStatus.STOPPED):
        assert run.finished_at is not None
        if run.status is RunStatus.FAILED:
            if start is None:
                start, failed = run, 0
            failed += 1
        elif start is not None:
            assert start.finished_at is not None
            found.append(
                Incident(
                    started_at=start.finished_at,
                    first_failed_run_id=start.id,
                    failed_runs=failed,
                    ended_at=run.finished_at,
                    recovered_by_run_id=run.id,
                    duration_seconds=(run.finished_at - start.finished_at).total_seconds(),
                    open_for_seconds=None,
                )
            )
            start = None
    if start is not None:
        assert start.finished_at is not None
        found.append(
            Incident(
                started_at=start.finished_at,
                first_failed_run_id=start.id,
                failed_runs=failed,
                ended_at=None,
                recovered_by_run_id=None,
                duration_seconds=None,
                open_for_seconds=max(0.0, (end - start.finished_at).total_seconds()),
            )
        )
    return tuple(found)


def mean_recovery(found: Iterable[Incident]) -> float | None:
    durations = [i.duration_seconds for i in found if i.duration_seconds is not None]
    return sum(durations) / len(durations) if durations else None


def durations(runs: Sequence[ReportRun]) -> Durations:
    seconds = [
        (r.finished_at - r.started_at).total_seconds()
        for r in runs
        if r.status in FINISHED and r.started_at is not None and r.finished_at is not None
    ]
    return Durations(len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.95))


def metric_summary(info: TaskInfo, runs: Sequence[ReportRun]) -> MetricSummary | None:
    if info.metric_name is None:
        return None
    trend = tuple(
        MetricPointRef(r.id, r.finished_at, r.metric)
        for r in _by_finish(runs)
        if r.status is RunStatus.COMPLETED and r.metric is not None and r.finished_at is not None
    )
    best: MetricPointRef | None = None
    for point in trend:  # ties keep the earlier run: it reached the value first
        if best is None or (
            point.value > best.value if info.metric_goal == "max" else point.value < best.value
        ):
            best = point
    return MetricSummary(
        name=info.metric_name,
        goal=info.metric_goal,
        best=best,
        latest=trend[-1] if trend else None,
        trend=trend,
    )


def manual_interventions(runs: Sequence[ReportRun]) -> ManualInterventions:
    """One task's runs stopped by a person and runs a person started again by hand."""
    # Only a person's stop sets stop_requested (POST /api/runs/{id}/stop); a timeout fails the
    # run without it.
    stopped = tuple(r.id for r in _by_creation(runs) if r.stop_requested)
    reruns: list[str] = []
    ordered = _by_creation(runs)
    for previous, run in pairwise(ordered):
        if (
            run.origin == ORIGIN_PERSON
            and previous.status in (RunStatus.FAILED, RunStatus.STOPPED)
            and previous.finished_at is not None
            and previous.finished_at <= run.created_at
            and dict(previous.fields) == dict(run.fields)
        ):
            reruns.append(run.id)
    return ManualInterventions(stopped, tuple(reruns))


def success_streak(runs: Sequence[ReportRun]) -> Streak:
    last_of_day: dict[date, ReportRun] = {}
    for run in _by_finish(runs):  # later finishes overwrite earlier ones of the same day
        assert run.finished_at is not None
        last_of_day[utc_day(run.finished_at)] = run
    if not last_of_day:
        return Streak(0, None)
    latest = max(last_of_day)
    day, days = latest, 0
    while day in last_of_day and last_of_day[day].status is RunStatus.COMPLETED:
        days += 1
        day -= timedelta(days=1)
    return Streak(days, latest)


def gpu_use(runs: Sequence[ReportRun], end: datetime, rate: float | None) -> GpuUse:
    """GPU-hours, energy and cost of ``runs`` (a run still going counts up to ``end``)."""
    holding = [r for r in runs if r.gpus and r.started_at is not None]
    hours = sum(gpu_hours(r.gpus, r.started_at, r.finished_at, end) for r in holding)
    measured = [r.energy_wh for r in holding if r.energy_wh is not None]
    return GpuUse(
        gpu_hours=hours,
        gpu_runs=len(holding),
        energy_wh=sum(measured) if measured else None,
        measured_runs=len(measured),
        cost=hours * rate if rate is not None else None,
    )


def task_report(
    info: TaskInfo, runs: Sequence[ReportRun], end: datetime, rate: float | None = None
) -> TaskReport:
    """``rate``: what a GPU-hour costs (VTM_GPU_HOUR_COST), if set."""
    found = failures(runs)
    found_incidents = incidents(runs, end)
    return TaskReport(
        info=info,
        outcomes=outcomes(runs),
        failures=found,
        reasons=reason_counts(found),
        incidents=found_incidents,
        mttr_seconds=mean_recovery(found_incidents),
        durations=durations(runs),
        metric=metric_summary(info, runs),
        manual=manual_interventions(runs),
        streak=success_streak(runs),
        gpu=gpu_use(runs, end, rate),
    )


def daily_outcomes(runs: Iterable[ReportRun], window: Window) -> tuple[DayOutcomes, ...]:
    """Finished runs per UTC day, every day of the window (empty days included)."""
    count: dict[date, Counter[RunStatus]] = defaultdict(Counter)
    for run in runs:
        if run.status in FINISHED and run.finished_at is not None:
            count[utc_day(run.finished_at)][run.status] += 1
    first = utc_day(window.start)
    last = max([utc_day(window.end), *count])
    days: list[DayOutcomes] = []
    day = first
    while day <= last:
        c = count.get(day, Counter())
        days.append(
            DayOutcomes(day, c[RunStatus.COMPLETED], c[RunStatus.FAILED], c[RunStatus.STOPPED])
        )
        day += timedelta(days=1)
    return tuple(days)


def build_report(
    tasks: Sequence[TaskInfo],
    runs: Sequence[ReportRun],
    window: Window,
    task_filter: str | None = None,
    gpu_hour_cost: float | None = None,
) -> Report:
    """The whole report: one TaskReport per task in ``tasks`` (plus any task that has runs but
    is not listed, e.g. one removed from the catalog), and the summary over all of them."""
    by_task: dict[str, list[ReportRun]] = defaultdict(list)
    for run in runs:
        by_task[run.task_id].append(run)
    infos = {t.task_id: t for t in tasks}
    for task_id in by_task:
        infos.setdefault(task_id, TaskInfo(task_id, None, None, in_catalog=False))
    reports = tuple(
        task_report(infos[task_id], by_task.get(task_id, []), window.end, gpu_hour_cost)
        for task_id in sorted(infos)
    )
    every_incident = [i for t in reports for i in t.incidents]
    summary = Summary(
        tasks=len(reports),
        outcomes=outcomes(runs),
        mttr_seconds=mean_recovery(every_incident),
        incidents_recovered=sum(1 for i in every_incident if not i.is_open),
        incidents_open=sum(1 for i in every_incident if i.is_open),
        stopped_by_hand=sum(len(t.manual.stopped_by_hand) for t in reports),
        rerun_by_hand=sum(len(t.manual.rerun_by_hand) for t in reports),
        days=daily_outcomes(runs, window),
        gpu=gpu_use(runs, window.end, gpu_hour_cost),
    )
    return Report(
        generated_at=window.end,
        window=window,
        task_filter=task_filter,
        summary=summary,
        tasks=reports,
    )
