"""FastAPI dependencies: the server's runtime pieces and the token check."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from vtm.api.runtime import Runtime
from vtm.api.schemas import RunRecord
from vtm.catalog import CatalogHolder
from vtm.runs.credentials import matches
from vtm.runs.service import RunService
from vtm.store import RunData


# Dependencies are async: a sync one costs a thread-pool round trip on every request.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_service(runtime: RuntimeDep) -> RunService:
    return runtime.service


async def get_catalog(runtime: RuntimeDep) -> CatalogHolder:
    return runtime.catalog


async def get_record(runtime: RuntimeDep) -> Callable[[RunData], RunRecord]:
    return runtime.record


ServiceDep = Annotated[RunService, Depends(get_service)]
# Makes a run's API record: with its place in the queue and its cost.
RecordDep = Annotated[Callable[[RunData], RunRecord], Depends(get_record)]
CatalogDep = Annotated[CatalogHolder, Depends(get_catalog)]


def bearer_of(request: Request) -> str:
    """The token a request carries: ``Authorization: Bearer``, else ``?token=`` (EventSource
    cannot set headers)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:]
    return request.query_params.get("token", "")


def _is_admin(given: str, runtime: Runtime) -> bool:
    token = runtime.settings.token
    return token is not None and secrets.compare_digest(
        given.encode(), token.get_secret_value().encode()
    )


def _unauthorized() -> HTTPException:
    return HTTPException(401, "a valid token is required", headers={"WWW-Authenticate": "Bearer"})


async def require_token(request: Request, runtime: RuntimeDep) -> None:
    """With VTM_TOKEN set, every API call must carry it (EventSource: ?token=)."""
    if runtime.settings.token is not None and not _is_admin(bearer_of(request), runtime):
        raise _unauthorized()


async def require_run_reporter(run_id: str, request: Request, runtime: RuntimeDep) -> None:
    """A run's output and finish: VTM_TOKEN, or the run's own token. A run that has one (a
    cluster run) takes nothing else, even from a server without VTM_TOKEN, so one run's
    `vtm exec` can never write into another run."""
    given = bearer_of(request)
    if _is_admin(given, runtime):
        return
    own = await run_in_threadpool(runtime.external.token_digest, run_id)
    if own is not None:
        if matches(given, own):
            return
        raise HTTPException(403, f"this token does not report for run {run_id}")
    if runtime.settings.token is not None:
        raise _unauthorized()
