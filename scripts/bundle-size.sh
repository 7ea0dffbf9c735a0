#!/usr/bin/env bash
# The hydrate bundle the browser downloads on a first load (wasm + js, and
# the css beside them): raw, gzip and brotli sizes, from the precompressed
# copies `cargo leptos build --release --precompress` writes. Fails when the
# brotli size of wasm + js passes the budget (BUNDLE_BUDGET_KB). The goal is
# 400 KB; plain hydration measures 429 KB today (docs/BENCHMARKS.md), so the
# budget CI holds is 440 KB until islands or lazy routes bring it down: no
# regression passes meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=target/site/pkg
BUDGET_KB=${BUNDLE_BUDGET_KB:-440}
GOAL_KB=400
wasm=$(ls -t "$PKG"/ff-board*.wasm 2>/dev/null | head -1 || true)
js=$(ls -t "$PKG"/ff-board*.js 2>/dev/null | head -1 || true)
css=$(ls -t "$PKG"/ff-board*.css 2>/dev/null | head -1 || true)
[ -n "$wasm" ] && [ -n "$js" ] || { echo "bundle-size: no built bundle in $PKG (run make build)"; exit 1; }
size() { [ -f "$1" ] && stat -c %s "$1" || echo 0; }
printf '%-34s %10s %10s %10s\n' file raw gzip brotli
total_br=0
for f in "$wasm" "$js" "$css"; do
  [ -n "$f" ] || continue
  [ -f "$f.br" ] && [ -f "$f.gz" ] || { echo "bundle-size: $f has no .br/.gz copy (build with --precompress)"; exit 1; }
  printf '%-34s %10d %10d %10d\n' "$(basename "$f")" "$(size "$f")" "$(size "$f.gz")" "$(size "$f.br")"
done
total_br=$(( $(size "$wasm.br") + $(size "$js.br") ))
total_gz=$(( $(size "$wasm.gz") + $(size "$js.gz") ))
total_raw=$(( $(size "$wasm") + $(size "$js") ))
echo "hydrate bundle (wasm + js): raw $((total_raw / 1024)) KB, gzip $((total_gz / 1024)) KB, brotli $((total_br / 1024)) KB (budget ${BUDGET_KB} KB brotli, goal ${GOAL_KB} KB)"
if (( total_br > BUDGET_KB * 1024 )); then
  echo "bundle-size: over budget by $(( (total_br - BUDGET_KB * 1024) / 1024 )) KB"
  exit 1
fi
