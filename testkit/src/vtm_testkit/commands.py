"""Running a command that prepares something (a store, a database) and must succeed."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def run_to_make(
    argv: Sequence[str], made: Path, env: Mapping[str, str], cwd: Path, timeout: float = 300
) -> None:
    """Run ``argv``; it must exit 0 and leave ``made`` behind, or AssertionError with the end
    of its output."""
    done = subprocess.run(
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0 or not made.exists():
        output = (done.stdout + done.stderr)[-4000:]
        raise AssertionError(f"{argv[0]} exited {done.returncode} without {made}:\n{output}")
