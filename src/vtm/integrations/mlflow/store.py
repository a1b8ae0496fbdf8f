"""Creating the embedded MLflow store once, before anything else touches it.

MLflow builds a fresh SQLite store's tables on first use, and two processes doing that at the
same moment break it (alembic: "expected to match one row"; measured: every try of three
clients at once failed). So whoever first opens the store holds an exclusive lock on
``<db file>.lock``: the server (in a background thread) and the sample trainers alike. The
server creates it as it starts, so a trainer of one's own that does not take the lock finds it
ready; ``VTM_MLFLOW_STORE_AT_START=false`` defers that to first use (unless the `mlflow
server` child needs it), so a server that never touches MLflow never pays for importing it
(seconds of CPU).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vtm.integrations.mlflow.client import tracking_client
from vtm.settings import Settings

log = logging.getLogger(__name__)


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI; None for any other store."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    return Path(uri[len(prefix) :].split("?", 1)[0])


def lock_path(db_file: Path) -> Path:
    """The lock whoever first opens ``db_file`` holds (examples/trainers/mlflow_tracking.py
    derives the same name)."""
    return db_file.with_name(db_file.name + ".lock")


@contextmanager
def store_lock(db_file: Path) -> Iterator[None]:
    db_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(db_file), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def init_store(settings: Settings) -> None:
    """Create (migrate) the embedded store's tables if they are missing; blocks for seconds."""
    db_file = sqlite_path(settings.effective_mlflow_tracking_uri)
    if db_file is None:
        return
    settings.mlflow_artifact_root.mkdir(parents=True, exist_ok=True)
    # The lock is taken before mlflow is imported (seconds): a trainer starting meanwhile
    # waits for it instead of creating the tables itself.
    with store_lock(db_file):
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        # Built directly so that the "Default" experiment MLflow creates with the tables
        # gets VTM's artifact root, not ./mlruns in whatever folder the server runs from.
        store = SqlAlchemyStore(  # type: ignore[no-untyped-call]
            settings.effective_mlflow_tracking_uri, settings.mlflow_artifact_root.as_uri()
        )
        store.engine.dispose()
        tracking_client(settings).search_experiments(max_results=1)


def store_exists(settings: Settings) -> bool:
    """False only for an embedded store no one has created yet (nothing can be in it)."""
    db_file = sqlite_path(settings.effective_mlflow_tracking_uri)
    return db_file is None or db_file.exists()


class StoreInit:
    """Runs :func:`init_store` once in a thread; others wait for it with :meth:`wait`."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._done = threading.Event()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="mlflow-store-init", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    @property
    def needed(self) -> bool:
        return self._settings.mlflow_embedded

    def start(self) -> None:
        """At server start: begin now, unless deferred to first use and no `mlflow server`
        child needs the store."""
        if not self.needed:
            self._done.set()
        elif self._settings.mlflow_store_at_start or self._settings.mlflow_server:
            self._begin()

    def _begin(self) -> None:
        with self._lock:
            if not self._started:
                self._started = True
                self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            init_store(self._settings)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised here
            self.error = f"{type(exc).__name__}: {exc}"
            log.error(
                "the MLflow store %s could not be initialised: %s",
                self._settings.effective_mlflow_tracking_uri,
                self.error,
            )
        else:
            log.info("MLflow store ready in %.1f s", time.monotonic() - started)
        finally:
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the store is usable (initialising it now if nobody has yet); False on
        failure or when ``timeout`` passes."""
        if self.needed:
            self._begin()
        return self._done.wait(timeout) and self.error is None
