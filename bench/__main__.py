"""`python -m bench`: run the benchmarks of docs/benchmarks.md and print one table.

Results also go to ``bench/results/latest.json`` (git-ignored), with the machine, the date,
how busy the machine was besides the benchmarks, and every sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    airflow_celery,
    airflow_trigger,
    api_list,
    output_throughput,
    progress_latency,
    queue_pass,
    ray_start,
    start_latency,
    ui_live,
)
from bench.common import BENCH, Result, Row

BENCHMARKS: dict[str, Callable[[bool], Result]] = {
    start_latency.NAME: start_latency.run,
    progress_latency.NAME: progress_latency.run,
    output_throughput.NAME: output_throughput.run,
    api_list.NAME: api_list.run,
    queue_pass.NAME: queue_pass.run,
    ui_live.NAME: ui_live.run,
    airflow_trigger.NAME: airflow_trigger.run,
    airflow_celery.NAME: airflow_celery.run,
    ray_start.NAME: ray_start.run,
}
RESULTS = BENCH / "results"
BUSY_CORES = 0.1  # other processes using more than this (in cores) may have disturbed us


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=BENCH.parent, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--", "src")),
        # Anything on PYTHONPATH may shadow the VTM under test (the server inherits it).
        "pythonpath": os.environ.get("PYTHONPATH"),
    }


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    total = sum(fields[:8])  # guest time is already in user
    return total - idle, total


def wait_quiet(limit: float) -> bool:
    """Wait until the machine (we run nothing meanwhile) is under BUSY_CORES busy for 5 s;
    False if ``limit`` ran out first."""
    deadline = time.monotonic() + limit
    cpus = os.cpu_count() or 1
    while True:
        busy0, total0 = _busy_jiffies()
        time.sleep(5)
        busy1, total1 = _busy_jiffies()
        cores = cpus * (busy1 - busy0) / max(1, total1 - total0)
        if cores < BUSY_CORES:
            return True
        if time.monotonic() > deadline:
            print("   the machine stayed busy; measuring anyway", file=sys.stderr, flush=True)
            return False
        print(f"   busy ({cores:.2f} cores in use), waiting", file=sys.stderr, flush=True)


def table(rows: list[Row]) -> str:
    head = ("benchmark", "VTM", "baseline", "ratio / percentiles", "target", "result")
    cells = [
        (
            r.benchmark,
            r.vtm,
            r.baseline,
            r.ratio,
            r.target,
            "" if r.passed is None else ("PASS" if r.passed else "MISS"),
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(len(head))]

    def line(c: tuple[str, ...]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip()

    return "\n".join([line(head), line(tuple("-" * w for w in widths)), *map(line, cells)])


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def run_one(name: str, quick: bool, wait_quiet_s: float) -> dict[str, Any]:
    """One benchmark, as the report's entry; an error becomes a MISS row, never a crash."""
    print(f"== {name} ...", file=sys.stderr, flush=True)
    if wait_quiet_s:
        wait_quiet(wait_quiet_s)
    started = time.monotonic()
    try:
        result = BENCHMARKS[name](quick)
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the rest
        traceback.print_exc()
        result = Result(name)
        result.row(name, f"ERROR: {exc}"[:80], passed=False)
        result.details["error"] = traceback.format_exc()
    elapsed = time.monotonic() - started
    foreign = result.details.get("load", {}).get("foreign_cores", 0.0)
    busy = foreign > BUSY_CORES
    print(
        f"   {name}: {elapsed:.0f} s; other processes used {foreign:.2f} cores meanwhile"
        f"{' (BUSY: figures may be disturbed)' if busy else ''}",
        file=sys.stderr,
        flush=True,
    )
    return {
        "elapsed_s": round(elapsed, 1),
        "busy": busy,
        "rows": [vars(r) for r in result.rows],
        "details": result.details,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each benchmark, wait up to this long for 5 s in which other processes "
        f"use under {BUSY_CORES} cores (the machine is shared)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        metavar="N",
        help="run a benchmark that other processes disturbed again, up to N more times, "
        "and keep its least disturbed attempt",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    args = parser.parse_args(argv)
    # A plain SIGTERM would end the process without cleanup: make it unwind instead, so every
    # benchmark's processes are killed and its temporary home removed.
    signal.signal(signal.SIGTERM, _terminate)
    names = args.only or list(BENCHMARKS)
    report: dict[str, Any] = {"machine": machine(), "quick": args.quick, "benchmarks": {}}
    rows: list[Row] = []
    failed = False
    for name in names:
        attempts: list[dict[str, Any]] = []
        while True:
            attempt = run_one(name, args.quick, args.wait_quiet)
            attempts.append(attempt)
            if not attempt["busy"] or len(attempts) > args.retries:
                break
            print(f"   {name}: disturbed, running it again", file=sys.stderr, flush=True)
        best = min(attempts, key=lambda a: a["details"].get("load", {}).get("foreign_cores", 0))
        best["attempts"] = len(attempts)
        report["benchmarks"][name] = best
        rows.extend(Row(**r) for r in best["rows"])
        failed = failed or "error" in best["details"]
    print(table(rows))
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(report, indent=2, default=str)
    (RESULTS / "latest.json").write_text(text)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"{stamp}{'-quick' if args.quick else ''}.json").write_text(text)
    print(f"\nresults: {RESULTS / 'latest.json'}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
