"""`vtm serve` as a real process on loopback, with a VTM home of its own.

The server is configured as a person configures it, by ``VTM_*`` variables: its home (also the
marker that finds every process it starts), catalog, database, ``TEST_SETTINGS`` and how many
runs at a time; nothing of the caller's VTM or Airflow variables reaches it, and it runs in its
home, so that no stray ``.env`` file applies. A few small API helpers wait on runs; the rest of
the API is the caller's (``client``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

from vtm_testkit.forkserver import ForkedProcess, fork_server
from vtm_testkit.ports import free_port
from vtm_testkit.processes import kill_home
from vtm_testkit.store_template import seed
from vtm_testkit.waiting import wait_for

TERMINAL = ("completed", "failed", "stopped")

TEST_SETTINGS: Mapping[str, str] = {
    "VTM_STOP_GRACE_SECONDS": "1",  # a stop's SIGKILL comes after 1 s, not 10
    "VTM_GPUS": "none",  # no NVML probe; no run waits for a GPU
    # Most users never touch MLflow: importing it in every server costs seconds of CPU. Tests
    # of the store's creation at start say "true"; mlflow_store copies a ready store in.
    "VTM_MLFLOW_STORE_AT_START": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}
CALLERS = ("VTM_", "AIRFLOW")  # the caller's variables that never reach a server

_S = TypeVar("_S", bound="VtmServer")


class ServerExited(AssertionError):
    """The server ended while it was expected to serve."""


def home_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without the ``CALLERS`` variables, plus
    ``VTM_HOME``: what a server, and so its trainers, inherit, and the environment of anything
    a test starts itself for that home (the marker then finds it)."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith(CALLERS)}
    env["VTM_HOME"] = str(home)
    return env


class VtmServer:
    """`vtm serve` on 127.0.0.1: started on a free port or a given one (a killed server's, to
    come back at the same address), stopped gracefully (its runs' detached supervisors stay),
    killed, restarted; ``close`` ends it and every process of its home.

    Subclasses set the class attributes: ``program`` (the `vtm` to run), ``default_catalog``,
    ``default_task`` (of ``start_run``), ``max_concurrent_runs``, ``seed_store`` and ``forked``.
    ``env`` may be changed before ``start``."""

    program: tuple[str, ...] = (sys.executable, "-m", "vtm")
    default_catalog: Path | None = None
    default_task: str | None = None
    max_concurrent_runs: int = 8
    # A SQLite store not made yet is copied from one migrated for the session (store_template).
    seed_store: bool = True
    # Forked from a process that has imported VTM (forkserver) instead of exec'd: a second of
    # CPU less per start. Only for ``python -m vtm`` or an environment's `vtm` script.
    forked: bool = False

    def __init__(
        self,
        home: Path,
        database_url: str | None = None,
        catalog: Path | None = None,
        port: int | None = None,
        args: Sequence[str] = (),
        **env: str,
    ) -> None:
        """``database_url``: VTM's store (default: SQLite in the home); ``args``: more `vtm
        serve` options; ``env``: more variables, over the settings."""
        self.home = home
        self.database_url = database_url
        self.catalog = catalog or self.default_catalog
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = tuple(args)
        self.env = home_env(home)
        self.env.update(TEST_SETTINGS)
        self.env["VTM_MAX_CONCURRENT_RUNS"] = str(self.max_concurrent_runs)
        if self.catalog is not None:
            self.env["VTM_CATALOG"] = str(self.catalog)
        if database_url is not None:
            self.env["VTM_DATABASE_URL"] = database_url
        self.env.update(env)
        self.log_path = home / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | ForkedProcess | None = None
        self.client = httpx.Client(base_url=self.url, timeout=60)

    # -- the process ----------------------------------------------------------------------

    @property
    def python(self) -> str:
        """The Python of ``program`` (``python -m vtm`` or an environment's `vtm` script)."""
        if self.program[1:2] == ("-m",):
            return self.program[0]
        return str(Path(self.program[0]).with_name("python"))

    def command(self) -> list[str]:
        return [*self.program, "serve", "--port", str(self.port), *self.args]

    def start(self: _S, timeout: float = 90) -> _S:
        """Start and wait until /api/health answers; the server's exit fails at once."""
        if self.running:
            raise AssertionError(f"the server on {self.url} is already running")
        program = Path(self.program[0])
        if program.is_absolute() and not program.exists():
            raise AssertionError(f"{program} is missing: `make` builds VTM's environment (.venv)")
        self.home.mkdir(parents=True, exist_ok=True)
        if self.seed_store:
            url = self.env.get("VTM_DATABASE_URL") or f"sqlite:///{self.home / 'vtm.db'}"
            seed(url, self.python, cwd=self.home)  # the server runs in its home
        if self.forked:
            args = self.command()[len(self.program) :]
            forks = fork_server(self.python)
            self.proc = forks.spawn("vtm", args, self.env, self.home, self.log_path)
        else:
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    self.command(),
                    env=self.env,
                    cwd=self.home,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
        wait_for(self.healthy, f"vtm serve on {self.url} to answer", timeout)
        return self

    def healthy(self) -> bool:
        if self.proc is None:
            return False
        if self.proc.poll() is not None:
            raise ServerExited(f"vtm serve exited {self.proc.returncode}:\n{self.log()[-6000:]}")
        try:
            return self.client.get("/api/health").status_code == 200
        except httpx.TransportError:
            return False

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the server was never started"
        return self.proc.pid

    def log(self) -> str:
        """Everything the server printed (every start on this port)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, SIGKILL after ``timeout`` s: the server goes, its runs' supervisors stay."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def kill9(self) -> None:
        """SIGKILL the server alone, as a crash would."""
        assert self.proc is not None, "the server was never started"
        self.proc.kill()
        self.proc.wait(10)

    def restart(self: _S) -> _S:
        """Stop, then start again on the same port and home."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the server, close the client and kill every process of the home."""
        self.stop()
        self.client.close()
        kill_home(self.home)

    def __enter__(self: _S) -> _S:
        return self if self.running else self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- a few API helpers ----------------------------------------------------------------

    def start_run(self, task: str | None = None, **fields: Any) -> dict[str, Any]:
        """POST /api/runs/start of ``task`` (default: ``default_task``); 201 or it fails."""
        task = task or self.default_task
        assert task is not None, "start_run needs a task"
        r = self.client.post("/api/runs/start", json={"taskId": task, "fields": fields})
        assert r.status_code == 201, f"start {task}: {r.status_code} {r.text}"
        run: dict[str, Any] = r.json()
        return run

    def run(self, run_id: str) -> dict[str, Any]:
        r = self.client.get(f"/api/runs/{run_id}")
        assert r.status_code == 200, f"run {run_id}: {r.status_code} {r.text}"
        run: dict[str, Any] = r.json()
        return run

    def wait_status(
        self, run_id: str, *statuses: str, timeout: float = 60, every: float = 0.02
    ) -> dict[str, Any]:
        """The run once its status is one of ``statuses`` (default: any end)."""
        wanted = statuses or TERMINAL

        def probe() -> dict[str, Any] | None:
            run = self.run(run_id)
            return run if run["status"] in wanted else None

        return wait_for(probe, f"run {run_id} to be {'/'.join(wanted)}", timeout, every)

    def wait_epoch(self, run_id: str, epoch: int, timeout: float = 60) -> dict[str, Any]:
        """The run once it has reported ``epoch`` (or a later one)."""

        def probe() -> dict[str, Any] | None:
            run = self.run(run_id)
            return run if run["progress"].get("epoch", -1) >= epoch else None

        return wait_for(probe, f"run {run_id} to reach epoch {epoch}", timeout)

    def full_log(self, run_id: str) -> bytes:
        """The run's whole output, as the home holds it."""
        return (self.home / "runs" / run_id / "output.log").read_bytes()
