"""JSON shapes of the pipelines endpoints: the catalog's pipelines and their Airflow runs."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from vtm.api.schemas import ApiModel
from vtm.catalog.pipelines import Pipeline, PipelineStep

Scalar = bool | int | float | str


class PublishStepOut(ApiModel):
    task: str
    metric: str | None = None
    goal: Literal["max", "min"] | None = None
    since: str | None = None
    alias: str | None = None


class ReportStepOut(ApiModel):
    since: str
    task: str | None = None
    format: Literal["html", "md"]


class PipelineStepOut(ApiModel):
    """One step: exactly one of ``task``, ``publish``, ``report`` is set (``kind`` says which)."""

    kind: Literal["task", "publish", "report"]
    task: str | None = None
    publish: PublishStepOut | None = None
    report: ReportStepOut | None = None
    fields: dict[str, Scalar] = Field(
        default_factory=dict, description="Strings may be Airflow templates such as {{ ds }}."
    )
    depends_on: list[str] = Field(default_factory=list)
    retries: int | None = None
    retry_delay: float | None = Field(default=None, description="Seconds.")
    timeout: float | None = Field(default=None, description="Seconds.")

    @classmethod
    def of(cls, step: PipelineStep) -> PipelineStepOut:
        return cls.model_validate({"kind": step.kind, **step.model_dump()})


class PipelineOut(ApiModel):
    description: str | None = None
    schedule: str | None = Field(description="Cron expression or preset; none: on demand.")
    start_date: date
    catchup: bool
    retries: int
    retry_delay: float = Field(description="Seconds.")
    steps: dict[str, PipelineStepOut]

    @classmethod
    def of(cls, pipeline: Pipeline) -> PipelineOut:
        return cls(
            **pipeline.model_dump(exclude={"steps"}),
            steps={sid: PipelineStepOut.of(step) for sid, step in pipeline.steps.items()},
        )


class PipelinesResponse(ApiModel):
    pipelines: dict[str, PipelineOut] = Field(
        description="The catalog's pipelines as validated (durations in seconds)."
    )
    error: str | None = Field(default=None, description="Why no catalog is loaded, if so.")


class PipelineTaskState(ApiModel):
    task_id: str
    state: str | None
    try_number: int
    start_date: str | None
    end_date: str | None
    vtm_run_id: str | None = Field(description="The VTM run this task try started, if any.")


class PipelineDagRun(ApiModel):
    run_id: str
    logical_date: str | None
    state: str
    run_type: str | None
    start_date: str | None
    end_date: str | None
    tasks: list[PipelineTaskState]


class PipelineStatus(ApiModel):
    pipeline_id: str
    in_airflow: bool = Field(description="False when Airflow has no DAG of this id (yet).")
    dag_runs: list[PipelineDagRun]


class PipelinesStatusResponse(ApiModel):
    airflow_url: str | None
    configured: bool = Field(description="VTM_AIRFLOW_URL and credentials are set.")
    error: str | None = Field(default=None, description="Why Airflow could not be read.")
    pipelines: list[PipelineStatus]
