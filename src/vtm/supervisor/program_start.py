"""The supervisor's start: lock, read the spec, start the trainer, then hand over.

Part of the supervisor program (see ``program.py``): standard library only, and as little of
it as will do, since this runs between "start a run" and the trainer's first statement.
``os.fork`` and ``os.execvpe`` stand in for ``subprocess``, whose imports cost more than all
of this.
"""

from __future__ import annotations

import _json
import ctypes
import fcntl
import os
import sys
import time

TYPE_CHECKING = False  # mypy takes any TYPE_CHECKING as true; importing typing costs time
if TYPE_CHECKING or __package__:  # imported as vtm.supervisor.program_start
    from . import program_watch as watch
else:  # in the supervisor: program.py put this folder on sys.path, the vtm package is unused
    import program_watch as watch
if TYPE_CHECKING:
    import signal as _signal  # the typed face of the same C functions
    from typing import Any
else:
    import _signal

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
# An exec keeps a disposition of "ignore": Python itself ignores SIGPIPE, and a server
# started in the background may ignore SIGINT. The trainer starts with the defaults.
RESET_SIGNALS = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGPIPE, _signal.SIGXFSZ)


class _JsonContext:
    """The settings ``_json.make_scanner`` reads, as ``json.JSONDecoder`` would set them."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float


def read_spec(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as file:
        text = file.read().strip()
    try:
        spec, end = _json.make_scanner(_JsonContext())(text, 0)  # type: ignore[arg-type]
    except StopIteration:
        raise ValueError("not JSON") from None
    env = spec.get("env", {}) if isinstance(spec, dict) else None
    if not (
        end == len(text)
        and isinstance(env, dict)
        and _strings(spec.get("argv"), nonempty=True)
        and _strings([spec.get("runId"), spec.get("cwd"), *env.keys(), *env.values()])
        and _strings(spec.get("unsetEnv", []))
        and isinstance(spec.get("timeoutSeconds"), int | float | None)
        and isinstance(spec.get("graceSeconds", 10.0), int | float)
    ):
        raise ValueError("fields missing or of the wrong type")
    return spec  # type: ignore[no-any-return]


def _strings(value: object, nonempty: bool = False) -> bool:
    if not isinstance(value, list) or (nonempty and not value):
        return False
    return all(isinstance(item, str) for item in value)


def start_trainer(run_dir: str, spec: dict[str, Any], libc: ctypes.CDLL) -> int:
    """Fork and exec the trainer in its own session; its pid, or OSError why it failed."""
    env = dict(os.environ)
    for name in spec.get("unsetEnv", []):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"  # before the spec's env, so a runner may still override it
    env.update(spec.get("env", {}))
    env["VTM_RUN_ID"] = spec["runId"]  # kill_orphans() recognises the run's processes by it
    log_path = os.path.join(run_dir, watch.OUTPUT_LOG)
    out = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    report, report_w = os.pipe2(os.O_CLOEXEC)  # exec closes it: EOF means the exec worked
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()  # its own group: a stop signals the whole tree it forks
            # Die with the supervisor; if that happened before prctl, don't run at all.
            libc.prctl(PR_SET_PDEATHSIG, _signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:
                os._exit(1)
            for signum in RESET_SIGNALS:
                _signal.signal(signum, _signal.SIG_DFL)
            _signal.pthread_sigmask(_signal.SIG_SETMASK, ())  # a blocked mask survives exec
            os.dup2(null, 0)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.chdir(spec["cwd"])
            os.execvpe(spec["argv"][0], spec["argv"], env)
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in argv or env
            os.write(report_w, str(exc).encode("utf-8", "replace"))
        finally:
            os._exit(127)  # never return into the supervisor's code
    for fd in (report_w, out, null):
        os.close(fd)
    error = b""
    while chunk := os.read(report, 4096):
        error += chunk
    os.close(report)
    if error:
        os.waitpid(pid, 0)
        raise OSError(error.decode("utf-8", "replace"))
    return pid


def await_run_dir() -> str | None:
    """A spare's wait (see ``vtm.supervisor.spare``): the run directory the server hands
    over on stdin, with stdout and stderr moved to its supervisor.log; None at end-of-file."""
    data = b""
    while chunk := os.read(0, 4096):
        data += chunk
    if not data.strip():
        return None  # the server let us go, or died
    run_dir = os.path.abspath(os.fsdecode(data.strip()))
    log = os.path.join(run_dir, watch.SUPERVISOR_LOG)
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, log, os.O_WRONLY | os.O_APPEND)):
        new = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, 0o644)
        os.dup2(new, fd)
        os.close(new)
    os.dup2(1, 2)
    return run_dir


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -I -S program.py RUN_DIR | --spare", file=sys.stderr)
        return 2
    run_dir = await_run_dir() if argv[1] == "--spare" else os.path.abspath(argv[1])
    if run_dir is None:
        return 0
    # Before anything else: a stop request during start-up waits for the loop to act on it.
    _signal.pthread_sigmask(_signal.SIG_BLOCK, watch.WAKE_SIGNALS)
    lock_path = os.path.join(run_dir, watch.LOCK)
    lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)  # blocking: a probe holds it for a moment at most
    os.ftruncate(lock, 0)
    os.write(lock, b"%d\n" % os.getpid())  # lets request_stop() find us before pid.json
    if any(os.path.exists(os.path.join(run_dir, name)) for name in (watch.PIDS, watch.EXIT)):
        # Spawned twice: the first supervisor ran (or runs) this trainer; never run it again.
        watch.log("this run was started before: not starting it again")
        return 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # the run's orphans come to us, not PID 1
    try:
        spec = read_spec(os.path.join(run_dir, watch.SPEC))
    except (OSError, ValueError) as exc:
        return watch.finish(run_dir, None, "failed", f"cannot read {watch.SPEC}: {exc}")
    if watch.STOP_SIGNALS & _signal.sigpending():
        return watch.finish(run_dir, None, "stopped", "stopped before the trainer started")
    try:
        pid = start_trainer(run_dir, spec, libc)
    except OSError as exc:
        return watch.finish(run_dir, None, "failed", f"cannot start the trainer: {exc}")
    started = time.time()
    try:
        watch.write_atomic(
            os.path.join(run_dir, watch.PIDS),
            f'{{"supervisorPid": {os.getpid()}, "trainerPid": {pid}, "pgid": {pid}, '
            f'"startedAt": {started!r}}}\n',
        )
    except OSError as exc:  # the run goes on; request_stop() reads the lock file instead
        watch.log(f"cannot write {watch.PIDS}: {exc}")
    watch.log(f"trainer started: pid {pid}, argv {spec['argv']}")
    waiter = watch.Watch(pid, spec.get("timeoutSeconds"), float(spec.get("graceSeconds", 10.0)))
    returncode = os.waitstatus_to_exitcode(waiter.run())
    watch.kill_the_rest()  # only now is exit.json true: nothing of the run is alive
    return watch.finish(run_dir, returncode, *watch.describe(returncode, waiter.outcome))
