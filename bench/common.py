"""What every benchmark shares: a fresh VTM home, a real `vtm serve` on loopback (the test kit's,
serving the benchmark catalog), cleanup of every process a benchmark started, statistics, and
the shape of a result.

The server, the waiting and the process cleanup are the test kit's (testkit/, installed in
.venv), so the benchmarks start VTM exactly as the tests do without depending on the suite.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from vtm_testkit import VtmServer
from vtm_testkit.processes import kill_home
from vtm_testkit.server import home_env

BENCH = Path(__file__).resolve().parent
CATALOG = BENCH / "catalog" / "catalog.yaml"
TRAINERS = CATALOG.parent / "trainers"
PYTHON = sys.executable


# -- results ------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the printed table."""

    benchmark: str
    vtm: str
    baseline: str
    ratio: str
    target: str
    passed: bool | None  # None: shown for information, no target applies


@dataclass
class Result:
    name: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def row(
        self,
        benchmark: str,
        vtm: str,
        baseline: str = "",
        ratio: str = "",
        target: str = "",
        passed: bool | None = None,
    ) -> None:
        self.rows.append(Row(benchmark, vtm, baseline, ratio, target, passed))


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100), interpolated linearly between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    """n, mean, min, p50, p90, p95, p99 and max of ``values``."""
    return {
        "n": len(values),
        "mean": sum(values) / len(values) if values else math.nan,
        "min": min(values, default=math.nan),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values, default=math.nan),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# -- homes and the server ---------------------------------------------------------------------


class Home:
    """A fresh temporary VTM_HOME; on exit every process that names it is killed and it is
    removed, whether the benchmark finished or failed."""

    def __init__(self, prefix: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=f"vtm-bench-{prefix}-")).resolve()

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        kill_home(self.path)
        shutil.rmtree(self.path, ignore_errors=True)


def base_env(home: Path) -> dict[str, str]:
    """This process's environment without VTM's (or Airflow's) settings, plus ``VTM_HOME``
    (the cleanup marker): what a server, and hence its trainers, and the bare trainers
    inherit."""
    return home_env(home)


class Server(VtmServer):
    """`vtm serve` of the benchmark catalog, four runs at a time; ``with`` starts it and, at
    the end, stops it and kills every process of its home."""

    default_catalog = CATALOG
    max_concurrent_runs = 4

    def peak_rss_bytes(self) -> int:
        """VmHWM of the server process: its peak resident set since it started."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def wait_finished(
        self, run_id: str, timeout: float = 120, every: float = 0.02
    ) -> dict[str, Any]:
        """The run once it has ended; RuntimeError unless it completed."""
        run = self.wait_status(run_id, timeout=timeout, every=every)
        if run["status"] != "completed":
            raise RuntimeError(f"run {run_id} ended {run['status']}: {run.get('error')}")
        return run


# -- how busy the machine is besides us -------------------------------------------------------


OURS = b"/vtm-bench-"  # in the environment of every process started for a benchmark home


def _cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system + t.children_user + t.children_system)


class ForeignLoad:
    """CPU time used during a benchmark by processes that are not ours (the benchmark's own
    process and anything naming its VTM_HOME are ours). Processes that started and ended
    meanwhile count when a surviving parent reaped them; it is an estimate of disturbance.

    ``sessions``: sessions whose processes are ours too (Airflow's processes rewrite their
    titles with setproctitle, which clobbers what /proc shows of their environment)."""

    def __init__(self, sessions: tuple[int, ...] = ()) -> None:
        self._sessions = frozenset(sessions)
        self._start: dict[int, tuple[str, float]] = {}
        self.top: list[tuple[str, float]] = []
        self._t0 = 0.0
        self.load_before = os.getloadavg()

    def _foreign(self) -> dict[int, tuple[str, float]]:
        me = os.getpid()
        found: dict[int, tuple[str, float]] = {}
        for proc in psutil.process_iter():
            try:
                if proc.pid == me or OURS in Path(f"/proc/{proc.pid}/environ").read_bytes():
                    continue
                if self._sessions and os.getsid(proc.pid) in self._sessions:
                    continue
                found[proc.pid] = (proc.name(), _cpu_seconds(proc))
            except (psutil.Error, OSError):
                continue
        return found

    def __enter__(self) -> ForeignLoad:
        self._start = self._foreign()
        self._t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._foreign()
        self.wall = time.monotonic() - self._t0
        used = {
            (pid, name): max(0.0, cpu - self._start.get(pid, (name, 0.0))[1])
            for pid, (name, cpu) in end.items()
        }
        self.cpu = sum(used.values())
        ranked = sorted(used.items(), key=lambda item: -item[1])[:3]
        self.top = [(f"{name}[{pid}]", round(cpu, 2)) for (pid, name), cpu in ranked]
        self.load_after = os.getloadavg()

    def describe(self) -> dict[str, Any]:
        return {
            "foreign_cpu_s": round(self.cpu, 2),
            "wall_s": round(self.wall, 2),
            "foreign_cores": round(self.cpu / self.wall, 3) if self.wall else 0.0,
            "loadavg_before": self.load_before[0],
            "loadavg_after": self.load_after[0],
            "top_foreign": self.top,
        }
