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


async def _stream(
    sub: Subscription, missed: list[Event] | None, run_id: str | None, boot: str
) -> AsyncIterator[bytes]:
    try:
        yield b"retry: 1000\n\n"
        hello = json.dumps({"boot": boot, "replayed": missed is not None})
        yield f"event: hello\ndata: {hello}\n\n".encode()
        if missed is None:
            yield f"event: {RESYNC}\ndata: {{}}\n\n".encode()
        for event in missed or []:
            if _wanted(event, run_id):
                yield event.encode()
        while True:
            if sub.overflowed:
                yield f"event: {RESYNC}\ndata: {{}}\n\n".encode()
                return
            try:
                event = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if _wanted(event, run_id):
                yield event.encode()
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
    RunRecord) and `catalog.reloaded`. Reconnect with `Last-Event-ID` to be replayed what was
    missed; a `resync` event means refetch state instead."""
    sub, missed = runtime.bus.subscribe(last_event_id)
    return StreamingResponse(
        _stream(sub, missed, run_id, runtime.bus.boot),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
