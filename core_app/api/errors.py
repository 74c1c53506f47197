"""One JSON error body for every refusal: {"error": code, "message": ..., "request_id": ...}.
Messages name ids and rules, never patient data: quoted input is redacted."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from core_app.domain.exceptions import DomainError

log = logging.getLogger("dentops.api")

#: HTTP status of each domain error code; anything else is a 422
STATUS_BY_CODE = {
    "invalid_input": 422,
    "not_found": 404,
    "slot_unavailable": 409,
    "illegal_transition": 409,
    "overbook_refused": 409,
    "idempotency_conflict": 422,
    "permission_denied": 403,
    "authentication_failed": 401,
    "totp_required": 401,
    "totp_enrolment_required": 401,
    "session_invalid": 401,
    "unauthenticated": 401,
    "account_locked": 429,
    "busy": 503,
    "invalid_signature": 400,
    "processor_error": 502,
}

DESCRIPTIONS = {
    400: "The request was refused (e.g. a webhook whose signature does not check out).",
    401: "Not signed in, or the session expired or was revoked.",
    403: "The role may not do this.",
    404: "No such record (or it belongs to another clinic).",
    405: "The method is not allowed here.",
    409: "A business rule conflicts (slot taken, illegal status change).",
    422: "The input breaks a rule or the schema; an idempotency key reused for other content.",
    429: "Too many failed sign-ins: locked for a while.",
    502: "The card processor refused or could not be reached.",
    503: "The database stayed busy; try again.",
}

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_BIRTH = re.compile(r"birth date \S+")


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: str = Field(description="A stable machine-readable code, e.g. `slot_unavailable`.")
    message: str = Field(description="What went wrong, in words (never patient data).")
    request_id: str = Field(description="The X-Request-ID of this request, for support.")


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def redact(message: str) -> str:
    return _BIRTH.sub("birth date <redacted>", _QUOTED.sub("<redacted>", message))


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses."""
    return {s: {"model": ErrorBody, "description": DESCRIPTIONS[s]} for s in statuses}


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def body(
    request: Request, status: int, code: str, message: str, headers: dict[str, str]
) -> JSONResponse:
    content = ErrorBody(error=code, message=message, request_id=request_id_of(request))
    return JSONResponse(content.model_dump(), status_code=status, headers=headers)


def install_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return body(request, error.status, error.code, error.message, error.headers)

    @api.exception_handler(DomainError)
    async def _domain_error(request: Request, error: DomainError) -> JSONResponse:
        status = STATUS_BY_CODE.get(error.code, 422)
        headers = {}
        retry = getattr(error, "retry_after_s", None)
        if retry is not None:
            headers["Retry-After"] = str(retry)
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return body(request, status, error.code, redact(str(error)), headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        # locations and rule names only: pydantic's messages can quote the input
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('type', 'invalid')}"
            for e in error.errors()[:10]
        ]
        return body(request, 422, "invalid_input", "; ".join(problems), {})

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return body(request, error.status_code, code, str(error.detail), dict(error.headers or {}))

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # the type only: an exception's text may carry data
        log.error("unhandled %s (request %s)", type(error).__name__, request_id_of(request))
        return body(request, 500, "internal_error", "the server failed; quote the request id", {})
