"""When a failed request is sent again, and how long to pause first.

Within the client's ``retry_seconds``: a connection that was refused or never set up (the
request never left) is retried for every call; any other transport failure (the answer was
lost or timed out) and a 5xx answer only for an idempotent call. A 4xx answer is the caller's
mistake and never retried. So a call that is not idempotent (starting a run) is resent only
when it cannot have reached VTM, and a lost answer never starts a second run.
"""

from __future__ import annotations

import logging
import time

import httpx

from vtm_client._errors import ApiError

FIRST_PAUSE_SECONDS = 0.25
MAX_PAUSE_SECONDS = 5.0

log = logging.getLogger("vtm_client")


def never_left(exc: Exception) -> bool:
    """The request cannot have reached VTM: refused, no such host, or no connection in time."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


def retryable(exc: Exception, idempotent: bool) -> bool:
    if never_left(exc):
        return True
    if not idempotent or isinstance(exc, httpx.UnsupportedProtocol):
        return False  # (the URL has no http:// or https://: no retry will mend it)
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, ApiError) and exc.status >= 500


class Backoff:
    """One call's retries: pauses of 0.25 s doubling up to 5 s, until ``window`` is over."""

    def __init__(self, window: float, idempotent: bool) -> None:
        self.deadline = time.monotonic() + window
        self.idempotent = idempotent
        self.pause = FIRST_PAUSE_SECONDS

    def next_pause(self, exc: Exception, what: str) -> float | None:
        """The pause before trying again after ``exc``; None: give up."""
        left = self.deadline - time.monotonic()
        if left <= 0 or not retryable(exc, self.idempotent):
            return None
        pause = min(self.pause, left)
        self.pause = min(self.pause * 2, MAX_PAUSE_SECONDS)
        log.warning("VTM did not answer %s (%r); trying again in %.2f s", what, exc, pause)
        return pause
