"""A side server `vtm serve` runs as a child process (MLflow's, TensorBoard), watched.

Each child runs in its own process group (a session of its own), so stopping it reaches
every process it forked (MLflow's uvicorn worker) and Ctrl-C on the terminal does not.
Its output goes to a log file. A thread probes it over HTTP until it answers or a deadline
passes, then waits for its exit: a child that fails to start, never answers or dies later is
marked ``failed`` with the reason and logged as an error naming it and its log file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

log = logging.getLogger(__name__)

State = Literal["starting", "ready", "failed", "stopped"]

PROBE_EVERY_SECONDS = 0.25
STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class SideServerSpec:
    name: str
    argv: list[str]
    host: str
    port: int
    log_path: Path
    probe_path: str = "/"
    ready_timeout: float = 60.0
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class SideServerStatus:
    name: str
    url: str
    state: State
    error: str | None
    log_path: Path


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on ``host:port`` (a TIME_WAIT left by an earlier server
    does not count: SO_REUSEADDR, as the side servers use, binds over it)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def last_line(path: Path, limit: int = 300) -> str:
    """The log's last non-empty line: usually the reason a server died (bind error, ...)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 8192))
            lines = [ln.strip() for ln in f.read().decode(errors="replace").splitlines()]
    except OSError:
        return ""
    text = next((ln for ln in reversed(lines) if ln), "")
    return text[:limit]


class SideServer:
    def __init__(self, spec: SideServerSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        # Held while starting and while deciding to stop: a stop never misses a process that
        # a concurrent start is creating.
        self._life = threading.Lock()
        self._state: State = "starting"
        self._error: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._reaped = False
        self._stopping = threading.Event()
        self._exited = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the API shows ---------------------------------------------------------------

    def status(self) -> SideServerStatus:
        with self._lock:
            return SideServerStatus(
                self.spec.name, self.spec.url, self._state, self._error, self.spec.log_path
            )

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _set(self, state: State, error: str | None = None) -> None:
        with self._lock:
            if self._state in ("failed", "stopped"):
                return  # the first end is the one to report
            self._state, self._error = state, error
        if state == "failed":
            log.error("%s server failed: %s (log: %s)", self.spec.name, error, self.spec.log_path)
        elif state == "ready":
            log.info("%s server ready at %s", self.spec.name, self.spec.url)

    def fail(self, reason: str) -> None:
        """Mark the child failed without starting it (its prerequisites failed)."""
        self._set("failed", reason)
        self._exited.set()

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the process and the thread that watches it; returns at once."""
        with self._life:
            if self._stopping.is_set():
                self._set("stopped")
                return
            self._start()

    def _start(self) -> None:
        spec = self.spec
        if port_in_use(spec.host, spec.port):
            self.fail(f"port {spec.port} on {spec.host} is already in use")
            return
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_path.open("ab") as out:
            out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(spec.argv)}\n".encode())
            out.flush()
            try:
                proc = subprocess.Popen(
                    spec.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=spec.env or None,
                    cwd=spec.cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                self.fail(f"could not start {spec.argv[0]}: {exc}")
                return
        with self._lock:
            self._proc = proc
        self._thread = threading.Thread(target=self._watch, name=f"side-{spec.name}", daemon=True)
        self._thread.start()

    def _exit_code(self, block: bool) -> int | None:
        """The child's exit code once it has exited, without reaping it: its pid (= the
        group's id) stays ours until the group is cleaned up."""
        assert self._proc is not None
        flags = os.WEXITED | os.WNOWAIT | (0 if block else os.WNOHANG)
        try:
            result = os.waitid(os.P_PID, self._proc.pid, flags)
        except ChildProcessError:
            return self._proc.returncode if self._proc.returncode is not None else -1
        if result is None:
            return None
        return result.si_status if result.si_code == os.CLD_EXITED else -result.si_status

    def _watch(self) -> None:
        spec = self.spec
        deadline = time.monotonic() + spec.ready_timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                code = self._exit_code(block=False)
                if code is not None:
                    self._ended(code, before_ready=True)
                    return
                if self._stopping.is_set():
                    break
                if self._answers(client):
                    self._set("ready")
                    break
                if time.monotonic() > deadline:
                    self._set(
                        "failed",
                        f"did not answer {spec.url} within {spec.ready_timeout:.0f} s",
                    )
                    self._signal(signal.SIGKILL)
                    self._ended(self._exit_code(block=True) or 0, before_ready=True)
                    return
                self._stopping.wait(PROBE_EVERY_SECONDS)
        self._ended(self._exit_code(block=True) or 0, before_ready=False)

    def _answers(self, client: httpx.Client) -> bool:
        try:
            client.get(self.spec.url + self.spec.probe_path)
        except httpx.HTTPError:
            return False
        return True  # any HTTP answer: it is up, whatever it thinks of this path

    def _ended(self, code: int, *, before_ready: bool) -> None:
        """The leader exited: clear what is left of its group, reap it, record why."""
        self._signal(signal.SIGKILL)
        with self._lock:
            assert self._proc is not None
            self._proc.wait()
            self._reaped = True
        if self._stopping.is_set():
            self._set("stopped")
        else:
            how = f"exited with code {code}" if code >= 0 else f"was killed by signal {-code}"
            when = " before answering" if before_ready else ""
            tail = last_line(self.spec.log_path)
            self._set("failed", f"{how}{when}" + (f": {tail}" if tail else ""))
        self._exited.set()

    def _signal(self, sig: int) -> None:
        with self._lock:
            if self._proc is None or self._reaped:
                return
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, sig)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM to the child's whole group, SIGKILL after ``grace``; waits for the end."""
        with self._life:
            self._stopping.set()
            if self._proc is None:
                self._set("stopped")
                return
        self._signal(signal.SIGTERM)
        if not self._exited.wait(grace):
            log.warning("%s server ignored SIGTERM for %.0f s: killing it", self.spec.name, grace)
            self._signal(signal.SIGKILL)
            self._exited.wait(grace)
        if self._thread is not None:
            self._thread.join(grace)
