#!/usr/bin/env bash
# Runs the aggregation SQL (sql/*.sql, one query per aggregate file of sql/SCHEMA.md) with
# DuckDB over the builder's cleaned lines and catalog, writing the aggregate files that
# `model-builder build --aggregates OUTDIR` compiles a bundle from:
#
#   scripts/aggregates-duckdb.sh LINES PRODUCTS OUTDIR [--config vitrine.toml]
#   scripts/aggregates-duckdb.sh --compare EXPECTED_DIR ACTUAL_DIR
#
# LINES: `model-builder clean --out lines.{csv,csv.gz,parquet}`; PRODUCTS: its `--products
# products.csv` (copied beside the aggregates, where `--aggregates` reads it). The parameters
# the counting takes (co-purchase scope, basket limit, half-lives, support) come from the
# config's [recs], the builder's defaults where it says nothing. Outputs over 1 MiB are
# gzip'd (`pairs.csv.gz`); the builder reads either.
#
# --compare: two directories of aggregate files (e.g. the builder's own, `build
# --write-aggregates`, and the SQL's), file by file on each file's key: the same keys, counts
# times and medians equal, decayed weights within 1e-9 and money within 1e-6 relative (the
# builder's prices are f32). Prints a line per file and the first differences; fails on any.
#
# DuckDB comes from PyPI, pinned in sql/requirements.txt, in a venv under $VITRINE_TOOLS
# (default ~/.cache/vitrine-tools)/duckdb-<hash of the pins>, made on first use.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

