"""What running a scenario produced, and how statuses roll up (Cucumber's rules).

A step is ``passed``, ``failed``, ``skipped`` (not run: an earlier step failed or the run
is stopping), ``undefined`` (no definition; reported so even after a failure, so authors
see every missing step) or ``pending``. A scenario is failed if anything in it failed
(a step or a hook), else undefined/pending if a step was, else skipped if nothing ran,
else passed. The reports (``runner.cucumber``, ``runner.junit``) and the summary the API
stores are all derived from these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from runner.context import StepRecord
from runner.features import Scenario, Step
from runner.library import Argument
from schemas.models import Counts, Summary

PASSED, FAILED, SKIPPED, UNDEFINED, PENDING = "passed", "failed", "skipped", "undefined", "pending"

# The runner's exit codes (DESIGN.md): what the controller turns into the run's status.
EXIT_PASSED, EXIT_FAILED, EXIT_ERROR, EXIT_STOPPED = 0, 1, 2, 3


@dataclass
class StepResult:
    step: Step
    status: str
    duration_ns: int = 0
    error: str | None = None
    location: str | None = None
    arguments: list[Argument] = field(default_factory=list)
    record: StepRecord = field(default_factory=StepRecord)


@dataclass
class HookResult:
    kind: str  # before_scenario | after_scenario
    location: str
    status: str
    duration_ns: int = 0
    error: str | None = None


@dataclass
class ScenarioResult:
    scenario: Scenario
    steps: list[StepResult] = field(default_factory=list)
    before: list[HookResult] = field(default_factory=list)
    after: list[HookResult] = field(default_factory=list)
    started_at: datetime | None = None
    video: str | None = None  # relative to the attempt folder

    @property
    def status(self) -> str:
        statuses = [s.status for s in self.steps] + [h.status for h in self.before + self.after]
        if FAILED in statuses:
            return FAILED
        if UNDEFINED in statuses:
            return UNDEFINED
        if PENDING in statuses:
            return PENDING
        if self.steps and all(s.status == SKIPPED for s in self.steps):
            return SKIPPED
        return PASSED

    @property
    def failure(self) -> tuple[str, str] | None:
        """(what failed, message) of the first failure: a step or a hook."""
        for hook in self.before:
            if hook.status == FAILED:
                return f"before hook {hook.location}", hook.error or ""
        for result in self.steps:
            if result.status == FAILED:
                return f"{result.step.keyword}{result.step.text}", result.error or ""
        for hook in self.after:
            if hook.status == FAILED:
                return f"after hook {hook.location}", hook.error or ""
        return None

    @property
    def duration_ns(self) -> int:
        hooks = sum(h.duration_ns for h in self.before + self.after)
        return hooks + sum(s.duration_ns for s in self.steps)


def _count(statuses: list[str]) -> Counts:
    counts = Counts()
    for status in statuses:
        if status == PASSED:
            counts.passed += 1
        elif status == FAILED:
            counts.failed += 1
        elif status in (UNDEFINED, PENDING):
            counts.undefined += 1
        else:
            counts.skipped += 1
    return counts


def summarize(results: list[ScenarioResult]) -> Summary:
    return Summary(
        scenarios=_count([r.status for r in results]),
        steps=_count([s.status for r in results for s in r.steps]),
    )


def verdict_passed(results: list[ScenarioResult]) -> bool:
    """Every scenario passed (an empty selection passes, as in Cucumber)."""
    return all(r.status == PASSED for r in results)


def exit_code_for(*, error: str | None, stopped: bool, results: list[ScenarioResult]) -> int:
    """No verdict beats a stop, a stop beats the verdict (the rest was never run)."""
    if error:
        return EXIT_ERROR
    if stopped:
        return EXIT_STOPPED
    return EXIT_PASSED if verdict_passed(results) else EXIT_FAILED
