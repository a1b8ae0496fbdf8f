"""The REST API's JSON shapes (camelCase on the wire)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from vtm.catalog.models import FieldType, Scalar
from vtm.executors import Executor
from vtm.gpus.usage import gpu_hours
from vtm.runs.queue import QueueInfo
from vtm.states import RunStatus
from vtm.store import RunData
from vtm.store.records import utcnow


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class AirflowContext(ApiModel):
    """The Airflow task try that started a run (sent by the vtm-airflow provider)."""

    dag_id: str = Field(min_length=1, max_length=250)
    run_id: str = Field(min_length=1, max_length=250, description="The DAG run's id.")
    task_id: str = Field(min_length=1, max_length=250)
    try_number: int = Field(ge=0)
    map_index: int = -1
    logical_date: str | None = None
    queue: str | None = Field(
        default=None, max_length=256, description="The Airflow queue the try was sent to."
    )
    hostname: str | None = Field(
        default=None,
        max_length=1000,
        description="The Airflow worker that ran the try, as Airflow names it.",
    )


class RunOrigin(ApiModel):
    kind: Literal["person", "airflow", "exec"]
    airflow: AirflowContext | None = None
    previous_try_run_id: str | None = Field(
        default=None, description="The run of the previous try of the same Airflow task."
    )
    host: str | None = Field(default=None, description="Where `vtm exec` ran the trainer.")

    @classmethod
    def of(cls, origin: dict[str, Any]) -> RunOrigin:
        if not origin:
            return cls(kind="person")
        return cls.model_validate(origin)


class QueueOut(ApiModel):
    """Where a queued run stands: null on a run that is not waiting."""

    position: int = Field(description="1 for the next waiting run to start.")
    reason: str = Field(description="Why it waits, in words.")
    estimated_start_at: datetime | None = Field(
        description="When it will likely start, from the median duration of earlier runs of "
        "the tasks it waits for; null when nothing is known."
    )

    @classmethod
    def of(cls, info: QueueInfo | None) -> QueueOut | None:
        if info is None:
            return None
        return cls(
            position=info.position,
            reason=info.reason,
            estimated_start_at=(
                datetime.fromtimestamp(info.estimated_start_at, UTC)
                if info.estimated_start_at is not None
                else None
            ),
        )


class RunRecord(ApiModel):
    id: str
    task_id: str
    status: RunStatus
    fields: dict[str, Any]
    command: list[str]
    progress: dict[str, Any]
    mlflow_run_id: str | None
    logs: list[str] = Field(description="The last lines of the run's output.")
    exit_code: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    meta: dict[str, Any] = Field(description="Everything the trainer sent as VTM_RUN_META.")
    stop_requested: bool
    line_count: int = Field(description="Lines of output indexed so far.")
    protocol_errors: int = Field(description="Protocol lines that could not be parsed.")
    gpus: list[int] = Field(
        description="The GPUs it holds: this server's indices, or on a Ray node the ones Ray "
        "gave it (that node's CUDA_VISIBLE_DEVICES)."
    )
    executor: Executor = Field(description="Where it trains: local (this server) or ray.")
    host: str | None = Field(
        description="The machine the trainer runs on (a Ray node's, once its `vtm exec` "
        "has started); null before it starts, or for runs older than this field."
    )
    node: str | None = Field(
        description="The Ray node it runs on (Ray's node id); null for a local run."
    )
    updated_at: datetime
    origin: RunOrigin
    work_folder: bool = Field(
        description="The trainer runs in the run's own folder (runner.workdir: run), whose "
        "files GET /api/runs/{id}/files lists."
    )
    priority: int = Field(description="Its place in the queue: higher first, then first come.")
    queue: QueueOut | None = Field(description="Where it stands while queued; null otherwise.")
    gpu_hours: float = Field(description="GPUs held times hours held (so far, while it runs).")
    energy_wh: float | None = Field(
        description="What its GPUs used from its start to its end (their NVML energy "
        "counters); null while it runs or where the GPUs do not count it."
    )
    cost: float | None = Field(
        description="gpuHours times VTM_GPU_HOUR_COST; null when no rate is set."
    )

    @classmethod
    def of(
        cls, run: RunData, queue: QueueInfo | None = None, gpu_hour_cost: float | None = None
    ) -> RunRecord:
        """``queue``: the scheduler's answer for a waiting run; ``gpu_hour_cost``: the rate."""
        hours = gpu_hours(len(run.gpus), run.started_at, run.finished_at, utcnow())
        return cls(
            id=run.id,
            task_id=run.task_id,
            status=run.status,
            fields=run.fields,
            command=run.command,
            progress=run.progress,
            mlflow_run_id=run.mlflow_run_id,
            logs=run.log_tail,
            exit_code=run.exit_code,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=run.error,
            meta=run.meta,
            stop_requested=run.stop_requested,
            line_count=run.line_count,
            protocol_errors=run.protocol_errors,
            gpus=run.gpus,
            executor=run.launch.executor,
            host=run.host or run.origin.get("host"),
            node=run.node_id,
            updated_at=run.updated_at,
            origin=RunOrigin.of(run.origin),
            work_folder=run.launch.in_run_dir,
            priority=run.priority,
            queue=QueueOut.of(queue) if run.status is RunStatus.QUEUED else None,
            gpu_hours=hours,
            energy_wh=run.energy_wh,
            cost=hours * gpu_hour_cost if gpu_hour_cost is not None else None,
        )


