"""Whether a chosen model may be published: the task's floor, and a pipeline step's gate.

- **Floor** (``publish.minMetric`` of the task in the catalog): the run's final value of the
  task's primary metric, as logged to MLflow, is at least the floor (at most, for goal
  ``min``). Every publish honours it, by hand or from a pipeline.
- **Gate** (a request's ``gate``, which a pipeline's publish step sends): the model is judged
  by one metric — the evaluation run's last reported value of it when an evaluation run is
  named, else the run's own MLflow value — which must reach ``minMetric`` and, with
  ``againstChampion``, beat the value recorded for the model the alias points at (the
  champion): strictly better, an equal model is not worth a new version.

The champion's value is the ``vtm.metric.<name>`` tag VTM put on its version when it was
published that way, else its MLflow run's own final value; a champion with neither (published
by hand, judged by another metric) cannot be compared, which the verdict notes, and the floor
alone decides.

A model that does not pass raises :class:`NotPublished` with the reason: nothing is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vtm.errors import Conflict, NotFound, NotPublished
from vtm.integrations.mlflow import mlflow_errors
from vtm.publish.selection import Choice, Goal
from vtm.states import RunStatus
from vtm.store import RunRepository

if TYPE_CHECKING:
    from mlflow import MlflowClient

METRIC_TAG = "vtm.metric."  # + metric name: the value the version was judged by
EVALUATION_TAG = "vtm.evaluation_run_id"


@dataclass(frozen=True)
class Floor:
    """The task's floor on its primary metric."""

    task: str
    metric: str
    goal: Goal
    value: float


@dataclass(frozen=True)
class Gate:
    metric: str
    goal: Goal
    min_metric: float | None = None
    against_champion: bool = True
    evaluation_run_id: str | None = None


@dataclass(frozen=True)
class Verdict:
    """What the model was judged by, and against what."""

    metric: str
    goal: Goal
    value: float
    min_metric: float | None
    evaluation_run_id: str | None
    champion_version: int | None
    champion_value: float | None
    notes: list[str] = field(default_factory=list)

    def version_tags(self) -> dict[str, str]:
        tags = {f"{METRIC_TAG}{self.metric}": repr(self.value)}
        if self.evaluation_run_id:
            tags[EVALUATION_TAG] = self.evaluation_run_id
        return tags


def reaches(value: float, bound: float, goal: Goal) -> bool:
    return value >= bound if goal == "max" else value <= bound


def beats(value: float, other: float, goal: Goal) -> bool:
    return value > other if goal == "max" else value < other


def _word(goal: Goal) -> str:
    return "below" if goal == "max" else "above"


def check_floor(choice: Choice, floor: Floor | None) -> None:
    if floor is None:
        return
    run = choice.candidate
    value = run.mlflow_run.data.metrics.get(floor.metric)
    where = f"the floor {floor.value:g} of task {floor.task!r} (publish.minMetric)"
    if value is None or math.isnan(value):
        raise NotPublished(
            f"run {run.vtm_run.id} logged no {floor.metric!r} to MLflow: {where} cannot be checked"
        )
    if not reaches(value, floor.value, floor.goal):
        raise NotPublished(
            f"run {run.vtm_run.id} has {floor.metric} {value:g}, {_word(floor.goal)} {where}: "
            "not published"
        )


def evaluation_value(repo: RunRepository, run_id: str, metric: str) -> float:
    """The evaluation run's last reported value of ``metric``."""
    run = repo.get(run_id)
    if run.status is not RunStatus.COMPLETED:
        raise Conflict(f"evaluation run {run_id} is {run.status.value}, not completed")
    values = repo.last_metric_values({run_id: metric})
    if run_id not in values:
        raise NotFound(f"evaluation run {run_id} of {run.task_id!r} reported no {metric!r}")
    return values[run_id]


def _champion_value(client: MlflowClient, name: str, version: int, metric: str) -> float | None:
    with mlflow_errors(f"read version {version} of {name!r}"):
        found = client.get_model_version(name, str(version))
        tag = found.tags.get(f"{METRIC_TAG}{metric}")
        if tag is not None:
            return float(tag)
        if found.run_id:
            value = client.get_run(found.run_id).data.metrics.get(metric)
            if value is not None and not math.isnan(value):
                return float(value)
    return None


def judge(
    client: MlflowClient,
    repo: RunRepository,
    choice: Choice,
    gate: Gate,
    *,
    registered_model: str,
    alias: str,
    champion: int | None,
) -> Verdict:
    """The verdict on ``choice``; NotPublished when it does not pass ``gate``."""
    run = choice.candidate
    if gate.evaluation_run_id is not None:
        value = evaluation_value(repo, gate.evaluation_run_id, gate.metric)
        source = f"evaluation run {gate.evaluation_run_id}"
    else:
        logged = run.mlflow_run.data.metrics.get(gate.metric)
        if logged is None or math.isnan(logged):
            raise NotFound(f"run {run.vtm_run.id} logged no {gate.metric!r} to judge it by")
        value, source = float(logged), f"run {run.vtm_run.id}"
    said = f"{source} measured {gate.metric} {value:g}"
    if gate.min_metric is not None and not reaches(value, gate.min_metric, gate.goal):
        raise NotPublished(
            f"{said}, {_word(gate.goal)} the step's minMetric {gate.min_metric:g}: not published"
        )
    notes: list[str] = []
    champion_value = None
    if gate.against_champion and champion is not None:
        champion_value = _champion_value(client, registered_model, champion, gate.metric)
        holder = f"the {alias} (version {champion} of {registered_model!r})"
        if champion_value is None:
            notes.append(f"{holder} has no recorded {gate.metric}: judged by the floor alone")
        elif not beats(value, champion_value, gate.goal):
            raise NotPublished(
                f"{said}; {holder} has {champion_value:g}: not better, not published"
            )
    return Verdict(
        metric=gate.metric,
        goal=gate.goal,
        value=value,
        min_metric=gate.min_metric,
        evaluation_run_id=gate.evaluation_run_id,
        champion_version=champion,
        champion_value=champion_value,
        notes=notes,
    )
