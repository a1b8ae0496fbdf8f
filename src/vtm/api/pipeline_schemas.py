"""JSON shapes of the pipelines endpoints: the catalog's pipelines and their Airflow runs."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from vtm.api.schemas import ApiModel


class PipelinesResponse(ApiModel):
    pipelines: dict[str, dict[str, Any]] = Field(
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
