#!/usr/bin/env bash
# The UCI Online Retail export as an interaction log (customer, item, time), for
# `model-builder eval --interactions`: the cleaned lines (`model-builder clean`, so the
# cleaning rules are the build's), guests left out (a log's users are people), one row per line.
#
#   bench/eval/retail_interactions.sh OUT.csv [ORDERS] [CONFIG]
#
# Columns: user,item,timestamp (header `customer_id,sku,time`); read it with
# `--columns user,item,timestamp`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$1"
orders="${2:-$root/data/online-retail/online_retail.csv.gz}"
config="${3:-$root/examples/online-retail/vitrine.toml}"
mb="${MB:-$root/target/release/model-builder}"
lines="$(mktemp --suffix=.csv)"
trap 'rm -f "$lines"' EXIT
"$mb" clean --config "$config" --orders "$orders" --out "$lines" --quiet >&2
# order_id,customer_id,country,time,sku,quantity,unit_price (no commas inside: the builder quotes none here)
python3 - "$lines" "$out" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f, open(sys.argv[2], "w", newline="") as out:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["customer_id", "sku", "time"])
    for row in csv.DictReader(f):
        if row["customer_id"]:
            w.writerow([row["customer_id"], row["sku"], row["time"]])
PY
