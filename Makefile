# ff-board: two commands on a fresh machine.
#   make run   install what is missing, build, serve the live demo on http://127.0.0.1:3000
#   make test  unit + integration tests (SQLite, Postgres, Valkey) + Playwright in Chromium
#   make bench page cost at 1k / 10k flows on Valkey and Postgres (release build; prints a table)
# Build caches live outside the clone so later runs are fast.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/ffb-target
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/{getline; gsub(/"/,"",$$3); print $$3}' Cargo.lock)
CARGO_LEPTOS_VERSION := 0.3.10
FF_BOARD_ADDR ?= 127.0.0.1:3000

.PHONY: run test setup build unit e2e bench clean-demo

run: setup build
	cd $(CURDIR) && LEPTOS_SITE_ADDR=$(FF_BOARD_ADDR) FF_BOARD_ADDR=$(FF_BOARD_ADDR) \
	  LEPTOS_OUTPUT_NAME=ff-board LEPTOS_SITE_ROOT=$(CURDIR)/target/site LEPTOS_SITE_PKG_DIR=pkg \
	  $(CARGO_TARGET_DIR)/debug/ff-board $(ARGS)

test: setup build unit e2e

setup:
	@bash scripts/setup.sh $(WASM_BINDGEN_VERSION) $(CARGO_LEPTOS_VERSION)

build:
	cargo leptos build

unit:
	cargo test --workspace --exclude ff-board-frontend -- --test-threads=2

e2e:
	bash scripts/e2e.sh

# Page cost at 1k and 10k flows on Valkey and Postgres (docs/BENCHMARKS.md).
bench: setup
	cargo run --release -p ff-board-tests --example page_bench

clean-demo:
	rm -f ff-board-demo.db ff-board-demo.db-shm ff-board-demo.db-wal
