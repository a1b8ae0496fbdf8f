"""Runs a Ray cluster trains (``executor: ray``): submitted as Ray jobs, watched through Ray.

A Ray run's life, beside what ``runs.service`` does for every run:

1. it waits in VTM's own queue until one node can take it whole (``runs.placement``);
2. it is submitted as a Ray job whose submission id is the run's id (a repeated submit is
   harmless) and whose entrypoint is `vtm exec --run-id <id> --catalog <path> TASK --set …`,
   pinned to the node VTM counted room on, asking Ray for the run's GPUs and a little CPU; the
   run is ``running`` from then on, on that node;
3. the job's `vtm exec` trades the run's one-time ticket for its token (``runs.credentials``)
   and reports like any `vtm exec` (``runs.external``): output by byte offset, heartbeat, stop
   requests, the outcome;
4. a watch asks Ray about every running Ray run every few seconds: a job Ray does not know
   (a head restarted without fault tolerance forgets its jobs) fails the run as lost by the
   cluster; one that ended without its `vtm exec` reporting fails it with Ray's message and
   the driver's exit code; a run asked to stop that has not ended in time is stopped through
   Ray (which misses processes that left the job's session: the supervisor's group kill does
   not, which is why the stop goes through `vtm exec` first).
"""

from __future__ import annotations

import logging
import shlex
import threading
import time
from collections.abc import Callable
from typing import Any

from vtm.errors import Conflict
from vtm.integrations.ray_jobs import RayJob, RayJobs, RayNode, RayUnavailable
from vtm.runs.credentials import digest, new_secret
from vtm.runs.placement import Placed
from vtm.settings import Settings
from vtm.states import IllegalTransition, RunStatus
from vtm.store import RunData, RunRepository
from vtm.store.records import utcnow

log = logging.getLogger(__name__)

NODES_FRESH_SECONDS = 2.0  # a scheduling pass reuses the node list for this long
# How long after a stop `vtm exec` gets to end the run before Ray is asked to stop the job:
# its heartbeats carry the request, then the supervisor's grace, then the last report.
STOP_FALLBACK_EXTRA_SECONDS = 10.0
# Ray's own SIGTERM → SIGKILL pause for a stopped job (RAY_JOB_STOP_WAIT_TIME_S, default 3 s):
# room for `vtm exec` to stop the trainer through its supervisor and report the outcome.
RAY_STOP_WAIT_EXTRA_SECONDS = 15.0

# End a run that reported no outcome: (run id, status, error, exit code) → the run, or None
# when it had ended meanwhile (runs.external.ExternalRuns.end_unreported).
EndRun = Callable[[str, RunStatus, str, int | None], RunData | None]


