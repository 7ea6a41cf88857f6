"""Run-scoped runner tokens: ``r1.<run_id>.<attempt>.<hmac>``.

The controller mints one per attempt and hands it to the runner with the API's address;
the API accepts it only for that run and attempt (DESIGN.md, "Runner": the runner never
holds database credentials). The HMAC key lives in ``signing_keys`` (made by the first
migration), so the API and every controller replica agree without another setting, and
a token needs no row of its own.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import Connection, select

from db.tables import signing_keys

PREFIX = "r1"


@dataclass(frozen=True)
class RunnerClaims:
    run_id: str
    attempt: int


def load_key(conn: Connection) -> bytes:
    secret = conn.execute(select(signing_keys.c.secret).where(signing_keys.c.id == 1)).scalar_one()
    return secret.encode()


def _signature(key: bytes, run_id: str, attempt: int) -> str:
    return hmac.new(key, f"{run_id}:{attempt}".encode(), hashlib.sha256).hexdigest()


def mint(key: bytes, run_id: str, attempt: int) -> str:
    return f"{PREFIX}.{run_id}.{attempt}.{_signature(key, run_id, attempt)}"


def is_runner_token(token: str) -> bool:
    return token.startswith(PREFIX + ".")


def verify(key: bytes, token: str) -> RunnerClaims | None:
    """The run and attempt the token was minted for, or None when it is not genuine."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[2].isdigit():
        return None
    run_id, attempt = parts[1], int(parts[2])
    if not hmac.compare_digest(parts[3], _signature(key, run_id, attempt)):
        return None
    return RunnerClaims(run_id=run_id, attempt=attempt)
