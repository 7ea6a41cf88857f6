"""The local launcher: each attempt is a child process on this host (the embedded default).

It gives the same guarantees as the ECS launcher, on one machine:

* At most once per attempt. Before spawning, it creates the attempt's record file under
  ``$PROCTOR_HOME/launcher/`` with ``O_EXCL``; a second launch of the same attempt (a
  replica taking over a claim, a restarted controller) finds the record and adopts the
  process instead of starting another.
* Followable by any controller on the host. The record holds the pid and the process's
  start time (so a recycled pid is never mistaken for the runner); the parent writes the
  exit status into it *before* reaping the child (``waitid(WNOWAIT)``), so a process that
  is gone without an exit status really was lost (its parent died) — the controller then
  takes the verdict from the uploaded report, like an ECS task reported MISSING.
* Stoppable: runners run in their own session; stop sends SIGTERM to the group (the
  runner saves what it has and exits 3), ``force`` sends SIGKILL.
* Hung runners are caught by their heartbeat (``heartbeat_required``), which the runner
  sends through the API.

Children survive a controller restart (own session) and are adopted by the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from controller.launcher import (
    LaunchResult,
    LaunchSpec,
    OwnedTask,
    PermanentLaunchError,
    StopCode,
    TaskState,
    TaskView,
)

log = logging.getLogger(__name__)

Command = Callable[[str], list[str]]

#: Seconds a finished attempt's record is kept (the at-most-once guard) before the sweep
#: removes it with the child's output log.
RECORD_RETENTION_SECONDS = 24 * 3600

#: Variables a runner must not inherit: it never holds database or API credentials.
_WITHHELD = ("PROCTOR_DATABASE_URL", "PROCTOR_TOKEN")


def runner_command(run_id: str) -> list[str]:
    """The production command: ``proctor runner --run-id ID`` with this interpreter."""
    return [sys.executable, "-m", "cli.main", "runner", "--run-id", run_id]


def _process_start(pid: int) -> str | None:
    """The kernel's start time of a process (field 22 of /proc/PID/stat), or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _parse_ref(ref: str) -> tuple[str, int] | None:
    parts = ref.split(":")
    if len(parts) != 4 or parts[0] != "local" or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


