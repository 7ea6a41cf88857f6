"""Which Chromium to launch, and how (shared by the runner and the PDF renderer).

DESIGN.md: ``PROCTOR_BROWSER_EXECUTABLE``, else Playwright's own browser when it is
installed, else Debian's ``/usr/bin/chromium``. The flags keep Chromium from reaching
out to the network on its own (updates, sync, first-run pages) and let it run as root in
a container.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from config.settings import Settings

CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)

SYSTEM_CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def _playwright_has_chromium() -> bool:
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache/ms-playwright")
    return any(root.glob("chromium-*/chrome-linux*/chrome")) or any(
        root.glob("chromium_headless_shell-*/chrome-*/headless_shell")
    )


def browser_executable(settings: Settings) -> str | None:
    """The executable to pass to Playwright, or None for Playwright's own browser."""
    if settings.browser_executable:
        return settings.browser_executable
    if _playwright_has_chromium():
        return None
    for candidate in SYSTEM_CHROMIUM:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")
