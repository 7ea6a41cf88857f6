"""The attempt folder → reports on disk → objects in the artifact store → the API's list.

Everything an attempt leaves lives in one local folder laid out as the store expects
(``cucumber.json``, ``junit.xml``, ``screenshots/``, ``videos/``, ``trace.zip``,
``runner.log``; scratch files under ``.scratch/`` stay behind). Uploading is one file at
a time, each retried with backoff on top of the store's own retries (once one file has
failed every attempt, the rest get one each), ``runner.log`` last so it records the
uploads before it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from artifacts.store import ArtifactStore, StoredObject, content_type_for, kind_for
from runner.cucumber import cucumber_json
from runner.features import Feature
from runner.junit import junit_xml
from runner.results import ScenarioResult
from runner.trace import merge_traces
from schemas.models import ArtifactReport

SCRATCH = ".scratch"


def write_reports(
    work: Path,
    features: list[Feature],
    results: list[ScenarioResult],
    traces: list[Path],
    *,
    suite_name: str,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Write cucumber.json, junit.xml and trace.zip into ``work``; return cucumber.json."""
    report = cucumber_json(features, results)
    (work / "cucumber.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (work / "junit.xml").write_bytes(junit_xml(results, name=suite_name))
    if merge_traces(traces, work / "trace.zip"):
        log(f"trace: {len(traces)} scenario trace(s) in trace.zip")
    return report


def _upload_one(
    store: ArtifactStore,
    path: Path,
    key: str,
    *,
    attempts: int,
    log: Callable[[str], None],
    sleep: Callable[[float], None],
) -> StoredObject | None:
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            return store.put_file(key, path, content_type_for(key))
        except Exception as err:
            log(f"upload of {key} failed (attempt {attempt} of {attempts}): {err!r}")
            if attempt < attempts:
                sleep(delay)
                delay *= 2
    return None


def upload_folder(
    work: Path,
    store: ArtifactStore,
    prefix: str,
    *,
    log: Callable[[str], None],
    attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
) -> list[StoredObject]:
    """Upload every file of ``work`` under ``prefix`` (runner.log last); what got stored."""
    files = sorted(
        path
        for path in work.rglob("*")
        if path.is_file()
        and SCRATCH not in path.relative_to(work).parts
        and path.name != "runner.log"
    )
    stored: list[StoredObject] = []
    for path in files:
        key = prefix + path.relative_to(work).as_posix()
        item = _upload_one(store, path, key, attempts=attempts, log=log, sleep=sleep)
        if item is not None:
            stored.append(item)
        else:
            # The store is down, not one object unlucky: try each remaining file once, so a
            # stopping runner is not held up by many rounds of backoff.
            attempts = 1
    log(
        f"uploaded {len(stored)} of {len(files)} artifact(s) to {store.url}/{prefix}, "
        "then runner.log"
    )
    if (work / "runner.log").exists():
        item = _upload_one(
            store,
            work / "runner.log",
            prefix + "runner.log",
            attempts=attempts,
            log=log,
            sleep=sleep,
        )
        if item is not None:
            stored.append(item)
    return stored


def artifact_reports(attempt: int, stored: list[StoredObject]) -> list[ArtifactReport]:
    return [
        ArtifactReport(
            attempt=attempt,
            kind=kind_for(item.key),
            key=item.key,
            content_type=item.content_type,
            size=item.size,
        )
        for item in stored
    ]
