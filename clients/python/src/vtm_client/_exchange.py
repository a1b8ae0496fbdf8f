"""What the sync and the async client share around sending a call: the httpx client's
settings, the request's arguments, and turning an answer or a failure into a result or an
error."""

from __future__ import annotations

import functools
import os
import ssl
from typing import Any

import httpx

from vtm_client._calls import Call
from vtm_client._errors import ApiError, Unreachable, api_error, reason_of
from vtm_client._retry import never_left
from vtm_client._version import __version__

# The event stream: VTM sends a keep-alive every 15 s, so a minute of silence is a lost server.
STREAM_READ_TIMEOUT_SECONDS = 60.0
# Between reconnects of a broken event stream.
RECONNECT_PAUSE_SECONDS = 0.5


def base_url_of(url: str) -> str:
    return url.rstrip("/")


def client_options(base_url: str, token: str | None, timeout: float) -> dict[str, Any]:
    headers = {"User-Agent": f"vtm-client/{__version__}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return {"base_url": base_url, "headers": headers, "timeout": timeout, "verify": tls()}


def tls() -> ssl.SSLContext:
    """httpx's default verification, made once per process (and CA setting): each new context
    loads the CA bundle again, ≈ 20 ms, which every client of a process paid, and a spare
    `vtm exec` makes it before it forks its copies."""
    return _tls(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls(_cert_file: str | None, _cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()  # reads the same two variables, the cache's key


def request_options(call: Call) -> dict[str, Any]:
    """httpx's ``request``/``stream`` arguments for ``call``."""
    options: dict[str, Any] = {"params": dict(call.params), "headers": dict(call.headers)}
    if call.json is not None:
        options["json"] = call.json
    if call.content is not None:
        options["content"] = call.content
    if call.timeout is not None:
        options["timeout"] = call.timeout
    return options


def stream_timeout(timeout: float) -> httpx.Timeout:
    return httpx.Timeout(timeout, read=max(timeout, STREAM_READ_TIMEOUT_SECONDS))


def checked(call: Call, response: httpx.Response) -> httpx.Response:
    """``response`` if it is a success; its ApiError otherwise (its body must be read)."""
    if response.is_success:
        return response
    raise api_error(response, call.method, call.path)


def decoded(call: Call, response: httpx.Response) -> Any:
    """The answer's JSON, or its text for a page."""
    if call.text:
        return response.text
    try:
        return response.json()
    except ValueError:
        raise ApiError(
            response.status_code,
            None,
            f"the answer is not JSON: {response.text[:200]!r}",
            method=call.method,
            path=call.path,
        ) from None


def unreachable(base_url: str, call: Call, exc: Exception) -> Unreachable:
    reason = reason_of(exc)
    if never_left(exc):
        message = f"VTM at {base_url} could not be reached ({call.what}): {reason}"
    elif call.idempotent:
        message = f"VTM at {base_url} did not answer {call.what}: {reason}"
    else:
        message = (
            f"VTM at {base_url} did not answer {call.what} ({reason}); it may have been "
            "carried out, so it was not sent again"
        )
    return Unreachable(message, url=base_url, method=call.method, path=call.path, reason=reason)
