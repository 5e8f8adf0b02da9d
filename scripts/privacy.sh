#!/usr/bin/env bash
# Privacy requests against a running edge (the admin API, ADMIN_TOKEN):
#
#   scripts/privacy.sh export <customer id>    everything stored about them, as JSON
#   scripts/privacy.sh delete <customer id>    erase it (visitor objects, phone index, KV
#                                              profile); old profile cookies stop at their next
#                                              refresh; the id joins the erasure list
#   scripts/privacy.sh erased [wrangler kv flags]
#                                              the erasure list, one id per line, for
#                                              `model-builder build --erased FILE`
#
# Env: VITRINE_URL (default http://127.0.0.1:8787), ADMIN_TOKEN (required for export/delete).
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "privacy: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: scripts/privacy.sh export|delete <customer id> | erased [wrangler kv flags]"
what=$1; shift
url=${VITRINE_URL:-http://127.0.0.1:8787}
encode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
case "$what" in
  export|delete)
    [ $# -eq 1 ] && [ -n "$1" ] || die "usage: scripts/privacy.sh $what <customer id>"
    [ -n "${ADMIN_TOKEN:-}" ] || die "set ADMIN_TOKEN (the worker's secret)"
    method=GET; [ "$what" = delete ] && method=DELETE
    out=$(mktemp); trap 'rm -f "$out"' EXIT
    status=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $ADMIN_TOKEN" "$url/v1/admin/customers/$(encode "$1")") || die "$url is not answering"
    cat "$out"; echo
    case "$status" in 2*) ;; 404) [ "$what" = export ] || exit 1 ;; *) exit 1 ;; esac
    ;;
  erased)
    source scripts/env.sh
    wrangler kv key list --binding PROFILES --prefix "erased:" "$@" | python3 -c 'import json, sys; [print(k["name"].split(":", 1)[1]) for k in json.load(sys.stdin)]'
    ;;
  *) die "unknown request $what (export, delete, erased)" ;;
esac
