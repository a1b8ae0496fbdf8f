"""Liveness for people, load balancers and the CLI."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from vtm import __version__
from vtm.api.deps import RuntimeDep
from vtm.api.schemas import Health

router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("")
def health(runtime: RuntimeDep) -> Health:
    with runtime.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return Health(
        status="ok",
        version=__version__,
        database=runtime.engine.dialect.name,
        catalog="error" if runtime.catalog.error else "ok",
        active_runs=runtime.service.active_count(),
    )
