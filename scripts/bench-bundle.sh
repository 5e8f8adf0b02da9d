#!/usr/bin/env bash
# Benchmark (not a test): opening a large bundle (issue #16 part 5). Makes a deterministic
# store of N products (default 100k) with examples/demo/vitrine.toml's rules
# (engine/examples/support/large_store.rs), then prints natively (engine/examples/bench_open.rs)
# and in wasm under Node 22 (engine/examples/bench_open_wasm.rs, scripts/bench-bundle.mjs):
# bundle bytes, Engine::load, the first page view after a fresh load, memory after load (wasm),
# page-view median and p99 (every placement + the exit offer).
#
# Usage: scripts/bench-bundle.sh [products] [views]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
products="${1:-100000}"
views="${2:-20000}"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/bench"
mkdir -p "$out"
bundle="$out/large-$products.bin"

cargo build --quiet --release -p vitrine-engine --example bench_open --manifest-path "$root/Cargo.toml"
cargo build --quiet --release -p vitrine-engine --example bench_open_wasm --target wasm32-unknown-unknown --manifest-path "$root/Cargo.toml"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$target/release/examples/bench_open" --rules "$root/examples/demo/vitrine.toml" --products "$products" --out "$bundle" --views "$views"
node "$root/scripts/bench-bundle.mjs" "$target/wasm32-unknown-unknown/release/examples/bench_open_wasm.wasm" "$bundle" "$views"
