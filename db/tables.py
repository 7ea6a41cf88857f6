"""The database tables (SQLAlchemy Core), shared by the API and the controller.

Each run row is split like a Kubernetes object: *spec* columns are written by clients
through the API (what should happen), *status* columns only by the controller and, through
the API's runner endpoints, by the runner (what did happen). Schema changes go through
Alembic revisions in ``migrations/``; ``tests/integration/test_migrations.py`` fails if
the migrated schema and these tables drift apart, on PostgreSQL and SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = UtcDateTime()

test_sets = Table(
    "test_sets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    # [{"path": "login.feature", "content": "Feature: …"}]
    Column("features", JSON, nullable=False),
    Column("base_url", String(2048), nullable=False, server_default=""),
    Column("tags", JSON, nullable=False),
    Column("timeout_seconds", Integer, nullable=True),
    Column("max_attempts", Integer, nullable=False, server_default="2"),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    # Retry failed tests too (not only infrastructure failures); a later pass marks flaky.
    Column("retry_on_failure", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("label", String(200), nullable=True),
    Column("requested_by", String(200), nullable=True),
    Column("created_at", Timestamp, nullable=False),
)

test_runs = Table(
    "test_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    # --- spec (clients, through the API) ---
    Column("test_set_id", String(64), ForeignKey("test_sets.id"), nullable=False),
    Column("batch_id", String(36), ForeignKey("batches.id"), nullable=True),
    Column("desired", String(16), nullable=False, server_default="run"),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("parameters", JSON, nullable=False),
    Column("requested_by", String(200), nullable=True),
    Column("max_attempts", Integer, nullable=False, server_default="2"),
    Column("created_at", Timestamp, nullable=False),
    # --- status (controller; counts and heartbeat through the runner endpoints) ---
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("claimed_by", String(200), nullable=True),
    Column("claim_expires_at", Timestamp, nullable=True),
    # Earliest time the next launch may happen (infrastructure backoff).
    Column("not_before", Timestamp, nullable=True),
    # Infrastructure retries of the current attempt's launch (capacity, throttling).
    Column("launch_failures", Integer, nullable=False, server_default="0"),
    Column("launched_at", Timestamp, nullable=True),
    Column("started_at", Timestamp, nullable=True),
    Column("finished_at", Timestamp, nullable=True),
    Column("heartbeat_at", Timestamp, nullable=True),
    Column("executor_ref", String(2048), nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("stop_code", String(64), nullable=True),
    Column("stopped_reason", Text, nullable=True),
    Column("error", Text, nullable=True),
    # {"scenarios": {"passed": n, …}, "steps": {…}} as the runner reported it.
    Column("summary", JSON, nullable=True),
    Column("flaky", Boolean, nullable=False, server_default=text("false")),
    Column("trace_context", JSON, nullable=True),
    Column("updated_at", Timestamp, nullable=False),
    # The controller's queries touch only pending and active rows: partial indexes keep a
    # tick proportional to the active runs, not to the history (invariant 5).
    Index(
        "ix_test_runs_pending_queue",
        "priority",
        "created_at",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
    Index(
        "ix_test_runs_active",
        "status",
        postgresql_where=text("status IN ('launching', 'running')"),
        sqlite_where=text("status IN ('launching', 'running')"),
    ),
    Index("ix_test_runs_batch_id", "batch_id"),
    Index("ix_test_runs_test_set_id_created_at", "test_set_id", "created_at"),
    Index("ix_test_runs_created_at", "created_at"),
)

test_run_steps = Table(
    "test_run_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), ForeignKey("test_runs.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    # The runner numbers its reports: a report re-sent after a lost response is ignored.
    Column("seq", Integer, nullable=False),
    Column("feature", Text, nullable=False),
    Column("scenario", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("keyword", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("duration_ms", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("screenshot_key", String(1024), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("run_id", "attempt", "seq"),
)

run_events = Table(
    "run_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), ForeignKey("test_runs.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", Timestamp, nullable=False),
    Index("ix_run_events_run_id_id", "run_id", "id"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), ForeignKey("test_runs.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(1024), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("run_id", "attempt", "key"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    # sha256 of the secret; the secret itself is shown once, at creation.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
    Column("last_used_at", Timestamp, nullable=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("endpoint", String(200), primary_key=True),
    # sha256 of the canonical request (path + body): same key, other body → 422.
    Column("request_hash", String(64), nullable=False),
    Column("response_status", Integer, nullable=False),
    Column("response_body", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

# The HMAC key that signs run-scoped runner tokens; one row, made by the first migration,
# so the API and every controller replica agree without another setting.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("secret", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
)
