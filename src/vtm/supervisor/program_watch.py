"""The supervisor's life after the trainer starts: wait, stop, kill every rest, report.

Part of the supervisor program (see ``program.py``): standard library only, and none of it
that imports ``re`` or ``enum`` (``signal``, ``json``, ``subprocess``): ``_signal`` and
``_json`` are their C cores. Also the one home of the run directory's file names on the
supervisor's side; ``vtm.supervisor.rundir`` spells the same names for the server.
"""

from __future__ import annotations

import _json
import os
import sys
import time

TYPE_CHECKING = False  # mypy takes any TYPE_CHECKING as true; importing typing costs time
if TYPE_CHECKING:
    import signal as _signal  # the typed face of the same C functions
    from collections.abc import Callable
else:
    import _signal

SPEC, LOCK, OUTPUT_LOG = "spec.json", "supervisor.lock", "output.log"
PIDS, EXIT, SUPERVISOR_LOG = "pid.json", "exit.json", "supervisor.log"
STOP_SIGNALS = frozenset((_signal.SIGTERM, _signal.SIGINT))
WAKE_SIGNALS = STOP_SIGNALS | {_signal.SIGCHLD}


class Watch:
    """Waits for the trainer, turning a stop request or the timeout into SIGTERM to its
    process group, then SIGKILL once the grace period is over."""

    def __init__(self, pid: int, timeout: float | None, grace: float) -> None:
        self.pid, self.timeout, self.grace = pid, timeout, grace
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.outcome: tuple[str, str] | None = None  # (status, reason) of a stop or timeout
        self.kill_at: float | None = None
        self.wait_status: int | None = None

    def run(self) -> int:
        """The trainer's wait status, once it has exited and its group has been killed."""
        while True:
            self.reap()
            if self.wait_status is not None:
                return self.wait_status
            now = time.monotonic()
            if self.deadline is not None and now >= self.deadline:
                self.stop("failed", f"timed out after {self.timeout:g} s", now)
            if self.kill_at is not None and now >= self.kill_at:
                log("grace period over: SIGKILL to the trainer's group")
                signal_gone_ok(os.killpg, self.pid, _signal.SIGKILL)
                self.kill_at = None
            due = [t - now for t in (self.kill_at, self.deadline) if t is not None]
            # Signals stay blocked and are taken here, so no work runs in a signal handler.
            if due:
                info = _signal.sigtimedwait(WAKE_SIGNALS, max(0.0, min(due)))
            else:
                info = _signal.sigwaitinfo(WAKE_SIGNALS)
            if info is not None and info.si_signo in STOP_SIGNALS and self.outcome is None:
                self.stop("stopped", "stopped on request", time.monotonic())

    def stop(self, status: str, reason: str, now: float) -> None:
        log(f"{reason}: SIGTERM to the trainer's group")
        self.outcome = (status, reason)
        self.deadline = None  # a stop under way makes the timeout moot
        self.kill_at = now + self.grace
        signal_gone_ok(os.killpg, self.pid, _signal.SIGTERM)

    def reap(self) -> None:
        """Reap every exited child; when the trainer is among them, SIGKILL its group."""
        while True:
            try:  # look without reaping, so the trainer's id cannot be reused before killpg
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            if info.si_pid == self.pid:
                signal_gone_ok(os.killpg, self.pid, _signal.SIGKILL)  # the rest of its group
            _, status = os.waitpid(info.si_pid, 0)
            if info.si_pid == self.pid:
                self.wait_status = status


def kill_the_rest() -> None:
    """SIGKILL and reap all that is left to this subreaper, until nothing is: processes that
    left the group (setsid) and were reparented here, then their own children in turn."""
    me = os.getpid()
    while True:
        for pid in children(me):
            signal_gone_ok(os.kill, pid, _signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            return
        # Wait for a death; the timeout re-scans for processes reparented meanwhile.
        _signal.sigtimedwait({_signal.SIGCHLD}, 0.05)


def children(me: int) -> list[int]:
    try:
        with open(f"/proc/{me}/task/{me}/children", "rb") as file:
            return [int(pid) for pid in file.read().split()]
    except FileNotFoundError:  # a kernel without CONFIG_PROC_CHILDREN: read every process
        pass
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as file:
                    ppid = file.read().rpartition(b")")[2].split()[1]
            except OSError:
                continue  # it exited meanwhile
            if int(ppid) == me:
                found.append(int(name))
    return found


def signal_gone_ok(send: Callable[[int, int], None], target: int, signum: int) -> None:
    """``os.kill``/``os.killpg``; "no such process" is fine: it is already gone."""
    try:
        send(target, signum)
    except ProcessLookupError:
        return


def describe(returncode: int, requested: tuple[str, str] | None) -> tuple[str, str | None]:
    """(status, reason) for exit.json: a stop or timeout wins over the exit code."""
    if requested is not None:
        return requested
    if returncode == 0:
        return "completed", None
    if returncode > 0:
        return "failed", f"exited with code {returncode}"
    import signal  # only now, at the end: its enum import would slow the start

    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = str(-returncode)
    return "failed", f"killed by signal {name}"


def write_atomic(path: str, text: str) -> None:
    """Readers see the old file or the whole new one, also after a power cut."""
    with open(path + ".tmp", "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(path + ".tmp", path)
    folder = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def finish(run_dir: str, returncode: int | None, status: str, reason: str | None) -> int:
    """Write exit.json; the supervisor's exit code."""
    log(f"finished: {status}, returncode {returncode}, {reason}")
    quoted = "null" if reason is None else _json.encode_basestring_ascii(reason)
    code = "null" if returncode is None else str(returncode)
    try:
        write_atomic(
            os.path.join(run_dir, EXIT),
            f'{{"returncode": {code}, "status": "{status}", "reason": {quoted}, '
            f'"finishedAt": {time.time()!r}}}\n',
        )
    except OSError as exc:  # the server will find the run lost, which is the truth
        log(f"cannot write {EXIT}: {exc}")
        return 1
    return 0


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} vtm-supervisor[{os.getpid()}] {message}", file=sys.stderr, flush=True)
