#!/usr/bin/env bash
# Publishes a bundle to the edge (KV namespace BUNDLES), or rolls back to the previous one.
# The worker picks the new version up within BUNDLE_CHECK_SECS (+ KV's own caching, ~60 s in
# production): no redeploy. A bundle the worker would refuse is refused here first.
#
#   scripts/publish-bundle.sh dist/demo/bundle.bin --remote            # production
#   scripts/publish-bundle.sh dist/demo/bundle.bin --local --persist-to .wrangler/state-X
#   scripts/publish-bundle.sh --rollback --remote                       # bundle:current <-> bundle:previous
#   scripts/publish-bundle.sh --status --remote                         # what is current / previous
#   scripts/publish-bundle.sh --notify                                  # tell the watchers again (idempotent)
#
# Every flag after the bundle goes to `wrangler kv` as is (--remote, --local, --persist-to,
# --config, --env, --preview…).
#
# Catalog triggers (back in stock, price drop; README "Catalog patches"): after a publish the
# script asks the worker to compare bundle:previous with bundle:current and tell the visitors
# who carted or watch a changed product: POST $VITRINE_EDGE_URL/v1/admin/catalog/publish with
# the write key ($VITRINE_WRITE_KEY). The worker does it once per pair of build ids, so running
# it again (--notify) sends nothing twice. Without both variables the step is skipped (said so).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

die() { echo "publish-bundle: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: scripts/publish-bundle.sh BUNDLE|--rollback|--status [wrangler kv flags]"
what=$1; shift
kv() { wrangler kv key "$@" --binding BUNDLES "${flags[@]}"; }
flags=("$@")
get() { kv get "$1" --text 2>/dev/null | grep -E '^[A-Za-z0-9._-]+$' | tail -1 || true; }
put() { kv put "$1" "$2" >/dev/null; }

# Asks the worker to fan the catalog changes of bundle:previous -> bundle:current out.
notify() {
  if [ -z "${VITRINE_EDGE_URL:-}" ] || [ -z "${VITRINE_WRITE_KEY:-}" ]; then
    echo "catalog triggers: not told (set VITRINE_EDGE_URL and VITRINE_WRITE_KEY, then: scripts/publish-bundle.sh --notify)"
    return 0
  fi
  local answer
  answer=$(curl -fsS -X POST -H "Authorization: Bearer $VITRINE_WRITE_KEY" -H "Content-Length: 0" \
    "${VITRINE_EDGE_URL%/}/v1/admin/catalog/publish") || die "the worker did not take the catalog changes (run scripts/publish-bundle.sh --notify to try again)"
  echo "catalog triggers: $answer"
}

case "$what" in
  --notify)
    notify
    ;;
  --status)
    echo "bundle:current  = $(get bundle:current)"
    echo "bundle:previous = $(get bundle:previous)"
    ;;
  --rollback)
    current=$(get bundle:current)
    previous=$(get bundle:previous)
    [ -n "$previous" ] || die "no bundle:previous to roll back to"
    put bundle:current "$previous"
    [ -z "$current" ] || put bundle:previous "$current"
    echo "rolled back: bundle:current = $previous (was ${current:-nothing})"
    ;;
  -*) die "unknown option $what" ;;
  *)
    [ -f "$what" ] || die "no bundle file $what"
    version=$(vitrine_kv version "$what") || die "$what would be refused by the worker (see above)"
    kv put "bundle:$version" --path "$what" >/dev/null
    current=$(get bundle:current)
    if [ "$current" != "$version" ]; then
      [ -z "$current" ] || put bundle:previous "$current"
      put bundle:current "$version"
    fi
    echo "published bundle $version (previous: ${current:-none})"
    notify
    ;;
esac
