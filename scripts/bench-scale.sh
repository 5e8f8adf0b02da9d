#!/usr/bin/env bash
# Benchmark (not a test) for issue #16: generated stores of 1M, 3M and 10M order lines (100k
# products; `model-builder generate`), each built with the release binary under
# /usr/bin/time -v. Prints one table row per size: build wall time, the build's own per-step
# seconds (its `--json` summary's `timings`), peak RSS, bundle bytes, opening the bundle and a
# page view's p99 in wasm, and the browser's slice at the 99th percentile, as Markdown for
# BENCHMARKS.md ("Scale").
#
# Usage: scripts/bench-scale.sh
#   SIZES="1000000 3000000"   order lines per store (default: 1000000 3000000 10000000)
#   PRODUCTS=100000 SEED=1    passed to `generate` (customers: its default, 6% of the lines)
#   SCALE_DIR=/tmp/vitrine-scale   where stores and bundles go. A store is generated once per
#                             size, seed and version of model-builder/src/generate.rs, then
#                             reused (10M lines is ~0.9 GB of CSV).
#   MEM_LIMIT_GB=16           address-space cap of each build (ulimit -v), so a runaway build
#                             fails instead of taking a shared machine down; 0 = none.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sizes="${SIZES:-1000000 3000000 10000000}"
products="${PRODUCTS:-100000}"
seed="${SEED:-1}"
scale_dir="${SCALE_DIR:-/tmp/vitrine-scale}"
mem_limit_gb="${MEM_LIMIT_GB:-16}"
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
command -v jq > /dev/null || { echo "needs jq" >&2; exit 1; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
cargo build --quiet --release -p vitrine-model-builder --manifest-path "$root/Cargo.toml"
bin="$CARGO_TARGET_DIR/release/model-builder"
# The generator's version in the cache key: a changed generator makes new stores.
generator="$(git -C "$root" hash-object model-builder/src/generate.rs | cut -c1-10)"
mkdir -p "$scale_dir"

# What the edge and the browser pay for each bundle:
# - opening it in wasm under Node 22, the edge's way (Engine::load_shared, bytes arrived), and
#   page-view p99 (every placement + the exit offer): engine/examples/bench_open_wasm.rs via
#   scripts/bench-bundle.mjs (the workerd cold start itself: scripts/bench-cold-start.sh);
# - the browser's download besides the SDK's code: p99 of gzip'd slices over 1,000 generated
#   visitors (one in ten with a 50-line cart), each checked to decide as the whole bundle:
#   model-builder/examples/bench_slice.rs.
source "$root/scripts/env.sh"
cargo build --quiet --release -p vitrine-engine --example bench_open_wasm --target wasm32-unknown-unknown --manifest-path "$root/Cargo.toml"
cargo build --quiet --release -p vitrine-model-builder --example bench_slice --manifest-path "$root/Cargo.toml"
open_wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/examples/bench_open_wasm.wasm"
bench_slice="$CARGO_TARGET_DIR/release/examples/bench_slice"
# Sets open_ms and view_p99_ms for bundle "$1".
wasm_figures() {
  local out
  out=$(node "$root/scripts/bench-bundle.mjs" "$open_wasm" "$1" 5000) || { open_ms="failed"; view_p99_ms="failed"; return; }
  echo "$out" | sed 's/^/  /'
  open_ms=$(echo "$out" | awk '/Engine::load_shared/ { print $3 }')
  view_p99_ms=$(echo "$out" | awk '/^ *page view / { for (i = 1; i <= NF; i++) if ($i == "p99") printf "%.3f", $(i + 1) / 1000 }')
}
# Sets slice_p99 for bundle "$1" and profiles "$2".
slice_figures() {
  local out
  out=$("$bench_slice" "$1" --profiles "$2" --visitors 1000) || { slice_p99="failed"; return; }
  echo "$out" | grep -v '^slice_gzip_p99_bytes' | sed 's/^/  /'
  slice_p99=$(echo "$out" | awk '/^slice_gzip_p99_bytes/ { print $2 }')
}

echo "model-builder build on generated stores ($products products, seed $seed, generator $generator), $(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg)"
echo "stores in $scale_dir; build memory cap ${mem_limit_gb} GB (0 = none)"
echo
rows=()
for lines in $sizes; do
  store="$scale_dir/store-$lines-$products-$seed-$generator"
  if [ ! -f "$store/done" ]; then
    rm -rf "$store"
    echo "generating $lines lines into $store ..."
    "$bin" generate --out "$store" --lines "$lines" --products "$products" --seed "$seed" | sed 's/^/  /'
    touch "$store/done"
  fi
  echo "building $lines lines ..."
  status=0
  (
    [ "$mem_limit_gb" = 0 ] || ulimit -v $((mem_limit_gb * 1024 * 1024))
    /usr/bin/time -v "$bin" build --json --config "$store/vitrine.toml" --out "$store/store.bin" --profiles "$store/profiles.jsonl" > "$store/summary.json" 2> "$store/time.txt"
  ) || status=$?
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + t[k]; print s }' "$store/time.txt")
  kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$store/time.txt")
  if [ "$status" != 0 ]; then
    echo "  build failed (exit $status): $(grep -v '^\s' "$store/time.txt" | tail -3 | tr '\n' ' ')"
    rows+=("| $lines | $products | failed after ${wall:-?} s (exit $status) | - | $((${kb:-0} / 1024)) MB | - | - | - | - |")
    continue
  fi
  steps=$(jq -r '[.timings[] | select(.[0] != "total") | "\(.[0]) \(.[1] * 10 | round / 10)"] | join(", ")' "$store/summary.json")
  bytes=$(jq -r '.bundle.bytes' "$store/summary.json")
  found=$(jq -r '"\(.dataset.products) products, \(.dataset.customers) customers"' "$store/summary.json")
  printf '  %.1f s wall, peak RSS %d MB, bundle %s bytes (%s); steps: %s\n' "$wall" "$((kb / 1024))" "$bytes" "$found" "$steps"
  wasm_figures "$store/store.bin"
  slice_figures "$store/store.bin" "$store/profiles.jsonl"
  rows+=("| $lines | $products | $(printf '%.1f' "$wall") | $steps | $((kb / 1024)) MB | $bytes | $open_ms | $view_p99_ms | $slice_p99 |")
done

echo
echo "| order lines | products | build wall (s) | per step (s) | peak RSS | bundle bytes | open in wasm (ms) | page view p99, wasm (ms) | slice p99 (bytes gzip) |"
echo "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
