"""``vtm catalog check``: do the trainers accept the arguments the catalog will pass them?

argparse exits on an unknown argument, so a flag the trainer does not declare fails the run
at its first line. Each task's trainer is run the way VTM runs it (no shell, the runner's
interpreter, script or module, fixed ``args``, working directory and environment; the script
itself, not torchrun, for ``launcher: torchrun``) and asked what it accepts:

- argparse style: ``--help``. Every flag of the task's fields must appear where options are
  declared (the options list, the usage line): ``--batch_size``, ``-b BATCH, --batch_size
  BATCH`` and ``-b/--batch_size`` all declare ``--batch_size``; ``--batch-size`` is another
  flag, and a flag only mentioned in a sentence is not declared. A bool passed as a value
  (``boolStyle: value``) must take one (``--x {true,false}``, ``--x X``, ``--x [X]``); a
  negatable one needs ``--no-x`` too.
- hydra style: ``--cfg job`` prints the composed config; every override's key must be in it
  (``+key`` must not: Hydra refuses to add a key that exists; ``++key`` may be either).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import yaml

from vtm.catalog._runner import RunnerPaths, runner_paths
from vtm.catalog.arguments import bool_style, negated
from vtm.catalog.fields import effective_fields
from vtm.catalog.loader import LoadedCatalog
from vtm.catalog.models import FieldSpec, FieldType, Runner
from vtm.errors import CatalogError

# An option token where help output declares options: first on a line (the options list),
# after "[" (usage), or after ",", "/", "|" (alternatives: "-b, --batch_size", "-b/--batch_size").
# A flag merely mentioned in prose does not count. The name must not continue with more name
# characters, so "--batch" is not found inside "--batch-size".
_OPTION = re.compile(
    r"(?:^[ \t│]*|[\[,/|│(][ \t]*)(-{1,2}[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?![\w-])",
    re.MULTILINE,
)
_TAIL_LINES = 10
# A metavar after an option: ``{true,false}``, ``[X]`` or ``X`` (one space: two or more, or a
# line break, start the option's help text).
_METAVAR = r"(?:=| )(?:\{[^}\n]*\}|\[[^\]\n]*\]|[A-Z][A-Z0-9_.-]*)"


@dataclass(frozen=True)
class CheckProblem:
    task_id: str
    message: str


@dataclass(frozen=True)
class _Answer:
    output: str | None  # None when the trainer failed to answer
    failure: str = ""


def _tail(output: str) -> str:
    lines = output.strip().splitlines()[-_TAIL_LINES:]
    return "\n".join(f"  | {line}" for line in lines) if lines else "  (no output)"


def _label(paths: RunnerPaths, runner: Runner) -> str:
    """What the messages call the trainer: its script's name or its module."""
    return paths.target.name if paths.target is not None else f"-m {runner.module}"


def _ask(paths: RunnerPaths, runner: Runner, timeout: float) -> _Answer:
    what = [str(paths.target)] if paths.target is not None else ["-m", str(runner.module)]
    question = ["--cfg", "job"] if runner.arg_style == "hydra" else ["--help"]
    argv = [paths.interpreter, *what, *runner.args, *question]
    asked = " ".join(question)
    try:
        proc = subprocess.Popen(
            argv,
            cwd=paths.cwd,
            env={**os.environ, **runner.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            # Apart from stdout: warnings there must not spoil the config Hydra prints.
            stderr=subprocess.PIPE,
            # Its own process group, so a hung --help is killed with all its children.
            start_new_session=True,
        )
    except OSError as exc:
        return _Answer(None, f"cannot start {argv[0]}: {exc.strerror or exc}")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):  # it may have just exited
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        said = _tail(_decode(out) + _decode(err))
        return _Answer(None, f"{asked} did not finish within {timeout:g}s\n{said}")
    output = _decode(out)
    if proc.returncode != 0:
        said = _tail(output + _decode(err))
        return _Answer(None, f"{asked} exited with status {proc.returncode}\n{said}")
    return _Answer(output)


