"""API tokens: created and revoked by admins (``proctor tokens …`` or ``/api/tokens``).

Only the sha256 of a secret is stored, so a database dump gives no working token; the
secret is shown once, at creation. Secrets are 256 random bits, so a plain hash (no salt,
no slow KDF) is enough and keeps the per-request check to one indexed lookup.

Scopes nest: ``admin`` implies ``execute``, which implies ``read``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from db.engine import utcnow
from db.tables import api_tokens
from schemas.models import CreatedToken, TokenInfo

from .errors import Unprocessable

SCOPES = ("read", "execute", "admin")
_IMPLIED = {"admin": {"admin", "execute", "read"}, "execute": {"execute", "read"}, "read": {"read"}}
SECRET_PREFIX = "pt_"
#: last_used_at is a hint for operators; writing it at most this often keeps reads cheap.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API token (its name and scopes), or anyone when auth is off."""

    name: str
    scopes: frozenset[str]
    token_id: str | None = None

    def allows(self, scope: str) -> bool:
        return any(scope in _IMPLIED.get(granted, set()) for granted in self.scopes)


ANONYMOUS = Principal(name="anonymous (auth disabled)", scopes=frozenset({"admin"}))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise Unprocessable(f"scopes must be some of {', '.join(SCOPES)}", unknown=unknown)
    return sorted(set(scopes), key=SCOPES.index)


def _info(row: object) -> TokenInfo:
    return TokenInfo.model_validate(row)


def create_token(engine: Engine, name: str, scopes: list[str]) -> CreatedToken:
    scopes = _check_scopes(scopes)
    if not name or len(name) > 200:
        raise Unprocessable("a token needs a name of 1 to 200 characters")
    token_id = str(uuid.uuid4())
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            insert(api_tokens).values(
                id=token_id,
                name=name,
                token_hash=hash_secret(secret),
                scopes=scopes,
                created_at=utcnow(),
            )
        )
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).one()
    return CreatedToken(**_info(row).model_dump(), secret=secret)


def revoke_token(engine: Engine, token_id: str) -> bool:
    """True when an active token was revoked; False when there is none with this id."""
    with engine.begin() as conn:
        revoked = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
    return bool(revoked)


def list_tokens(engine: Engine) -> list[TokenInfo]:
    with engine.connect() as conn:
        rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at)).all()
    return [_info(row) for row in rows]


def authenticate(engine: Engine, secret: str, *, now: datetime | None = None) -> Principal | None:
    """The principal of an active token with this secret, or None."""
    now = now or utcnow()
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == hash_secret(secret))
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        with engine.begin() as conn:
            conn.execute(
                update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now)
            )
    return Principal(name=row.name, scopes=frozenset(row.scopes), token_id=row.id)
