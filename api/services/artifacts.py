"""A run's results as files: the artifact listing, downloads and the reports.

Keys come from the ``artifacts`` table (what the runner reported) and from the store
itself (what it uploaded, even if the report was lost). A key in a download request
comes from the client, so it is checked twice before it reaches the store: it must be a
plain relative key (``artifacts.store.safe_key``) and it must lie in the run's folder.
S3 objects are handed out as pre-signed GET URLs with a short expiry; local files are
streamed by the API.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from artifacts.store import (
    ArtifactStore,
    InvalidKey,
    attempt_prefix,
    content_type_for,
    kind_for,
    safe_key,
)
from config.settings import Settings
from db.engine import utcnow
from db.tables import artifacts
from schemas.models import ArtifactRead

from .errors import NotFound, Unavailable, Unprocessable
from .runs import get_run, get_steps
from .shapes import load_run

#: Seconds a pre-signed S3 URL stays valid.
PRESIGN_SECONDS = 300


@dataclass(frozen=True)
class Download:
    """Either a redirect to ``url`` (S3) or a local ``path`` to stream."""

    content_type: str
    url: str | None = None
    path: Path | None = None


def download_path(run_id: str, key: str) -> str:
    return f"/api/test-runs/{run_id}/artifacts/{key}"


def _link(store: ArtifactStore, run_id: str, key: str) -> str:
    return store.presigned_url(key, PRESIGN_SECONDS) or download_path(run_id, key)


def list_artifacts(engine: Engine, store: ArtifactStore, run_id: str) -> list[ArtifactRead]:
    with engine.connect() as conn:
        run = load_run(conn, run_id)
        rows = conn.execute(
            select(artifacts)
            .where(artifacts.c.run_id == run_id)
            .order_by(artifacts.c.attempt, artifacts.c.key)
        ).all()
    found = {row.key: ArtifactRead.model_validate(row) for row in rows}
    if run.attempt > 0:
        created = run.started_at or run.created_at
        for obj in store.list(attempt_prefix(run_id, run.attempt)):
            found.setdefault(
                obj.key,
                ArtifactRead(
                    attempt=run.attempt,
                    kind=kind_for(obj.key),
                    key=obj.key,
                    content_type=obj.content_type,
                    size=obj.size,
                    created_at=created or utcnow(),
                ),
            )
    return [
        item.model_copy(update={"url": _link(store, run_id, item.key)})
        for item in sorted(found.values(), key=lambda a: (a.attempt, a.key))
    ]


def resolve_download(engine: Engine, store: ArtifactStore, run_id: str, key: str) -> Download:
    try:
        safe_key(key)
    except InvalidKey as err:
        raise Unprocessable(str(err)) from err
    with engine.connect() as conn:
        load_run(conn, run_id)
    if not key.startswith(f"runs/{run_id}/"):
        raise NotFound(f"artifact {key!r} does not belong to run {run_id}")
    content_type = _content_type(engine, run_id, key)
    local_path = getattr(store, "local_path", None)
    if local_path is None:
        url = store.presigned_url(key, PRESIGN_SECONDS)
        if url is None:
            raise Unavailable("this artifact store offers neither files nor links")
        return Download(content_type=content_type, url=url)
    path = local_path(key)
    if not path.is_file():
        raise NotFound(f"no artifact {key!r}")
    return Download(content_type=content_type, path=path)


def _content_type(engine: Engine, run_id: str, key: str) -> str:
    with engine.connect() as conn:
        recorded = conn.execute(
            select(artifacts.c.content_type).where(
                artifacts.c.run_id == run_id, artifacts.c.key == key
            )
        ).first()
    return recorded.content_type if recorded else content_type_for(key)


def _latest(engine: Engine, store: ArtifactStore, run_id: str, name: str) -> bytes:
    with engine.connect() as conn:
        run = load_run(conn, run_id)
    data = store.get_bytes(attempt_prefix(run_id, run.attempt) + name) if run.attempt else None
    if data is None:
        raise NotFound(f"run {run_id} has no {name} (yet)")
    return data


def cucumber_json(engine: Engine, store: ArtifactStore, run_id: str) -> bytes:
    """The latest attempt's cucumber.json, as the runner wrote it."""
    return _latest(engine, store, run_id, "cucumber.json")


def junit_xml(engine: Engine, store: ArtifactStore, run_id: str) -> bytes:
    return _latest(engine, store, run_id, "junit.xml")


def report_pdf(engine: Engine, store: ArtifactStore, settings: Settings, run_id: str) -> bytes:
    """Render the PDF report on demand (``reports.pdf``, imported only when asked for)."""
    try:
        render_pdf = importlib.import_module("reports.pdf").render_pdf
    except (ImportError, AttributeError) as err:
        raise Unavailable("PDF reports are not available in this installation") from err
    run = get_run(engine, run_id)
    cucumber: list[dict[str, Any]] | None = None
    if run.attempt:
        raw = store.get_bytes(attempt_prefix(run_id, run.attempt) + "cucumber.json")
        if raw is not None:
            try:
                cucumber = json.loads(raw)
            except ValueError:
                cucumber = None
    return render_pdf(run, get_steps(engine, run_id), cucumber, settings=settings)  # type: ignore[no-any-return]
