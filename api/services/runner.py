"""What a runner may do, through its run-scoped token: read its job, report steps,
heartbeat, report artifacts and its result.

The token (``db.runner_tokens``) names one run and one attempt. The HTTP layer checks the
signature and that the token's run is the run in the path (403 otherwise); these
functions check the attempt against the run's *current* attempt under a row lock: a
runner of an attempt the controller has given up on (timed out, retried) gets 409
``StaleAttempt`` and must stop, so it can never write into a newer attempt. A report
whose body names another attempt than its token is 403: the token does not cover it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row, update
from sqlalchemy.dialects import postgresql, sqlite

from artifacts.store import InvalidKey, attempt_prefix, safe_key
from config.settings import Settings
from db.engine import utcnow
from db.tables import artifacts, test_run_steps, test_runs
from schemas.models import (
    ArtifactReport,
    FeatureFile,
    RunnerJob,
    RunnerResult,
    RunParameters,
    StepReport,
)
from schemas.states import Desired

from .errors import Forbidden, StaleAttempt, Unprocessable
from .shapes import load_run, load_test_set


def _insert(conn: Connection, table: Any) -> Any:
    """INSERT … ON CONFLICT for the connection's dialect (both have the same API)."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def _current(
    conn: Connection, run_id: str, token_attempt: int | None, *, lock: bool = True
) -> Row[Any]:
    """The run, locked, after checking the token's attempt is still the current one.

    ``token_attempt`` is None only when auth is disabled; then the current attempt counts.
    """
    run = load_run(conn, run_id, for_update=lock)
    if token_attempt is not None and token_attempt != run.attempt:
        raise StaleAttempt(
            f"attempt {token_attempt} of run {run_id} is no longer current "
            f"(the run is at attempt {run.attempt}); stop reporting",
            currentAttempt=run.attempt,
        )
    return run


def _check_bodies(run: Row[Any], attempts: Sequence[int]) -> None:
    for attempt in attempts:
        if attempt != run.attempt:
            raise Forbidden(f"this token reports for attempt {run.attempt}, not attempt {attempt}")


def get_job(
    engine: Engine, settings: Settings, run_id: str, token_attempt: int | None
) -> RunnerJob:
    with engine.connect() as conn:
        run = _current(conn, run_id, token_attempt, lock=False)
        test_set = load_test_set(conn, run.test_set_id)
    parameters = RunParameters.model_validate(run.parameters or {})
    return RunnerJob(
        run_id=run.id,
        attempt=run.attempt,
        test_set_id=test_set.id,
        base_url=parameters.base_url or test_set.base_url,
        tags=parameters.tags,
        features=[FeatureFile.model_validate(item) for item in test_set.features],
        timeout_seconds=test_set.timeout_seconds or settings.run_timeout_seconds,
        artifacts_prefix=attempt_prefix(run.id, run.attempt),
        traceparent=(run.trace_context or {}).get("traceparent"),
    )


def report_steps(
    engine: Engine, run_id: str, token_attempt: int | None, steps: list[StepReport]
) -> None:
    """Store step reports; one re-sent after a lost answer (same seq) is ignored."""
    now = utcnow()
    with engine.begin() as conn:
        run = _current(conn, run_id, token_attempt)
        _check_bodies(run, [step.attempt for step in steps])
        if not steps:
            return
        rows = [
            {"run_id": run_id, "created_at": now, **step.model_dump(by_alias=False)}
            for step in steps
        ]
        conn.execute(
            _insert(conn, test_run_steps).on_conflict_do_nothing(
                index_elements=["run_id", "attempt", "seq"]
            ),
            rows,
        )


def heartbeat(engine: Engine, run_id: str, token_attempt: int | None, attempt: int) -> bool:
    """Record that the runner is alive; True when it should stop (desired = cancel)."""
    now = utcnow()
    with engine.begin() as conn:
        run = _current(conn, run_id, token_attempt)
        _check_bodies(run, [attempt])
        values: dict[str, Any] = {"heartbeat_at": now}
        if run.started_at is None:
            values["started_at"] = now
        conn.execute(update(test_runs).where(test_runs.c.id == run_id).values(**values))
        return bool(run.desired == Desired.CANCEL.value)


def report_artifacts(
    engine: Engine, run_id: str, token_attempt: int | None, reports: list[ArtifactReport]
) -> None:
    """Upsert artifact rows; each key must lie in this attempt's folder of the store."""
    now = utcnow()
    with engine.begin() as conn:
        run = _current(conn, run_id, token_attempt)
        _check_bodies(run, [report.attempt for report in reports])
        prefix = attempt_prefix(run_id, run.attempt)
        for report in reports:
            try:
                safe_key(report.key)
            except InvalidKey as err:
                raise Unprocessable(str(err)) from err
            if not report.key.startswith(prefix):
                raise Forbidden(f"artifact key {report.key!r} is outside {prefix!r}")
        for report in reports:
            values = {
                "kind": report.kind,
                "content_type": report.content_type,
                "size": report.size,
                "created_at": now,
            }
            statement = _insert(conn, artifacts).values(
                run_id=run_id, attempt=report.attempt, key=report.key, **values
            )
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["run_id", "attempt", "key"], set_=values
                )
            )


def report_result(
    engine: Engine, run_id: str, token_attempt: int | None, result: RunnerResult
) -> None:
    """Keep the runner's summary; the verdict itself is the controller's (exit code)."""
    with engine.begin() as conn:
        run = _current(conn, run_id, token_attempt)
        _check_bodies(run, [result.attempt])
        conn.execute(
            update(test_runs)
            .where(test_runs.c.id == run_id)
            .values(summary=result.summary.model_dump(mode="json"), updated_at=utcnow())
        )
