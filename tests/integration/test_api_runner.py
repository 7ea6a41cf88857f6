"""The runner's endpoints with run-scoped tokens on real PostgreSQL: a token works only
for its own run and its current attempt (403 for another run, 409 once the controller has
moved on), reports are idempotent, a cancel reaches the runner through its heartbeat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.tables import artifacts, test_run_steps
from tests.integration.test_api_helpers import Api, api, is_problem, sqlite_api

__all__ = ["api", "sqlite_api"]


def _step(seq: int, attempt: int = 1, status: str = "passed") -> dict[str, Any]:
    return {
        "attempt": attempt,
        "seq": seq,
        "feature": "Login",
        "scenario": "ok",
        "line": 3 + seq,
        "keyword": "Given ",
        "text": f"step {seq}",
        "status": status,
        "durationMs": 5,
    }


def _running(api: Api, **test_set: Any) -> str:
    api.create_test_set("checkout", **test_set)
    run_id: str = api.execute(
        "checkout",
        json={"parameters": {"tags": "@smoke"}},
        headers={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
    )["id"]
    api.move(run_id, "running", attempt=1)
    return run_id


def test_job_has_everything_the_runner_needs(api: Api) -> None:
    run_id = _running(api, timeoutSeconds=90)
    job = api.client.get(f"/api/runner/runs/{run_id}", headers=api.runner_token(run_id, 1))
    assert job.status_code == 200, job.text
    assert job.json() == {
        "runId": run_id,
        "attempt": 1,
        "testSetId": "checkout",
        "baseUrl": "http://127.0.0.1:9",
        "tags": "@smoke",
        "features": [api.call("GET", "/api/test-sets/checkout").json()["features"][0]],
        "timeoutSeconds": 90,
        "artifactsPrefix": f"runs/{run_id}/attempt-1/",
        "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01",
    }


def test_base_url_override_and_default_timeout(api: Api) -> None:
    api.create_test_set("checkout")
    run_id = api.execute("checkout", json={"parameters": {"baseUrl": "http://other"}})["id"]
    api.move(run_id, "launching", attempt=1)
    job = api.client.get(f"/api/runner/runs/{run_id}", headers=api.runner_token(run_id, 1)).json()
    assert job["baseUrl"] == "http://other"
    assert job["timeoutSeconds"] == api.settings.run_timeout_seconds


def test_a_token_for_run_a_cannot_report_for_or_read_run_b(api: Api) -> None:
    run_a = _running(api)
    run_b = api.execute("checkout")["id"]
    api.move(run_b, "running", attempt=1)
    token_a = api.runner_token(run_a, 1)
    base_b = f"/api/runner/runs/{run_b}"
    for method, path, body in [
        ("GET", base_b, None),
        ("POST", f"{base_b}/steps", [_step(0)]),
        ("POST", f"{base_b}/heartbeat", {"attempt": 1}),
        ("POST", f"{base_b}/artifacts", []),
        ("POST", f"{base_b}/result", {"attempt": 1, "exitCode": 0, "summary": {}}),
    ]:
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        response = api.client.request(method, path, headers=token_a, **kwargs)
        assert is_problem(response, 403), (method, path)
    assert is_problem(api.client.get(f"/api/test-runs/{run_b}", headers=token_a), 403)
    assert is_problem(api.client.get(f"/api/test-runs/{run_a}", headers=token_a), 403)
    with api.engine.connect() as conn:
        assert conn.execute(select(test_run_steps)).all() == []


def test_a_forged_token_is_401(api: Api) -> None:
    run_id = _running(api)
    forged = {"Authorization": f"Bearer r1.{run_id}.1.{'0' * 64}"}
    assert is_problem(api.client.get(f"/api/runner/runs/{run_id}", headers=forged), 401)


def test_a_stale_attempt_gets_409_and_writes_nothing(api: Api) -> None:
    run_id = _running(api)
    old = api.runner_token(run_id, 1)
    api.move(run_id, "running", attempt=2)  # the controller retried: attempt 2 is current
    base = f"/api/runner/runs/{run_id}"
    for method, suffix, body in [
        ("GET", "", None),
        ("POST", "/steps", [_step(0)]),
        ("POST", "/heartbeat", {"attempt": 1}),
    ]:
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        response = api.client.request(method, base + suffix, headers=old, **kwargs)
        assert is_problem(response, 409), suffix
        assert response.json()["currentAttempt"] == 2
    assert api.row(run_id).heartbeat_at is None


def test_a_report_for_another_attempt_than_the_token_is_403(api: Api) -> None:
    run_id = _running(api)
    token = api.runner_token(run_id, 1)
    response = api.client.post(
        f"/api/runner/runs/{run_id}/steps", headers=token, json=[_step(0, attempt=2)]
    )
    assert is_problem(response, 403)


def test_steps_are_stored_once_per_seq(api: Api) -> None:
    run_id = _running(api)
    token = api.runner_token(run_id, 1)
    url = f"/api/runner/runs/{run_id}/steps"
    assert api.client.post(url, headers=token, json=[_step(0), _step(1)]).status_code == 204
    assert (
        api.client.post(url, headers=token, json=[_step(1), _step(2, status="failed")]).status_code
        == 204
    )
    steps = api.call("GET", f"/api/test-runs/{run_id}/steps", "read").json()
    assert [(s["seq"], s["status"]) for s in steps] == [(0, "passed"), (1, "passed"), (2, "failed")]
    assert api.client.post(url, headers=token, json=[]).status_code == 204
    assert is_problem(api.client.post(url, headers=token, json=[{"seq": 1}]), 400)


def test_heartbeat_sets_times_and_signals_cancel(api: Api) -> None:
    run_id = _running(api)
    token = api.runner_token(run_id, 1)
    url = f"/api/runner/runs/{run_id}/heartbeat"
    first = api.client.post(url, headers=token, json={"attempt": 1})
    assert first.status_code == 204 and first.content == b""
    row = api.row(run_id)
    assert row.heartbeat_at is not None and row.started_at == row.heartbeat_at
    api.client.post(url, headers=token, json={"attempt": 1})
    later = api.row(run_id)
    assert later.started_at == row.started_at and later.heartbeat_at >= row.heartbeat_at

    assert api.call("POST", f"/api/test-runs/{run_id}/cancel", "execute").status_code == 202
    stop = api.client.post(url, headers=token, json={"attempt": 1})
    assert stop.status_code == 200 and stop.json() == {"cancel": True}


def test_artifacts_are_upserted_and_confined_to_the_attempt(api: Api) -> None:
    run_id = _running(api)
    token = api.runner_token(run_id, 1)
    url = f"/api/runner/runs/{run_id}/artifacts"
    key = f"runs/{run_id}/attempt-1/cucumber.json"
    report = {
        "attempt": 1,
        "kind": "cucumber_json",
        "key": key,
        "contentType": "application/json",
        "size": 10,
    }
    assert api.client.post(url, headers=token, json=[report]).status_code == 204
    assert api.client.post(url, headers=token, json=[{**report, "size": 20}]).status_code == 204
    with api.engine.connect() as conn:
        rows = conn.execute(select(artifacts)).all()
    assert [(r.key, r.size) for r in rows] == [(key, 20)]
    for bad_key, status in [
        (f"runs/{run_id}/attempt-2/x.json", 403),
        ("runs/other/x", 403),
        (f"runs/{run_id}/attempt-1/../../x", 422),
        ("/etc/passwd", 422),
    ]:
        response = api.client.post(url, headers=token, json=[{**report, "key": bad_key}])
        assert is_problem(response, status), bad_key


def test_result_keeps_the_summary(api: Api) -> None:
    run_id = _running(api)
    summary = {
        "scenarios": {"passed": 2, "failed": 1, "skipped": 0, "undefined": 0},
        "steps": {"passed": 7, "failed": 1, "skipped": 2, "undefined": 0},
    }
    response = api.client.post(
        f"/api/runner/runs/{run_id}/result",
        headers=api.runner_token(run_id, 1),
        json={"attempt": 1, "exitCode": 1, "summary": summary},
    )
    assert response.status_code == 204
    assert api.call("GET", f"/api/test-runs/{run_id}", "read").json()["summary"] == summary
    assert api.row(run_id).status == "running"  # the verdict is the controller's


def test_runner_reports_on_sqlite(sqlite_api: Api) -> None:
    """The upserts use each dialect's ON CONFLICT; the embedded default must take them."""
    api = sqlite_api
    run_id = _running(api)
    token = api.runner_token(run_id, 1)
    base = f"/api/runner/runs/{run_id}"
    for _ in range(2):
        assert api.client.post(f"{base}/steps", headers=token, json=[_step(0)]).status_code == 204
        report = {
            "attempt": 1,
            "kind": "log",
            "key": f"runs/{run_id}/attempt-1/runner.log",
            "contentType": "text/plain",
            "size": 3,
        }
        assert api.client.post(f"{base}/artifacts", headers=token, json=[report]).status_code == 204
    assert (
        api.client.post(f"{base}/heartbeat", headers=token, json={"attempt": 1}).status_code == 204
    )
    assert len(api.call("GET", f"/api/test-runs/{run_id}/steps", "read").json()) == 1
    assert len(api.call("GET", f"/api/test-runs/{run_id}/artifacts", "read").json()) == 1
    other = api.execute("checkout")["id"]
    assert is_problem(api.client.get(f"/api/runner/runs/{other}", headers=token), 403)
