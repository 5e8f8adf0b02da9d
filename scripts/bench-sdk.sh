#!/usr/bin/env bash
# Browser SDK benchmark -> the "## Browser SDK" section of BENCHMARKS.md (between its
# <!-- sdk-bench --> markers): size of the SDK (loader + glue + wasm, raw and gzip), time from
# the loader's first line to the slots filled (cold and warm loads, median, min, max) and where
# the page's main thread spent a cold load's time (the SDK's own work, the page's render),
# in headless Chromium on the fixture store's static home page with the demo store's bundle
# (examples/demo, built here with model-builder). tests/e2e/bench.mjs says how.
# Usage: scripts/bench-sdk.sh [RUNS]      (loads per mode, default 15)
#   BENCH_OUT=-   prints without touching BENCHMARKS.md
#   BASE=<rev>    also builds that commit's SDK (its own scripts/build-sdk.sh, in a temporary git
#                 worktree) and measures both in one run, loads interleaved A B B A
#   TRACE_RUNS=N  traced cold loads per build (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
RUNS=${1:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

QUIET=1 scripts/build-sdk.sh "$work/sdk"
if [ -n "${BASE:-}" ]; then
  git worktree add --quiet --detach "$work/base" "$BASE"
  trap 'git worktree remove --force "$work/base"; rm -rf "$work"' EXIT
  # Its own target directory: cargo keys a workspace's artifacts by paths relative to it and
  # judges freshness by mtimes, so the base's build in ours would pass for this checkout's.
  target=$(realpath "${CARGO_TARGET_DIR:-target}")/bench-base
  (cd "$work/base" && CARGO_TARGET_DIR="$target" QUIET=1 NPM_OUT="$work/base-npm" scripts/build-sdk.sh "$work/sdk-base")
  export SDK_DIR_BEFORE="$work/sdk-base" LABEL_BEFORE="$(git rev-parse --short "$BASE") ($BASE)"
  export LABEL="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- browser-sdk engine scripts/build-sdk.sh || echo '+changes')"
fi
export BENCH_COMMAND="${BASE:+BASE=$BASE }scripts/bench-sdk.sh${1:+ $1}"
cargo run -q --release -p vitrine-model-builder -- build --config examples/demo/vitrine.toml \
  --orders examples/demo/orders.csv --out "$work/demo-bundle.bin" >/dev/null
ln -sfn "$VITRINE_TOOLS/node/node_modules" tests/e2e/node_modules
out=${BENCH_OUT:-BENCHMARKS.md}
[ "$out" = "-" ] && out=""
cargo run -q -p vitrine-browser-sdk --example fixture-bundle -- "$work/fixture.bin" --site "$work/site" >/dev/null
SDK_DIR="$work/sdk" BUNDLE="$work/demo-bundle.bin" PAGES_DIR="$work/site" RUNS="$RUNS" OUT="$out" node tests/e2e/bench.mjs
