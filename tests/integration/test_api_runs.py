"""Listing, cancel, retry and Idempotency-Key on real PostgreSQL: keyset pagination under
concurrent inserts, the state machine's 409s, and the idempotency row written in the
same transaction as the runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from db.engine import utcnow
from db.tables import idempotency_keys, run_events, test_runs
from tests.integration.test_api_helpers import Api, api, is_problem, sqlite_api

__all__ = ["api", "sqlite_api"]


def _page(api: Api, query: str) -> dict:  # type: ignore[type-arg]
    response = api.call("GET", f"/api/test-runs?{query}", "read")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_list_pages_newest_first_with_a_stable_cursor(api: Api) -> None:
    api.create_test_set("checkout")
    ids = [api.execute("checkout")["id"] for _ in range(5)]
    first = _page(api, "limit=2")
    assert [r["id"] for r in first["items"]] == ids[::-1][:2]
    api.execute("checkout")  # a new run must not shift the pages still to come
    second = _page(api, f"limit=2&cursor={first['nextCursor']}")
    third = _page(api, f"limit=2&cursor={second['nextCursor']}")
    assert [r["id"] for r in second["items"] + third["items"]] == ids[::-1][2:]
    assert third["nextCursor"] is None


def test_list_pages_ties_in_creation_time_by_id(api: Api) -> None:
    for name in ("a", "b", "c"):
        api.create_test_set(name)
    batch = api.call("POST", "/api/test-runs/execute-all").json()  # one created_at for all
    seen = []
    cursor = ""
    while True:
        page = _page(api, f"limit=1{cursor}")
        seen += [r["id"] for r in page["items"]]
        if not page["nextCursor"]:
            break
        cursor = f"&cursor={page['nextCursor']}"
    assert sorted(seen) == sorted(r["id"] for r in batch["runs"]) and len(seen) == 3


def test_list_filters(api: Api) -> None:
    api.create_test_set("alpha")
    api.create_test_set("beta")
    lone = api.execute("alpha")["id"]
    batch = api.call("POST", "/api/test-runs/execute-all").json()
    api.move(lone, "passed", attempt=1)
    old = utcnow() - timedelta(days=2)
    with api.engine.begin() as conn:
        conn.execute(update(test_runs).where(test_runs.c.id == lone).values(created_at=old))

    def ids(query: str) -> set[str]:
        return {r["id"] for r in _page(api, query)["items"]}

    batch_ids = {r["id"] for r in batch["runs"]}
    assert ids("status=passed") == {lone}
    assert ids("status=pending&status=passed") == batch_ids | {lone}
    assert ids("testSetId=alpha") == {lone} | {
        r["id"] for r in batch["runs"] if r["testSetId"] == "alpha"
    }
    assert ids(f"batchId={batch['id']}") == batch_ids
    day_ago = (utcnow() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"createdAfter={day_ago}") == batch_ids
    assert ids(f"createdBefore={day_ago}") == {lone}


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "limit=0",
        "limit=1000",
        "cursor=not-a-cursor",
        "createdAfter=yesterday",
        "createdAfter=2026-01-01T00:00:00",
    ],
)
def test_list_rejects_bad_parameters(api: Api, query: str) -> None:
    response = api.call("GET", f"/api/test-runs?{query}", "read")
    assert response.status_code in (400, 422) and is_problem(response, response.status_code)


def test_cancel_a_pending_run_finishes_it_at_once(api: Api) -> None:
    api.create_test_set("checkout")
    run = api.execute("checkout")
    response = api.call("POST", f"/api/test-runs/{run['id']}/cancel", "execute")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled" and response.json()["desired"] == "cancel"
    assert response.json()["finishedAt"] is not None
    with api.engine.connect() as conn:
        events = conn.execute(
            select(run_events.c.from_status, run_events.c.to_status, run_events.c.actor)
            .where(run_events.c.run_id == run["id"])
            .order_by(run_events.c.id)
        ).all()
    assert [tuple(e) for e in events] == [
        (None, "pending", "admin token"),
        ("pending", "cancelled", "execute token"),
    ]
    again = api.call("POST", f"/api/test-runs/{run['id']}/cancel", "execute")
    assert is_problem(again, 409) and again.json()["currentStatus"] == "cancelled"


def test_cancel_a_running_run_asks_the_controller(api: Api) -> None:
    api.create_test_set("checkout")
    run = api.execute("checkout")
    api.move(run["id"], "running", attempt=1)
    response = api.call("POST", f"/api/test-runs/{run['id']}/cancel", "execute").json()
    assert response["status"] == "running" and response["desired"] == "cancel"


def test_retry_only_a_finished_run_and_reset_its_status(api: Api) -> None:
    api.create_test_set("checkout")
    run = api.execute("checkout")
    api.move(run["id"], "running", attempt=1)
    busy = api.call("POST", f"/api/test-runs/{run['id']}/retry", "execute")
    assert is_problem(busy, 409) and "running" in busy.json()["detail"]
    api.move(run["id"], "failed", exit_code=1, error="boom", summary={"scenarios": {"failed": 1}})
    retried = api.call("POST", f"/api/test-runs/{run['id']}/retry", "execute")
    assert retried.status_code == 202
    body = retried.json()
    assert (body["status"], body["attempt"], body["desired"]) == ("pending", 1, "run")
    assert body["finishedAt"] is None and body["exitCode"] is None and body["error"] is None
    assert body["summary"]["scenarios"]["failed"] == 0
    with api.engine.connect() as conn:
        last = conn.execute(
            select(run_events)
            .where(run_events.c.run_id == run["id"])
            .order_by(run_events.c.id.desc())
        ).first()
    assert last is not None and (last.from_status, last.to_status) == ("failed", "pending")
    assert is_problem(api.call("POST", "/api/test-runs/nope/retry", "execute"), 404)


def test_batch_cancel(api: Api) -> None:
    for name in ("a", "b", "c"):
        api.create_test_set(name)
    batch = api.call("POST", "/api/test-runs/execute-all").json()
    done, running, pending = (r["id"] for r in batch["runs"])
    api.move(done, "passed", attempt=1)
    api.move(running, "running", attempt=1)
    response = api.call("POST", f"/api/test-runs/batch/{batch['id']}/cancel", "execute")
    assert response.status_code == 202
    assert (api.row(done).status, api.row(done).desired) == ("passed", "run")
    assert (api.row(running).status, api.row(running).desired) == ("running", "cancel")
    assert api.row(pending).status == "cancelled"
    api.move(running, "cancelled")
    assert (
        api.call("GET", f"/api/test-runs/batch/{batch['id']}/status", "read").json()["status"]
        == "failed"
    )  # one passed, two cancelled
    assert is_problem(api.call("POST", f"/api/test-runs/batch/{batch['id']}/cancel"), 409)
    assert is_problem(api.call("POST", "/api/test-runs/batch/nope/cancel"), 404)


@pytest.mark.parametrize("fixture", ["api", "sqlite_api"])
def test_idempotency_key_returns_the_first_run(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    api: Api = request.getfixturevalue(fixture)
    api.create_test_set("checkout")
    key = {"Idempotency-Key": "ci-123"}
    first = api.execute("checkout", headers=key, json={"priority": 5})
    api.move(first["id"], "running", attempt=1)
    again = api.execute("checkout", headers=key, json={"priority": 5})
    assert again == first  # the first response, not the current state
    different = api.call(
        "POST", "/api/test-runs/execute/checkout", headers=key, json={"priority": 6}
    )
    assert is_problem(different, 422)
    assert api.count(test_runs) == 1 and api.count(idempotency_keys) == 1


def test_idempotency_key_on_execute_all(api: Api) -> None:
    api.create_test_set("a")
    api.create_test_set("b")
    key = {"Idempotency-Key": "nightly-2026-11-25"}
    first = api.call("POST", "/api/test-runs/execute-all", headers=key).json()
    second = api.call("POST", "/api/test-runs/execute-all", headers=key).json()
    assert second["id"] == first["id"]
    assert [r["id"] for r in second["runs"]] == [r["id"] for r in first["runs"]]
    other = api.call("POST", "/api/test-runs/execute-all", headers=key, json={"label": "x"})
    assert is_problem(other, 422)
    # The same key on the other endpoint is another request.
    assert api.call("POST", "/api/test-runs/execute/a", headers=key).status_code == 202
    assert api.count(test_runs) == 3


def test_a_failed_execute_stores_no_key(api: Api) -> None:
    key = {"Idempotency-Key": "k"}
    assert is_problem(api.call("POST", "/api/test-runs/execute/nope", headers=key), 404)
    assert api.count(idempotency_keys) == 0
    api.create_test_set("nope")
    assert api.call("POST", "/api/test-runs/execute/nope", headers=key).status_code == 202


def test_concurrent_requests_with_one_key_make_one_run(api: Api) -> None:
    """Four requests race with the same key: the primary key lets one insert, the others
    fail, retry, and return the stored answer."""
    import threading

    from api.services import execute
    from schemas.models import ExecuteRequest

    api.create_test_set("checkout")
    barrier = threading.Barrier(4)
    results: list[str] = []
    errors: list[BaseException] = []

    def request() -> None:
        barrier.wait(timeout=30)
        try:
            run = execute.execute(
                api.engine, "checkout", ExecuteRequest(), actor="race", idempotency_key="same"
            )
            results.append(run.id)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == 4 and len(set(results)) == 1
    assert api.count(test_runs) == 1
