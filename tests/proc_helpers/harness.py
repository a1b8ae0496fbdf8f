"""Start runs under a real supervisor, wait on real conditions, and leave no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from vtm_testkit import processes_with_env
from vtm_testkit import wait_for as _wait_for
from vtm_testkit.processes import alive

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

__all__ = ["TRAINER", "Run", "Runs", "alive", "processes_of", "runs_fixture", "wait_for"]

TRAINER = Path(__file__).with_name("trainer.py")
T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    """The kit's ``wait_for``, polling every 5 ms: these waits time the supervisor's reactions."""
    return _wait_for(condition, what, timeout, every=0.005)


def processes_of(run_id: str) -> list[int]:
    """Live processes whose environment names the run: the trainer and all it started."""
    return processes_with_env(f"VTM_RUN_ID={run_id}")


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
