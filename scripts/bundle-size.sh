#!/usr/bin/env bash
# What a browser downloads on a first load: raw, gzip and brotli sizes,
# from the precompressed copies `cargo leptos build --release --precompress`
# writes. Fails when the brotli size of wasm + js passes the budget
# (BUNDLE_BUDGET_KB, default 400 KB: issue 10's goal; measured 385 KB with
# postcard answers and plain form readers, docs/BENCHMARKS.md).
# A build with `--split` (lazy routes) is measured too: the main bundle
# (wasm + js, the split loader and its manifest) plus, per page, the
# page's chunk and the shared chunks it needs (listed in the manifest);
# the largest first load is held to the budget. docs/BENCHMARKS.md has
# both measured.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=target/site/pkg
BUDGET_KB=${BUNDLE_BUDGET_KB:-400}
python3 - "$PKG" "$BUDGET_KB" <<'PY'
import glob, json, os, sys
pkg, budget_kb = sys.argv[1], int(sys.argv[2])

def newest(pattern):
    files = [f for f in glob.glob(os.path.join(pkg, pattern)) if not f.endswith(('.br', '.gz'))]
    return max(files, key=os.path.getmtime) if files else None

def sizes(path):
    for ext in ('.br', '.gz'):
        if not os.path.exists(path + ext):
            sys.exit(f"bundle-size: {path} has no {ext} copy (build with --precompress)")
    return os.path.getsize(path), os.path.getsize(path + '.gz'), os.path.getsize(path + '.br')

split = [newest('__wasm_split.*.js'), newest('__wasm_split_manifest.*.json')]
main = [newest('ff-board.*.wasm'), newest('ff-board.*.js')] + [f for f in split if f]
if not main[0] or not main[1]:
    sys.exit(f"bundle-size: no built bundle in {pkg} (run make build)")
print(f"{'file':58} {'raw':>9} {'gzip':>9} {'brotli':>9}")
total = [0, 0, 0]
for f in main:
    s = sizes(f)
    total = [a + b for a, b in zip(total, s)]
    print(f"{os.path.basename(f):58} {s[0]:9d} {s[1]:9d} {s[2]:9d}")
print(f"{'main bundle':58} {total[0]:9d} {total[1]:9d} {total[2]:9d}")

manifest = json.load(open(split[1])) if split[1] else {}
def wasm_named(stem):
    found = glob.glob(os.path.join(pkg, stem + '.wasm')) or glob.glob(os.path.join(pkg, stem + '.*.wasm'))
    if not found:
        sys.exit(f"bundle-size: {stem}.wasm listed in the manifest is missing")
    return found[0]

pages = []
for key, chunks in manifest.items():
    if not key.endswith(tuple('0123456789')) or '_route_view_' not in key:
        continue
    files = [wasm_named('split_' + key)] + [wasm_named(c) for c in chunks]
    extra = [sum(x) for x in zip(*(sizes(f) for f in files))]
    first = [a + b for a, b in zip(total, extra)]
    name = key.strip('_').split('_route_view_')[0]
    pages.append((first[2], name, first, len(files)))
pages.sort(reverse=True)
if pages:
    print()
    print(f"{'first load of a page (main + its chunks)':58} {'raw':>9} {'gzip':>9} {'brotli':>9}")
    for _, name, first, n in pages:
        print(f"{name + f' ({n} wasm files)':58} {first[0]:9d} {first[1]:9d} {first[2]:9d}")
worst = pages[0] if pages else (total[2], 'any page (one bundle)', total, 0)
print(f"largest first load: {worst[1]}, raw {worst[2][0] // 1024} KB, gzip {worst[2][1] // 1024} KB, "
      f"brotli {worst[2][2] // 1024} KB (budget {budget_kb} KB brotli)")
if worst[2][2] > budget_kb * 1024:
    sys.exit(f"bundle-size: over budget by {(worst[2][2] - budget_kb * 1024) // 1024 + 1} KB")
PY