def field_text(value: Any) -> str:
    """A field value as `--set` takes it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RayRuns:
    def __init__(
        self,
        settings: Settings,
        repo: RunRepository,
        publish: Callable[[str, RunData], None],
        jobs: RayJobs | None = None,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self._publish = publish
        address = settings.ray_address
        self.jobs = jobs or (RayJobs(address) if address else None)
        self._held: dict[str, Placed] = {}
        self._stop_asked: dict[str, float] = {}  # run id → monotonic time of the request
        self._tickets: dict[str, str] = {}  # runs being submitted: the ticket each carries
        self._nodes: tuple[float, list[RayNode] | None] = (-NODES_FRESH_SECONDS, None)
        self._answering: bool | None = None  # whether the last node list came (None: not asked)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._end_run: EndRun | None = None

    @property
    def configured(self) -> bool:
        return self.jobs is not None

    @property
    def address(self) -> str:
        return self.jobs.address if self.jobs is not None else ""

    # -- room on the cluster ----------------------------------------------------------------

    def nodes(self) -> list[RayNode] | None:
        """The live nodes (read at most every NODES_FRESH_SECONDS); None: no answer."""
        if self.jobs is None:
            return None
        now = time.monotonic()
        with self._lock:
            read_at, nodes = self._nodes
        if now - read_at < NODES_FRESH_SECONDS:
            return nodes
        try:
            nodes = self.jobs.nodes()
        except RayUnavailable as exc:
            if self._answering is not False:  # said once, until it answers again
                log.warning("the Ray cluster's node list: %s; runs for Ray wait", exc)
            nodes = None
        with self._lock:
            if nodes is not None and self._answering is False:
                log.warning("the Ray cluster at %s answers again", self.address)
            self._answering = nodes is not None
            self._nodes = (now, nodes)
        return nodes

    def held(self) -> list[Placed]:
        with self._lock:
            return list(self._held.values())

    def hold(self, run_id: str, node_id: str, gpus: int) -> None:
        with self._lock:
            self._held[run_id] = Placed(node_id, gpus, self.settings.ray_cpus)

    def release(self, run_id: str) -> None:
        with self._lock:
            self._held.pop(run_id, None)
            self._stop_asked.pop(run_id, None)

    # -- submitting -------------------------------------------------------------------------

    def entrypoint(self, run: RunData) -> str:
        """The job's shell command (Ray runs the entrypoint through a shell): every word quoted."""
        catalog = self.settings.ray_catalog or self.settings.catalog
        argv = [*shlex.split(self.settings.ray_vtm), "exec", "--run-id", run.id]
        argv += ["--catalog", str(catalog), run.task_id]
        for name, value in run.fields.items():
            if value is not None:
                argv += ["--set", f"{name}={field_text(value)}"]
        return shlex.join(argv)

    def submit(self, run: RunData, node: RayNode) -> RunData:
        """Submit the queued ``run`` to ``node`` and mark it running there. RayUnavailable:
        Ray did not answer (the run stays queued); RayRefused: Ray will not take it."""
        assert self.jobs is not None
        with self._lock:
            # One ticket a run: a submit whose answer was lost went through with it.
            ticket = self._tickets.setdefault(run.id, new_secret())
        # The ticket's digest is stored first: the job may claim it before submit returns.
        run = self.repo.set_fields(
            run.id, ticket_hash=digest(ticket), node_id=node.id, host=node.name
        )
        env = {
            "VTM_URL": self.settings.effective_public_url,
            "VTM_RUN_TICKET": ticket,  # good once: see runs.credentials
            "RAY_JOB_STOP_WAIT_TIME_S": str(
                round(self.settings.stop_grace_seconds + RAY_STOP_WAIT_EXTRA_SECONDS)
            ),
        }
        self.jobs.submit(
            run.id,
            self.entrypoint(run),
            node_id=node.id,
            gpus=run.launch.gpus,
            cpus=self.settings.ray_cpus,
            env=env,
            metadata={"vtm_run_id": run.id, "vtm_task_id": run.task_id},
        )
        log.info("run %s of %s submitted to Ray node %s", run.id, run.task_id, node.name)
        with self._lock:
            self._tickets.pop(run.id, None)
        try:
            return self.repo.transition(run.id, RunStatus.RUNNING, started_at=utcnow())
        except (Conflict, IllegalTransition):
            started = self.repo.get(run.id)
            if started.status is RunStatus.RUNNING:  # its job claimed it first
                return started
            raise

    def in_doubt(self, run: RunData) -> bool:
        """For a queued run found with a ticket at start-up (the server went down between
        storing the ticket and marking the run submitted): whether Ray has its job. Ray not
        answering counts as yes: the watch then settles it when Ray is back."""
        assert self.jobs is not None
        try:
            return self.jobs.job(run.id) is not None
        except RayUnavailable:
            return True

    # -- stopping ---------------------------------------------------------------------------

    def stop_asked(self, run_id: str) -> None:
        with self._lock:
            self._stop_asked.setdefault(run_id, time.monotonic())

    def _stop_fallback_due(self, run: RunData, now: float) -> bool:
        with self._lock:
            asked = self._stop_asked.get(run.id)
            if asked is None and run.stop_requested:  # asked before this server started
                asked = self._stop_asked[run.id] = now
        if asked is None:
            return False
        patience = (
            self.settings.stop_grace_seconds
            + 3 * self.settings.exec_heartbeat_seconds
            + STOP_FALLBACK_EXTRA_SECONDS
        )
        return now - asked > patience

    # -- the watch --------------------------------------------------------------------------

    def start(self, end_run: EndRun) -> None:
        """Watch the running Ray runs; ``end_run`` ends one whose job ended unreported."""
        if self.jobs is None:
            return
        self._end_run = end_run
        self._thread = threading.Thread(target=self._watch, name="ray-runs", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.jobs is not None:
            self.jobs.close()

    def _watch(self) -> None:
        unreachable = False
        while True:
            try:
                self.check()
                if unreachable:
                    log.info("the Ray cluster at %s answers again", self.address)
                unreachable = False
            except RayUnavailable as exc:
                if not unreachable:
                    log.warning("cannot check the Ray runs: %s; trying again", exc)
                unreachable = True
            except Exception:  # the watch must outlive any one bad answer
                log.exception("checking the Ray runs failed; trying again")
            if self._closing.wait(self.settings.ray_poll_seconds):
                return

    def check(self) -> list[RunData]:
        """One look at every running Ray run; the runs it ended."""
        assert self.jobs is not None and self._end_run is not None
        ended = []
        now = time.monotonic()
        for run in self.repo.unfinished():
            if run.launch.executor != "ray" or run.status is not RunStatus.RUNNING:
                continue
            job = self.jobs.job(run.id)
            outcome = self._unreported_end(run, job)
            if outcome is not None:
                status, error, code = outcome
                done = self._end_run(run.id, status, error, code)
                if done is not None:
                    log.warning("run %s: %s", run.id, error)
                    ended.append(done)
            elif self._stop_fallback_due(run, now):
                log.warning("run %s: no outcome after its stop; asking Ray to stop job", run.id)
                self.jobs.stop(run.id)
                with self._lock:  # once: the job's end is what the next looks wait for
                    self._stop_asked[run.id] = float("inf")
        return ended

    def _unreported_end(
        self, run: RunData, job: RayJob | None
    ) -> tuple[RunStatus, str, int | None] | None:
        if job is None:
            return (
                RunStatus.FAILED,
                f"lost by the cluster: Ray at {self.address} does not know job {run.id} "
                "(its head restarted, or the job was deleted)",
                None,
            )
        if not job.ended:
            return None
        code = job.driver_exit_code
        said = f": {job.message}" if job.message else ""
        exit_text = f" (driver exit code {code})" if code is not None else ""
        if run.stop_requested and job.status == "STOPPED":
            return (
                RunStatus.STOPPED,
                f"stopped through Ray: `vtm exec` did not report the stop in time{said}",
                code,
            )
        return (
            RunStatus.FAILED,
            f"the Ray job ended {job.status} without `vtm exec` reporting how the run "
            f"ended{said}{exit_text}",
            code,
        )
