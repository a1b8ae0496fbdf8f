"""Starting, queueing, stopping and recovering runs.

The service decides *when* a run starts (the queue's rules: ``runs.queue``) and hands each
running run to a RunMonitor. It never waits on a trainer: the per-run supervisor owns it.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from vtm.catalog import CatalogHolder, plan_launch, resolve_fields
from vtm.errors import Conflict, FieldError, InvalidRequest, NotFound
from vtm.executors import Executor
from vtm.gpus import GpuPool, GpuReading, Inventory
from vtm.integrations.ray_jobs import RayNode, RayRefused, RayUnavailable
from vtm.runs.events import Publisher
from vtm.runs.ids import is_run_id, new_run_id
from vtm.runs.launch import launch_record, launch_spec
from vtm.runs.monitor import MonitorContext, RunMonitor
from vtm.runs.origin import link_previous_try
from vtm.runs.placement import PlacementPlan, place_runs
from vtm.runs.queue import (
    ESTIMATE_NEWS,
    Holding,
    QueueBoard,
    QueueInfo,
    QueueState,
    Waiting,
    plan_queue,
)
from vtm.runs.ray_runs import RayRuns
from vtm.settings import Settings
from vtm.states import IllegalTransition, RunStatus
from vtm.store import NewRun, RunData, RunRepository
from vtm.store.records import utcnow
from vtm.supervisor import RunDir, spawn_supervisor

log = logging.getLogger(__name__)

# While runs wait for a Ray node, a pass is made this often: the cluster changes on its own.
RAY_PASS_SECONDS = 2.0


class RunService:
    def __init__(
        self,
        settings: Settings,
        catalog: CatalogHolder,
        repo: RunRepository,
        publish: Publisher,
        inventory: Inventory,
        board: QueueBoard,
        on_finished: Callable[[RunData], None] | None = None,
        ray: RayRuns | None = None,
    ) -> None:
        """``on_finished``: called in the monitor's thread as each run ends; must not block.
        ``board``: where each scheduling pass leaves its answers for the waiting runs;
        ``ray``: the Ray cluster's runs (none configured: every run is local)."""
        self.settings = settings
        self.ray = ray or RayRuns(settings, repo, publish)
        self.catalog = catalog
        self.repo = repo
        self.inventory = inventory
        self.gpus = GpuPool(inventory.indices)
        self.board = board
        self._publish = publish
        self._on_finished_hook = on_finished
        self._lock = threading.RLock()
        self._active: dict[str, RunMonitor] = {}
        self._running: dict[str, RunData] = {}  # as each was launched: its GPUs and start
        # The queue, held here: every change to a queued run goes through this service, so a
        # scheduling pass reads no row (recover() loads it from the store at start).
        self._queued: dict[str, tuple[RunData, Waiting]] = {}
        self._medians: dict[str, float | None] = {}  # by task: its runs' median duration
        self._next_pass = utcnow()  # when the GPU watch's tick should make a pass anyway
        self._outside: set[int] = set()  # GPUs in use outside VTM, as the last pass saw
        # Ray runs a pass placed, while their submission is on its way (one at a time).
        self._submitting: dict[str, str] = {}
        self._submitter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ray-submit")
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
        self,
        task_id: str,
        fields: Mapping[str, Any],
        origin: Mapping[str, Any] | None = None,
        priority: int | None = None,
        executor: Executor | None = None,
    ) -> RunData:
        """Validate, record and launch (or queue) a run. ``origin`` says where it came from;
        an Airflow task's retry is linked to the run of its previous try. ``priority``:
        its place in the queue (default: the task's ``resources.priority``); ``executor``:
        where it trains (default: the task's)."""
        loaded = self.catalog.require()
        resolved = resolve_fields(loaded.catalog, task_id, fields)
        plan = plan_launch(loaded, task_id, resolved)
        if executor is not None:
            plan = dataclasses.replace(plan, executor=executor)
        if priority is None:
            priority = loaded.catalog.tasks[task_id].resources.priority
        if plan.executor == "ray" and not self.ray.configured:
            raise InvalidRequest(
                [
                    FieldError(
                        "executor",
                        f"run {task_id!r} on Ray: this server has no Ray cluster "
                        "(VTM_RAY_ADDRESS is not set)",
                    )
                ]
            )
        if plan.executor == "local" and plan.gpus > len(self.gpus.all):
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
            priority=priority,
        )
        # Under the lock: the scheduler (a finishing run's thread) must not see the new row
        # as queued and launch it while this request launches it too.
        with self._lock:
            run = self.repo.insert(new)
            started = self._start_now(run)
            if not started:
                self._enqueue(run)
                self._publish("run.created", run)
        if not started:
            self.schedule()
        return self.repo.get(run.id)

    def _start_now(self, run: RunData) -> bool:
        """Launch a new run at once when there is room: the common case, kept off the
        scheduling pass so a run starts as soon as it is accepted. Called with the lock held.

        With room to spare, anything still queued waits for GPUs; a run that needs none may
        pass it, as ``schedule`` would let it.
        """
        if run.launch.gpus or run.launch.executor != "local" or self._shutdown.is_set():
            return False
        if len(self._active) >= self.settings.max_concurrent_runs:
            return False
        self._launch(run, [], event="run.created")
        return True

    def set_priority(self, run_id: str, priority: int) -> RunData:
        """Move a queued run in the queue; Conflict once it has started or ended."""
        run = self.get(run_id)
        with self._lock:  # not while a pass is deciding on the old order
            run = self.repo.set_priority(run.id, priority)
            self._enqueue(run)
        self._publish("run.updated", run)
        self.schedule()
        return self.repo.get(run.id)

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
                if run.status is not RunStatus.QUEUED:
                    self._queued.pop(run_id, None)
            if run.status is RunStatus.STOPPED:
                self._publish("run.finished", run)
                self.schedule()  # the runs behind it move up
                return run
        if run.status.is_terminal:
            return run
        if not run.stop_requested:
            run = self.repo.set_fields(run_id, stop_requested=True)
            self._publish("run.updated", run)
        if run.launch.executor == "ray":
            self.ray.stop_asked(run_id)  # its `vtm exec` hears of it; Ray if it does not
        with self._lock:
            monitor = self._active.get(run_id)
        if monitor is not None:
            monitor.request_stop()
        return run

    # -- scheduling -------------------------------------------------------------------------

    def schedule(self) -> None:
        """One scheduling pass: start the queued runs the queue's rules let start, and tell
        each run still waiting its position, reason and estimate (pushed when they change)."""
        if self._shutdown.is_set():
            return
        with self._lock:
            on_ray = any(r.launch.executor == "ray" for r, _ in self._queued.values())
        nodes = self.ray.nodes() if on_ray else None  # an HTTP call: not under the lock
        with self._lock:
            queued = self._queued
            holding = self.holding()
            waiting = [w for r, w in queued.values() if r.launch.executor == "local"]
            tasks = {w.task_id for w in waiting} | {h.task_id for h in holding}
            state = self._state(read=bool(waiting))  # NVML is asked only when someone waits
            plan = plan_queue(
                waiting, holding, state, self._median_durations(tasks) if waiting else {}
            )
            placement = self._place_on_ray(nodes) if on_ray else PlacementPlan([], {})
            self._outside = state.outside
            self._next_pass = self._pass_due(waiting, state, on_ray)
            for run_id, gpus in plan.starts:
                run, _ = self._queued.pop(run_id)
                self._launch(run, gpus)
            for run_id, node in placement.starts:
                run, _ = self._queued.pop(run_id)
                self.ray.hold(run.id, node.id, run.launch.gpus)
                self._submitting[run.id] = f"being submitted to Ray node {node.name}"
                self._submitter.submit(self._submit_to_ray, run, node)
            submitting = {
                run_id: QueueInfo(0, reason, None) for run_id, reason in self._submitting.items()
            }
            news = self.board.replace({**plan.waiting, **placement.waiting, **submitting})
            for run_id in sorted(news - set(submitting)):
                self._publish("run.updated", self._queued[run_id][0])

    def _place_on_ray(self, nodes: list[RayNode] | None) -> PlacementPlan:
        waiting = [w for r, w in self._queued.values() if r.launch.executor == "ray"]
        return place_runs(waiting, nodes, self.ray.held(), self.settings.ray_cpus, self.ray.address)

    def _submit_to_ray(self, run: RunData, node: RayNode) -> None:
        """Submit a run a pass placed, in the submitter's thread (Ray may take seconds to
        answer; no request or pass waits for it). No answer: it waits again; a refusal fails
        it."""
        try:
            started = self.ray.submit(run, node)
        except RayUnavailable as exc:
            log.warning("run %s stays queued: %s", run.id, exc)
            self.ray.release(run.id)
            with self._lock:
                self._submitting.pop(run.id, None)
                again = self.repo.get(run.id)
                if again.status is RunStatus.QUEUED:  # not stopped meanwhile
                    self._enqueue(again)
            return
        except (RayRefused, Conflict, IllegalTransition) as exc:
            with self._lock:
                self._submitting.pop(run.id, None)
            self.ray.release(run.id)
            try:
                failed = self.repo.transition(
                    run.id, RunStatus.FAILED, finished_at=utcnow(), error=f"not started: {exc}"
                )
            except (Conflict, IllegalTransition):  # stopped meanwhile
                return
            self._publish("run.finished", failed)
            return
        with self._lock:
            self._submitting.pop(run.id, None)
        self._publish("run.updated", started)

    def cluster_run_ended(self, run: RunData) -> None:
        """A Ray run has ended (reported, or found ended by the watch): its room is free."""
        if run.launch.executor == "ray":
            self.ray.release(run.id)
            self.schedule()

    def tick(self) -> None:
        """Called every second or so (the GPU watch): a pass when time or the GPUs may have
        changed an answer, a reservation fallen due, a GPU used outside VTM come free."""
        with self._lock:
            if not self._queued:
                return
            due = utcnow() >= self._next_pass
            if not due and self.inventory.has_readings:
                due = self.outside_use(self.inventory.read()) != self._outside
        if due:
            self.schedule()

    def _pass_due(self, waiting: list[Waiting], state: QueueState, on_ray: bool) -> datetime:
        """When the next pass is due without an event: as the first run waiting for GPUs
        could begin its reservation, at least every ESTIMATE_NEWS seconds, and every
        RAY_PASS_SECONDS while runs wait for a Ray node."""
        due = state.now + timedelta(seconds=RAY_PASS_SECONDS if on_ray else ESTIMATE_NEWS)
        oldest = min((w.created_at for w in waiting if w.gpus), default=None)
        if oldest is not None:
            reserve_at = oldest + timedelta(seconds=state.reserve_after)
            if reserve_at > state.now:
                due = min(due, reserve_at)
        return due

    def _enqueue(self, run: RunData) -> None:
        """Hold a queued run (again, as it changes) for the scheduling passes."""
        waiting = Waiting(
            run.id, run.task_id, run.priority, run.seq, run.created_at, run.launch.gpus
        )
        self._queued[run.id] = (run, waiting)

    def holding(self) -> list[Holding]:
        """The runs going on this server, with the GPUs each holds."""
        with self._lock:
            return [
                Holding(r.id, r.task_id, list(r.gpus), r.started_at or r.created_at)
                for r in self._running.values()
            ]

    def outside_use(self, readings: Mapping[int, GpuReading | None]) -> set[int]:
        """GPUs no run of VTM's holds whose memory in use is above VTM_GPU_BUSY_MEMORY_MB:
        a process outside VTM is using them."""
        holders = self.gpus.holders()
        limit = self.settings.gpu_busy_memory_mb
        return {
            gpu
            for gpu, reading in readings.items()
            if gpu not in holders
            and reading is not None
            and reading.memory_used_mb is not None
            and reading.memory_used_mb > limit
        }

    def _state(self, read: bool = True) -> QueueState:
        return QueueState(
            gpus=self.gpus.all,
            free=self.gpus.free(),
            outside=self.outside_use(self.inventory.read()) if read else set(),
            max_running=self.settings.max_concurrent_runs,
            now=utcnow(),
            reserve_after=self.settings.queue_reserve_after,
        )

    def _median_durations(self, task_ids: set[str]) -> dict[str, float]:
        missing = task_ids - set(self._medians)
        if missing:
            found = self.repo.median_durations(missing)
            self._medians.update({t: found.get(t) for t in missing})
        return {t: m for t in task_ids if (m := self._medians.get(t)) is not None}

    def _launch(self, run: RunData, gpus: list[int], event: str = "run.updated") -> None:
        """Start ``run`` under a supervisor; ``event`` announces it (a run launched the moment
        it was accepted is announced once, as created, after its trainer is on its way)."""
        if not self.gpus.take(run.id, gpus):
            raise RuntimeError(f"GPUs {gpus} are not free for run {run.id}")  # a bug if seen
        run_dir = RunDir(self.settings.runs_dir / run.id)
        spec = launch_spec(self.settings, run, run_dir, gpus)
        energy = self.inventory.energy_mj(gpus)
        try:
            (self.settings.tensorboard_dir / run.id).mkdir(parents=True, exist_ok=True)
            popen: subprocess.Popen[bytes] | None = spawn_supervisor(run_dir, spec)
        except OSError as exc:
            self.gpus.release(run.id)
            failed = self.repo.transition(
                run.id, RunStatus.FAILED, finished_at=utcnow(), error=f"could not launch: {exc}"
            )
            if event == "run.created":
                self._publish(event, run)
            self._publish("run.finished", failed)
            return
        started = self.repo.transition(
            run.id,
            RunStatus.RUNNING,
            started_at=utcnow(),
            host=socket.gethostname(),
            gpus=gpus,
            gpu_energy_start={str(g): mj for g, mj in energy.items()} if energy else None,
        )
        self._publish(event, started)
        self._watch(started, popen)

    def _watch(self, run: RunData, popen: subprocess.Popen[bytes] | None) -> None:
        monitor = RunMonitor(self._ctx, run, popen)
        self._active[run.id] = monitor
        self._running[run.id] = run
        monitor.start()

    def _on_finished(self, run: RunData) -> None:
        with self._lock:
            self._active.pop(run.id, None)
            self._running.pop(run.id, None)
            self._medians.pop(run.task_id, None)  # one more duration to count
        run = self._record_energy(run)
        self.gpus.release(run.id)
        self.schedule()
        if self._on_finished_hook is not None:
            self._on_finished_hook(run)

    def _record_energy(self, run: RunData) -> RunData:
        """The energy the run's GPUs used, from their counters at its start and now. A run
        that ended while no server was up is counted to when this server found it ended."""
        if not run.gpu_energy_start:
            return run
        end = self.inventory.energy_mj(list(run.gpu_energy_start))
        if end is None:
            return run
        used_mj = sum(max(0, end[g] - mj) for g, mj in run.gpu_energy_start.items())
        run = self.repo.set_fields(run.id, energy_wh=used_mj / 3.6e6)
        self._publish("run.updated", run)
        return run

    # -- life cycle -------------------------------------------------------------------------

    def recover(self) -> None:
        """Pick up runs left by an earlier server: watch the running, start the queued.

        Each monitor settles its run by what the run folder says (ARCHITECTURE.md, "Surviving
        the server"): an exit record finishes it, a held lock means it still runs, neither
        means it was lost.
        """
        with self._lock:
            for run in self.repo.unfinished():
                if run.launch.executor == "ray":
                    self._recover_ray_run(run)
                    continue
                if run.launch.supervised_elsewhere:
                    continue  # `vtm exec` supervises it elsewhere: see runs/external.py
                if run.status is RunStatus.RUNNING and run.id not in self._active:
                    self.gpus.claim(run.id, run.gpus)
                    self._watch(run, None)
                elif run.status is RunStatus.QUEUED:
                    self._enqueue(run)
        self.schedule()

    def _recover_ray_run(self, run: RunData) -> None:
        """A running Ray run keeps its room on its node (the Ray watch settles how it stands);
        a queued one waits again, unless it was being submitted when the last server went."""
        if run.status is RunStatus.QUEUED and run.ticket_hash and self.ray.configured:
            if self.ray.in_doubt(run):
                run = self.repo.transition(run.id, RunStatus.RUNNING, started_at=utcnow())
            else:
                run = self.repo.set_fields(run.id, ticket_hash=None)
        if run.status is RunStatus.RUNNING:
            self.ray.hold(run.id, run.node_id or "", run.launch.gpus)
        elif run.status is RunStatus.QUEUED:
            self._enqueue(run)

    def active_count(self) -> int:
        with self._lock:
            return len(self._active)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop watching runs (they keep going; the next server picks them up)."""
        self._shutdown.set()
        self._submitter.shutdown(wait=True, cancel_futures=False)
        with self._lock:
            monitors = list(self._active.values())
        for monitor in monitors:
            monitor.join(timeout)
