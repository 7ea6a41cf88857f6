"""Every route of the app declares an access scope; the pure helpers of the edge."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.app import create_app
from api.auth import SCOPES
from api.edge import forwarded_client, host_allowed, parse_networks
from api.services.errors import Unprocessable
from api.services.events import Cursor
from api.services.runs import decode_cursor, encode_cursor
from api.services.tokens import ANONYMOUS, Principal
from config.settings import Settings


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_app(Settings(home=tmp_path))


def test_every_route_has_an_explicit_scope(tmp_path: Path) -> None:
    app = _app(tmp_path)
    missing = [
        (route.path, sorted(handler.http_methods))
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.opt.get("scope") not in SCOPES
    ]
    assert missing == []


def test_only_health_and_the_openapi_document_are_public(tmp_path: Path) -> None:
    app = _app(tmp_path)
    public = {
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.opt.get("scope") == "public" and handler.http_methods != {"OPTIONS"}
    }
    assert public == {"/healthz", "/readyz"} | {p for p in public if p.startswith("/schema")}


def test_runner_scope_is_exactly_the_runner_routes(tmp_path: Path) -> None:
    app = _app(tmp_path)
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.http_methods == {"OPTIONS"}:
                continue
            is_runner_path = route.path.startswith("/api/runner/")
            assert (handler.opt["scope"] == "runner") == is_runner_path, route.path


@pytest.mark.parametrize(
    ("granted", "needed", "allowed"),
    [
        ({"read"}, "read", True),
        ({"read"}, "execute", False),
        ({"execute"}, "read", True),
        ({"execute"}, "admin", False),
        ({"admin"}, "execute", True),
        ({"admin"}, "read", True),
        (set(), "read", False),
    ],
)
def test_scopes_nest(granted: set[str], needed: str, allowed: bool) -> None:
    assert Principal("t", frozenset(granted)).allows(needed) is allowed
    assert ANONYMOUS.allows(needed)


def test_forwarded_client_is_the_rightmost_untrusted_hop() -> None:
    proxies = parse_networks(["10.0.0.0/8", "192.168.1.1"])
    assert forwarded_client("203.0.113.9, 10.1.2.3", proxies) == "203.0.113.9"
    assert forwarded_client("1.1.1.1, 203.0.113.9, 192.168.1.1", proxies) == "203.0.113.9"
    assert forwarded_client("10.0.0.1", proxies) == "10.0.0.1"


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("api.example.com", ["api.example.com"], True),
        ("api.example.com:8443", ["api.example.com"], True),
        ("evil.test", ["api.example.com"], False),
        ("x.example.com", ["*.example.com"], True),
        ("example.com.evil.test", ["*.example.com"], False),
        ("anything", [], True),
    ],
)
def test_host_allowed(host: str, allowed: list[str], ok: bool) -> None:
    assert host_allowed(host, allowed) is ok


def test_run_list_cursor_round_trips_and_rejects_garbage() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 1, 2, 3, 4, 5, 6789, tzinfo=UTC)
    assert decode_cursor(encode_cursor(when, "abc")) == (when, "abc")
    for bad in ("!!!", "bm90LWEtZGF0ZXxhYmM=", ""):
        with pytest.raises(Unprocessable):
            decode_cursor(bad)


def test_events_cursor_parses_last_event_id() -> None:
    assert Cursor.parse("12.7") == Cursor(12, 7)
    assert str(Cursor(3, 4)) == "3.4"
    assert Cursor.parse(None) == Cursor() == Cursor.parse("junk")


def test_services_do_not_import_the_web_framework() -> None:
    """api/services is usable from the CLI and tests without Litestar (STYLE.md, 7)."""
    import ast

    services = Path(__file__).resolve().parents[2] / "api" / "services"
    offenders = []
    for module in services.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{module.name}: {n}" for n in names if n.split(".")[0] == "litestar"]
    assert offenders == []
