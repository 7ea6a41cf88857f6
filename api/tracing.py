"""OpenTelemetry for the API: off by default, one place to turn it on.

Tracing is on when ``create_app`` gets an ``OpenTelemetryConfig`` (tests pass one with an
in-memory provider) or when the environment configures an OTLP exporter
(``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``…_TRACES_ENDPOINT``; ``config.tracing`` installs the
provider at the entry point). A new run keeps the W3C ``traceparent`` of the request that
made it — the caller's header, else the API's own request span — in ``trace_context``,
so the controller and the runner continue the same trace.
"""

from __future__ import annotations

import os
from typing import Any

from config.tracing import current_traceparent


def _exporting() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def plugins(config: Any) -> list[Any]:
    """The Litestar OpenTelemetry plugin when tracing is asked for, else nothing."""
    if config is None and not _exporting():
        return []
    from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

    return [OpenTelemetryPlugin(config or OpenTelemetryConfig())]


def traceparent(header: str | None) -> str | None:
    """The caller's traceparent, else the current span's (None when nothing is traced)."""
    return header or current_traceparent()
