"""The REST API's JSON shapes (camelCase on the wire, DESIGN §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from vtm.catalog.models import FieldType, Scalar
from vtm.states import RunStatus
from vtm.store import RunData


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


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
    gpus: list[int]
    updated_at: datetime

    @classmethod
    def of(cls, run: RunData) -> RunRecord:
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
            updated_at=run.updated_at,
        )


class RunPage(ApiModel):
    runs: list[RunRecord]
    next_cursor: str | None


class StartRunRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    task_id: str
    fields: dict[str, Any] = Field(default_factory=dict)
    extra_fields: dict[str, Any] = Field(default_factory=dict)


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


class TaskOut(ApiModel):
    id: str
    title: str | None
    description: str | None
    base_task_type: str
    primary_metric: PrimaryMetricOut | None
    gpus: int
    fields: list[FieldOut]


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


class ServerConfig(ApiModel):
    version: str
    mlflow_ui_url: str | None = Field(description="Where run detail pages link MLflow runs.")
