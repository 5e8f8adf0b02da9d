#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the pinned tools, builds the worker and the SDK,
# then native tests (engine, builder, worker logic, end-to-end on real workerd), wasm tests
# (Node and headless Chromium) and the browser end-to-end tests (Playwright + Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

echo "==> native tests (engine, model-builder, edge-worker logic, end-to-end)"
cargo test --workspace --exclude vitrine-browser-sdk
