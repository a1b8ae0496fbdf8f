"""The files of one run's directory, and the launch spec the server writes into it.

The supervisor (``program.py``) cannot import this module, so it spells the same file names
itself; ``tests/test_supervisor.py`` checks that both agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunDir:
    """``runs/<id>/``: written by the server (spec), the supervisor and the trainer (log)."""

    path: Path

    @property
    def spec_json(self) -> Path:
        return self.path / "spec.json"  # server → supervisor, before the spawn

    @property
    def output_log(self) -> Path:
        return self.path / "output.log"  # the trainer's stdout and stderr, written by it

    @property
    def supervisor_lock(self) -> Path:
        return self.path / "supervisor.lock"  # flocked while the supervisor lives

    @property
    def pid_json(self) -> Path:
        return self.path / "pid.json"  # written once the trainer has started

    @property
    def exit_json(self) -> Path:
        return self.path / "exit.json"  # written once no process of the run is left

    @property
    def supervisor_log(self) -> Path:
        return self.path / "supervisor.log"  # the supervisor's own diagnostics

    @property
    def work_dir(self) -> Path:
        return self.path / "work"  # the trainer's working directory with ``workdir: run``


@dataclass
class LaunchSpec:
    """What to run: ``spec.json``. ``env`` is added to the supervisor's inherited
    environment after ``unset_env`` is taken out of it."""

    run_id: str
    argv: list[str]
    cwd: str
    env: dict[str, str] = field(default_factory=dict)
    unset_env: list[str] = field(default_factory=list)
    timeout_seconds: float | None = None
    grace_seconds: float = 10.0

    def to_json(self) -> str:
        return json.dumps(
            {
                "runId": self.run_id,
                "argv": self.argv,
                "cwd": self.cwd,
                "env": self.env,
                "unsetEnv": self.unset_env,
                "timeoutSeconds": self.timeout_seconds,
                "graceSeconds": self.grace_seconds,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> LaunchSpec:
        """Parse ``spec.json``; ValueError names the first field that is wrong."""
        raw: Any = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("spec: not a JSON object")
        argv = raw.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError("spec: argv must be a non-empty list of strings")
        env = raw.get("env", {})
        if not isinstance(env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise ValueError("spec: env must map strings to strings")
        unset = raw.get("unsetEnv", [])
        if not isinstance(unset, list) or not all(isinstance(k, str) for k in unset):
            raise ValueError("spec: unsetEnv must be a list of strings")
        timeout = raw.get("timeoutSeconds")
        grace = raw.get("graceSeconds", 10.0)
        for name, value in (("timeoutSeconds", timeout), ("graceSeconds", grace)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ValueError(f"spec: {name} must be a number")
        if not isinstance(raw.get("runId"), str) or not isinstance(raw.get("cwd"), str):
            raise ValueError("spec: runId and cwd must be strings")
        if grace is None:
            raise ValueError("spec: graceSeconds must be a number")
        return cls(
            run_id=raw["runId"],
            argv=list(argv),
            cwd=raw["cwd"],
            env=dict(env),
            unset_env=list(unset),
            timeout_seconds=None if timeout is None else float(timeout),
            grace_seconds=float(grace),
        )
