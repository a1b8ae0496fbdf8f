"""`vtm exec` without VTM_URL: the run is recorded straight into the local store
(VTM_DATABASE_URL, else $VTM_HOME/vtm.db) through the repository.

The run lives in ``$VTM_HOME/runs/<id>/`` like a server's run and its output is indexed by
the same ``LogIndexer``, so a `vtm serve` on the same store shows it as any other; one started
later (or restarted) even adopts it like its own: the supervisor's lock and exit record say
how it stands, and indexing is conditional on the stored offset, so both may index it.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

from vtm.errors import Conflict
from vtm.exec.recorder import Outcome
from vtm.redaction import redact_uri
from vtm.runs.indexer import LogIndexer
from vtm.runs.origin import link_previous_try
from vtm.settings import Settings
from vtm.states import IllegalTransition
from vtm.store import NewRun, RunData, RunRepository, create_db_engine, migrate
from vtm.store.records import utcnow

STOP_CHECK_SECONDS = 0.5


def store_name(settings: Settings) -> str:
    """The store's URL for messages, its password hidden."""
    return redact_uri(settings.effective_database_url)


class LocalRecorder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.runs_dir.mkdir(parents=True, exist_ok=True)  # the SQLite store lives beside
        self.engine = create_db_engine(settings.effective_database_url)
        migrate(self.engine)
        self.repo = RunRepository(self.engine, tail_lines=settings.log_tail_lines)
        self.run: RunData | None = None
        self._indexer: LogIndexer | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._stop_requested = False

    @property
    def where(self) -> str:
        return store_name(self.settings)

    def register(self, new: NewRun) -> RunData:
        origin = link_previous_try(self.repo, new.task_id, new.origin)
        self.run = self.repo.insert(dataclasses.replace(new, origin=origin))
        return self.run

    def follow(self, output: Path) -> None:
        assert self.run is not None, "register first"
        self._indexer = LogIndexer(self.repo, self.run, output, self.settings.log_tail_lines)
        self._thread = threading.Thread(target=self._follow, name="exec-index", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        assert self._indexer is not None
        next_check = 0.0
        while not self._closing.is_set():
            if self._indexer.index(final=False):
                continue  # more is waiting already
            now = time.monotonic()
            if now >= next_check:  # a `vtm serve` on this store may have been asked to stop it
                next_check = now + STOP_CHECK_SECONDS
                self._stop_requested = self.repo.get(self._indexer.run_id).stop_requested
            self._closing.wait(self.settings.tail_interval_seconds)

    def stop_requested(self) -> bool:
        return self._stop_requested

    def finish(self, outcome: Outcome, size: int) -> None:
        assert self.run is not None
        self._closing.set()
        if self._thread is not None:
            self._thread.join()
        if self._indexer is not None:  # None: the trainer never started, there is no output
            try:
                self._indexer.drain()
            finally:
                self._indexer.close()
        try:
            self.run = self.repo.transition(
                self.run.id,
                outcome.status,
                exit_code=outcome.returncode,
                error=outcome.reason,
                finished_at=utcnow(),
            )
        except (Conflict, IllegalTransition):
            # A `vtm serve` on this store adopted the run and finished it from the same exit
            # record: nothing is left to do.
            self.run = self.repo.get(self.run.id)

    def close(self) -> None:
        self._closing.set()
        self.engine.dispose()
