"""``proctor run``, ``proctor status`` and ``proctor report``: what CI pipelines call.

``run`` triggers one run per named test set (or a batch of all enabled ones), follows it
until every run has finished, prints a summary per test set with scenario counts and
where the reports are, and exits 0 only when everything passed — the contract
``scripts/run-7ps.sh`` had.
"""

from __future__ import annotations

import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import click

from cli.client import ApiError, Client

TERMINAL = {"passed", "failed", "error", "timed_out", "cancelled"}
COLOURS = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "timed_out": "red",
    "cancelled": "yellow",
    "running": "cyan",
    "launching": "cyan",
    "pending": "white",
}


def trigger(
    client: Client,
    test_sets: tuple[str, ...],
    run_all: bool,
    base_url: str | None,
    tags: str | None,
    label: str | None,
) -> dict[str, Any]:
    """Start the runs; returns a batch-shaped dict with ``id`` (or None) and ``runs``."""
    parameters: dict[str, str] = {}
    if base_url:
        parameters["baseUrl"] = base_url
    if tags:
        parameters["tags"] = tags
    # One key per invocation: if the request is retried after a lost answer, no second run.
    headers = {"Idempotency-Key": f"cli-{uuid.uuid4()}"}
    if len(test_sets) == 1 and not run_all:
        body = {"parameters": parameters}
        run = client.request(
            "POST", f"/api/test-runs/execute/{test_sets[0]}", json=body, headers=headers
        ).json()
        return {"id": None, "runs": [run]}
    batch_body: dict[str, Any] = {"parameters": parameters}
    if test_sets:
        batch_body["testSetIds"] = list(test_sets)
    if label:
        batch_body["label"] = label
    batch = client.request(
        "POST", "/api/test-runs/execute-all", json=batch_body, headers=headers
    ).json()
    if not batch.get("runs"):
        raise ApiError("no enabled test set to run (create some with `proctor test-sets sync`)")
    return batch  # type: ignore[no-any-return]


def follow(
    client: Client, run_ids: list[str], interval: float, timeout: float | None
) -> list[dict[str, Any]]:
    """Poll the runs until all have finished, printing each change of state."""
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        runs = [client.get_json(f"/api/test-runs/{run_id}") for run_id in run_ids]
        for run in runs:
            if seen.get(run["id"]) != run["status"]:
                seen[run["id"]] = run["status"]
                label = f"attempt {run['attempt']}" if run["attempt"] else "queued"
                click.echo(
                    f"  {run['testSetId']:<24} "
                    + click.style(f"{run['status']:<10}", fg=COLOURS.get(run["status"]))
                    + f" {label}"
                )
        if all(run["status"] in TERMINAL for run in runs):
            return runs
        if deadline and time.monotonic() > deadline:
            raise ApiError(f"gave up waiting after {timeout:.0f}s; the runs go on")
        time.sleep(interval)


def print_summary(client: Client, runs: list[dict[str, Any]], artifacts_hint: str | None) -> None:
    click.echo("")
    click.echo(click.style("Summary", bold=True))
    for run in runs:
        scenarios = run.get("summary", {}).get("scenarios", {})
        counts = ", ".join(
            f"{scenarios.get(k, 0)} {k}"
            for k in ("passed", "failed", "skipped", "undefined")
            if scenarios.get(k, 0) or k in ("passed", "failed")
        )
        status = run["status"].upper()
        flaky = " (flaky)" if run.get("flaky") else ""
        click.echo(
            f"  {run['testSetId']:<24} "
            + click.style(f"{status:<10}", fg=COLOURS.get(run["status"]), bold=True)
            + f" scenarios: {counts}{flaky}"
        )
        if run.get("error"):
            click.echo(f"  {'':<24} error: {run['error']}")
        click.echo(f"  {'':<24} report: {client.url}/api/test-runs/{run['id']}/report.pdf")
        if artifacts_hint:
            click.echo(
                f"  {'':<24} artifacts: {artifacts_hint}/runs/{run['id']}/attempt-{run['attempt']}/"
            )
    passed = sum(run["status"] == "passed" for run in runs)
    click.echo(f"\n{passed} of {len(runs)} test sets passed.")


def write_junit(client: Client, runs: list[dict[str, Any]], path: Path) -> None:
    """One JUnit file for CI: the runs' junit.xml merged under one <testsuites>."""
    suites = ET.Element("testsuites", name="proctor")
    for run in runs:
        response = client._http.get(f"/api/test-runs/{run['id']}/junit.xml")
        if response.status_code == 200:
            root = ET.fromstring(response.content)
            for suite in [root] if root.tag == "testsuite" else list(root):
                suite.set("name", f"{run['testSetId']}: {suite.get('name', '')}".rstrip(": "))
                suites.append(suite)
        else:
            suite = ET.SubElement(suites, "testsuite", name=run["testSetId"], tests="1", errors="1")
            case = ET.SubElement(suite, "testcase", name=run["testSetId"], classname="proctor")
            ET.SubElement(case, "error", message=run.get("error") or run["status"])
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def show_status(client: Client, ident: str) -> dict[str, Any]:
    if client.exists(f"/api/test-runs/{ident}"):
        return client.get_json(f"/api/test-runs/{ident}")  # type: ignore[no-any-return]
    if client.exists(f"/api/test-runs/batch/{ident}/status"):
        return client.get_json(f"/api/test-runs/batch/{ident}/details")  # type: ignore[no-any-return]
    raise ApiError(f"no run or batch with id {ident!r}")
