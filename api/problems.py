"""Every error leaves the API as ``application/problem+json`` (RFC 9457), from here.

Services raise the domain errors of ``api.services.errors``; Litestar raises its own
``HTTPException``s (unknown route 404, 405, 413 body too large, 400 validation); anything
else is a bug and becomes a 500 whose body says only that — the stack trace goes to the
log, never to the client. ``problem_responses`` documents the same shape in OpenAPI.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DataError

from api.services.errors import ServiceError
from schemas.states import TransitionError

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details; some problems add members (``errors``, ``currentStatus``)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class UnsupportedMediaType(HTTPException):
    status_code = 415


def problem(
    request: Request[Any, Any, Any] | None,
    status: int,
    detail: str | None,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
    body.update({key: value for key, value in extra.items() if value is not None})
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="proctor"'}
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _service_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    return problem(request, exc.status, exc.detail, title=exc.title, **exc.extra)


def _transition_error(request: Request[Any, Any, Any], exc: TransitionError) -> Response[Any]:
    return problem(
        request, 409, exc.reason, currentStatus=exc.current.value, targetStatus=exc.target.value
    )


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    return problem(request, 400, exc.detail or "the request is not valid", errors=errors)


def _pydantic_error(request: Request[Any, Any, Any], exc: PydanticValidationError) -> Response[Any]:
    errors = [
        {"loc": list(err["loc"]), "message": err["msg"]} for err in exc.errors(include_url=False)
    ]
    return problem(request, 422, "the request is not valid", errors=errors)


def _data_error(request: Request[Any, Any, Any], exc: DataError) -> Response[Any]:
    log.info("database refused a value on %s: %s", request.url.path, exc.orig)
    return problem(
        request, 422, "a value cannot be stored (for example, it contains a NUL character)"
    )


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    if exc.status_code >= 500:
        log.error("HTTP %s on %s: %s", exc.status_code, request.url.path, exc.detail)
        detail = None
    return problem(request, exc.status_code, detail, headers=exc.headers)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, 500, "an unexpected error occurred; it has been logged")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ServiceError: _service_error,
    TransitionError: _transition_error,
    ValidationException: _validation_error,
    PydanticValidationError: _pydantic_error,
    DataError: _data_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}

_DESCRIPTIONS = {
    400: "Malformed request: not JSON, or parameters/body that fail validation",
    401: "No or unknown bearer token",
    403: "The token lacks the scope, or a runner token for another run or attempt",
    404: "No such resource",
    409: "The resource's state does not allow it",
    413: "Request body larger than the configured limit",
    415: "Body is not application/json",
    422: "Well-formed but unacceptable request",
    503: "A dependency is not available",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems a route can answer with."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=MEDIA_TYPE,
            description=_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            generate_examples=False,
        )
        for status in statuses
    }
