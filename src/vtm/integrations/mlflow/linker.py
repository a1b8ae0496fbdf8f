"""Linking a finished run to its MLflow run by tag, for trainers that print no VTM_RUN_META.

A trainer that tags its MLflow run ``vtm.run_id`` (as the sample trainers do) is linked
even if it never reports the MLflow run id itself. Searching MLflow takes a database query
(or an HTTP call to an external server), so it happens here, in one worker thread fed by a
queue: never on a monitor's indexing path or in a request.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from vtm.integrations.mlflow.client import VTM_RUN_TAG, tracking_client
from vtm.integrations.mlflow.store import StoreInit, store_exists
from vtm.settings import Settings
from vtm.store import RunData, RunRepository

log = logging.getLogger(__name__)

# Key of a run's launch plan that holds the MLflow experiment it was started for: fixed when
# the run is created, so a later catalog edit does not change where it is looked for.
EXPERIMENT_KEY = "mlflowExperiment"
STORE_WAIT_SECONDS = 300.0


def experiment_of(run: RunData) -> str:
    return str(run.launch.get(EXPERIMENT_KEY) or run.task_id)


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def find_tagged_run(settings: Settings, run: RunData) -> str | None:
    """The id of the MLflow run tagged with ``run``'s id in its experiment (the earliest
    started, when a trainer made several: its main run comes first)."""
    client = tracking_client(settings)
    experiment = client.get_experiment_by_name(experiment_of(run))
    if experiment is None:
        return None
    found = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`{VTM_RUN_TAG}` = {_quoted(run.id)}",
        order_by=["attributes.start_time ASC"],
        max_results=1,
    )
    return str(found[0].info.run_id) if found else None


class MlflowLinker:
    def __init__(
        self,
        settings: Settings,
        repo: RunRepository,
        publish: Callable[[str, RunData], None],
        store: StoreInit,
    ) -> None:
        self._settings = settings
        self._repo = repo
        self._publish = publish
        self._store = store
        self._queue: queue.SimpleQueue[RunData | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="mlflow-linker", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def submit(self, run: RunData) -> None:
        """Called when a run finishes; returns at once."""
        if run.mlflow_run_id is not None:
            return
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
        self._queue.put(run)

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            started = self._started
        if started:
            self._queue.put(None)
            self._thread.join(timeout)

    def _work(self) -> None:
        while (run := self._queue.get()) is not None:
            try:
                self._link(run)
            except Exception as exc:  # noqa: BLE001 - one run's failure must not end the worker
                log.warning("could not link run %s to MLflow by tag: %s", run.id, exc)

    def _link(self, run: RunData) -> None:
        if not store_exists(self._settings):
            return  # no trainer has logged to the embedded store: there is nothing to find
        if not self._store.wait(STORE_WAIT_SECONDS):
            log.warning("run %s not linked to MLflow: the MLflow store is not usable", run.id)
            return
        mlflow_run_id = find_tagged_run(self._settings, run)
        if mlflow_run_id is None:
            return
        if self._repo.get(run.id).mlflow_run_id is not None:
            return  # linked meanwhile (a late VTM_RUN_META line)
        linked = self._repo.set_fields(run.id, mlflow_run_id=mlflow_run_id)
        log.info("run %s linked to MLflow run %s by its %s tag", run.id, mlflow_run_id, VTM_RUN_TAG)
        self._publish("run.updated", linked)
