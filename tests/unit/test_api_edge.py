"""EdgeMiddleware on plain ASGI scopes: X-Forwarded-* believed only from trusted proxies,
and the Host checked after forwarding is applied."""

from __future__ import annotations

import asyncio
from typing import Any

from api.edge import EdgeMiddleware


def _call(
    scope_overrides: dict[str, Any], headers: dict[str, str], **config: Any
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    seen: dict[str, Any] = {}
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "scheme": "http",
        "client": ("10.0.0.5", 4000),
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        **scope_overrides,
    }
    middleware = EdgeMiddleware(app, config.get("trusted", []), config.get("hosts", []))
    asyncio.run(middleware(scope, receive, send))  # type: ignore[arg-type]
    return (seen or None), sent


FORWARDED = {
    "host": "internal:8000",
    "x-forwarded-for": "203.0.113.7, 10.0.0.9",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "proctor.example.com",
}


def test_forwarded_headers_from_a_trusted_proxy_are_applied() -> None:
    scope, _ = _call({}, FORWARDED, trusted=["10.0.0.0/8"])
    assert scope is not None
    assert scope["client"] == ("203.0.113.7", 0)
    assert scope["scheme"] == "https"
    assert (b"host", b"proctor.example.com") in scope["headers"]


def test_forwarded_headers_from_anyone_else_are_ignored() -> None:
    scope, _ = _call({"client": ("198.51.100.1", 5000)}, FORWARDED, trusted=["10.0.0.0/8"])
    assert scope is not None
    assert scope["client"] == ("198.51.100.1", 5000) and scope["scheme"] == "http"
    assert (b"host", b"internal:8000") in scope["headers"]
    no_proxies, _ = _call({}, FORWARDED)
    assert no_proxies is not None and no_proxies["scheme"] == "http"


def test_hosts_are_checked_after_forwarding() -> None:
    scope, _ = _call({}, FORWARDED, trusted=["10.0.0.5"], hosts=["proctor.example.com"])
    assert scope is not None
    rejected, sent = _call({}, FORWARDED, hosts=["proctor.example.com"])
    assert rejected is None
    assert sent[0]["status"] == 400
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
