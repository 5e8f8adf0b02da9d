#!/usr/bin/env bash
# Every browser-SDK test, in order:
#   1. native: pure modules (exit intent, outbox, envelopes, session) and the native engine's
#      decisions for the fixture cases (recorded in browser-sdk/tests/expected/);
#   2. wasm in Node: the SDK's engine decides exactly as recorded natively;
#   3. wasm in headless Chromium: slots, dialog, learning, storage on a real DOM;
#   4. end to end (Playwright): the fixture store's static pages served by python's http.server;
#      then web push there (tests/e2e/push.mjs): subscribe, the service worker, refusals;
#   5. end to end (Playwright) behind the edge worker: the demo store on local workerd; then
#      the npm package (tests/e2e/npm.mjs): the packed tarball installed into a tiny app,
#      bundled with esbuild, run in Chromium against that worker (with the Segment-compatible
#      surface: page, identify(null), anonymousId, user, reset, ajs_anonymous_id);
#      then lead capture (tests/e2e/lead.mjs): the capturing exit offer's form by keyboard, the
#      confirmation email and text at a capture server (the worker's providers point there),
#      the link followed, the welcome email with the visitor's code;
#   6. the measurement report in Chromium (tests/e2e/report.mjs): at /staff/report on that
#      worker (as a file when SDK_E2E_EDGE=0), its figures those of `model-builder report --json`.
# Assumes scripts/setup.sh has installed the tools (scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "==> browser SDK: native tests"
cargo test -p vitrine-browser-sdk
echo "==> browser SDK: wasm tests in Node and headless Chromium"
cargo test --target wasm32-unknown-unknown -p vitrine-browser-sdk --tests
echo "==> browser SDK: end to end on a static site"
QUIET=1 NPM_OUT="$work/npm" scripts/build-sdk.sh "$work/sdk"
# The download budget (ARCHITECTURE.md, #4): loader + wasm, each gzip -9, at most 64 KiB.
budget=65536
total=0
for f in "$work/sdk"/vitrine.js "$work/sdk"/vitrine-*.wasm; do total=$((total + $(gzip -9c "$f" | wc -c))); done
if [ "$total" -gt "$budget" ]; then
  echo "browser SDK: $total B gzip is over the $budget B budget (scripts/build-sdk.sh prints the parts)" >&2
  exit 1
fi
echo "browser SDK: $total B gzip (budget $budget B)"
cargo run -q -p vitrine-browser-sdk --example fixture-bundle -- "$work/fixture.bin" --site "$work/site" >/dev/null
ln -sfn "$VITRINE_TOOLS/node/node_modules" tests/e2e/node_modules
SDK_DIR="$work/sdk" FIXTURE_BUNDLE="$work/fixture.bin" FIXTURE_SITE="$work/site" node tests/e2e/static-only.mjs
echo "==> browser SDK: web push (subscribe, the service worker) on the static site"
SDK_DIR="$work/sdk" FIXTURE_BUNDLE="$work/fixture.bin" FIXTURE_SITE="$work/site" node tests/e2e/push.mjs

# The report of simulated records (two arms, a known lift), as HTML and as JSON, for step 6.
cargo run --release -q -p vitrine-model-builder -- report "$work/records" --simulate 4000 --seed 11 --arms 2 \
  --html "$work/report.html" --json >"$work/report.json"
export REPORT_HTML="$work/report.html" REPORT_JSON="$work/report.json"

# 5. Behind the edge worker: scripts/dev.sh on spare ports (SDK_E2E_PORT), tests/e2e/edge.mjs
#    against it. SDK_E2E_EDGE=0 skips it (the static site above needs no worker).
if [ "${SDK_E2E_EDGE:-1}" != 0 ]; then
  echo "==> browser SDK: end to end behind the edge worker (scripts/dev.sh)"
  port=${SDK_E2E_PORT:-18797}
  # SendGrid's and Twilio's APIs: the lead e2e's capture server on port + 2.
  capture="http://127.0.0.1:$((port + 2))"
  DEV_VARS="EMAIL_API_KEY:SG.test EMAIL_API_BASE:$capture TWILIO_ACCOUNT_SID:ACtest TWILIO_AUTH_TOKEN:test SMS_FROM:+15005550006 SMS_API_BASE:$capture" \
    PORT=$port ORIGIN_PORT=$((port + 1)) setsid bash scripts/dev.sh >"$work/dev.log" 2>&1 </dev/null &
  dev=$!
  trap 'kill -TERM -- -$dev 2>/dev/null; sleep 2; rm -rf "$work"' EXIT
  for _ in $(seq 900); do
    curl -fsS -m 2 "http://127.0.0.1:$port/v1/health" 2>/dev/null | grep -q '"dev_mode":true' && break
    kill -0 "$dev" 2>/dev/null || { cat "$work/dev.log" >&2; exit 1; }
    sleep 1
  done
  VITRINE_URL="http://127.0.0.1:$port" node tests/e2e/edge.mjs
  echo "==> lead capture in the exit offer: double opt-in, then the welcome email's code"
  VITRINE_URL="http://127.0.0.1:$port" CAPTURE_PORT=$((port + 2)) node tests/e2e/lead.mjs
  echo "==> the npm package in an esbuild app, against that worker"
  VITRINE_URL="http://127.0.0.1:$port" NPM_TARBALL=$(ls "$work"/npm/vitrine-browser-*.tgz) node tests/e2e/npm.mjs
  echo "==> measurement report in Chromium, at /staff/report"
  VITRINE_URL="http://127.0.0.1:$port" ADMIN_TOKEN=$(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars | tail -1) node tests/e2e/report.mjs
else
  echo "==> measurement report in Chromium, as a file"
  node tests/e2e/report.mjs
fi
