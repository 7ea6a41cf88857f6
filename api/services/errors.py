"""Domain errors the services raise; ``api.problems`` turns each into problem+json.

    ServiceError
     ├── NotFound          404  no such test set, run, batch, artifact, token
     ├── Conflict          409  the state does not allow it (cancel a finished run, …)
     │    └── StaleAttempt 409  a runner reports for an attempt that is no longer current
     ├── Unprocessable     422  well-formed but unacceptable (idempotency key reuse, …)
     ├── Unauthenticated   401  no or unknown credentials
     ├── Forbidden         403  credentials that do not allow this
     └── Unavailable       503  a part that is not installed or not reachable yet

``schemas.states.TransitionError`` (an impossible run transition) is mapped to 409 as well.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 500
    title = "Internal Server Error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(ServiceError):
    status = 404
    title = "Not Found"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class StaleAttempt(Conflict):
    title = "Stale Attempt"


class Unprocessable(ServiceError):
    status = 422
    title = "Unprocessable Content"


class Unauthenticated(ServiceError):
    status = 401
    title = "Unauthorized"


class Forbidden(ServiceError):
    status = 403
    title = "Forbidden"


class Unavailable(ServiceError):
    status = 503
    title = "Service Unavailable"
