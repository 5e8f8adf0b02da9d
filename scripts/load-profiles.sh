#!/usr/bin/env bash
# Loads known customers' traits into KV namespace PROFILES, from model-builder's private
# `--profiles` JSONL: `profile:<customer id>` per line, plus one `persona:<segment>` per
# segment (its biggest spender) for the demo visitor picker (?vitrine_as=champions).
#
#   scripts/load-profiles.sh dist/demo/profiles.jsonl --remote
#   scripts/load-profiles.sh dist/demo/profiles.jsonl --local --persist-to .wrangler/state-X
#   scripts/load-profiles.sh profiles.jsonl --manifest state/profiles.manifest --remote
#
# Without --manifest every key is put and customers no longer in the file stay in KV. With
# --manifest FILE the load is incremental: FILE says what the last load put (a hash per key,
# never the profiles: `vitrine-kv profiles`), so only new and changed keys are put, and the
# keys the last load put that this file no longer has (customers gone, personas of segments
# gone) are deleted. FILE is written only once the puts and the deletes both succeeded: after
# a failed load the next one compares with the last good load and so redoes everything since.
# No FILE yet: everything is put, nothing deleted, and FILE is written.
#
# Customers erased by a privacy request (KV `erased:<id>`, scripts/privacy.sh) are left out,
# read from KV at load time: an erasure that came after the build never brings a profile back.
#
# Every other flag goes to `wrangler kv` as is (--remote, --local, --persist-to, --config,
# --env, --preview…). Prints `profiles: put N, deleted N, unchanged N`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

die() { echo "load-profiles: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ -f "$1" ] || die "usage: scripts/load-profiles.sh PROFILES.jsonl [--manifest FILE] [wrangler kv flags]"
profiles=$1; shift
manifest=
if [ "${1:-}" = --manifest ]; then
  [ $# -ge 2 ] && [ -n "$2" ] || die "--manifest needs a file"
  manifest=$2; shift 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash scripts/privacy.sh erased "$@" >"$work/erased.txt" || die "could not read the erasure list (erased:*) from KV"
args=(profiles "$profiles" "$work/put.json" --erased "$work/erased.txt" --deletes "$work/delete.json" --manifest "$work/manifest")
[ -z "$manifest" ] || [ ! -f "$manifest" ] || args+=(--since "$manifest")
read -r _ put _ deleted _ unchanged < <(vitrine_kv "${args[@]}") || die "$profiles: not loaded (see above)"
[ -n "$unchanged" ] || die "vitrine-kv printed no counts"

# Puts before deletes: the two never share a key, and a key to delete is one no build has now.
if [ "$put" -gt 0 ]; then
  wrangler kv bulk put "$work/put.json" --binding PROFILES "$@" >/dev/null || die "wrangler kv bulk put failed: nothing recorded, the next load tries again"
fi
if [ "$deleted" -gt 0 ]; then
  wrangler kv bulk delete "$work/delete.json" --binding PROFILES --force "$@" >/dev/null || die "wrangler kv bulk delete failed: nothing recorded, the next load tries again"
fi
if [ -n "$manifest" ]; then
  mkdir -p "$(dirname "$manifest")"
  # Beside the old one, then renamed over it: a manifest is either the old or the new, whole.
  cp "$work/manifest" "$manifest.new" && mv -f "$manifest.new" "$manifest"
fi
echo "profiles: put $put, deleted $deleted, unchanged $unchanged"
