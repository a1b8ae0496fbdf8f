"""Server-Sent Events parsing, and the stream's reconnect with Last-Event-ID."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from vtm_client import AsyncVtmClient, SseEvent, Unreachable, VtmClient
from vtm_client._sse import SseParser


def parse(text: str) -> list[SseEvent]:
    parser = SseParser()
    events = [parser.feed(line) for line in text.split("\n")]
    return [e for e in events if e is not None]


def test_events_end_at_a_blank_line_and_keep_their_id_type_and_data() -> None:
    events = parse(
        "retry: 1000\n\n"
        'event: hello\ndata: {"boot": "b"}\n\n'
        ": keep-alive\n\n"
        'id: b-1\nevent: run.updated\ndata: {"id": "r",\ndata:  "n": 1}\n\n'
        "data: no type\n\n"
    )
    assert events == [
        SseEvent(None, "hello", '{"boot": "b"}'),
        SseEvent("b-1", "run.updated", '{"id": "r",\n "n": 1}'),
        SseEvent("b-1", "message", "no type"),  # the last id stays until another comes
    ]
    assert events[1].json() == {"id": "r", "n": 1}


def test_an_event_without_data_is_no_event() -> None:
    assert parse("event: nothing\n\n") == []


def test_a_stream_that_ends_is_reconnected_from_the_last_event() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Last-Event-ID"))
        n = len(seen)
        body = f"id: b-{n}\nevent: run.updated\ndata: {{}}\n\n"
        return httpx.Response(200, text=body, headers={"Content-Type": "text/event-stream"})

    with VtmClient("http://vtm", transport=httpx.MockTransport(handler)) as client:
        stream = client.events(run_id="r")
        ids = [next(stream).id for _ in range(3)]
        stream.close()
    assert ids == ["b-1", "b-2", "b-3"]
    assert seen == [None, "b-1", "b-2"]


def test_a_lost_stream_says_disconnected_then_gives_up_after_the_window() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with VtmClient("http://vtm", transport=httpx.MockTransport(handler)) as client:
        stream = client.events(reconnect_seconds=0.6)
        kinds: list[str] = []

        def read() -> None:
            for event in stream:
                kinds.append(event.type)

        with pytest.raises(Unreachable, match="could not be reached"):
            read()
    assert kinds[0] == "disconnected" and set(kinds) == {"disconnected"}
    assert 2 <= len(kinds) <= 3  # one every 0.5 s


def test_the_async_stream_reads_the_same_events() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text='event: hello\ndata: {"boot": "b"}\n\n')

    async def first() -> SseEvent:
        async with AsyncVtmClient("http://vtm", transport=httpx.MockTransport(handler)) as client:
            stream = client.events()
            event = await stream.__anext__()
            await stream.aclose()
            return event

    assert asyncio.run(first()) == SseEvent(None, "hello", '{"boot": "b"}')
