"""``/api/test-runs``: execute one test set, list runs, read one, its steps, cancel, retry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Body, FromPath, HeaderParameter, QueryParameter

from api import tracing
from api.context import ActorDep, EngineDep
from api.problems import problem_responses
from api.services import execute, runs
from schemas.models import ExecuteRequest, RunPage, RunRead, StepRead
from schemas.states import RunStatus

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=200,
        description="Repeat a request safely: the same key and body return the first answer.",
    ),
]
TraceParent = Annotated[
    str | None,
    HeaderParameter(
        name="traceparent",
        required=False,
        max_length=200,
        description="W3C trace context, passed on to the runner.",
    ),
]


class RunsController(Controller):
    path = "/api/test-runs"
    tags = ["test runs"]

    @post(
        "/execute/{test_set_id:str}",
        opt={"scope": "execute"},
        status_code=202,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
    )
    def execute(
        self,
        engine: EngineDep,
        actor: ActorDep,
        test_set_id: FromPath[str],
        idempotency_key: IdempotencyKey = None,
        traceparent: TraceParent = None,
        data: Annotated[ExecuteRequest | None, Body(description="Optional.")] = None,
    ) -> RunRead:
        """Queue one run of a test set (status ``pending``); the controller starts it."""
        return execute.execute(
            engine,
            test_set_id,
            data or ExecuteRequest(),
            actor=actor,
            traceparent=tracing.traceparent(traceparent),
            idempotency_key=idempotency_key,
        )

    @get(
        "/",
        opt={"scope": "read"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 422),
    )
    def list_runs(
        self,
        engine: EngineDep,
        status: Annotated[
            list[RunStatus] | None, QueryParameter(description="Any of these.")
        ] = None,
        test_set_id: Annotated[str | None, QueryParameter(name="testSetId")] = None,
        batch_id: Annotated[str | None, QueryParameter(name="batchId")] = None,
        created_after: Annotated[
            datetime | None, QueryParameter(name="createdAfter", description="Inclusive.")
        ] = None,
        created_before: Annotated[
            datetime | None, QueryParameter(name="createdBefore", description="Exclusive.")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=runs.MAX_PAGE)] = 50,
        cursor: Annotated[
            str | None,
            QueryParameter(description="nextCursor of the previous page.", max_length=500),
        ] = None,
    ) -> RunPage:
        """Runs, newest first, filtered; page with ``limit`` and ``cursor``."""
        filters = runs.RunFilter(
            statuses=status or [],
            test_set_id=test_set_id,
            batch_id=batch_id,
            created_after=created_after,
            created_before=created_before,
        )
        return runs.list_runs(engine, filters, limit=limit, cursor=cursor)

    @get(
        "/{run_id:str}",
        opt={"scope": "read"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404),
    )
    def get_run(self, engine: EngineDep, run_id: FromPath[str]) -> RunRead:
        return runs.get_run(engine, run_id)

    @get(
        "/{run_id:str}/steps",
        opt={"scope": "read"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404),
    )
    def get_steps(
        self,
        engine: EngineDep,
        run_id: FromPath[str],
        attempt: Annotated[
            int | None,
            QueryParameter(ge=0, le=2**31 - 1, description="Default: the current attempt."),
        ] = None,
    ) -> list[StepRead]:
        """The steps the runner reported for one attempt, in order."""
        return runs.get_steps(engine, run_id, attempt)

    @post(
        "/{run_id:str}/cancel",
        opt={"scope": "execute"},
        status_code=202,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    def cancel(self, engine: EngineDep, actor: ActorDep, run_id: FromPath[str]) -> RunRead:
        """Cancel a run: a pending one at once, a started one once its task has stopped."""
        return runs.cancel_run(engine, run_id, actor=actor)

    @post(
        "/{run_id:str}/retry",
        opt={"scope": "execute"},
        status_code=202,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    def retry(self, engine: EngineDep, actor: ActorDep, run_id: FromPath[str]) -> RunRead:
        """Run a finished run again as its next attempt (409 while it is not finished)."""
        return runs.retry_run(engine, run_id, actor=actor)
