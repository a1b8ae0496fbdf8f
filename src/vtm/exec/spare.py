"""`vtm exec-spare`: a `vtm exec` kept warm on a machine that runs VTM's work (a Ray node, an
Airflow worker), so that a run's trainer starts without waiting for Python and VTM's imports.

It imports what `vtm exec` needs, listens on a Unix socket (VTM_EXEC_SPARE, private to its
user) and, for each command handed over (``vtm.exec.handover``), forks a copy of itself that
takes the caller's stdin, stdout, stderr, environment, working folder and umask, and runs the
command through the same CLI a cold `vtm exec` runs. The copy is a session of its own: the
spare's end (Ctrl-C, a restart) does not touch the runs it started, whose callers wait for
them. A caller that goes away (killed by Ray or Airflow) closes its socket, which the copy
takes as a stop, as a killed cold `vtm exec` makes its supervisor stop the trainer.

A spare refuses a command from another Python (the caller starts cold then) and, once VTM's
code on disk has changed since it started, refuses and exits, so a stale copy never runs:
whatever keeps it running (a systemd unit, a node's start script) starts a new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import vtm_client

import vtm
from vtm.exec.handover import HEADER, peer_uid

READ_TIMEOUT_SECONDS = 5.0  # for a caller's request: one that stalls must not hold the others
MAX_REQUEST_BYTES = 16 << 20
CODE_ROOTS = (Path(vtm.__file__).parent, Path(vtm_client.__file__).parent)


def code_stamp() -> tuple[tuple[str, int], ...]:
    """VTM's modules and their modification times: what a spare was started with."""
    return tuple(
        sorted(
            (str(path), path.stat().st_mtime_ns)
            for root in CODE_ROOTS
            for path in root.rglob("*.py")
        )
    )


class Spare:
    def __init__(self, path: Path, note: Callable[[str], None]) -> None:
        self.path = path
        self._note = note
        self._stamp = code_stamp()
        self._stopping = False

    def serve(self) -> None:
        """Take commands until SIGTERM or SIGINT (then the socket is removed)."""
        cli = _warm_up()
        listener = self._listen()
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the copies are reaped by the kernel
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        self._note(f"spare ready at {self.path} (process {os.getpid()})")
        try:
            while not self._stopping:
                try:
                    conn, _ = listener.accept()
                except InterruptedError:
                    continue
                except OSError:
                    if self._stopping:
                        break
                    raise
                with conn:
                    self._take(listener, conn, cli)
        finally:
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self._note("spare stopped")

    def _stop(self, _signum: int, _frame: object) -> None:
        self._stopping = True
        # accept() is retried after a handler (PEP 475): wake it with a connection of ours.
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as poke:
            poke.connect(str(self.path))

    def _listen(self) -> socket.socket:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a socket left by a spare that was killed
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket file private from its creation
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old)
        listener.listen(64)
        return listener

    def _take(self, listener: socket.socket, conn: socket.socket, cli: Callable[..., Any]) -> None:
        if self._stopping or peer_uid(conn) != os.getuid():
            return
        conn.settimeout(READ_TIMEOUT_SECONDS)
        try:
            request = _read_request(conn)
        except (OSError, ValueError) as exc:
            self._note(f"a request could not be read: {exc}")
            return
        if request is None:
            return  # a connection that only looked whether we listen
        asked, fds = request
        try:
            if code_stamp() != self._stamp:
                # Never run old code for a new caller: refuse, and leave the place to a new spare.
                _send(conn, {"refused": "VTM's code changed since the spare started"})
                self._note("VTM's code changed since this spare started: exiting")
                self._stopping = True
                return
            why = _refusal(asked)
            if why is not None:
                _send(conn, {"refused": why})
                return
            sys.stdout.flush()
            sys.stderr.flush()
            if os.fork() == 0:
                _run_copy(listener, conn, fds, asked, cli)  # never returns
        finally:
            for fd in fds:
                os.close(fd)


def _warm_up() -> Callable[..., Any]:
    """What every copy would otherwise do first: VTM's imports, the CLI built into Click's
    command (returned, for the copies to run), the API client's lazy imports and TLS context."""
    import typer.main
    from vtm_client import VtmClient

    import vtm.cli.app
    import vtm.exec.run

    VtmClient("http://127.0.0.1:9").close()  # builds httpx's transport; sends nothing
    cli: Callable[..., Any] = typer.main.get_command(vtm.cli.app.app)
    return cli


def _refusal(asked: dict[str, Any]) -> str | None:
    if asked["argv"][1:2] != ["exec"]:
        return "a spare runs `vtm exec` only"
    if asked.get("executable") != sys.executable:
        return f"it runs {sys.executable}, the caller {asked.get('executable')}"
    return None


def _read_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    header, fds, _flags, _addr = socket.recv_fds(conn, HEADER.size, 3)
    if not header and not fds:
        return None
    if len(fds) != 3 or len(header) != HEADER.size:
        for fd in fds:
            os.close(fd)
        raise ValueError("no stdin, stdout and stderr came with it")
    (size,) = HEADER.unpack(header)
    try:
        if size > MAX_REQUEST_BYTES:
            raise ValueError(f"{size} bytes is too long")
        body = bytearray()
        while len(body) < size:
            chunk = conn.recv(size - len(body))
            if not chunk:
                raise ValueError("it ended early")
            body += chunk
        asked = json.loads(body)
        if not isinstance(asked, dict) or not isinstance(asked.get("argv"), list):
            raise ValueError("not a command")
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return asked, fds


def _send(conn: socket.socket, answer: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(answer).encode() + b"\n")


def _run_copy(
    listener: socket.socket,
    conn: socket.socket,
    fds: list[int],
    asked: dict[str, Any],
    cli: Callable[..., Any],
) -> None:
    """In the forked copy: become the caller's `vtm exec`, run it, tell the exit code."""
    code = 1
    try:
        listener.close()
        os.setsid()
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        _reopen_stdio()
        os.chdir(asked["cwd"])
        os.umask(int(asked["umask"]))
        os.environ.clear()
        os.environ.update(asked["env"])
        sys.argv = [str(word) for word in asked["argv"]]
        conn.settimeout(None)
        _send(conn, {"pid": os.getpid()})
        threading.Thread(target=_stop_when_gone, args=(conn,), daemon=True).start()
        code = _run_cli(cli)
    except BaseException:  # noqa: BLE001  whatever happens, the caller gets an exit code
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        _send(conn, {"exit": code})
        os._exit(code)


def _reopen_stdio() -> None:
    """Python's own stdio objects for the caller's descriptors: the spare's were made for
    its own (a terminal's line buffering, say), and may hold its output."""
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", 1, "utf-8", "backslashreplace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", 1, "utf-8", "backslashreplace", closefd=False)  # noqa: SIM115


def _run_cli(cli: Callable[..., Any]) -> int:
    from vtm.cli.app import main

    try:
        main(cli)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def _stop_when_gone(conn: socket.socket) -> None:
    """The caller sends nothing after its request: end of file means it is gone."""
    with contextlib.suppress(OSError):
        while conn.recv(1024):
            pass
    os.kill(os.getpid(), signal.SIGTERM)  # `vtm exec` takes it as a stop
