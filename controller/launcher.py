"""The port between the reconciler and whatever runs a runner: a child process or an ECS task.

The controller only ever asks three things of a launcher — start this attempt
(idempotently), tell me how these tasks are doing, stop that one — plus a list of what it
started, for the orphan sweeper. Both launchers translate their world into the same small
vocabulary (``TaskState`` and ECS's stop codes), so ``plan`` decides the same way for a
local process and a Fargate task.

Errors a launch can raise, by what the caller should do about them::

    LaunchError
     ├── TransientLaunchError        no task was made; try again later with backoff
     │    │                          (capacity, throttling, the local rate budget)
     │    └── LaunchOutcomeUnknown   a task may or may not exist (timeout, 5xx, empty
     │                               answer): keep the claim, retry with the same token
     └── PermanentLaunchError        this request can never succeed (bad configuration,
                                     access denied): the run ends in ``error``
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class LaunchError(Exception):
    """A launch that did not produce a task reference."""

    code: str = "LaunchError"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class TransientLaunchError(LaunchError):
    """Nothing was started; the same launch may succeed later (back off first)."""


class LaunchOutcomeUnknown(TransientLaunchError):
    """The request may have started a task: retry with the *same* idempotency token."""


class PermanentLaunchError(LaunchError):
    """The launch can never succeed as configured."""


class TaskState(StrEnum):
    PENDING = "PENDING"  # ECS PROVISIONING/PENDING/ACTIVATING: not running tests yet
    RUNNING = "RUNNING"  # running, or stopping but not stopped yet
    STOPPED = "STOPPED"  # finished; stop_code and exit_code say how
    MISSING = "MISSING"  # the executor has forgotten it (ECS MISSING, lost local record)


class StopCode(StrEnum):
    """ECS's ``stopCode`` values; the local launcher uses the same names."""

    ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
    TASK_FAILED_TO_START = "TaskFailedToStart"
    USER_INITIATED = "UserInitiated"
    SERVICE_SCHEDULER_INITIATED = "ServiceSchedulerInitiated"
    SPOT_INTERRUPTION = "SpotInterruption"
    TERMINATION_NOTICE = "TerminationNotice"


@dataclass(frozen=True)
class TaskView:
    """What a launcher observed about one task."""

    ref: str
    state: TaskState
    stop_code: str | None = None
    exit_code: int | None = None
    stopped_reason: str | None = None
    # When someone (we or another party) asked the task to stop; None if nobody has.
    stop_requested_at: datetime | None = None
    # Did *this* system ask it to stop (cancel, timeout, stale heartbeat)?
    stopped_by_us: bool = False


@dataclass(frozen=True)
class LaunchSpec:
    """One attempt to start, with everything the runner needs in its environment."""

    run_id: str
    attempt: int
    # Increments on every capacity/throttling failure of the same attempt, so a new try
    # never reuses a token whose (failed) answer ECS might remember.
    launch_try: int
    env: Mapping[str, str]
    # A replica taking over a dead controller's claim: the attempt may already have a task.
    resume: bool = False

    @property
    def client_token(self) -> str:
        """Deterministic idempotency token (ECS allows ≤ 64 characters)."""
        token = f"proctor-{self.run_id}-{self.attempt}-{self.launch_try}"
        if len(token) > 64:
            import hashlib

            token = hashlib.sha256(token.encode()).hexdigest()[:64]
        return token


@dataclass(frozen=True)
class OwnedTask:
    """A task this system started, as listed for the orphan sweeper."""

    ref: str
    run_id: str
    attempt: int
    state: TaskState


@dataclass
class LaunchResult:
    ref: str
    # True when the launcher found the attempt already started (adopted, not launched).
    adopted: bool = False
    notes: list[str] = field(default_factory=list)


class Launcher(Protocol):
    """Starts, follows and stops runner tasks. Every method may be called by any replica."""

    #: The runner's heartbeat is the only sign of life (local processes can hang silently).
    heartbeat_required: bool

    def launch(self, spec: LaunchSpec) -> LaunchResult:
        """Start the attempt, or return the task already started for it (idempotent)."""
        ...

    def describe(self, refs: Sequence[str]) -> dict[str, TaskView]:
        """Current view of each task; a ref left out could not be observed this time."""
        ...

    def stop(self, ref: str, reason: str, *, force: bool = False) -> None:
        """Ask the task to stop (SIGTERM / StopTask); ``force`` kills it outright."""
        ...

    def list_owned(self) -> list[OwnedTask]:
        """Tasks this system started that are not stopped yet (for the orphan sweeper)."""
        ...

    def close(self) -> None: ...
