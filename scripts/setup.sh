#!/usr/bin/env bash
# Installs what Proctor needs on this machine: uv, the Python environment from the lock
# file, Chromium and ffmpeg for Playwright. Safe to run again; each step is skipped when done.
#
# Chromium: first Playwright's own download (a laptop with internet); where that is not
# possible (a closed network), Debian's chromium and ffmpeg packages, with ffmpeg linked
# where Playwright looks for it so videos still record.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
APT_UPDATED=""
apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq >&2 || return 1; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >&2
}

# 1. uv (from PyPI), then the locked environment.
if ! command -v uv >/dev/null 2>&1; then
    say "installing uv"
    python3 -m pip install --quiet --user uv 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages --user uv 2>/dev/null \
        || { apt_install python3-pip && python3 -m pip install --quiet --break-system-packages --user uv; }
    export PATH="$HOME/.local/bin:$PATH"
fi
say "syncing the Python environment (uv.lock)"
uv sync --frozen --quiet >&2

# 2. Chromium and ffmpeg.
BROWSERS="${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"
have_playwright_chromium() { compgen -G "$BROWSERS/chromium-*/chrome-linux*/chrome" >/dev/null; }
if [ -z "${PROCTOR_BROWSER_EXECUTABLE:-}" ] && ! have_playwright_chromium && [ ! -x /usr/bin/chromium ]; then
    say "installing Chromium (Playwright's download first)"
    if ! timeout 300 uv run --frozen playwright install chromium >/dev/null 2>&1; then
        say "Playwright's download is not reachable; using Debian's chromium and ffmpeg"
        apt_install chromium ffmpeg fonts-liberation
    fi
fi
# Video recording needs Playwright's ffmpeg; link Debian's where Playwright looks for it.
FFMPEG_REV=$(uv run --frozen python - <<'PY'
import json, pathlib, playwright
spec = pathlib.Path(playwright.__file__).parent / "driver/package/browsers.json"
print(next(b["revision"] for b in json.loads(spec.read_text())["browsers"] if b["name"] == "ffmpeg"))
PY
)
FFMPEG_DIR="$BROWSERS/ffmpeg-$FFMPEG_REV"
if [ ! -x "$FFMPEG_DIR/ffmpeg-linux" ]; then
    if ! timeout 120 uv run --frozen playwright install ffmpeg >/dev/null 2>&1 || [ ! -x "$FFMPEG_DIR/ffmpeg-linux" ]; then
        command -v ffmpeg >/dev/null 2>&1 || apt_install ffmpeg
        mkdir -p "$FFMPEG_DIR"
        ln -sf "$(command -v ffmpeg)" "$FFMPEG_DIR/ffmpeg-linux"
    fi
fi
say "set-up done"
