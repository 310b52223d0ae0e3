"""One error shape for every answer that is not a success: `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError
from pydantic import BaseModel, Field

from connectors.exceptions import (
    ConnectionDisabled,
    DomainError,
    IdempotencyKeyReused,
    InvalidCursor,
    InvalidValue,
    MappingInvalid,
    MissingValue,
    NotFound,
    NothingToRetry,
    NothingToSync,
    QueueUnavailable,
    RequestInProgress,
    RunAlreadyActive,
    RunNotActive,
    RunStillActive,
    UnknownResource,
)

logger = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = Field(description="The request field at fault (camelCase, as sent), or null.")


class ErrorOut(BaseModel):
    error: ErrorDetail


class ApiProblem(Exception):
    """Raised by views and API services; becomes an error response with this status and code."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers: dict[str, str] = {}


def error_response(status: int, code: str, message: str, *, field: str | None = None) -> JsonResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JsonResponse(body, status=status)


# ----------------------------------------------------------------------------- domain errors


@dataclass(frozen=True)
class Answer:
    """How the API answers one kind of domain error: status, code, the field at fault, headers."""

    status: int
    code: str
    field: str | None = None
    # The domain message goes in at {}; most answers carry it as it is.
    message: str = "{}"
    headers: tuple[tuple[str, str], ...] = ()


# The one table from a refused request to its HTTP answer. The services raise domain errors
# (connectors.exceptions) and know nothing of HTTP; a subclass answers as its closest listed class.
DOMAIN_ANSWERS: dict[type[DomainError], Answer] = {
    DomainError: Answer(422, "request_refused"),
    UnknownResource: Answer(400, "unknown_resource", field="resources"),
    # The field at fault comes with the error itself (see _domain).
    InvalidValue: Answer(400, "invalid_field"),
    MissingValue: Answer(400, "missing_field"),
    InvalidCursor: Answer(400, "invalid_cursor"),
    NotFound: Answer(404, "not_found"),
    ConnectionDisabled: Answer(422, "connection_disabled"),
    NothingToSync: Answer(422, "nothing_to_sync", field="resources"),
    IdempotencyKeyReused: Answer(422, "idempotency_key_reused", field="Idempotency-Key"),
    MappingInvalid: Answer(422, "mapping_invalid"),
    NothingToRetry: Answer(422, "nothing_to_retry"),
    RunAlreadyActive: Answer(409, "run_in_progress"),
    RunStillActive: Answer(409, "run_in_progress"),
    RunNotActive: Answer(409, "run_not_active"),
    RequestInProgress: Answer(409, "request_in_progress"),
    # A condition of this deployment that passes: the client may try again later.
    QueueUnavailable: Answer(
        503, "queue_unavailable", message="The run was not started: {}.", headers=(("Retry-After", "30"),)
    ),
}


def domain_answer(exc: DomainError) -> Answer:
    return next(DOMAIN_ANSWERS[cls] for cls in type(exc).__mro__ if cls in DOMAIN_ANSWERS)


# Statuses each kind of operation can answer besides its success, for the OpenAPI document.
READ_ERRORS = (400, 401, 404, 413, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429, 503)


def error_responses(statuses: tuple[int, ...]) -> dict[int, type[ErrorOut]]:
    return dict.fromkeys(statuses, ErrorOut)


# ----------------------------------------------------------------------------- validation errors

_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def field_name(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """`("body", "payload", "resources", 0)` -> `resources[0]`; query and header names stay as sent."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and parts:
            parts.pop(0)  # the view's parameter name, not something the caller sent
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        elif str(part).startswith(("function-", "literal[", "union[", "nullable[")):
            continue  # pydantic's internal branch labels, meaningless to a caller
        else:
            name += f".{part}" if name else str(part)
    return name or None


def _validation_problem(errors: list[dict[str, Any]]) -> ApiProblem:
    first = errors[0] if errors else {"type": "value_error", "loc": (), "msg": "invalid request"}
    kind = first.get("type", "")
    field = field_name(first.get("loc", ()))
    msg = str(first.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return ApiProblem(400, "unknown_field", f"Unknown field '{field}'.", field=field)
    if kind == "missing" and field is None:
        return ApiProblem(400, "invalid_body", "The request needs a JSON object as its body.")
    if kind == "missing":
        return ApiProblem(400, "missing_field", f"'{field}' is required.", field=field)
    if field is None and kind in ("model_type", "model_attributes_type", "dict_type"):
        return ApiProblem(400, "invalid_body", "The request body must be a JSON object.")
    if kind == "literal_error" and field and field.startswith("resources"):
        expected = (first.get("ctx") or {}).get("expected", "")
        return ApiProblem(
            400, "unknown_resource", f"Unknown resource; expected one of {expected}.", field=field
        )
    prefix = f"{field}: " if field else ""
    return ApiProblem(400, "invalid_field", f"{prefix}{_sentence(msg)}", field=field)


def _sentence(msg: str) -> str:
    msg = msg.removeprefix("Value error, ")
    return msg if msg.endswith(".") else msg + "."


# ----------------------------------------------------------------------------- handlers


def _problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    response = error_response(exc.status, exc.code, exc.message, field=exc.field)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
    answer = domain_answer(exc)
    field = exc.field if isinstance(exc, InvalidValue) else answer.field
    response = error_response(answer.status, answer.code, answer.message.format(exc), field=field)
    for name, value in answer.headers:
        response[name] = value
    return response


def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _problem(request, _validation_problem(list(exc.errors)))


def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = (
        exc.message
        if exc.message != "Unauthorized"
        else (
            "Send an API token as 'Authorization: Bearer <token>' (create one in the admin under API tokens)."
        )
    )
    response = error_response(401, "unauthenticated", message)
    response["WWW-Authenticate"] = 'Bearer realm="tajo"'
    return response


def _forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return error_response(403, "forbidden", exc.message)


def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    wait = int(getattr(request, "_tajo_retry_after", None) or math.ceil(exc.wait or 1))
    response = error_response(429, "rate_limited", f"Too many requests with this token; retry in {wait} s.")
    response["Retry-After"] = str(wait)
    return response


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja raises HttpError(400, "Cannot parse request body") for malformed JSON.
    if exc.status_code == 400:
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc))


def _http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", "Not found.")


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged with its traceback (secrets are masked by the logging filter); the caller gets no detail.
    logger.exception("API request %s %s failed", request.method, request.path)
    return error_response(500, "internal_error", "Tajo could not complete the request; it has been logged.")


def install_handlers(api: NinjaAPI) -> None:
    api.add_exception_handler(ApiProblem, _problem)
    api.add_exception_handler(DomainError, _domain)
    api.add_exception_handler(ValidationError, _validation)
    api.add_exception_handler(AuthenticationError, _unauthenticated)
    api.add_exception_handler(AuthorizationError, _forbidden)
    api.add_exception_handler(Throttled, _throttled)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(Http404, _http404)
    api.add_exception_handler(Exception, _unexpected)
