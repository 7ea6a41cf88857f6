"""Run one job: features in, reports and artifacts out. No HTTP here.

``run_job(job, store, reporter, options)`` parses the job's features, selects scenarios by
the job's tag expression, runs them (one browser for the process, a fresh context per
scenario), reports every finished step, writes the reports, uploads the attempt's
artifacts, reports the result and returns the ``Outcome`` with the exit code (DESIGN.md):

    0  every scenario passed          2  no verdict: a feature that does not parse, a step
    1  something failed or undefined     module that does not load, a browser that will
    3  stopped (SIGTERM or cancel)       not start or crashed

Stopping (``options.stop`` set by SIGTERM or a cancel from the API) lets the current step
finish (Playwright's timeouts bound it), marks the rest skipped, and still saves the
screenshots, video, trace and a partial cucumber.json.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cucumber_tag_expressions import TagExpressionError
from cucumber_tag_expressions import parse as parse_tags
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer
from playwright.sync_api import Browser
from playwright.sync_api import Error as PlaywrightError

from artifacts.store import ArtifactStore, StoredObject
from config.tracing import context_from_traceparent
from runner import builtin_steps
from runner import features as gherkin
from runner.browser import (
    BrowserCrashed,
    BrowserHost,
    BrowserOptions,
    BrowserStartError,
    ScenarioSession,
)
from runner.context import Embedding, StepContext, StepRecord
from runner.library import Ambiguous, Hook, StepLibrary, StepLoadError, build_library
from runner.publish import SCRATCH, artifact_reports, upload_folder, write_reports
from runner.reporter import Reporter
from runner.results import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_PASSED,
    EXIT_STOPPED,
    FAILED,
    PASSED,
    PENDING,
    SKIPPED,
    UNDEFINED,
    HookResult,
    ScenarioResult,
    StepResult,
    exit_code_for,
    summarize,
)
from runner.runlog import RunLog
from runner.steps import Pending
from schemas.models import RunnerJob, RunnerResult, StepReport, Summary

MAX_ERROR_CHARS = 4000
_PLAYWRIGHT = f"{os.sep}playwright{os.sep}"


@dataclass
class RunOptions:
    browser: BrowserOptions = field(default_factory=BrowserOptions)
    steps_path: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    command_limit_s: float = 120.0
    expect_timeout_ms: int = 5_000
    work_dir: Path | None = None  # default: a temporary folder, removed afterwards
    shared_browser: Browser | None = None  # tests share one Chromium across jobs
    library: StepLibrary | None = None  # default: built-ins + steps_path
    upload_attempts: int = 4
    tracer: Tracer | None = None  # default: the global provider's (no-op unless configured)
    traceparent: str | None = None  # W3C parent of the run's span; default the job's


@dataclass
class Outcome:
    exit_code: int
    summary: Summary
    error: str | None
    results: list[ScenarioResult]
    artifacts: list[StoredObject]
    cucumber: list[dict[str, Any]]


class RunAborted(Exception):
    """The run cannot go on and has no verdict (exit 2)."""


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "x"


def _speaks_for_itself(filename: str) -> bool:
    return _PLAYWRIGHT in filename or filename == builtin_steps.__file__


def _error_text(err: BaseException) -> str:
    """A step's error as its author wants to read it: Playwright's errors and ``expect``
    messages as they are; anything else (an ``assert`` in a project step, an exception)
    with the traceback of the step's own code, without the runner's frames."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename != __file__]
    if isinstance(err, PlaywrightError):
        text = f"{type(err).__name__}: {err}"
    elif isinstance(err, AssertionError) and frames and _speaks_for_itself(frames[-1].filename):
        text = str(err)  # an `expect` or built-in step assertion: its message says it all
    else:
        lines = traceback.format_list(frames[-6:])
        text = "Traceback (most recent call last):\n" + "".join(lines)
        text += "".join(traceback.format_exception_only(err))
        text = text.rstrip()
    return text[:MAX_ERROR_CHARS]


