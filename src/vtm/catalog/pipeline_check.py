"""``vtm catalog check`` on the pipelines: steps that load but could never succeed.

Loading already refuses what is wrong in itself (unknown tasks, steps and fields, values that do
not fit, cycles, bad cron). What is left are steps every run of which VTM would refuse: a task
step that leaves a required field without a value, and a publish step whose metric or goal
cannot be known. They are reported here rather than at load time because a server keeps
serving such a catalog (its other tasks work); the check says so before Airflow finds out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from vtm.catalog._yamlnodes import locate
from vtm.catalog.fields import effective_fields
from vtm.catalog.loader import LoadedCatalog
from vtm.catalog.models import Catalog
from vtm.catalog.pipelines import Pipeline, PipelineStep, is_templated

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class PipelineProblem:
    pipeline_id: str
    step_id: str
    line: int | None
    key: str
    message: str


def _task_step(catalog: Catalog, where: Loc, step: PipelineStep) -> Iterator[tuple[Loc, str]]:
    assert step.task is not None
    for name, spec in effective_fields(catalog, step.task).items():
        if spec.required and spec.default is None and name not in step.fields:
            yield (
                (*where, "fields") if step.fields else (*where, "task"),
                f"task {step.task!r} requires field {name!r} and the step does not set it: "
                "VTM would refuse every run of this step",
            )


def _publish_step(
    catalog: Catalog, pipeline: Pipeline, where: Loc, step: PipelineStep
) -> Iterator[tuple[Loc, str]]:
    publish = step.publish
    assert publish is not None
    if is_templated(publish.metric) or is_templated(publish.goal):
        return  # Airflow renders them; only the run can tell
    # With an evaluation step the metric is the evaluation's (its task's primary by default).
    judged_by = pipeline.steps[publish.evaluation] if publish.evaluation else None
    task = judged_by.task if judged_by is not None and judged_by.task else publish.task
    if task not in catalog.tasks:
        return
    primary = catalog.primary_metric(task)
    metric = publish.metric or (primary.name if primary else None)
    if metric is None:
        yield (
            (*where, "publish"),
            f"task {task!r} has no primaryMetric: give the step a metric and a goal",
        )
    elif publish.goal is None and (primary is None or primary.name != metric):
        yield (
            (*where, "publish"),
            f"{metric!r} is not task {task!r}'s primary metric, so its goal is unknown: "
            "give the step a goal (max or min)",
        )


def check_pipelines(loaded: LoadedCatalog) -> list[PipelineProblem]:
    """Every step of every pipeline that VTM would refuse each time it runs."""
    catalog = loaded.catalog
    found: list[tuple[str, str, Loc, str]] = []
    for pipeline_id, pipeline in catalog.pipelines.items():
        for step_id, step in pipeline.steps.items():
            where: Loc = ("pipelines", pipeline_id, "steps", step_id)
            if step.task is not None and step.task in catalog.tasks:
                problems = _task_step(catalog, where, step)
            elif step.publish is not None and step.publish.task in catalog.tasks:
                problems = _publish_step(catalog, pipeline, where, step)
            else:
                continue
            found += [(pipeline_id, step_id, loc, message) for loc, message in problems]
    if not found:
        return []
    try:
        root: yaml.Node | None = yaml.compose(
            loaded.path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader
        )
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        root = None  # the file changed since it was loaded: name the key, not the line
    result = []
    for pipeline_id, step_id, loc, message in found:
        spot = locate(root, loc) if root is not None else None
        key = spot.key if spot is not None and spot.key else ".".join(str(p) for p in loc)
        line = spot.line if spot is not None else None
        result.append(PipelineProblem(pipeline_id, step_id, line, key, message))
    return result
