"""The one error model every kefu service speaks: {"error": {"code", "message"}}.

Registered on every app so no request ever sees an HTML error page or a bare 500 body.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("kefu.errors")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "timeout",
}


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    """Every non-2xx answer of every kefu service (OpenAPI documents it on each route)."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or app: these statuses answer with the error model."""
    return {s: {"model": ErrorOut, "description": _STATUS_CODES.get(s, "error").replace("_", " ")}
            for s in statuses}


# What any route of any service may answer besides its own codes: the body limit, bad JSON,
# validation, rate limits and the catch-all 500/503 (documented once, on the app).
COMMON_ERRORS = error_responses(400, 413, 422, 429, 500, 503)


class APIError(Exception):
    """Raise from domain or HTTP code to answer with a specific status and code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    return {"error": body}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        msg = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            return "request body is not valid JSON"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


# Validation error types that are answers of their own, not a generic invalid_request
# (an app adds its own, e.g. the gateway answers bad JSON with 400 invalid_json).
VALIDATION_CODES: dict[str, tuple[int, str]] = {
    "empty_text": (422, "empty_text"),
    "text_too_long": (422, "text_too_long"),
}


def _validation_status(exc: RequestValidationError, codes: dict[str, tuple[int, str]]) -> tuple[int, str]:
    for err in exc.errors():
        hit = codes.get(str(err.get("type")))
        if hit:
            return hit
    return 422, "invalid_request"


def install_error_handlers(app: FastAPI, validation_codes: dict[str, tuple[int, str]] | None = None) -> None:
    codes = {**VALIDATION_CODES, **(validation_codes or {})}

    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            code, message = "bad_encoding", "request body is not valid UTF-8"
        elif exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            code, message = "invalid_json", "request body is nested too deeply"
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, code = _validation_status(exc, codes)
        return error_response(status, code, _validation_message(exc))

    @app.exception_handler(UnicodeDecodeError)
    async def _unicode_error(_: Request, exc: UnicodeDecodeError) -> JSONResponse:
        return error_response(400, "bad_encoding", "request body is not valid UTF-8")

    @app.exception_handler(RecursionError)
    async def _recursion_error(_: Request, exc: RecursionError) -> JSONResponse:
        """A body nested thousands deep that got past the JSON parser (e.g. into a validator)."""
        return error_response(400, "invalid_json", "request body is nested too deeply")

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; see the service log")
