"""``Idempotency-Key`` on the execute endpoints: a retried CI request gets the first answer.

The key row is written in the same transaction as the runs it describes, so either both
exist or neither does. Two requests racing with one key both try to insert the key row;
the primary key lets one commit, the other fails and — on its second try — finds the
stored answer (``execute.py`` retries once).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, insert, select

from db.engine import utcnow
from db.tables import idempotency_keys

from .errors import Unprocessable

MAX_KEY_LENGTH = 200


def request_hash(path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"path": path, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Unprocessable(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters")
    return key


def stored_response(
    conn: Connection, *, key: str, endpoint: str, digest: str
) -> dict[str, Any] | None:
    """The first response for this key, or None; 422 when the key came with another body."""
    row = conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.key == key, idempotency_keys.c.endpoint == endpoint
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise Unprocessable(
            "this Idempotency-Key was already used with a different request; "
            "use a new key for a new request",
            idempotencyKey=key,
        )
    return row.response_body  # type: ignore[no-any-return]


def store_response(
    conn: Connection, *, key: str, endpoint: str, digest: str, status: int, body: dict[str, Any]
) -> None:
    conn.execute(
        insert(idempotency_keys).values(
            key=key,
            endpoint=endpoint,
            request_hash=digest,
            response_status=status,
            response_body=body,
            created_at=utcnow(),
        )
    )
