#!/usr/bin/env bash
# The measurement report end to end on the local stack (scripts/dev.sh running, or
# `bash scripts/dev.sh --traffic`, which runs this once the stack is up):
#   1. demo visitors with a KNOWN true lift view a product page (`vitrine-edge traffic`): the
#      demo's experiment `pdp-pair-with-sources` (examples/demo/vitrine.toml) splits them
#      between `control` and `co-purchase-only`, and those in co-purchase-only order LIFT more
#      often (backend orders with the write key, half of them reported by the browser too);
#   2. waits for the queue to flush them to R2 (batches of <= 5 s), downloads every stored file
#      through the export route (GET /v1/admin/measure, bearer ADMIN_TOKEN) into a temp folder;
#   3. `model-builder report DIR --html F --json`, then uploads F (PUT /v1/admin/report);
#   4. prints the staff URL (/staff/report: any user name, the password is ADMIN_TOKEN) and the
#      true vs measured lift.
#
#   bash scripts/report-demo.sh      URL=http://127.0.0.1:8787 VISITORS=3000 RATE=0.10 LIFT=0.30 SEED=<time>
#                                    OUT=dir (keep the export, report.html and report.json)
# The write key and admin token come from .dev.vars (scripts/dev.sh writes them).
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${URL:-http://127.0.0.1:${PORT:-8787}}
VISITORS=${VISITORS:-3000}
RATE=${RATE:-0.10}
LIFT=${LIFT:-0.30}
# A new seed each run: new visitors (the same seed would replay the same visitors and orders,
# which the report counts once).
SEED=${SEED:-$(date +%s)}
EXPERIMENT=pdp-pair-with-sources
PLACEMENT=pdp-pair-with
ARM=co-purchase-only
step() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "report-demo: $*" >&2; exit 1; }

var() { sed -n "s/^$1=//p" .dev.vars 2>/dev/null | tail -1; }
WRITE_KEY=${VITRINE_WRITE_KEY:-$(var VITRINE_WRITE_KEY)}
ADMIN=${ADMIN_TOKEN:-$(var ADMIN_TOKEN)}
[ -n "$WRITE_KEY" ] && [ -n "$ADMIN" ] || die "VITRINE_WRITE_KEY and ADMIN_TOKEN are not in .dev.vars: run bash scripts/dev.sh once"
curl -fsS -m 5 -o /dev/null "$URL/v1/health" || die "no worker at $URL: start bash scripts/dev.sh first (or set URL)"
auth=(-H "Authorization: Bearer $ADMIN")
curl -fsS -m 5 -o /dev/null "${auth[@]}" "$URL/v1/admin/measure?limit=1" \
  || die "the export refused ADMIN_TOKEN from .dev.vars: restart scripts/dev.sh so the worker reads it"

source scripts/env.sh
cargo build --release --quiet -p vitrine-tests --bin vitrine-edge -p vitrine-model-builder
EDGE_TOOL=target/release/vitrine-edge
BUILDER=target/release/model-builder
# A product page of the demo store: the experiment's placement is on product pages.
PAGE=$(curl -fsS "$URL/" | grep -o 'href="/products/[^"]*"' | head -1 | sed 's/href="//; s/"$//')
[ -n "$PAGE" ] || die "no product link on $URL/"

# Every stored file, one listing page after another: KEY<TAB>SIZE lines.
files() {
  local cursor="" page
  while :; do
    page=$(curl -fsS "${auth[@]}" "$URL/v1/admin/measure?prefix=events/&limit=1000${cursor:+&cursor=$cursor}")
    jq -r '.files[] | "\(.key)\t\(.size)"' <<<"$page"
    cursor=$(jq -r '.cursor // empty' <<<"$page")
    [ -n "$cursor" ] || break
  done
}
before=$(files | wc -l)

step "traffic: $VISITORS visitors on $PAGE, conversion $RATE, true lift of $ARM +$LIFT (seed $SEED)"
sent=$("$EDGE_TOOL" traffic "$URL" --placement "$PLACEMENT" --page "$PAGE" --visitors "$VISITORS" --seed "$SEED" \
  --rate "$RATE" --lift "$ARM=$LIFT" --write-key "$WRITE_KEY")
echo "$sent"
# What the drawn visitors did: "traffic: arm A: N visitors, K orders (…)".
rate_of() { awk -v a="$1" '$3 == a":" { printf "%.6f", $6 / $4 }' <<<"$sent"; }
SAMPLED=$(awk -v t="$(rate_of "$ARM")" -v c="$(rate_of control)" 'BEGIN { if (c > 0) printf "%+.1f%%", 100 * (t / c - 1); else print "-" }')

step "waiting for the queue to store the records in R2"
# The local queue delivers a batch after 5 s (max_batch_timeout) or 100 messages: new files
# appear, then none for a while once everything is stored.
last=-1 same=0
for _ in $(seq 120); do
  now=$(files | wc -l)
  if [ "$now" -gt "$before" ] && [ "$now" -eq "$last" ]; then
    same=$((same + 1))
    [ "$same" -ge 4 ] && break
  else
    same=0
  fi
  last=$now
  sleep 2
done
[ "$last" -gt "$before" ] || die "no new file was stored in 4 minutes (see the wrangler dev log)"

WORK=$(mktemp -d /tmp/vitrine-report-XXXX)
OUT=${OUT:-$WORK}
mkdir -p "$OUT/export"
step "downloading $last files through the export route into $OUT/export"
files | while IFS=$'\t' read -r key _; do
  mkdir -p "$OUT/export/$(dirname "$key")"
  curl -fsS "${auth[@]}" -o "$OUT/export/$key" "$URL/v1/admin/measure/$key"
done

step "model-builder report"
"$BUILDER" report "$OUT/export" --html "$OUT/report.html" --json >"$OUT/report.json"
stored=$(curl -fsS "${auth[@]}" -X PUT -H 'Content-Type: text/html; charset=utf-8' --data-binary @"$OUT/report.html" "$URL/v1/admin/report")
echo "uploaded: $stored"

jq -r --arg e "$EXPERIMENT" --arg arm "$ARM" --argjson lift "$LIFT" --arg sampled "$SAMPLED" '
  def pct: (. * 1000 | round / 10) as $v | (if $v >= 0 then "+" else "" end) + ($v | tostring) + "%";
  (.experiments[] | select(.key == $e)) as $x
  | ($x.arms[] | select(.arm == $arm)) as $a
  | ($a.metrics.conversion.lift) as $l
  | "experiment \($e): \($x.units) units (\([$x.arms[] | "\(.arm) \(.units)"] | join(", "))), sample ratio p = \($x.srm.pValue * 10000 | round / 10000)",
    "  conversion lift of \($arm) vs \($x.control):",
    "    true      \($lift | pct)   (the rates the visitors were drawn with)",
    "    sampled   \($sampled)   (what this run\u0027s visitors did: orders / visitors per arm, as sent)",
    if $l then "    measured  \($l.relative | pct)   (95% CI \($l.ciLow | pct) .. \($l.ciHigh | pct), chance to beat control \($l.chanceToBeatControl * 100 | round)%; from R2, every run so far)"
    else "    measured  -  (\($a.metrics.conversion.note // "no lift"))" end
' "$OUT/report.json" || die "the report has no experiment $EXPERIMENT (see $OUT/report.json)"
cat <<MSG

The report (all runs so far: every file in R2), for staff only:
  $URL/staff/report        user: any, password: ADMIN_TOKEN from .dev.vars
  files: $OUT/report.html, $OUT/report.json, $OUT/export/
MSG
