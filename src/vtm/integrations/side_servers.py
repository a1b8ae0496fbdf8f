"""The MLflow and TensorBoard servers `vtm serve --mlflow-server --tensorboard` runs beside it.

Both listen on loopback only (neither has authentication of its own). Starting them never
delays the API: the MLflow server waits in a thread for the embedded store's initialisation
(two processes must not create its tables at once), TensorBoard starts at once. Their URLs
become the web UI's links unless VTM_MLFLOW_UI_URL / VTM_TENSORBOARD_URL say otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
from pathlib import Path

from vtm.integrations.mlflow.store import StoreInit
from vtm.integrations.side_server import SideServer, SideServerSpec, SideServerStatus
from vtm.settings import Settings

SIDE_HOST = "127.0.0.1"
# Measured: ~8 s to answer with one worker on an idle 2-core machine; allow for a busy one.
MLFLOW_READY_SECONDS = 120.0
TENSORBOARD_READY_SECONDS = 60.0
STORE_INIT_SECONDS = 300.0
# VTM's own secrets stay out of the side servers' environment, as they stay out of trainers'.
PRIVATE_ENV = ("VTM_TOKEN", "VTM_DATABASE_URL", "VTM_FTP_URL")


def check_settings(settings: Settings) -> None:
    """Refuse combinations that cannot work, before anything starts."""
    if settings.mlflow_server and not settings.mlflow_embedded:
        raise ValueError(
            "--mlflow-server (VTM_MLFLOW_SERVER) serves VTM's embedded MLflow store, but "
            "VTM_MLFLOW_TRACKING_URI names an external one: unset one of them (and point "
            "VTM_MLFLOW_UI_URL at the external server's UI)"
        )


def _command(name: str, module: str) -> list[str]:
    """The console script installed beside this Python (the venv's), else ``python -m``."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which(name)
    return [found] if found else [sys.executable, "-m", module]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((SIDE_HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRIVATE_ENV}
    env.update(extra)
    return env


def mlflow_spec(settings: Settings) -> SideServerSpec:
    port = settings.mlflow_port or _free_port()
    argv = [
        *_command("mlflow", "mlflow"),
        "server",
        "--backend-store-uri",
        settings.effective_mlflow_tracking_uri,
        "--default-artifact-root",
        settings.mlflow_artifact_root.as_uri(),
        "--host",
        SIDE_HOST,
        "--port",
        str(port),
        # The defaults (4 workers and a job runner) cost 15 processes and ~1.9 GB.
        "--workers",
        "1",
    ]
    return SideServerSpec(
        name="mlflow",
        argv=argv,
        host=SIDE_HOST,
        port=port,
        log_path=settings.home / "logs" / "mlflow.log",
        probe_path="/health",
        ready_timeout=MLFLOW_READY_SECONDS,
        env=_server_env(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"),
        # Anything MLflow resolves against its working directory lands in VTM's store.
        cwd=settings.mlflow_dir,
    )


def tensorboard_spec(settings: Settings) -> SideServerSpec:
    port = settings.tensorboard_port or _free_port()
    argv = [
        *_command("tensorboard", "tensorboard.main"),
        "--logdir",
        str(settings.tensorboard_dir),
        "--host",
        SIDE_HOST,
        "--port",
        str(port),
    ]
    return SideServerSpec(
        name="tensorboard",
        argv=argv,
        host=SIDE_HOST,
        port=port,
        log_path=settings.home / "logs" / "tensorboard.log",
        ready_timeout=TENSORBOARD_READY_SECONDS,
        env=_server_env(),
        cwd=settings.home,
    )


class SideServers:
    def __init__(self, settings: Settings, store: StoreInit) -> None:
        check_settings(settings)
        self.settings = settings
        self._store = store
        self.mlflow = SideServer(mlflow_spec(settings)) if settings.mlflow_server else None
        self.tensorboard = (
            SideServer(tensorboard_spec(settings)) if settings.tensorboard_server else None
        )

    @property
    def started(self) -> list[SideServer]:
        """The side servers this one starts (MLflow, TensorBoard), as set."""
        return [s for s in (self.mlflow, self.tensorboard) if s is not None]

    def start(self) -> None:
        """Start the side servers; returns at once (they are probed in threads)."""
        if self.tensorboard is not None:
            self.settings.tensorboard_dir.mkdir(parents=True, exist_ok=True)
            self.tensorboard.start()
        if self.mlflow is not None:
            threading.Thread(
                target=self._start_mlflow, args=(self.mlflow,), name="mlflow-start", daemon=True
            ).start()

    def _start_mlflow(self, mlflow: SideServer) -> None:
        if self._store.wait(STORE_INIT_SECONDS):
            self.settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
            mlflow.start()
            return
        reason = self._store.error or f"not ready within {STORE_INIT_SECONDS:.0f} s"
        mlflow.fail(f"the MLflow store could not be initialised: {reason}")

    def close(self) -> None:
        """Stop every side server (the whole process group of each); waits until they are gone."""
        threads = [threading.Thread(target=s.stop) for s in self.started]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def statuses(self) -> list[SideServerStatus]:
        return [s.status() for s in self.started]

    @staticmethod
    def _link(explicit: str | None, side: SideServer | None) -> str | None:
        if explicit:
            return explicit
        if side is None:
            return None
        status = side.status()
        return None if status.state in ("failed", "stopped") else status.url

    @property
    def mlflow_ui_url(self) -> str | None:
        """Where the UI links MLflow: the setting, else its side server while it is not down."""
        return self._link(self.settings.mlflow_ui_url, self.mlflow)

    @property
    def tensorboard_url(self) -> str | None:
        return self._link(self.settings.tensorboard_url, self.tensorboard)
