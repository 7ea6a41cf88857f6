"""PostgreSQL LISTEN in its own thread: a new pending run wakes the controller at once.

The API notifies ``db.engine.RUNS_CHANNEL`` when it inserts a pending run (and on retry
and cancel); NOTIFY is delivered at commit, so a woken controller always sees the row.
The connection is psycopg 3 in autocommit mode, outside SQLAlchemy's pool (it is held for
the controller's whole life). When it is lost — a restart, an Aurora failover — the
thread logs it, reconnects with backoff, and wakes the controller once after reconnecting
because notifications sent in between are gone. The tick remains the safety net.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy.engine import URL

log = logging.getLogger(__name__)


def connect_kwargs(url: URL) -> dict[str, Any]:
    """psycopg connection arguments from a SQLAlchemy URL."""
    kwargs: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    kwargs.update({k: v for k, v in url.query.items() if isinstance(v, str)})
    return kwargs


class NotifyListener:
    def __init__(
        self,
        url: URL,
        channel: str,
        on_notify: Callable[[], None],
        stop: threading.Event,
        *,
        retry_delay: float = 0.5,
        max_retry_delay: float = 30.0,
    ) -> None:
        self._kwargs = connect_kwargs(url)
        self._channel = channel
        self._on_notify = on_notify
        self._stop = stop
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._thread = threading.Thread(target=self._run, name="proctor-listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        delay = self._retry_delay
        while not self._stop.is_set():
            try:
                with psycopg.connect(autocommit=True, connect_timeout=10, **self._kwargs) as conn:
                    # The channel is our own constant, not user input; LISTEN takes no
                    # bind parameters.
                    conn.execute(f'LISTEN "{self._channel}"')  # type: ignore[arg-type]
                    self.connected.set()
                    log.info("listening on %s", self._channel)
                    self._on_notify()  # catch up on anything sent while we were not listening
                    delay = self._retry_delay
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self._on_notify()
            except psycopg.Error as err:
                self.connected.clear()
                if self._stop.is_set():
                    break
                log.warning(
                    "lost the LISTEN connection (%s); reconnecting in %.1f s",
                    str(err).strip(),
                    delay,
                )
                self._stop.wait(delay)
                delay = min(delay * 2, self._max_retry_delay)
        self.connected.clear()
