#!/usr/bin/env bash
# Vitrine's recommenders beside the `implicit` library (ALS, BPR, item-item cosine and BM25) on
# the same split, scored by the same code. A benchmark, not a test.
#
#   bench/eval/side_by_side.sh [ORDERS_CSV] [extra model-builder eval args, e.g. --json]
#
# ORDERS_CSV defaults to data/online-retail/online_retail.csv.gz (the UCI export) with
# examples/online-retail/vitrine.toml; the last 30 days are held out. Needs python3 and
# PyPI (implicit 0.7.3 and its numeric needs, pinned, go into target/bench-venv on first use).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
orders="${1:-$root/data/online-retail/online_retail.csv.gz}"
shift || true
config="${CONFIG:-examples/online-retail/vitrine.toml}"
venv="${VENV:-$root/target/bench-venv}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  # Pinned, dependencies too, so a rerun measures the same library.
  "$venv/bin/pip" install --quiet "numpy==1.26.4" "scipy==1.13.1" "threadpoolctl==3.5.0" "tqdm==4.67.1"
  "$venv/bin/pip" install --quiet --no-deps "implicit==0.7.3"
fi
cargo build --release --quiet -p vitrine-model-builder
mb="${MB:-$root/target/release/model-builder}"

# 1. Export the exact split; 2. train implicit on it; 3. score everything in one table.
"$mb" eval --config "$config" --orders "$orders" --export-split "$work" --json >/dev/null
"$venv/bin/python" "$root/bench/eval/implicit_models.py" "$work"
"$mb" eval --config "$config" --orders "$orders" --external "$work" "$@"
