"""One ``trace.zip`` per attempt out of one Playwright trace per scenario.

Each scenario has its own browser context, and Playwright writes one trace per context.
The trace viewer loads every ``<name>.trace`` entry of a zip as one context (with
``<name>.network`` and ``<name>.stacks`` beside it) and shares ``resources/`` — the same
layout Playwright Test uses when a test opens several contexts. So merging is renaming
each part's trace files to a prefix of its own and keeping one copy of everything else
(resources are content-addressed, screencast frames are named after their page).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

_PER_CONTEXT = ("trace.trace", "trace.network", "trace.stacks")


def merge_traces(parts: list[Path], target: Path) -> bool:
    """Write ``target`` from ``parts`` (in scenario order); False when there is none."""
    parts = [part for part in parts if part.exists() and zipfile.is_zipfile(part)]
    if not parts:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for index, part in enumerate(parts, start=1):
            with zipfile.ZipFile(part) as source:
                for name in source.namelist():
                    target_name = f"{index:03d}-{name}" if name in _PER_CONTEXT else name
                    if target_name in seen:
                        continue
                    seen.add(target_name)
                    out.writestr(target_name, source.read(name))
    return True
