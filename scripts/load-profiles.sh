#!/usr/bin/env bash
# Loads known customers' traits into KV namespace PROFILES, from model-builder's private
# `--profiles` JSONL: `profile:<customer id>` per line, plus one `persona:<segment>` per
# segment (its biggest spender) for the demo visitor picker (?vitrine_as=champions).
# Existing keys are overwritten; customers no longer in the file are left as they are.
#
#   scripts/load-profiles.sh dist/demo/profiles.jsonl --remote
#   scripts/load-profiles.sh dist/demo/profiles.jsonl --local --persist-to .wrangler/state-X
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

[ $# -ge 1 ] && [ -f "$1" ] || { echo "usage: scripts/load-profiles.sh PROFILES.jsonl [wrangler kv flags]" >&2; exit 1; }
profiles=$1; shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --release --quiet -p vitrine-edge --bin vitrine-kv -- profiles "$profiles" "$work/profiles.json"
wrangler kv bulk put "$work/profiles.json" --binding PROFILES "$@"
