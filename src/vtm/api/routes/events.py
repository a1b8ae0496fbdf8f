"""Server-Sent Events: run created / updated / finished, pushed as they happen."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from vtm.api.deps import RuntimeDep
from vtm.runs.events import RESYNC, Event, Subscription

router = APIRouter(prefix="/api/events", tags=["events"])

HEARTBEAT_SECONDS = 15.0


def _wanted(event: Event, run_id: str | None) -> bool:
    if run_id is None or not event.type.startswith("run."):
        return True
    # The publisher serialised the record; its id is the first key. Cheap check first.
    return f'"id":"{run_id}"' in event.data


async def _next(sub: Subscription) -> Event | None:
    """The next event; None on a heartbeat timeout or when the server is closing."""
    get = asyncio.ensure_future(sub.queue.get())
    closing = asyncio.ensure_future(sub.closed.wait())
    try:
        done, _ = await asyncio.wait(
            {get, closing}, timeout=HEARTBEAT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        # Also when the client went away (Starlette cancels this coroutine): a helper task
        # left pending is later destroyed with an asyncio error dump in the server log.
        # A cancelled get leaves its event in the queue; nothing is lost.
        for helper in (get, closing):
            if not helper.done():
                helper.cancel()
    return get.result() if get in done else None


async def _stream(
    sub: Subscription,
    missed: list[Event] | None,
    run_id: str | None,
    boot: str,
    resumed: bool,
) -> AsyncIterator[bytes]:
    try:
        yield b"retry: 1000\n\n"
        # replayed: whether this stream carries on exactly where the client's last one
        # stopped; otherwise the client must refetch what it shows.
        hello = json.dumps({"boot": boot, "replayed": resumed and missed is not None})
        yield f"event: hello\ndata: {hello}\n\n".encode()
        if missed is None:
            yield f"event: {RESYNC}\ndata: {{}}\n\n".encode()
        for old in missed or []:
            if _wanted(old, run_id):
                yield old.encode()
        while True:
            if sub.overflowed:
                yield f"event: {RESYNC}\ndata: {{}}\n\n".encode()
                return
            new = await _next(sub)
            if sub.closed.is_set():
                return
            if new is None:
                yield b": keep-alive\n\n"
            elif _wanted(new, run_id):
                yield new.encode()
    finally:
        sub.close()


@router.get("", response_class=StreamingResponse)
async def events(
    runtime: RuntimeDep,
    run_id: Annotated[
        str | None, Query(alias="runId", description="Only this run's events")
    ] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """A `text/event-stream` of `run.created`, `run.updated`, `run.finished` (data: the
    RunRecord), `catalog.reloaded` and `gpus.updated` (data: what GET /api/gpus answers,
    when it changes, looked at every VTM_GPU_SAMPLE_SECONDS). Reconnect with `Last-Event-ID`
    to be replayed what was missed; a `resync` event means refetch state instead."""
    sub, missed = runtime.bus.subscribe(last_event_id)
    return StreamingResponse(
        _stream(sub, missed, run_id, runtime.bus.boot, resumed=bool(last_event_id)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
