"""Run ``airflow standalone`` (or any command) so that stopping it stops every process it started.

`make airflow` execs this, so make's child is this launcher. ``airflow standalone`` alone does
not clean up: on SIGTERM it dies at once and leaves its scheduler, DAG processor, API server and
triggerer running, the LocalExecutor workers ignore SIGINT (Ctrl-C), and one running a task may
outlive a SIGTERM too. Here:

- the command runs in a session of its own (so a Ctrl-C reaches only this launcher, which then
  stops everything in order), with ``VTM_AIRFLOW_LAUNCH=<unique value>`` added to its
  environment and thus to every process it starts (a process that retitles itself, as most of
  Airflow's do, overwrites what /proc shows of its environment: hence also the next point);
- on Linux the launcher is a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``): a process
  whose parent dies, even one that called ``setsid`` or forked twice, is re-parented to the
  launcher instead of init, so every process the command started stays among its descendants;
- on SIGINT, SIGTERM, SIGHUP or SIGQUIT (the handler only records it; the main loop acts) it
  sends SIGTERM (and SIGCONT) to each of its descendants and marked processes, newcomers
  included, waits up to ``--grace`` seconds for them to exit, SIGKILLs whatever is left (and
  the command's process group), reaps, and exits with 128 + the signal's number. A second
  signal skips the rest of the grace;
- when the command exits by itself, its leftovers are stopped the same way and the launcher
  exits with the command's status.

Nothing else is touched: only descendants of the launcher and processes carrying its marker,
each signalled through psutil (which checks that a PID still names the same process). Only a
SIGKILL of the launcher itself leaves the processes behind (nothing can catch it).

Usage: ``python run.py [--grace SECONDS] COMMAND [ARG...]``
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
import uuid
from types import FrameType

import psutil

MARKER = "VTM_AIRFLOW_LAUNCH"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
PR_SET_CHILD_SUBREAPER = 36
KILL_TIMEOUT = 10.0  # after SIGKILL: processes forking meanwhile are killed again until then
POLL = 0.1


def say(message: str) -> None:
    """A line in standalone's own format (``name | text``), on stderr."""
    print(f"{'launcher':10} | {message}", file=sys.stderr, flush=True)


def describe(processes: list[psutil.Process]) -> str:
    """``PID title`` of each, shortened (Airflow's processes retitle themselves)."""
    names = []
    for p in processes:
        with contextlib.suppress(psutil.Error):
            title = " ".join(p.cmdline()).strip() or p.name()
            names.append(f"{p.pid} {title[:60]}")
    return "; ".join(names)


def become_subreaper() -> bool:
    """Make orphaned descendants this process's children (Linux ≥ 3.4); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0


class Launcher:
    def __init__(self, command: list[str], grace: float) -> None:
        self.command = command
        self.grace = grace
        self.marker = f"{os.getpid()}-{uuid.uuid4().hex}"
        self.signals: list[int] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self.status: int | None = None  # the command's exit code once reaped (-N: signal N)
        self.me = psutil.Process()

    # -- signals and children ---------------------------------------------------------------

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.signals.append(signum)

    def reap(self) -> None:
        """Collect every child that has exited: the command (its status kept) and the orphans
        re-parented here."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.proc is not None and pid == self.proc.pid:
                self.status = os.waitstatus_to_exitcode(status)
                self.proc.returncode = self.status  # Popen must not wait for it again

    def ours(self) -> list[psutil.Process]:
        """Live (non-zombie) descendants, and processes elsewhere carrying the marker."""
        found = {p.pid: p for p in self.me.children(recursive=True)}
        for p in psutil.process_iter():
            if p.pid in found or p.pid == self.me.pid:
                continue
            with contextlib.suppress(psutil.Error):
                if p.environ().get(MARKER) == self.marker:
                    found[p.pid] = p
        live = []
        for p in found.values():
            with contextlib.suppress(psutil.Error):
                if p.status() != psutil.STATUS_ZOMBIE:
                    live.append(p)
        return live

    def _signal_group(self, sig: int) -> None:
        """The command's process group, while its leader is unreaped (so the id is ours)."""
        if self.proc is not None and self.status is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    # -- the two phases ---------------------------------------------------------------------

    def start(self) -> None:
        env = dict(os.environ)
        env[MARKER] = self.marker
        self.proc = subprocess.Popen(
            self.command, env=env, stdin=subprocess.DEVNULL, start_new_session=True
        )

    def wait(self) -> None:
        """Until a stop signal arrives or the command exits."""
        while not self.signals and self.status is None:
            time.sleep(POLL)
            self.reap()

    def stop(self) -> None:
        """SIGTERM everything, SIGKILL what outlives the grace period (or a second signal)."""
        started = time.monotonic()
        signalled = len(self.signals)
        termed: set[tuple[int, float]] = set()  # (pid, start time): each process once
        left = self.ours()
        while left and time.monotonic() - started < self.grace and len(self.signals) == signalled:
            for p in left:
                with contextlib.suppress(psutil.Error):
                    if (key := (p.pid, p.create_time())) not in termed:
                        p.send_signal(signal.SIGTERM)
                        p.send_signal(signal.SIGCONT)  # a stopped process acts on it too
                        termed.add(key)
            time.sleep(POLL)
            self.reap()
            left = self.ours()
        if left:
            waited = time.monotonic() - started
            say(f"still running after {waited:.1f} s, killing: {describe(left)}")
        killed: set[int] = set()
        deadline = time.monotonic() + KILL_TIMEOUT
        while left and time.monotonic() < deadline:
            self._signal_group(signal.SIGKILL)
            for p in left:
                with contextlib.suppress(psutil.Error):
                    p.kill()
                    killed.add(p.pid)
            time.sleep(POLL / 2)
            self.reap()
            left = self.ours()
        self.reap()
        took = time.monotonic() - started
        count = len({pid for pid, _ in termed} | killed)
        how = f", {len(killed)} of them with SIGKILL" if killed else ""
        say(f"stopped {count} process{'es' if count != 1 else ''} in {took:.1f} s{how}")
        if left:
            say(f"could not stop: {describe(left)}")

    def run(self) -> int:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._record)
        if not become_subreaper():
            say("not a child subreaper here: orphans are found by their environment only")
        try:
            self.start()
        except OSError as error:
            say(f"cannot run {self.command[0]}: {error}")
            return 127
        self.wait()
        if self.signals:
            name = signal.Signals(self.signals[0]).name
            say(f"{name}: stopping Airflow (grace {self.grace:g} s)")
        else:
            say(f"{self.command[0]} exited ({self.status}); stopping what it left")
        self.stop()
        if self.signals:
            return 128 + self.signals[0]
        assert self.status is not None
        return self.status if self.status >= 0 else 128 - self.status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--grace",
        type=float,
        default=10.0,
        help="seconds between SIGTERM and SIGKILL when stopping (default 10)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    return Launcher(command, args.grace).run()


if __name__ == "__main__":
    sys.exit(main())
