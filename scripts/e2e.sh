#!/usr/bin/env bash
# Browser tests: serve the built board on a free port with a fresh embedded
# demo store, wait until it answers, run Playwright (Debian Chromium), stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/ffb-target}"
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
WORK=$(mktemp -d)
LOG="$WORK/server.log"
(
  cd "$WORK"
  exec env LEPTOS_OUTPUT_NAME=ff-board LEPTOS_SITE_ROOT="$OLDPWD/target/site" LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR="127.0.0.1:$PORT" FF_BOARD_ADDR="127.0.0.1:$PORT" RUST_LOG=info,sqlx=warn \
    "$CARGO_TARGET_DIR/debug/ff-board"
) >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/healthz" | grep -q '"backend_ok":true' && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/healthz" || { echo "server did not come up"; cat "$LOG"; exit 1; }
echo
cd end2end
RESTART_PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export BOARD_BIN="$CARGO_TARGET_DIR/debug/ff-board" RESTART_PORT
export LEPTOS_OUTPUT_NAME=ff-board LEPTOS_SITE_ROOT="$OLDPWD/target/site" LEPTOS_SITE_PKG_DIR=pkg
BASE_URL="http://127.0.0.1:$PORT" npx playwright test "$@" || { tail -50 "$LOG"; exit 1; }
