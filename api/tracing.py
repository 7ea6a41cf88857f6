"""OpenTelemetry for the API: off by default, one place to turn it on.

Tracing is on when ``create_app`` gets an ``OpenTelemetryConfig`` (tests pass one with an
in-memory exporter) or when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the OTel SDK's own
variable; the lead wires the exporter). A new run keeps the W3C ``traceparent`` of the
request that made it — the caller's header, else the API's own request span — in
``trace_context``, so the controller and the runner continue the same trace.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import propagate


def plugins(config: Any) -> list[Any]:
    """The Litestar OpenTelemetry plugin when tracing is asked for, else nothing."""
    if config is None and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return []
    from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

    return [OpenTelemetryPlugin(config or OpenTelemetryConfig())]


def traceparent(header: str | None) -> str | None:
    """The caller's traceparent, else the current span's (None when nothing is traced)."""
    if header:
        return header
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
