"""``proctor test-sets sync DIR``: one test set per sub-folder of ``.feature`` files.

The folder name is the test set's id (a slug); the features keep their paths relative to
that folder. A test set that exists is replaced (PUT), a new one is created (POST), so the
command can run on every commit of a repository of features.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.client import Client


def collect(root: Path) -> dict[str, list[dict[str, str]]]:
    if not root.is_dir():
        raise click.BadParameter(f"{root} is not a folder", param_hint="DIR")
    found: dict[str, list[dict[str, str]]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        features = [
            {"path": path.relative_to(folder).as_posix(), "content": path.read_text("utf-8")}
            for path in sorted(folder.rglob("*.feature"))
        ]
        if features:
            found[folder.name] = features
    if not found:
        raise click.BadParameter(
            f"no sub-folder of {root} holds .feature files (one test set per sub-folder)",
            param_hint="DIR",
        )
    return found


def sync(client: Client, root: Path, base_url: str | None) -> list[tuple[str, str]]:
    results = []
    for test_set_id, features in collect(root).items():
        path = f"/api/test-sets/{test_set_id}"
        existing: dict[str, Any] | None = client.get_json(path) if client.exists(path) else None
        body: dict[str, Any] = {
            "name": (existing or {}).get("name") or test_set_id.replace("-", " ").title(),
            "features": features,
        }
        if existing:
            for key in (
                "description",
                "baseUrl",
                "tags",
                "timeoutSeconds",
                "maxAttempts",
                "enabled",
                "retryOnFailure",
            ):
                if key in existing:
                    body[key] = existing[key]
        if base_url:
            body["baseUrl"] = base_url
        if existing:
            client.request("PUT", path, json=body)
            results.append((test_set_id, "updated"))
        else:
            client.request("POST", "/api/test-sets", json={"id": test_set_id, **body})
            results.append((test_set_id, "created"))
    return results
