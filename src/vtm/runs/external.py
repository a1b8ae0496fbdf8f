"""Runs that `vtm exec` supervises elsewhere (an Airflow worker, a pod) and reports here.

The exchange (``api/routes/external.py``), every step safe to repeat:

1. register: the run is stored ``running`` under the id `vtm exec` chose (a retried register
   finds it), with origin ``exec``, the host and any Airflow context (a retry's run links to
   the previous try's, as for runs the provider starts);
2. output: raw bytes at a byte offset, appended to this server's ``runs/<id>/output.log``
   (bytes it already has are skipped, so a resent chunk changes nothing) and indexed by the
   same ``LogIndexer`` as the runs this server supervises: progress, metrics, log tail and
   events behave the same. The answer says how many bytes the server holds, which is where
   the sender goes on from, and whether someone asked to stop the run;
3. finish: the supervisor's outcome, accepted once every byte has arrived.

This server supervises none of it, so recovery skips these runs (their launch record says
``external``, or names an executor other than ``local``).

A run a Ray cluster trains (``runs.ray_runs``) is created by this server, not registered: its
job's `vtm exec` *claims* it instead, trading the run's one-time ticket for the run's token
(``runs.credentials``), and from then on reports with that token, which is good for this run's
output and finish only.
Every output post, empty or not, is a heartbeat: a run that has not reported for
``VTM_EXEC_HEARTBEAT_TIMEOUT_SECONDS`` is failed as lost (its `vtm exec` was killed, or its
machine or network went). The silence is counted from this server's start at the earliest,
so a server that was down itself gives its execs that long to come back. A cluster run is
counted from its claim: until its job's `vtm exec` has started, Ray's job status is what tells
(``runs.ray_runs``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from vtm.errors import Conflict, FieldError, Forbidden, InvalidRequest, NotFound
from vtm.runs.credentials import digest, matches, new_secret
from vtm.runs.events import Publisher
from vtm.runs.ids import is_run_id
from vtm.runs.indexer import LogIndexer
from vtm.runs.origin import link_previous_try
from vtm.settings import Settings
from vtm.states import IllegalTransition, RunStatus
from vtm.store import LaunchRecord, NewRun, RunData, RunRepository
from vtm.store.records import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExternalRun:
    """What `vtm exec` registers: a run it has validated against its own catalog."""

    id: str
    task_id: str
    fields: dict[str, Any]
    command: list[str]
    host: str
    airflow: dict[str, Any] | None = None
    experiment: str | None = None


OUTSIDE_STOP = (
    "stopped from outside VTM: `vtm exec` on the node was sent a stop signal "
    "(Ray's stop_job, or the node shutting down)"
)


def _outside_stop(run: RunData, reported: RunStatus) -> bool:
    """A cluster run reported stopped that nobody asked VTM to stop: it is recorded failed."""
    if reported is not RunStatus.STOPPED or run.launch.executor == "local":
        return False
    if run.status.is_terminal:  # already recorded so?
        return run.status is RunStatus.FAILED and (run.error or "").startswith(OUTSIDE_STOP)
    return not run.stop_requested


@dataclass(frozen=True)
class Claim:
    """What a Ray job's `vtm exec` says when it takes up its run."""

    ticket: str
    task_id: str
    host: str
    gpus: list[int]
    command: list[str]


@dataclass(frozen=True)
class OutputAck:
    received: int  # bytes of output the server holds: where the sender goes on from
    run: RunData


@dataclass
class _Locks:
    """One lock per run: a run's appends, finish and expiry never interleave."""

    guard: threading.Lock = field(default_factory=threading.Lock)
    by_run: dict[str, threading.Lock] = field(default_factory=dict)

    def of(self, run_id: str) -> threading.Lock:
        with self.guard:
            return self.by_run.setdefault(run_id, threading.Lock())

    def forget(self, run_id: str) -> None:
        with self.guard:
            self.by_run.pop(run_id, None)


