"""The whole path on one machine: API → controller → runner (real Chromium) → artifacts.

What fakes can't show: that the real processes agree on the contracts — `proctor up`
serving the API and running the controller, the local launcher spawning `proctor runner`,
the runner reporting through the API with its run-scoped token and writing artifacts the
API then serves — against real PostgreSQL, with the example shop and test sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest

from tests.conftest import FIXTURES, free_port
from tests.otlp_sink import OtlpSink

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"proctor up exited {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"proctor up not ready after {deadline}s:\n{log.read_text()}")


@pytest.fixture
def example_site() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(REPO / "examples/site"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def otlp() -> Iterator[OtlpSink]:
    with OtlpSink() as sink:
        yield sink


@pytest.fixture
def proctor(pg_url: str, tmp_path: Path, otlp: OtlpSink) -> Iterator[dict[str, str]]:
    """`proctor up` on PostgreSQL with the local launcher, as a real process tree,
    exporting its traces (and its runners') to an OTLP receiver on loopback."""
    port = free_port()
    env = {
        **os.environ,
        "PROCTOR_HOME": str(tmp_path / "home"),
        "PROCTOR_DATABASE_URL": pg_url,
        "PROCTOR_POLL_INTERVAL_SECONDS": "0.5",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    log = tmp_path / "proctor.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "up", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
        yield {"url": url, "home": env["PROCTOR_HOME"], "log": str(log), **env}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_example_batch_end_to_end(
    proctor: dict[str, str], example_site: str, otlp: OtlpSink
) -> None:
    env = {k: v for k, v in proctor.items() if k not in ("url", "home", "log")}
    synced = _cli(
        env, "test-sets", "sync", str(REPO / "examples/suites"), "--base-url", example_site
    )
    assert synced.returncode == 0, synced.stderr
    assert "storefront" in synced.stdout and "checkout" in synced.stdout

    result = _cli(env, "run", "--all", "--wait", "--interval", "0.5")
    output = result.stdout + result.stderr
    # checkout fails on purpose: the CLI's verdict is 1, with a summary of both test sets.
    assert result.returncode == 1, output + Path(proctor["log"]).read_text()
    assert "storefront" in output and "PASSED" in output
    assert "checkout" in output and "FAILED" in output
    assert "1 of 2 test sets passed" in output

    credentials = Path(proctor["home"], "credentials").read_text()
    token = next(
        line.split("=", 1)[1]
        for line in credentials.splitlines()
        if line.startswith("PROCTOR_TOKEN=")
    )
    api = httpx.Client(base_url=proctor["url"], headers={"Authorization": f"Bearer {token}"})
    runs = {
        run["testSetId"]: run
        for run in api.get("/api/test-runs", params={"limit": 50}).json()["items"]
    }
    passed, failed = runs["storefront"], runs["checkout"]
    assert passed["status"] == "passed" and failed["status"] == "failed"
    assert failed["summary"]["scenarios"] == {
        "passed": 2,
        "failed": 1,
        "skipped": 0,
        "undefined": 0,
    }

    # The steps the runner reported live through the API.
    steps = api.get(f"/api/test-runs/{failed['id']}/steps").json()
    failing = [s for s in steps if s["status"] == "failed"]
    assert len(failing) == 1 and failing[0]["text"] == '"#total" should contain "40.00"'
    assert failing[0]["screenshotKey"]
    assert {s["scenario"] for s in steps} >= {
        "Adding products updates the total",
        "Gift wrap costs extra",
    }

    # The artifacts: schema-valid cucumber.json, a failure screenshot, a video per scenario.
    attempt_dir = Path(proctor["home"], "artifacts", "runs", failed["id"], "attempt-1")
    report = json.loads((attempt_dir / "cucumber.json").read_text())
    schema = json.loads((FIXTURES / "cucumber-json-schema" / "cucumber-jvm.json").read_text())
    jsonschema.validate(report, schema)
    assert (attempt_dir / failing[0]["screenshotKey"].split("attempt-1/", 1)[-1]).is_file()
    videos = list((attempt_dir / "videos").glob("*.webm"))
    assert len(videos) == 3 and all(v.stat().st_size > 0 for v in videos)
    assert (attempt_dir / "junit.xml").is_file()

    response = api.get(f"/api/test-runs/{failed['id']}/artifacts")
    assert response.status_code == 200, response.text
    listed = response.json()
    kinds = {a["kind"] for a in listed}
    assert {"cucumber_json", "screenshot", "video"} <= kinds

    # One trace from the HTTP request to the last browser step: the runner's spans (another
    # process, started by the controller) continue the trace of the execute-all request.
    end = time.monotonic() + 15
    while time.monotonic() < end and not any(
        span.name.startswith("POST /api/test-runs/execute-all") for span in otlp.spans
    ):
        time.sleep(0.2)
    names = sorted({(s.service, s.name) for s in otlp.spans if s.service != "proctor-runner"})
    request = next(
        (s for s in otlp.spans if s.name.startswith("POST /api/test-runs/execute-all")), None
    )
    assert request is not None, names
    in_trace = [s for s in otlp.spans if s.trace_id == request.trace_id]
    runner_spans = [s for s in in_trace if s.service == "proctor-runner"]
    assert {s.name for s in runner_spans} >= {
        "proctor.runner",
        "scenario Three caps get a bulk discount",
        'Then "#total" should contain "40.00"',
    }
    assert sum(s.name == "proctor.runner" for s in runner_spans) == 2  # one per run
