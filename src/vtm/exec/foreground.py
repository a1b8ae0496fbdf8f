"""`vtm exec`'s run: one trainer in the foreground, under VTM's per-run supervisor.

The supervisor is the one the server uses (``spawn_supervisor``), started ``tied`` to this
process: a killed `vtm exec` makes it stop the trainer. This process copies the trainer's
output to its own stdout as it is written (Airflow's task log), turns SIGTERM/SIGINT (Airflow's
on_kill, a pod's termination, Ctrl-C) into a stop through the supervisor (SIGTERM to the
trainer's group, SIGKILL after the grace period), and ends with the supervisor's outcome. A
``Recorder`` keeps VTM told meanwhile: the local store, or the server at VTM_URL.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from vtm.exec.recorder import Outcome, Recorder
from vtm.runs.failure import explain
from vtm.runs.launch import launch_spec
from vtm.settings import Settings
from vtm.states import RunStatus
from vtm.store import NewRun
from vtm.supervisor import RunDir, kill_orphans, read_exit, request_stop, spawn_supervisor

POLL_SECONDS = 0.05
COPY_LIMIT = 1 << 20
COPY_ROUNDS = 16


class StopSignal:
    """SIGTERM/SIGINT noted for the loop to act on (a signal handler does no work)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def handler(self, signum: int, _frame: object) -> None:
        self.signum = signum

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.handler)


class Foreground:
    def __init__(
        self,
        settings: Settings,
        run: NewRun,
        run_dir: RunDir,
        recorder: Recorder,
        stop: StopSignal,
        out: BinaryIO | None,
        note: Callable[[str], None],
    ) -> None:
        """``stop``: set when this process was asked to stop the run; ``out``: where the
        trainer's output is copied (None: nowhere); ``note``: a line for the task log."""
        self.settings = settings
        self.run = run
        self.run_dir = run_dir
        self.recorder = recorder
        self._out = out
        self._note = note
        self._stop = stop

    def run_trainer(self) -> Outcome:
        spec = launch_spec(self.settings, self.run, self.run_dir, None)
        try:
            (self.settings.tensorboard_dir / self.run.id).mkdir(parents=True, exist_ok=True)
            popen = spawn_supervisor(self.run_dir, spec, tied=True)
        except OSError as exc:
            return Outcome(RunStatus.FAILED, None, f"could not launch: {exc}")
        self.recorder.follow(self.run_dir.output_log)
        try:
            with _Tail(self.run_dir.output_log) as tail:
                outcome = self._loop(popen, tail)
                self._copy(tail, everything=True)
        finally:
            popen.wait()
        return outcome

    def _loop(self, popen: subprocess.Popen[bytes], tail: _Tail) -> Outcome:
        stop_sent = False
        while True:
            self._copy(tail, everything=False)
            wanted = self._stop.signum is not None or self.recorder.stop_requested()
            if wanted and not stop_sent:
                # False while the supervisor is still starting: asked again next time round.
                stop_sent = request_stop(self.run_dir)
                if stop_sent:
                    self._note(
                        f"stopping run {self.run.id}: SIGTERM to the trainer, SIGKILL after "
                        f"{self.settings.stop_grace_seconds:g} s"
                    )
            if self.run_dir.exit_json.exists():
                return self._exited()
            if popen.poll() is not None and not self.run_dir.exit_json.exists():
                return self._lost(popen.returncode)
            time.sleep(POLL_SECONDS)

    def _exited(self) -> Outcome:
        try:
            record = read_exit(self.run_dir)
        except ValueError as exc:
            return Outcome(RunStatus.FAILED, None, f"the supervisor's exit record: {exc}")
        if record is None:
            return Outcome(RunStatus.FAILED, None, "the supervisor's exit record is missing")
        return Outcome(
            record.status, record.returncode, explain(record.reason, self.run_dir.output_log)
        )

    def _lost(self, code: int) -> Outcome:
        reason = f"the supervisor exited (code {code}) without recording the trainer's exit"
        killed = kill_orphans(self.run_dir, self.run.id)
        if killed:
            reason += f"; killed {killed} leftover process(es) of the run"
        return Outcome(RunStatus.FAILED, None, reason)

    def _copy(self, tail: _Tail, *, everything: bool) -> None:
        """The trainer's new output to our stdout, as it came: Airflow's task log shows it.

        Unless ``everything``, at most COPY_ROUNDS reads, so a flood of output cannot keep
        the loop from noticing a stop or the end."""
        rounds = 0
        while data := tail.read():
            if self._out is not None:
                try:
                    self._out.write(data)
                    self._out.flush()
                except BrokenPipeError:
                    self._out = None  # nobody reads our stdout any more; the run goes on
                    self._note("stdout was closed: the trainer's output is no longer shown")
            rounds += 1
            if not everything and rounds >= COPY_ROUNDS:
                return


class _Tail:
    """Reads a file as it grows, from the start, a bounded piece at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None

    def __enter__(self) -> _Tail:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def read(self) -> bytes:
        if self._file is None:
            try:
                self._file = self.path.open("rb")
            except FileNotFoundError:
                return b""
        return self._file.read(COPY_LIMIT)
