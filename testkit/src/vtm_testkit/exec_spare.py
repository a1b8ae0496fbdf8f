"""A `vtm exec-spare` for a test or a benchmark: started on a socket of its own, ready once
the socket answers, stopped with SIGTERM (SIGKILL if it does not end) when done."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from vtm_testkit.waiting import wait_for


def copy_pid(output: str) -> int | None:
    """The pid of the spare's copy that ran a `vtm exec`, from what that `vtm exec` printed
    on stderr (its note "started by the spare at PATH (process N)"); None: started cold."""
    _, found, rest = output.partition("started by the spare at ")
    if not found:
        return None
    return int(rest.split("(process ", 1)[1].split(")", 1)[0])


class ExecSpare:
    """``vtm``: the command's words (a `vtm` script, or ``python -m vtm``); ``env``: the
    spare's own environment (each command it takes brings its caller's)."""

    def __init__(
        self,
        vtm: Sequence[str],
        path: Path,
        log: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = [*vtm, "exec-spare", "--socket", str(path)]
        self.path = path
        self.log = log
        self.env = dict(env) if env is not None else None
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ExecSpare:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> ExecSpare:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._listening, f"the spare at {self.path} to listen", 60, every=0.05)
        return self

    def _listening(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(
                f"vtm exec-spare exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}"
            )
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.path))
            except OSError:
                return False
        return True

    def close(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        self.proc = None
