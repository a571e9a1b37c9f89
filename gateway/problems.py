"""Errors as RFC 9457 problem documents (``application/problem+json``) naming the field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dialstream.store import ConcurrencyConflict
from domain import errors

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.NameTaken: 409,
    errors.InUse: 409,
    errors.InvalidTransition: 409,
    errors.StaleVersion: 412,
    errors.RuleViolation: 422,
}


class Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.headers = headers or {}


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.title, exc.detail, exc.field, exc.headers)

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> JSONResponse:
        status = next((s for cls, s in STATUS_OF.items() if isinstance(exc, cls)), 422)
        return problem_response(request, status, exc.title, exc.detail, exc.field)

    @app.exception_handler(ConcurrencyConflict)
    async def _conflict(request: Request, exc: ConcurrencyConflict) -> JSONResponse:
        return problem_response(
            request,
            409,
            "Concurrent modification",
            "another request changed this object at the same time; fetch it again and retry",
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        location = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        return problem_response(
            request,
            422,
            "Invalid request",
            str(first.get("msg", "invalid request")),
            ".".join(location) or None,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return problem_response(
            request,
            exc.status_code,
            title,
            str(exc.detail),
            None,
            dict(exc.headers) if exc.headers else None,
        )
