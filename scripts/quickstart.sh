#!/usr/bin/env bash
# The README's first command: set up, start Proctor on the embedded default (SQLite, local
# artifact folder, local launcher), serve the example shop, sync the example test sets and
# run them all as one batch, then print the summary and stop everything again.
#
#   bash scripts/quickstart.sh            # run the example batch, then stop
#   bash scripts/quickstart.sh --keep     # leave Proctor running afterwards
#
# The example batch has one test set that passes (storefront) and one that fails on
# purpose (checkout), so the summary shows both outcomes; this script succeeds when the
# batch finished with exactly that result.
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=""
[ "${1:-}" = "--keep" ] && KEEP=1

bash scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH"

PY=.venv/bin/python  # made by setup.sh (uv sync); no curl needed on a bare machine
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ready() { "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; }
PORT="${PROCTOR_PORT:-8000}"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then PORT=$(free_port); fi
SITE_PORT=$(free_port)
export PROCTOR_HOME="${PROCTOR_HOME:-$PWD/.proctor}"
mkdir -p "$PROCTOR_HOME/logs"

PIDS=()
cleanup() { [ -n "$KEEP" ] || for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "==> serving the example shop on http://127.0.0.1:$SITE_PORT"
"$PY" -m http.server "$SITE_PORT" --bind 127.0.0.1 --directory examples/site \
    >"$PROCTOR_HOME/logs/example-site.log" 2>&1 &
PIDS+=($!)

echo "==> starting Proctor (log: $PROCTOR_HOME/logs/proctor.log)"
uv run --frozen proctor up --port "$PORT" >"$PROCTOR_HOME/logs/proctor.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 120); do
    if ready "http://127.0.0.1:$PORT/readyz" && [ -s "$PROCTOR_HOME/credentials" ] \
        && grep -q ":$PORT\$" "$PROCTOR_HOME/credentials"; then break; fi
    if ! kill -0 "${PIDS[1]}" 2>/dev/null; then cat "$PROCTOR_HOME/logs/proctor.log" >&2; exit 1; fi
    sleep 0.5
done
head -n 7 "$PROCTOR_HOME/logs/proctor.log"

echo "==> syncing the example test sets"
uv run --frozen proctor test-sets sync examples/suites --base-url "http://127.0.0.1:$SITE_PORT"

echo "==> running every test set as one batch"
set +e
uv run --frozen proctor run --all --wait --label quickstart --junit "$PROCTOR_HOME/quickstart-junit.xml" \
    | tee "$PROCTOR_HOME/logs/quickstart-run.log"
status=${PIPESTATUS[0]}
set -e
if [ -n "$KEEP" ]; then
    echo "Proctor keeps running at http://127.0.0.1:$PORT (pids ${PIDS[*]}); stop it with: kill ${PIDS[*]}"
fi
# Exit 1 from `proctor run` is the expected verdict here: checkout fails on purpose.
summary="$PROCTOR_HOME/logs/quickstart-run.log"
if [ "$status" -eq 1 ] && grep -Eq '^  storefront +PASSED' "$summary" \
    && grep -Eq '^  checkout +FAILED' "$summary"; then
    echo "The example batch finished: storefront passes and checkout fails on purpose."
    exit 0
fi
echo "Unexpected result from the example batch (exit $status)." >&2
exit 1
