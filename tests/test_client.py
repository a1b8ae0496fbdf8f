"""vtm_client against a real `vtm serve`: the retry rules where they matter (VTM down then up,
an answer lost after VTM acted, a 5xx), the errors as VTM words them, the event stream across
a server restart, the external-runs exchange and the async client.

A lost answer and a 5xx from a proxy are made by ``Proxy``, a TCP proxy in front of the real
server: it passes each request on and can drop the answer (the request reached VTM, the
answer never comes back), and it answers 502 while nothing listens behind it, as a reverse
proxy does while VTM restarts.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vtm_client import ApiError, AsyncVtmClient, Unreachable, VtmClient, VtmClientError

from support import Server, events_of_a_new_run, free_port, wait_for

BAD_GATEWAY = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 21\r\n"
    b"Connection: close\r\n\r\n<h1>Bad Gateway</h1>\n"
)


class Proxy:
    """One request per connection, in order; ``lose`` answers to drop from the next one on."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.lose = 0
        self.requests: list[str] = []  # request lines, as they came
        self.gateway_errors = threading.Event()  # set on the first 502 it answers
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._done.set()
        self._thread.join(10)
        self.listener.close()

    def _serve(self) -> None:
        while not self._done.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(30)
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        request = _read_request(conn)
        if not request:
            return
        head, _, body = request.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.requests.append(lines[0].decode())
        # One request per upstream connection: it closes after answering, so we read to EOF.
        kept = [h for h in lines[1:] if not h.lower().startswith(b"connection:")]
        forwarded = b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n" + body
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
        except ConnectionRefusedError:
            conn.sendall(BAD_GATEWAY)
            self.gateway_errors.set()
            return
        with upstream:
            upstream.sendall(forwarded)
            answer = b"".join(iter(lambda: upstream.recv(65536), b""))
        if self.lose > 0:
            self.lose -= 1
            return  # VTM acted on it; the answer is lost on the way back
        conn.sendall(answer)


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    need = len(head) + 4 + (int(length.group(1)) if length else 0)
    while len(data) < need:
        data += conn.recv(65536)
    return data


# The client's rules do not depend on the store: SQLite is enough.
@pytest.fixture
def server(vtm_home: Path, sqlite_url: str) -> Iterator[Server]:
    srv = Server(vtm_home, sqlite_url).start()
    yield srv
    srv.stop()
    srv.client.close()


