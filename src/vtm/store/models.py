"""Tables of the metadata database (SQLAlchemy 2 declarative models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets the wider type.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    # SQLAlchemy reads this mapping off the class.
    type_annotation_map = {  # noqa: RUF012
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class RunRow(Base):
    __tablename__ = "runs"

    # seq orders runs (newest first) and is the pagination cursor; id is what people see.
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    task_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    fields: Mapped[dict[str, Any]]
    command: Mapped[list[Any]]
    # Its launch record (store/launch.py: cwd, env, timeout, GPUs wanted, MLflow experiment,
    # external), versioned JSON: fixed when the run is accepted, so a queued run starts as it
    # was asked for even if the catalog changes meanwhile.
    launch: Mapped[dict[str, Any]]
    progress: Mapped[dict[str, Any]]
    meta: Mapped[dict[str, Any]]
    mlflow_run_id: Mapped[str | None] = mapped_column(String(200))
    # Where the run came from (an Airflow task try, `vtm exec`); {} for a person's run.
    origin: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The origin's Airflow task try, in columns of their own (written with the origin, which
    # stays what the API shows): a retry's previous try and a DAG run's runs are found through
    # ix_runs_airflow, however many runs the store holds. NULL for a run Airflow did not start.
    airflow_dag_id: Mapped[str | None] = mapped_column(String(250))
    airflow_dag_run_id: Mapped[str | None] = mapped_column(String(250))
    airflow_task_id: Mapped[str | None] = mapped_column(String(250))
    airflow_map_index: Mapped[int | None]
    airflow_try_number: Mapped[int | None]
    log_tail: Mapped[list[Any]]
    exit_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # Where indexing of output.log has got to: byte offset, whether that offset starts a line.
    log_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    at_line_start: Mapped[bool] = mapped_column(Boolean, default=True)
    line_count: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_count: Mapped[int] = mapped_column(Integer, default=0)
    protocol_errors: Mapped[int] = mapped_column(Integer, default=0)
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    gpus: Mapped[list[Any]]
    # When VTM last made the MLflow side of this finished run agree with it (linked by tag,
    # its MLflow run ended if the trainer left it RUNNING); NULL for a finished run: still to do.
    mlflow_settled_at: Mapped[datetime | None]
    # How far each TensorBoard event file of the run has been read: {path: byte offset}.
    event_offsets: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The queue's order: higher first, then first come.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # Each held GPU's NVML energy counter (mJ) at the start, {"<index>": mJ}; NULL without one.
    gpu_energy_start: Mapped[dict[str, Any] | None]
    # What the run's GPUs used from its start to its end, when their counters tell.
    energy_wh: Mapped[float | None]
    # The machine the trainer ran on, and (on a cluster) the cluster's id of that node.
    host: Mapped[str | None] = mapped_column(String(255))
    node_id: Mapped[str | None] = mapped_column(String(128))
    # SHA-256 digests of a cluster run's one-time ticket and of the token it was traded for.
    ticket_hash: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_runs_status_seq", "status", "seq"),
        Index("ix_runs_task_seq", "task_id", "seq"),
        Index("ix_runs_mlflow_settled_at", "mlflow_settled_at"),
        Index(
            "ix_runs_airflow",
            "airflow_dag_id",
            "airflow_dag_run_id",
            "airflow_task_id",
            "airflow_map_index",
            "airflow_try_number",
        ),
    )


class MetricPointRow(Base):
    __tablename__ = "metric_points"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(40), ForeignKey("runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    step: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[datetime]

    __table_args__ = (Index("ix_metric_points_run_name_step", "run_id", "name", "step"),)
