"""The API behind a corporate proxy: whose ``X-Forwarded-*`` to believe, which hosts to serve.

``X-Forwarded-For/Proto/Host`` are honoured only when the TCP peer is one of
``PROCTOR_TRUSTED_PROXIES`` (addresses or networks); from anyone else they are ignored,
so a client cannot claim another address or scheme. The client address is the right-most
``X-Forwarded-For`` entry that is not itself a trusted proxy. Then the (possibly
forwarded) Host must match ``PROCTOR_ALLOWED_HOSTS`` (``*.example.com`` allowed), when set.
A plain ASGI middleware, so it behaves the same under uvicorn and under a Lambda adapter.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def _trusted(address: str | None, networks: Sequence[Network]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def forwarded_client(header: str, networks: Sequence[Network]) -> str | None:
    """The right-most address in X-Forwarded-For that is not a trusted proxy."""
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else None


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    if not allowed or "*" in allowed:
        return True
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
        if name == pattern:
            return True
    return False


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str], allowed_hosts: Sequence[str]):
        self.app = app
        self.networks = parse_networks(trusted_proxies)
        self.allowed_hosts = list(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = [(k.lower(), v) for k, v in scope["headers"]]
        client = scope.get("client")
        if self.networks and client and _trusted(client[0], self.networks):
            found = {k: v.decode("latin-1") for k, v in headers}
            scope = dict(scope)  # type: ignore[assignment]
            if xff := found.get(b"x-forwarded-for"):
                address = forwarded_client(xff, self.networks)
                if address:
                    scope["client"] = (address, 0)
            if proto := found.get(b"x-forwarded-proto"):
                proto = proto.split(",")[0].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = (
                        proto if scope["type"] == "http" else ("wss" if proto == "https" else "ws")
                    )
            if forwarded_host := found.get(b"x-forwarded-host"):
                forwarded_host = forwarded_host.split(",")[0].strip()
                headers = [(k, v) for k, v in headers if k != b"host"]
                headers.append((b"host", forwarded_host.encode("latin-1")))
                scope["headers"] = headers
        host = next((v.decode("latin-1") for k, v in headers if k == b"host"), "")
        if self.allowed_hosts and not host_allowed(host, self.allowed_hosts):
            await _reject(send, 400, f"host {host!r} is not served here")
            return
        await self.app(scope, receive, send)


async def _reject(send: Send, status: int, detail: str) -> None:
    body = json.dumps(
        {"type": "about:blank", "title": "Bad Request", "status": status, "detail": detail}
    ).encode()
    start: Any = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    end: Any = {"type": "http.response.body", "body": body}
    await send(end)
