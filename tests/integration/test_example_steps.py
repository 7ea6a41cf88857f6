"""The example step module and features that docs/writing-tests.md quotes, run for real.

What the fakes can't show: that the page's examples work — examples/steps/shop_steps.py
loaded from the steps path, its parameter types, regex, Data Table and Doc String steps
and @cart hooks driving real Chromium against the example shop served on 127.0.0.1 — and
that the page still quotes these files, not an older version of them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from runner.execute import EXIT_PASSED
from tests.runner_fixtures import make_job, run_here

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "examples" / "site"
STEPS = ROOT / "examples" / "steps"
FEATURES = STEPS / "features"


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def shop_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(SITE)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _features() -> dict[str, str]:
    return {
        path.relative_to(FEATURES).as_posix(): path.read_text("utf-8")
        for path in sorted(FEATURES.rglob("*.feature"))
    }


def _elements(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [element for feature in report for element in feature["elements"]]


def test_example_features_pass_with_the_example_steps(
    tmp_path: Path, chromium: Browser, shop_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCTOR_RUNNER_TOKEN", "r1.run-1.1.secret")  # as the launcher sets it
    job = make_job(_features(), base_url=shop_url)
    outcome, reporter, store = run_here(
        job, tmp_path, browser=chromium, steps_path=[str(STEPS)], video=False, timeout_ms=10_000
    )

    not_passed = [
        (e["name"], s["name"], s["result"]["status"], s["result"].get("error_message"))
        for e in _elements(outcome.cucumber)
        for s in e["steps"]
        if s["result"]["status"] != "passed"
    ]
    assert not_passed == []
    assert outcome.exit_code == EXIT_PASSED, outcome.error
    assert outcome.summary.scenarios.model_dump() == {
        "passed": 7,
        "failed": 0,
        "skipped": 0,
        "undefined": 0,
    }

    by_name = {e["name"]: e for e in _elements(outcome.cucumber)}
    # Each custom step matched the example module, not a built-in.
    custom = {
        s["name"]: s["match"]["location"]
        for e in by_name.values()
        for s in e["steps"]
        if "shop_steps.py" in s["match"]["location"]
    }
    assert set(custom) >= {
        "I add 2 T-shirts to the cart",  # {int} {product}(s)
        "I add 3 Caps to the cart",  # the outline row, through the same expression
        "I add these products to the cart:",  # Data Table
        "the total should be 42.00",  # {price}
        "the cart should have 2 lines",  # regular expression
        "I sign in with:",  # Doc String
    }
    table_step = by_name["A Data Table adds several products"]["steps"][0]
    assert table_step["rows"][1] == {"cells": ["Coffee mug", "1"]}
    assert table_step["output"] == ["cart total: 42.00"]  # the @cart after-step hook

    # The @cart hooks ran for the @cart scenarios only.
    cart = by_name["A custom parameter type names the product"]
    assert cart["before"][0]["match"]["location"].endswith(_line_of("open_cart"))
    assert cart["after"][0]["result"]["status"] == "passed"
    assert cart["steps"][-1]["embeddings"][0]["name"] == "cart lines"
    sign_in = by_name["A Doc String carries the account"]
    assert "before" not in sign_in and "after" not in sign_in
    assert sign_in["steps"][2]["output"] == ["signed in as ada@example.com"]
    assert sign_in["steps"][2]["doc_string"]["content_type"] == "json"

    # The command step ran a shell with the base URL in its environment, without the token.
    command = by_name["A command sees the base URL but not the runner's token"]["steps"]
    assert f"testing {shop_url}" in command[0]["output"][0]
    assert command[4]["name"] == "the command should fail"  # the token was set, yet not seen

    # Gherkin in German, with the built-in steps.
    assert by_name["Eine Suche findet den Becher"]["keyword"] == "Szenario"

    log = (store.get_bytes(job.artifacts_prefix + "runner.log") or b"").decode()
    assert "A custom parameter type names the product: passed, 1 line(s) added" in log
    assert {r.status for r in reporter.steps} == {"passed"}


def test_tag_expression_selects_the_smoke_scenarios(
    tmp_path: Path, chromium: Browser, shop_url: str
) -> None:
    job = make_job(_features(), base_url=shop_url, tags="@smoke and not @cart")
    outcome, _, _ = run_here(
        job, tmp_path, browser=chromium, steps_path=[str(STEPS)], video=False, trace=False
    )

    assert outcome.exit_code == EXIT_PASSED, outcome.error
    assert sorted(e["name"] for e in _elements(outcome.cucumber)) == [
        "A Doc String carries the account",
        "Eine Suche findet den Becher",
    ]


def _line_of(function: str) -> str:
    """``shop_steps.py:N``, N being the line of the decorator above ``function``."""
    lines = (STEPS / "shop_steps.py").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith(f"def {function}("))
    while lines[line - 2].startswith("@"):
        line -= 1
    return f"shop_steps.py:{line}"


DOC = ROOT / "docs" / "writing-tests.md"
FENCE = re.compile(r"^```(python|gherkin)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_pages_examples_are_the_files_this_test_runs() -> None:
    """docs/writing-tests.md quotes shop_steps.py and the example features: every line of
    its python and gherkin blocks must still be in them (a block that starts with a
    ``# path`` comment quotes a file made for the page alone)."""
    module = (STEPS / "shop_steps.py").read_text("utf-8").splitlines()
    features = [
        line
        for path in [
            *FEATURES.rglob("*.feature"),
            *(ROOT / "examples" / "suites").rglob("*.feature"),
        ]
        for line in path.read_text("utf-8").splitlines()
    ]
    blocks = FENCE.findall(DOC.read_text("utf-8"))
    assert len(blocks) >= 8
    missing = []
    for language, block in blocks:
        if block.startswith("# ") and "/" in block.splitlines()[0]:
            continue
        source = {line.strip() for line in (module if language == "python" else features)}
        missing += [
            (language, line)
            for line in block.splitlines()
            if line.strip() and line.strip() not in source and not _imported(line, module)
        ]
    assert missing == []


def _imported(line: str, module: list[str]) -> bool:
    """``from X import a, b`` on the page: the module imports a and b from X too."""
    quoted = re.fullmatch(r"from (\S+) import (.+)", line.strip())
    if not quoted:
        return False
    names: set[str] = set()
    for text in module:
        found = re.fullmatch(rf"from {re.escape(quoted[1])} import (.+)", text.strip())
        if found:
            names |= {name.strip() for name in found[1].split(",")}
    return {name.strip() for name in quoted[2].split(",")} <= names
