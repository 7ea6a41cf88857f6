"""``/api/runner/runs/{run_id}``: what a runner does with its run-scoped token.

The guard (``api.auth``, scope ``runner``) has checked the token's signature and that it
names this run (403 otherwise); the services check its attempt is the run's current one
(409 ``StaleAttempt`` when the controller has moved on) and that reports name the token's
attempt (403).
"""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from api.context import EngineDep, SettingsDep, TokenAttemptDep
from api.problems import problem_responses
from api.services import runner
from schemas.models import (
    ArtifactReport,
    CancelSignal,
    Heartbeat,
    RunnerJob,
    RunnerResult,
    StepReport,
)

_ERRORS = problem_responses(400, 401, 403, 404, 409)
_BODY_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)


class RunnerController(Controller):
    path = "/api/runner/runs/{run_id:str}"
    tags = ["runner"]

    @get("/", opt={"scope": "runner"}, sync_to_thread=True, responses=_ERRORS)
    def job(
        self,
        engine: EngineDep,
        settings: SettingsDep,
        run_id: FromPath[str],
        token_attempt: TokenAttemptDep,
    ) -> RunnerJob:
        """Everything the runner needs: features, base URL, tags, timeout, artifact folder."""
        return runner.get_job(engine, settings, run_id, token_attempt)

    @post(
        "/steps",
        opt={"scope": "runner"},
        status_code=204,
        sync_to_thread=True,
        responses=_BODY_ERRORS,
    )
    def steps(
        self,
        engine: EngineDep,
        run_id: FromPath[str],
        token_attempt: TokenAttemptDep,
        data: JSONBody[list[StepReport]],
    ) -> None:
        """Finished steps; a report re-sent with the same ``seq`` is ignored."""
        runner.report_steps(engine, run_id, token_attempt, data)

    @post(
        "/heartbeat",
        opt={"scope": "runner"},
        status_code=200,
        sync_to_thread=True,
        response_description="Stop: the run is being cancelled",
        responses={
            204: ResponseSpec(None, description="Noted; carry on"),
            **_BODY_ERRORS,
        },
    )
    def heartbeat(
        self,
        engine: EngineDep,
        run_id: FromPath[str],
        token_attempt: TokenAttemptDep,
        data: JSONBody[Heartbeat],
    ) -> Response[CancelSignal]:
        """The runner is alive; 200 ``{"cancel": true}`` when it should stop."""
        if runner.heartbeat(engine, run_id, token_attempt, data.attempt):
            return Response(CancelSignal(), status_code=200)
        return Response(None, status_code=204)  # type: ignore[arg-type]

    @post(
        "/artifacts",
        opt={"scope": "runner"},
        status_code=204,
        sync_to_thread=True,
        responses=_BODY_ERRORS,
    )
    def artifacts(
        self,
        engine: EngineDep,
        run_id: FromPath[str],
        token_attempt: TokenAttemptDep,
        data: JSONBody[list[ArtifactReport]],
    ) -> None:
        """Uploaded artifacts (upsert); keys must lie in the attempt's folder."""
        runner.report_artifacts(engine, run_id, token_attempt, data)

    @post(
        "/result",
        opt={"scope": "runner"},
        status_code=204,
        sync_to_thread=True,
        responses=_BODY_ERRORS,
    )
    def result(
        self,
        engine: EngineDep,
        run_id: FromPath[str],
        token_attempt: TokenAttemptDep,
        data: JSONBody[RunnerResult],
    ) -> None:
        """The runner's summary of the attempt (the verdict is the controller's)."""
        runner.report_result(engine, run_id, token_attempt, data)