class ExternalRuns:
    def __init__(
        self,
        settings: Settings,
        repo: RunRepository,
        publish: Publisher,
        on_finished: Callable[[RunData], None] | None = None,
    ) -> None:
        """``on_finished``: called as each run ends (the MLflow linker); must not block."""
        self.settings = settings
        self.repo = repo
        self._publish = publish
        self._on_finished = on_finished
        self._locks = _Locks()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._since = utcnow()

    @property
    def timeout(self) -> float:
        return self.settings.exec_heartbeat_timeout_seconds

    @property
    def heartbeat_seconds(self) -> float:
        """How often `vtm exec` should report when it has nothing to send."""
        return self.settings.exec_heartbeat_seconds

    def _output_log(self, run_id: str) -> Path:
        return self.settings.runs_dir / run_id / "output.log"

    def _get(self, run_id: str) -> RunData:
        if not is_run_id(run_id):
            raise NotFound(f"unknown run {run_id!r}")
        run = self.repo.get(run_id)
        if not run.launch.supervised_elsewhere:
            raise Conflict(f"run {run_id} is supervised by this server, not by `vtm exec`")
        return run

    # -- the exchange -----------------------------------------------------------------------

    def register(self, req: ExternalRun) -> tuple[RunData, bool]:
        """Store the run as running; (run, created). A repeated register returns the run."""
        if not is_run_id(req.id):
            raise InvalidRequest([FieldError("id", f"not a run id: {req.id!r}")])
        with self._locks.of(req.id):
            try:
                existing: RunData | None = self.repo.get(req.id)
            except NotFound:
                existing = None
            if existing is not None:
                same = (
                    existing.launch.external
                    and existing.task_id == req.task_id
                    and existing.origin.get("host") == req.host
                )
                if not same:
                    raise Conflict(f"run id {req.id} is taken by another run")
                return existing, False
            origin: dict[str, Any] = {"kind": "exec", "host": req.host}
            if req.airflow:
                origin["airflow"] = req.airflow
            now = utcnow()
            new = NewRun(
                id=req.id,
                task_id=req.task_id,
                fields=dict(req.fields),
                command=list(req.command),
                launch=LaunchRecord(external=True, mlflow_experiment=req.experiment or req.task_id),
                origin=link_previous_try(self.repo, req.task_id, origin),
                status=RunStatus.RUNNING,
                started_at=now,
                created_at=now,
            )
            self._output_log(req.id).parent.mkdir(parents=True, exist_ok=True)
            run = self.repo.insert(new)
        log.info("run %s of %s registered by vtm exec on %s", run.id, run.task_id, req.host)
        self._publish("run.created", run)
        return run, True

    def claim(self, run_id: str, claim: Claim) -> tuple[RunData, str]:
        """Trade a cluster run's one-time ticket for its token: (run, token). The run then
        records the node's host, the GPUs the cluster gave it and the command `vtm exec`
        planned from the node's catalog. A used or wrong ticket is Forbidden."""
        with self._locks.of(run_id):
            run = self._get(run_id)
            if run.launch.executor == "local" or not matches(claim.ticket, run.ticket_hash):
                raise Forbidden(f"this ticket does not open run {run_id} (used, or not its own)")
            if claim.task_id != run.task_id:
                raise Conflict(f"run {run_id} is of task {run.task_id!r}, not {claim.task_id!r}")
            if run.status.is_terminal:
                raise Conflict(f"run {run_id} has ended ({run.status.value}): {run.error or ''}")
            token = new_secret()
            changes: dict[str, Any] = {
                "ticket_hash": None,  # good once
                "token_hash": digest(token),
                "host": claim.host,
                "gpus": claim.gpus,
                "command": claim.command,
            }
            if run.status is RunStatus.QUEUED:  # claimed before the submit's answer was in
                run = self.repo.transition(
                    run_id, RunStatus.RUNNING, started_at=utcnow(), **changes
                )
            else:
                run = self.repo.set_fields(run_id, **changes)
        log.info("run %s claimed by vtm exec on %s (GPUs %s)", run_id, claim.host, claim.gpus)
        self._publish("run.updated", run)
        return run, token

    def token_digest(self, run_id: str) -> str | None:
        """The digest of the run's own token: "" for a cluster run not claimed yet (no token
        opens it); None for a run that has none (the server's own, `vtm exec`'s) or no run."""
        if not is_run_id(run_id):
            return None
        try:
            run = self.repo.get(run_id)
        except NotFound:
            return None
        if run.launch.executor == "local":
            return None
        return run.token_hash or ""

    def end_unreported(
        self, run_id: str, status: RunStatus, error: str, exit_code: int | None
    ) -> RunData | None:
        """End a run whose `vtm exec` will never report (its cluster says the job is gone);
        None when it had ended meanwhile."""
        with self._locks.of(run_id):
            run = self.repo.get(run_id)
            if run.status.is_terminal:
                return None
            try:
                run = self.repo.transition(
                    run_id, status, error=error, exit_code=exit_code, finished_at=utcnow()
                )
            except (Conflict, IllegalTransition):
                return None
        self._ended(run)
        return run

    def append(self, run_id: str, offset: int, data: bytes) -> OutputAck:
        """Take output bytes ``data`` that start at byte ``offset`` of the run's output.

        Bytes the server already holds are skipped; a chunk that starts beyond them is not
        taken (the answer's ``received`` tells the sender where to resend from).
        """
        with self._locks.of(run_id):
            run = self._get(run_id)
            if run.status.is_terminal:
                raise Conflict(f"run {run_id} has ended ({run.status.value}): {run.error or ''}")
            path = self._output_log(run_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as out:
                size = out.tell()
                if data and offset <= size < offset + len(data):
                    out.write(data[size - offset :])
                    size = offset + len(data)
            indexer = LogIndexer(self.repo, run, path, self.settings.log_tail_lines, self._publish)
            try:
                while indexer.index(final=False):
                    pass
            finally:
                indexer.close()
            latest = indexer.latest
            if latest is run:  # nothing new to index: record the contact all the same
                latest = self.repo.set_fields(run_id)
            return OutputAck(size, latest)

    def finish(
        self, run_id: str, status: RunStatus, exit_code: int | None, error: str | None, size: int
    ) -> RunData:
        """End the run once all ``size`` bytes of its output are here. Repeating it is fine."""
        if not status.is_terminal:
            raise InvalidRequest([FieldError("status", "must be completed, failed or stopped")])
        with self._locks.of(run_id):
            run = self._get(run_id)
            if run.status.is_terminal:
                recorded = _outside_stop(run, status)
                if (recorded or run.status is status) and run.exit_code == exit_code:
                    return run  # the same outcome again (its answer was lost)
                raise Conflict(f"run {run_id} has already ended {run.status.value}: {run.error}")
            path = self._output_log(run_id)
            have = path.stat().st_size if path.exists() else 0
            if have < size:
                raise Conflict(
                    f"the server holds {have} of the run's {size} output bytes: send the rest first"
                )
            indexer = LogIndexer(self.repo, run, path, self.settings.log_tail_lines, self._publish)
            try:
                indexer.drain()
            finally:
                indexer.close()
            if _outside_stop(run, status):
                # Nobody asked VTM to stop it: the cluster did (Ray's stop, a node going down).
                status = RunStatus.FAILED
                error = OUTSIDE_STOP + (f": {error}" if error else "")
            run = self.repo.transition(
                run_id, status, exit_code=exit_code, error=error, finished_at=utcnow()
            )
        self._ended(run)
        return run

    def _ended(self, run: RunData) -> None:
        self._locks.forget(run.id)
        log.info("run %s %s%s", run.id, run.status.value, f": {run.error}" if run.error else "")
        self._publish("run.finished", run)
        if self._on_finished is not None:
            self._on_finished(run)

    # -- runs whose `vtm exec` went silent --------------------------------------------------

    def start(self) -> None:
        self._since = utcnow()
        self._thread = threading.Thread(target=self._watch, name="external-runs", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _watch(self) -> None:
        every = min(5.0, self.timeout / 4)
        while not self._closing.wait(every):
            try:
                self.expire_silent()
            except SQLAlchemyError:  # a database hiccup must not end the watch
                log.exception("checking vtm exec runs for silence failed; trying again")

    def expire_silent(self, now: datetime | None = None) -> list[RunData]:
        """Fail the running external runs that have not reported for the timeout."""
        now = now or utcnow()
        expired = []
        for candidate in self.repo.unfinished():
            if not candidate.launch.supervised_elsewhere or not self._silent(candidate, now):
                continue
            if candidate.launch.executor != "local" and candidate.token_hash is None:
                continue  # a cluster job not started yet: the cluster's watch tells about it
            with self._locks.of(candidate.id):
                run = self.repo.get(candidate.id)  # a report may have come meanwhile
                if run.status.is_terminal or not self._silent(run, now):
                    continue
                host = run.origin.get("host") or "its host"
                try:
                    run = self.repo.transition(
                        run.id,
                        RunStatus.FAILED,
                        finished_at=now,
                        error=(
                            f"lost: vtm exec on {host} has not reported for "
                            f"{self.timeout:g} s (killed, or its machine or network went)"
                        ),
                    )
                except (Conflict, IllegalTransition):
                    continue
            expired.append(run)
            self._ended(run)
        return expired

    def _silent(self, run: RunData, now: datetime) -> bool:
        last = max(run.updated_at, self._since)
        return (now - last).total_seconds() > self.timeout
