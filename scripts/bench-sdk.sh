#!/usr/bin/env bash
# Browser SDK benchmark -> the "## Browser SDK" section of BENCHMARKS.md:
# size of the SDK (loader + glue + wasm, raw and gzip) and time from script start to slots
# filled, median over several headless-Chromium runs, on the static demo page with the demo
# store's bundle (examples/demo, built here with model-builder).
# Usage: scripts/bench-sdk.sh [RUNS]      (BENCH_OUT=- prints without touching BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
RUNS=${1:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

QUIET=1 scripts/build-sdk.sh "$work/sdk"
cargo run -q --release -p vitrine-model-builder -- build --config examples/demo/vitrine.toml \
  --orders examples/demo/orders.csv --out "$work/demo-bundle.bin" >/dev/null
ln -sfn "$VITRINE_TOOLS/node/node_modules" tests/e2e/node_modules
out=${BENCH_OUT:-BENCHMARKS.md}
[ "$out" = "-" ] && out=""
cargo run -q -p vitrine-browser-sdk --example fixture-bundle -- "$work/fixture.bin" --site "$work/site" >/dev/null
SDK_DIR="$work/sdk" BUNDLE="$work/demo-bundle.bin" PAGES_DIR="$work/site" RUNS="$RUNS" OUT="$out" node tests/e2e/bench.mjs
