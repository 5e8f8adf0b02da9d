#!/usr/bin/env bash
# Regenerates examples/demo/orders.csv from the full UCI Online Retail file: the 200 most
# popular products, the orders of 300 customers chosen by a hash of their id (renumbered from
# 50001), 60 guest orders, raw rows as they are (cancellations, returns, postage included).
# Deterministic: the same input gives the same file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source_csv="${1:-$root/data/online-retail/online_retail.csv.gz}"
cargo run --quiet --release -p vitrine-model-builder --manifest-path "$root/Cargo.toml" -- \
  sample --config "$root/examples/online-retail/vitrine.toml" --orders "$source_csv" \
  --out "$here/orders.csv" --products 200 --customers 300 --guest-orders 60
