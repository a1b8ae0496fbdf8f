"""A supervisor started ahead of time, so that starting a run costs no interpreter start.

A cold supervisor spends about 9 ms starting Python and 3 ms importing before it can fork
the trainer: as long as a bare trainer's own start, which the start-up benchmark allows to
grow by half at most. A spare has done all that already and waits on its stdin; handed a
run directory, it forks the trainer within a millisecond. One spare is kept per server.

A spare inherited the server's environment when it started; one that no longer matches
``os.environ`` is thrown away, so runs see what a cold start would have given them. A
spare whose server dies reads end-of-file and exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

PROGRAM_PATH = Path(__file__).with_name("program.py")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Spare:
    proc: subprocess.Popen[bytes]
    environ: dict[str, str]
    owner: int  # a forked copy of the server must not hand over its parent's spare


_lock = threading.Lock()
_spare: _Spare | None = None
_retired: list[subprocess.Popen[bytes]] = []  # let go (stdin closed), not yet reaped


def program_command(*args: str) -> list[str]:
    return [sys.executable, "-I", "-S", str(PROGRAM_PATH), *args]


def start_spare() -> None:
    """Have a spare supervisor wait for the next run, unless one already does."""
    global _spare
    with _lock:
        _retired[:] = [proc for proc in _retired if proc.poll() is None]
        if _spare is not None:
            if _spare.proc.poll() is None:
                return
            _retire(_spare.proc)
        proc = subprocess.Popen(
            program_command("--spare"),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,  # it moves to the run's supervisor.log when handed one
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,  # as detached as a cold one: Ctrl-C must not reach it
        )
        _spare = _Spare(proc, dict(os.environ), os.getpid())


# Long enough for the trainer just handed over to start: on 2 cores a new spare's own
# interpreter start would otherwise compete with it.
SPARE_DELAY_SECONDS = 0.2


def start_spare_soon() -> None:
    """Make the next spare ready a moment after a run started, off the caller's path."""
    timer = threading.Timer(SPARE_DELAY_SECONDS, _start_spare_logged)
    timer.daemon = True
    timer.start()


def spare_ready() -> bool:
    """Whether a spare is waiting for the next run (tests and diagnostics)."""
    with _lock:
        return _spare is not None and _spare.proc.poll() is None


def _start_spare_logged() -> None:
    try:
        start_spare()
    except OSError as exc:  # the next run then starts cold: slower, not wrong
        log.warning("cannot start a spare supervisor: %s", exc)


def hand_over(run_dir: Path) -> subprocess.Popen[bytes] | None:
    """Give ``run_dir`` (with its spec.json written) to the spare; None if none is fit."""
    global _spare
    data = os.fsencode(run_dir.absolute()) + b"\n"
    with _lock:
        spare, _spare = _spare, None
        if spare is None or spare.owner != os.getpid():
            return None
        assert spare.proc.stdin is not None
        if spare.environ == dict(os.environ) and spare.proc.poll() is None and len(data) < 4096:
            try:
                os.write(spare.proc.stdin.fileno(), data)  # under PIPE_BUF: all or nothing
            except BrokenPipeError:
                pass  # it died meanwhile: the caller starts a cold one
            else:
                spare.proc.stdin.close()
                return spare.proc
        _retire(spare.proc)  # not waited for here: that would hold up the run's start
        return None


def stop_spare() -> None:
    """Let the spare go and reap it and any earlier ones; at exit, and for tests."""
    global _spare
    with _lock:
        if _spare is not None:
            _retire(_spare.proc)
            _spare = None
        retired = list(_retired)
        _retired.clear()
    for proc in retired:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


atexit.register(stop_spare)


def _retire(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()  # end-of-file: it exits by itself
    _retired.append(proc)
