#!/usr/bin/env bash
# Benchmark (not a test): how fast the engine decides on the UCI Online Retail bundle.
# Builds the bundle and the private profiles (target/bench/) if missing, then runs
# engine/examples/bench_decide.rs (release, one thread): load time, per-placement decide
# latency (median / p99 / mean µs), exit offer, page view and decisions/s on one core.
#
# Usage: scripts/bench-engine.sh [bench_decide options: --iters N --warmup N --visitors N --only X]
#        scripts/bench-engine.sh --callgrind   # instructions per call under valgrind (repeatable)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
orders="${ORDERS:-$root/data/online-retail/online_retail.csv.gz}"
out="$root/target/bench"
bundle="$out/retail.bin"
profiles="$out/profiles.jsonl"

cargo build --quiet --release -p vitrine-model-builder --manifest-path "$root/Cargo.toml"
# Rebuilt when missing or when this engine no longer reads it (an older bundle format).
if [ ! -s "$bundle" ] || [ ! -s "$profiles" ] || ! "$root/target/release/model-builder" inspect "$bundle" >/dev/null 2>&1; then
  [ -f "$orders" ] || { echo "no data file at $orders (set ORDERS=...)" >&2; exit 1; }
  mkdir -p "$out"
  "$root/target/release/model-builder" build --config "$root/examples/online-retail/vitrine.toml" \
    --orders "$orders" --out "$bundle" --profiles "$profiles" --quiet
fi

cargo build --quiet --release -p vitrine-engine --example bench_decide --manifest-path "$root/Cargo.toml"
bin="$root/target/release/examples/bench_decide"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${1:-}" = "--callgrind" ]; then
  command -v valgrind > /dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
  # Two runs per part that differ only in the number of timed calls: the difference in
  # instructions, divided by the difference in calls, is the cost of one call (setup cancels).
  ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$bundle" "$profiles" \
           --only "$1" --iters "$2" --warmup 0 --visitors 400 2>&1 | awk '/Collected/ { print $4 }'; }
  printf '%-20s %12s\n' "decision" "instr/call"
  for part in $("$bin" "$bundle" --only list); do
    a=$(ir "$part" 200); b=$(ir "$part" 700)
    printf '%-20s %12d\n' "$part" $(( (b - a) / 500 ))
  done
  exit 0
fi

exec "$bin" "$bundle" "$profiles" "$@"
