"""The hook's HTTP rules against a real VTM, and against a peer that drops every request:
4xx at once, connection errors retried for the window, a run start never sent twice."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from vtm_client import ApiError, Unreachable

from vtm_airflow.hooks.vtm import VtmHook
from vtm_server import VtmServer, free_port


def _hook(monkeypatch: pytest.MonkeyPatch, port: int, retry_seconds: float) -> VtmHook:
    conn = json.dumps({"conn_type": "vtm", "host": "127.0.0.1", "port": port})
    monkeypatch.setenv("AIRFLOW_CONN_VTM_PROBE", conn)
    return VtmHook("vtm_probe", retry_seconds=retry_seconds)


def test_a_4xx_is_raised_at_once_with_vtms_message(test_vtm: VtmServer) -> None:
    hook = VtmHook("vtm_test", retry_seconds=60)
    try:
        began = time.monotonic()
        with pytest.raises(ApiError) as missing:
            hook.get_run("no-such-run")
        assert missing.value.status == 404
        assert missing.value.code == "not_found"
        with pytest.raises(ApiError) as invalid:
            hook.start_run("step", {"epochs": 0})
        assert invalid.value.status == 422
        assert "epochs" in str(invalid.value)
        assert time.monotonic() - began < 10  # no retry window was spent
    finally:
        hook.close()


def test_an_unreachable_vtm_is_retried_for_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = _hook(monkeypatch, free_port(), retry_seconds=1.5)
    began = time.monotonic()
    with pytest.raises(Unreachable, match="could not be reached"):
        hook.get_run("some-run")
    assert 1.0 <= time.monotonic() - began < 10
    hook.close()


@pytest.fixture
def dropping_peer() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP peer that reads each request and closes without answering: the answer is lost."""
    requests: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                requests.append(conn.recv(65536).split(b"\r\n", 1)[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], requests
    done.set()
    thread.join(5)
    listener.close()


def test_a_lost_answer_is_asked_again_but_a_run_start_is_not_resent(
    monkeypatch: pytest.MonkeyPatch, dropping_peer: tuple[int, list[bytes]]
) -> None:
    port, requests = dropping_peer
    hook = _hook(monkeypatch, port, retry_seconds=1.5)
    with pytest.raises(Unreachable, match="not sent again"):
        hook.start_run("step", {})
    assert requests == [b"POST /api/runs/start HTTP/1.1"]

    requests.clear()
    with pytest.raises(Unreachable):
        hook.get_run("some-run")
    assert len(requests) >= 2
    assert set(requests) == {b"GET /api/runs/some-run HTTP/1.1"}
    hook.close()
