# ff-board: two commands on a fresh machine.
#   make run   install what is missing, build (optimized), serve the live demo on http://127.0.0.1:3000
#   make test  unit + integration tests (SQLite, Postgres, Valkey) + Playwright in Chromium on the
#              optimized build + the bundle-size budget
#   make dev   a debug build, served the same way (faster to rebuild)
#   make bench page cost at 1k / 10k flows on Valkey and Postgres (release build; prints a table)
# Build caches live outside the clone so later runs are fast.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/ffb-target
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# The app's git tree: answers carry it so a tab of an older build reloads
# instead of misreading them (app/src/api/codec.rs, BUILD).
export FF_BOARD_BUILD := $(shell git rev-parse HEAD:app 2>/dev/null)
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/{getline; gsub(/"/,"",$$3); print $$3}' Cargo.lock)
CARGO_LEPTOS_VERSION := 0.3.10
FF_BOARD_ADDR ?= 127.0.0.1:3000

SERVE = cd $(CURDIR) && LEPTOS_SITE_ADDR=$(FF_BOARD_ADDR) FF_BOARD_ADDR=$(FF_BOARD_ADDR) \
	  LEPTOS_OUTPUT_NAME=ff-board LEPTOS_SITE_ROOT=$(CURDIR)/target/site LEPTOS_SITE_PKG_DIR=pkg

.PHONY: run dev test setup build build-dev unit e2e bundle bench clean-demo

run: setup build
	$(SERVE) LEPTOS_HASH_FILES=true $(CARGO_TARGET_DIR)/server-release/ff-board $(ARGS)

dev: setup build-dev
	$(SERVE) LEPTOS_HASH_FILES=false $(CARGO_TARGET_DIR)/debug/ff-board $(ARGS)

test: setup build unit e2e bundle

# Each stage prints how long it took ("stage unit: 412 s").
TIMED = @s=$$(date +%s); trap 'echo "stage $@: $$(( $$(date +%s) - s )) s"' EXIT;

setup:
	$(TIMED) bash scripts/setup.sh $(WASM_BINDGEN_VERSION) $(CARGO_LEPTOS_VERSION)

# Optimized: release server, wasm built for size (opt-level z, LTO, wasm-opt),
# hashed asset names, brotli + gzip copies of every asset (--precompress);
# skipped in a second when no input changed since the last build
# (scripts/build.sh; FORCE=1 rebuilds).
build:
	$(TIMED) bash scripts/build.sh

build-dev:
	cargo leptos build

# Hydrate bundle size (raw, gzip, brotli); fails past the brotli budget.
bundle:
	$(TIMED) bash scripts/bundle-size.sh

# Tests build with the flags of `make build` (cargo-leptos): the same profile,
# `--cfg erase_components` and the output name leptos reads at compile time,
# so the dependency graph is compiled once for both (only the ~25 crates
# whose features the test client adds, hyper to leptos_axum, are built twice).
TEST_FLAGS = RUSTFLAGS="--cfg erase_components" LEPTOS_OUTPUT_NAME=ff-board
unit:
	$(TIMED) $(TEST_FLAGS) cargo test --profile server-release --workspace --exclude ff-board-frontend -- --test-threads=2

e2e:
	$(TIMED) bash scripts/e2e.sh

# Page cost at 1k and 10k flows on Valkey and Postgres (docs/BENCHMARKS.md).
bench: setup
	$(TEST_FLAGS) cargo run --profile server-release -p ff-board-tests --example page_bench

clean-demo:
	rm -f ff-board-demo.db ff-board-demo.db-shm ff-board-demo.db-wal
