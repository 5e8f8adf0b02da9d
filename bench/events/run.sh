#!/usr/bin/env bash
# Events accepted per second by the sync endpoint on local workerd (`wrangler dev`), with wrk.
# Builds the worker and a bundle with the store's journeys (tests/journeys/vitrine.toml over the
# demo sample), publishes it to local KV, starts wrangler dev on fresh state, and runs wrk for
# each batch size, next to the cheapest route (/v1/health) as the dev server's own ceiling.
# Usage: bench/events/run.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
SECS=${1:-20}
CONNS=${2:-32}
PORT=${PORT:-8797}
WORK=$(mktemp -d /tmp/vitrine-bench-events.XXXX)
trap 'kill -- -$(cat "$WORK/wrangler.pid") 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

QUIET=1 bash scripts/build-worker.sh
cargo build -q --release -p vitrine-model-builder
./target/release/model-builder build --quiet --config tests/journeys/vitrine.toml --orders examples/demo/orders.csv --out "$WORK/bundle.bin"
VER=$(./target/release/model-builder inspect --json "$WORK/bundle.bin" | sed -n 's/.*"build_id": *"\([0-9a-f]*\)".*/\1/p' | head -1)
wrangler kv key put --binding BUNDLES "bundle:$VER" --path "$WORK/bundle.bin" --local --persist-to "$WORK/state" >/dev/null
wrangler kv key put --binding BUNDLES bundle:current "$VER" --local --persist-to "$WORK/state" >/dev/null

setsid wrangler dev --local --ip 127.0.0.1 --port "$PORT" --persist-to "$WORK/state" \
  --show-interactive-dev-session=false --var DEV_MODE:0 --var LINK_SECRET:bench >"$WORK/wrangler.log" 2>&1 &
echo $! >"$WORK/wrangler.pid"
ready=
for _ in $(seq 1 480); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/v1/health" && { ready=1; break; }; sleep 0.5; done
[ -n "$ready" ] || { echo "wrangler dev not ready after 240 s:" >&2; tail -20 "$WORK/wrangler.log" >&2; exit 1; }

echo "bundle $VER; wrk ${SECS}s, $CONNS connections, 2 threads, 1000 visitors; load: $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/events/baseline.lua "http://127.0.0.1:$PORT/v1/health" | grep baseline
for batch in 1 10 50 100; do
  # Warm up the isolate and the visitors' objects, then measure.
  BATCH=$batch wrk -t2 -c"$CONNS" -d3s -s bench/events/events.lua "http://127.0.0.1:$PORT" >/dev/null
  echo "--- batch $batch"
  BATCH=$batch wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/events/events.lua "http://127.0.0.1:$PORT" | grep -E "events accepted|latency p50|non-200|Requests/sec"
done
