"""The client's one error tree, and reading VTM's error body into it.

VTM answers every error with one JSON shape::

    {"error": {"code": "...", "message": "...", "fields": [{"field": "...", "message": "..."}]}}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from vtm_client._types import FieldError


class VtmClientError(Exception):
    """Anything the client raises: VTM refused (``ApiError``) or did not answer
    (``Unreachable``)."""


class ApiError(VtmClientError):
    """VTM answered with an error status.

    ``code`` is VTM's name for the error (``not_found``, ``validation_failed``,
    ``not_published``…; None when the body was not VTM's, e.g. a proxy's page), ``message``
    its explanation, ``fields`` one message per request field it refused.
    """

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        fields: Sequence[FieldError] = (),
        *,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields: list[FieldError] = list(fields)
        self.method = method
        self.path = path
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.method:
            return self.message
        return f"VTM {self.method} {self.path} answered {self.status}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled whole (a process pool, Airflow handing an error on): args alone lose fields.
        where = {"method": self.method, "path": self.path}
        return (_rebuilt, (type(self), (self.status, self.code, self.message, self.fields), where))


class Unreachable(VtmClientError):
    """No answer: the connection was refused, the name did not resolve, or the connection or
    the answer timed out, past the client's retry window.

    ``url`` is the server asked, ``reason`` what the transport said (without the request).
    """

    def __init__(
        self, message: str, *, url: str = "", method: str = "", path: str = "", reason: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.method = method
        self.path = path
        self.reason = reason or message

    def __reduce__(self) -> tuple[Any, ...]:
        where = {"url": self.url, "method": self.method, "path": self.path, "reason": self.reason}
        return (_rebuilt, (type(self), (self.message,), where))


def _rebuilt(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    return cls(*args, **kwargs)


def reason_of(exc: Exception) -> str:
    """What a transport error says; its class name when it says nothing (a bare timeout)."""
    return str(exc) or type(exc).__name__


def api_error(response: httpx.Response, method: str, path: str) -> ApiError:
    """The ApiError of an error answer (its body must have been read)."""
    try:
        error: Any = response.json()["error"]
        message = str(error["message"])
        code = error.get("code")
        fields = [
            FieldError(field=str(f["field"]), message=str(f["message"]))
            for f in error.get("fields") or []
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        # Not VTM's body: a proxy's page, or a server that is not VTM.
        text = response.text.strip() or response.reason_phrase
        return ApiError(response.status_code, None, text, [], method=method, path=path)
    return ApiError(
        response.status_code,
        str(code) if code is not None else None,
        message,
        fields,
        method=method,
        path=path,
    )