class Retries(logging.Handler):
    """Counts the client's "trying again" warnings; ``first`` is set on the first."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.first.set()


@pytest.fixture
def retries() -> Iterator[Retries]:
    handler = Retries()
    logger = logging.getLogger("vtm_client")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def task_runs(server: Server, task: str = "scripted") -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = server.client.get("/api/runs", params={"taskId": task}).json()[
        "runs"
    ]
    return runs


def test_a_start_sent_while_vtm_is_down_is_sent_again_once_it_is_up(
    vtm_home: Path, sqlite_url: str, retries: Retries
) -> None:
    server = Server(vtm_home, sqlite_url)
    # VTM comes up only once the client has been refused and said it tries again.
    bring_up = threading.Thread(target=lambda: retries.first.wait(30) and server.start())
    bring_up.start()
    try:
        with VtmClient(server.url, retry_seconds=90) as vtm:
            run = vtm.start_run("scripted", {"epochs": 1})
        bring_up.join(90)
        assert retries.count >= 1
        assert [r["id"] for r in task_runs(server)] == [run["id"]]  # started once
        assert server.wait_status(run["id"])["status"] == "completed"
    finally:
        bring_up.join(90)
        server.stop()
        server.client.close()


def test_a_lost_answer_is_asked_again_but_a_start_is_never_resent(server: Server) -> None:
    run = server.start_run(epochs=1)
    proxy = Proxy(server.port)
    try:
        with VtmClient(proxy.url, retry_seconds=30) as vtm:
            proxy.lose = 1
            assert vtm.get_run(run["id"])["id"] == run["id"]
            assert proxy.requests == [f"GET /api/runs/{run['id']} HTTP/1.1"] * 2

            proxy.requests.clear()
            proxy.lose = 1
            with pytest.raises(Unreachable, match="may have been carried out"):
                vtm.start_run("scripted", {"epochs": 1})
        assert proxy.requests == ["POST /api/runs/start HTTP/1.1"]
        # VTM did start it: exactly one more run, the one whose answer was lost.
        assert len(task_runs(server)) == 2
    finally:
        proxy.close()


def test_a_5xx_is_retried_until_vtm_is_back_but_a_start_is_not(
    vtm_home: Path, sqlite_url: str
) -> None:
    server = Server(vtm_home, sqlite_url)
    proxy = Proxy(server.port)  # nothing behind it yet: it answers 502
    try:
        with VtmClient(proxy.url, retry_seconds=90) as vtm:
            with pytest.raises(ApiError) as refused:
                vtm.start_run("scripted", {"epochs": 1})
            assert refused.value.status == 502
            assert refused.value.code is None  # a proxy's page, not VTM's error body
            assert proxy.requests == ["POST /api/runs/start HTTP/1.1"]

            proxy.requests.clear()
            proxy.gateway_errors.clear()
            bring_up = threading.Thread(
                target=lambda: proxy.gateway_errors.wait(30) and server.start()
            )
            bring_up.start()
            page = vtm.list_runs(limit=5)
            bring_up.join(90)
        assert page == {"runs": [], "nextCursor": None}
        assert len(proxy.requests) >= 2
        assert set(proxy.requests) == {"GET /api/runs?limit=5 HTTP/1.1"}
    finally:
        proxy.close()
        server.stop()
        server.client.close()


def test_vtms_own_503_for_a_start_is_raised_at_once(vtm_home: Path, sqlite_url: str) -> None:
    broken = vtm_home / "training_catalog.yaml"
    broken.write_text("version: 1\ntasks: [not, a, mapping]\n")
    server = Server(vtm_home, sqlite_url, catalog=broken).start()
    try:
        with VtmClient(server.url, retry_seconds=60) as vtm:
            with pytest.raises(ApiError) as refused:
                vtm.start_run("scripted")
            assert vtm.catalog()["status"] == "error"
        error = refused.value
        assert (error.status, error.code) == (503, "catalog_invalid")
        assert str(error).startswith("VTM POST /api/runs/start answered 503: ")
    finally:
        server.stop()
        server.client.close()


def test_errors_carry_vtms_status_code_message_and_fields(vtm_home: Path, sqlite_url: str) -> None:
    server = Server(vtm_home, sqlite_url, VTM_TOKEN="s3cret").start()
    try:
        with VtmClient(server.url) as anonymous, pytest.raises(ApiError) as unauthorized:
            anonymous.list_runs()
        assert (unauthorized.value.status, unauthorized.value.code) == (401, "unauthorized")

        with VtmClient(server.url, "s3cret", retry_seconds=30) as vtm:
            assert vtm.health()["status"] == "ok"
            with pytest.raises(ApiError) as missing:
                vtm.get_run("20260101-000000-abcdef")
            with pytest.raises(ApiError) as invalid:
                vtm.start_run("scripted", {"epochs": 0, "mode": "quick"})
            with pytest.raises(ApiError) as not_a_prefix:
                vtm.list_runs(id_prefix="xyz")
        assert (missing.value.status, missing.value.code) == (404, "not_found")
        assert "20260101-000000-abcdef" in missing.value.message
        assert (invalid.value.status, invalid.value.code) == (422, "validation_failed")
        assert sorted(f["field"] for f in invalid.value.fields) == ["epochs", "mode"]
        assert [f["field"] for f in not_a_prefix.value.fields] == ["idPrefix"]
        assert all(isinstance(e, VtmClientError) for e in (missing.value, invalid.value))
    finally:
        server.stop()
        server.client.close()


def test_no_server_is_unreachable_naming_where() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with VtmClient(url) as vtm, pytest.raises(Unreachable) as gone:
        vtm.health()
    assert gone.value.url == url
    assert str(gone.value).startswith(f"VTM at {url} could not be reached (GET /api/health): ")
    assert "refused" in gone.value.reason.lower()


STREAM_DEADLINE = 120.0  # seconds: the run takes a few, the restart one or two


def test_the_event_stream_follows_a_run_across_a_server_restart(
    server: Server, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    seen: list[str] = []
    restarted: Server | None = None
    run_id = ""
    with VtmClient(server.url) as vtm:

        def start() -> str:
            nonlocal run_id
            fields = {"epochs": 2, "gate_dir": str(gates), "pause_at": 1}
            run_id = str(vtm.start_run("scripted", fields)["id"])
            return run_id

        # A stream that stays open without the run's end would block until pytest's timeout
        # and say nothing: closing the client ends it, and the failure shows the server's log.
        watchdog = threading.Timer(STREAM_DEADLINE, vtm.close)
        watchdog.start()
        events = events_of_a_new_run(vtm, start)
        try:
            for event in events:
                seen.append(event.type)
                if event.type == "run.updated" and event.json()["progress"].get("epoch") == 1:
                    if restarted is None:
                        server.kill9()  # the run goes on under its supervisor
                        restarted = Server(server.home, server.database_url, port=server.port)
                elif event.type == "disconnected" and restarted and not restarted.proc:
                    restarted.start()
                elif event.type == "hello" and restarted is not None and restarted.proc:
                    (gates / run_id).touch()
                elif event.type == "run.finished":
                    assert event.json()["status"] == "completed"
                    break
        except (VtmClientError, RuntimeError) as exc:
            log = restarted.log()[-6000:] if restarted is not None else server.log()[-6000:]
            raise AssertionError(
                f"no end of run {run_id} within {STREAM_DEADLINE} s; "
                f"events {seen}; the server's log:\n{log}"
            ) from exc
        finally:
            watchdog.cancel()
            events.close()
    assert restarted is not None
    try:
        assert "disconnected" in seen
        after = seen[seen.index("disconnected") :]
        assert "hello" in after and after[-1] == "run.finished"
    finally:
        restarted.stop()
        restarted.client.close()


def test_the_external_run_exchange(server: Server) -> None:
    run_id = "20260101-000000-c0ffee"
    with VtmClient(server.url) as vtm:
        register = {
            "task_id": "scripted",
            "fields": {"epochs": 1},
            "command": ["python", "scripted.py", "--epochs=1"],
            "host": "worker-1",
            "mlflow_experiment": "scripted",
        }
        accepted = vtm.register_external_run(run_id, **register)
        again = vtm.register_external_run(run_id, **register)  # idempotent by id
        assert accepted["run"]["id"] == again["run"]["id"] == run_id
        assert accepted["run"]["status"] == "running"
        assert accepted["heartbeatSeconds"] > 0

        data = b"line 1\nline 2\n"
        ack = vtm.append_output(run_id, 0, data)
        assert (ack["received"], ack["status"], ack["stopRequested"]) == (
            len(data),
            "running",
            False,
        )
        assert vtm.append_output(run_id, 0, data)["received"] == len(data)  # a resend
        assert vtm.append_output(run_id, len(data))["received"] == len(data)  # a heartbeat
        done = vtm.finish_external_run(
            run_id, status="completed", exit_code=0, error=None, size=len(data)
        )
        assert done["status"] == "completed"
        page = vtm.logs(run_id)
        assert (page["text"], page["complete"]) == (data.decode(), True)
        assert vtm.get_run(run_id)["origin"]["host"] == "worker-1"


def test_the_servers_other_answers(server: Server) -> None:
    with VtmClient(server.url) as vtm:
        assert vtm.health()["status"] == "ok"
        assert "scripted" in {t["id"] for t in vtm.catalog()["tasks"]}
        assert "version" in vtm.config()
        assert isinstance(vtm.pipelines()["pipelines"], dict)
        assert "tasks" in vtm.report(since="7d")
        assert vtm.report_text("md", since="7d").startswith("#")
        run = vtm.start_run("scripted", {"epochs": 1})
        wait_for(lambda: vtm.get_run(run["id"])["status"] == "completed", "the run to end")
        listed = vtm.list_runs(status=["completed"], task_id="scripted", id_prefix=run["id"][:8])
        assert [r["id"] for r in listed["runs"]] == [run["id"]]
        assert vtm.stop_run(run["id"])["status"] == "completed"  # stopping an ended run: no-op


def test_the_async_client_against_vtm(server: Server, tmp_path: Path) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()

    async def calls() -> tuple[dict[str, Any], str]:
        async with AsyncVtmClient(server.url, retry_seconds=30) as vtm:
            run = await vtm.start_run(
                "scripted", {"epochs": 2, "gate_dir": str(gates), "pause_at": 1}
            )
            stream = vtm.events(run_id=run["id"])
            first = await stream.__anext__()
            await stream.aclose()
            await vtm.stop_run(run["id"])
            while (await vtm.get_run(run["id"]))["status"] != "stopped":
                await asyncio.sleep(0.05)  # polling a stop, not synchronisation
            return await vtm.get_run(run["id"]), first.type

    stopped, first = asyncio.run(calls())
    assert first == "hello"
    assert stopped["status"] == "stopped"
