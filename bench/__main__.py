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
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import api_list, output_throughput, progress_latency, start_latency
from bench.common import BENCH, Result, Row

BENCHMARKS: dict[str, Callable[[bool], Result]] = {
    start_latency.NAME: start_latency.run,
    progress_latency.NAME: progress_latency.run,
    output_throughput.NAME: output_throughput.run,
    api_list.NAME: api_list.run,
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
    }


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    report: dict[str, Any] = {"machine": machine(), "quick": args.quick, "benchmarks": {}}
    rows: list[Row] = []
    failed = False
    for name in names:
        print(f"== {name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            result = BENCHMARKS[name](args.quick)
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the rest
            traceback.print_exc()
            failed = True
            result = Result(name)
            result.row(name, f"ERROR: {exc}"[:80], passed=False)
            result.details["error"] = traceback.format_exc()
        elapsed = time.monotonic() - started
        load = result.details.get("load", {})
        busy = load.get("foreign_cores", 0.0) > BUSY_CORES
        print(
            f"   {name}: {elapsed:.0f} s; other processes used {load.get('foreign_cores', 0):.2f}"
            f" cores meanwhile{' (BUSY: rerun for clean figures)' if busy else ''}",
            file=sys.stderr,
            flush=True,
        )
        report["benchmarks"][name] = {
            "elapsed_s": round(elapsed, 1),
            "busy": busy,
            "rows": [vars(r) for r in result.rows],
            "details": result.details,
        }
        rows.extend(result.rows)
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
