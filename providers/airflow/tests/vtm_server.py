"""A real `vtm serve` for the provider's tests, from VTM's own environment (``.venv``).

The provider never imports VTM: Airflow's environment and VTM's are different (Airflow pins an
older FastAPI), so the server runs as VTM's command in a subprocess, as it does in production.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

REPO = Path(__file__).resolve().parents[3]
VTM_BIN = Path(os.environ.get("VTM_TEST_SERVER_BIN", REPO / ".venv" / "bin" / "vtm"))
TERMINAL = ("completed", "failed", "stopped")

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], what: str, timeout: float = 60.0, every: float = 0.05
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


def kill_processes_of(home: Path) -> None:
    """Kill what is left of a VTM home (detached supervisors, trainers) by its environment."""
    needle = f"VTM_HOME={home}".encode() + b"\0"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes() + b"\0":
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


class VtmServer:
    """`vtm serve --catalog CATALOG --port PORT` with its own VTM_HOME; stoppable, restartable."""

    def __init__(self, home: Path, catalog: Path, port: int) -> None:
        self.home = home
        self.catalog = catalog
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = home / "server.log"
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def start(self) -> VtmServer:
        if not VTM_BIN.exists():
            raise AssertionError(f"{VTM_BIN} is missing: `make` builds VTM's environment (.venv)")
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VTM_", "AIRFLOW"))}
        env.update(
            VTM_HOME=str(self.home),
            VTM_GPUS="none",
            VTM_STOP_GRACE_SECONDS="1",
            VTM_MAX_CONCURRENT_RUNS="4",
            # The sample trainers create the embedded store when they first need it.
            VTM_MLFLOW_STORE_AT_START="false",
            MLFLOW_DISABLE_TELEMETRY="true",
        )
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(VTM_BIN), "serve", "--catalog", str(self.catalog), "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_for(self._healthy, f"vtm serve on {self.url}", timeout=90, every=0.1)
        return self

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"vtm serve exited {self.proc.returncode}:\n{self.log()}")
        try:
            return self.client.get("/api/health").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        """A graceful stop: the server goes, the runs' detached supervisors stay."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def close(self) -> None:
        self.stop()
        self.client.close()
        kill_processes_of(self.home)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- API ------------------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.get(f"/api/runs/{run_id}")
        return run

    def runs(self) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.get("/api/runs", limit=500)["runs"]
        return runs

    def runs_of(self, dag_id: str, dag_run_id: str | None = None) -> list[dict[str, Any]]:
        """The VTM runs a DAG (run) started, oldest first."""
        found = [
            r
            for r in self.runs()
            if (a := r["origin"]["airflow"])
            and a["dagId"] == dag_id
            and (dag_run_id is None or a["runId"] == dag_run_id)
        ]
        return sorted(found, key=lambda r: r["createdAt"])

    def start_run(self, task: str, **fields: Any) -> dict[str, Any]:
        response = self.client.post("/api/runs/start", json={"taskId": task, "fields": fields})
        assert response.status_code == 201, response.text
        run: dict[str, Any] = response.json()
        return run

    def wait_status(self, run_id: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
        wanted = statuses or TERMINAL

        def probe() -> dict[str, Any] | None:
            run = self.run(run_id)
            return run if run["status"] in wanted else None

        return wait_for(probe, f"run {run_id} to be {'/'.join(wanted)}", timeout)

    def release(self, run_id: str) -> None:
        """Let a run of the step trainer started with wait_release=true finish."""
        with contextlib.suppress(FileNotFoundError):
            (self.home / "runs" / run_id / "release").touch()
