"""What a `vtm exec` run is recorded through, and what it ends with.

Two recorders keep VTM told while the trainer runs: ``local.LocalRecorder`` (the local store)
and ``remote.RemoteRecorder`` (the server at VTM_URL, through the external-runs API).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vtm.states import RunStatus


@dataclass(frozen=True)
class Outcome:
    """How the run ended, as the supervisor recorded it (or why nobody could)."""

    status: RunStatus
    returncode: int | None  # Popen style: negative = killed by that signal
    reason: str | None

    @property
    def exit_code(self) -> int:
        """`vtm exec`'s exit code: 0 only for a completed run, so Airflow retries the rest.

        The trainer's own code when it has one; 128 + N when signal N ended it (the shell's
        convention); 143 (SIGTERM's) for a stop that the trainer answered with code 0; else 1.
        """
        if self.status is RunStatus.COMPLETED:
            return 0
        code = self.returncode
        if code is not None and code > 0:
            return min(code, 255)
        if code is not None and code < 0:
            return 128 + (-code)
        return 128 + signal.SIGTERM if self.status is RunStatus.STOPPED else 1


class Recorder(Protocol):
    """Where a foreground run is recorded: the local store, or a VTM server."""

    def follow(self, output: Path) -> None:
        """Record the run's output as ``output`` grows, until ``finish``."""

    def stop_requested(self) -> bool:
        """Whether someone asked VTM to stop the run (the UI, `vtm stop`)."""
        ...

    def finish(self, outcome: Outcome, size: int) -> None:
        """Record the rest of the output (``size`` bytes in all) and the outcome."""


def output_size(path: Path) -> int:
    """Bytes of output the trainer wrote; what a recorder must have recorded in the end."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
