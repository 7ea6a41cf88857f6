"""The HTTP reporter against httpx.MockTransport: batching, retries, permanent errors, cancel."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from runner.reporter import HttpReporter, JobFetchError
from schemas.models import ArtifactReport, Counts, RunnerResult, StepReport, Summary
from tests.runner_fixtures import make_job


def _step(seq: int) -> StepReport:
    return StepReport(
        attempt=1,
        seq=seq,
        feature="a.feature",
        scenario="s",
        line=seq,
        keyword="Given",
        text=f"step {seq}",
        status="passed",
    )


class Api:
    """A scripted API: answers by path, records what was delivered to it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.failures_left = 0
        self.status_for_steps = 204
        self.cancel = False
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer r1.run-1.1.mac"
        path = request.url.path.removeprefix("/api/runner/runs/run-1")
        body = json.loads(request.content) if request.content else None
        with self.lock:
            if request.method == "GET":
                job = make_job({"a.feature": "Feature: A\n"})
                return httpx.Response(200, json=job.model_dump(mode="json", by_alias=True))
            if self.failures_left > 0:
                self.failures_left -= 1
                raise httpx.ConnectError("connection refused")
            self.calls.append((f"{request.method} {path}", body))  # delivered
            if path == "/heartbeat":
                return (
                    httpx.Response(200, json={"cancel": True})
                    if self.cancel
                    else (httpx.Response(204))
                )
            if path == "/steps":
                return httpx.Response(self.status_for_steps)
            return httpx.Response(204)

    def posted(self, path: str) -> list[object]:
        with self.lock:
            return [body for call, body in self.calls if call == f"POST {path}"]


def _reporter(api: Api, **kwargs: Any) -> tuple[HttpReporter, list[str]]:
    lines: list[str] = []
    reporter = HttpReporter(
        "http://api.test",
        "run-1",
        "r1.run-1.1.mac",
        log=lines.append,
        transport=httpx.MockTransport(api),
        **kwargs,
    )  # type: ignore[arg-type]
    return reporter, lines


def test_fetch_job_retries_transient_failures_then_gives_up() -> None:
    api = Api()
    reporter, _ = _reporter(api)
    job = reporter.fetch_job(sleep=lambda _: None)
    assert job.run_id == "run-1"

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    down = HttpReporter(
        "http://api.test", "run-1", "t", log=lambda _: None, transport=httpx.MockTransport(refused)
    )
    try:
        down.fetch_job(deadline_s=0.0, sleep=lambda _: None)
        raise AssertionError("expected JobFetchError")
    except JobFetchError as err:
        assert "ConnectError" in str(err)


def test_fetch_job_does_not_retry_a_forbidden_token() -> None:
    calls = []

    def forbidden(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(403, json={"detail": "wrong run"})

    reporter = HttpReporter(
        "http://api.test",
        "run-1",
        "t",
        log=lambda _: None,
        transport=httpx.MockTransport(forbidden),
    )
    try:
        reporter.fetch_job(sleep=lambda _: None)
        raise AssertionError("expected JobFetchError")
    except JobFetchError as err:
        assert "403" in str(err)
    assert len(calls) == 1


def test_reports_survive_an_outage_in_order_and_the_result_comes_last() -> None:
    api = Api()
    api.failures_left = 3  # the first heartbeat and two more calls fail
    reporter, lines = _reporter(api)
    reporter.start(1)
    for seq in range(1, 6):
        reporter.step(_step(seq))
    reporter.artifacts(
        [
            ArtifactReport(
                attempt=1,
                kind="log",
                key="runs/run-1/attempt-1/runner.log",
                content_type="text/plain",
                size=3,
            )
        ]
    )
    reporter.result(
        RunnerResult(attempt=1, exit_code=0, summary=Summary(scenarios=Counts(passed=1)))
    )
    assert reporter.close(timeout_s=20)
    sent = [report["seq"] for batch in api.posted("/steps") for report in batch]  # type: ignore[attr-defined]
    assert sent == [1, 2, 3, 4, 5]
    order = [call for call, _ in api.calls if call != "POST /heartbeat"]
    assert order[-1] == "POST /result" and order[-2] == "POST /artifacts"
    assert any("unreachable" in line for line in lines)
    assert any("reachable again" in line for line in lines)


def test_a_rejected_report_is_dropped_not_retried_forever() -> None:
    api = Api()
    api.status_for_steps = 409
    reporter, lines = _reporter(api)
    reporter.start(1)
    reporter.step(_step(1))
    reporter.result(RunnerResult(attempt=1, exit_code=0, summary=Summary()))
    assert reporter.close(timeout_s=5) is False  # something was lost, and it says so
    assert len(api.posted("/steps")) == 1 and len(api.posted("/result")) == 1
    assert any("rejected with 409" in line for line in lines)


def test_close_gives_up_at_its_deadline_when_the_api_stays_down() -> None:
    api = Api()
    api.failures_left = 10_000
    reporter, _ = _reporter(api)
    reporter.start(1)
    reporter.step(_step(1))
    started = time.monotonic()
    assert reporter.close(timeout_s=0.5) is False
    assert time.monotonic() - started < 5


def test_a_cancel_answer_calls_on_cancel_once() -> None:
    api = Api()
    api.cancel = True
    cancelled = threading.Event()
    reporter, _ = _reporter(api, on_cancel=cancelled.set, heartbeat_interval_s=0.01)
    reporter.start(1)  # the first heartbeat is synchronous
    assert cancelled.is_set() and reporter.cancel_requested
    reporter.close(timeout_s=1)
