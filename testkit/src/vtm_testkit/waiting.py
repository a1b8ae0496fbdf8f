"""Waiting on a condition with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition did not hold in time (an AssertionError: pytest reports it as a failure)."""


SLOWEST = 0.1  # seconds between probes, at most (unless ``every`` asks for longer)


def wait_for(
    probe: Callable[[], T | None], what: str, timeout: float = 30.0, every: float = 0.02
) -> T:
    """Call ``probe`` until it returns something truthy, and return that: first after
    ``every`` seconds, then half as long again each time up to ``SLOWEST`` (a condition that
    holds soon is seen soon; a long wait does not keep a server busy answering); after
    ``timeout`` seconds (with one last try at the deadline), raise WaitTimeout naming ``what``
    and the probe's last answer."""
    deadline = time.monotonic() + timeout
    pause, slowest = every, max(every, SLOWEST)
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(pause)
        pause = min(pause * 1.5, slowest)
