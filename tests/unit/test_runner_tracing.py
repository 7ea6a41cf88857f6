"""The runner's spans: one for the run under the launcher's traceparent, one per scenario
and per step, failures marked; read from an in-memory exporter (no global provider)."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tests.runner_fixtures import make_job, run_here

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

FEATURE = """\
Feature: Traced
  Scenario: works
    When I run "true"
    Then the command should succeed

  Scenario: breaks
    When I run "false"
    Then the command should succeed
"""


def test_spans_continue_the_runs_trace(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    job = make_job({"traced.feature": FEATURE}).model_copy(update={"traceparent": PARENT})

    outcome, _, _ = run_here(job, tmp_path, tracer=provider.get_tracer("test"))

    assert outcome.exit_code == 1
    spans = {span.name: span for span in exporter.get_finished_spans()}
    root = spans["proctor.runner"]
    assert f"{root.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert root.parent is not None and f"{root.parent.span_id:016x}" == "b7ad6b7169203331"
    assert root.attributes is not None and root.attributes["proctor.exit_code"] == 1
    works, breaks = spans["scenario works"], spans["scenario breaks"]
    assert works.parent is not None and works.parent.span_id == root.context.span_id
    assert works.status.status_code != StatusCode.ERROR
    assert breaks.status.status_code == StatusCode.ERROR
    step_spans = [s for s in exporter.get_finished_spans() if s.name.startswith(("When", "Then"))]
    assert len(step_spans) == 4
    failed = [s for s in step_spans if s.status.status_code == StatusCode.ERROR]
    assert [s.name for s in failed] == ["Then the command should succeed"]
    assert failed[0].parent is not None and failed[0].parent.span_id == breaks.context.span_id
