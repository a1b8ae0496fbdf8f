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

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Waiting:
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


@dataclass(frozen=True)
class QueueInfo:
    position: int  # 1 for the next run to start
    reason: str
    estimated_start_at: datetime | None


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
    return sorted(waiting, key=lambda w: (-w.priority, w.seq))


def plan_queue(
    waiting: Sequence[Waiting],
    holding: Sequence[Holding],
    state: QueueState,
    medians: Mapping[str, float],
) -> QueuePlan:
    """``medians``: seconds a task's earlier runs took, by task id (absent: unknown)."""
    order = queue_order(waiting)
    usable = set(state.free) - state.outside
    slots = state.max_running - len(holding)
    reserved: set[int] = set()
    reserver: Waiting | None = None
    starts: list[tuple[str, list[int]]] = []
    blocked: list[tuple[Waiting, str]] = []
    for run in order:
        open_gpus = sorted(usable - reserved)
        if slots > 0 and run.gpus <= len(open_gpus):
            chosen = open_gpus[: run.gpus]
            usable.difference_update(chosen)
            slots -= 1
            starts.append((run.id, chosen))
            continue
        blocked.append((run, _resource_reason(run, state, slots, open_gpus, reserver)))
        waited = (state.now - run.created_at).total_seconds()
        if reserver is None and slots > 0 and run.gpus and waited >= state.reserve_after:
            reserver = run
            reserved = set(sorted(usable)[: run.gpus])
    estimates = _estimates(order, starts, holding, state, medians)
    info: dict[str, QueueInfo] = {}
    for position, (run, reason) in enumerate(blocked, start=1):
        ahead = [w for w, _ in blocked[: position - 1]]
        info[run.id] = QueueInfo(position, _join(reason, _behind(run, ahead)), estimates[run.id])
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


def _behind(run: Waiting, ahead: list[Waiting]) -> str:
    higher = sum(1 for w in ahead if w.priority > run.priority)
    earlier = len(ahead) - higher
    parts = []
    if higher:
        parts.append(f"behind {_runs(higher)} of higher priority")
    if earlier:
        parts.append(f"behind {_runs(earlier)} queued earlier")
    return "; ".join(parts)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


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
) -> dict[str, datetime | None]:
    """When each waiting run is expected to start: the queue replayed in order, each run
    taking the GPUs (and run slot) that come free first."""
    now = state.now

    def end(task_id: str, start: datetime | None) -> datetime | None:
        median = medians.get(task_id)
        if start is None or median is None:
            return None
        return max(start + timedelta(seconds=median), now)

    # When each GPU and each run slot comes free; None: not known.
    gpu_free: dict[int, datetime | None] = {
        g: (None if g in state.outside else now) for g in state.gpus
    }
    slot_free: list[datetime | None] = [now] * max(0, state.max_running - len(holding))
    for held in holding:
        done = end(held.task_id, held.started_at)
        for g in held.gpus:
            gpu_free[g] = done
        slot_free.append(done)
    started = dict(starts)
    result: dict[str, datetime | None] = {}
    for run in order:
        if run.id in started:
            chosen: list[int] = started[run.id]
            begin: datetime | None = now
            slot = _earliest(slot_free)
        else:
            known = sorted((t, g) for g, t in gpu_free.items() if t is not None)
            slot = _earliest(slot_free)
            if len(known) < run.gpus or slot is None:
                begin, chosen = None, []
            else:
                picked = known[: run.gpus]
                chosen = [g for _, g in picked]
                gpu_time = picked[-1][0] if picked else now
                slot_time = slot_free[slot]
                begin = max(gpu_time, slot_time or now)
            result[run.id] = begin
        done = end(run.task_id, begin)
        for g in chosen:
            gpu_free[g] = done
        if slot is not None:
            slot_free[slot] = done
    return result


def _earliest(times: list[datetime | None]) -> int | None:
    known = [(t, i) for i, t in enumerate(times) if t is not None]
    return min(known)[1] if known else None


class QueueBoard:
    """The latest scheduling pass's answer for each waiting run, for records and events."""

    def __init__(self) -> None:
        self._info: dict[str, QueueInfo] = {}
        self._told: dict[str, QueueInfo] = {}  # what the last push of each run said
        self._lock = threading.Lock()

    def get(self, run_id: str) -> QueueInfo | None:
        with self._lock:
            return self._info.get(run_id)

    def waiting(self) -> bool:
        with self._lock:
            return bool(self._info)

    def replace(self, info: dict[str, QueueInfo]) -> set[str]:
        """Keep ``info``; the ids whose answer is news since they were last pushed (the
        caller pushes their records)."""
        with self._lock:
            self._info = dict(info)
            news = {i for i, now in info.items() if _differs(self._told.get(i), now)}
            self._told = {
                i: (info[i] if i in news else told) for i, told in self._told.items() if i in info
            } | {i: info[i] for i in news}
        return news


# An estimate that moves by less than this is not news: one that is already due follows the
# clock, and would otherwise be pushed on every pass.
ESTIMATE_NEWS = timedelta(seconds=30)


def _differs(before: QueueInfo | None, now: QueueInfo) -> bool:
    if before is None or (before.position, before.reason) != (now.position, now.reason):
        return True
    old, new = before.estimated_start_at, now.estimated_start_at
    if old is None or new is None:
        return old is not new
    return abs(new - old) >= ESTIMATE_NEWS
