"""The server's GPUs: what each is, how busy, and which run holds it."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from vtm.api.deps import RuntimeDep
from vtm.api.schemas import GpusResponse

router = APIRouter(prefix="/api/gpus", tags=["gpus"])


@router.get("")
async def list_gpus(runtime: RuntimeDep) -> GpusResponse:
    """Every GPU VTM may hand out, read through NVML now (where there is NVML)."""
    return await run_in_threadpool(runtime.gpus)
