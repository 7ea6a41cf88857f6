#!/usr/bin/env bash
# The README's second command: set up (uv, the locked environment, Chromium, ffmpeg) and
# run the whole test suite. Needs PostgreSQL on 127.0.0.1:5432 (or PROCTOR_TEST_PG).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH"
uv sync --frozen --quiet  # with the dev group: pytest, moto, schemathesis, hadolint, …
exec uv run --frozen pytest "$@"
