#!/usr/bin/env bash
# Checks the aggregation SQL (sql/*.sql) against the builder: `model-builder clean` → the SQL
# run by DuckDB (scripts/aggregates-duckdb.sh) → `build --aggregates`, beside a normal `build`
# from the same export that also writes the builder's own counts (`--write-aggregates`). The
# two sets of aggregate files are compared file by file (`aggregates-duckdb.sh --compare`:
# counts exactly, decayed sums within 1e-9, money within 1e-6); then
# model-builder/tests/aggregates_agree.rs compares the two bundles (stats and the predictive
# fits, catalog, every table: counts exactly, decayed scores and Gamma-Gamma within 1e-4
# relative), their private profiles (predicted traits included), and the decisions of a fixed
# set of visitors. Two cases:
#   - uci: the UCI Online Retail export (data/online-retail/, 525k lines) with its example
#     config ([recs] defaults: one order per basket, decay, basket limit);
#   - demo-variant: the demo sample with the other branches of every parameter: whole customer
#     histories as baskets, no basket limit, no co-purchase decay, a trending half-life of 30
#     days, support 2.
#
#   scripts/check-aggregates.sh [--keep DIR]    (--keep: leave the files there to look at)
#
# DuckDB's venv is made on first use (see scripts/aggregates-duckdb.sh); after that the check
# takes well under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

KEEP=""
if [ "${1:-}" = "--keep" ] && [ -n "${2:-}" ]; then KEEP=$2; elif [ $# -gt 0 ]; then echo "usage: $0 [--keep DIR]" >&2; exit 2; fi

cargo build --quiet -p vitrine-model-builder
BIN="${CARGO_TARGET_DIR:-target}/debug/model-builder"
if [ -n "$KEEP" ]; then
    WORK=$KEEP
    mkdir -p "$WORK"
else
    WORK="$(mktemp -d)"
    trap 'rm -rf "$WORK"' EXIT
fi

# check NAME CONFIG ORDERS PROFILES(yes/no)
check() {
    local name=$1 config=$2 orders=$3 profiles=$4 dir="$WORK/$1" t0=$SECONDS
    mkdir -p "$dir"
    local rows_extra=() sql_extra=()
    if [ "$profiles" = yes ]; then
        rows_extra=(--profiles "$dir/rows.jsonl")
        sql_extra=(--profiles "$dir/sql.jsonl")
    fi
    "$BIN" clean --quiet --config "$config" --orders "$orders" --out "$dir/lines.csv.gz" --products "$dir/products.csv"
    scripts/aggregates-duckdb.sh "$dir/lines.csv.gz" "$dir/products.csv" "$dir/aggregates" --config "$config" > "$dir/duckdb.log"
    "$BIN" build --quiet --config "$config" --aggregates "$dir/aggregates" --out "$dir/sql.bin" "${sql_extra[@]}"
    "$BIN" build --quiet --config "$config" --orders "$orders" --out "$dir/rows.bin" "${rows_extra[@]}" --write-aggregates "$dir/builder-aggregates"
    echo "check-aggregates: $name: clean, SQL in DuckDB, both builds: $((SECONDS - t0)) s"
    # The counts themselves first, file by file: the sharpest message when the SQL is wrong.
    scripts/aggregates-duckdb.sh --compare "$dir/builder-aggregates" "$dir/aggregates"
    VITRINE_AGG_ROWS_BUNDLE="$dir/rows.bin" VITRINE_AGG_SQL_BUNDLE="$dir/sql.bin" \
    VITRINE_AGG_ROWS_PROFILES="${rows_extra[1]:-}" VITRINE_AGG_SQL_PROFILES="${sql_extra[1]:-}" \
    VITRINE_AGG_SQL_DIR="$dir/aggregates" \
        cargo test --quiet -p vitrine-model-builder --test aggregates_agree
}

check uci examples/online-retail/vitrine.toml data/online-retail/online_retail.csv.gz yes

# The demo config with every counting parameter on its other branch (its [recs] is unset, so
# one appended table is the whole section; orders come from --orders, and without --profiles
# its customers export is not read).
{ cat examples/demo/vitrine.toml; printf '\n[recs]\nco_purchase_scope = "customer"\nmax_basket_items = 0\nco_purchase_half_life_days = 0\nmin_support = 2\ntrending_half_life_days = 30\n'; } > "$WORK/demo-variant.toml"
check demo-variant "$WORK/demo-variant.toml" examples/demo/orders.csv no
