"""Command steps: run a command-line tool of the runner image, with a time limit.

``When I run "7ps status --json"`` runs the command through ``/bin/sh -c`` in its own
process group, with the test set's base URL in the environment (``PROCTOR_BASE_URL`` and
``BASE_URL``) and without the runner's own token. Output (stdout and stderr together) is
kept whole; a command that outlives its limit, or a run that is being stopped, gets its
whole process group killed, so a hung tool can never hang the runner.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

# Variables a test's command must not see: the run-scoped credential of the runner.
_HIDDEN = ("PROCTOR_RUNNER_TOKEN",)


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_code: int | None  # None: killed (time limit or stop)
    output: str
    duration_s: float
    timed_out: bool = False
    stopped: bool = False

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0

    def describe(self) -> str:
        if self.timed_out:
            return f"`{self.command}` was killed at its time limit ({self.duration_s:.1f} s)"
        if self.stopped:
            return f"`{self.command}` was killed because the run is stopping"
        return f"`{self.command}` exited with {self.exit_code} after {self.duration_s:.2f} s"


def command_env(base_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _HIDDEN}
    env["PROCTOR_BASE_URL"] = base_url
    env["BASE_URL"] = base_url
    return env


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_command(
    command: str,
    *,
    base_url: str,
    limit_s: float,
    stop: threading.Event | None = None,
    cwd: str | None = None,
    poll_s: float = 0.05,
) -> CommandResult:
    """Run ``command`` to completion, its limit, or until ``stop`` is set."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as sink:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=command_env(base_url),
            cwd=cwd,
            start_new_session=True,  # its own process group, killed as a whole
        )
        timed_out = stopped = False
        deadline = started + limit_s
        while True:
            try:
                proc.wait(timeout=poll_s)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    timed_out = True
                elif stop is not None and stop.is_set():
                    stopped = True
                else:
                    continue
                _kill_group(proc)
                proc.wait()
                break
        # Children that outlived the shell (e.g. `sleep 100 &`) must not keep the run alive.
        _kill_group(proc)
        sink.seek(0)
        output = sink.read().decode("utf-8", errors="replace")
    return CommandResult(
        command=command,
        exit_code=None if (timed_out or stopped) else proc.returncode,
        output=output,
        duration_s=time.monotonic() - started,
        timed_out=timed_out,
        stopped=stopped,
    )
