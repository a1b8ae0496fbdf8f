"""Checks of the ``pipelines`` section against the rest of the catalog.

Unknown tasks, unknown or circular ``dependsOn``, and fields a step's task does not have are
reported with the key to blame, like the other cross-part checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter

from vtm.catalog.fields import coerce_value, effective_fields
from vtm.catalog.models import Catalog
from vtm.catalog.pipelines import Pipeline, PipelineStep, is_templated

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def _task_problems(catalog: Catalog, where: Loc, task_id: str) -> Iterator[Problem]:
    if task_id not in catalog.tasks:
        known = ", ".join(catalog.tasks) or "none"
        yield where, f"unknown task {task_id!r} (known: {known})"


def _field_problems(catalog: Catalog, where: Loc, step: PipelineStep) -> Iterator[Problem]:
    if step.task is None or step.task not in catalog.tasks:
        return
    specs = effective_fields(catalog, step.task)
    for name, value in step.fields.items():
        if name not in specs:
            yield (*where, name), f"task {step.task!r} has no field {name!r}"
        elif not is_templated(value):
            try:
                coerce_value(specs[name], value)
            except ValueError as exc:
                yield (*where, name), str(exc)


def _step_problems(catalog: Catalog, where: Loc, step: PipelineStep) -> Iterator[Problem]:
    if step.task is not None:
        yield from _task_problems(catalog, (*where, "task"), step.task)
        yield from _field_problems(catalog, (*where, "fields"), step)
    if step.publish is not None:
        yield from _task_problems(catalog, (*where, "publish", "task"), step.publish.task)
    if step.report is not None and step.report.task is not None:
        yield from _task_problems(catalog, (*where, "report", "task"), step.report.task)


def _graph_problems(where: Loc, pipeline: Pipeline) -> Iterator[Problem]:
    for step_id, step in pipeline.steps.items():
        for i, dep in enumerate(step.depends_on):
            if dep not in pipeline.steps:
                yield (*where, step_id, "dependsOn", i), f"unknown step {dep!r}"
            elif dep == step_id:
                yield (*where, step_id, "dependsOn", i), "a step cannot depend on itself"
    graph = {
        step_id: [d for d in step.depends_on if d in pipeline.steps and d != step_id]
        for step_id, step in pipeline.steps.items()
    }
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        cycle = exc.args[1]
        yield (*where, cycle[0], "dependsOn"), f"steps depend on each other: {' -> '.join(cycle)}"


def _upstream(pipeline: Pipeline, step_id: str) -> set[str]:
    """Every step ``step_id`` waits for, directly or not."""
    seen: set[str] = set()
    todo = list(pipeline.steps[step_id].depends_on)
    while todo:
        dep = todo.pop()
        if dep not in seen and dep in pipeline.steps:
            seen.add(dep)
            todo += pipeline.steps[dep].depends_on
    return seen


def _publish_problems(where: Loc, pipeline: Pipeline, step_id: str) -> Iterator[Problem]:
    """A publish step publishes the run this pipeline run trained, judged by a step of it."""
    publish = pipeline.steps[step_id].publish
    if publish is None:
        return
    here: Loc = (*where, step_id, "publish")
    before = _upstream(pipeline, step_id)
    trainers = [s for s, step in pipeline.steps.items() if step.task == publish.task]
    if publish.run is None and trainers:
        yield (
            (*here, "task"),
            (
                f"step {trainers[0]!r} of this pipeline trains {publish.task!r}: name it with "
                f"`run: {trainers[0]}` so this step publishes that run, not the best of all"
            ),
        )
    for key, named in (("run", publish.run), ("evaluation", publish.evaluation)):
        if named is None:
            continue
        step = pipeline.steps.get(named)
        if step is None or step.task is None:
            yield (*here, key), f"{named!r} is not a step of this pipeline that runs a task"
        elif named not in before:
            yield (*here, key), f"this step must depend on {named!r} (dependsOn), directly or not"
        elif key == "run" and step.task != publish.task:
            yield (*here, key), f"step {named!r} runs {step.task!r}, not {publish.task!r}"
    if (
        publish.evaluation is not None
        and publish.run is not None
        and publish.run in pipeline.steps
        and publish.evaluation in pipeline.steps
        and publish.run not in _upstream(pipeline, publish.evaluation)
    ):
        yield (
            (*here, "evaluation"),
            (
                f"step {publish.evaluation!r} must depend on {publish.run!r}: it judges "
                "that run's model"
            ),
        )


def pipeline_problems(catalog: Catalog) -> list[Problem]:
    """Every problem of every pipeline, each located at its key."""
    problems: list[Problem] = []
    for pipeline_id, pipeline in catalog.pipelines.items():
        steps: Loc = ("pipelines", pipeline_id, "steps")
        for step_id, step in pipeline.steps.items():
            problems += _step_problems(catalog, (*steps, step_id), step)
            problems += _publish_problems(steps, pipeline, step_id)
        problems += _graph_problems(steps, pipeline)
    return problems
