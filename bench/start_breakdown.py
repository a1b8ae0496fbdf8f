"""Where a run's start latency goes: `python -m bench.start_breakdown [COUNT]`.

Not one of the table's benchmarks: a diagnosis. It serves the benchmark catalog from a
`vtm serve` whose run-start path is wrapped with timestamps (the wrapping is done here, at
start-up of that server process; VTM's code is not changed), starts COUNT stamp runs one
after another as the start-latency benchmark does, and prints the median time of each step
between "just before the POST" and "the trainer's first statement".
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.common import PYTHON, ForeignLoad, Home, Server, percentile

F = TypeVar("F", bound=Callable[..., Any])
MARKS_ENV = "VTM_BENCH_MARKS"


def _instrumented_serve() -> None:
    """The server process: wrap the start path, then run `vtm serve` as usual."""
    from vtm.cli.app import main
    from vtm.runs import service
    from vtm.store import repository
    from vtm.supervisor import control, spare

    marks = open(os.environ[MARKS_ENV], "a", buffering=1, encoding="utf-8")  # noqa: SIM115

    def mark(name: str) -> None:
        marks.write(f"{name} {time.time()!r}\n")

    def timed(label: str, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            mark(f"{label}:enter")
            try:
                return fn(*args, **kwargs)
            finally:
                mark(f"{label}:exit")

        return wrapper  # type: ignore[return-value]

    service.RunService.start = timed("service.start", service.RunService.start)  # type: ignore[method-assign]
    service.RunService.schedule = timed("schedule", service.RunService.schedule)  # type: ignore[method-assign]
    repo = repository.RunRepository
    repo.insert = timed("repo.insert", repo.insert)  # type: ignore[method-assign]
    repo.queued = timed("repo.queued", repo.queued)  # type: ignore[method-assign]
    repo.transition = timed("repo.transition", repo.transition)  # type: ignore[method-assign]
    service.spawn_supervisor = timed("spawn_supervisor", control.spawn_supervisor)  # type: ignore[attr-defined]
    control._write_private = timed("write_spec", control._write_private)
    spare.hand_over = timed("hand_over", spare.hand_over)
    spare.start_spare = timed("start_spare", spare.start_spare)
    sys.argv = ["vtm", *sys.argv[1:]]
    main()


def _segments(
    t0: float, answered: float, marks: list[tuple[str, float]], exec_at: float, stamp: float
) -> dict[str, float]:
    first: dict[str, float] = {}
    for name, at in marks:
        first.setdefault(name, at)  # repo.transition: the first is queued → running
    points = [
        ("POST → service.start (HTTP, FastAPI, thread pool)", first["service.start:enter"]),
        ("validate + plan", first["repo.insert:enter"]),
        ("insert the run (DB commit)", first["repo.insert:exit"]),
        ("→ spawn_supervisor (lock, GPU pool, folders)", first["spawn_supervisor:enter"]),
        ("write spec.json", first["write_spec:exit"]),
        ("hand over to the spare", first["hand_over:exit"]),
        ("spare: read, lock, spec, fork, exec", exec_at),
        ("exec → trainer's first statement", stamp),
    ]
    out: dict[str, float] = {}
    previous = t0
    for label, at in points:
        out[label] = at - previous
        previous = at
    # The next spare now starts 0.2 s after a run, off the request: no longer in this table.
    out["(meanwhile) hand_over done → POST answered"] = answered - first["hand_over:exit"]
    out["total"] = stamp - t0
    return out


def main(count: int) -> None:
    with Home("breakdown") as home:
        marks_path = home / "marks.txt"
        server = Server(home, **{MARKS_ENV: str(marks_path)})
        server_cmd = [PYTHON, "-c", "import bench.start_breakdown as b; b._instrumented_serve()"]
        _start_with(server, server_cmd)
        try:
            with ForeignLoad() as load:
                results = [_one(server, marks_path, home / f"stamp-{i}") for i in range(count + 1)]
        finally:
            server.stop()
    results = results[1:]  # the first is the warm-up
    print(
        f"median of {count} starts (ms), p90 in brackets; other processes used "
        f"{load.cpu / load.wall:.2f} cores meanwhile:"
    )
    for key in results[0]:
        values = [r[key] for r in results]
        print(
            f"  {percentile(values, 50) * 1000:7.2f}  [{percentile(values, 90) * 1000:6.2f}]  {key}"
        )


def _start_with(server: Server, argv: list[str]) -> None:
    """Start ``server`` as ``argv serve --port N`` (the instrumented server) with bench/ on its
    path."""
    bench_root = str(Path(__file__).resolve().parent.parent)
    server.env["PYTHONPATH"] = bench_root + os.pathsep + server.env.get("PYTHONPATH", "")
    server.program = tuple(argv)
    server.start(timeout=60)


def _one(server: Server, marks_path: Path, out: Path) -> dict[str, float]:
    time.sleep(0.3)
    offset = marks_path.stat().st_size if marks_path.exists() else 0
    t0 = time.time()
    # Raw HTTP, not vtm_client: the answer's arrival is one of the measured times.
    r = server.client.post("/api/runs/start", json={"taskId": "stamp", "fields": {"out": str(out)}})
    answered = time.time()
    r.raise_for_status()
    run_id = r.json()["id"]
    time.sleep(0.1)
    server.wait_finished(run_id)
    with open(marks_path, encoding="utf-8") as file:
        file.seek(offset)
        marks = [(n, float(t)) for n, t in (line.split() for line in file if line.strip())]
    pids = json.loads((server.home / "runs" / run_id / "pid.json").read_text())
    return _segments(t0, answered, marks, float(pids["startedAt"]), float(out.read_text()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
