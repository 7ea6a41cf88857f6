"""The Litestar application: controllers, the scope guard, problem+json, the edge.

``create_app(settings, engine=None, store=None)`` is the one entry point (``proctor api``,
``proctor up``, the Lambda handler, tests). It builds nothing at import time: the engine
and the artifact store come from the settings unless the caller passes its own.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.pydantic import PydanticPlugin
from litestar.router import Router
from sqlalchemy import Engine

from api import tracing
from api.auth import require_json_body, require_scope
from api.context import AppContext, dependencies
from api.controllers.artifacts import ArtifactsController
from api.controllers.batches import BatchesController
from api.controllers.events import EventsController
from api.controllers.health import HealthController
from api.controllers.runner import RunnerController
from api.controllers.runs import RunsController
from api.controllers.test_sets import TestSetsController
from api.controllers.tokens import TokensController
from api.edge import EdgeMiddleware
from api.openapi import exact_document
from api.problems import EXCEPTION_HANDLERS
from artifacts.store import ArtifactStore, open_store
from config.settings import Settings
from db.engine import make_engine

CONTROLLERS = [
    HealthController,
    TestSetsController,
    RunsController,
    BatchesController,
    ArtifactsController,
    EventsController,
    RunnerController,
    TokensController,
]


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    store: ArtifactStore | None = None,
    events_poll_seconds: float = 1.0,
    opentelemetry_config: Any = None,
) -> Litestar:
    """The API. ``events_poll_seconds``: how often an open event stream reads the database.
    ``opentelemetry_config``: a ``litestar.plugins.opentelemetry.OpenTelemetryConfig``
    to trace requests (off by default unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set)."""
    ctx = AppContext(
        settings=settings,
        engine=engine or make_engine(settings.database_url),
        store=store or open_store(settings.artifacts_url),
        events_poll_seconds=events_poll_seconds,
    )
    openapi = OpenAPIConfig(
        title="Proctor API",
        version="1.0.0",
        description="Run browser test suites on demand and in batches. Errors are "
        "application/problem+json; every route but /healthz and /readyz takes "
        "'Authorization: Bearer <token>'.",
        render_plugins=[SwaggerRenderPlugin()],
        openapi_router=Router(path="/schema", route_handlers=[], opt={"scope": "public"}),
        use_handler_docstrings=True,
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API token (read, execute, admin) or, on /api/runner/, "
                    "the run's runner token.",
                )
            }
        ),
        security=[{"bearer": []}],
    )
    app = Litestar(
        route_handlers=CONTROLLERS,
        dependencies=dependencies(ctx),
        guards=[require_scope, require_json_body],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            DefineMiddleware(
                EdgeMiddleware,
                trusted_proxies=settings.trusted_proxies,
                allowed_hosts=settings.allowed_hosts,
            )
        ],
        cors_config=CORSConfig(
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "Last-Event-ID",
                "traceparent",
            ],
            allow_credentials=False,
        )
        if settings.cors_origins
        else None,
        request_max_body_size=settings.max_request_bytes,
        plugins=[PydanticPlugin(prefer_alias=True), *tracing.plugins(opentelemetry_config)],
        openapi_config=openapi,
        state=_state(ctx),
        debug=False,
    )
    _open_options_routes(app)
    exact_document(app)
    return app


def _open_options_routes(app: Litestar) -> None:
    """Litestar adds an OPTIONS handler to each path (it answers only ``Allow``); give it
    an explicit ``public`` scope so that every route in the table has one."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name == "options_handler" and "scope" not in handler.opt:
                handler.opt["scope"] = "public"


def _state(ctx: AppContext) -> Any:
    from litestar.datastructures import State

    return State({"proctor": ctx})
