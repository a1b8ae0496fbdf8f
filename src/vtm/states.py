"""Run states and the transitions allowed between them, in one place."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.STOPPED})

_ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    # A queued run starts, is cancelled by a person, or cannot be launched at all.
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.STOPPED, RunStatus.FAILED}),
    # A running run ends by its exit code, by a person's stop, or by a lost supervisor.
    RunStatus.RUNNING: frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.STOPPED}),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.STOPPED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, current: RunStatus, new: RunStatus) -> None:
        super().__init__(f"a {current.value} run cannot become {new.value}")
        self.current = current
        self.new = new


def can_transition(current: RunStatus, new: RunStatus) -> bool:
    return new in _ALLOWED[current]


def check_transition(current: RunStatus, new: RunStatus) -> None:
    if not can_transition(current, new):
        raise IllegalTransition(current, new)
