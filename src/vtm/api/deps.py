"""FastAPI dependencies: the server's runtime pieces and the token check."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from vtm.api.runtime import Runtime
from vtm.api.schemas import RunRecord
from vtm.catalog import CatalogHolder
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


async def require_token(request: Request, runtime: RuntimeDep) -> None:
    """With VTM_TOKEN set, every API call must carry it (EventSource: ?token=)."""
    token = runtime.settings.token
    if token is None:
        return
    header = request.headers.get("authorization", "")
    given = (
        header[7:]
        if header.lower().startswith("bearer ")
        else request.query_params.get("token", "")
    )
    if not secrets.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise HTTPException(
            401, "a valid token is required", headers={"WWW-Authenticate": "Bearer"}
        )
