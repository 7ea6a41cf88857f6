"""Artifacts, reports and live events on real PostgreSQL and a served app: the local store
streamed with its content type, keys that try to escape the run refused, S3 links
pre-signed (moto server), and Server-Sent Events over a real socket (TestClient buffers
whole responses, so a stream must be read from uvicorn)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn
from sqlalchemy import insert

from api.app import create_app
from api.services.tokens import create_token
from artifacts.store import LocalStore
from config.settings import Settings
from db.engine import make_engine, utcnow
from db.tables import test_run_steps
from tests.conftest import free_port
from tests.integration.test_api_helpers import Api, api, is_problem

__all__ = ["api"]


def _finished_run(api: Api) -> str:
    api.create_test_set("checkout")
    run_id: str = api.execute("checkout")["id"]
    api.move(run_id, "running", attempt=1)
    prefix = f"runs/{run_id}/attempt-1/"
    api.store.put_bytes(prefix + "cucumber.json", b'[{"name": "Login"}]')
    api.store.put_bytes(prefix + "junit.xml", b"<testsuite name='x'/>")
    api.store.put_bytes(prefix + "screenshots/step-1.png", b"\x89PNG fake")
    token = api.runner_token(run_id, 1)
    api.client.post(
        f"/api/runner/runs/{run_id}/artifacts",
        headers=token,
        json=[
            {
                "attempt": 1,
                "kind": "cucumber_json",
                "key": prefix + "cucumber.json",
                "contentType": "application/json",
                "size": 19,
            }
        ],
    )
    api.move(run_id, "failed", exit_code=1)
    return run_id


def test_artifact_listing_merges_reports_and_the_store(api: Api) -> None:
    run_id = _finished_run(api)
    listed = api.call("GET", f"/api/test-runs/{run_id}/artifacts", "read").json()
    by_key = {a["key"].rsplit("/", 1)[-1]: a for a in listed}
    assert set(by_key) == {"cucumber.json", "junit.xml", "step-1.png"}
    assert by_key["step-1.png"]["kind"] == "screenshot"
    assert by_key["step-1.png"]["contentType"] == "image/png"
    url = by_key["step-1.png"]["url"]
    assert (
        url == f"/api/test-runs/{run_id}/artifacts/runs/{run_id}/attempt-1/screenshots/step-1.png"
    )
    download = api.call("GET", url, "read")
    assert download.status_code == 200 and download.content == b"\x89PNG fake"
    assert download.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    "key",
    [
        "runs/{other}/attempt-1/cucumber.json",
        "runs/{run}/attempt-1/../../../etc/passwd",
        "runs/{run}/attempt-1/%2e%2e/%2e%2e/x",
        "runs/{run}/attempt-1/missing.png",
    ],
)
def test_downloads_stay_inside_the_run(api: Api, key: str) -> None:
    run_id = _finished_run(api)
    other = api.execute("checkout")["id"]
    path = f"/api/test-runs/{run_id}/artifacts/" + key.format(run=run_id, other=other)
    response = api.call("GET", path, "read")
    assert response.status_code in (404, 422) and is_problem(response, response.status_code)


def test_reports_of_the_latest_attempt(api: Api) -> None:
    run_id = _finished_run(api)
    report = api.call("GET", f"/api/test-runs/{run_id}/report.json", "read")
    assert report.json() == [{"name": "Login"}]
    assert report.headers["content-type"].startswith("application/json")
    junit = api.call("GET", f"/api/test-runs/{run_id}/junit.xml", "read")
    assert junit.content == b"<testsuite name='x'/>"
    assert junit.headers["content-type"].startswith("application/xml")
    fresh = api.execute("checkout")["id"]
    assert is_problem(api.call("GET", f"/api/test-runs/{fresh}/report.json", "read"), 404)
    assert is_problem(api.call("GET", f"/api/test-runs/{fresh}/junit.xml", "read"), 404)
    assert is_problem(api.call("GET", "/api/test-runs/nope/artifacts", "read"), 404)


def test_pdf_report_is_503_while_reports_are_missing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _finished_run(api)
    monkeypatch.setitem(sys.modules, "reports.pdf", None)  # import fails as if not installed
    response = api.call("GET", f"/api/test-runs/{run_id}/report.pdf", "read")
    assert is_problem(response, 503)


def test_pdf_report_is_rendered(api: Api) -> None:
    pytest.importorskip("reports.pdf")
    run_id = _finished_run(api)
    response = api.call("GET", f"/api/test-runs/{run_id}/report.pdf", "read", timeout=120)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_s3_artifacts_are_presigned_links(
    pg_url: str, tmp_path: Path, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from litestar.testing import TestClient

    from artifacts.s3 import S3Store

    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto_url)
    client.create_bucket(Bucket="proctor")
    store = S3Store("proctor", "artifacts", client=client)
    engine = make_engine(pg_url)
    admin = {"Authorization": f"Bearer {create_token(engine, 'a', ['admin']).secret}"}
    app = create_app(Settings(home=tmp_path, database_url=pg_url), engine=engine, store=store)
    try:
        with TestClient(app) as http:
            http.post("/api/test-sets", headers=admin, json={"id": "s", "name": "S"})
            run_id = http.post("/api/test-runs/execute/s", headers=admin).json()["id"]
            Api(http, engine, LocalStore(tmp_path), app.state["proctor"].settings).move(
                run_id, "running", attempt=1
            )
            key = f"runs/{run_id}/attempt-1/videos/v.webm"
            store.put_bytes(key, b"webm")
            listed = http.get(f"/api/test-runs/{run_id}/artifacts", headers=admin).json()
            assert [a["key"] for a in listed] == [key]
            link = listed[0]["url"]
            assert link.startswith(moto_url)
            query = parse_qs(urlparse(link).query)
            if "X-Amz-Expires" in query:  # SigV4
                assert query["X-Amz-Expires"] == ["300"]
            else:  # SigV2: an absolute expiry time
                assert 0 < int(query["Expires"][0]) - time.time() <= 300
            assert httpx.get(link).content == b"webm"
            redirect = http.get(
                f"/api/test-runs/{run_id}/artifacts/{key}", headers=admin, follow_redirects=False
            )
            assert redirect.status_code == 302 and redirect.headers["location"].startswith(moto_url)
    finally:
        engine.dispose()


# ----- Server-Sent Events over a real socket ---------------------------------------------


@pytest.fixture
def served(api: Api) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            api.client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any], str]]:
    event, data, ident = "message", "", ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data += line.split(":", 1)[1].strip()
        elif line.startswith("id:"):
            ident = line.split(":", 1)[1].strip()
        elif line == "" and data:
            yield event, json.loads(data), ident
            event, data, ident = "message", "", ""


def test_run_events_stream_live_until_the_run_finishes(api: Api, served: str) -> None:
    api.create_test_set("checkout")
    run_id = api.execute("checkout")["id"]
    seen: list[tuple[str, dict[str, Any], str]] = []
    with httpx.stream(
        "GET", f"{served}/api/test-runs/{run_id}/events", headers=api.auth("read"), timeout=30
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = _events(response)
        seen.append(next(stream))
        assert seen[0][0] == "state" and seen[0][1]["toStatus"] == "pending"
        api.move(run_id, "running", attempt=1)
        with api.engine.begin() as conn:
            conn.execute(
                insert(test_run_steps).values(
                    run_id=run_id,
                    attempt=1,
                    seq=0,
                    feature="F",
                    scenario="S",
                    line=1,
                    keyword="Given ",
                    text="x",
                    status="passed",
                    created_at=utcnow(),
                )
            )
        api.move(run_id, "passed")
        seen.extend(stream)  # ends by itself once the run has finished
    kinds = [(kind, data.get("toStatus") or data.get("status")) for kind, data, _ in seen]
    assert kinds == [
        ("state", "pending"),
        ("state", "running"),
        ("step", "passed"),
        ("state", "passed"),
        ("end", "passed"),
    ]
    assert seen[2][1]["runId"] == run_id and seen[2][1]["seq"] == 0

    # A reconnecting EventSource resumes after the last id it saw.
    resumed = httpx.get(
        f"{served}/api/test-runs/{run_id}/events",
        timeout=30,
        headers={**api.auth("read"), "Last-Event-ID": seen[2][2]},
    )
    tail = list(_events(resumed))
    assert [(k, d.get("toStatus") or d.get("status")) for k, d, _ in tail] == [
        ("state", "passed"),
        ("end", "passed"),
    ]


def test_batch_events_end_when_every_run_has_finished(api: Api, served: str) -> None:
    api.create_test_set("a")
    api.create_test_set("b")
    batch = api.call("POST", "/api/test-runs/execute-all").json()
    first, second = (r["id"] for r in batch["runs"])
    with httpx.stream(
        "GET",
        f"{served}/api/test-runs/batch/{batch['id']}/events",
        headers=api.auth("read"),
        timeout=30,
    ) as response:
        stream = _events(response)
        initial = [next(stream) for _ in range(3)]  # two pending events and the batch status
        assert sorted(kind for kind, _, _ in initial) == ["batch", "state", "state"]
        api.move(first, "passed", attempt=1)
        api.move(second, "failed", attempt=1)
        rest = list(stream)
    assert rest[-1][0] == "end" and rest[-1][1]["status"] == "failed"
    assert [d["status"] for k, d, _ in rest if k == "batch"][-1] == "failed"


def test_events_of_unknown_runs_are_404(api: Api) -> None:
    assert is_problem(api.call("GET", "/api/test-runs/nope/events", "read"), 404)
    assert is_problem(api.call("GET", "/api/test-runs/batch/nope/events", "read"), 404)


def test_event_streams_take_the_token_in_the_query_for_eventsource(api: Api) -> None:
    api.create_test_set("checkout")
    run_id = api.execute("checkout")["id"]
    api.move(run_id, "passed", attempt=1)
    token = api.tokens["read"]
    stream = api.client.get(f"/api/test-runs/{run_id}/events?access_token={token}")
    assert stream.status_code == 200 and "event: end" in stream.text
    # Only the event streams: elsewhere a token in the URL is not accepted.
    assert is_problem(api.client.get(f"/api/test-runs/{run_id}?access_token={token}"), 401)
    assert is_problem(api.client.get(f"/api/test-runs/{run_id}/events?access_token=pt_x"), 401)


def test_an_event_that_commits_late_is_still_streamed(api: Api) -> None:
    """Ids are taken at INSERT and seen at COMMIT: a smaller id can appear after a larger
    one has been sent. The stream looks back and sends it anyway, once."""
    from api.services.events import StreamState, poll_batch
    from db.tables import run_events

    api.create_test_set("a")
    api.create_test_set("b")
    batch = api.call("POST", "/api/test-runs/execute-all").json()
    first, second = (r["id"] for r in batch["runs"])
    state = StreamState.resume(None)
    assert (
        len([m for m in poll_batch(api.engine, batch["id"], state).messages if m.event == "state"])
        == 2
    )

    def event(run_id: str) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "attempt": 1,
            "from_status": "pending",
            "to_status": "launching",
            "reason": "claimed",
            "actor": "controller",
            "at": utcnow(),
        }

    with api.engine.connect() as slow:
        slow_tx = slow.begin()
        slow.execute(insert(run_events).values(**event(first)))  # takes the smaller id
        with api.engine.begin() as fast:
            fast.execute(insert(run_events).values(**event(second)))
        seen = [
            m.data["runId"]
            for m in poll_batch(api.engine, batch["id"], state).messages
            if m.event == "state"
        ]
        assert seen == [second]
        slow_tx.commit()
    late = [
        m.data["runId"]
        for m in poll_batch(api.engine, batch["id"], state).messages
        if m.event == "state"
    ]
    assert late == [first]
    assert [
        m for m in poll_batch(api.engine, batch["id"], state).messages if m.event == "state"
    ] == []
