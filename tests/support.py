"""Shared test machinery: a real `vtm serve` in a subprocess, databases, waiting helpers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg

TESTS = Path(__file__).resolve().parent
TEST_CATALOG = TESTS / "trainers" / "catalog.yaml"
POSTGRES_ADMIN_URL = os.environ.get(
    "VTM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TERMINAL = ("completed", "failed", "stopped")

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], what: str, timeout: float = 30.0, every: float = 0.02
) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[str]:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def processes_with_env(marker: str) -> list[int]:
    """PIDs of live processes whose environment holds ``marker`` (e.g. VTM_HOME=...)."""
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


def kill_everything_of(home: Path) -> None:
    for pid in processes_with_env(f"VTM_HOME={home}"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Server:
    """`vtm serve` as a real process on loopback, restartable and killable."""

    def __init__(
        self,
        home: Path,
        database_url: str,
        catalog: Path = TEST_CATALOG,
        port: int | None = None,
        args: tuple[str, ...] = (),
        **env: str,
    ):
        """``port``: listen there (e.g. a killed server's, to come back at the same address);
        ``args``: more `vtm serve` options."""
        self.home = home
        self.catalog = catalog
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = home / f"server-{self.port}.log"
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
        env.update(
            VTM_HOME=str(self.home),
            VTM_CATALOG=str(self.catalog),
            VTM_DATABASE_URL=self.database_url,
            VTM_STOP_GRACE_SECONDS="1",
            VTM_GPUS="none",
            VTM_MAX_CONCURRENT_RUNS="8",
            # Most tests never touch MLflow: importing it in every server costs seconds of CPU.
            # Tests of the store's creation at start say "true".
            VTM_MLFLOW_STORE_AT_START="false",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> Server:
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vtm", "serve", "--port", str(self.port), *self.args],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        wait_for(self._healthy, f"the server on {self.url} to answer", timeout=60)
        return self

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"server exited {self.proc.returncode}:\n{self.log()}")
        try:
            return self.client.get("/api/health").status_code == 200
        except httpx.TransportError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    # -- API helpers --------------------------------------------------------------------

    def start_run(self, task: str = "scripted", **fields: Any) -> dict[str, Any]:
        r = self.client.post("/api/runs/start", json={"taskId": task, "fields": fields})
        assert r.status_code == 201, r.text
        run: dict[str, Any] = r.json()
        return run

    def run(self, run_id: str) -> dict[str, Any]:
        r = self.client.get(f"/api/runs/{run_id}")
        assert r.status_code == 200, r.text
        run: dict[str, Any] = r.json()
        return run

    def wait_status(self, run_id: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
        wanted = statuses or TERMINAL

        def probe() -> dict[str, Any] | None:
            run = self.run(run_id)
            return run if run["status"] in wanted else None

        return wait_for(probe, f"run {run_id} to be {'/'.join(wanted)}", timeout)

    def wait_epoch(self, run_id: str, epoch: int, timeout: float = 60) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            run = self.run(run_id)
            return run if run["progress"].get("epoch", -1) >= epoch else None

        return wait_for(probe, f"run {run_id} to reach epoch {epoch}", timeout)

    def full_log(self, run_id: str) -> bytes:
        return (self.home / "runs" / run_id / "output.log").read_bytes()
