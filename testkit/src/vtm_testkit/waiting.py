"""Waiting on a condition with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition did not hold in time (an AssertionError: pytest reports it as a failure)."""


def wait_for(
    probe: Callable[[], T | None], what: str, timeout: float = 30.0, every: float = 0.02
) -> T:
    """Call ``probe`` every ``every`` seconds until it returns something truthy, and return
    that; after ``timeout`` seconds (with one last try at the deadline), raise WaitTimeout
    naming ``what`` and the probe's last answer."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(every)
