#!/usr/bin/env bash
# The optimized build (`make build`), skipped when nothing it reads changed
# since the last build that succeeded: `make run` with nothing changed
# serves in seconds instead of re-running wasm-opt (about a minute).
# What it reads: every tracked and untracked (not ignored) file of the
# checkout but the docs and the tests (so a new crate or asset folder is
# covered without listing it here), and the build's fingerprint
# (FF_BOARD_BUILD). FORCE=1 builds anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/ffb-target}"
STAMP="$CARGO_TARGET_DIR/ff-board-build.stamp"
inputs() {
  git ls-files -co --exclude-standard 2>/dev/null | grep -vE '^(docs|end2end|tests)/|\.md$' | LC_ALL=C sort |
    while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done | xargs -d '\n' sha256sum
  echo "FF_BOARD_BUILD=${FF_BOARD_BUILD:-}"
}
hash=$(inputs | sha256sum | cut -d' ' -f1)
if [ "${FORCE:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash" ] \
  && [ -x "$CARGO_TARGET_DIR/server-release/ff-board" ] && [ -d target/site/pkg ]; then
  echo "build: nothing changed since the last build (FORCE=1 make build rebuilds)"
  exit 0
fi
rm -f "$STAMP"
cargo leptos build --release --precompress
echo "$hash" > "$STAMP"
