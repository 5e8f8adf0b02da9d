#!/usr/bin/env bash
# Checks the aggregation SQL (sql/*.sql) against the builder on the shared UCI Online Retail
# export: `model-builder clean` → the SQL run by DuckDB (scripts/aggregates-duckdb.sh) →
# `build --aggregates`, beside a normal `build` from the same export; then
# model-builder/tests/aggregates_agree.rs compares the two bundles (stats, catalog, every table:
# counts exactly, decayed scores within 1e-4 relative), their private profiles, and the
# decisions of a fixed set of visitors.
#
#   scripts/check-aggregates.sh [--keep DIR]    (--keep: leave the files there to look at)
#
# DuckDB's venv is made on first use (see scripts/aggregates-duckdb.sh); after that the check
# takes well under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

KEEP=""
if [ "${1:-}" = "--keep" ] && [ -n "${2:-}" ]; then KEEP=$2; elif [ $# -gt 0 ]; then echo "usage: $0 [--keep DIR]" >&2; exit 2; fi

DATA=../shared/data/online-retail-2010-2011/online_retail.csv
CONFIG=examples/online-retail/vitrine.toml
if [ ! -f "$DATA" ]; then
    echo "*** SKIPPED: $DATA is not there; the aggregation SQL was not checked ***"
    exit 0
fi

cargo build --quiet -p vitrine-model-builder
BIN="${CARGO_TARGET_DIR:-target}/debug/model-builder"

if [ -n "$KEEP" ]; then
    WORK=$KEEP
    mkdir -p "$WORK"
else
    WORK="$(mktemp -d)"
    trap 'rm -rf "$WORK"' EXIT
fi

t0=$SECONDS
"$BIN" clean --quiet --config "$CONFIG" --orders "$DATA" --out "$WORK/lines.csv.gz" --products "$WORK/products.csv"
echo "check-aggregates: clean $((SECONDS - t0)) s"
t0=$SECONDS
scripts/aggregates-duckdb.sh "$WORK/lines.csv.gz" "$WORK/products.csv" "$WORK/aggregates" --config "$CONFIG"
echo "check-aggregates: SQL in DuckDB $((SECONDS - t0)) s"
t0=$SECONDS
"$BIN" build --quiet --config "$CONFIG" --aggregates "$WORK/aggregates" --out "$WORK/sql.bin" --profiles "$WORK/sql.jsonl"
"$BIN" build --quiet --config "$CONFIG" --orders "$DATA" --out "$WORK/rows.bin" --profiles "$WORK/rows.jsonl"
echo "check-aggregates: both builds $((SECONDS - t0)) s"

VITRINE_AGG_ROWS_BUNDLE="$WORK/rows.bin" VITRINE_AGG_SQL_BUNDLE="$WORK/sql.bin" \
VITRINE_AGG_ROWS_PROFILES="$WORK/rows.jsonl" VITRINE_AGG_SQL_PROFILES="$WORK/sql.jsonl" \
    cargo test --quiet -p vitrine-model-builder --test aggregates_agree