usage() { echo "usage: $0 LINES PRODUCTS OUTDIR [--config vitrine.toml] | --compare EXPECTED_DIR ACTUAL_DIR" >&2; exit 2; }
MODE=run
if [ "${1:-}" = --compare ]; then
    [ $# -eq 3 ] || usage
    MODE=compare EXPECTED=$2 ACTUAL=$3
    for d in "$EXPECTED" "$ACTUAL"; do
        [ -d "$d" ] || { echo "aggregates-duckdb: $d: no such directory" >&2; exit 1; }
    done
else
    [ $# -ge 3 ] || usage
    LINES=$1 PRODUCTS=$2 OUT=$3
    shift 3
    CONFIG=""
    while [ $# -gt 0 ]; do
        case $1 in
            --config) [ $# -ge 2 ] || usage; CONFIG=$2; shift 2 ;;
            *) usage ;;
        esac
    done
    for f in "$LINES" "$PRODUCTS" ${CONFIG:+"$CONFIG"}; do
        [ -f "$f" ] || { echo "aggregates-duckdb: $f: no such file" >&2; exit 1; }
    done
fi

source "$ROOT/scripts/env.sh"
VENV=$(pinned_venv duckdb "$ROOT/sql/requirements.txt" duckdb)

if [ "$MODE" = compare ]; then
    exec "$VENV/bin/python" - "$EXPECTED" "$ACTUAL" <<'PY'
import os, sys
import duckdb

expected, actual = sys.argv[1:3]
# Per file: key columns, columns compared exactly (counts, times, medians of whole days), and
# float sums with their relative tolerance: decayed weights are summed in f64 on both sides, so
# only the order of the additions differs (seen: 2e-15); money is 1e-6, since the builder keeps
# prices as f32 (6e-8 relative each; seen: 5.4e-8), the SQL as the decimals written.
DECAYED, MONEY = 1e-9, 1e-6
FILES = {
    "totals": ([], ["orders", "lines", "customers", "guest_orders", "countries", "first_time", "last_time"], {}),
    "items": (["sku"], ["buyers"], {"trend": DECAYED}),
    "country_items": (["country", "sku"], ["buyers"], {}),
    "customers": (["customer_id"], ["orders", "first_time", "last_time", "gap_days", "purchase_days"], {"monetary": MONEY, "repeat_spend": MONEY}),
    "customer_categories": (["customer_id", "category"], [], {"spend": MONEY}),
    "customer_items": (["customer_id", "sku"], ["orders", "last_time"], {}),
    "reorders": (["sku"], ["customers", "gap_days"], {}),
    "basket_items": (["sku"], ["baskets"], {"weight": DECAYED}),
    "pairs": (["sku_a", "sku_b"], ["baskets"], {"weight": DECAYED}),
}

def source(d, name):
    for ext in (".csv", ".csv.gz"):
        if os.path.exists(os.path.join(d, name + ext)):
            return "read_csv('" + os.path.join(d, name + ext).replace("'", "''") + "', header = true, all_varchar = true)"
    sys.exit(f"aggregates-duckdb: {d}: no {name}.csv or {name}.csv.gz")

con = duckdb.connect()
failed = False
for name, (keys, exact, floats) in FILES.items():
    def relation(d):
        cols = [f'"{k}"' for k in keys]
        if name == "pairs":  # either order of a pair
            cols = ["LEAST(sku_a, sku_b) AS sku_a", "GREATEST(sku_a, sku_b) AS sku_b"]
        # Every value as a double (counts and times are exact in one), empty as NULL.
        cols += [f'CAST(NULLIF("{c}", \'\') AS DOUBLE) AS "{c}"' for c in exact + list(floats)]
        return f"(SELECT {', '.join(cols)} FROM {source(d, name)})"
    on = " AND ".join(f'e."{k}" = a."{k}"' for k in keys) or "TRUE"
    checks = [f'e."{c}" IS DISTINCT FROM a."{c}"' for c in exact]
    checks += [f'(e."{c}" IS NULL) <> (a."{c}" IS NULL) OR ABS(e."{c}" - a."{c}") > {tol} * GREATEST(ABS(e."{c}"), ABS(a."{c}"), 1e-6)' for c, tol in floats.items()]
    missing = " OR ".join(f'e."{k}" IS NULL OR a."{k}" IS NULL' for k in keys) or "FALSE"
    values = [f'e."{c}" AS "expected {c}", a."{c}" AS "actual {c}"' for c in exact + list(floats)]
    shown = ", ".join([f'COALESCE(e."{k}", a."{k}") AS "{k}"' for k in keys] + values)
    where = f"({missing}) OR " + " OR ".join(f"({c})" for c in checks or ["FALSE"])
    try:
        rows = con.execute(f"SELECT COUNT(*) FROM {relation(expected)}").fetchone()[0]
        diff = con.execute(f"SELECT {shown} FROM {relation(expected)} e FULL OUTER JOIN {relation(actual)} a ON {on} WHERE {where} ORDER BY ALL").fetchall()
        worst = [con.execute(f'SELECT MAX(ABS(e."{c}" - a."{c}") / GREATEST(ABS(e."{c}"), ABS(a."{c}"), 1e-6)) FROM {relation(expected)} e JOIN {relation(actual)} a ON {on}').fetchone()[0] for c in floats]
    except duckdb.Error as e:
        sys.exit(f"aggregates-duckdb: {name}: {e}")
    rel = ", ".join(f"{c} {w or 0:.1e}" for c, w in zip(floats, worst))
    print(f"{name:20} {rows:>9} rows  {len(diff):>6} differ" + (f"  (largest relative difference: {rel})" if rel else ""))
    for row in diff[:5]:
        print("    " + ", ".join(f"{c} {v}" for c, v in zip(keys + [x for c in exact + list(floats) for x in (f"expected {c}", f"actual {c}")], row)))
    failed |= bool(diff)
if failed:
    sys.exit(f"aggregates-duckdb: {actual} differs from {expected}")
PY
fi

mkdir -p "$OUT"
# The DuckDB-only part: reading the inputs, filling `params`, writing the outputs. The queries
# themselves (sql/*.sql) are plain SQL that reads the relations `lines`, `products`, `params`.
exec "$VENV/bin/python" - "$ROOT/sql" "$LINES" "$PRODUCTS" "$OUT" "$CONFIG" <<'PY'
import gzip, os, shutil, sys, time, tomllib
import duckdb

sql_dir, lines_path, products_path, out, config = sys.argv[1:6]

def fail(msg):
    sys.exit(f"aggregates-duckdb: {msg}")

# [recs] values the counting uses; defaults as model-builder's RecsConfig::default.
params = {"co_purchase_scope": "basket", "max_basket_items": 100, "co_purchase_half_life_days": 90.0,
          "min_support": 3, "trending_half_life_days": 14.0}
if config:
    try:
        with open(config, "rb") as f:
            recs = tomllib.load(f).get("recs", {})
    except tomllib.TOMLDecodeError as e:
        fail(f"{config}: {e}")
    for key, default in params.items():
        if key not in recs:
            continue
        value = recs[key]
        ok = (value in ("basket", "customer") if key == "co_purchase_scope"
              else isinstance(value, int) and not isinstance(value, bool) and value >= 0 if isinstance(default, int)
              else isinstance(value, (int, float)) and not isinstance(value, bool))
        if not ok:
            fail(f"{config}: recs.{key} = {value!r}: expected "
                 + {"co_purchase_scope": "\"basket\" or \"customer\"", "max_basket_items": "an integer >= 0",
                    "min_support": "an integer >= 0"}.get(key, "a number of days"))
        params[key] = float(value) if isinstance(default, float) else value

def quoted(s):
    return "'" + s.replace("'", "''") + "'"

con = duckdb.connect()

def load(table, path, columns):
    """Table `table` from a CSV (optionally gzip'd) or Parquet file, with these column types."""
    name = path.lower()
    if name.endswith(".parquet"):
        source = f"read_parquet({quoted(path)})"
    elif name.endswith(".csv") or name.endswith(".csv.gz"):
        # Every column as text first: the casts below then fail naming line, column and value.
        source = f"read_csv({quoted(path)}, header = true, all_varchar = true)"
    else:
        fail(f"{path}: expected .csv, .csv.gz or .parquet")
    try:
        have = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        missing = [c for c, _ in columns if c not in have]
        if missing:
            fail(f"{path}: no column {', '.join(missing)} (it has {', '.join(have)})")
        select = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in columns)
        # Materialized once: every query reads it, and a bad value fails here, before any output.
        con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM {source}")
    except duckdb.Error as e:
        # DuckDB's first lines name the line, column and value; the rest lists its CSV options.
        fail(f"{path}: " + "\n".join(str(e).splitlines()[:3]))

load("lines", lines_path, [("order_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("country", "VARCHAR"), ("time", "BIGINT"),
                           ("sku", "VARCHAR"), ("quantity", "BIGINT"), ("unit_price", "DOUBLE")])
load("products", products_path, [("sku", "VARCHAR"), ("category", "VARCHAR")])
con.execute("CREATE TABLE params AS SELECT " + ", ".join(
    f"{quoted(v) if isinstance(v, str) else repr(v)} AS {k}" for k, v in params.items()))

# `build --aggregates` reads the catalog beside the aggregates, in the format it came in.
ext = next(e for e in (".csv.gz", ".csv", ".parquet") if products_path.lower().endswith(e))
for stale in (".csv.gz", ".csv", ".parquet"):
    path = os.path.join(out, "products" + stale)
    if os.path.exists(path) and not os.path.samefile(path, products_path):
        os.remove(path)
if not os.path.exists(os.path.join(out, "products" + ext)):
    shutil.copyfile(products_path, os.path.join(out, "products" + ext))
for name in sorted(f[:-4] for f in os.listdir(sql_dir) if f.endswith(".sql")):
    with open(os.path.join(sql_dir, name + ".sql")) as f:
        query = f.read().rstrip().rstrip(";")
    target = os.path.join(out, name + ".csv")
    for stale in (target, target + ".gz"):
        if os.path.exists(stale):
            os.remove(stale)
    t0 = time.time()
    try:
        # COPY answers with the number of rows written.
        rows = con.execute(f"COPY ({query}) TO {quoted(target)} (HEADER, DELIMITER ',')").fetchone()[0]
    except duckdb.Error as e:
        fail(f"sql/{name}.sql: {e}")
    if os.path.getsize(target) > 1 << 20:
        # Level 1: 6x faster than 6 here, and the file only 10% larger.
        with open(target, "rb") as src, gzip.open(target + ".gz", "wb", compresslevel=1) as dst:
            shutil.copyfileobj(src, dst)
        os.remove(target)
        target += ".gz"
    print(f"{os.path.basename(target):28} {rows:>10} rows {os.path.getsize(target):>12} bytes {time.time() - t0:6.2f} s")
PY
