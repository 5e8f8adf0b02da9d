#!/usr/bin/env bash
# The nightly refresh: build from the store's exports, publish the bundle, then load only the
# profiles that changed (and delete those of customers gone) into KV. README "Nightly refresh".
#
#   scripts/refresh.sh --config vitrine.toml --state /var/lib/vitrine --remote
#   scripts/refresh.sh --config vitrine.toml --orders orders.csv --out dist/nightly \
#       --state state --local --persist-to .wrangler/state-X
#
# Options (each also from the environment), then the flags for `wrangler kv` (--remote, or
# --local --persist-to DIR; --env staging, --config wrangler.toml…: wrangler's own --config
# comes after ours, or after a `--`):
#   --config FILE     vitrine.toml                                  VITRINE_CONFIG
#   --orders CSV      order lines (else the config's orders.path)   VITRINE_ORDERS
#   --catalog CSV     catalog (else catalog.path)                   VITRINE_CATALOG
#   --customers CSV   customers export (else customers.path)        VITRINE_CUSTOMERS
#   --out DIR         bundle.bin, profiles.jsonl (dist/refresh)     VITRINE_OUT
#   --state DIR       profiles.manifest, kept between runs          VITRINE_STATE
#
# The manifest (`<hash> <key>` a line: a hash of each profile, never a profile) is what the
# last load put; keep --state between runs (a CI cache). Without it the next run puts every
# profile again and can delete none. Runs the builder and vitrine-kv from this checkout
# (release), or the binaries MODEL_BUILDER and VITRINE_KV name. Stops at the first failure,
# saying which step; running it again is safe (the manifest changes only after a good load,
# and a bundle with the same content as bundle:current is not published again).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

die() { echo "refresh: $*" >&2; exit 1; }
config=${VITRINE_CONFIG:-} orders=${VITRINE_ORDERS:-} catalog=${VITRINE_CATALOG:-}
customers=${VITRINE_CUSTOMERS:-} out=${VITRINE_OUT:-dist/refresh} state=${VITRINE_STATE:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --config | --orders | --catalog | --customers | --out | --state)
      [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"
      case "$1" in
        --config) config=$2 ;; --orders) orders=$2 ;; --catalog) catalog=$2 ;;
        --customers) customers=$2 ;; --out) out=$2 ;; --state) state=$2 ;;
      esac
      shift 2
      ;;
    --) shift; break ;;
    *) break ;;
  esac
done
kv_flags=("$@")
[ -n "$config" ] || die "usage: scripts/refresh.sh --config vitrine.toml --state DIR [--orders CSV] [--catalog CSV] [--customers CSV] [--out DIR] [wrangler kv flags]"
[ -f "$config" ] || die "no config file $config"
[ -n "$state" ] || die "--state DIR (or VITRINE_STATE) is needed: the manifest of the last load is kept there"
[ ${#kv_flags[@]} -gt 0 ] || die "say which KV: --remote (Cloudflare) or --local --persist-to DIR"
mkdir -p "$out" "$state"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t0=$SECONDS
step() { echo "==> $* ($((SECONDS - t0)) s)"; }

# Customers erased by privacy requests stay out of the build's profiles (and load-profiles.sh
# checks the list again at load time, for an erasure that comes in during the build).
step "erasure list (KV erased:*)"
bash scripts/privacy.sh erased "${kv_flags[@]}" >"$work/erased.txt" || die "could not read the erasure list from KV: nothing built or published"

step "build ($config)"
build=(build --config "$config" --out "$out/bundle.bin" --profiles "$out/profiles.jsonl" --erased "$work/erased.txt" --quiet)
[ -z "$orders" ] || build+=(--orders "$orders")
[ -z "$catalog" ] || build+=(--catalog "$catalog")
[ -z "$customers" ] || build+=(--customers "$customers")
model_builder "${build[@]}" || die "the build failed: nothing published, KV unchanged"

# The bundle first, then the profiles: the bundle is checked as the worker will check it and
# switched by one pointer write (with a rollback), while the profiles are many writes with
# none. A bundle that is refused stops the refresh before any customer's profile changed, and
# new profiles (segments, traits, personas) never wait on rules that do not know them yet.
# A rebuild from the same exports differs only in build id and time: publishing it would push
# the last real change out of bundle:previous (the rollback target), so it is not published.
# (A bundle over KV's value limit is stored in chunks and is always published.)
step "publish the bundle"
current=$(bash scripts/publish-bundle.sh --status "${kv_flags[@]}" | sed -n 's/^bundle:current *= //p') || die "could not read bundle:current"
if [ -n "$current" ] && wrangler kv key get "bundle:$current" --binding BUNDLES "${kv_flags[@]}" >"$work/current.bin" 2>/dev/null \
  && [ "$(vitrine_kv same "$work/current.bin" "$out/bundle.bin")" = same ]; then
  echo "bundle unchanged: bundle:current ($current) holds the same content, not published again"
else
  bash scripts/publish-bundle.sh "$out/bundle.bin" "${kv_flags[@]}" || die "publishing the bundle failed: profiles not loaded (run again)"
fi

step "load the profiles (changed and deleted only)"
bash scripts/load-profiles.sh "$out/profiles.jsonl" --manifest "$state/profiles.manifest" "${kv_flags[@]}" \
  || die "loading the profiles failed after the bundle was published: run again (the manifest is the last good load's)"
step "refreshed"
