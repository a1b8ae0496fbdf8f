"""`vtm exec`'s quick start: hand the command to a spare `vtm exec` waiting on this machine.

A cold `vtm exec` spends a few hundred milliseconds starting Python and importing VTM's
catalog models, the API client and the CLI before its trainer can start; on a Ray node that
is most of what a VTM run adds to Ray's own job start. A spare (``vtm exec-spare``, see
``vtm.exec.spare``) has done all that already: with VTM_EXEC_SPARE naming its socket, this
process sends it the command line, the environment, the working folder and its own stdin,
stdout and stderr, and the spare forks a copy of itself that runs the command as a cold
`vtm exec` would, writing to this process's output. This process stays in the foreground
for whoever started it (Ray's job, Airflow's task): it passes SIGTERM, SIGINT and SIGHUP on
to the copy, and ends with the copy's exit code; if it is killed, the copy sees its socket
close and stops the run as a killed cold `vtm exec` does.

Standard library only, imported before anything else of VTM: it runs on the path it shortens.
No spare answering, or one that refuses (another Python, older code), means a cold start.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import struct
import sys
from typing import Any

SPARE_ENV = "VTM_EXEC_SPARE"
# The request: a 4-byte length with the three descriptors attached, then that many bytes of
# JSON. The answers: one JSON line each, {"pid": N} (or {"refused": why}), then {"exit": N}.
HEADER = struct.Struct("!I")
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
LOST_EXIT = 1  # the copy ended without telling its exit code (killed outright)


def note(message: str) -> None:
    """A line of `vtm exec`'s own, on stderr (stdout carries the trainer's output alone);
    plain and unwrapped, as task logs keep it."""
    print(f"vtm exec: {message}", file=sys.stderr, flush=True)


def request(argv: list[str]) -> dict[str, Any]:
    umask = os.umask(0o077)
    os.umask(umask)
    return {
        "argv": argv,
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "umask": umask,
        "executable": sys.executable,
    }


def peer_uid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    uid: int = struct.unpack("3i", creds)[1]
    return uid


def hand_over(path: str, argv: list[str]) -> int | None:
    """Run ``argv`` (`vtm exec …`) in the spare at ``path``: its exit code, or None when no
    spare took it (then start cold)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None  # none listening: the usual case on a machine without a spare
    with sock:
        # The command carries the run's secrets in its environment: only to our own user.
        if peer_uid(sock) != os.getuid():
            note(f"the spare at {path} belongs to another user; starting cold")
            return None
        body = json.dumps(request(argv)).encode()
        try:
            socket.send_fds(sock, [HEADER.pack(len(body))], [0, 1, 2])
            sock.sendall(body)
        except OSError as exc:
            note(f"the spare at {path} did not take the command ({exc}); starting cold")
            return None
        answers = sock.makefile("rb")
        first = _answer(answers)
        if "pid" not in first:
            why = first.get("refused", "no answer")
            note(f"the spare at {path} refused the command ({why}); starting cold")
            return None
        pid = int(first["pid"])
        note(f"started by the spare at {path} (process {pid})")  # the test kit's copy_pid reads it
        for signum in FORWARDED:
            signal.signal(signum, lambda signum, _frame: _forward(pid, signum))
        last = _answer(answers)
        if "exit" not in last:
            note(f"process {pid} ended without an exit code")
            return LOST_EXIT
        return int(last["exit"])


def _answer(answers: io.BufferedReader) -> dict[str, Any]:
    try:
        line = answers.readline()
    except OSError:
        return {}
    try:
        answer = json.loads(line) if line else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _forward(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has just ended: its code is on its way
        os.kill(pid, signum)
