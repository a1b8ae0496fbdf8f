"""Turning a task and its resolved fields into the trainer's command line.

``[interpreter, (-m torch.distributed.run <launcherArgs> --nproc_per_node=N), script | -m
module, <args>, <fields>]``: the fields as ``vtm.catalog.arguments`` spells them for the
runner's style. The command is an argument list, never a shell string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vtm.catalog._runner import runner_paths
from vtm.catalog.arguments import field_arguments
from vtm.catalog.fields import effective_fields
from vtm.catalog.loader import LoadedCatalog
from vtm.catalog.models import Runner, Scalar
from vtm.errors import NotFound
from vtm.executors import Executor

TORCHRUN_MODULE = "torch.distributed.run"  # what the torchrun command runs


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
    # ``runner.workdir: run``: the trainer runs in its run's folder (runs/<id>/work/), which
    # exists only once the run starts; ``cwd`` is then the catalog's folder.
    in_run_dir: bool = False
    executor: Executor = "local"  # the task's; a start request may choose another


def _launcher(runner: Runner, resolved: Mapping[str, Scalar | None], gpus: int) -> list[str]:
    if runner.launcher is None:
        return []
    procs: Scalar | None = max(1, gpus)
    if runner.nproc_field is not None:
        procs = resolved.get(runner.nproc_field)
        if not isinstance(procs, int) or isinstance(procs, bool) or procs < 1:
            raise ValueError(
                f"field {runner.nproc_field!r} (the runner's nprocField) must be a whole "
                f"number of at least 1, got {procs!r}"
            )
    return ["-m", TORCHRUN_MODULE, *runner.launcher_args, f"--nproc_per_node={procs}"]


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
    runner = task.runner
    paths = runner_paths(loaded.root, loaded.path, task_id, runner)
    # torchrun takes a module as "-m NAME" too, after its own options.
    what = [str(paths.target)] if paths.target is not None else ["-m", str(runner.module)]
    return LaunchPlan(
        argv=[
            paths.interpreter,
            *_launcher(runner, resolved, task.resources.gpus),
            *what,
            *runner.args,
            *field_arguments(runner, fields, resolved),
        ],
        cwd=paths.cwd,
        env=dict(runner.env),
        timeout_seconds=runner.timeout,
        gpus=task.resources.gpus,
        mlflow_experiment=loaded.catalog.experiment_name(task_id),
        in_run_dir=runner.runs_in_run_dir,
        executor=task.executor,
    )
