"""External runs: `vtm exec` runs a trainer on its own machine and reports it here.

register (or, for a run a Ray cluster trains, claim) → output (repeated; also the heartbeat)
→ finish. See ``vtm.runs.external``. ``router`` takes VTM_TOKEN like the rest of the API;
``reports`` checks its own credentials: output and finish take VTM_TOKEN or the run's own
token, the claim the run's one-time ticket (a Ray node has no VTM_TOKEN).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from vtm.api.deps import RecordDep, RuntimeDep, require_run_reporter
from vtm.api.external_schemas import (
    ClaimClusterRun,
    ClusterRunClaimed,
    ExternalRunAccepted,
    FinishExternalRun,
    OutputAccepted,
    RegisterExternalRun,
)
from vtm.api.schemas import ErrorBody, RunRecord
from vtm.runs.external import ExternalRuns
from vtm.states import RunStatus

# One post carries at most this much output; `vtm exec` sends 1 MiB at a time.
MAX_CHUNK_BYTES = 8 << 20

router = APIRouter(prefix="/api/runs", tags=["external runs"])
reports = APIRouter(prefix="/api/runs", tags=["external runs"])
REPORTER = [Depends(require_run_reporter)]


async def get_external(runtime: RuntimeDep) -> ExternalRuns:
    return runtime.external


ExternalDep = Annotated[ExternalRuns, Depends(get_external)]

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Unknown run"},
    409: {"model": ErrorBody, "description": "The run has ended, or is not an external run"},
    422: {"model": ErrorBody, "description": "Invalid request, one message per field"},
}


@router.post("/external", status_code=201, responses=ERRORS)
def register_external_run(
    body: RegisterExternalRun, external: ExternalDep, record: RecordDep, response: Response
) -> ExternalRunAccepted:
    """Record a run `vtm exec` starts on its own machine; it is `running` from now on.
    Registering the same id again returns the run (200)."""
    run, created = external.register(body.to_external())
    if not created:
        response.status_code = 200
    return ExternalRunAccepted(
        run=record(run),
        heartbeat_seconds=external.heartbeat_seconds,
        heartbeat_timeout_seconds=external.timeout,
    )


@reports.post(
    "/{run_id}/claim",
    responses={**ERRORS, 403: {"model": ErrorBody, "description": "Not this run's ticket"}},
)
def claim_cluster_run(
    run_id: str, body: ClaimClusterRun, external: ExternalDep, record: RecordDep
) -> ClusterRunClaimed:
    """A Ray job's `vtm exec` takes up the run it was submitted for: its one-time ticket is
    traded for the run's own token (a second claim is refused, so a ticket read off the
    cluster's API is worth nothing once the job has started)."""
    run, token = external.claim(run_id, body.to_claim())
    return ClusterRunClaimed(
        run=record(run),
        token=token,
        heartbeat_seconds=external.heartbeat_seconds,
        heartbeat_timeout_seconds=external.timeout,
    )


FORBIDDEN: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorBody, "description": "A token that is not this run's"}
}


@reports.post(
    "/{run_id}/output",
    responses={**ERRORS, **FORBIDDEN, 413: {"model": ErrorBody, "description": "Chunk too large"}},
    dependencies=REPORTER,
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def append_external_output(
    run_id: str,
    request: Request,
    external: ExternalDep,
    offset: Annotated[int, Query(ge=0, description="Where in the run's output the body starts")],
) -> OutputAccepted:
    """Raw output bytes of the run from byte `offset` on; bytes the server holds already are
    skipped. An empty body is a heartbeat. The answer's `received` is where to go on from."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_CHUNK_BYTES:
        raise HTTPException(413, f"at most {MAX_CHUNK_BYTES} bytes per post")
    data = await request.body()
    if len(data) > MAX_CHUNK_BYTES:
        raise HTTPException(413, f"at most {MAX_CHUNK_BYTES} bytes per post")
    ack = await run_in_threadpool(external.append, run_id, offset, data)
    return OutputAccepted(
        received=ack.received, status=ack.run.status, stop_requested=ack.run.stop_requested
    )


@reports.post("/{run_id}/finish", responses={**ERRORS, **FORBIDDEN}, dependencies=REPORTER)
def finish_external_run(
    run_id: str, body: FinishExternalRun, external: ExternalDep, record: RecordDep
) -> RunRecord:
    """The run ended with this outcome; every output byte (`size`) must have been posted."""
    run = external.finish(run_id, RunStatus(body.status), body.exit_code, body.error, body.size)
    return record(run)
