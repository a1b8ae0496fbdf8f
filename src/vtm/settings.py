"""One settings object for the server, the CLI and the supervisor launcher.

Values come from ``VTM_*`` environment variables, then from a ``.env`` file in the
working directory (or the file named by ``VTM_ENV_FILE``), then the defaults here.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VTM_",
        env_file=os.environ.get("VTM_ENV_FILE", ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    home: Path = Field(default=Path(".vtm"), description="Data home: database, runs, stores.")
    catalog: Path = Field(
        default=Path("training_catalog.yaml"), description="The training catalog file."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite at $VTM_HOME/vtm.db."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    token: SecretStr | None = Field(
        default=None, description="Bearer token the API requires; mandatory off loopback."
    )
    max_concurrent_runs: int = Field(default=2, ge=1)
    stop_grace_seconds: float = Field(default=10.0, ge=0)
    gpus: str = Field(
        default="auto",
        description="GPU indices VTM may hand out ('0,1'), 'none', or 'auto' to ask NVML.",
    )
    nvml_module: str = Field(
        default="pynvml",
        description="The module with NVML's functions (nvidia-ml-py's pynvml); the tests "
        "name a fake one.",
    )
    gpu_busy_memory_mb: float = Field(
        default=1024,
        ge=0,
        description="A GPU no run of VTM's holds, with more memory than this in use, is "
        "being used outside VTM and is not handed out.",
    )
    gpu_sample_seconds: float = Field(
        default=5.0, gt=0, description="How often a run's GPUs are sampled into its metrics."
    )
    gpu_hour_cost: float | None = Field(
        default=None, ge=0, description="What one GPU-hour costs: runs then carry a cost."
    )
    queue_reserve_after: float = Field(
        default=600.0,
        ge=0,
        description="Seconds the first run waiting for GPUs waits before the free GPUs it "
        "needs are kept for it (no run behind it may take them).",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="External MLflow tracking URI; default: SQLite at $VTM_HOME/mlflow/mlflow.db.",
    )
    mlflow_ui_url: str | None = Field(
        default=None,
        description="MLflow UI the web UI links runs to; set by --mlflow-server when unset.",
    )
    mlflow_server: bool = Field(
        default=False, description="Start an `mlflow server` over the embedded store."
    )
    mlflow_port: int = Field(default=5000, ge=0, le=65535)
    mlflow_store_at_start: bool = Field(
        default=True,
        description="Create the embedded MLflow store when the server starts (in the "
        "background); false: when first needed, so a server that never uses MLflow never "
        "imports it.",
    )
    tensorboard_url: str | None = Field(
        default=None,
        description="TensorBoard the web UI links runs to; set by --tensorboard when unset.",
    )
    tensorboard_server: bool = Field(
        default=False, description="Start `tensorboard` over $VTM_HOME/tensorboard."
    )
    tensorboard_port: int = Field(default=6006, ge=0, le=65535)
    ftp_url: SecretStr | None = Field(
        default=None,
        description="FTP model registry for publish: ftp://user:password@host:port/path.",
    )
    airflow_url: str | None = Field(
        default=None, description="Airflow's API server; the Pipelines page shows its DAG runs."
    )
    airflow_username: str | None = None
    airflow_password: SecretStr | None = None
    exec_heartbeat_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A `vtm exec` run that has not reported for this long is failed (lost).",
    )
    public_url: str | None = Field(
        default=None,
        description="VTM's URL as the machines that run its work reach it (a Ray node's "
        "`vtm exec` reports there); default: http://<host>:<port>.",
    )
    ray_address: str | None = Field(
        default=None,
        description="The Ray cluster's dashboard (Jobs REST API), http://head:8265: tasks "
        "with executor ray run there.",
    )
    ray_vtm: str = Field(
        default="vtm", description="The `vtm` command on the Ray nodes (words, shell-split)."
    )
    ray_catalog: Path | None = Field(
        default=None, description="The catalog's path on the Ray nodes; default: the server's."
    )
    ray_cpus: float = Field(
        default=0.1,
        gt=0,
        description="CPUs each Ray run's `vtm exec` asks Ray for: any amount lets it leave "
        "the head node.",
    )
    ray_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often the Ray runs' jobs are checked with Ray."
    )
    log_tail_lines: int = Field(default=50, ge=1, le=1000)
    tail_interval_seconds: float = Field(
        default=0.02, gt=0, description="How often a running run's log is checked for output."
    )

    @model_validator(mode="after")
    def _absolute_paths(self) -> Settings:
        self.home = self.home.expanduser().resolve()
        self.catalog = self.catalog.expanduser().resolve()
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'vtm.db'}"

    @property
    def exec_heartbeat_seconds(self) -> float:
        """How often `vtm exec` reports when it has nothing to send: a quarter of the timeout,
        from 0.2 to 5 s."""
        return max(0.2, min(5.0, self.exec_heartbeat_timeout_seconds / 4))

    @property
    def effective_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}" if ":" not in host else f"http://[{host}]:{self.port}"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def mlflow_embedded(self) -> bool:
        """True when VTM owns the tracking store (no external URI was given)."""
        return self.mlflow_tracking_uri is None

    @property
    def effective_mlflow_tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{self.mlflow_dir / 'mlflow.db'}"

    @property
    def mlflow_artifact_root(self) -> Path:
        """Where experiments VTM creates keep their artifacts (embedded store only)."""
        return self.mlflow_dir / "artifacts"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def tensorboard_dir(self) -> Path:
        return self.home / "tensorboard"

    def require_safe_binding(self) -> None:
        """Refuse to serve beyond loopback without a token: anyone reaching it could train."""
        if not is_loopback(self.host) and self.token is None:
            raise ValueError(
                f"refusing to listen on {self.host} without a token: set VTM_TOKEN "
                "(clients then send 'Authorization: Bearer <token>')"
            )
