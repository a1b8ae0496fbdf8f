"""The queue: which waiting runs start now, on which GPUs, and why the others wait.

``plan_queue`` is a pure function of what is waiting, what runs and which GPUs are free, so
one scheduling pass is cheap and the rules are tested without a server:

- Order: priority, higher first, then first come (the run's sequence number).
- Gang allocation: a run gets all the GPUs it asked for at once, or none.
- Back-filling: a run that fits may start before an earlier one that does not, unless the
  earlier one is *reserving*: the first run that waits for GPUs, once it has waited
  ``reserve_after`` seconds, holds the free GPUs it needs, so a stream of small runs cannot
  starve a big one. Runs behind it may still use GPUs it does not need.
- A GPU another process is using (outside VTM) is not handed out.

The estimate of when a waiting run starts replays the queue in order against when each
running run is expected to end: its start plus the median duration of its task's earlier
runs. A run whose wait depends on an end nobody can estimate gets None.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import NamedTuple

UNKNOWN = math.inf  # a time nobody can estimate


# Named tuples, not dataclasses, for what a pass handles once per waiting run: a pass over a
# thousand runs is made each second, and tuples compare and build at C speed.
class Waiting(NamedTuple):
    id: str
    task_id: str
    priority: int
    seq: int
    created_at: datetime
    gpus: int


@dataclass(frozen=True)
class Holding:
    """A run going on this server: the GPUs it holds and since when."""

    id: str
    task_id: str
    gpus: list[int]
    started_at: datetime


class QueueInfo(NamedTuple):
    position: int  # 1 for the next run to start
    reason: str
    estimated_start_at: float | None  # a POSIX timestamp; None: unknown


@dataclass(frozen=True)
class QueueState:
    """What the scheduler sees: the GPUs, the limit on runs at once, the time."""

    gpus: Sequence[int]
    free: set[int]
    outside: set[int]  # free of VTM's runs, but in use by a process outside VTM
    max_running: int
    now: datetime
    reserve_after: float


@dataclass(frozen=True)
class QueuePlan:
    starts: list[tuple[str, list[int]]]
    waiting: dict[str, QueueInfo]


def queue_order(waiting: Sequence[Waiting]) -> list[Waiting]:
    # Sequence numbers are unique: one stable sort by it, then one by priority, is the order.
    by_seq = sorted(waiting, key=attrgetter("seq"))
    return sorted(by_seq, key=attrgetter("priority"), reverse=True)


def plan_queue(
    waiting: Sequence[Waiting],
    holding: Sequence[Holding],
    state: QueueState,
    medians: Mapping[str, float],
) -> QueuePlan:
    """``medians``: seconds a task's earlier runs took, by task id (absent: unknown).

    One pass over the queue in order (a server makes one each second while runs wait), so
    each run costs a few comparisons; the words of the reasons are shared between runs."""
    order = queue_order(waiting)
    open_gpus = sorted(set(state.free) - state.outside)  # free, and not kept for a waiting run
    slots = state.max_running - len(holding)
    reserve_before = state.now - timedelta(seconds=state.reserve_after)
    reserver: Waiting | None = None
    starts: list[tuple[str, list[int]]] = []
    blocked: list[tuple[Waiting, str]] = []
    reasons: dict[tuple[int, bool, int], str] = {}
    for run in order:
        gpus = run.gpus
        if slots > 0 and gpus <= len(open_gpus):
            starts.append((run.id, open_gpus[:gpus]))
            open_gpus = open_gpus[gpus:]
            slots -= 1
            continue
        key = (gpus, slots > 0, len(open_gpus))
        reason = reasons.get(key)
        if reason is None:
            reason = reasons[key] = _resource_reason(run, state, slots, open_gpus, reserver)
        blocked.append((run, reason))
        if reserver is None and gpus and slots > 0 and run.created_at <= reserve_before:
            # It cannot start, so it needs more than is open: it keeps all of it.
            reserver, open_gpus, reasons = run, [], {}
    estimates = _estimates(order, starts, holding, state, medians)
    info: dict[str, QueueInfo] = {}
    # ``blocked`` is in queue order, priority first: the runs ahead of one with a higher
    # priority are those ahead of the first waiting run of its own priority.
    first_of_priority, higher = 0, ""
    for ahead, (run, reason) in enumerate(blocked):
        if ahead and run.priority != blocked[ahead - 1][0].priority:
            first_of_priority, higher = ahead, f"; behind {_runs(ahead)} of higher priority"
        earlier = ahead - first_of_priority
        text = (
            f"{reason}{higher}; behind {_runs(earlier)} queued earlier"
            if earlier
            else reason + higher
        )
        info[run.id] = QueueInfo(ahead + 1, text, estimates[run.id])
    return QueuePlan(starts, info)


def _resource_reason(
    run: Waiting, state: QueueState, slots: int, open_gpus: list[int], reserver: Waiting | None
) -> str:
    if slots <= 0:
        return f"{state.max_running} runs going, the most at once (VTM_MAX_CONCURRENT_RUNS)"
    parts = [f"needs {_gpus(run.gpus)}, {len(open_gpus)} free"]
    if state.outside:
        used = ", ".join(str(g) for g in sorted(state.outside))
        parts.append(f"GPU {used} in use outside VTM")
    if reserver is not None:
        parts.append(f"GPUs kept for run {reserver.id}, waiting longest")
    return "; ".join(parts)


def _gpus(n: int) -> str:
    return "1 GPU" if n == 1 else f"{n} GPUs"


def _runs(n: int) -> str:
    return "1 run" if n == 1 else f"{n} runs"


def _estimates(
    order: list[Waiting],
    starts: list[tuple[str, list[int]]],
    holding: Sequence[Holding],
    state: QueueState,
    medians: Mapping[str, float],
) -> dict[str, float | None]:
    """When each waiting run is expected to start (a POSIX timestamp): the queue replayed in
    order, each run taking the GPUs (and run slot) that come free first. Worked in seconds
    from now; ``UNKNOWN`` (infinity) where no one can tell, which spreads to whatever waits
    on it."""
    now = state.now.timestamp()

    # When each GPU and each run slot comes free.
    gpu_free = {g: (UNKNOWN if g in state.outside else 0.0) for g in state.gpus}
    slots = [0.0] * max(0, state.max_running - len(holding))
    for held in holding:
        done = max(held.started_at.timestamp() - now + medians.get(held.task_id, UNKNOWN), 0.0)
        gpu_free.update(dict.fromkeys(held.gpus, done))
        slots.append(done)
    heapq.heapify(slots)
    started = dict(starts)
    result: dict[str, float | None] = {}
    by_time = gpu_free.__getitem__
    for run in order:
        slot = heapq.heappop(slots) if slots else UNKNOWN
        chosen = started.get(run.id)
        if chosen is not None:
            begin = 0.0
        else:
            if run.gpus == 1:  # most runs: the GPU that comes free first
                chosen = [min(gpu_free, key=by_time)] if gpu_free else []
            else:
                chosen = sorted(gpu_free, key=by_time)[: run.gpus]
            if len(chosen) < run.gpus:
                begin = UNKNOWN
            else:  # when the last of its GPUs, and a slot, come free
                begin = max(gpu_free[chosen[-1]], slot) if chosen else slot
            result[run.id] = now + begin if begin < UNKNOWN else None
        done = begin + medians.get(run.task_id, UNKNOWN)
        for gpu in chosen:
            gpu_free[gpu] = done
        heapq.heappush(slots, done)
        if (
            done == UNKNOWN
            and slots[0] == UNKNOWN
            and min(gpu_free.values(), default=done) == UNKNOWN
        ):
            break  # nothing will be known from here on: the runs left wait on the unknown
    result.update((r.id, None) for r in order if r.id not in result and r.id not in started)
    return result


class QueueBoard:
    """The latest scheduling pass's answer for each waiting run, for records and events."""

    def __init__(self) -> None:
        self._info: dict[str, QueueInfo] = {}
        self._told: dict[str, QueueInfo] = {}  # what the last push of each run said
        self._lock = threading.Lock()

    def get(self, run_id: str) -> QueueInfo | None:
        with self._lock:
            return self._info.get(run_id)

    def replace(self, info: dict[str, QueueInfo]) -> set[str]:
        """Keep ``info``; the ids whose answer is news since they were last pushed (the
        caller pushes their records)."""
        with self._lock:
            self._info = info
            told = self._told
            news = {
                i for i, now in info.items() if told.get(i) != now and _differs(told.get(i), now)
            }
            if news or len(told) != len(info):
                self._told = {i: (now if i in news else told[i]) for i, now in info.items()}
        return news


# An estimate that moves by less than this is not news: one that is already due follows the
# clock, and would otherwise be pushed on every pass.
ESTIMATE_NEWS = 30.0  # seconds


def _differs(before: QueueInfo | None, now: QueueInfo) -> bool:
    if before is None or (before.position, before.reason) != (now.position, now.reason):
        return True
    old, new = before.estimated_start_at, now.estimated_start_at
    if old is None or new is None:
        return old is not new
    return abs(new - old) >= ESTIMATE_NEWS
