"""Server-Sent Events: runs are pushed as they change, and a reconnect misses nothing."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from support import Server


def read_events(server: Server, until: str, headers: dict[str, str] | None = None, **params: str):
    events: list[tuple[str, str, Any]] = []
    with (
        httpx.Client(base_url=server.url, timeout=30) as client,
        client.stream("GET", "/api/events", params=params, headers=headers or {}) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        event_id, kind = "", ""
        for line in response.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((event_id, kind, json.loads(line[6:])))
                if kind == until:
                    return events
    return events


def test_a_run_is_pushed_from_creation_to_its_end(server: Server) -> None:
    ready = threading.Event()
    result: list[Any] = []

    def listen() -> None:
        with (
            httpx.Client(base_url=server.url, timeout=30) as client,
            client.stream("GET", "/api/events") as response,
        ):
            for line in response.iter_lines():
                if line.startswith("event: hello"):
                    ready.set()
                if line.startswith("data: ") and '"status":"completed"' in line:
                    result.append(json.loads(line[6:]))
                    return
                if line.startswith("data: "):
                    result.append(json.loads(line[6:]))

    thread = threading.Thread(target=listen)
    thread.start()
    assert ready.wait(30)
    run = server.start_run(epochs=3)
    thread.join(60)

    records = [r for r in result if r.get("id") == run["id"]]
    statuses = [r["status"] for r in records]
    assert statuses[0] in ("queued", "running")  # launched at once when there is room
    assert "running" in statuses
    assert statuses[-1] == "completed"
    epochs = [r["progress"].get("epoch") for r in records if r["progress"]]
    assert epochs == sorted(epochs)
    assert epochs[-1] == 3


def test_reconnect_with_last_event_id_replays_what_was_missed(server: Server) -> None:
    first = server.start_run(epochs=1)
    server.wait_status(first["id"])
    seen = read_events(server, until="hello")
    # hello carries no id; take the newest id after a fresh stream replays nothing.
    second = server.start_run(epochs=2)
    server.wait_status(second["id"])

    replay = read_events(
        server, until="run.finished", headers={"Last-Event-ID": f"{_boot(seen)}-0"}
    )
    kinds = [kind for _, kind, _ in replay]
    assert kinds[0] == "hello"
    assert replay[0][2]["replayed"] is True
    finished = [data for _, kind, data in replay if kind == "run.finished"]
    assert finished[0]["id"] == first["id"]


def test_unknown_last_event_id_asks_for_a_resync(server: Server) -> None:
    events = read_events(server, until="resync", headers={"Last-Event-ID": "otherboot-5"})
    assert [kind for _, kind, _ in events] == ["hello", "resync"]


def test_run_filter(server: Server) -> None:
    other = server.start_run(epochs=1)
    server.wait_status(other["id"])
    mine = server.start_run(epochs=1)
    server.wait_status(mine["id"])
    events = read_events(
        server,
        until="run.finished",
        headers={"Last-Event-ID": f"{_boot_of(server)}-0"},
        runId=mine["id"],
    )
    ids = {data["id"] for _, kind, data in events if kind.startswith("run.")}
    assert ids == {mine["id"]}


def _boot(events: list[tuple[str, str, Any]]) -> str:
    return str(events[0][2]["boot"])


def _boot_of(server: Server) -> str:
    return _boot(read_events(server, until="hello"))


def test_a_stopping_server_ends_open_streams_at_once(vtm_home, database_url) -> None:
    srv = Server(vtm_home, database_url).start()
    opened = threading.Event()
    ended = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(base_url=srv.url, timeout=60) as client,
            client.stream("GET", "/api/events") as response,
        ):
            for line in response.iter_lines():
                if line.startswith("event: hello"):
                    opened.set()
        ended.set()

    thread = threading.Thread(target=listen)
    thread.start()
    assert opened.wait(30)
    srv.stop()
    srv.client.close()
    thread.join(30)
    assert ended.is_set()
    # Uvicorn says this when it had to cancel a response that would not end by itself.
    assert "timeout graceful shutdown exceeded" not in srv.log()
    assert "Application shutdown complete" in srv.log()


def test_clients_that_go_away_end_their_streams_quietly(vtm_home) -> None:
    """Closing a tab or Ctrl-C on `curl` must not look like a crash in the server's log."""
    srv = Server(vtm_home, f"sqlite:///{vtm_home / 'vtm.db'}").start()
    try:
        for _ in range(5):
            read_events(srv, until="hello")  # leaves while the stream waits for the next event
        run = srv.start_run(epochs=2)
        # And one that leaves in the middle of a run's events.
        read_events(srv, until="run.updated", headers={"Last-Event-ID": f"{_boot_of(srv)}-0"})
        srv.wait_status(run["id"])
    finally:
        srv.stop()
        srv.client.close()
    log = srv.log()
    assert "Application shutdown complete" in log
    for noise in ("Task was destroyed", "Traceback", "Exception in ASGI application"):
        assert noise not in log, log
