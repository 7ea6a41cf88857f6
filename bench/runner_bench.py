"""The runner's own overhead: the same browser actions through Proctor vs plain Playwright.

    .venv/bin/python bench/runner_bench.py [--scenarios 20] [--rounds 3] [--trace]

One process, one Chromium (launched before timing starts), pages served on 127.0.0.1.
Each round runs the same work twice, in alternating order so neither side always gets a
warm cache: a plain Playwright script (fresh context per scenario, the same locator
actions and ``expect`` assertions) and ``runner.execute.run_job`` on a feature whose
steps are exactly those actions (parse, match, hooks, step reports to an in-memory
reporter, cucumber.json, junit.xml, upload to a local store). Video is off on both sides;
the Playwright trace is off too unless ``--trace`` (then it is on for both). Prints each
round's times and ratio, the median ratio (goal <= 1.05) and the overhead it means per
step and per scenario, and the CPU time of this Python process on each side (the
runner's own code, a measure that load from other processes hardly disturbs).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, expect, sync_playwright

from artifacts.store import LocalStore
from config.browser import CHROMIUM_ARGS, browser_executable
from config.settings import Settings
from runner.browser import BrowserOptions
from runner.execute import RunOptions, run_job
from runner.reporter import MemoryReporter
from runner.runlog import RunLog
from schemas.models import FeatureFile, RunnerJob

PAGES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pages"

STEPS = [
    'Given I open "index.html"',
    'Then the title should be "Proctor test page"',
    'When I click "#reveal"',
    'And I wait for "#later"',
    'And I click "#to-form"',
    'Then the URL should contain "form.html"',
    'When I fill "#name" with "Ada"',
    'And I select "blue" in "#color"',
    'And I check "#agree"',
    'And I click "#submit"',
    'Then "#greeting" should contain "Hello, Ada (blue, agreed)"',
]


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def plain_playwright(browser: Browser, base: str, scenarios: int, trace: bool, work: Path) -> None:
    """What a hand-written Playwright script does for the same scenarios."""
    for index in range(scenarios):
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        context.set_default_timeout(10_000)
        if trace:
            context.tracing.start(screenshots=True, snapshots=True)
        page = context.new_page()
        page.goto(f"{base}/index.html")
        expect(page).to_have_title("Proctor test page")
        page.locator("#reveal").click()
        page.locator("#later").first.wait_for(state="visible")
        page.locator("#to-form").click()
        expect(page).to_have_url(re.compile(re.escape("form.html")))
        page.locator("#name").fill("Ada")
        page.locator("#color").select_option("blue")
        page.locator("#agree").check()
        page.locator("#submit").click()
        expect(page.locator("#greeting")).to_contain_text("Hello, Ada (blue, agreed)")
        if trace:
            context.tracing.stop(path=str(work / f"plain-{index}.zip"))
        context.close()


def proctor(browser: Browser, base: str, scenarios: int, trace: bool, work: Path) -> None:
    body = "\n".join(f"    {step}" for step in STEPS)
    feature = "Feature: Bench\n" + "".join(
        f"  Scenario: order {i}\n{body}\n\n" for i in range(scenarios)
    )
    job = RunnerJob(
        run_id="bench",
        attempt=1,
        test_set_id="bench",
        base_url=base,
        tags=None,
        features=[FeatureFile(path="bench.feature", content=feature)],
        timeout_seconds=600,
        artifacts_prefix="runs/bench/attempt-1/",
    )
    work.mkdir(parents=True, exist_ok=True)
    log = RunLog(work / "runner.log", echo=None)
    options = RunOptions(
        browser=BrowserOptions(args=CHROMIUM_ARGS, video=False, trace=trace),
        shared_browser=browser,
        work_dir=work,
    )
    outcome = run_job(job, LocalStore(work / "store"), MemoryReporter(), options, log=log)
    log.close()
    if outcome.exit_code != 0:
        raise SystemExit(f"the bench feature did not pass: {outcome.error or outcome.summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trace", action="store_true", help="Playwright tracing on both sides")
    args = parser.parse_args()

    handler = partial(_QuietFiles, directory=str(PAGES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    times: dict[str, list[float]] = {"plain": [], "proctor": []}
    cpu: dict[str, list[float]] = {"plain": [], "proctor": []}
    sides: dict[str, Any] = {"plain": plain_playwright, "proctor": proctor}
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as tmp:
        browser = playwright.chromium.launch(
            executable_path=browser_executable(Settings()), args=list(CHROMIUM_ARGS)
        )
        plain_playwright(browser, base, 1, args.trace, Path(tmp))  # warm up both paths
        proctor(browser, base, 1, args.trace, Path(tmp) / "warm")
        for round_ in range(args.rounds):
            order = ["plain", "proctor"] if round_ % 2 == 0 else ["proctor", "plain"]
            for side in order:
                started, cpu_started = time.perf_counter(), time.process_time()
                sides[side](
                    browser, base, args.scenarios, args.trace, Path(tmp) / f"{side}-{round_}"
                )
                times[side].append(time.perf_counter() - started)
                cpu[side].append(time.process_time() - cpu_started)
        browser.close()
    server.shutdown()

    # Each round runs both sides back to back, so a round's ratio compares like with like
    # even when other processes load the cores; the median round is the estimate.
    ratios = [r / p for r, p in zip(times["proctor"], times["plain"], strict=True)]
    ratio = statistics.median(ratios)
    plain = statistics.median(times["plain"])
    runner = statistics.median(times["proctor"])
    steps = args.scenarios * len(STEPS)
    overhead = plain * (ratio - 1)
    print(
        f"{args.scenarios} scenarios x {len(STEPS)} steps, {args.rounds} rounds, video off, "
        f"trace {'on' if args.trace else 'off'}"
    )
    print(
        f"  plain Playwright : median {plain:.3f} s  (rounds: "
        + ", ".join(f"{t:.3f}" for t in times["plain"])
        + ")"
    )
    print(
        f"  Proctor runner   : median {runner:.3f} s  (rounds: "
        + ", ".join(f"{t:.3f}" for t in times["proctor"])
        + ")"
    )
    print("  ratio per round  : " + ", ".join(f"{r:.3f}" for r in ratios))
    print(
        f"  overhead         : {overhead * 1000 / steps:.2f} ms per step, "
        f"{overhead * 1000 / args.scenarios:.2f} ms per scenario"
    )
    # CPU time of this Python process only (Chromium and the driver are other processes):
    # what the runner's own code costs, far less disturbed by other load than wall time.
    cpu_plain, cpu_runner = statistics.median(cpu["plain"]), statistics.median(cpu["proctor"])
    print(
        f"  Python CPU       : plain {cpu_plain:.3f} s, Proctor {cpu_runner:.3f} s "
        f"= {(cpu_runner - cpu_plain) * 1000 / steps:.2f} ms per step of runner code"
    )
    print(f"  ratio            : {ratio:.3f} (median of rounds; goal <= 1.05)")


if __name__ == "__main__":
    main()
