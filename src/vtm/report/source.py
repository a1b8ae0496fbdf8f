"""Reading what the report needs from VTM's store and catalog, then computing it.

The one place the report touches I/O: the runs created in the window (paged through the
repository), each run's last point of its task's primary metric (one query per metric name),
and the catalog's tasks. Everything after that is `stats`, which is pure.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vtm.catalog import Catalog, parse_duration
from vtm.errors import FieldError, InvalidRequest, NotFound
from vtm.report.model import Report, ReportRun, TaskInfo, Window
from vtm.report.stats import build_report
from vtm.store import RunData, RunRepository

DEFAULT_SINCE = "7d"
PAGE = 500


def window_for(since: str, now: datetime | None = None) -> Window:
    """The window ending ``now`` and reaching back ``since`` ("7d", "12h", "90m", seconds).

    A bad duration is an InvalidRequest naming the ``since`` parameter (422 at the API).
    """
    try:
        seconds = parse_duration(since.strip())
    except ValueError as exc:
        raise InvalidRequest([FieldError("since", str(exc))]) from exc
    end = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        start = end - timedelta(seconds=seconds)
    except OverflowError as exc:  # "99999999d" reaches before year 1
        raise InvalidRequest([FieldError("since", f"{since!r} reaches too far back")]) from exc
    return Window(start=start, end=end, since=since.strip())


def task_infos(catalog: Catalog | None) -> list[TaskInfo]:
    if catalog is None:  # never loaded: tasks come from the runs alone, without metrics
        return []
    infos = []
    for task_id, task in catalog.tasks.items():
        metric = catalog.primary_metric(task_id)
        infos.append(
            TaskInfo(
                task_id=task_id,
                title=task.title,
                metric_name=metric.name if metric else None,
                metric_goal=metric.goal if metric else "max",
            )
        )
    return infos


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def runs_in(repo: RunRepository, window: Window, task_id: str | None) -> list[RunData]:
    """Every run created in the window (of ``task_id`` when given), newest first."""
    found: list[RunData] = []
    cursor: int | None = None
    while True:
        page, cursor = repo.page(
            task_id=task_id,
            limit=PAGE,
            before_seq=cursor,
            created_after=window.start,
            created_before=window.end,
        )
        found.extend(page)
        if cursor is None:
            return found


def report_runs(
    repo: RunRepository, runs: list[RunData], infos: dict[str, TaskInfo]
) -> list[ReportRun]:
    wanted = {
        r.id: info.metric_name
        for r in runs
        if (info := infos.get(r.task_id)) is not None and info.metric_name is not None
    }
    values = repo.last_metric_values(wanted) if wanted else {}
    return [
        ReportRun(
            id=r.id,
            seq=r.seq,
            task_id=r.task_id,
            status=r.status,
            fields=r.fields,
            created_at=r.created_at.astimezone(UTC),
            started_at=_utc(r.started_at),
            finished_at=_utc(r.finished_at),
            exit_code=r.exit_code,
            error=r.error,
            stop_requested=r.stop_requested,
            metric=values.get(r.id),
            gpus=len(r.gpus),
            energy_wh=r.energy_wh,
        )
        for r in runs
    ]


def make_report(
    repo: RunRepository,
    catalog: Catalog | None,
    *,
    since: str = DEFAULT_SINCE,
    task: str | None = None,
    now: datetime | None = None,
    gpu_hour_cost: float | None = None,
) -> Report:
    """The quality report over the runs created in the last ``since`` (of ``task`` only, when
    given). A task that is neither in the catalog nor has any run is NotFound; a known task
    without runs in the window is reported with zero runs."""
    window = window_for(since, now)
    infos = {i.task_id: i for i in task_infos(catalog)}
    if task is not None:
        task = task.strip()
        if task not in infos and not repo.page(task_id=task, limit=1)[0]:
            raise NotFound(f"unknown task {task!r}: not in the catalog and no runs recorded")
        infos = {task: infos.get(task) or TaskInfo(task, None, None, in_catalog=False)}
    runs = report_runs(repo, runs_in(repo, window, task), infos)
    return build_report(
        list(infos.values()), runs, window, task_filter=task, gpu_hour_cost=gpu_hour_cost
    )
