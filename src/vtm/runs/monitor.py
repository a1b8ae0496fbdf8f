"""One thread per running run: index its output as it is written, notice when it ends.

The trainer writes ``output.log`` itself; the monitor reads from the offset stored in the
database, indexes what it read and advances the offset in the same transaction, so a server
killed at any moment resumes exactly where it stopped: no line lost, none counted twice.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vtm.errors import Conflict
from vtm.protocol import parse_chunk
from vtm.states import IllegalTransition, RunStatus
from vtm.store import OutputBatch, RunData, RunRepository
from vtm.store.records import utcnow
from vtm.supervisor import RunDir, SupervisorState, kill_orphans, probe, read_exit, request_stop

log = logging.getLogger(__name__)

READ_LIMIT = 4 << 20
# How long a supervisor may take to write pid.json before its run counts as lost.
START_DEADLINE_SECONDS = 60.0
PROBE_EVERY_SECONDS = 0.25


@dataclass(frozen=True)
class MonitorContext:
    repo: RunRepository
    runs_dir: Path
    interval: float
    tail_lines: int
    publish: Callable[[str, RunData], None]
    finished: Callable[[RunData], None]
    shutdown: threading.Event


class RunMonitor(threading.Thread):
    def __init__(
        self, ctx: MonitorContext, run: RunData, popen: subprocess.Popen[bytes] | None = None
    ) -> None:
        super().__init__(name=f"monitor-{run.id}", daemon=True)
        self.ctx = ctx
        self.run_id = run.id
        self.run_dir = RunDir(ctx.runs_dir / run.id)
        self._popen = popen
        self._offset = run.log_offset
        self._at_line_start = run.at_line_start
        self._stop_wanted = run.stop_requested
        self._stop_sent = False
        self._started_at = run.started_at.timestamp() if run.started_at else time.time()
        self._file: BinaryIO | None = None
        self._stalled_size = -1
        self._wake = threading.Event()

    def request_stop(self) -> None:
        self._stop_wanted = True
        self._wake.set()

    def run(self) -> None:
        try:
            self._loop()
        finally:
            if self._file is not None:
                self._file.close()

    def _loop(self) -> None:
        next_probe = 0.0
        while not self.ctx.shutdown.is_set():
            if self._index(final=False):
                continue  # the read stopped at READ_LIMIT: the rest is waiting already
            if self._stop_wanted and not self._stop_sent:
                self._stop_sent = request_stop(self.run_dir)
            now = time.monotonic()
            if self.run_dir.exit_json.exists():
                self._finish_exited()
                return
            if now >= next_probe:
                next_probe = now + PROBE_EVERY_SECONDS
                reason = self._lost_reason()
                if reason is not None:
                    self._finish_lost(reason)
                    return
            self._wake.wait(self.ctx.interval)
            self._wake.clear()

    def _lost_reason(self) -> str | None:
        if self._popen is not None:
            self._popen.poll()  # reap our child; its exit alone proves nothing (exit.json does)
        state = probe(self.run_dir)
        if state is SupervisorState.LOST:
            return "the run's supervisor process died without recording the trainer's exit"
        if state is SupervisorState.STARTING:
            if self._popen is not None and self._popen.returncode is not None:
                return f"the supervisor exited (code {self._popen.returncode}) before starting"
            if time.time() - self._started_at > START_DEADLINE_SECONDS:
                return f"the supervisor did not start within {START_DEADLINE_SECONDS:.0f} s"
        return None

    def _open(self) -> BinaryIO | None:
        if self._file is None:
            try:
                self._file = self.run_dir.output_log.open("rb")
            except FileNotFoundError:
                return None
        return self._file

    def _index(self, *, final: bool) -> bool:
        """Index what is new in output.log; True if more was there than one read takes.

        A chatty trainer is read once per interval, not as fast as it prints: one batch (one
        transaction, one event) per interval is what keeps the server cheap under 10^6 lines.
        """
        fh = self._open()
        if fh is None:
            return False
        size = os.fstat(fh.fileno()).st_size
        if size <= self._offset or (not final and size == self._stalled_size):
            return False
        fh.seek(self._offset)
        data = fh.read(READ_LIMIT)
        more_after = self._offset + len(data) < size
        chunk = parse_chunk(
            data,
            at_line_start=self._at_line_start,
            final=final and not more_after,
            tail_lines=self.ctx.tail_lines,
        )
        if chunk.consumed == 0:
            self._stalled_size = size  # an unfinished line: wait for the file to grow
            return False
        batch = OutputBatch(
            expected_offset=self._offset,
            consumed=chunk.consumed,
            lines=chunk.lines,
            at_line_start=chunk.at_line_start,
            tail=chunk.tail,
            protocol_errors=chunk.malformed,
            progress=[m.data for m in chunk.messages if m.kind == "progress"],
            meta=[m.data for m in chunk.messages if m.kind == "meta"],
        )
        run = self.ctx.repo.apply_output(self.run_id, batch)
        if run is None:  # someone else indexed this range; take their offset
            run = self.ctx.repo.get(self.run_id)
        self._offset = run.log_offset
        self._at_line_start = run.at_line_start
        self._stalled_size = -1
        self.ctx.publish("run.updated", run)
        return more_after

    def _drain(self) -> None:
        while self._index(final=True):
            pass

    def _finish_exited(self) -> None:
        self._drain()
        record = read_exit(self.run_dir)
        if record is None:  # exists() raced a half-written rename: cannot happen, but be exact
            self._finish(RunStatus.FAILED, None, "the supervisor's exit record is unreadable")
            return
        self._finish(RunStatus(record.status), record.returncode, record.reason)

    def _finish_lost(self, reason: str) -> None:
        killed = kill_orphans(self.run_dir, self.run_id)
        if killed:
            reason += f"; killed {killed} leftover process(es) of the run"
        self._drain()
        self._finish(RunStatus.FAILED, None, reason)

    def _finish(self, status: RunStatus, exit_code: int | None, error: str | None) -> None:
        try:
            run = self.ctx.repo.transition(
                self.run_id, status, exit_code=exit_code, error=error, finished_at=utcnow()
            )
        except (Conflict, IllegalTransition):
            run = self.ctx.repo.get(self.run_id)
        log.info("run %s %s%s", self.run_id, run.status.value, f": {error}" if error else "")
        self.ctx.publish("run.finished", run)
        self.ctx.finished(run)
