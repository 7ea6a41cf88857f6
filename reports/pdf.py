"""Print a run's report to PDF with headless Chromium.

Chromium lays out the same HTML page ``reports.html`` produces, so the PDF and the page
never disagree, and CSS handles what a PDF library would make us do by hand (tables that
break across pages, wrapped stack traces, images). The browser is the one the runner
uses (``config.browser``), launched per report: reports are rare and a long-lived browser
in the API process would be one more thing to supervise.

The page is untrusted content (step names, error messages from the system under test),
escaped by the template; as a second fence the page runs with JavaScript off and every
network request refused, so nothing in it can reach anywhere.

This uses Playwright's sync API, which refuses to run on a thread that has an asyncio loop:
async callers (Litestar handlers) call it in a worker thread (``sync_to_thread=True``, or
``anyio.to_thread.run_sync``).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import PdfMargins, Route, sync_playwright

from config.browser import CHROMIUM_ARGS, browser_executable
from config.settings import Settings
from reports.html import make_environment, render_footer, render_header, render_html
from schemas.models import RunRead, StepRead

PAGE_MARGINS: PdfMargins = {"top": "18mm", "bottom": "16mm", "left": "14mm", "right": "14mm"}
"""Room for the header (run id) and the footer (page numbers) Chromium prints in the margin."""

RENDER_TIMEOUT_MS = 60_000
"""Milliseconds allowed for laying out and printing one report (big ones embed many images)."""


def render_pdf(
    run: RunRead,
    steps: list[StepRead],
    cucumber: list[dict[str, Any]] | None,
    *,
    settings: Settings,
    test_set_name: str | None = None,
) -> bytes:
    """The run's report as an A4 PDF (see ``reports.html.render_html`` for the content)."""
    env = make_environment()
    html = render_html(run, steps, cucumber, test_set_name=test_set_name, env=env)
    return print_pdf(
        html,
        settings=settings,
        header=render_header(run, env=env),
        footer=render_footer(env=env),
    )


def print_pdf(html: str, *, settings: Settings, header: str, footer: str) -> bytes:
    """Lay out ``html`` in a fresh headless Chromium and print it to A4."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_executable(settings),
            args=list(CHROMIUM_ARGS),
            headless=True,
        )
        try:
            context = browser.new_context(java_script_enabled=False, offline=True)
            page = context.new_page()
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            page.route("**/*", _refuse)
            page.set_content(html, wait_until="load")
            return page.pdf(
                format="A4",
                print_background=True,
                display_header_footer=True,
                header_template=header,
                footer_template=footer,
                margin=PAGE_MARGINS,
            )
        finally:
            browser.close()


def _refuse(route: Route) -> None:
    # data: URIs (the embedded screenshots) never reach the router; anything else is a
    # URL the report should not contain.
    route.abort("blockedbyclient")
