#!/usr/bin/env bash
# The main job: builds the demo bundle, the browser SDK, the edge worker and the demo store,
# loads the bundle and the customer profiles into local KV, and serves the store personalized
# on local workerd at http://127.0.0.1:8787 (origin: the static demo store on :8788).
# Ctrl-C stops everything it started.
#
#   bash scripts/dev.sh        PORT=8787 ORIGIN_PORT=8788 to move them; STATE=dir for another KV state;
#                              DEV_VARS="KEY:VALUE …" more worker vars (the SDK's e2e points the
#                              email and SMS providers at its capture server this way)
#   bash scripts/dev.sh --traffic   then, once it serves, scripts/report-demo.sh: demo visitors
#                                   with a known true lift, the report from R2, at /staff/report
set -euo pipefail
cd "$(dirname "$0")/.."
TRAFFIC=0
for arg in "$@"; do
  case $arg in
    --traffic) TRAFFIC=1 ;;
    *) echo "dev: unknown argument $arg (--traffic)" >&2; exit 2 ;;
  esac
done
PORT=${PORT:-8787}
ORIGIN_PORT=${ORIGIN_PORT:-8788}
DEMO=dist/demo
step() { printf '\n==> %s\n' "$*" >&2; }

step "tools"
bash scripts/setup.sh
source scripts/env.sh

step "demo bundle (model-builder)"
mkdir -p "$DEMO"
cargo run --release --quiet -p vitrine-model-builder -- build --config examples/demo/vitrine.toml \
  --out "$DEMO/bundle.bin" --profiles "$DEMO/profiles.jsonl" --quiet

step "browser SDK"
QUIET=1 bash scripts/build-sdk.sh dist/sdk || echo "dev: the SDK did not build; pages are still personalized at the edge" >&2

step "edge worker"
bash scripts/build-worker.sh

step "demo store"
cargo build --release --quiet -p vitrine-tests --bin vitrine-edge
EDGE_TOOL=target/release/vitrine-edge
rm -rf "$DEMO/site"
"$EDGE_TOOL" store "$DEMO/bundle.bin" "$DEMO/site" --profiles "$DEMO/profiles.jsonl"

# Local secrets and dev switches (wrangler reads .dev.vars; never committed). Existing values
# are kept, so profile cookies stay valid across restarts.
touch .dev.vars
ensure_var() { grep -q "^$1=" .dev.vars || echo "$1=$2" >> .dev.vars; }
random_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
ensure_var PROFILE_SECRET "$(random_secret)"
ensure_var LINK_SECRET "$(random_secret)"
# The demo store's backend (the origin) signs logins with it: Vitrine-Identity on /account/login.
ensure_var IDENTITY_SECRET "demo:$(random_secret)"
ensure_var DEV_MODE 1
ensure_var DEMO_PICKER 1
ensure_var BUNDLE_CHECK_SECS 2
# The store backend's key for /v1/events (server orders, scripts/report-demo.sh) and the admin
# token: the export routes, the report upload and /staff/report's password.
ensure_var VITRINE_WRITE_KEY "$(random_secret)"
# Web Push's VAPID key for this checkout (GET /v1/push/key gives the SDK its public half): 32
# random bytes as base64url, generated here, never committed.
ensure_var VAPID_PRIVATE_KEY "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
ensure_var VAPID_SUBJECT "mailto:dev@shop.example"
ensure_var ADMIN_TOKEN "$(random_secret)"

# One state folder per wrangler version: state written by one workerd can crash another.
STATE=${STATE:-.wrangler/state-$(wrangler --version 2>/dev/null | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)}
step "local KV ($STATE)"
bash scripts/publish-bundle.sh "$DEMO/bundle.bin" --local --persist-to "$STATE"
bash scripts/load-profiles.sh "$DEMO/profiles.jsonl" --local --persist-to "$STATE" >/dev/null

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap cleanup INT TERM EXIT

step "serving"
IDENTITY_SECRET=$(sed -n 's/^IDENTITY_SECRET=//p' .dev.vars | tail -1) setsid "$EDGE_TOOL" serve "$DEMO/site" "$ORIGIN_PORT" </dev/null &
pids+=($!)
mkdir -p .wrangler
extra_vars=()
for kv in ${DEV_VARS:-}; do extra_vars+=(--var "$kv"); done
setsid wrangler dev --local --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" \
  --show-interactive-dev-session=false --var "ORIGIN_URL:http://127.0.0.1:$ORIGIN_PORT" "${extra_vars[@]}" </dev/null &
pids+=($!)

URL=http://127.0.0.1:$PORT
for _ in $(seq 600); do
  curl -fsS -m 2 -o /dev/null "$URL/v1/health" 2>/dev/null && break
  kill -0 "${pids[1]}" 2>/dev/null || { echo "dev: wrangler dev exited" >&2; exit 1; }
  sleep 0.2
done
curl -fsS -m 2 -o /dev/null "$URL/v1/health" || { echo "dev: wrangler dev did not come up on $URL" >&2; exit 1; }

personas=$(grep -o '"segment":"[^"]*"' "$DEMO/profiles.jsonl" | sort -u | sed 's/"segment":"\(.*\)"/\1/' \
  | tr 'A-Z' 'a-z' | sed "s/'//g; s/[^a-z0-9]\{1,\}/-/g; s/-$//; s/^new$/new-customer/" | tr '\n' ' ')
product=$(grep -o 'href="/products/[^"]*"' "$DEMO/site/index.html" | head -1 | sed 's/href="//; s/"$//')
cat <<MSG

Vitrine demo store, personalized at the edge:  $URL/
  the origin alone (unpersonalized):            http://127.0.0.1:$ORIGIN_PORT/
  a product page:                               $URL${product:-/products/}
  sign in as a demo customer (the store's login): $URL/account/login
  the cart (add items on product pages):        $URL/cart
  a decision as JSON, explained:                $URL/v1/decide?placement=hero&explain=1
  the measurement report (staff only; password: ADMIN_TOKEN in .dev.vars): $URL/staff/report
    (made by: bash scripts/report-demo.sh, or start with bash scripts/dev.sh --traffic)
  health (serving bundle, refused versions):    $URL/v1/health

View the store as another visitor (a signed cookie; the picker is on when DEMO_PICKER=1):
  $URL/?vitrine_as=new
$(for p in $personas; do echo "  $URL/?vitrine_as=$p"; done)
Another country (dev mode only):  curl -H 'X-Vitrine-Debug-Country: DE' $URL/

Publish a new bundle without restarting:  bash scripts/publish-bundle.sh BUNDLE --local --persist-to $STATE
Ctrl-C stops the store and the worker.
MSG
if [ "$TRAFFIC" = 1 ]; then
  step "demo traffic and the report (scripts/report-demo.sh)"
  URL=$URL bash scripts/report-demo.sh || echo "dev: scripts/report-demo.sh failed; the stack is still up" >&2
fi
wait
