"""``/healthz`` (the process answers) and ``/readyz`` (and reaches its database)."""

from __future__ import annotations

from litestar import Controller, get

from api.context import EngineDep
from api.problems import problem_responses
from api.services import health


class HealthController(Controller):
    path = "/"
    tags = ["health"]

    @get("/healthz", opt={"scope": "public"}, sync_to_thread=False, security=[{}])
    def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/readyz",
        opt={"scope": "public"},
        sync_to_thread=True,
        security=[{}],
        responses=problem_responses(503),
    )
    def readyz(self, engine: EngineDep) -> dict[str, str]:
        health.check_database(engine)
        return {"status": "ready"}
