"""Starting, queueing, stopping and recovering runs.

The service decides *when* a run starts (concurrency limit, free GPUs) and hands each
running run to a RunMonitor. It never waits on a trainer: the per-run supervisor owns it.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any

from vtm.catalog import CatalogHolder, plan_launch, resolve_fields
from vtm.errors import Conflict, FieldError, InvalidRequest, NotFound
from vtm.runs.events import Publisher
from vtm.runs.gpus import GpuPool
from vtm.runs.ids import is_run_id, new_run_id
from vtm.runs.launch import launch_record, launch_spec
from vtm.runs.monitor import MonitorContext, RunMonitor
from vtm.runs.origin import link_previous_try
from vtm.settings import Settings
from vtm.states import IllegalTransition, RunStatus
from vtm.store import NewRun, RunData, RunRepository
from vtm.store.records import utcnow
from vtm.supervisor import RunDir, spawn_supervisor

log = logging.getLogger(__name__)


class RunService:
    def __init__(
        self,
        settings: Settings,
        catalog: CatalogHolder,
        repo: RunRepository,
        publish: Publisher,
        gpus: GpuPool,
        on_finished: Callable[[RunData], None] | None = None,
    ) -> None:
        """``on_finished``: called in the monitor's thread as each run ends; must not block."""
        self.settings = settings
        self.catalog = catalog
        self.repo = repo
        self.gpus = gpus
        self._publish = publish
        self._on_finished_hook = on_finished
        self._lock = threading.RLock()
        self._active: dict[str, RunMonitor] = {}
        self._shutdown = threading.Event()
        self._ctx = MonitorContext(
            repo=repo,
            runs_dir=settings.runs_dir,
            tensorboard_dir=settings.tensorboard_dir,
            interval=settings.tail_interval_seconds,
            tail_lines=settings.log_tail_lines,
            publish=publish,
            finished=self._on_finished,
            shutdown=self._shutdown,
        )

    # -- requests -------------------------------------------------------------------------

    def get(self, run_id: str) -> RunData:
        if not is_run_id(run_id):
            raise NotFound(f"unknown run {run_id!r}")
        return self.repo.get(run_id)

    def start(
        self, task_id: str, fields: Mapping[str, Any], origin: Mapping[str, Any] | None = None
    ) -> RunData:
        """Validate, record and launch (or queue) a run. ``origin`` says where it came from;
        an Airflow task's retry is linked to the run of its previous try."""
        loaded = self.catalog.require()
        resolved = resolve_fields(loaded.catalog, task_id, fields)
        plan = plan_launch(loaded, task_id, resolved)
        if plan.gpus > len(self.gpus.all):
            raise InvalidRequest(
                [
                    FieldError(
                        "taskId",
                        f"task {task_id!r} needs {plan.gpus} GPU(s); this server has "
                        f"{len(self.gpus.all)} (VTM_GPUS)",
                    )
                ]
            )
        new = NewRun(
            id=new_run_id(),
            task_id=task_id,
            fields=dict(resolved),
            command=list(plan.argv),
            launch=launch_record(plan),
            origin=link_previous_try(self.repo, task_id, origin),
        )
        # Under the lock: the scheduler (a finishing run's thread) must not see the new row
        # as queued and launch it while this request launches it too.
        with self._lock:
            run = self.repo.insert(new)
            started = self._start_now(run)
            if not started:
                self._publish("run.created", run)
        if not started:
            self.schedule()
        return self.repo.get(run.id)

    def _start_now(self, run: RunData) -> bool:
        """Launch a new run at once when there is room: the common case, kept off the queue
        query so a run starts as soon as it is accepted. Called with the lock held.

        With room to spare, anything still queued waits for GPUs; a run that needs none may
        pass it, as ``schedule`` would let it.
        """
        if run.launch.gpus or self._shutdown.is_set():
            return False
        if len(self._active) >= self.settings.max_concurrent_runs:
            return False
        self._launch(run, [], event="run.created")
        return True

    def stop(self, run_id: str) -> RunData:
        """Stop a run: cancel it if queued, else ask its supervisor. Idempotent."""
        run = self.get(run_id)
        if run.status is RunStatus.QUEUED:
            with self._lock:  # the scheduler cannot launch it while we cancel it
                try:
                    run = self.repo.transition(
                        run_id,
                        RunStatus.STOPPED,
                        stop_requested=True,
                        finished_at=utcnow(),
                        error="stopped before it started",
                    )
                except (Conflict, IllegalTransition):
                    run = self.repo.get(run_id)
            if run.status is RunStatus.STOPPED:
                self._publish("run.finished", run)
                return run
        if run.status.is_terminal:
            return run
        if not run.stop_requested:
            run = self.repo.set_fields(run_id, stop_requested=True)
            self._publish("run.updated", run)
        with self._lock:
            monitor = self._active.get(run_id)
        if monitor is not None:
            monitor.request_stop()
        return run

    # -- scheduling -------------------------------------------------------------------------

    def schedule(self) -> None:
        """Start queued runs, oldest first, while there is room and GPUs."""
        if self._shutdown.is_set():
            return
        with self._lock:
            for run in self.repo.queued():
                if len(self._active) >= self.settings.max_concurrent_runs:
                    return
                gpus = self.gpus.acquire(run.launch.gpus)
                if gpus is None:
                    continue  # a smaller run may still fit
                self._launch(run, gpus)

    def _launch(self, run: RunData, gpus: list[int], event: str = "run.updated") -> None:
        """Start ``run`` under a supervisor; ``event`` announces it (a run launched the moment
        it was accepted is announced once, as created, after its trainer is on its way)."""
        run_dir = RunDir(self.settings.runs_dir / run.id)
        spec = launch_spec(self.settings, run, run_dir, gpus)
        try:
            (self.settings.tensorboard_dir / run.id).mkdir(parents=True, exist_ok=True)
            popen: subprocess.Popen[bytes] | None = spawn_supervisor(run_dir, spec)
        except OSError as exc:
            self.gpus.release(gpus)
            failed = self.repo.transition(
                run.id, RunStatus.FAILED, finished_at=utcnow(), error=f"could not launch: {exc}"
            )
            if event == "run.created":
                self._publish(event, run)
            self._publish("run.finished", failed)
            return
        started = self.repo.transition(run.id, RunStatus.RUNNING, started_at=utcnow(), gpus=gpus)
        self._publish(event, started)
        self._watch(started, popen)

    def _watch(self, run: RunData, popen: subprocess.Popen[bytes] | None) -> None:
        monitor = RunMonitor(self._ctx, run, popen)
        self._active[run.id] = monitor
        monitor.start()

    def _on_finished(self, run: RunData) -> None:
        with self._lock:
            self._active.pop(run.id, None)
        self.gpus.release(run.gpus)
        self.schedule()
        if self._on_finished_hook is not None:
            self._on_finished_hook(run)

    # -- life cycle -------------------------------------------------------------------------

    def recover(self) -> None:
        """Pick up runs left by an earlier server: watch the running, start the queued.

        Each monitor settles its run by what the run folder says (ARCHITECTURE.md, "Surviving
        the server"): an exit record finishes it, a held lock means it still runs, neither
        means it was lost.
        """
        with self._lock:
            for run in self.repo.unfinished():
                if run.launch.external:
                    continue  # `vtm exec` supervises it elsewhere: see runs/external.py
                if run.status is RunStatus.RUNNING and run.id not in self._active:
                    self.gpus.claim(run.gpus)
                    self._watch(run, None)
        self.schedule()

    def active_count(self) -> int:
        with self._lock:
            return len(self._active)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop watching runs (they keep going; the next server picks them up)."""
        self._shutdown.set()
        with self._lock:
            monitors = list(self._active.values())
        for monitor in monitors:
            monitor.join(timeout)
