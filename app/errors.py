"""The service's errors and the one JSON shape every error response has.

    NextBestError                 any error a client can act on; carries an HTTP status
    ├── Unauthorized        401   no API key, or not a valid one
    ├── Forbidden           403   a valid key without the scope the route needs
    ├── NotFound            404   an id the caller named does not exist
    ├── InvalidInput        422   the request is well-formed HTTP but its content is wrong
    ├── PayloadTooLarge     413   more rows or bytes than one request may carry
    └── Unavailable         503   a dependency (the database) is down; retry later

A database error under a request (SQLAlchemy's OperationalError or InterfaceError: the
server is down, unreachable, or a lock timed out) is a 503 with Retry-After as well.

Every error response is ``{"error": {"code": ..., "message": ..., "details": [...]}}``.
Client input never produces a 5xx: anything unexpected is logged and answered with
500 ``internal_error`` (by `app.observability.middleware.Observed`), which is a bug to
fix, not a behaviour.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("nextbest")


class ErrorDetail(BaseModel):
    """One problem inside a request: where it is and what is wrong."""

    field: str | None = None
    message: str


class ErrorBody(BaseModel):
    """The content of every error response."""

    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorBody


class NextBestError(Exception):
    """Base of the errors a client can act on."""

    status = 400
    code = "bad_request"
    headers: dict[str, str] = {}  # noqa: RUF012 - read only, per class

    def __init__(self, message: str, details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class Unauthorized(NextBestError):
    """No API key, or not a valid one."""

    status = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="nextbest"'}  # noqa: RUF012


class Forbidden(NextBestError):
    """A valid API key without the scope the route needs."""

    status = 403
    code = "forbidden"


class NotFound(NextBestError):
    """An id in the path does not exist."""

    status = 404
    code = "not_found"


class InvalidInput(NextBestError):
    """The request's content is wrong (a field value, a body shape)."""

    status = 422
    code = "invalid_request"


class PayloadTooLarge(NextBestError):
    """The request carries more than one request may."""

    status = 413
    code = "payload_too_large"


class Unavailable(NextBestError):
    """A dependency is down; the client should retry later."""

    status = 503
    code = "unavailable"


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "invalid_request",
    503: "unavailable",
}

# Documented on routes so that the OpenAPI contract lists the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed request (a body that is not JSON)"},
    422: {"model": ErrorResponse, "description": "Invalid input"},
    500: {"model": ErrorResponse, "description": "Internal error (a bug)"},
}


def error_response(
    status: int, code: str, message: str, details: list[ErrorDetail] | None = None
) -> JSONResponse:
    """A JSON response in the one error shape."""
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details or []))
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[ErrorDetail]:
    details = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error.get("loc", ()))
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        details.append(ErrorDetail(field=location or None, message=message))
    return details


async def on_nextbest(_: Request, exc: Exception) -> JSONResponse:
    """A NextBestError in the error shape, with its headers."""
    assert isinstance(exc, NextBestError)
    response = error_response(exc.status, exc.code, exc.message, exc.details)
    response.headers.update(exc.headers)
    return response


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc)
    first = details[0] if details else None
    message = f"{first.field}: {first.message}" if first else "invalid request"
    return error_response(422, "invalid_request", message, details)


async def on_http(_: Request, exc: Exception) -> JSONResponse:
    """Starlette's HTTP errors (404, 405...) in the error shape, with their headers."""
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _on_database(request: Request, exc: Exception) -> JSONResponse:
    """The database failed under a request (down, unreachable, locked): retry later."""
    log.warning("database error on %s %s: %s", request.method, _route(request), exc)
    return error_response(503, "unavailable", "the database cannot be reached now; retry shortly")


def _route(request: Request) -> str:
    """The route template, or the endpoint's name, for a log line: never the raw path,
    which holds customer ids (personal data that logs would otherwise keep)."""
    template = getattr(request.scope.get("route"), "path_format", None)
    if template:
        return str(template)
    endpoint = request.scope.get("endpoint")
    return getattr(endpoint, "__name__", "unmatched")


def install(app: FastAPI) -> None:
    """Route every error through the one shape."""
    app.add_exception_handler(NextBestError, on_nextbest)
    app.add_exception_handler(OperationalError, _on_database)
    app.add_exception_handler(InterfaceError, _on_database)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
