"""Servers forked from a process that has imported VTM already.

A `vtm serve` spends most of its start-up CPU importing FastAPI, pydantic, SQLAlchemy and
VTM's API (about 1.7 s of the 2.2 s a start costs here), and the suite starts some 150 of
them. The fork server is a process of VTM's Python that imports those modules once and then
forks, for each server asked of it, a child that takes the server's environment, folder,
output file and arguments and runs ``python -m vtm`` from there, as the command would: the
same CLI, settings, start-up and shut-down code, only without importing what is imported
already.

What differs from an exec'd server, and how the kit makes up for it:

- ``/proc/<pid>/environ`` of a forked server shows the fork server's start-up environment,
  not the server's, so the environment marker (``processes``) does not find the server
  itself; ``VtmServer`` always ends its own process by pid. What the server starts
  (supervisors, trainers, side servers) gets the server's environment and carries the marker.
- The server is the fork server's child, not the caller's: ``ForkedProcess`` is the part of
  ``subprocess.Popen`` that ``VtmServer`` uses, with exit statuses sent back by the fork
  server (which reaps its children at once: no zombie lingers).

The fork server ends, killing any server it still has, when its caller goes (its requests
pipe closes). Its program is ``forkserver_program``.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# What a `vtm serve` imports before it answers (checked: no thread is started by them).
SERVER_MODULES = ("vtm.cli.app", "vtm.api.server", "vtm.integrations.side_servers")


class ForkedProcess:
    """A forked server, as far as ``VtmServer`` uses ``subprocess.Popen``."""

    def __init__(self, pid: int, args: Sequence[str], status: _Statuses) -> None:
        self.pid = pid
        self.args = list(args)
        self._status = status

    @property
    def returncode(self) -> int | None:
        return self._status.get(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self._status.wait(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return code

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class _Statuses:
    """Exit statuses as the fork server reports them, waited on by pid."""

    def __init__(self) -> None:
        self._codes: dict[int, int] = {}
        self._changed = threading.Condition()
        self.gone = False

    def get(self, pid: int) -> int | None:
        with self._changed:
            return self._codes.get(pid)

    def set(self, pid: int, code: int) -> None:
        with self._changed:
            self._codes[pid] = code
            self._changed.notify_all()

    def wait(self, pid: int, timeout: float | None) -> int | None:
        with self._changed:
            self._changed.wait_for(lambda: pid in self._codes or self.gone, timeout)
            return self._codes.get(pid)

    def end(self) -> None:
        with self._changed:
            self.gone = True
            self._changed.notify_all()


class ForkServer:
    """One fork server of ``python`` (VTM's), started on first use."""

    def __init__(self, python: str, modules: Sequence[str] = SERVER_MODULES) -> None:
        self.python = python
        self.modules = tuple(modules)
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        # The fork server's answers to spawn requests; None once it has ended.
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._status = _Statuses()

    def spawn(
        self, module: str, args: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path
    ) -> ForkedProcess:
        """``python -m module args…`` in ``cwd`` with ``env``, stdout and stderr to ``log``."""
        with self._lock:
            proc = self._started()
            request = {"module": module, "args": list(args), "env": dict(env)}
            request.update(cwd=str(cwd), log=str(log))
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            try:
                reply = self._replies.get(timeout=60)
            except queue.Empty:
                raise AssertionError("the fork server did not answer within 60 s") from None
            if reply is None:
                raise AssertionError(f"the fork server ended ({proc.wait(10)})")
        if "error" in reply:
            raise AssertionError(f"the fork server could not start {module}: {reply['error']}")
        return ForkedProcess(reply["pid"], [self.python, "-m", module, *args], self._status)

    def _started(self) -> subprocess.Popen[str]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        # No home's marker: a forked server shows this environment in /proc, and must not be
        # found as a process of some home by it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
        self._proc = subprocess.Popen(
            [self.python, "-m", "vtm_testkit.forkserver_program", *self.modules],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd="/",
        )
        self._status = _Statuses()
        self._replies = queue.Queue()
        threading.Thread(target=self._read, args=(self._proc,), daemon=True).start()
        return self._proc

    def _read(self, proc: subprocess.Popen[str]) -> None:
        status, replies = self._status, self._replies
        assert proc.stdout is not None
        for line in proc.stdout:
            message = json.loads(line)
            if "exit" in message:
                status.set(message["exit"], message["code"])
            else:
                replies.put(message)
        status.end()
        replies.put(None)


_servers: dict[str, ForkServer] = {}
_servers_lock = threading.Lock()


def fork_server(python: str) -> ForkServer:
    """This process's fork server of ``python``."""
    with _servers_lock:
        if python not in _servers:
            _servers[python] = ForkServer(python)
        return _servers[python]
