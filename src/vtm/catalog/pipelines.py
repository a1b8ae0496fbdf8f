"""The catalog's ``pipelines`` section: multi-step flows that Apache Airflow schedules.

VTM only declares and validates them; ``vtm_airflow.dags_from_catalog`` turns each pipeline
into an Airflow DAG (one operator per step). A step does exactly one thing: run a catalog
task, publish a task's best model, or write the quality report.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from vtm.catalog._base import Scalar, TaskId, _Model, parse_duration

STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# A Celery queue name as Airflow passes it on (`--queues a,b`): no comma, no white space.
QUEUE = re.compile(r"^[A-Za-z0-9_.:@-]{1,256}$")
PRESETS = frozenset({"@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly"})
# The first logical date of a scheduled pipeline that names none: fixed, so the same catalog
# always builds the same DAG (Airflow warns about a start date that moves).
DEFAULT_START = date(2026, 1, 1)


def _step_id(step_id: str) -> str:
    if not STEP_ID.match(step_id):
        raise ValueError(f"{step_id!r} is not a valid step id (letters, digits, _ and -)")
    return step_id


def _queue_name(queue: str) -> str:
    if not QUEUE.match(queue):
        raise ValueError(
            f"{queue!r} is not a queue name (letters, digits and _ . : @ -, as in gpu-a100)"
        )
    return queue


def _duration_or_none(value: Any) -> float | None:
    return None if value is None else parse_duration(value)


StepId = Annotated[str, AfterValidator(_step_id)]
QueueName = Annotated[str, AfterValidator(_queue_name)]
PipelineId = TaskId


def is_templated(value: object) -> bool:
    """True for a value Airflow renders at run time (``"{{ ds }}"``): checked then, not now."""
    return isinstance(value, str) and "{{" in value


class PublishStep(_Model):
    task: TaskId
    run: StepId | None = Field(
        default=None,
        description="The step whose run to publish (its run in the same pipeline run); "
        "none: the best completed run of the task.",
    )
    evaluation: StepId | None = Field(
        default=None,
        description="The step whose run measured the model: its final value of `metric` judges it.",
    )
    metric: str | None = None
    goal: Literal["max", "min"] | None = None
    since: str | None = None
    alias: str | None = None
    min_metric: float | None = Field(
        default=None, description="Publish only a model at least this good by `metric`."
    )
    against_champion: bool = Field(
        default=True,
        description="Publish only a model better by `metric` than the one the alias is on.",
    )

    @field_validator("since")
    @classmethod
    def _since(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v


class ReportStep(_Model):
    since: str = "7d"
    task: TaskId | None = None
    format: Literal["html", "md"] = "html"

    @field_validator("since")
    @classmethod
    def _since(cls, v: str) -> str:
        parse_duration(v)
        return v


class PipelineStep(_Model):
    task: TaskId | None = Field(default=None, description="Run this catalog task.")
    publish: PublishStep | None = Field(
        default=None, description="Publish the best model of a task (`publish: TASK` is short)."
    )
    report: ReportStep | None = Field(default=None, description="Write the quality report.")
    fields: dict[str, Scalar] = Field(default_factory=dict)
    depends_on: list[StepId] = Field(default_factory=list)
    retries: Annotated[int, Field(ge=0)] | None = None
    retry_delay: float | None = None
    timeout: float | None = None
    queue: QueueName | None = Field(
        default=None,
        description="The Airflow queue the step's task goes to (Celery: the workers started "
        "with `--queues` naming it); none: Airflow's default queue.",
    )
    mode: Literal["api", "exec"] = Field(
        default="api",
        description="How a task step trains: `api` asks VTM to run it on VTM's executors (the "
        "Airflow task only waits); `exec` runs it on the Airflow worker itself through "
        "`vtm exec`, reporting to VTM.",
    )

    @field_validator("publish", mode="before")
    @classmethod
    def _publish_shorthand(cls, v: Any) -> Any:
        return {"task": v} if isinstance(v, str) else v

    @field_validator("retry_delay", "timeout", mode="before")
    @classmethod
    def _durations(cls, v: Any) -> float | None:
        return _duration_or_none(v)

    @model_validator(mode="after")
    def _one_action(self) -> PipelineStep:
        actions = [a for a in ("task", "publish", "report") if getattr(self, a) is not None]
        if len(actions) != 1:
            raise ValueError("a step has exactly one of: task, publish, report")
        if self.fields and self.task is None:
            raise ValueError("fields belong to a task step")
        if self.mode == "exec" and self.task is None:
            raise ValueError("mode: exec belongs to a task step (publish and report ask VTM)")
        return self

    @property
    def kind(self) -> Literal["task", "publish", "report"]:
        if self.task is not None:
            return "task"
        return "publish" if self.publish is not None else "report"


class Pipeline(_Model):
    description: str | None = None
    schedule: str | None = Field(
        default=None, description="Cron expression or preset (@daily); none: run on demand."
    )
    start_date: date = DEFAULT_START
    catchup: bool = False
    retries: Annotated[int, Field(ge=0)] = 0
    retry_delay: float = 300.0
    steps: dict[StepId, PipelineStep] = Field(min_length=1)

    @field_validator("retry_delay", mode="before")
    @classmethod
    def _retry_delay(cls, v: Any) -> float:
        return parse_duration(v)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        if v is None or v in PRESETS:
            return v
        from croniter import croniter

        if not croniter.is_valid(v):
            raise ValueError(
                f"{v!r} is not a cron expression ('minute hour day month weekday', "
                f"e.g. '0 2 * * *') or one of {', '.join(sorted(PRESETS))}"
            )
        return v
