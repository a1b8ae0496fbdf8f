"""The retry rules and the error tree, over httpx's MockTransport (no server): what is sent
again, what is never sent twice, and what each failure is raised as.

VTM's own suite checks the same rules against a real `vtm serve` (tests/test_client.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from vtm_client import ApiError, AsyncVtmClient, Unreachable, VtmClient

Handler = Callable[[httpx.Request], httpx.Response]
RUN = {"id": "20260101-000000-abcdef", "status": "running"}


class Peer:
    """Answers each request with the next of ``script``: a status (with VTM's error body, or
    the run), or an exception class raised as the transport's."""

    def __init__(self, *script: int | type[httpx.TransportError]) -> None:
        self.script = list(script)
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.raw_path.decode().split('?')[0]}")
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, type):
            raise step("scripted failure", request=request)
        if step >= 400:
            body = {"error": {"code": "scripted", "message": f"status {step}", "fields": []}}
            return httpx.Response(step, json=body)
        return httpx.Response(step, json=RUN)

    def client(self, retry_seconds: float) -> VtmClient:
        transport = httpx.MockTransport(self)
        return VtmClient("http://vtm:8000", retry_seconds=retry_seconds, transport=transport)


def test_a_refused_connection_is_retried_even_for_a_start() -> None:
    peer = Peer(httpx.ConnectError, httpx.ConnectError, 201)
    with peer.client(retry_seconds=10) as client:
        assert client.start_run("task", {"epochs": 1}) == RUN
    assert peer.requests == ["POST /api/runs/start"] * 3


def test_a_lost_answer_is_asked_again_but_a_start_is_never_resent() -> None:
    peer = Peer(httpx.RemoteProtocolError, 200)
    with peer.client(retry_seconds=10) as client:
        assert client.get_run(RUN["id"]) == RUN
        assert len(peer.requests) == 2

        peer.script, peer.requests = [httpx.ReadTimeout, 201], []
        with pytest.raises(Unreachable, match="it may have been carried out") as lost:
            client.start_run("task")
    assert peer.requests == ["POST /api/runs/start"]
    assert lost.value.url == "http://vtm:8000"
    assert lost.value.reason == "scripted failure"


def test_a_5xx_is_retried_for_idempotent_calls_only() -> None:
    peer = Peer(503, 502, 200)
    with peer.client(retry_seconds=10) as client:
        assert client.stop_run(RUN["id"]) == RUN
        assert len(peer.requests) == 3

        peer.script, peer.requests = [503, 201], []
        with pytest.raises(ApiError) as refused:
            client.start_run("task")
    assert refused.value.status == 503
    assert len(peer.requests) == 1


def test_a_4xx_is_raised_at_once_with_vtms_error() -> None:
    peer = Peer(422)
    began = time.monotonic()
    with peer.client(retry_seconds=30) as client, pytest.raises(ApiError) as invalid:
        client.get_run("nope")
    assert time.monotonic() - began < 5
    assert len(peer.requests) == 1
    error = invalid.value
    assert (error.status, error.code, error.message) == (422, "scripted", "status 422")
    assert str(error) == "VTM GET /api/runs/nope answered 422: status 422"


def test_the_window_ends_the_retries() -> None:
    peer = Peer(httpx.ConnectError)
    began = time.monotonic()
    with peer.client(retry_seconds=1.2) as client, pytest.raises(Unreachable) as gone:
        client.health()
    assert 1.2 <= time.monotonic() - began < 5
    assert 3 <= len(peer.requests) <= 5  # pauses of 0.25, 0.5, then what is left
    assert str(gone.value) == (
        "VTM at http://vtm:8000 could not be reached (GET /api/health): scripted failure"
    )


def test_no_window_means_one_try() -> None:
    peer = Peer(httpx.ConnectError, 200)
    with peer.client(retry_seconds=0) as client, pytest.raises(Unreachable):
        client.health()
    assert len(peer.requests) == 1


def test_a_body_that_is_not_vtms_is_still_an_api_error() -> None:
    def proxy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    with (
        VtmClient("http://vtm", transport=httpx.MockTransport(proxy)) as client,
        pytest.raises(ApiError) as bad,
    ):
        client.catalog()
    assert (bad.value.status, bad.value.code, bad.value.fields) == (502, None, [])
    assert bad.value.message == "<html>Bad Gateway</html>"


def test_a_path_parameter_cannot_add_a_segment() -> None:
    peer = Peer(200)
    with peer.client(retry_seconds=0) as client:
        client.get_run("../catalog")
    request = peer.requests[0]
    assert request == "GET /api/runs/..%2Fcatalog"


def test_the_async_client_follows_the_same_rules() -> None:
    peer = Peer(httpx.ConnectError, 503, 200)

    async def calls() -> None:
        transport = httpx.MockTransport(peer)
        async with AsyncVtmClient("http://vtm", retry_seconds=10, transport=transport) as client:
            assert await client.get_run(RUN["id"]) == RUN
            peer.script = [httpx.ReadError, 201]
            with pytest.raises(Unreachable):
                await client.start_run("task")

    asyncio.run(calls())
    assert peer.requests == [f"GET /api/runs/{RUN['id']}"] * 3 + ["POST /api/runs/start"]
