"""Five days of runs for the quality report tests, written through the repository with
explicit times, statuses, errors, stop flags and metric points.

Days D0..D4 start at ``base`` (a UTC midnight). Task ``scripted`` (A) has successes, failures,
hand re-runs, a hand stop, a queued and a running run; task ``noisy`` (B) ends in an open
incident. The hand-computed expectations live in the tests, next to their arithmetic.

    A  a1  D0 01:00-01:30 completed  F1  val_accuracy 0.80
       a2  D0 02:00-02:10 failed     F1  exit 1                 incident 1 starts 02:10
       a3  D0 02:20-02:50 failed     F1  timeout (0.97 before)  re-run of a2
       a4  D0 03:00-03:40 completed  F1  0.85                   re-run of a3; incident 1 ends
       a5  D1 01:00-01:20 stopped    F2  stopped by hand
       a6  D1 01:30-02:30 completed  F2  0.90                   re-run of a5
       a7  D2 05:00-05:05 failed     F1  SIGKILL                incident 2 starts 05:05
       a8  D2 06:00-06:45 completed  F2  0.88                   incident 2 ends
       a9  D2 22:00-23:30 failed     F2  exit 2                 incident 3 starts 23:30
       a10 D3 01:00-01:50 completed  F1  0.70, 0.85, 0.93       incident 3 ends
       a11 D4 01:00-01:35 completed  F1  0.95, 0.91
       a12 D4 03:00       queued     F1
       a13 D4 03:10-      running    F1
    B  b1  D3 10:00-10:20 completed  FB  0.50
       b2  D4 04:00-04:30 failed     FB  supervisor lost        incident starts 04:30, open
       b3  D4 04:40 -04:45 stopped   FB  stopped before it started (re-run of b2, stopped by hand)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from vtm.states import RunStatus
from vtm.store import LaunchRecord, NewRun, OutputBatch, RunRepository

A, B = "scripted", "noisy"
F1: dict[str, Any] = {"epochs": 3, "lr": 0.1}
F2: dict[str, Any] = {"epochs": 5, "lr": 0.1}
FB: dict[str, Any] = {"epochs": 3, "big_mb": 1}
LOST = "the run's supervisor process died without recording the trainer's exit"


@dataclass(frozen=True)
class Spec:
    alias: str
    task: str
    day: int
    created: str
    started: str | None
    finished: str | None
    status: RunStatus
    fields: dict[str, Any]
    exit_code: int | None = None
    error: str | None = None
    stop: bool = False
    metrics: tuple[float, ...] = field(default=())


C, F, S = RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.STOPPED
SCENARIO = (
    Spec("a1", A, 0, "01:00", "01:00", "01:30", C, F1, 0, metrics=(0.80,)),
    Spec("a2", A, 0, "02:00", "02:00", "02:10", F, F1, 1, "exited with code 1"),
    Spec("a3", A, 0, "02:20", "02:20", "02:50", F, F1, -15, "timed out after 1800 s",
         metrics=(0.97,)),
    Spec("a4", A, 0, "03:00", "03:00", "03:40", C, F1, 0, metrics=(0.85,)),
    Spec("a5", A, 1, "01:00", "01:00", "01:20", S, F2, -15, "stopped on request", True, (0.6,)),
    Spec("a6", A, 1, "01:30", "01:30", "02:30", C, F2, 0, metrics=(0.90,)),
    Spec("a7", A, 2, "05:00", "05:00", "05:05", F, F1, -9, "killed by signal SIGKILL"),
    Spec("a8", A, 2, "06:00", "06:00", "06:45", C, F2, 0, metrics=(0.88,)),
    Spec("a9", A, 2, "22:00", "22:00", "23:30", F, F2, 2, "exited with code 2"),
    Spec("a10", A, 3, "01:00", "01:00", "01:50", C, F1, 0, metrics=(0.70, 0.85, 0.93)),
    Spec("a11", A, 4, "01:00", "01:00", "01:35", C, F1, 0, metrics=(0.95, 0.91)),
    Spec("a12", A, 4, "03:00", None, None, RunStatus.QUEUED, F1),
    Spec("a13", A, 4, "03:10", "03:10", None, RunStatus.RUNNING, F1, metrics=(0.5,)),
    Spec("b1", B, 3, "10:00", "10:00", "10:20", C, FB, 0, metrics=(0.50,)),
    Spec("b2", B, 4, "04:00", "04:00", "04:30", F, FB, None, LOST),
    Spec("b3", B, 4, "04:40", None, "04:45", S, FB, None, "stopped before it started", True),
)  # fmt: skip


def at(base: datetime, day: int, hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return base + timedelta(days=day, hours=int(hours), minutes=int(minutes))


def seed(repo: RunRepository, base: datetime) -> dict[str, str]:
    """Write the scenario; alias → run id."""
    assert base.tzinfo is UTC and base == base.replace(hour=0, minute=0, second=0, microsecond=0)
    ids: dict[str, str] = {}
    for n, spec in enumerate(SCENARIO, start=1):
        created = at(base, spec.day, spec.created)
        run_id = f"{created:%Y%m%d-%H%M%S}-{n:06x}"
        ids[spec.alias] = run_id
        repo.insert(
            NewRun(
                run_id,
                spec.task,
                dict(spec.fields),
                ["python", "t.py"],
                LaunchRecord(),
                created_at=created,
            )
        )
        if spec.started is not None:
            repo.transition(run_id, RunStatus.RUNNING, started_at=at(base, spec.day, spec.started))
        if spec.metrics:
            progress = [
                {"epoch": i, "total_epochs": len(spec.metrics), "val_accuracy": v, "loss": 1 - v}
                for i, v in enumerate(spec.metrics, start=1)
            ]
            batch = OutputBatch(0, 10, len(progress), True, [], progress=progress)
            assert repo.apply_output(run_id, batch) is not None
        if spec.stop:
            repo.set_fields(run_id, stop_requested=True)
        if spec.finished is not None:
            repo.transition(
                run_id,
                spec.status,
                finished_at=at(base, spec.day, spec.finished),
                exit_code=spec.exit_code,
                error=spec.error,
            )
    return ids
