"""One error type, one renderer: every error leaves as application/problem+json with a stable code."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("choso.errors")

PROBLEM = "application/problem+json"


class AppError(Exception):
    """Base of every expected error: status, stable code, human title."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field
        self.headers = headers
        self.extra = extra


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not found"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "Sign-in required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Not allowed"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class Invalid(AppError):
    status, code, title = 422, "validation_error", "Invalid input"


class FileRefused(Invalid):
    """An uploaded spreadsheet that cannot be read: `code` is core.spreadsheet's (too_many_rows,
    nul_bytes, invalid_xlsx, ...) and `detail_vi` says it in Vietnamese; a file too large is 413,
    one of another kind 415. Each import says what the file is (its own class and title)."""

    _STATUS = {"file_too_large": 413, "unsupported_file": 415}

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.code = code
        self.status = self._STATUS.get(code, 422)


class PreconditionFailed(AppError):
    status, code, title = 412, "version_conflict", "The record changed since you read it"


class PreconditionRequired(AppError):
    status, code, title = 428, "precondition_required", "If-Match header required"


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload_too_large", "Request body too large"


class TooManyRequests(AppError):
    status, code, title = 429, "too_many_attempts", "Too many attempts"


class Unavailable(AppError):
    status, code, title = 503, "unavailable", "Service unavailable"


# Not found errors of the registry that every domain above it raises (one code each).
class MarketNotFound(NotFound):
    code, title = "market_not_found", "Market not found"


class StallNotFound(NotFound):
    code, title = "stall_not_found", "Stall not found"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Render a problem+json response."""
    body: dict[str, Any] = {
        "type": f"https://choso.vn/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _documented_methods(app: FastAPI, path: str) -> set[str]:
    """Methods the OpenAPI schema documents for paths matching `path` (templates compiled once)."""
    compiled = getattr(app.state, "allow_patterns", None)
    if compiled is None:
        compiled = [
            (
                re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"),
                {m.upper() for m in ops if m in _HTTP_METHODS},
            )
            for template, ops in app.openapi().get("paths", {}).items()
        ]
        app.state.allow_patterns = compiled
    return {m for pattern, methods in compiled if pattern.match(path) for m in methods}


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _wants_page(request: Request) -> bool:
    """A browser opening an address (not the API, not a script's call)."""
    return (
        request.method in ("GET", "HEAD")
        and not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


def install(
    app: FastAPI,
    *,
    page_not_found: Callable[[Request], Response] | None = None,
    confirm_session: Callable[[Request], Awaitable[None]] | None = None,
) -> None:
    """Register the handlers that turn every error into problem+json; `page_not_found` answers a
    browser that opens an address that is no page (an HTML page in the app's language);
    `confirm_session` runs before a refusal is answered and may raise the AppError to answer
    instead (core.auth.confirm_session: a session taken from memory is read again)."""

    async def _confirmed(request: Request) -> AppError | None:
        if confirm_session is None:
            return None
        try:
            await confirm_session(request)
        except AppError as exc:
            return exc
        return None

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        exc = await _confirmed(request) or exc
        return problem(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            headers=exc.headers,
            field=exc.field,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if page_not_found is not None and _wants_page(request):
            return page_not_found(request)  # a page address with a bad id (/markets/abc): no page
        refused = await _confirmed(request)
        if refused is not None:
            return await _app_error(request, refused)
        errors = []
        for err in exc.errors():
            msg = str(err.get("msg", "invalid"))
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            errors.append(
                {
                    "field": _loc_to_field(err.get("loc", ())),
                    "code": err.get("type"),
                    "message": msg,
                }
            )
        first = errors[0] if errors else {"field": None, "code": "validation_error", "message": ""}
        code = str(first["code"]) if str(first["code"]) in _OWN_CODES else "validation_error"
        if first["code"] == "json_invalid":
            code = "invalid_json"
        detail = (
            f"{first['field']}: {first['message']}" if first["field"] else str(first["message"])
        )
        return problem(422, code, "Invalid input", detail, field=first["field"], errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and page_not_found is not None and _wants_page(request):
            return page_not_found(request)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # The router answers with the first matching route's methods; a path often has
            # several routes (GET and POST of /api/markets/{id}/stalls): list them all.
            methods = set((headers or {}).get("Allow", "").replace(" ", "").split(","))
            methods |= _documented_methods(request.app, request.url.path)
            headers = dict(headers or {}) | {"Allow": ", ".join(sorted(m for m in methods if m))}
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error: %s", type(exc).__name__)
        return problem(500, "internal_error", "Internal error", "Something went wrong on our side.")


# Codes our own pydantic validators raise (PydanticCustomError types); anything else -> validation_error.
_OWN_CODES: set[str] = set()


def own_code(code: str) -> str:
    """Declare a validation code that should surface as the problem's `code`."""
    _OWN_CODES.add(code)
    return code


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is stable and safe to branch on.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "field": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
    "additionalProperties": True,
}


def document_problems(app: FastAPI) -> None:
    """Say in the OpenAPI schema what every route really answers on errors: problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = PROBLEM_SCHEMA
        ref = {"$ref": "#/components/schemas/Problem"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                for status, text in (("4XX", "Client error"), ("5XX", "Server error")):
                    responses[status] = {
                        "description": f"{text} (application/problem+json with a stable `code`)",
                        "content": {PROBLEM: {"schema": ref}},
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
