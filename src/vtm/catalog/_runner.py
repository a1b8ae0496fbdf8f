"""Where a task's runner lives on disk: interpreter, target script and working directory.

Targets and working directories are confined to the catalog's folder (symlinks followed), so
a catalog cannot point VTM at an arbitrary program elsewhere on the machine.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NamedTuple

from vtm.catalog.models import RUN_WORKDIR, Runner
from vtm.errors import CatalogError


def inside_root(root: Path, relative: str) -> Path:
    """``relative`` resolved against ``root``; ValueError if the result leaves ``root``."""
    real_root = root.resolve()
    candidate = (real_root / relative).resolve()
    if not candidate.is_relative_to(real_root):
        raise ValueError(f"{relative!r} leads outside the catalog folder {real_root}")
    return candidate


def target_path(root: Path, target: str) -> Path:
    path = inside_root(root, target)
    if not path.is_file():
        raise ValueError(f"trainer script {target!r} not found (looked for {path})")
    return path


def workdir_path(root: Path, workdir: str | None) -> Path:
    """The working directory; for ``run`` (the run's own folder, made at its start) and none,
    the catalog's folder."""
    if workdir is None or workdir == RUN_WORKDIR:
        return root.resolve()
    path = inside_root(root, workdir)
    if not path.is_dir():
        raise ValueError(f"working directory {workdir!r} does not exist (looked for {path})")
    return path


def interpreter_path(root: Path, interpreter: str | None, env: dict[str, str]) -> str:
    if interpreter is None:
        return sys.executable
    if "/" in interpreter or os.sep in interpreter:
        # Not resolved: a virtualenv's python is a symlink that must keep its own path.
        found: str | None = os.path.normpath(root / interpreter)
    else:
        found = shutil.which(interpreter, path=env.get("PATH"))
    if found is None or not (os.path.isfile(found) and os.access(found, os.X_OK)):
        raise ValueError(f"interpreter {interpreter!r} not found or not executable")
    return found


class RunnerPaths(NamedTuple):
    interpreter: str
    target: Path | None  # None: the runner names a module
    cwd: Path


def runner_paths(root: Path, catalog_file: Path, task_id: str, runner: Runner) -> RunnerPaths:
    """The runner's paths, or CatalogError naming the task and the offending key."""
    key = "interpreter"
    try:
        interpreter = interpreter_path(root, runner.interpreter, runner.env)
        key = "target"
        target = None if runner.target is None else target_path(root, runner.target)
        key = "workdir"
        cwd = workdir_path(root, runner.workdir)
    except ValueError as exc:
        raise CatalogError(
            f"task {task_id!r}: {exc}", file=str(catalog_file), key=f"tasks.{task_id}.runner.{key}"
        ) from exc
    return RunnerPaths(interpreter, target, cwd)
