#!/usr/bin/env bash
# Benchmark (not a test) for issue #16: generated stores of 1M, 3M and 10M order lines (100k
# products; `model-builder generate`), each built with the release binary under
# /usr/bin/time -v. Prints one table row per size: build wall time, the build's own per-step
# seconds (its `--json` summary's `timings`), peak RSS and bundle bytes, as Markdown for
# BENCHMARKS.md ("Scale").
#
# Usage: scripts/bench-scale.sh
#   SIZES="1000000 3000000"   order lines per store (default: 1000000 3000000 10000000)
#   PRODUCTS=100000 SEED=1    passed to `generate` (customers: its default, lines / 20)
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

# ------------------------------------------------------------------------------------------
# Figures other parts of #16 add (edge cold load, page views, browser slices). Each prints one
# number for the bundle "$1" of store "$2", or "-" until its benchmark exists.
# TODO(#16 part 5): cold load in wasm (ms): first-request minus warm latency, >= 10 restarts,
#   with the bundle at "$1".
cold_load_wasm_ms() { echo "-"; }
# TODO(#16 part 5): page view (all placements + exit offer) p99 in wasm under Node 22 (ms).
page_view_wasm_p99_ms() { echo "-"; }
# TODO(#16 part 6): bytes the browser SDK downloads besides its code, p99 over generated
#   visitors (gzip).
slice_p99_bytes() { echo "-"; }
# ------------------------------------------------------------------------------------------

echo "model-builder build on generated stores ($products products, seed $seed, generator $generator), $(nproc) cores"
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
    /usr/bin/time -v "$bin" build --json --config "$store/vitrine.toml" --out "$store/store.bin" > "$store/summary.json" 2> "$store/time.txt"
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
  rows+=("| $lines | $products | $(printf '%.1f' "$wall") | $steps | $((kb / 1024)) MB | $bytes | $(cold_load_wasm_ms "$store/store.bin" "$store") | $(page_view_wasm_p99_ms "$store/store.bin" "$store") | $(slice_p99_bytes "$store/store.bin" "$store") |")
done

echo
echo "| order lines | products | build wall (s) | per step (s) | peak RSS | bundle bytes | cold load, wasm (ms) | page view p99, wasm (ms) | slice p99 (bytes gzip) |"
echo "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
