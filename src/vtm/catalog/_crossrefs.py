"""Checks that span several parts of a schema-valid catalog.

Each problem carries the location of the key to blame, in the same form as pydantic's error
locations, so the loader can turn it into a line of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vtm.catalog._pipeline_refs import pipeline_problems
from vtm.catalog._runner import target_path, workdir_path
from vtm.catalog.arguments import bool_style
from vtm.catalog.fields import coerce_value, effective_fields
from vtm.catalog.models import FLAG, HYDRA_KEY, Catalog, FieldSpec, FieldType, Task

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]
# argparse owns these; a field using one would break every trainer's command line.
RESERVED_FLAGS = frozenset({"-h", "--help"})


def _default_problems(fields: dict[str, FieldSpec], where: Loc) -> Iterator[Problem]:
    for name, spec in fields.items():
        if spec.default is None:
            continue
        try:
            coerce_value(spec, spec.default)
        except ValueError as exc:
            yield (*where, name, "default"), f"invalid default: {exc}"


def _field_origins(catalog: Catalog, task_id: str, task: Task) -> dict[str, tuple[FieldSpec, Loc]]:
    base = catalog.base_task_types[task.base_task_type]
    origins: dict[str, tuple[FieldSpec, Loc]] = {
        name: (spec, ("baseTaskTypes", task.base_task_type, "fields", name))
        for name, spec in base.fields.items()
    }
    for name, spec in task.extra_fields.items():
        origins[name] = (spec, ("tasks", task_id, "extraFields", name))
    return origins


def _task_field_problems(catalog: Catalog, task_id: str, task: Task) -> Iterator[Problem]:
    yield from _default_problems(task.extra_fields, ("tasks", task_id, "extraFields"))
    origins = _field_origins(catalog, task_id, task)
    for name, value in task.defaults.items():
        where: Loc = ("tasks", task_id, "defaults", name)
        if name not in origins:
            yield where, f"no such field; this task's fields are: {', '.join(origins)}"
            continue
        try:
            coerce_value(origins[name][0], value)
        except ValueError as exc:
            yield where, f"invalid default: {exc}"
    yield from _flag_problems(task, origins)


def _flag_problems(task: Task, origins: dict[str, tuple[FieldSpec, Loc]]) -> Iterator[Problem]:
    """Flags that fit the runner's style and do not clash; bools that can be passed."""
    runner = task.runner
    style = runner.arg_style
    owners: dict[str, str] = {}
    for name, (spec, origin) in origins.items():
        flag = spec.flag_for(name, style)
        where = (*origin, "flag") if spec.flag else origin
        key = flag.lstrip("+") if style == "hydra" else flag
        if style == "hydra" and not HYDRA_KEY.match(flag):
            yield where, f"{flag} is not a Hydra key (runner.argStyle is hydra): write {name!r}"
        elif style == "argparse" and not FLAG.match(flag):
            yield where, f"{flag} is a Hydra key, but runner.argStyle is argparse: write --{name}"
        elif flag in RESERVED_FLAGS:
            yield where, f"flag {flag} is reserved for the trainer's own help"
        elif key in owners:
            yield where, f"flag {flag} of field {name!r} is also the flag of {owners[key]!r}"
        owners.setdefault(key, name)
        if spec.type is FieldType.BOOL and style == "argparse":
            yield from _bool_problems(task, name, spec, origin)


def _bool_problems(task: Task, name: str, spec: FieldSpec, origin: Loc) -> Iterator[Problem]:
    if bool_style(task.runner, spec) != "flag":
        return
    default = task.defaults.get(name, spec.default)
    try:
        true_by_default = default is not None and coerce_value(spec, default) is True
    except ValueError:
        return  # reported as an invalid default
    if true_by_default:
        yield (
            origin,
            f"bool field {name!r} defaults to true, but with boolStyle flag false is passed "
            "as no flag at all, so the trainer's own default would decide: use boolStyle "
            "negatable (--x/--no-x) or value (--x=true|false)",
        )


def _runner_problems(
    root: Path, task_id: str, task: Task, fields: dict[str, FieldSpec]
) -> Iterator[Problem]:
    where: Loc = ("tasks", task_id, "runner")
    runner = task.runner
    if runner.target is not None:
        try:
            target_path(root, runner.target)
        except ValueError as exc:
            yield (*where, "target"), str(exc)
    try:
        workdir_path(root, runner.workdir)
    except ValueError as exc:
        yield (*where, "workdir"), str(exc)
    if runner.nproc_field is not None:
        spec = fields.get(runner.nproc_field)
        if spec is None or spec.type is not FieldType.INT:
            yield (
                (*where, "nprocField"),
                f"{runner.nproc_field!r} is not an int field of this task",
            )


def _floor_problems(catalog: Catalog, task_id: str) -> Iterator[Problem]:
    if catalog.primary_metric(task_id) is None:
        base = catalog.tasks[task_id].base_task_type
        yield (
            ("tasks", task_id, "publish", "minMetric"),
            f"a floor needs a metric: base task type {base!r} declares no primaryMetric",
        )


def reference_problems(catalog: Catalog, root: Path) -> list[Problem]:
    """Unknown base types, bad defaults, clashing flags, missing or escaping scripts, and
    pipelines naming unknown tasks, steps or fields, or steps depending on each other."""
    problems: list[Problem] = []
    for type_name, base in catalog.base_task_types.items():
        problems += _default_problems(base.fields, ("baseTaskTypes", type_name, "fields"))
    for task_id, task in catalog.tasks.items():
        known = task.base_task_type in catalog.base_task_types
        if known:
            problems += _task_field_problems(catalog, task_id, task)
        else:
            names = ", ".join(catalog.base_task_types) or "none"
            problems.append(
                (
                    ("tasks", task_id, "baseTaskType"),
                    f"unknown base task type {task.base_task_type!r} (known: {names})",
                )
            )
        fields = effective_fields(catalog, task_id) if known else {}
        problems += _runner_problems(root, task_id, task, fields)
        if task.publish.min_metric is not None and known:
            problems += _floor_problems(catalog, task_id)
    problems += pipeline_problems(catalog)
    return problems
