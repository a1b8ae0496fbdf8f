"""Which waiting Ray runs go to which node now, and why the others wait.

VTM keeps the queue of its Ray runs itself and submits a run only when one node can take it
whole (its GPUs, and the bit of CPU its `vtm exec` asks for), so that no run of VTM's ever
waits PENDING inside Ray, where stopping it is unreliable. Room on a node is what the node
declares minus what VTM's own Ray runs placed there hold. Like ``runs.queue.plan_queue``, a
pure function: the order is the same (priority, then first come); a run that fits may pass
one that does not (no reservation: a cluster's nodes come and go).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from vtm.integrations.ray_jobs import RayNode
from vtm.runs.queue import QueueInfo, Waiting, queue_order

CPU_SLACK = 1e-9  # summed fractions of a CPU must not miss a fit by a rounding error


class Placed(NamedTuple):
    """What a run of VTM's holds on a node."""

    node_id: str
    gpus: int
    cpus: float


@dataclass(frozen=True)
class PlacementPlan:
    starts: list[tuple[str, RayNode]]
    waiting: dict[str, QueueInfo]


def place_runs(
    waiting: Sequence[Waiting],
    nodes: Sequence[RayNode] | None,
    held: Iterable[Placed],
    cpus: float,
    address: str,
) -> PlacementPlan:
    """``nodes``: the cluster's live nodes, None when it did not answer; ``held``: what VTM's
    running Ray runs hold; ``cpus``: what each run's `vtm exec` asks for."""
    order = queue_order(waiting)
    if not address:
        reason = "this server has no Ray cluster (VTM_RAY_ADDRESS is not set)"
        return PlacementPlan([], _info(order, reason))
    if nodes is None:
        reason = f"the Ray cluster at {address} does not answer; trying again"
        return PlacementPlan([], _info(order, reason))
    free_gpus = {n.id: n.gpus for n in nodes}
    free_cpus = {n.id: n.cpus for n in nodes}
    for p in held:
        if p.node_id in free_gpus:
            free_gpus[p.node_id] -= p.gpus
            free_cpus[p.node_id] -= p.cpus
    starts: list[tuple[str, RayNode]] = []
    blocked: list[tuple[Waiting, str]] = []
    for run in order:
        fits = [
            n for n in nodes if free_gpus[n.id] >= run.gpus and free_cpus[n.id] + CPU_SLACK >= cpus
        ]
        if fits:
            # The tightest fit: GPUs left whole for the runs that need many.
            node = min(fits, key=lambda n: (free_gpus[n.id] - run.gpus, n.head, n.id))
            free_gpus[node.id] -= run.gpus
            free_cpus[node.id] -= cpus
            starts.append((run.id, node))
        else:
            blocked.append((run, _reason(run, nodes, free_gpus, cpus)))
    info = {
        run.id: QueueInfo(position, reason, None)
        for position, (run, reason) in enumerate(blocked, start=1)
    }
    return PlacementPlan(starts, info)


def _info(order: list[Waiting], reason: str) -> dict[str, QueueInfo]:
    return {run.id: QueueInfo(i, reason, None) for i, run in enumerate(order, start=1)}


def _reason(
    run: Waiting,
    nodes: Sequence[RayNode],
    free_gpus: dict[str, int],
    cpus: float,
) -> str:
    if not nodes:
        return "the Ray cluster has no live node"
    largest = max(n.gpus for n in nodes)
    if run.gpus > largest:
        return f"needs {_gpus(run.gpus)} on one Ray node; the largest declares {_gpus(largest)}"
    if run.gpus == 0:
        return f"no Ray node has {cpus:g} CPU free for its `vtm exec`"
    free = ", ".join(f"{n.name}: {max(free_gpus[n.id], 0)}" for n in nodes[:8])
    more = f" and {len(nodes) - 8} more" if len(nodes) > 8 else ""
    return f"needs {_gpus(run.gpus)} on one Ray node; free GPUs per node: {free}{more}"


def _gpus(n: int) -> str:
    return "1 GPU" if n == 1 else f"{n} GPUs"
