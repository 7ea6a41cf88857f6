"""``runner.log``: what the runner did, in order, for people reading an attempt afterwards.

Lines go to the file at once (a runner killed hard still leaves its log) and to stderr
(the container's log stream). Thread-safe: the reporter thread logs API outages here too.
A plain object passed around rather than ``logging`` configuration, so two runs in one
test process never share handlers.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO


class RunLog:
    def __init__(self, path: Path, *, echo: TextIO | None = sys.stderr) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._echo = echo
        self._lock = threading.RLock()

    def __call__(self, message: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        lines = message.splitlines() or [""]
        text = "".join(f"{stamp} {line}\n" for line in lines)
        with self._lock:
            if self._file.closed:
                return
            self._file.write(text)
            self._file.flush()
            if self._echo is not None:
                try:
                    self._echo.write(text)
                    self._echo.flush()
                except (OSError, ValueError):
                    pass

    def close(self) -> None:
        with self._lock:
            self._file.close()
