"""How a runner tells the API what happens: step reports, heartbeats, artifacts, the result.

The executor only sees the ``Reporter`` protocol, so it runs the same against the API
(``HttpReporter``) and in tests (``MemoryReporter``). ``HttpReporter`` never blocks a
step: reports go into an ordered outbox that a background thread sends, batching
consecutive step reports. When the API is unreachable the thread keeps the outbox and
retries with backoff; the run goes on, and the uploaded artifacts carry the full result
anyway (the controller's verdict is exit code + cucumber.json). The same thread sends a
heartbeat every few seconds; an answer of ``{"cancel": true}`` calls ``on_cancel`` — the
runner stops as if it had received SIGTERM.

Answers are sorted at the boundary by status code:

    2xx            delivered
    408, 429, 5xx  transient: keep it, retry after a delay
    network error  transient
    other 4xx      permanent (wrong token, run finished): drop it, log why
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from schemas.models import ArtifactReport, Heartbeat, RunnerJob, RunnerResult, StepReport


class Reporter(Protocol):
    def step(self, report: StepReport) -> None: ...

    def artifacts(self, reports: list[ArtifactReport]) -> None: ...

    def result(self, result: RunnerResult) -> None: ...

    def close(self, timeout_s: float) -> bool:
        """Deliver what is pending within ``timeout_s``; True when nothing was lost."""
        ...


@dataclass
class MemoryReporter:
    """Keeps everything in lists, for tests and for runs without an API."""

    steps: list[StepReport] = field(default_factory=list)
    artifact_reports: list[ArtifactReport] = field(default_factory=list)
    results: list[RunnerResult] = field(default_factory=list)
    on_step: Callable[[StepReport], None] | None = None

    def step(self, report: StepReport) -> None:
        self.steps.append(report)
        if self.on_step:
            self.on_step(report)

    def artifacts(self, reports: list[ArtifactReport]) -> None:
        self.artifact_reports.extend(reports)

    def result(self, result: RunnerResult) -> None:
        self.results.append(result)

    def close(self, timeout_s: float) -> bool:
        return True


class JobFetchError(Exception):
    """The runner could not get its job (the run cannot start: exit 2)."""


def _transient(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


def _json(model: Any) -> Any:
    if isinstance(model, list):
        return [item.model_dump(mode="json", by_alias=True) for item in model]
    return model.model_dump(mode="json", by_alias=True)


class HttpReporter:
    """Reports to ``{api_url}/api/runner/runs/{run_id}/…`` with the run-scoped token."""

    def __init__(
        self,
        api_url: str,
        run_id: str,
        token: str,
        *,
        log: Callable[[str], None],
        on_cancel: Callable[[], None] | None = None,
        heartbeat_interval_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        request_timeout_s: float = 10.0,
    ) -> None:
        self.base = f"{api_url.rstrip('/')}/api/runner/runs/{run_id}"
        self.log = log
        self.on_cancel = on_cancel
        self.heartbeat_interval_s = heartbeat_interval_s
        self.attempt: int | None = None
        self._client = httpx.Client(
            headers={"Authorization": f"Bearer {token}"},
            timeout=request_timeout_s,
            transport=transport,
        )
        self._outbox: deque[tuple[str, Any]] = deque()
        self._lock = threading.Condition()
        self._closing = False
        self._close_deadline = 0.0
        self._close_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._down_since: float | None = None
        self.cancel_requested = False
        self.dropped = 0

    # ----- before the run --------------------------------------------------------------

    def fetch_job(
        self, *, deadline_s: float = 60.0, sleep: Callable[[float], None] = time.sleep
    ) -> RunnerJob:
        """GET the job, retrying transient failures until ``deadline_s`` has passed."""
        give_up = time.monotonic() + deadline_s
        delay = 0.5
        while True:
            try:
                response = self._client.get(self.base)
                if response.status_code == 200:
                    return RunnerJob.model_validate(response.json())
                if not _transient(response.status_code):
                    raise JobFetchError(
                        f"GET {self.base} answered {response.status_code}: {response.text[:500]}"
                    )
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as err:
                problem = f"{type(err).__name__}: {err}"
            if time.monotonic() + delay > give_up:
                raise JobFetchError(f"GET {self.base} failed until the deadline: {problem}")
            self.log(f"fetching the job failed ({problem}); retrying in {delay:.1f} s")
            sleep(delay)
            delay = min(delay * 2, 5.0)

    def start(self, attempt: int) -> None:
        """Send the first heartbeat now (a run cancelled before it starts runs nothing),
        then keep reporting from a background thread."""
        self.attempt = attempt
        self._heartbeat()
        self._thread = threading.Thread(target=self._loop, name="proctor-reporter", daemon=True)
        self._thread.start()

    # ----- the Reporter protocol -------------------------------------------------------

    def _put(self, path: str, body: Any) -> None:
        with self._lock:
            self._outbox.append((path, body))
            self._lock.notify()

    def step(self, report: StepReport) -> None:
        self._put("/steps", _json(report))

    def artifacts(self, reports: list[ArtifactReport]) -> None:
        if reports:
            self._put("/artifacts", _json(reports))

    def result(self, result: RunnerResult) -> None:
        self._put("/result", _json(result))

    def close(self, timeout_s: float) -> bool:
        with self._lock:
            self._closing = True
            self._close_deadline = time.monotonic() + timeout_s
            self._lock.notify()
        self._close_event.set()
        if self._thread is not None:
            self._thread.join(timeout_s + 1.0)
        with self._lock:
            lost = len(self._outbox)
        if lost:
            self.log(f"{lost} report(s) could not be delivered to the API before exiting")
        self._client.close()
        return lost == 0 and self.dropped == 0

    # ----- the background thread -------------------------------------------------------

    def _next_batch(self) -> tuple[str, Any] | None:
        """The outbox's head; consecutive step reports are merged into one POST."""
        if not self._outbox:
            return None
        path, body = self._outbox[0]
        if path != "/steps":
            return path, body
        merged: list[Any] = []
        for item_path, item_body in self._outbox:
            if item_path != "/steps" or len(merged) >= 200:
                break
            merged.append(item_body)
        return "/steps", merged

    def _send(self, path: str, body: Any) -> str:
        """'ok', 'retry' or 'drop'."""
        try:
            response = self._client.post(self.base + path, json=body)
        except httpx.HTTPError as err:
            self._note_down(f"{type(err).__name__}: {err}")
            return "retry"
        if response.status_code < 300:
            if self._down_since is not None:
                outage = time.monotonic() - self._down_since
                self.log(f"the API is reachable again after {outage:.1f} s")
                self._down_since = None
            return "ok"
        if _transient(response.status_code):
            self._note_down(f"HTTP {response.status_code}")
            return "retry"
        self.log(f"POST {path} rejected with {response.status_code}: {response.text[:300]}")
        return "drop"

    def _note_down(self, problem: str) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self.log(f"the API is unreachable ({problem}); buffering reports and retrying")

    def _heartbeat(self) -> None:
        assert self.attempt is not None
        try:
            response = self._client.post(
                self.base + "/heartbeat", json=_json(Heartbeat(attempt=self.attempt))
            )
        except httpx.HTTPError as err:
            self._note_down(f"{type(err).__name__}: {err}")
            return
        if response.status_code == 200:
            try:
                cancel = bool(response.json().get("cancel"))
            except ValueError:
                cancel = False
            if cancel and not self.cancel_requested:
                self.cancel_requested = True
                self.log("the API asks this run to stop (cancelled)")
                if self.on_cancel:
                    self.on_cancel()

    def _loop(self) -> None:
        next_heartbeat = time.monotonic() + self.heartbeat_interval_s
        delay = 0.25
        while True:
            now = time.monotonic()
            if not self._closing and now >= next_heartbeat:
                self._heartbeat()
                next_heartbeat = now + self.heartbeat_interval_s
            with self._lock:
                batch = self._next_batch()
                if batch is None:
                    if self._closing:
                        return
                    self._lock.wait(timeout=max(0.0, next_heartbeat - time.monotonic()))
                    continue
                if self._closing and time.monotonic() >= self._close_deadline:
                    return
            outcome = self._send(*batch)
            with self._lock:
                if outcome in ("ok", "drop"):
                    count = len(batch[1]) if batch[0] == "/steps" else 1
                    for _ in range(count):
                        self._outbox.popleft()
                    if outcome == "drop":
                        self.dropped += count
                    delay = 0.25
                    continue
                wait = delay
                if self._closing:
                    wait = min(wait, max(0.0, self._close_deadline - time.monotonic()))
            # Transient: back off (new reports do not wake us; closing does), retry the head.
            if self._closing:
                time.sleep(wait)
            else:
                self._close_event.wait(wait)
            delay = min(delay * 2, 5.0)
