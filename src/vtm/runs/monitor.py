"""One thread per running run: index its output as it is written, notice when it ends.

The trainer writes ``output.log`` itself; the monitor reads from the offset stored in the
database, indexes what it read and advances the offset in the same transaction (``indexer``),
so a server killed at any moment resumes exactly where it stopped: no line lost, none counted
twice.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vtm.errors import Conflict
from vtm.runs.event_files import EventFileIndexer
from vtm.runs.events import Publisher
from vtm.runs.failure import explain
from vtm.runs.indexer import LogIndexer
from vtm.states import IllegalTransition, RunStatus
from vtm.store import RunData, RunRepository
from vtm.store.records import utcnow
from vtm.supervisor import RunDir, SupervisorState, kill_orphans, probe, read_exit, request_stop

log = logging.getLogger(__name__)

# How long a supervisor may take to write pid.json before its run counts as lost.
START_DEADLINE_SECONDS = 60.0
PROBE_EVERY_SECONDS = 0.25
# Event files are looked for (a walk of the run's folders) and read this often.
EVENTS_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class MonitorContext:
    repo: RunRepository
    runs_dir: Path
    tensorboard_dir: Path  # VTM_TENSORBOARD_DIR's parent: <it>/<run id>/ per run
    interval: float
    tail_lines: int
    publish: Publisher
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
        self._indexer = LogIndexer(
            ctx.repo, run, self.run_dir.output_log, ctx.tail_lines, ctx.publish
        )
        folders = [ctx.tensorboard_dir / run.id]
        if run.launch.in_run_dir:
            folders.append(self.run_dir.work_dir)
        self._events = EventFileIndexer(ctx.repo, run, folders)
        self._stop_wanted = run.stop_requested
        self._stop_sent = False
        self._started_at = run.started_at.timestamp() if run.started_at else time.time()
        self._wake = threading.Event()

    def request_stop(self) -> None:
        self._stop_wanted = True
        self._wake.set()

    def run(self) -> None:
        try:
            self._loop()
        finally:
            self._indexer.close()

    def _read_events(self) -> None:
        if self._indexer.latest.progress_count:
            return  # the trainer reports through the protocol: its event files are not kept
        run = self._events.index()
        if run is not None:
            self.ctx.publish("run.updated", run)

    def _loop(self) -> None:
        next_probe = next_events = 0.0
        while not self.ctx.shutdown.is_set():
            if self._indexer.index(final=False):
                continue  # the read stopped at READ_LIMIT: the rest is waiting already
            if self._stop_wanted and not self._stop_sent:
                self._stop_sent = request_stop(self.run_dir)
            now = time.monotonic()
            if self.run_dir.exit_json.exists():
                self._finish_exited()
                return
            if now >= next_events:
                next_events = now + EVENTS_EVERY_SECONDS
                self._read_events()
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

    def _finish_exited(self) -> None:
        self._indexer.drain()
        self._read_events()
        record = read_exit(self.run_dir)
        if record is None:  # exists() raced a half-written rename: cannot happen, but be exact
            self._finish(RunStatus.FAILED, None, "the supervisor's exit record is unreadable")
            return
        reason = explain(record.reason, self.run_dir.output_log)
        self._finish(RunStatus(record.status), record.returncode, reason)

    def _finish_lost(self, reason: str) -> None:
        killed = kill_orphans(self.run_dir, self.run_id)
        if killed:
            reason += f"; killed {killed} leftover process(es) of the run"
        self._indexer.drain()
        self._read_events()
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
