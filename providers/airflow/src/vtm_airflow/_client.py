"""VTM's REST API over HTTP, with retries that ride out a VTM restart.

A connection error or a 5xx answer is retried with a growing pause until ``retry_seconds``
have passed; a 4xx answer is the caller's mistake and raised at once. A request that is not
idempotent (starting a run) is retried only when it cannot have reached VTM (the connection
was refused), so a lost answer never starts a second run. The synchronous client serves
operators and sensors, the asynchronous one the trigger.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

TERMINAL = frozenset({"completed", "failed", "stopped"})

log = logging.getLogger(__name__)


class VtmApiError(Exception):
    """VTM answered with an error (``status``, VTM's ``code``) or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail or message  # VTM's own message, without the request's name


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    token: str | None = None
    timeout: float = 30.0
    retry_seconds: float = 120.0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def __repr__(self) -> str:
        # The token stays out of logs and tracebacks.
        return f"Endpoint({self.base_url!r}, token={'***' if self.token else None})"


def _retryable(exc: Exception, idempotent: bool) -> bool:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return True  # the request never left: safe to send again whatever it does
    if not idempotent:
        return False
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, VtmApiError) and exc.status is not None and exc.status >= 500


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        error = response.json().get("error", {})
        message, code = str(error.get("message", response.text)), error.get("code")
    except (ValueError, AttributeError):
        message, code = response.text, None
    raise VtmApiError(
        f"VTM {response.request.method} {response.request.url.path} answered "
        f"{response.status_code}: {message}",
        status=response.status_code,
        code=code,
        detail=message,
    )


class _Backoff:
    def __init__(self, window: float, idempotent: bool) -> None:
        self.deadline = time.monotonic() + window
        self.idempotent = idempotent
        self.pause = 0.25

    def next_pause(self, exc: Exception, what: str) -> float:
        """The pause before the next try; raises when ``exc`` must not be retried or the
        window is over."""
        left = self.deadline - time.monotonic()
        if not _retryable(exc, self.idempotent) or left <= 0:
            if isinstance(exc, httpx.TransportError):
                raise VtmApiError(f"VTM could not be reached ({what}): {exc!r}") from exc
            raise exc
        pause = min(self.pause, left)
        self.pause = min(self.pause * 2, 5.0)
        log.warning("VTM did not answer %s (%r); trying again in %.2f s", what, exc, pause)
        return pause


class VtmClient:
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._http = httpx.Client(
            base_url=endpoint.base_url, headers=endpoint.headers, timeout=endpoint.timeout
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any
    ) -> httpx.Response:
        backoff = _Backoff(self.endpoint.retry_seconds, idempotent)
        while True:
            try:
                return _checked(self._http.request(method, path, **kwargs))
            except (httpx.TransportError, VtmApiError) as exc:
                time.sleep(backoff.next_pause(exc, f"{method} {path}"))

    def json(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        return self.request(method, path, idempotent=idempotent, **kwargs).json()


class AsyncVtmClient:
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._http = httpx.AsyncClient(
            base_url=endpoint.base_url, headers=endpoint.headers, timeout=endpoint.timeout
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def json(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        backoff = _Backoff(self.endpoint.retry_seconds, idempotent)
        while True:
            try:
                return _checked(await self._http.request(method, path, **kwargs)).json()
            except (httpx.TransportError, VtmApiError) as exc:
                await asyncio.sleep(backoff.next_pause(exc, f"{method} {path}"))