class LocalLauncher:
    heartbeat_required = True

    def __init__(
        self,
        home: Path,
        *,
        command: Command = runner_command,
        on_exit: Callable[[], None] | None = None,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.dir = (home / "launcher").resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self._command = command
        #: Called (from a helper thread) when a child exits; the controller sets its wake-up.
        self.on_exit = on_exit
        self._base_env = dict(os.environ if base_env is None else base_env)
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    # ----- records -----------------------------------------------------------------------

    def _record_path(self, run_id: str, attempt: int) -> Path:
        if "/" in run_id or run_id.startswith("."):
            raise PermanentLaunchError(f"unusable run id {run_id!r}", code="InvalidRunId")
        return self.dir / f"{run_id}.{attempt}.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One lock for all read-modify-writes of records, across processes on the host."""
        with (self.dir / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        except FileNotFoundError:
            return None
        except ValueError:
            return {}  # created but not written yet (the launcher died in between)

    def _write(self, path: Path, record: dict[str, Any]) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(path)

    def _update(self, path: Path, **changes: Any) -> None:
        with self._locked():
            record = self._read(path) or {}
            record.update(changes)
            self._write(path, record)

    # ----- Launcher ------------------------------------------------------------------------

    def launch(self, spec: LaunchSpec) -> LaunchResult:
        path = self._record_path(spec.run_id, spec.attempt)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            record = self._read(path) or {}
            pid = int(record.get("pid") or 0)
            return LaunchResult(f"local:{spec.run_id}:{spec.attempt}:{pid}", adopted=True)
        os.close(fd)
        env = {k: v for k, v in self._base_env.items() if k not in _WITHHELD}
        env.update(spec.env)
        log_path = self.dir / f"{spec.run_id}.{spec.attempt}.log"
        command = self._command(spec.run_id)
        try:
            with log_path.open("ab") as output:
                proc = subprocess.Popen(
                    command,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        except OSError as err:
            self._write(
                path,
                {
                    "run_id": spec.run_id,
                    "attempt": spec.attempt,
                    "pid": 0,
                    "exit_code": None,
                    "error": str(err),
                },
            )
            raise PermanentLaunchError(
                f"cannot start {command[0]}: {err}", code="SpawnFailed"
            ) from err
        ref = f"local:{spec.run_id}:{spec.attempt}:{proc.pid}"
        self._update(
            path,
            run_id=spec.run_id,
            attempt=spec.attempt,
            pid=proc.pid,
            start=_process_start(proc.pid),
            command=command,
            started_at=datetime.now(UTC).isoformat(),
        )
        self._children[ref] = proc
        threading.Thread(
            target=self._follow, args=(proc, path), daemon=True, name=f"follow-{proc.pid}"
        ).start()
        return LaunchResult(ref)

    def _follow(self, proc: subprocess.Popen[bytes], path: Path) -> None:
        """Write the exit status into the record before reaping, then wake the controller."""
        try:
            info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            info = None
        if info is not None:
            if info.si_code == os.CLD_EXITED:
                self._update(path, exit_code=info.si_status)
            else:
                self._update(path, exit_code=-info.si_status, signal=info.si_status)
        proc.wait()
        if self.on_exit is not None:
            self.on_exit()

    def describe(self, refs: Sequence[str]) -> dict[str, TaskView]:
        views: dict[str, TaskView] = {}
        for ref in refs:
            parsed = _parse_ref(ref)
            if parsed is None:
                views[ref] = TaskView(ref, TaskState.MISSING)
                continue
            record = self._read(self._record_path(*parsed))
            views[ref] = self._view(ref, record)
        return views

    def _view(self, ref: str, record: dict[str, Any] | None) -> TaskView:
        if not record or not record.get("pid"):
            return TaskView(ref, TaskState.MISSING)
        stop_requested = record.get("stop_requested_at")
        requested_at = datetime.fromisoformat(stop_requested) if stop_requested else None
        by_us = bool(record.get("stopped_by_us"))
        exit_code = record.get("exit_code")
        if exit_code is not None:
            if exit_code >= 0:
                return TaskView(
                    ref,
                    TaskState.STOPPED,
                    StopCode.ESSENTIAL_CONTAINER_EXITED,
                    exit_code,
                    f"runner exited with {exit_code}",
                    requested_at,
                    by_us,
                )
            sig = (
                signal.Signals(-exit_code).name
                if -exit_code in signal.valid_signals()
                else (str(-exit_code))
            )
            code = StopCode.USER_INITIATED if requested_at else StopCode.ESSENTIAL_CONTAINER_EXITED
            return TaskView(
                ref, TaskState.STOPPED, code, None, f"runner killed by {sig}", requested_at, by_us
            )
        start = _process_start(int(record["pid"]))
        if start is not None and start == record.get("start"):
            return TaskView(
                ref, TaskState.RUNNING, stop_requested_at=requested_at, stopped_by_us=by_us
            )
        return TaskView(ref, TaskState.MISSING, stopped_reason="process ended unobserved")

    def stop(self, ref: str, reason: str, *, force: bool = False) -> None:
        parsed = _parse_ref(ref)
        if parsed is None:
            return
        path = self._record_path(*parsed)
        record = self._read(path) or {}
        pid = int(record.get("pid") or 0)
        if not pid or record.get("exit_code") is not None:
            return
        if _process_start(pid) != record.get("start"):
            return
        if not record.get("stop_requested_at"):
            self._update(
                path,
                stop_requested_at=datetime.now(UTC).isoformat(),
                stopped_by_us=True,
                stop_reason=reason,
            )
        sig = signal.SIGKILL if force else signal.SIGTERM
        log.info("stopping %s (%s) with %s", ref, reason, sig.name)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    def list_owned(self) -> list[OwnedTask]:
        """Live processes we started; also forgets records of processes long finished."""
        owned = []
        forget_before = time.time() - RECORD_RETENTION_SECONDS
        for path in self.dir.glob("*.json"):
            record = self._read(path)
            if record and record.get("exit_code") is not None:
                # Kept for a day (far beyond any lease) as the at-most-once guard, then
                # dropped so the sweep stays proportional to recent work.
                with contextlib.suppress(FileNotFoundError):
                    if path.stat().st_mtime < forget_before:
                        path.unlink()
                        path.with_suffix(".log").unlink(missing_ok=True)
                continue
            if not record or not record.get("pid"):
                continue
            if _process_start(int(record["pid"])) != record.get("start"):
                continue
            ref = f"local:{record['run_id']}:{record['attempt']}:{record['pid']}"
            owned.append(
                OwnedTask(ref, record["run_id"], int(record["attempt"]), TaskState.RUNNING)
            )
        return owned

    def close(self) -> None:
        """Children keep running: the next controller on this host adopts them."""
        self._children.clear()
