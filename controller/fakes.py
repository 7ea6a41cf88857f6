"""An in-memory launcher whose tasks a test moves along: ``fake.finish(ref, exit_code=1)``.

Shipped with the controller (like httpx's MockTransport) so unit and acceptance tests,
here and in other packages, exercise the real reconcile loop without processes or AWS.
It keeps the launcher contract: launching the same attempt twice adopts the first task.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from controller.launcher import (
    LaunchError,
    LaunchResult,
    LaunchSpec,
    OwnedTask,
    StopCode,
    TaskState,
    TaskView,
)
from db.engine import utcnow


class FakeLauncher:
    heartbeat_required = False

    def __init__(self) -> None:
        self.tasks: dict[str, TaskView] = {}
        self.specs: dict[str, LaunchSpec] = {}
        self.launches: list[LaunchSpec] = []
        self.stops: list[tuple[str, str, bool]] = []
        #: Raised by the next launches, in order (capacity, throttling, …).
        self.fail_next: list[LaunchError] = []
        self.launched = threading.Event()
        self._lock = threading.Lock()

    def launch(self, spec: LaunchSpec) -> LaunchResult:
        with self._lock:
            ref = f"fake:{spec.run_id}:{spec.attempt}"
            if ref in self.tasks:
                return LaunchResult(ref, adopted=True)
            if self.fail_next:
                raise self.fail_next.pop(0)
            self.tasks[ref] = TaskView(ref, TaskState.RUNNING)
            self.specs[ref] = spec
            self.launches.append(spec)
        self.launched.set()
        return LaunchResult(ref)

    def describe(self, refs: Sequence[str]) -> dict[str, TaskView]:
        with self._lock:
            return {ref: self.tasks[ref] for ref in refs if ref in self.tasks}

    def stop(self, ref: str, reason: str, *, force: bool = False) -> None:
        with self._lock:
            self.stops.append((ref, reason, force))
            task = self.tasks.get(ref)
            if task is not None and task.state is not TaskState.STOPPED:
                self.tasks[ref] = replace(task, stop_requested_at=utcnow(), stopped_by_us=True)

    def list_owned(self) -> list[OwnedTask]:
        with self._lock:
            return [
                OwnedTask(ref, self.specs[ref].run_id, self.specs[ref].attempt, task.state)
                for ref, task in self.tasks.items()
                # As ECS's ListTasks(desiredStatus=RUNNING): not those asked to stop.
                if task.state is not TaskState.STOPPED and task.stop_requested_at is None
            ]

    def close(self) -> None:
        pass

    # ----- moving tasks along ------------------------------------------------------------

    def set_state(
        self,
        ref: str,
        state: TaskState,
        *,
        stop_code: str | None = None,
        exit_code: int | None = None,
        at: datetime | None = None,
    ) -> None:
        with self._lock:
            task = self.tasks[ref]
            self.tasks[ref] = replace(
                task,
                state=state,
                stop_code=stop_code,
                exit_code=exit_code,
                stop_requested_at=task.stop_requested_at or at,
            )

    def finish(
        self, ref: str, exit_code: int = 0, stop_code: str = StopCode.ESSENTIAL_CONTAINER_EXITED
    ) -> None:
        self.set_state(ref, TaskState.STOPPED, stop_code=stop_code, exit_code=exit_code)

    def forget(self, ref: str) -> None:
        """ECS no longer knows the task (DescribeTasks reports it MISSING)."""
        self.set_state(ref, TaskState.MISSING)
