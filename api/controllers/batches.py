"""``/api/test-runs/execute-all`` and ``/api/test-runs/batch/…``: batches of runs."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Body, FromPath

from api import tracing
from api.context import ActorDep, EngineDep
from api.controllers.runs import IdempotencyKey, TraceParent
from api.problems import problem_responses
from api.services import batches, execute
from schemas.models import BatchCreated, BatchDetails, BatchStatusRead, ExecuteAllRequest


class BatchesController(Controller):
    path = "/api/test-runs"
    tags = ["batches"]

    @post(
        "/execute-all",
        opt={"scope": "execute"},
        status_code=202,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
    )
    def execute_all(
        self,
        engine: EngineDep,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
        traceparent: TraceParent = None,
        data: Annotated[
            ExecuteAllRequest | None, Body(description="Optional; narrows the batch.")
        ] = None,
    ) -> BatchCreated:
        """One run per enabled test set, as one batch (404 when none matches)."""
        return execute.execute_all(
            engine,
            data or ExecuteAllRequest(),
            actor=actor,
            traceparent=tracing.traceparent(traceparent),
            idempotency_key=idempotency_key,
        )

    @get(
        "/batch/{batch_id:str}/status",
        opt={"scope": "read"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404),
    )
    def status(self, engine: EngineDep, batch_id: FromPath[str]) -> BatchStatusRead:
        """The batch's status (derived from its runs) and its runs counted by status."""
        return batches.get_batch_status(engine, batch_id)

    @get(
        "/batch/{batch_id:str}/details",
        opt={"scope": "read"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404),
    )
    def details(self, engine: EngineDep, batch_id: FromPath[str]) -> BatchDetails:
        """The status plus every run with its steps counted by status."""
        return batches.get_batch_details(engine, batch_id)

    @post(
        "/batch/{batch_id:str}/cancel",
        opt={"scope": "execute"},
        status_code=202,
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    def cancel(
        self, engine: EngineDep, actor: ActorDep, batch_id: FromPath[str]
    ) -> BatchStatusRead:
        """Cancel every run of the batch that has not finished (409 when none is left)."""
        return batches.cancel_batch(engine, batch_id, actor=actor)
