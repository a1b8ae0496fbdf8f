"""The server's side of the per-run supervisor: start it, ask after it, stop it, clean up.

Everything here works from the run directory alone, so a restarted server can take over
runs that an earlier server process started.
"""

from __future__ import annotations

import ctypes
import dataclasses
import fcntl
import json
import logging
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from vtm.states import RunStatus
from vtm.supervisor import spare
from vtm.supervisor.rundir import LaunchSpec, RunDir

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


class SupervisorState(StrEnum):
    STARTING = "starting"  # spawned, no pid.json yet: the caller applies its own deadline
    ALIVE = "alive"  # holds its lock
    EXITED = "exited"  # exit.json is there: nothing of the run is alive
    LOST = "lost"  # neither: it died without a word (kill -9, OOM killer, reboot)


@dataclass(frozen=True)
class PidRecord:
    supervisor_pid: int
    trainer_pid: int
    pgid: int
    started_at: float


@dataclass(frozen=True)
class ExitRecord:
    returncode: int | None  # as Popen has it: negative = killed by that signal
    status: RunStatus  # completed, failed or stopped
    reason: str | None
    finished_at: float


def spawn_supervisor(
    run_dir: RunDir, spec: LaunchSpec, *, tied: bool = False
) -> subprocess.Popen[bytes]:
    """Write spec.json and start the run's supervisor, detached from this process.

    The spare supervisor takes the run if there is one (see ``spare``), else a new one is
    started; either way a new spare is made ready for the next run. The supervisor's own
    session keeps a Ctrl-C or a kill of the server's group from reaching it. The caller
    keeps the Popen to reap it; if the caller dies first, init adopts it.

    ``tied`` (`vtm exec`, which runs one trainer in the foreground): no spare, and the
    supervisor gets SIGTERM when the caller dies, which it takes as a stop (grace, then
    SIGKILL): a killed `vtm exec` leaves no training behind.
    """
    run_dir.path.mkdir(parents=True, exist_ok=True)
    # Absolute: a relative one means our working folder, which a spare need not share.
    spec = dataclasses.replace(spec, cwd=os.path.abspath(spec.cwd))
    _write_private(run_dir.spec_json, spec.to_json())
    proc = None if tied else spare.hand_over(run_dir.path)
    if proc is None:
        with open(run_dir.supervisor_log, "ab") as out:
            proc = subprocess.Popen(
                spare.program_command(str(run_dir.path.absolute())),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                close_fds=True,
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()) if tied else None,
            )
    if not tied:
        spare.start_spare_soon()
    return proc


def _die_with(parent: int) -> Callable[[], None]:
    """A preexec_fn: SIGTERM to the child when ``parent`` (the spawning thread) dies."""
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork, not in the child

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # it died before prctl took effect
            os._exit(1)

    return arm


def probe(run_dir: RunDir) -> SupervisorState:
    """Where the run's supervisor stands, from its files and its lock."""
    if run_dir.exit_json.exists():
        return SupervisorState.EXITED
    if _lock_held(run_dir.supervisor_lock):
        return SupervisorState.ALIVE
    if run_dir.exit_json.exists():  # it finished between the two looks
        return SupervisorState.EXITED
    if not run_dir.pid_json.exists():
        return SupervisorState.STARTING
    return SupervisorState.LOST


def read_pids(run_dir: RunDir) -> PidRecord | None:
    """pid.json, or None before the trainer has started. ValueError if it is not valid."""
    raw = _read_json(run_dir.pid_json)
    if raw is None:
        return None
    try:
        return PidRecord(
            supervisor_pid=int(raw["supervisorPid"]),
            trainer_pid=int(raw["trainerPid"]),
            pgid=int(raw["pgid"]),
            started_at=float(raw["startedAt"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{run_dir.pid_json}: not a pid record: {exc!r}") from exc


def read_exit(run_dir: RunDir) -> ExitRecord | None:
    """exit.json, or None while the run lasts. ValueError if it is not valid."""
    raw = _read_json(run_dir.exit_json)
    if raw is None:
        return None
    try:
        code, reason = raw["returncode"], raw["reason"]
        return ExitRecord(
            returncode=None if code is None else int(code),
            status=RunStatus(raw["status"]),
            reason=None if reason is None else str(reason),
            finished_at=float(raw["finishedAt"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{run_dir.exit_json}: not an exit record: {exc!r}") from exc


def request_stop(run_dir: RunDir) -> bool:
    """Ask the supervisor to stop the run (SIGTERM, then SIGKILL after the grace period).

    Only a supervisor that holds its lock is signalled, so a recycled pid is never hit.
    Returns whether a signal was sent; a second request changes nothing.
    """
    if probe(run_dir) is not SupervisorState.ALIVE:
        return False
    pids = read_pids(run_dir)
    if pids is not None:
        pid = pids.supervisor_pid
    else:  # still starting: the supervisor wrote its pid into the lock file first
        try:
            pid = int(run_dir.supervisor_lock.read_text())
        except (OSError, ValueError):
            return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def kill_orphans(run_dir: RunDir, run_id: str) -> int:
    """SIGKILL what is left of a LOST run: processes in the trainer's recorded group whose
    environment names the run. Returns how many were signalled; 0 while the supervisor
    lives, as the run's processes are its to manage."""
    pids = read_pids(run_dir)
    if pids is None or probe(run_dir) is SupervisorState.ALIVE:
        return 0
    marker = f"VTM_RUN_ID={run_id}".encode()
    killed: set[int] = set()
    # Again until a pass finds nobody new: one may have forked while we looked.
    while found := {pid for pid in _group_members(pids.pgid, marker) if pid not in killed}:
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.add(pid)
    return len(killed)


def _group_members(pgid: int, marker: bytes) -> list[int]:
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            if os.getpgid(pid) != pgid:
                continue
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue  # it vanished meanwhile, or it is another user's
        if marker in environ.split(b"\0"):
            members.append(pid)
    return members


def _lock_held(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the lock if we got it
    return False


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a JSON object")
    return raw


def _write_private(path: Path, text: str) -> None:
    """Write ``path`` readable by its owner only (the env may hold secrets), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to a file left by a crash
    os.replace(tmp, path)
