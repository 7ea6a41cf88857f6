"""OpenTelemetry set-up shared by the API, the controller and the runner.

One run is one trace: the API stores the W3C ``traceparent`` of the request that created
the run, the controller continues it when it launches the runner (``TRACEPARENT`` in the
runner's environment), and the runner opens its scenario and step spans under it.

Exporting is opt-in and standard: when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set, spans go there over OTLP/HTTP; otherwise the
API's no-op tracer costs nothing. Tests inject their own provider (an in-memory exporter)
instead of patching globals.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


def configure_tracing(service_name: str, env: Mapping[str, str] | None = None) -> bool:
    """Install an SDK tracer provider exporting OTLP/HTTP when the environment asks for it."""
    env = os.environ if env is None else env
    if not (
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        return False
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", service_name)})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True


def shutdown_tracing() -> None:
    """Flush spans before a process exits (the runner's last steps must not be lost)."""
    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if callable(shutdown):
        shutdown()


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, to store or pass on."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> Context:
    """A context whose parent is the given traceparent (an empty one when None/invalid)."""
    return _PROPAGATOR.extract({"traceparent": traceparent} if traceparent else {})
