"""The fork server's program (``python -m vtm_testkit.forkserver_program MODULE…``): import the
modules, then fork a child for each request read from stdin, answering its pid on stdout, and
each child's exit status as it is reaped (see ``forkserver``).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import threading
from collections.abc import Sequence
from typing import IO, Any


def _exit_code(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _serve(requests: IO[str], replies: IO[str]) -> dict[str, Any] | None:
    """Fork for each request; return the request in a child, None when the caller is gone."""
    children: set[int] = set()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # the wake-up fd is what tells
    selector = selectors.DefaultSelector()
    selector.register(requests, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)

    def reply(message: dict[str, Any]) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    def reap() -> None:
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            children.discard(pid)
            reply({"exit": pid, "code": _exit_code(status)})

    while True:
        for key, _ in selector.select():
            if key.fileobj == wake_r:
                os.read(wake_r, 512)
                reap()
                continue
            # One request at a time (ForkServer holds a lock until the answer), so nothing
            # waits in the stream's buffer unseen by select.
            line = requests.readline()
            if not line:  # the caller is gone: so are its servers
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
                return None
            request = json.loads(line)
            try:
                pid = os.fork()
            except OSError as exc:
                reply({"error": str(exc)})
                continue
            if pid == 0:
                selector.close()
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (wake_r, wake_w):
                    os.close(fd)
                requests.close()
                replies.close()
                return dict(request)
            children.add(pid)
            reply({"pid": pid})


def _become(request: dict[str, Any]) -> None:
    """In the child: the server's output, folder and environment, then ``python -m``."""
    import runpy

    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [request["module"], *request["args"]]
    sys.path[0] = os.getcwd()  # as `python -m` has it
    runpy.run_module(request["module"], run_name="__main__", alter_sys=True)


def main(modules: Sequence[str]) -> None:
    import importlib

    for name in modules:
        importlib.import_module(name)
    if threading.active_count() != 1:
        raise SystemExit(f"fork server: {modules} started threads; forking would lose them")
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    for stream in (requests, replies):
        os.set_inheritable(stream.fileno(), False)
    request = _serve(requests, replies)
    if request is not None:
        _become(request)


if __name__ == "__main__":
    main(sys.argv[1:])
