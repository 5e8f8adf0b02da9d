#!/usr/bin/env bash
# Checks `model-builder report`'s statistics against GrowthBook's gbstats (pinned in
# bench/report/requirements.txt): simulated exports of several sizes, the report's --json, and
# bench/report/gbstats_check.py recomputing lift, intervals, p-values, chance to beat control
# and the SRM p-value from the report's aggregates (tolerance 1e-6).
#
# The venv lives in $VITRINE_TOOLS/gbstats-<hash of the pins> (scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

VENV=$(pinned_venv gbstats bench/report/requirements.txt gbstats)

cargo build --quiet -p vitrine-model-builder
BIN="${CARGO_TARGET_DIR:-target}/debug/model-builder"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
reports=()
# units seed arms [weights]: a small sample (the t's degrees of freedom matter), mid, large,
# three arms, and configured unequal weights for the SRM test. Every export also has the
# global holdout (10%), checked against the default holdout's 5/95 or its configured 10/90.
while read -r units seed arms weights; do
    out="$WORK/report-$units-$seed.json"
    args=("$WORK/data-$units-$seed" --simulate "$units" --seed "$seed" --arms "$arms" --json)
    [ -n "$weights" ] && args+=(--weights "$weights" --weights vitrine-holdout=holdout:10,personalized:90)
    "$BIN" report "${args[@]}" > "$out"
    reports+=("$out")
done <<'RUNS'
300 1 2
4000 2 2
40000 3 2
30000 5 3
20000 4 2 recs-v2=control:45,treatment:55
RUNS
"$VENV/bin/python" bench/report/gbstats_check.py "${reports[@]}"
