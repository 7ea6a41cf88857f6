"""Who may call what: every route declares a scope in its ``opt``; one guard enforces it.

Scopes (``opt={"scope": …}``):

- ``public``  — no token (``/healthz``, ``/readyz``, the OpenAPI document);
- ``read`` < ``execute`` < ``admin`` — API tokens (``api_tokens``; a higher scope implies
  the lower ones);
- ``runner`` — only a run-scoped runner token (``db.runner_tokens``) whose run is the
  ``run_id`` in the path; any other token, even admin, is refused there, and a runner
  token is refused everywhere else.

A route without a scope is refused (fail closed) and ``tests/unit/test_api_routes.py``
fails on it. ``PROCTOR_AUTH=disabled`` lets everyone in, for local experiments only.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from api.context import context_of
from api.problems import UnsupportedMediaType
from api.services.errors import Forbidden, Unauthenticated
from api.services.tokens import ANONYMOUS, authenticate
from db import runner_tokens

SCOPES = frozenset({"public", "read", "execute", "admin", "runner"})


def _bearer(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    # A browser's EventSource cannot send headers: the event streams also take the token
    # as ?access_token= (read scope suffices there; keep such tokens read-only).
    if handler.opt.get("query_token") and (query := connection.query_params.get("access_token")):
        return str(query)
    raise Unauthenticated("send 'Authorization: Bearer <token>'")


async def require_scope(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    scope = handler.opt.get("scope")
    if scope not in SCOPES:
        raise Forbidden("this route declares no access scope, so nobody may call it")
    if scope == "public":
        return
    ctx = context_of(connection.app.state)
    if ctx.settings.auth == "disabled":
        connection.state.principal = ANONYMOUS
        return
    token = _bearer(connection, handler)
    if scope == "runner":
        key = await anyio.to_thread.run_sync(ctx.runner_key)
        claims = runner_tokens.verify(key, token)
        if claims is None:
            raise Unauthenticated("this route takes a run-scoped runner token")
        if claims.run_id != connection.path_params.get("run_id"):
            raise Forbidden("this runner token belongs to another run")
        connection.state.runner_attempt = claims.attempt
        return
    if runner_tokens.is_runner_token(token):
        raise Forbidden("a runner token only works on its own run's /api/runner/ routes")
    principal = await anyio.to_thread.run_sync(authenticate, ctx.engine, token)
    if principal is None:
        raise Unauthenticated("unknown or revoked token")
    if not principal.allows(scope):
        raise Forbidden(f"this token lacks the {scope!r} scope")
    connection.state.principal = principal


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def require_json_body(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """415 for a body in another format than JSON on a route that reads one.

    A body without a Content-Type is read as JSON (and answered 400 if it is not).
    """
    if "data" not in getattr(handler, "parsed_fn_signature", None).parameters:  # type: ignore[union-attr]
        return
    content_type = connection.headers.get("content-type")
    has_body = connection.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in connection.headers
    )
    if has_body and content_type and not _is_json(content_type):
        raise UnsupportedMediaType(
            detail=f"send the body as application/json, not {content_type.split(';')[0]}"
        )
