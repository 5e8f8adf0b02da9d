#!/usr/bin/env bash
# Checks the predictive models (engine/src/predict.rs, model-builder/src/predict.rs) against
# Python's lifetimes 0.11.3 (pinned with its numeric stack in bench/predict/requirements.txt)
# on the repository's UCI export, through model-builder's cleaning, as customer × day purchases:
# `model-builder eval --predict --holdout-days 0 --summaries` writes the summaries and our
# predictions, lifetimes fits the same frame, and bench/predict/lifetimes_check.py compares
# log-likelihoods (ours ≥ theirs − 1e-6; ours at their parameters to 1e-9 relative) and
# per-customer predictions (1e-3 relative between the fits, 1e-9 at the same parameters).
#
# The venv (wheels only) lives in $VITRINE_TOOLS/lifetimes-<hash of the pins> (scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

TARGET="${CARGO_TARGET_DIR:-target}"
VENV=$(pinned_venv lifetimes bench/predict/requirements.txt lifetimes --only-binary=:all: --no-deps)

# The debug binary, as check-gbstats.sh: the test stage before this one built it already.
cargo build --quiet -p vitrine-model-builder
BIN="$TARGET/debug/model-builder"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
eval_args=(eval --predict --config examples/online-retail/vitrine.toml --orders data/online-retail/online_retail.csv.gz --holdout-days 0 --json)
"$BIN" "${eval_args[@]}" --summaries "$WORK/ours.csv" > "$WORK/ours.json"
# Our code at lifetimes' parameters: "r,alpha,a,b" "p,q,v".
cat > "$WORK/at.sh" <<AT
#!/usr/bin/env bash
exec "$PWD/$BIN" ${eval_args[*]} --summaries "$WORK/ours.at.csv" --bgnbd "\$1" --gamma-gamma "\$2"
AT
chmod +x "$WORK/at.sh"
"$VENV/bin/python" bench/predict/lifetimes_check.py "$WORK/ours.csv" "$WORK/ours.json" "$WORK/at.sh"
