"""Fixtures and fakes for the runner's tests (loaded as a pytest plugin by tests/conftest.py).

- ``pages_url``: the pages of tests/fixtures/pages served on 127.0.0.1 by http.server.
- ``chromium``: one real Chromium per test module; in-process runs share it (a runner
  process has one browser too), so the suite does not pay a launch per test.
- ``FakeRunnerApi``: the five runner endpoints of the API on loopback, recording what the
  runner sends; it can answer 503 (API down) or ask the run to cancel.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from artifacts.store import LocalStore
from config.browser import CHROMIUM_ARGS, browser_executable
from config.settings import Settings
from runner.browser import BrowserOptions
from runner.execute import Outcome, RunOptions, run_job
from runner.reporter import MemoryReporter
from schemas.models import FeatureFile, RunnerJob

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = FIXTURES / "pages"
SCHEMA = FIXTURES / "cucumber-json-schema" / "cucumber-jvm.json"


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server:
    def __init__(self, handler: Any) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def pages_url() -> Iterator[str]:
    server = _Server(partial(_QuietFiles, directory=str(PAGES)))
    yield server.url
    server.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    # Module scope, not session: while this Playwright runs, no other code in the process
    # can start the sync API (the PDF renderer's tests do), so it must not outlive a module.
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=browser_executable(Settings()), args=list(CHROMIUM_ARGS)
    )
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def cucumber_schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text())  # type: ignore[no-any-return]


def make_job(
    features: dict[str, str],
    *,
    base_url: str = "",
    tags: str | None = None,
    run_id: str = "run-1",
    attempt: int = 1,
) -> RunnerJob:
    return RunnerJob(
        run_id=run_id,
        attempt=attempt,
        test_set_id="checkout",
        base_url=base_url,
        tags=tags,
        features=[FeatureFile(path=path, content=text) for path, text in features.items()],
        timeout_seconds=600,
        artifacts_prefix=f"runs/{run_id}/attempt-{attempt}/",
    )


class FakeRunnerApi:
    """The runner ⇄ API contract on loopback, recording every call."""

    def __init__(self, job: RunnerJob, token: str | None = None) -> None:
        self.job = job
        self.token = token or f"r1.{job.run_id}.{job.attempt}.mac"
        self.steps: dict[int, dict[str, Any]] = {}  # by seq: re-sent reports are ignored
        self.artifacts: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self.heartbeats = 0
        self.cancel = False
        self.down = False  # answer 503 to everything but the job
        self.rejected = 0  # 503s answered while down
        self.lock = threading.Lock()
        self.server = _Server(self._handler())

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.close()

    def __enter__(self) -> FakeRunnerApi:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _handler(self) -> type:
        api = self
        base = f"/api/runner/runs/{self.job.run_id}"

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {api.token}":
                    self._answer(403, {"detail": "not this run's token"})
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorized():
                    return
                if self.path != base:
                    self._answer(404, {"detail": "no such run"})
                    return
                self._answer(200, api.job.model_dump(mode="json", by_alias=True))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                if not self._authorized():
                    return
                if api.down:
                    with api.lock:
                        api.rejected += 1
                    self._answer(503, {"detail": "down"})
                    return
                with api.lock:
                    if self.path == base + "/steps":
                        for report in body:
                            api.steps.setdefault(report["seq"], report)
                        self._answer(204)
                    elif self.path == base + "/heartbeat":
                        api.heartbeats += 1
                        self._answer(200, {"cancel": True}) if api.cancel else self._answer(204)
                    elif self.path == base + "/artifacts":
                        api.artifacts.extend(body)
                        self._answer(204)
                    elif self.path == base + "/result":
                        api.results.append(body)
                        self._answer(204)
                    else:
                        self._answer(404, {"detail": "unknown path"})

        return Handler


def run_here(
    job: RunnerJob,
    tmp_path: Path,
    *,
    browser: Browser | None = None,
    steps_path: list[str] | None = None,
    video: bool = True,
    trace: bool = True,
    timeout_ms: int = 5_000,
    navigation_timeout_ms: int = 30_000,
    **options: Any,
) -> tuple[Outcome, MemoryReporter, LocalStore]:
    """Run a job in this process against a local store; the shared browser if given.

    ``timeout_ms`` bounds actions and assertions (tests of failures shorten it)."""
    store = LocalStore(tmp_path / "store")
    reporter = MemoryReporter()
    run_options = RunOptions(
        browser=BrowserOptions(
            executable=browser_executable(Settings()),
            args=CHROMIUM_ARGS,
            video=video,
            trace=trace,
            action_timeout_ms=timeout_ms,
            # Loading a page may take long on busy cores; only actions and assertions are
            # shortened, by tests that expect them to fail.
            navigation_timeout_ms=navigation_timeout_ms,
        ),
        steps_path=steps_path or [],
        shared_browser=browser,
        expect_timeout_ms=timeout_ms,
        **options,
    )
    outcome = run_job(job, store, reporter, run_options)
    return outcome, reporter, store
