"""Finding and killing what a test started: by a marker in the processes' environment, by
session, or by psutil handle. Zombies count as gone everywhere (they have finished; only their
parent can reap them), and this process is never one of the found."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Collection, Iterable
from pathlib import Path

import psutil

PROC = Path("/proc")


def home_marker(home: Path) -> str:
    """The marker of everything a VTM home's server starts: its supervisors, spare, trainers."""
    return f"VTM_HOME={home}"


def _zombie(entry: Path) -> bool:
    # The state follows the command name, which may hold spaces and parentheses.
    return (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def processes_with_env(marker: str) -> list[int]:
    """PIDs of the live processes whose environment holds the entry ``marker`` (``NAME=value``).

    A process that rewrote its title over its environment (setproctitle) is not found."""
    entry_bytes = marker.encode()
    me = os.getpid()
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if entry_bytes in (entry / "environ").read_bytes().split(b"\0") and not _zombie(entry):
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
    return found


def kill_marked(marker: str, timeout: float = 10.0) -> int:
    """SIGKILL every live process with ``marker`` until none is left (new ones included: a
    supervisor may start a trainer meanwhile) or ``timeout`` passes; how many were signalled."""
    killed: set[int] = set()
    deadline = time.monotonic() + timeout
    while (pids := processes_with_env(marker)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.05)
    return len(killed)


def kill_home(home: Path) -> int:
    """Kill everything of a VTM home (``kill_marked`` of its marker)."""
    return kill_marked(home_marker(home))


def alive(process: int | psutil.Process) -> bool:
    """Running and not a zombie. For a psutil handle, psutil also checks that the PID still
    names the process it was made for."""
    try:
        p = process if isinstance(process, psutil.Process) else psutil.Process(process)
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def title(p: psutil.Process) -> str:
    """The process's command line (or name), "?" once it is gone."""
    with contextlib.suppress(psutil.Error):
        return " ".join(p.cmdline()) or p.name()
    return "?"


def session_of(p: psutil.Process) -> int | None:
    with contextlib.suppress(OSError):
        return os.getsid(p.pid)
    return None


def in_sessions(sessions: Collection[int]) -> list[psutil.Process]:
    """The live processes of these sessions (a session's id is never reused while any process
    is in it)."""
    return [p for p in psutil.process_iter() if session_of(p) in sessions and alive(p)]


def left_behind(sessions: Collection[int], *markers: str) -> dict[int, psutil.Process]:
    """The live processes of these sessions, or with any of these markers in their environment:
    what a program that started others (Airflow's standalone) may have left, found both ways
    because a task process leaves its session and a daemon may drop its marker."""
    found = {p.pid: p for p in in_sessions(sessions)} if sessions else {}
    for marker in markers:
        for pid in processes_with_env(marker):
            with contextlib.suppress(psutil.Error):
                if pid not in found and alive(p := psutil.Process(pid)):
                    found[pid] = p
    return found


def kill_all(processes: Iterable[psutil.Process], timeout: float = 10.0) -> None:
    """SIGKILL each and wait up to ``timeout`` for them to be gone (reaped, for our children)."""
    targets = list(processes)
    for p in targets:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(targets, timeout=timeout)
