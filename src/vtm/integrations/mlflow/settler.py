"""Making a finished run's MLflow side agree with VTM: linked, and never left ``RUNNING``.

A trainer that is stopped, times out, is killed or dies with its supervisor never ends its
MLflow run: MLflow would show it running forever. So once a VTM run has ended, one worker
thread here links it by its ``vtm.run_id`` tag if its trainer did not report its MLflow run
(``VTM_RUN_META``), then ends every MLflow run of it still ``RUNNING`` with the VTM run's
outcome and end time. Each settled run is marked in the store (``mlflow_settled_at``), so runs
that ended while no server was up, or while MLflow could not be reached, are settled by the
next start's sweep or a retry: nothing is left behind.

MLflow costs a database query or an HTTP call, and seconds to import: never on a monitor's
path or in a request, and not at all for a server whose embedded store nobody created.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Literal

from vtm.integrations.mlflow.client import VTM_RUN_TAG, tracking_client
from vtm.integrations.mlflow.linker import tagged_runs
from vtm.integrations.mlflow.store import StoreInit, store_exists
from vtm.runs.events import Publisher
from vtm.settings import Settings
from vtm.states import RunStatus
from vtm.store import RunData, RunRepository

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

STORE_WAIT_SECONDS = 300.0
# Unsettled runs are swept again after a failure, waiting longer each time.
RETRY_SECONDS = (10.0, 30.0, 120.0, 600.0)
SWEEP_PAGE = 100

# The MLflow status a run of each outcome ends with when its trainer left it running.
MLFLOW_END_STATUS: dict[RunStatus, str] = {
    RunStatus.COMPLETED: "FINISHED",
    RunStatus.STOPPED: "KILLED",
    RunStatus.FAILED: "FAILED",
}
_OPEN = ("RUNNING", "SCHEDULED")

_Item = RunData | Literal["sweep", "close"]


class MlflowSettler:
    def __init__(
        self,
        settings: Settings,
        repo: RunRepository,
        publish: Publisher,
        store: StoreInit,
    ) -> None:
        self._settings = settings
        self._repo = repo
        self._publish = publish
        self._store = store
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="mlflow-settler", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """At server start: settle what earlier servers left (runs that ended meanwhile)."""
        if self._repo.unsettled(limit=1):
            self._put("sweep")

    def submit(self, run: RunData) -> None:
        """Called as each run ends; returns at once."""
        self._put(run)

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            started = self._started
        if started:
            self._queue.put("close")
            self._thread.join(timeout)

    def _put(self, item: _Item) -> None:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
        self._queue.put(item)

    def _work(self) -> None:
        retry_at: float | None = None  # when to sweep again after a failure
        failures = 0
        while True:
            timeout = None if retry_at is None else max(0.0, retry_at - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = "sweep"  # the wait after a failure is over: try what is left again
            if item == "close":
                return
            if item == "sweep":
                retry_at = None
                if self._sweep():
                    failures = 0
                    continue
            elif self._settle_logged(item):
                continue
            if retry_at is None:
                pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                retry_at = time.monotonic() + pause
                failures += 1

    def _sweep(self) -> bool:
        """Settle every unsettled finished run; False at the first that could not be (MLflow
        is down, most likely: the rest waits for the retry)."""
        after = 0
        while page := self._repo.unsettled(after_seq=after, limit=SWEEP_PAGE):
            for run in page:
                if not self._settle_logged(run):
                    return False
            after = page[-1].seq
        return True

    def _settle_logged(self, run: RunData) -> bool:
        try:
            self.settle(run)
        except Exception as exc:  # noqa: BLE001 - one run's failure must not end the worker
            log.warning("run %s: could not settle its MLflow run (will retry): %s", run.id, exc)
            return False
        return True

    def settle(self, run: RunData) -> None:
        """Link ``run`` by tag if it is not linked, end its MLflow runs still open, and mark
        it settled. Raises when MLflow cannot be asked (the run stays to be settled)."""
        if not store_exists(self._settings):
            # No trainer logged to the embedded store, nor did anything create it.
            self._repo.mark_settled(run.id)
            return
        if not self._store.wait(STORE_WAIT_SECONDS):
            raise RuntimeError(
                f"the MLflow store is not usable: {self._store.error or 'not ready'}"
            )
        client = tracking_client(self._settings)
        tagged = tagged_runs(client, run)
        first = str(tagged[0].info.run_id) if tagged else None
        open_runs = [str(r.info.run_id) for r in tagged if r.info.status in _OPEN]
        linked = self._repo.get(run.id).mlflow_run_id  # a meta line may have set it meanwhile
        if linked is None and first is not None:
            linked = first
            update = self._repo.set_fields(run.id, mlflow_run_id=first)
            log.info("run %s linked to MLflow run %s by its %s tag", run.id, first, VTM_RUN_TAG)
            self._publish("run.updated", update)
        if linked is not None and linked not in open_runs and _is_open(client, linked):
            open_runs.append(linked)
        for mlflow_run_id in open_runs:
            self._end(client, run, mlflow_run_id)
        self._repo.mark_settled(run.id)

    def _end(self, client: MlflowClient, run: RunData, mlflow_run_id: str) -> None:
        status = MLFLOW_END_STATUS[run.status]
        finished = run.finished_at or run.updated_at
        client.set_terminated(mlflow_run_id, status, end_time=int(finished.timestamp() * 1000))
        log.info(
            "run %s ended %s: its MLflow run %s was still running, ended %s",
            run.id,
            run.status.value,
            mlflow_run_id,
            status,
        )


def _is_open(client: MlflowClient, mlflow_run_id: str) -> bool:
    """Whether the run is still open; False for an id this store does not know (a trainer
    may report a run of another store)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(mlflow_run_id).info.status in _OPEN
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return False
        raise
