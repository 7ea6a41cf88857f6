"""What every request handler may depend on, built once by ``create_app``.

Handlers receive these by name through Litestar's dependency injection (``engine``,
``store``, ``settings``, ``actor``, ``token_attempt``, ``events_poll_seconds``), so tests
build an app with their own engine and store and nothing is read from module globals.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation
from sqlalchemy import Engine

from api.services.tokens import Principal
from artifacts.store import ArtifactStore
from config.settings import Settings
from db import runner_tokens


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    store: ArtifactStore
    #: Seconds between database polls of an open events stream.
    events_poll_seconds: float = 1.0
    _runner_key: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def runner_key(self) -> bytes:
        """The HMAC key of runner tokens; it never changes, so it is read once."""
        with self._lock:
            if self._runner_key is None:
                with self.engine.connect() as conn:
                    self._runner_key = runner_tokens.load_key(conn)
            return self._runner_key


def context_of(state: State) -> AppContext:
    return state["proctor"]  # type: ignore[no-any-return]


def _actor(request: Request[Any, Any, Any]) -> str:
    principal: Principal | None = request.state.get("principal")
    return principal.name if principal else "anonymous"


def _token_attempt(request: Request[Any, Any, Any]) -> int | None:
    return request.state.get("runner_attempt")  # type: ignore[no-any-return]


def dependencies(ctx: AppContext) -> dict[str, Provide]:
    def _poll_seconds() -> float:
        return ctx.events_poll_seconds

    def _engine() -> Engine:
        return ctx.engine

    def _store() -> ArtifactStore:
        return ctx.store

    def _settings() -> Settings:
        return ctx.settings

    return {
        "events_poll_seconds": Provide(_poll_seconds, use_cache=True, sync_to_thread=False),
        "engine": Provide(_engine, use_cache=True, sync_to_thread=False),
        "store": Provide(_store, use_cache=True, sync_to_thread=False),
        "settings": Provide(_settings, use_cache=True, sync_to_thread=False),
        "actor": Provide(_actor, sync_to_thread=False),
        "token_attempt": Provide(_token_attempt, sync_to_thread=False),
    }


# Explicit markers for the dependencies above (Litestar 3 drops inferred injection).
EngineDep = NamedDependency[Engine]
StoreDep = NamedDependency[SkipValidation[ArtifactStore]]  # a Protocol: nothing to validate
SettingsDep = NamedDependency[Settings]
PollSecondsDep = NamedDependency[float]
ActorDep = NamedDependency[str]
TokenAttemptDep = NamedDependency[int | None]