def _decode(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")


def check_catalog(loaded: LoadedCatalog, timeout: float = 60.0) -> list[CheckProblem]:
    """Every way the trainers do not honour the catalog; empty when all is well."""
    problems: list[CheckProblem] = []
    # Tasks that share a runner share one run of the trainer; the runs go side by side
    # (a framework's import alone can take seconds).
    asked: dict[str, tuple[RunnerPaths, Future[_Answer]]] = {}
    keys: dict[tuple[object, ...], Future[_Answer]] = {}
    workers = max(2, min(8, os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="catalog-check") as pool:
        for task_id, task in loaded.catalog.tasks.items():
            runner = task.runner
            try:
                paths = runner_paths(loaded.root, loaded.path, task_id, runner)
            except CatalogError as exc:
                problems.append(CheckProblem(task_id, exc.message))
                continue
            key = (
                paths.interpreter,
                str(paths.target),
                runner.module,
                tuple(runner.args),
                runner.arg_style,
                str(paths.cwd),
                tuple(sorted(runner.env.items())),
            )
            if key not in keys:
                keys[key] = pool.submit(_ask, paths, runner, timeout)
            asked[task_id] = (paths, keys[key])
    for task_id, (paths, future) in asked.items():
        runner = loaded.catalog.tasks[task_id].runner
        answer, label = future.result(), _label(paths, runner)
        if answer.output is None:
            problems.append(CheckProblem(task_id, f"{label} {answer.failure}"))
            continue
        fields = effective_fields(loaded.catalog, task_id)
        if runner.arg_style == "hydra":
            found = _hydra_problems(answer.output, fields)
        else:
            found = _argparse_problems(answer.output, runner, fields, label)
        problems += [CheckProblem(task_id, message) for message in found]
    order = list(loaded.catalog.tasks)
    return sorted(problems, key=lambda p: order.index(p.task_id))


def _declares_value(output: str, flag: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}{_METAVAR}", output) is not None


def _argparse_problems(
    output: str, runner: Runner, fields: Mapping[str, FieldSpec], label: str
) -> Iterator[str]:
    options = frozenset(_OPTION.findall(output))
    for name, spec in fields.items():
        if name == runner.nproc_field:
            continue  # torchrun's, not the script's
        flag = spec.flag_for(name)
        if flag not in options:
            yield f"field {name!r}: {label} does not declare {flag} (argparse would exit on it)"
            continue
        if spec.type is not FieldType.BOOL:
            continue
        how = bool_style(runner, spec)
        if how == "value" and not _declares_value(output, flag):
            yield (
                f"field {name!r}: {label} declares {flag} without a value, but boolStyle "
                f"value passes {flag}=true|false: use boolStyle flag (store_true) or negatable"
            )
        elif how == "negatable" and negated(flag) not in options:
            yield (
                f"field {name!r}: {label} does not declare {negated(flag)}, which boolStyle "
                "negatable passes for false (argparse.BooleanOptionalAction declares both)"
            )
        elif how == "flag" and _declares_value(output, flag):
            yield (
                f"field {name!r}: {label}'s {flag} takes a value, but boolStyle flag passes a "
                f"bare {flag}: use boolStyle value"
            )


def _keys(config: object, prefix: str = "") -> Iterator[str]:
    if isinstance(config, dict):
        for key, value in config.items():
            path = f"{prefix}{key}"
            yield path
            yield from _keys(value, f"{path}.")


def _hydra_problems(output: str, fields: Mapping[str, FieldSpec]) -> Iterator[str]:
    try:
        config: Any = yaml.safe_load(output)
    except yaml.YAMLError as exc:
        yield f"--cfg job did not print a config (is it a Hydra app?): {exc}"
        return
    keys = set(_keys(config))
    for name, spec in fields.items():
        override = spec.flag_for(name, "hydra")
        key = override.lstrip("+")
        if override.startswith("++"):
            continue
        if override.startswith("+") and key in keys:
            yield (
                f"field {name!r}: the config already has {key!r}, and Hydra refuses to add it "
                f"again: write flag {key} (or ++{key})"
            )
        elif not override.startswith("+") and key not in keys:
            yield (
                f"field {name!r}: the config has no {key!r}, so Hydra would refuse the "
                f"override: set flag +{key} to add it, or add it to the config"
            )
