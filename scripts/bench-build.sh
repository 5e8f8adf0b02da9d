#!/usr/bin/env bash
# Benchmark (not a test): `model-builder build` on the full UCI Online Retail file, release
# build, N runs (default 5) under /usr/bin/time -v; prints each run and the medians of wall
# time and peak RSS. Usage: scripts/bench-build.sh [RUNS] [ORDERS_CSV]
# The default is the repository's gzip'd copy (decompression included: ~0.07 s, BENCHMARKS.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-5}"
orders="${2:-$root/data/online-retail/online_retail.csv.gz}"
[ -f "$orders" ] || { echo "no data file at $orders" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }

cargo build --quiet --release -p vitrine-model-builder --manifest-path "$root/Cargo.toml"
bin="$root/target/release/model-builder"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "model-builder build on $(basename "$orders") ($(stat -c %s "$orders") bytes), $runs runs, $(nproc) cores"
walls=(); rss=()
for i in $(seq "$runs"); do
  /usr/bin/time -v "$bin" build --quiet --config "$root/examples/online-retail/vitrine.toml" \
    --orders "$orders" --out "$work/bundle.bin" 2> "$work/time.txt"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + t[k]; print s }' "$work/time.txt")
  kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
  walls+=("$wall"); rss+=("$kb")
  printf 'run %d: %.2f s, peak RSS %d MB\n' "$i" "$wall" "$((kb / 1024))"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf 'median: %.2f s wall, peak RSS %d MB; bundle %s bytes\n' "$(median "${walls[@]}")" "$(( $(median "${rss[@]}" | cut -d. -f1) / 1024 ))" "$(stat -c %s "$work/bundle.bin")"