class RunPage(ApiModel):
    runs: list[RunRecord]
    next_cursor: str | None


class StartRunRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    task_id: str
    fields: dict[str, Any] = Field(default_factory=dict)
    extra_fields: dict[str, Any] = Field(default_factory=dict)
    airflow: AirflowContext | None = Field(
        default=None, description="Set by Airflow's VtmRunOperator: the task try starting it."
    )
    priority: int | None = Field(
        default=None,
        ge=-1000,
        le=1000,
        description="Its place in the queue, higher first; default the task's "
        "resources.priority, else 0.",
    )
    executor: Executor | None = Field(
        default=None,
        description="Where it trains: local (this server's machine) or ray (the Ray cluster "
        "at VTM_RAY_ADDRESS); default the task's executor.",
    )


class RunChange(ApiModel):
    """What may change on a run: the priority of a queued one."""

    model_config = ConfigDict(extra="forbid")

    priority: int = Field(ge=-1000, le=1000)


class GpuOut(ApiModel):
    index: int
    name: str
    memory_total: float | None = Field(description="MiB; null without NVML.")
    memory_used: float | None = Field(description="MiB in use, by any process.")
    utilization: float | None = Field(description="Percent busy over NVML's last sample.")
    run_id: str | None = Field(description="The run holding it, or null.")
    outside_use: bool = Field(
        description="No run of VTM's holds it but its memory in use is above "
        "VTM_GPU_BUSY_MEMORY_MB: a process outside VTM uses it, so it is not handed out."
    )


class GpusResponse(ApiModel):
    gpus: list[GpuOut]
    source: Literal["nvml", "declared"] = Field(
        description="nvml: found by NVML (VTM_GPUS=auto); declared: listed in VTM_GPUS."
    )


class LogPage(ApiModel):
    run_id: str
    offset: int
    next_offset: int
    size: int = Field(description="Bytes in the log file when it was read.")
    text: str
    complete: bool = Field(description="The run has ended and this page reaches the end.")


class MetricPointOut(ApiModel):
    step: int
    value: float
    time: datetime


class MetricsResponse(ApiModel):
    run_id: str
    series: dict[str, list[MetricPointOut]]


class FieldOut(ApiModel):
    name: str
    type: FieldType
    default: Scalar | None
    required: bool
    min: float | None
    max: float | None
    choices: list[Scalar] | None
    label: str | None
    help: str | None
    flag: str


class PrimaryMetricOut(ApiModel):
    name: str
    goal: Literal["max", "min"]


class TaskMlflowOut(ApiModel):
    experiment: str = Field(description="The MLflow experiment the task's runs log to.")
    registered_model: str = Field(description="The registry name `vtm publish` registers to.")


class TaskOut(ApiModel):
    id: str
    title: str | None
    description: str | None
    base_task_type: str
    primary_metric: PrimaryMetricOut | None
    gpus: int
    priority: int = Field(description="Its runs' place in the queue unless a start says.")
    executor: Executor = Field(description="Where its runs train unless a start says.")
    fields: list[FieldOut]
    mlflow: TaskMlflowOut | None = Field(
        default=None,
        description="The task's `mlflow:` block with its defaults filled in; null when the "
        "catalog declares none (the UI then offers no MLflow look-up for its runs).",
    )


class CatalogErrorOut(ApiModel):
    message: str
    file: str
    line: int | None
    key: str | None


class CatalogResponse(ApiModel):
    status: Literal["ok", "error"]
    path: str
    loaded_at: datetime | None
    error: CatalogErrorOut | None
    tasks: list[TaskOut]


class FieldErrorOut(ApiModel):
    field: str
    message: str


class ErrorDetail(ApiModel):
    code: str
    message: str
    fields: list[FieldErrorOut] = Field(default_factory=list)


class ErrorBody(ApiModel):
    error: ErrorDetail


class Health(ApiModel):
    status: Literal["ok"]
    version: str
    database: str
    catalog: Literal["ok", "error"]
    active_runs: int


class SideServerOut(ApiModel):
    """A side server `vtm serve` started (MLflow, TensorBoard) and how it is doing."""

    name: str = Field(description="mlflow or tensorboard.")
    url: str
    state: Literal["starting", "ready", "failed", "stopped"]
    error: str | None = Field(description="Why it failed, naming its log file.")


class ServerConfig(ApiModel):
    version: str
    mlflow_ui_url: str | None = Field(description="Where run detail pages link MLflow runs.")
    tensorboard_url: str | None = Field(
        default=None, description="Where run detail pages link TensorBoard views."
    )
    airflow_url: str | None = Field(
        default=None, description="Airflow's UI and API (VTM_AIRFLOW_URL): run pages link tasks."
    )
    services: list[SideServerOut] = Field(
        default_factory=list, description="Side servers this server started, with their state."
    )
    executors: list[Executor] = Field(
        description="Where runs can train here: local, and ray when VTM_RAY_ADDRESS is set.",
    )
