"""The runner's artifacts in S3, against a moto server on loopback.

What the fakes can't show: boto3 really uploading every artifact kind of an attempt
through HTTP to an S3 endpoint (``AWS_ENDPOINT_URL``), each with its content type.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from playwright.sync_api import Browser

from artifacts.store import open_store
from config.browser import CHROMIUM_ARGS
from runner.browser import BrowserOptions
from runner.execute import EXIT_FAILED, RunOptions, run_job
from runner.reporter import MemoryReporter
from tests.runner_fixtures import make_job

FEATURE = """\
Feature: Shop in S3
  Scenario: a failure with a screenshot
    Given I open "index.html"
    When I take a screenshot "home"
    Then the title should be "Not this one"
"""


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield endpoint
    server.stop()


def test_all_artifacts_reach_s3_with_content_types(
    s3_endpoint: str, chromium: Browser, pages_url: str, tmp_path: Path
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="proctor-artifacts")
    store = open_store("s3://proctor-artifacts/team-a")
    job = make_job({"shop.feature": FEATURE}, base_url=pages_url)
    reporter = MemoryReporter()
    options = RunOptions(
        browser=BrowserOptions(args=CHROMIUM_ARGS, action_timeout_ms=1_000),
        shared_browser=chromium,
        expect_timeout_ms=500,
        work_dir=tmp_path / "work",
    )

    outcome = run_job(job, store, reporter, options)

    assert outcome.exit_code == EXIT_FAILED
    listed = s3.list_objects_v2(Bucket="proctor-artifacts", Prefix="team-a/runs/run-1/attempt-1/")
    keys = [item["Key"].removeprefix("team-a/runs/run-1/attempt-1/") for item in listed["Contents"]]
    types = {
        key: s3.head_object(Bucket="proctor-artifacts", Key=f"team-a/runs/run-1/attempt-1/{key}")[
            "ContentType"
        ]
        for key in keys
    }
    by_kind = {
        "cucumber.json": "application/json",
        "junit.xml": "application/xml",
        "trace.zip": "application/zip",
        "runner.log": "text/plain; charset=utf-8",
    }
    for key, content_type in by_kind.items():
        assert types.get(key) == content_type, (key, types)
    screenshots = [k for k in keys if k.startswith("screenshots/")]
    assert len(screenshots) == 2  # the one asked for and the failure's
    assert all(types[k] == "image/png" for k in screenshots)
    videos = [k for k in keys if k.startswith("videos/")]
    assert len(videos) == 1 and types[videos[0]] == "video/webm"
    # What the API is told matches what is in the bucket.
    reported = {a.key.removeprefix("runs/run-1/attempt-1/"): a for a in reporter.artifact_reports}
    assert set(reported) == set(keys)
    assert all(reported[k].content_type == types[k] for k in keys)
    failure = next(r for r in reporter.steps if r.status == "failed")
    assert failure.screenshot_key and store.get_bytes(failure.screenshot_key)
