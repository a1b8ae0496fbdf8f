"""Runs: start, list, inspect, stop, read logs and metrics."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from vtm.api.deps import RecordDep, ServiceDep
from vtm.api.mlflow_schemas import ArtifactEntry, ArtifactListing
from vtm.api.schemas import (
    ErrorBody,
    LogPage,
    MetricPointOut,
    MetricsResponse,
    RunChange,
    RunPage,
    RunRecord,
    StartRunRequest,
)
from vtm.errors import FieldError, InvalidRequest
from vtm.runs.logs import read_log_page
from vtm.runs.workfiles import list_folder, work_file
from vtm.states import RunStatus
from vtm.supervisor import RunDir

router = APIRouter(prefix="/api/runs", tags=["runs"])
# What the start of a run id (see vtm.runs.ids) can hold.
ID_PREFIX = re.compile(r"^[0-9a-f-]+$")

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Unknown task or run"},
    422: {"model": ErrorBody, "description": "Invalid values, one message per field"},
}
CONFLICT: dict[str, object] = {"model": ErrorBody, "description": "The run is no longer queued"}


@router.post("/start", status_code=201, responses=ERRORS)
def start_run(body: StartRunRequest, service: ServiceDep, record: RecordDep) -> RunRecord:
    """Validate the fields against the catalog and start (or queue) a run."""
    clash = sorted(set(body.fields) & set(body.extra_fields))
    if clash:
        raise InvalidRequest(
            [FieldError(name, "given in both fields and extraFields") for name in clash]
        )
    origin = None
    if body.airflow is not None:
        origin = {"kind": "airflow", "airflow": body.airflow.model_dump(by_alias=True)}
    run = service.start(
        body.task_id,
        {**body.fields, **body.extra_fields},
        origin,
        priority=body.priority,
        executor=body.executor,
    )
    return record(run)


def _statuses(values: list[str]) -> list[RunStatus]:
    names = [v.strip() for value in values for v in value.split(",") if v.strip()]
    valid = {s.value for s in RunStatus}
    bad = [n for n in names if n not in valid]
    if bad:
        raise InvalidRequest(
            [
                FieldError("status", f"unknown status {b!r}; one of {', '.join(sorted(valid))}")
                for b in bad
            ]
        )
    return [RunStatus(n) for n in names]


@router.get("", responses=ERRORS)
def list_runs(
    service: ServiceDep,
    record: RecordDep,
    status: Annotated[list[str], Query(description="Filter: one or more statuses")] = [],  # noqa: B006
    task_id: Annotated[str | None, Query(alias="taskId")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
    created_after: Annotated[
        datetime | None, Query(alias="createdAfter", description="Only runs created at or after")
    ] = None,
    created_before: Annotated[
        datetime | None, Query(alias="createdBefore", description="Only runs created before")
    ] = None,
    id_prefix: Annotated[
        str | None,
        Query(
            alias="idPrefix",
            max_length=22,
            description="Only runs whose id starts with this (e.g. `20261202-015825`): how "
            "the CLI resolves a shortened run id",
        ),
    ] = None,
) -> RunPage:
    """Runs, newest first, a page at a time."""
    if id_prefix is not None and not ID_PREFIX.match(id_prefix):
        raise InvalidRequest(
            [FieldError("idPrefix", f"{id_prefix!r} cannot begin a run id (digits, a-f and -)")]
        )
    before: int | None = None
    if cursor:
        if not cursor.isdigit():
            raise InvalidRequest([FieldError("cursor", "not a cursor this server returned")])
        before = int(cursor)
    runs, next_seq = service.repo.page(
        statuses=_statuses(status),
        task_id=task_id,
        limit=limit,
        before_seq=before,
        created_after=_utc(created_after),
        created_before=_utc(created_before),
        id_prefix=id_prefix,
    )
    return RunPage(
        runs=[record(r) for r in runs],
        next_cursor=str(next_seq) if next_seq is not None else None,
    )


def _utc(value: datetime | None) -> datetime | None:
    # A date without a zone is taken as UTC, which is how every run time is stored.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@router.get("/{run_id}", responses=ERRORS)
def get_run(run_id: str, service: ServiceDep, record: RecordDep) -> RunRecord:
    return record(service.get(run_id))


@router.patch("/{run_id}", responses={**ERRORS, 409: CONFLICT})
def change_run(run_id: str, body: RunChange, service: ServiceDep, record: RecordDep) -> RunRecord:
    """Change a queued run's priority: it moves in the queue at once."""
    return record(service.set_priority(run_id, body.priority))


@router.post("/{run_id}/stop", responses=ERRORS)
async def stop_run(run_id: str, service: ServiceDep, record: RecordDep) -> RunRecord:
    """Stop a run: SIGTERM to its process group, SIGKILL after the grace period. Idempotent.
    A queued run is cancelled."""
    return record(await run_in_threadpool(service.stop, run_id))


@router.get("/{run_id}/logs", responses=ERRORS)
def get_logs(
    run_id: str,
    service: ServiceDep,
    offset: Annotated[int, Query(ge=0, description="Byte offset to read from")] = 0,
    limit: Annotated[int, Query(ge=1, le=4 << 20, description="Most bytes to return")] = 256 << 10,
) -> LogPage:
    """The run's full output, a page at a time; pages end at line boundaries when they can."""
    run = service.get(run_id)
    page = read_log_page(service.settings.runs_dir / run.id / "output.log", offset, limit)
    return LogPage(
        run_id=run.id,
        offset=offset,
        next_offset=page.next_offset,
        size=page.size,
        text=page.text,
        complete=run.status.is_terminal and page.next_offset >= page.size,
    )


@router.get("/{run_id}/metrics", responses=ERRORS)
def get_metrics(run_id: str, service: ServiceDep) -> MetricsResponse:
    """Every metric the trainer reported, as a time series per name."""
    run = service.get(run_id)
    series = service.repo.metrics(run.id)
    return MetricsResponse(
        run_id=run.id,
        series={
            name: [MetricPointOut(step=p.step, value=p.value, time=p.recorded_at) for p in points]
            for name, points in series.items()
        },
    )


WorkPath = Annotated[
    str, Query(description="Relative path inside the run's work folder; '' is the folder. No '..'.")
]


def _work_dir(service: ServiceDep, run_id: str) -> RunDir:
    return RunDir(service.settings.runs_dir / service.get(run_id).id)


@router.get("/{run_id}/files", responses=ERRORS)
def list_work_files(run_id: str, service: ServiceDep, path: WorkPath = "") -> ArtifactListing:
    """One folder of what the trainer wrote in its work folder (``runner.workdir: run``)."""
    folder, entries = list_folder(_work_dir(service, run_id).work_dir, path)
    return ArtifactListing(
        path=folder,
        entries=[
            ArtifactEntry(path=e.path, name=e.name, is_dir=e.is_dir, size=e.size) for e in entries
        ],
    )


@router.get("/{run_id}/files/download", response_class=FileResponse, responses=ERRORS)
def download_work_file(run_id: str, service: ServiceDep, path: WorkPath) -> FileResponse:
    """One file of the run's work folder, as an attachment."""
    found = work_file(_work_dir(service, run_id).work_dir, path)
    # Never shown inline: a page the trainer wrote must not run as VTM's own.
    return FileResponse(found, filename=found.name, media_type="application/octet-stream")
