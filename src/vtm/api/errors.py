"""VTM's exceptions, and FastAPI's own, mapped to HTTP in one place with one JSON shape:

{"error": {"code": "...", "message": "...", "fields": [{"field": "...", "message": "..."}]}}
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vtm.api.schemas import ErrorBody, ErrorDetail, FieldErrorOut
from vtm.errors import (
    CatalogError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    UpstreamError,
    VtmError,
)

STATUS: dict[type[VtmError], int] = {
    NotFound: 404,
    Forbidden: 403,
    InvalidRequest: 422,
    Conflict: 409,
    UpstreamError: 502,
    CatalogError: 503,  # no catalog has loaded: nothing can be started until it is fixed
}


def error_response(
    status: int, code: str, message: str, fields: list[FieldErrorOut] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, fields=fields or []))
    return JSONResponse(body.model_dump(by_alias=True), status_code=status)


async def _vtm_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VtmError)
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)
    fields = (
        [FieldErrorOut(field=e.field, message=e.message) for e in exc.errors]
        if isinstance(exc, InvalidRequest)
        else None
    )
    return error_response(status, exc.code, str(exc), fields)


def _field_name(loc: tuple[int | str, ...]) -> str:
    # ("body", "fields", "epochs") -> "fields.epochs"; the "body" prefix says nothing useful.
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        FieldErrorOut(field=_field_name(tuple(e["loc"])), message=e["msg"]) for e in exc.errors()
    ]
    message = "; ".join(f"{f.field}: {f.message}" for f in fields)
    return error_response(422, "validation_failed", message, fields)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error"
    )
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(VtmError, _vtm_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
