"""Start runs under a real supervisor, wait on real conditions, and leave no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import psutil

from vtm.supervisor import (
    ExitRecord,
    LaunchSpec,
    RunDir,
    SupervisorState,
    probe,
    read_exit,
    read_pids,
    spawn_supervisor,
)

TRAINER = Path(__file__).with_name("trainer.py")
T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie has finished and counts as dead."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def processes_of(run_id: str) -> list[int]:
    """Live processes whose environment names the run: the trainer and all it started."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("VTM_RUN_ID") == run_id and proc.status() != "zombie":
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@dataclass
class Run:
    dir: RunDir
    spec: LaunchSpec
    proc: subprocess.Popen[bytes] | None = None

    @property
    def run_id(self) -> str:
        return self.spec.run_id

    def log(self) -> str:
        try:
            return self.dir.output_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def pids(self, count: int) -> dict[str, list[int]]:
        """Wait until ``count`` processes of the run have said ``PID <role> <pid>``."""

        def seen() -> dict[str, list[int]] | None:
            found: dict[str, list[int]] = {}
            for line in self.log().splitlines():
                if line.startswith("PID "):
                    _, role, pid = line.split()
                    found.setdefault(role, []).append(int(pid))
            return found if sum(map(len, found.values())) >= count else None

        return wait_for(seen, f"{count} processes of the run to start")

    def wait_exit(self, timeout: float = 20.0) -> ExitRecord:
        return wait_for(lambda: read_exit(self.dir), "exit.json", timeout)

    def supervisor_pid(self) -> int:
        pids = wait_for(lambda: read_pids(self.dir), "pid.json")
        return pids.supervisor_pid


@dataclass
class Runs:
    """Makes runs in a temporary folder; ``cleanup`` kills whatever they left running."""

    root: Path
    started: list[Run] = field(default_factory=list)

    def make(self, *args: str, timeout: float | None = None, grace: float = 0.5) -> Run:
        run_id = uuid.uuid4().hex
        spec = LaunchSpec(
            run_id=run_id,
            argv=[sys.executable, str(TRAINER), *args],
            cwd=str(self.root),
            env={"VTM_RUN_ID": run_id, "VTM_TEST_EXTRA": "from-spec"},
            timeout_seconds=timeout,
            grace_seconds=grace,
        )
        run = Run(RunDir(self.root / run_id), spec)
        self.started.append(run)
        return run

    def start(self, *args: str, timeout: float | None = None, grace: float = 0.5) -> Run:
        run = self.make(*args, timeout=timeout, grace=grace)
        run.proc = spawn_supervisor(run.dir, run.spec)
        return run

    def cleanup(self) -> None:
        for run in self.started:
            try:
                pids = read_pids(run.dir)
            except ValueError:
                pids = None
            if pids is not None and probe(run.dir) is SupervisorState.ALIVE:
                _kill(pids.supervisor_pid)
            for pid in processes_of(run.run_id):
                _kill(pid)
            if run.proc is not None:
                run.proc.kill()
                run.proc.wait()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def runs_fixture(tmp_path: Path) -> Iterator[Runs]:
    runs = Runs(tmp_path)
    try:
        yield runs
    finally:
        runs.cleanup()
