"""JSON shapes of the pipelines endpoints: the catalog's pipelines and their Airflow runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import Field

from vtm.api.schemas import ApiModel
from vtm.catalog.pipelines import Pipeline, PipelineStep

Scalar = bool | int | float | str


class PublishStepOut(ApiModel):
    task: str
    run: str | None = Field(
        default=None, description="The step whose run is published; none: the best run."
    )
    evaluation: str | None = Field(
        default=None, description="The step whose run's metric judges the model."
    )
    metric: str | None = None
    goal: Literal["max", "min"] | None = None
    since: str | None = None
    alias: str | None = None
    min_metric: float | None = None
    against_champion: bool = True


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
    queue: str | None = Field(default=None, description="The Airflow queue; none: the default.")
    mode: Literal["api", "exec"] = Field(
        default="api",
        description="api: VTM runs the task; exec: the Airflow worker runs it via `vtm exec`.",
    )

    @classmethod
    def of(cls, step: PipelineStep) -> PipelineStepOut:
        return cls.model_validate({"kind": step.kind, **step.model_dump()})


def next_run_at(schedule: str | None, start_date: date, now: datetime) -> datetime | None:
    """When the schedule next fires at or after ``start_date`` and after ``now``, in UTC (the
    time zone Airflow reads a cron in unless told otherwise); None on demand and for @once,
    which Airflow runs once, whenever the DAG is first unpaused."""
    if schedule is None or schedule == "@once":
        return None
    from croniter import croniter

    start = datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC)
    # croniter gives the first time strictly after its base: a fire at the start date itself
    # counts, one at `now` has happened.
    base = max(now.astimezone(UTC), start - timedelta(seconds=1))
    return croniter(schedule, base).get_next(datetime)


class PipelineOut(ApiModel):
    description: str | None = None
    schedule: str | None = Field(description="Cron expression or preset; none: on demand.")
    start_date: date
    catchup: bool
    retries: int
    retry_delay: float = Field(description="Seconds.")
    steps: dict[str, PipelineStepOut]
    next_run_at: datetime | None = Field(
        default=None,
        description="When the schedule next fires (UTC, as Airflow reads the cron), whether or "
        "not the DAG is paused in Airflow; null on demand and for @once.",
    )

    @classmethod
    def of(cls, pipeline: Pipeline, now: datetime) -> PipelineOut:
        return cls(
            **pipeline.model_dump(exclude={"steps"}),
            steps={sid: PipelineStepOut.of(step) for sid, step in pipeline.steps.items()},
            next_run_at=next_run_at(pipeline.schedule, pipeline.start_date, now),
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
    queue: str | None = Field(default=None, description="The Airflow queue the try went to.")
    hostname: str | None = Field(
        default=None, description="The Airflow worker that ran the try, as Airflow names it."
    )
    note: str | None = Field(
        default=None, description="Why a publish step was skipped (not published), if it was."
    )


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
