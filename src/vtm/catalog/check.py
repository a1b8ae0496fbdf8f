"""``vtm catalog check``: do the trainers accept the flags the catalog will pass them?

argparse exits on an unknown argument, so a flag the trainer does not declare fails the run
at its first line. Each task's target is run with ``--help`` (no shell, the run's working
directory and environment) and every flag of the task's fields must appear in that help where
options are declared (the options list, the usage line): ``--batch_size``,
``-b BATCH, --batch_size BATCH`` and ``-b/--batch_size`` all declare ``--batch_size``;
``--batch-size`` is a different flag, and a flag only mentioned in a sentence is not declared.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from dataclasses import dataclass

from vtm.catalog._runner import RunnerPaths, runner_paths
from vtm.catalog.fields import effective_fields
from vtm.catalog.loader import LoadedCatalog
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


@dataclass(frozen=True)
class CheckProblem:
    task_id: str
    message: str


@dataclass(frozen=True)
class _HelpRun:
    options: frozenset[str] | None  # None when --help failed
    failure: str = ""


def _tail(output: str) -> str:
    lines = output.strip().splitlines()[-_TAIL_LINES:]
    return "\n".join(f"  | {line}" for line in lines) if lines else "  (no output)"


def _run_help(paths: RunnerPaths, env: dict[str, str], timeout: float) -> _HelpRun:
    argv = [paths.interpreter, str(paths.target), "--help"]
    try:
        proc = subprocess.Popen(
            argv,
            cwd=paths.cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Its own process group, so a hung --help is killed with all its children.
            start_new_session=True,
        )
    except OSError as exc:
        return _HelpRun(None, f"cannot start {argv[0]}: {exc.strerror or exc}")
    try:
        raw, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):  # it may have just exited
            os.killpg(proc.pid, signal.SIGKILL)
        raw, _ = proc.communicate()
        return _HelpRun(None, f"--help did not finish within {timeout:g}s\n{_tail(_decode(raw))}")
    output = _decode(raw)
    if proc.returncode != 0:
        return _HelpRun(None, f"--help exited with status {proc.returncode}\n{_tail(output)}")
    return _HelpRun(frozenset(_OPTION.findall(output)))


def _decode(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")


def check_catalog(loaded: LoadedCatalog, timeout: float = 60.0) -> list[CheckProblem]:
    """Every way the trainers do not honour the catalog; empty when all is well."""
    problems: list[CheckProblem] = []
    # Tasks that share a runner share one --help run.
    runs: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], _HelpRun] = {}
    for task_id, task in loaded.catalog.tasks.items():
        try:
            paths = runner_paths(loaded.root, loaded.path, task_id, task.runner)
        except CatalogError as exc:
            problems.append(CheckProblem(task_id, exc.message))
            continue
        env = dict(sorted(task.runner.env.items()))
        key = (paths.interpreter, str(paths.target), str(paths.cwd), tuple(env.items()))
        if key not in runs:
            runs[key] = _run_help(paths, env, timeout)
        run = runs[key]
        if run.options is None:
            problems.append(CheckProblem(task_id, f"{paths.target.name} {run.failure}"))
            continue
        for name, spec in effective_fields(loaded.catalog, task_id).items():
            flag = spec.flag_for(name)
            if flag not in run.options:
                problems.append(
                    CheckProblem(
                        task_id,
                        f"field {name!r}: {paths.target.name} does not declare {flag} "
                        "(argparse would exit on it)",
                    )
                )
    return problems
