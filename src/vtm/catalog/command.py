"""Turning a task and its resolved fields into the trainer's command line.

The command is an argument list, never a shell string. Each value travels as ``--name=value``
in a single argument, so a value that starts with ``-`` (or holds ``; rm -rf``) stays a value.
``bool`` fields follow argparse's ``store_true``: true → bare ``--name``, false → omitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vtm.catalog._runner import runner_paths
from vtm.catalog.fields import effective_fields
from vtm.catalog.loader import LoadedCatalog
from vtm.catalog.models import FieldType, Scalar
from vtm.errors import NotFound


@dataclass(frozen=True)
class LaunchPlan:
    """Everything the catalog says about starting the trainer for one run (stored as the
    run's launch record: ``vtm.runs.launch``)."""

    argv: list[str]
    cwd: Path
    env: dict[str, str]
    timeout_seconds: float | None
    gpus: int
    mlflow_experiment: str  # where the trainer logs to (the task's ``mlflow.experiment``)


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # repr keeps every digit and never switches to str()'s rounding: 0.001 stays "0.001".
        return repr(value)
    return str(value)


def plan_launch(
    loaded: LoadedCatalog, task_id: str, resolved: Mapping[str, Scalar | None]
) -> LaunchPlan:
    """The launch plan for ``task_id`` with ``resolved`` (the output of ``resolve_fields``).

    Raises NotFound for an unknown task, CatalogError when the runner's interpreter, target or
    working directory is missing or leaves the catalog folder, and ValueError for values that
    ``resolve_fields`` would never produce (unknown names, NUL characters).
    """
    task = loaded.catalog.tasks.get(task_id)
    if task is None:
        raise NotFound(f"unknown task {task_id!r}")
    fields = effective_fields(loaded.catalog, task_id)
    unknown = sorted(set(resolved) - set(fields))
    if unknown:
        raise ValueError(f"task {task_id!r} has no field(s) {', '.join(unknown)}")
    paths = runner_paths(loaded.root, loaded.path, task_id, task.runner)
    flags: list[str] = []
    for name, spec in fields.items():
        value = resolved.get(name)
        flag = spec.flag_for(name)
        if value is None:
            continue
        if spec.type is FieldType.BOOL:
            if not isinstance(value, bool):
                raise ValueError(f"field {name!r}: expected a resolved bool, got {value!r}")
            if value:
                flags.append(flag)
            continue
        arg = f"{flag}={_text(value)}"
        if "\0" in arg:
            raise ValueError(f"field {name!r}: a command line cannot carry a NUL character")
        flags.append(arg)
    return LaunchPlan(
        argv=[paths.interpreter, str(paths.target), *flags],
        cwd=paths.cwd,
        env=dict(task.runner.env),
        timeout_seconds=task.runner.timeout,
        gpus=task.resources.gpus,
        mlflow_experiment=loaded.catalog.experiment_name(task_id),
    )
