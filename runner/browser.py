"""Chromium for a runner: one browser per process, a fresh context per scenario.

The browser starts on first need (the first step that touches ``ctx.page``), so a run
whose steps never use a page — command steps, undefined steps, the Gherkin conformance
corpus — never pays for a browser. Each scenario's context records its own video and
Playwright trace; closing the session hands both files back.

Failures are told apart because they end a run differently:
``BrowserStartError`` (Chromium would not launch) and ``BrowserCrashed`` (the browser
process or a page's renderer died) make the run ``error`` (exit 2); a step that merely
times out is a test failure.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import playwright
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright


@contextlib.contextmanager
def _driver_in_own_session() -> Iterator[None]:
    """Start Playwright's Node driver in a session of its own (via ``setsid``).

    A launcher that stops the runner by signalling its whole process group (the local
    launcher does) would otherwise kill the driver in the same instant, and with it the
    video and trace the runner is about to save. Chromium is already in a group of its own
    (Playwright starts it detached). The driver still ends with the runner: it exits when
    its stdin, a pipe from this process, closes.
    """
    setsid = shutil.which("setsid")
    node = Path(playwright.__file__).parent / "driver" / "node"
    if not setsid or not node.is_file() or os.environ.get("PLAYWRIGHT_NODEJS_PATH"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="proctor-driver-") as folder:
        wrapper = Path(folder) / "node"
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(setsid)} {shlex.quote(str(node))} "$@"\n')
        wrapper.chmod(0o755)
        os.environ["PLAYWRIGHT_NODEJS_PATH"] = str(wrapper)
        try:
            yield
        finally:
            del os.environ["PLAYWRIGHT_NODEJS_PATH"]


def ffmpeg_available() -> bool:
    """Playwright records video with its own ffmpeg build; without it a context that asks
    for video cannot even be created, so the runner records none rather than fail."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache/ms-playwright")
    return any(root.glob("ffmpeg-*/ffmpeg-linux")) or any(root.glob("ffmpeg-*/ffmpeg-mac"))


class BrowserStartError(Exception):
    """Chromium could not be launched."""


class BrowserCrashed(Exception):
    """The browser process disconnected, or a page's renderer crashed."""


@dataclass(frozen=True)
class BrowserOptions:
    executable: str | None = None
    args: Sequence[str] = ()
    launch_timeout_ms: int = 60_000
    action_timeout_ms: int = 10_000
    navigation_timeout_ms: int = 15_000
    video: bool = True
    trace: bool = True
    viewport: tuple[int, int] = (1280, 720)


class BrowserHost:
    """Owns the Playwright driver and the one Chromium of this process."""

    def __init__(self, options: BrowserOptions, *, shared: Browser | None = None) -> None:
        self.options = options
        self._playwright: Playwright | None = None
        self._browser: Browser | None = shared
        self._owned = shared is None
        self._closing = False
        self.crashed: str | None = None
        if shared is not None:
            shared.on("disconnected", self._on_disconnected)

    @property
    def started(self) -> bool:
        return self._browser is not None

    def browser(self) -> Browser:
        if self.crashed:
            raise BrowserCrashed(self.crashed)
        if self._browser is None:
            try:
                with _driver_in_own_session():
                    self._playwright = sync_playwright().start()
                self._browser = self._playwright.chromium.launch(
                    executable_path=self.options.executable,
                    args=list(self.options.args),
                    headless=True,
                    timeout=self.options.launch_timeout_ms,
                    handle_sigint=False,
                    handle_sigterm=False,
                    handle_sighup=False,
                )
            except Exception as err:
                self._stop_driver()
                raise BrowserStartError(
                    f"Chromium could not start ({self.options.executable or 'bundled'}): {err}"
                ) from err
            self._browser.on("disconnected", self._on_disconnected)
        return self._browser

    def _on_disconnected(self, *_: Any) -> None:
        if not self._closing:
            self.crashed = "the browser process disconnected (crashed or was killed)"

    def _stop_driver(self) -> None:
        if self._playwright is not None:
            with contextlib.suppress(Exception):
                self._playwright.stop()
            self._playwright = None

    def close(self) -> None:
        self._closing = True
        if self._owned and self._browser is not None:
            with contextlib.suppress(Exception):
                self._browser.close()
            self._browser = None
        self._stop_driver()


class ScenarioSession:
    """One scenario's browser context, created on first use."""

    def __init__(self, host: BrowserHost, scratch: Path, title: str) -> None:
        self.host = host
        self.scratch = scratch
        self.title = title
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self.page_crashed = False

    @property
    def active(self) -> bool:
        return self._context is not None

    def context(self) -> BrowserContext:
        if self._context is None:
            options = self.host.options
            width, height = options.viewport
            kwargs: dict[str, Any] = {"viewport": {"width": width, "height": height}}
            if options.video:
                kwargs["record_video_dir"] = str(self.scratch / "video")
                kwargs["record_video_size"] = {"width": width, "height": height}
            context = self.host.browser().new_context(**kwargs)
            context.set_default_timeout(options.action_timeout_ms)
            context.set_default_navigation_timeout(options.navigation_timeout_ms)
            if options.trace:
                context.tracing.start(
                    title=self.title, screenshots=True, snapshots=True, sources=False
                )
            self._context = context
        return self._context

    def page(self) -> Page:
        if self.host.crashed:
            raise BrowserCrashed(self.host.crashed)
        if self._page is None:
            self._page = self.context().new_page()
            self._page.on("crash", self._on_crash)
        return self._page

    def _on_crash(self, *_: Any) -> None:
        self.page_crashed = True

    @property
    def crash_reason(self) -> str | None:
        if self.host.crashed:
            return self.host.crashed
        if self.page_crashed:
            return "the page's renderer process crashed"
        return None

    def settle(self) -> str | None:
        """After a failed step: one round trip to the driver, so that crash events it has
        already sent are dispatched before we decide; then the crash reason, if any."""
        if self.crash_reason or not self.host.started:
            return self.crash_reason
        with contextlib.suppress(Exception):
            if self._page is not None and not self._page.is_closed():
                self._page.evaluate("0")
            else:
                self.host.browser().new_context().close()
        return self.crash_reason

    def existing_page(self) -> Page | None:
        return self._page

    def close(self, video_to: Path, trace_to: Path) -> tuple[Path | None, Path | None]:
        """Close the context; return where its video and trace were saved (if any)."""
        if self._context is None:
            return None, None
        video_path: Path | None = None
        trace_path: Path | None = None
        context, self._context = self._context, None
        page, self._page = self._page, None
        if self.host.options.trace and not self.host.crashed:
            try:
                trace_to.parent.mkdir(parents=True, exist_ok=True)
                context.tracing.stop(path=str(trace_to))
                trace_path = trace_to if trace_to.exists() else None
            except Exception:
                trace_path = None
        with contextlib.suppress(Exception):
            context.close()
        if page is not None and page.video is not None:
            try:
                recorded = Path(page.video.path())
                if recorded.exists():
                    video_to.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(recorded), video_to)
                    video_path = video_to
            except Exception:
                video_path = None
        return video_path, trace_path
