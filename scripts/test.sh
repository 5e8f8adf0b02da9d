#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the pinned tools, then
#   1. native tests: engine (incl. GrowthBook conformance), model-builder (incl. the UCI data),
#      edge-worker logic, and end to end on real workerd (`wrangler dev`, started by the tests);
#   2. browser SDK: native, wasm in Node and headless Chromium, Playwright end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

echo "==> native and end-to-end tests (engine, model-builder, edge worker on wrangler dev, journeys)"
cargo test --workspace --exclude vitrine-browser-sdk

echo "==> browser SDK tests"
bash scripts/test-sdk.sh