class JobRun:
    """The state of one job while it runs; ``run_job`` is its only caller."""

    def __init__(
        self,
        job: RunnerJob,
        store: ArtifactStore,
        reporter: Reporter,
        options: RunOptions,
        work: Path,
        log: RunLog,
    ) -> None:
        self.job = job
        self.store = store
        self.reporter = reporter
        self.options = options
        self.work = work
        self.log = log
        self.prefix = job.artifacts_prefix
        self.seq = 0
        self.shots = 0
        self.traces: list[Path] = []
        self.error: str | None = None
        self.host = BrowserHost(options.browser, shared=options.shared_browser)
        self.library: StepLibrary | None = None
        self.tracer = options.tracer or trace.get_tracer("proctor.runner")

    # ----- steps and hooks ---------------------------------------------------------------

    def _screenshot_path(self, name: str) -> Path:
        self.shots += 1
        return self.work / "screenshots" / f"{self.shots:03d}-{_slug(name)}.png"

    def _report(self, scenario: gherkin.Scenario, result: StepResult) -> None:
        self.seq += 1
        self.reporter.step(
            StepReport(
                attempt=self.job.attempt,
                seq=self.seq,
                feature=scenario.feature.path,
                scenario=scenario.name,
                line=result.step.line,
                keyword=result.step.keyword.strip(),
                text=result.step.text,
                status=result.status,
                duration_ms=result.duration_ns // 1_000_000,
                error=result.error,
                screenshot_key=self.prefix + result.record.screenshot
                if result.record.screenshot
                else None,
            )
        )

    def _call_hook(self, hook: Hook, ctx: StepContext) -> tuple[str, str | None, int]:
        started = time.perf_counter_ns()
        try:
            hook.fn(ctx)
        except (BrowserStartError, BrowserCrashed):
            raise
        except Exception as err:
            return FAILED, _error_text(err), time.perf_counter_ns() - started
        return PASSED, None, time.perf_counter_ns() - started

    def _failure_screenshot(self, ctx: StepContext, record: StepRecord, text: str) -> None:
        page = ctx.session.existing_page()
        if page is None or ctx.session.crash_reason or page.is_closed():
            return
        target = self._screenshot_path(f"failed-{text}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            data = page.screenshot(path=str(target), timeout=10_000)
        except Exception as err:
            self.log(f"  (no failure screenshot: {type(err).__name__}: {str(err)[:200]})")
            return
        record.screenshot = target.relative_to(self.work).as_posix()
        record.embeddings.append(
            Embedding("image/png", base64.b64encode(data).decode("ascii"), target.name)
        )

    def _run_step(self, ctx: StepContext, step: gherkin.Step, skipping: bool) -> StepResult:
        assert self.library is not None
        found = self.library.find(step.text)
        if found is None:
            snippet = self.library.snippet(
                step.text,
                data_table=step.data_table is not None,
                doc_string=step.doc_string is not None,
            )
            self.log(
                f"  undefined step: {step.keyword}{step.text}\n  You can implement it with:"
                f"\n{snippet}"
            )
            return StepResult(
                step, UNDEFINED, error=f"Undefined step. Implement it with:\n\n{snippet}"
            )
        if isinstance(found, Ambiguous):
            return StepResult(step, FAILED, error=found.message(step.text))
        result = StepResult(
            step, SKIPPED, location=found.definition.location, arguments=found.arguments
        )
        if skipping:
            return result
        ctx.step, ctx.step_status, ctx.record = step, None, result.record
        args: list[Any] = [argument.value for argument in found.arguments]
        if step.data_table is not None:
            args.append(step.data_table)
        if step.doc_string is not None:
            args.append(step.doc_string.content)
        started = time.perf_counter_ns()
        status, error = PASSED, None
        try:
            for hook in self.library.hooks_for("before_step", ctx.scenario.tags):
                hook_status, hook_error, _ = self._call_hook(hook, ctx)
                if hook_status == FAILED:
                    raise AssertionError(f"before-step hook {hook.location} failed: {hook_error}")
            found.definition.fn(ctx, *args)
        except (BrowserStartError, BrowserCrashed):
            raise
        except Pending as err:
            status, error = PENDING, str(err) or "pending"
        except Exception as err:
            status, error = FAILED, _error_text(err)
        ctx.step_status = status
        for hook in self.library.hooks_for("after_step", ctx.scenario.tags):
            hook_status, hook_error, _ = self._call_hook(hook, ctx)
            if hook_status == FAILED and status != FAILED:
                status, error = FAILED, f"after-step hook {hook.location} failed: {hook_error}"
        result.status, result.error = status, error
        result.duration_ns = time.perf_counter_ns() - started
        crashed = ctx.session.settle() if status == FAILED else ctx.session.crash_reason
        if crashed:
            raise BrowserCrashed(crashed)
        if status == FAILED:
            self._failure_screenshot(ctx, result.record, step.text)
        return result

    # ----- scenarios ---------------------------------------------------------------------

    def run_scenario(self, index: int, scenario: gherkin.Scenario) -> ScenarioResult:
        assert self.library is not None
        where = f"{scenario.feature.path}:{scenario.line}"
        self.log(f"scenario {index}: {scenario.name!r} ({where})")
        session = ScenarioSession(self.host, self.work / SCRATCH / f"{index:03d}", scenario.name)
        ctx = StepContext(
            base_url=self.job.base_url,
            scenario=scenario,
            session=session,
            work=self.work,
            stop=self.options.stop,
            log_line=self.log,
            screenshot_name=self._screenshot_path,
            command_limit_s=self.options.command_limit_s,
            expect_timeout_ms=self.options.expect_timeout_ms,
        )
        result = ScenarioResult(scenario, started_at=datetime.now(UTC))
        skipping = False
        try:
            for hook in self.library.hooks_for("before_scenario", scenario.tags):
                status, error, duration = self._call_hook(hook, ctx)
                result.before.append(
                    HookResult("before_scenario", hook.location, status, duration, error)
                )
                if status == FAILED:
                    skipping = True
                    self.log(f"  before hook {hook.location} failed: {error}")
                    break
            for step in scenario.steps:
                skipping = skipping or self.options.stop.is_set()
                with self.tracer.start_as_current_span(
                    f"{step.keyword.strip()} {step.text}",
                    attributes={"proctor.step.line": step.line},
                ) as span:
                    step_result = self._run_step(ctx, step, skipping)
                    _end_span(span, step_result.status, step_result.error)
                result.steps.append(step_result)
                self.log(
                    f"  {step_result.status:9} {step.keyword}{step.text}"
                    f" ({step_result.duration_ns / 1e6:.0f} ms)"
                )
                if step_result.error and step_result.status == FAILED:
                    self.log("    " + step_result.error.replace("\n", "\n    "))
                self._report(scenario, step_result)
                if step_result.status != PASSED:
                    skipping = True
            ctx.scenario_status = result.status
            for hook in self.library.hooks_for("after_scenario", scenario.tags):
                status, error, duration = self._call_hook(hook, ctx)
                result.after.append(
                    HookResult("after_scenario", hook.location, status, duration, error)
                )
                if status == FAILED:
                    self.log(f"  after hook {hook.location} failed: {error}")
        except (BrowserStartError, BrowserCrashed) as err:
            if self.options.stop.is_set():
                # Whoever stopped us may have taken the browser down too: still a stop.
                self.log(f"  the browser went away while stopping: {err}")
            else:
                self.error = str(err)
                self.log(f"  run error: {err}")
            done = len(result.steps)
            if done < len(scenario.steps):
                # The step that hit the browser failure, then the rest unrun.
                failed = StepResult(scenario.steps[done], FAILED, error=str(err))
                result.steps.append(failed)
                self._report(scenario, failed)
                for step in scenario.steps[done + 1 :]:
                    skipped = StepResult(step, SKIPPED)
                    result.steps.append(skipped)
                    self._report(scenario, skipped)
        finally:
            video, trace = session.close(
                self.work / "videos" / f"{index:03d}-{_slug(scenario.name)}.webm",
                self.work / SCRATCH / f"trace-{index:03d}.zip",
            )
            if video:
                result.video = video.relative_to(self.work).as_posix()
            if trace:
                self.traces.append(trace)
        self.log(f"  → {result.status}")
        return result

    def not_run(self, scenario: gherkin.Scenario) -> ScenarioResult:
        result = ScenarioResult(scenario, started_at=None)
        for step in scenario.steps:
            step_result = StepResult(step, SKIPPED)
            result.steps.append(step_result)
            self._report(scenario, step_result)
        return result


def _end_span(span: Span, status: str, error: str | None) -> None:
    span.set_attribute("proctor.status", status)
    if status == FAILED or error:
        span.set_status(Status(StatusCode.ERROR, (error or status)[:500]))


def _select(scenarios: list[gherkin.Scenario], tags: str | None) -> list[gherkin.Scenario]:
    if not tags or not tags.strip():
        return scenarios
    expression = parse_tags(tags)
    return [scenario for scenario in scenarios if expression.evaluate(scenario.tags)]


def run_job(
    job: RunnerJob,
    store: ArtifactStore,
    reporter: Reporter,
    options: RunOptions,
    *,
    log: RunLog | None = None,
) -> Outcome:
    """Run the job to an ``Outcome``; reports and artifacts are delivered on the way."""
    own_work = options.work_dir is None
    work = options.work_dir or Path(tempfile.mkdtemp(prefix=f"proctor-{job.run_id}-"))
    work.mkdir(parents=True, exist_ok=True)
    own_log = log is None
    log = log or RunLog(work / "runner.log")
    run = JobRun(job, store, reporter, options, work, log)
    root = run.tracer.start_span(
        "proctor.runner",
        context=context_from_traceparent(options.traceparent or job.traceparent),
        attributes={
            "proctor.run_id": job.run_id,
            "proctor.attempt": job.attempt,
            "proctor.test_set_id": job.test_set_id,
        },
    )
    attached = otel_context.attach(trace.set_span_in_context(root))
    log(
        f"run {job.run_id} attempt {job.attempt}: test set {job.test_set_id!r}, "
        f"{len(job.features)} feature file(s), base URL {job.base_url or '(none)'}, "
        f"tags {job.tags or '(all)'}"
    )
    loaded = gherkin.Loaded()
    results: list[ScenarioResult] = []
    try:
        loaded = gherkin.load(job.features)
        if loaded.failures:
            raise RunAborted(
                "feature file(s) could not be parsed:\n"
                + "\n".join(str(failure) for failure in loaded.failures)
            )
        try:
            run.library = options.library or build_library(options.steps_path)
        except StepLoadError as err:
            raise RunAborted(f"step definitions could not be loaded: {err}") from err
        try:
            selected = _select(loaded.scenarios, job.tags)
        except TagExpressionError as err:
            raise RunAborted(f"invalid tag expression {job.tags!r}: {err}") from err
        log(
            f"{len(selected)} of {len(loaded.scenarios)} scenario(s) selected; "
            f"{len(run.library.definitions)} step definition(s)"
        )
        for index, scenario in enumerate(selected, start=1):
            if options.stop.is_set() or run.error:
                results.append(run.not_run(scenario))
                continue
            with run.tracer.start_as_current_span(
                f"scenario {scenario.name}",
                attributes={
                    "proctor.feature": scenario.feature.path,
                    "proctor.scenario.line": scenario.line,
                    "proctor.tags": scenario.tags,
                },
            ) as span:
                result = run.run_scenario(index, scenario)
                failure = result.failure
                _end_span(span, result.status, failure[1] if failure else None)
            results.append(result)
        if options.stop.is_set():
            log("stopped: the scenarios not run are reported skipped")
    except RunAborted as err:
        run.error = str(err)
        log(f"run error: {err}")
    except Exception as err:  # a bug in the runner must still end with a result
        run.error = f"internal runner error: {_error_text(err)}"
        log(run.error)
    finally:
        run.host.close()

    exit_code = exit_code_for(error=run.error, stopped=options.stop.is_set(), results=results)
    summary = summarize(results)
    report: list[dict[str, Any]] = []
    try:
        report = write_reports(
            work, loaded.features, results, run.traces, suite_name=job.test_set_id, log=log
        )
    except Exception as err:
        log(f"writing the reports failed: {_error_text(err)}")
        if exit_code != EXIT_STOPPED:
            exit_code, run.error = EXIT_ERROR, run.error or f"reports failed: {err}"
    s = summary.scenarios
    log(
        f"result: exit {exit_code}; scenarios passed {s.passed}, failed {s.failed}, "
        f"undefined {s.undefined}, skipped {s.skipped}"
        + (f"; error: {run.error}" if run.error else "")
    )
    stored = upload_folder(work, store, run.prefix, log=log, attempts=options.upload_attempts)
    reporter.artifacts(artifact_reports(job.attempt, stored))
    error = run.error or ("stopped by SIGTERM or cancel" if exit_code == EXIT_STOPPED else None)
    reporter.result(
        RunnerResult(attempt=job.attempt, exit_code=exit_code, summary=summary, error=error)
    )
    root.set_attribute("proctor.exit_code", exit_code)
    _end_span(root, "passed" if exit_code == EXIT_PASSED else "failed", error)
    root.end()
    otel_context.detach(attached)
    if own_log:
        log.close()
    if own_work:
        shutil.rmtree(work, ignore_errors=True)
    return Outcome(exit_code, summary, error, results, stored, report)


__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILED",
    "EXIT_PASSED",
    "EXIT_STOPPED",
    "Outcome",
    "RunOptions",
    "run_job",
]
