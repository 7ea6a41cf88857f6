"""The reconcile loop: observe, plan, apply — and claim new work when slots are free.

One tick:

1. observe the runs that need attention (``claims.observe``), the state of their tasks
   (``Launcher.describe``) and, for tasks that ended, the attempt's uploaded report;
2. ``plan`` (pure) decides; 3. each action is applied in its own short transaction,
   around — never across — the launcher's network calls;
4. claim up to the free slots of pending runs and launch them.

``run_forever`` runs ticks when woken: by the APScheduler interval job (the safety net,
``poll_interval_seconds``), by PostgreSQL NOTIFY (a new pending run), or by a local runner
exiting. Ticks never overlap. On stop it finishes the tick and releases its claims. A lost
database connection or an Aurora failover (SQLSTATE 25006, the old writer is read-only)
ends the tick; the pool is dropped and the next tick reconnects.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from opentelemetry import trace
from opentelemetry.trace import Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from artifacts.store import ArtifactStore, StoredObject, attempt_prefix
from config.settings import Settings
from controller import claims
from controller.launcher import (
    Launcher,
    LaunchError,
    LaunchOutcomeUnknown,
    LaunchSpec,
    TaskState,
    TaskView,
    TransientLaunchError,
)
from controller.plan import (
    Action,
    Finish,
    Launch,
    Limits,
    MarkRunning,
    RecordLaunch,
    Requeue,
    RunView,
    Stop,
    after_launch,
    plan,
)
from controller.report import summarize_cucumber
from db.engine import RUNS_CHANNEL, utcnow
from db.runner_tokens import load_key, mint
from schemas.models import Summary
from schemas.states import RunStatus

log = logging.getLogger(__name__)

#: Called at named points of a launch ("after_claim", "after_launch") with the run id.
#: Tests inject crashes there; production passes nothing.
FaultHook = Callable[[str, str], None]

_PROPAGATOR = TraceContextTextMapPropagator()

_READ_ONLY_SQLSTATE = "25006"  # Aurora failover: connected to the old writer, now a reader


@dataclass
class TickReport:
    observed: int = 0
    claimed: int = 0
    launched: int = 0
    finished: int = 0
    requeued: int = 0
    stopped: int = 0
    swept: int = 0


def default_controller_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def limits_from(settings: Settings, controller_id: str, launcher: Launcher) -> Limits:
    return Limits(
        controller_id=controller_id,
        run_timeout=timedelta(seconds=settings.run_timeout_seconds),
        launch_timeout=timedelta(seconds=settings.launch_timeout_seconds),
        heartbeat_timeout=timedelta(seconds=settings.heartbeat_timeout_seconds),
        heartbeat_required=launcher.heartbeat_required,
    )


def make_launcher(settings: Settings, on_exit: Callable[[], None] | None = None) -> Launcher:
    if settings.launcher == "ecs":
        from controller.ecs import EcsLauncher

        return EcsLauncher.from_settings(settings)
    from controller.local import LocalLauncher

    return LocalLauncher(settings.home, on_exit=on_exit)


def is_disconnect(err: DBAPIError) -> bool:
    """Connection lost, or a failover left us on a read-only node: reconnect and go on."""
    sqlstate = getattr(err.orig, "sqlstate", None)
    return (
        bool(err.connection_invalidated)
        or sqlstate == _READ_ONLY_SQLSTATE
        or (sqlstate is not None and sqlstate.startswith("08"))
    )


class Controller:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: ArtifactStore,
        launcher: Launcher | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        controller_id: str | None = None,
        limits: Limits | None = None,
        sweep_interval: timedelta = timedelta(seconds=60),
        faults: FaultHook | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.store = store
        self.id = controller_id or default_controller_id()
        self._wake = threading.Event()
        self._new_runs = threading.Event()
        self.launcher = launcher or make_launcher(settings, on_exit=self.wake)
        if getattr(self.launcher, "on_exit", False) is None:
            self.launcher.on_exit = self.wake  # type: ignore[attr-defined]
        self.limits = limits or limits_from(settings, self.id, self.launcher)
        self._clock = clock
        self._lease = timedelta(seconds=settings.claim_lease_seconds)
        if settings.claim_lease_seconds < 3 * settings.poll_interval_seconds:
            log.warning(
                "PROCTOR_CLAIM_LEASE_SECONDS (%s) should be several tick intervals (%s s): "
                "replicas may take over runs from a live controller",
                settings.claim_lease_seconds,
                settings.poll_interval_seconds,
            )
        self._sweep_interval = sweep_interval
        self._last_sweep: datetime | None = None
        self._faults = faults
        self._tracer = tracer or trace.get_tracer("proctor.controller")
        self._signing_key: bytes | None = None
        self._conn: Connection | None = None
        # Objects found in an attempt's folder this tick, registered when it is recorded.
        self._objects: dict[tuple[str, int], list[StoredObject]] = {}

    # ----- the loop --------------------------------------------------------------------------

    def wake(self) -> None:
        """Run a tick as soon as the current one (if any) ends."""
        self._wake.set()

    def wake_for_new_runs(self) -> None:
        """A pending run was committed (NOTIFY): tick now, and claim before following."""
        self._new_runs.set()
        self._wake.set()

    def run_forever(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set; then finish the tick and release our claims."""
        # APScheduler logs every run of the wake-up job at INFO: that is one line per tick.
        executor_log = logging.getLogger("apscheduler.executors.default")
        if executor_log.level == logging.NOTSET:
            executor_log.setLevel(logging.WARNING)
        scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        scheduler.add_job(
            self.wake,
            "interval",
            seconds=self.settings.poll_interval_seconds,
            id="proctor-tick",
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        listener = None
        if self.engine.dialect.name == "postgresql":
            from controller.wakeup import NotifyListener

            listener = NotifyListener(self.engine.url, RUNS_CHANNEL, self.wake_for_new_runs, stop)
            listener.start()

        def wake_on_stop() -> None:
            stop.wait()
            self.wake()

        threading.Thread(target=wake_on_stop, name="proctor-stop", daemon=True).start()
        log.info("controller %s started (launcher %s)", self.id, type(self.launcher).__name__)
        try:
            while True:
                self._wake.wait()
                if stop.is_set():
                    break
                self._wake.clear()
                if not self.safe_tick():
                    stop.wait(min(self.settings.poll_interval_seconds, 1.0))
        finally:
            scheduler.shutdown(wait=False)
            self.shutdown()
            if listener is not None:
                listener.join(timeout=5)
            log.info("controller %s stopped", self.id)

    def safe_tick(self) -> bool:
        """A tick that survives database outages; False when it failed."""
        try:
            self.tick()
            return True
        except DBAPIError as err:
            if is_disconnect(err):
                log.warning(
                    "database connection lost (%s); reconnecting",
                    str(err.orig).strip() or type(err.orig).__name__,
                )
                self.engine.dispose()
            else:
                log.exception("tick failed")
            return False
        except Exception:
            log.exception("tick failed")
            return False

    def shutdown(self) -> None:
        """End our leases so other replicas take over our runs at once (SIGTERM, restart)."""
        try:
            with self.engine.begin() as conn:
                released = claims.release_claims(conn, controller_id=self.id, now=self._clock())
            if released:
                log.info("released %d claims", released)
        except DBAPIError:
            log.warning("could not release claims; they expire after their lease")
        self.launcher.close()

    # ----- one tick ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A short transaction on the tick's connection (one pool checkout per tick).

        It commits when the block ends, so nothing is held across the launcher's calls in
        between; the connection is merely idle then.
        """
        conn = self._conn
        if conn is None:
            with self.engine.begin() as fresh:
                yield fresh
            return
        with conn.begin():
            yield conn

    def tick(self, now: datetime | None = None) -> TickReport:
        with self.engine.connect() as conn:
            self._conn = conn
            try:
                return self._tick(now or self._clock())
            finally:
                self._conn = None

    def _tick(self, now: datetime) -> TickReport:
        report = TickReport()
        self._objects.clear()
        claimed_first = self._new_runs.is_set()
        if claimed_first:
            # Woken by NOTIFY: a new run waits. Claim before following, so the dispatch
            # latency is one claim, not a whole tick.
            self._new_runs.clear()
            self._claim_and_launch(now, report, ours=0)
        runs, tasks = self._observe(now)
        report.observed = len(runs)
        self._apply(plan(runs, tasks, now, self.limits), now, report)
        if not claimed_first or report.finished or report.requeued:
            self._claim_and_launch(now, report, ours=sum(1 for r in runs if r.status.active))
        if self._last_sweep is None or now - self._last_sweep >= self._sweep_interval:
            self._last_sweep = now
            report.swept = self.sweep()
        return report

    def _claim_and_launch(self, now: datetime, report: TickReport, *, ours: int) -> None:
        # When our own runs alone fill every slot there is nothing to claim: skip the
        # locked count (the claim itself re-counts all replicas' runs under its lock).
        if ours - report.finished - report.requeued >= self.settings.max_concurrent_runs:
            return
        with self._tx() as conn:
            claimed = claims.claim_pending(
                conn,
                controller_id=self.id,
                max_active=self.settings.max_concurrent_runs,
                now=now,
                lease=self._lease,
            )
        report.claimed += len(claimed)
        for run in claimed:
            self._launch(run, now, report)

    def _observe(self, now: datetime) -> tuple[list[RunView], dict[str, TaskView]]:
        with self._tx() as conn:
            claims.renew_leases(conn, controller_id=self.id, now=now, lease=self._lease)
            taken = claims.take_over_expired(
                conn, controller_id=self.id, now=now, lease=self._lease
            )
            if taken:
                log.warning("took over %d runs whose controller's lease expired", taken)
            runs = claims.observe(conn, controller_id=self.id, now=now)
        refs = [run.executor_ref for run in runs if run.executor_ref]
        tasks: dict[str, TaskView] = {}
        if refs:
            try:
                tasks = self.launcher.describe(refs)
            except Exception:
                log.exception("could not describe %d tasks; trying again next tick", len(refs))
        observed = []
        for run in runs:
            task = tasks.get(run.executor_ref) if run.executor_ref else None
            if task is not None and task.state in (TaskState.STOPPED, TaskState.MISSING):
                run = replace(run, report=self._read_report(run))
            observed.append(run)
        return observed, tasks

    def _read_report(self, run: RunView) -> Summary | None:
        """The attempt's cucumber.json summary, and the objects to register with the run."""
        prefix = attempt_prefix(run.id, run.attempt)
        try:
            objects = self.store.list(prefix)
            self._objects[(run.id, run.attempt)] = objects
            if not any(obj.key == prefix + "cucumber.json" for obj in objects):
                return None
            data = self.store.get_bytes(prefix + "cucumber.json")
        except Exception:
            log.exception("could not read the artifacts of run %s", run.id)
            return None
        return summarize_cucumber(data) if data is not None else None

    # ----- applying -----------------------------------------------------------------------------

    def _apply(self, actions: list[Action], now: datetime, report: TickReport) -> None:
        failed: set[str] = set()
        for action in actions:
            if action.run.id in failed:
                continue
            try:
                self._apply_one(action, now, report)
            except DBAPIError:
                raise
            except TransientLaunchError as err:
                # Throttled or unreachable (a stop, most often): the next tick plans it again.
                log.warning(
                    "could not apply %s to run %s now: %s",
                    type(action).__name__,
                    action.run.id,
                    err,
                )
                failed.add(action.run.id)
            except Exception:
                log.exception("could not apply %s to run %s", type(action).__name__, action.run.id)
                failed.add(action.run.id)

    def _apply_one(self, action: Action, now: datetime, report: TickReport) -> None:
        run = action.run
        if isinstance(action, Launch):
            with self._tx() as conn:
                taken = claims.take_claim(
                    conn,
                    run,
                    controller_id=self.id,
                    now=now,
                    lease=self._lease,
                    reclaim=action.reclaim,
                )
            if taken:
                self._launch(replace(run, claimed_by=self.id), now, report, resume=action.reclaim)
        elif isinstance(action, RecordLaunch):
            self._record_launch(action, now, report)
        elif isinstance(action, MarkRunning):
            with self._tx() as conn:
                claims.mark_running(conn, run, actor=self.id, now=now)
        elif isinstance(action, Stop):
            self.launcher.stop(action.ref, action.reason, force=action.force)
            report.stopped += 1
        elif isinstance(action, Finish):
            with self._tx() as conn:
                done = claims.finish(
                    conn,
                    run,
                    action.status,
                    action.reason,
                    actor=self.id,
                    now=now,
                    exit_code=action.exit_code,
                    stop_code=action.stop_code,
                    stopped_reason=action.stopped_reason,
                    error=action.error,
                    summary=action.summary,
                )
                if done:
                    self._register(conn, run, now)
            if done:
                report.finished += 1
                log.info(
                    "run %s attempt %d → %s: %s", run.id, run.attempt, action.status, action.reason
                )
        elif isinstance(action, Requeue):
            with self._tx() as conn:
                done = claims.requeue(
                    conn,
                    run,
                    action.kind,
                    action.reason,
                    not_before=action.not_before,
                    actor=self.id,
                    now=now,
                    exit_code=action.exit_code,
                    stop_code=action.stop_code,
                )
                if done:
                    self._register(conn, run, now)
            if done:
                report.requeued += 1
                log.info("run %s attempt %d → pending: %s", run.id, run.attempt, action.reason)

    def _register(self, conn: Connection, run: RunView, now: datetime) -> None:
        objects = self._objects.get((run.id, run.attempt))
        if objects:
            claims.register_artifacts(conn, run.id, run.attempt, objects, now)

    def _runner_env(self, run: RunView) -> dict[str, str]:
        if self._signing_key is None:
            with self._tx() as conn:
                self._signing_key = load_key(conn)
        env = {
            "PROCTOR_API_URL": self.settings.api_url,
            "PROCTOR_RUNNER_TOKEN": mint(self._signing_key, run.id, run.attempt),
            "PROCTOR_ARTIFACTS_URL": self.settings.artifacts_url,
            "PROCTOR_RUN_ID": run.id,
            "PROCTOR_ATTEMPT": str(run.attempt),
        }
        # The runner continues the run's trace under our launch span (the current span);
        # with tracing off, under the span that created the run.
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        traceparent = carrier.get("traceparent") or (run.trace_context or {}).get("traceparent")
        if traceparent:
            env["TRACEPARENT"] = traceparent
        return env

    def _launch(
        self, run: RunView, now: datetime, report: TickReport, *, resume: bool = False
    ) -> None:
        """Start the claimed attempt (no transaction open), then record what happened."""
        if self._faults is not None:
            self._faults("after_claim", run.id)
        stored = (run.trace_context or {}).get("traceparent")
        parent = _PROPAGATOR.extract({"traceparent": stored}) if stored else None
        ref: str | None = None
        error: LaunchError | None = None
        adopted = False
        with self._tracer.start_as_current_span(
            "proctor.controller.launch",
            context=parent,
            attributes={"proctor.run_id": run.id, "proctor.attempt": run.attempt},
        ) as span:
            spec = LaunchSpec(
                run.id, run.attempt, run.launch_failures, self._runner_env(run), resume=resume
            )
            try:
                result = self.launcher.launch(spec)
                ref, adopted = result.ref, result.adopted
                span.set_attribute("proctor.executor_ref", ref)
            except LaunchError as err:
                error = err
                span.set_attribute("proctor.launch_error", err.code)
                log.warning(
                    "launch of run %s attempt %d failed: %s: %s",
                    run.id,
                    run.attempt,
                    err.code,
                    err,
                )
            except Exception as err:
                log.exception(
                    "launch of run %s attempt %d failed unexpectedly", run.id, run.attempt
                )
                error = LaunchOutcomeUnknown(str(err), code=type(err).__name__)
        if self._faults is not None and ref is not None:
            self._faults("after_launch", run.id)
        if ref is not None:
            report.launched += 1
        self._apply(after_launch(run, ref, error, now, self.limits, adopted=adopted), now, report)

    def _record_launch(self, action: RecordLaunch, now: datetime, report: TickReport) -> None:
        run = action.run
        with self._tx() as conn:
            recorded = claims.record_launch(
                conn, run, action.ref, controller_id=self.id, now=now, adopted=action.adopted
            )
            current = None if recorded else claims.current_task(conn, run.id)
        if recorded or current is None:
            return
        status, attempt, ref = current
        if ref == action.ref:
            return  # another replica took over our claim and recorded the same task
        if status == RunStatus.LAUNCHING.value and attempt == run.attempt and ref is None:
            return  # our lease was taken over; the new owner adopts this task by its token
        log.warning(
            "run %s no longer wants task %s (now %s, attempt %d); stopping it",
            run.id,
            action.ref,
            status,
            attempt,
        )
        self.launcher.stop(action.ref, "the run no longer wants this task")
        report.stopped += 1

    # ----- orphans ----------------------------------------------------------------------------

    def sweep(self) -> int:
        """Stop tasks we started whose run is finished, unknown or on another attempt."""
        try:
            owned = self.launcher.list_owned()
        except TransientLaunchError as err:
            # Throttling or a network blip: the next sweep tries again.
            log.warning("orphan sweep skipped: %s", err)
            return 0
        except Exception:
            log.exception("could not list our tasks for the orphan sweep")
            return 0
        if not owned:
            return 0
        with self._tx() as conn:
            states = claims.run_states(conn, sorted({task.run_id for task in owned}))
        stopped = 0
        for task in owned:
            state = states.get(task.run_id)
            unwanted = (
                state is None
                or state.status.terminal
                or state.attempt != task.attempt
                or state.status is RunStatus.PENDING
            )
            if unwanted:
                log.warning(
                    "stopping orphan task %s (run %s attempt %d)",
                    task.ref,
                    task.run_id,
                    task.attempt,
                )
                try:
                    self.launcher.stop(task.ref, "orphan: its run is finished or unknown")
                    stopped += 1
                except TransientLaunchError as err:
                    log.warning("could not stop orphan task %s now: %s", task.ref, err)
                except Exception:
                    log.exception("could not stop orphan task %s", task.ref)
        return stopped
