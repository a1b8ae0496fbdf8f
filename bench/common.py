"""What every benchmark shares: a fresh VTM home, a real `vtm serve` on loopback, cleanup of
every process a benchmark started, statistics, and the shape of a result.

The server is started the way `tests/support.py` starts it (a `python -m vtm serve`
subprocess with its settings in ``VTM_*`` variables); the bits needed are copied here so the
benchmarks do not depend on the test suite.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
import psutil

BENCH = Path(__file__).resolve().parent
CATALOG = BENCH / "catalog" / "catalog.yaml"
TRAINERS = CATALOG.parent / "trainers"
PYTHON = sys.executable
TERMINAL = frozenset({"completed", "failed", "stopped"})

T = TypeVar("T")


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


# -- waiting --------------------------------------------------------------------------------


def wait_for(
    probe: Callable[[], T | None], what: str, timeout: float = 60.0, every: float = 0.02
) -> T:
    """Poll ``probe`` until it returns something truthy; RuntimeError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- processes --------------------------------------------------------------------------------


def processes_with_env(marker: str) -> list[int]:
    """Live processes (not zombies) whose environment holds ``marker``, this one excepted."""
    needle = marker.encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes() + b"\0":
                stat = (entry / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def kill_everything_of(home: Path) -> int:
    """SIGKILL every process whose environment names ``home`` (server, supervisors, spare,
    trainers, bare trainers) until none is left; how many were signalled."""
    marker = f"VTM_HOME={home}"
    killed: set[int] = set()
    deadline = time.monotonic() + 10
    while (pids := processes_with_env(marker)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.05)
    return len(killed)


class Home:
    """A fresh temporary VTM_HOME; on exit every process that names it is killed and it is
    removed, whether the benchmark finished or failed."""

    def __init__(self, prefix: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=f"vtm-bench-{prefix}-")).resolve()

    def __enter__(self) -> Path:
        return self.path

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        kill_everything_of(self.path)
        shutil.rmtree(self.path, ignore_errors=True)


def base_env(home: Path) -> dict[str, str]:
    """This process's environment without VTM settings, plus ``VTM_HOME`` (the cleanup
    marker). What a server, and hence its trainers, and the bare trainers inherit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    env["VTM_HOME"] = str(home)
    return env


# -- the server -------------------------------------------------------------------------------


class Server:
    """`vtm serve` as a real process on loopback, serving the benchmark catalog."""

    def __init__(self, home: Path, database_url: str | None = None, **env: str) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = base_env(home)
        self.env.update(
            VTM_CATALOG=str(CATALOG),
            VTM_STOP_GRACE_SECONDS="1",
            VTM_GPUS="none",
            VTM_MAX_CONCURRENT_RUNS="4",
            # No benchmark uses MLflow; creating its store at start would load the CPU while
            # the first samples are taken.
            VTM_MLFLOW_STORE_AT_START="false",
        )
        if database_url is not None:
            self.env["VTM_DATABASE_URL"] = database_url
        self.env.update(env)
        self.log_path = home / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [PYTHON, "-m", "vtm", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.home,  # no stray .env file of the repository applies
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_for(self._healthy, f"the server on {self.url}", timeout=60)

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.log()[-3000:]}")
        try:
            return self.client.get("/api/health").status_code == 200
        except httpx.TransportError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        self.client.close()
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def peak_rss_bytes(self) -> int:
        """VmHWM of the server process: its peak resident set since it started."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    # -- API --------------------------------------------------------------------------------

    def start_run(self, task: str, **fields: Any) -> dict[str, Any]:
        r = self.client.post("/api/runs/start", json={"taskId": task, "fields": fields})
        if r.status_code != 201:
            raise RuntimeError(f"start {task}: {r.status_code} {r.text}")
        run: dict[str, Any] = r.json()
        return run

    def run(self, run_id: str) -> dict[str, Any]:
        r = self.client.get(f"/api/runs/{run_id}")
        r.raise_for_status()
        run: dict[str, Any] = r.json()
        return run

    def wait_finished(
        self, run_id: str, timeout: float = 120, every: float = 0.02
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            run = self.run(run_id)
            return run if run["status"] in TERMINAL else None

        run = wait_for(probe, f"run {run_id} to finish", timeout, every)
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
