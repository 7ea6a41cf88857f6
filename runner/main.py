"""``proctor runner --run-id ID``: the runner process, wired to the API and the artifact store.

Everything here is wiring around ``runner.execute.run_job``: fetch the job with the
run-scoped token, turn SIGTERM (ECS StopTask, a local cancel) and a cancel answer to a
heartbeat into the same stop event, pick the store and the browser from ``Settings``, and
return the exit code (0 passed, 1 failed, 2 error, 3 stopped).

A stop must end the process within 25 s (ECS waits 30 s before SIGKILL). The executor
finishes the current step and saves what it has; a watchdog thread exits the process
hard with 3 if that has not happened 24 s after the signal, so a wedged step, browser or
upload can never keep a cancelled run alive. Only the runner's own pid should be
signalled: the Playwright driver and Chromium share its process group and must outlive
the signal long enough to save the video and trace.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from artifacts.store import attempt_prefix, open_store
from config.browser import CHROMIUM_ARGS, browser_executable
from config.settings import Settings
from runner.browser import BrowserOptions, ffmpeg_available
from runner.execute import EXIT_ERROR, EXIT_STOPPED, RunOptions, run_job
from runner.reporter import HttpReporter, JobFetchError
from runner.runlog import RunLog
from schemas.models import RunnerResult, Summary

STOP_DEADLINE_S = 24.0  # from SIGTERM to a hard exit; ECS sends SIGKILL at 30 s
REPORT_FLUSH_S = 30.0  # time to deliver buffered reports after a normal end
REPORT_FLUSH_STOPPING_S = 5.0


class StopSignal:
    """SIGTERM/SIGINT → ``stop`` set, plus the hard-exit watchdog. Restores the old handlers."""

    def __init__(
        self, stop: threading.Event, log: Callable[[str], None], deadline_s: float = STOP_DEADLINE_S
    ) -> None:
        self.stop = stop
        self.log = log
        self.deadline_s = deadline_s
        self.finished = threading.Event()
        self._previous: dict[int, Any] = {}
        self.signal_name: str | None = None
        self._watchdog: threading.Thread | None = None

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_: object) -> None:
        self.finished.set()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        # Runs in the main thread between two bytecodes, possibly while it holds the log's
        # lock: only set flags here; the watchdog thread does the logging.
        self.signal_name = signal.Signals(signum).name
        self.stop.set()
        self.arm()

    def arm(self) -> None:
        """Start the watchdog (also used when the API cancels the run)."""
        if self._watchdog is None:
            self._watchdog = threading.Thread(
                target=self._watch, name="proctor-stop-watchdog", daemon=True
            )
            self._watchdog.start()

    def _watch(self) -> None:
        if self.signal_name:
            self.log(
                f"received {self.signal_name}: finishing the current step, saving artifacts, "
                "exiting with 3"
            )
        if not self.finished.wait(self.deadline_s):
            self.log(f"not stopped {self.deadline_s:.0f} s after the stop request: exiting now")
            os._exit(EXIT_STOPPED)


def _attempt_from_token(token: str) -> int | None:
    """Run-scoped tokens are ``r1.<run_id>.<attempt>.<mac>``: where to put a log without a job."""
    parts = token.split(".")
    if len(parts) >= 4 and parts[0] == "r1" and parts[-2].isdigit():
        return int(parts[-2])
    return None


def _upload_log_only(settings: Settings, run_id: str, log: RunLog) -> None:
    attempt = _attempt_from_token(settings.runner_token)
    if attempt is None:
        return
    try:
        store = open_store(settings.artifacts_url)
        store.put_file(attempt_prefix(run_id, attempt) + "runner.log", log.path)
    except Exception as err:
        log(f"runner.log could not be uploaded: {err!r}")


def main(
    run_id: str,
    settings: Settings,
    *,
    options: RunOptions | None = None,
    report_flush_s: float = REPORT_FLUSH_S,
) -> int:
    """Run ``run_id``'s current attempt; return the process exit code.

    ``options`` replaces the executor options built from ``settings`` (tests pass a shared
    browser); ``report_flush_s`` bounds the wait for an unreachable API at the end.
    """
    work = Path(tempfile.mkdtemp(prefix=f"proctor-{run_id}-"))
    log = RunLog(work / "runner.log")
    stop = options.stop if options else threading.Event()
    try:
        with StopSignal(stop, log) as stopping:

            def cancelled() -> None:
                stop.set()
                stopping.arm()

            reporter = HttpReporter(
                settings.api_url, run_id, settings.runner_token, log=log, on_cancel=cancelled
            )
            try:
                job = reporter.fetch_job()
            except JobFetchError as err:
                log(f"run error: {err}")
                _upload_log_only(settings, run_id, log)
                reporter.close(0)
                return EXIT_ERROR
            prefix = attempt_prefix(run_id, job.attempt)
            if job.artifacts_prefix != prefix:
                log(f"artifacts go to {prefix} (the job said {job.artifacts_prefix!r})")
                job = job.model_copy(update={"artifacts_prefix": prefix})
            reporter.start(job.attempt)
            video = ffmpeg_available()
            if not video and options is None:
                log("no video: Playwright's ffmpeg is not installed (`playwright install ffmpeg`)")
            run_options = options or RunOptions(
                browser=BrowserOptions(
                    executable=browser_executable(settings), args=CHROMIUM_ARGS, video=video
                ),
                steps_path=list(settings.steps_path),
                stop=stop,
                # The launcher's TRACEPARENT continues the trace the API started for the run.
                traceparent=os.environ.get("TRACEPARENT") or None,
            )
            run_options.work_dir = work
            started = time.monotonic()
            try:
                store = open_store(settings.artifacts_url)
                outcome = run_job(job, store, reporter, run_options, log=log)
            except Exception as err:  # no store, or a runner bug: still a result, never a hang
                message = f"the runner could not run: {type(err).__name__}: {err}"
                log(f"run error: {message}")
                reporter.result(
                    RunnerResult(
                        attempt=job.attempt, exit_code=EXIT_ERROR, summary=Summary(), error=message
                    )
                )
                reporter.close(REPORT_FLUSH_STOPPING_S)
                return EXIT_ERROR
            flush = (
                min(REPORT_FLUSH_STOPPING_S, report_flush_s) if stop.is_set() else report_flush_s
            )
            delivered = reporter.close(flush)
            log(
                f"finished in {time.monotonic() - started:.1f} s with exit code "
                f"{outcome.exit_code}" + ("" if delivered else " (some reports not delivered)")
            )
            return outcome.exit_code
    finally:
        log.close()
        shutil.rmtree(work, ignore_errors=True)
