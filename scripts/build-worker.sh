#!/usr/bin/env bash
# Builds the edge worker (worker-build: cargo wasm32 release -> wasm-bindgen -> wasm-opt) into
# edge-worker/build/ with its JavaScript entry (edge-worker/js/worker.mjs -> build/worker.mjs),
# and assembles the static assets folder dist/public/ (the SDK under /vitrine/sdk/ when
# scripts/build-sdk.sh has built it). wrangler runs this as its [build] command; it skips the
# wasm build when no source changed since the last one.
# Usage: scripts/build-worker.sh [--force]      QUIET=1 silences the size report.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

OUT=edge-worker/build
WASM=$OUT/index_bg.wasm
force=${1:-}

for tool in "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$(command -v worker-build || true)"; do
  if [ -z "$tool" ] || [ ! -x "$tool" ]; then
    echo "build-worker: missing tool ${tool:-worker-build}: run 'bash scripts/setup.sh' first" >&2
    exit 1
  fi
done

# What the build depends on, hashed before building: a change made while a build runs (other
# people share this tree) makes the next call build again. openapi.json is compiled in
# (edge/src/openapi.rs serves it).
source_hash() {
  find edge-worker/src edge/src engine/src contacts/src -type f -name '*.rs' -print0 | sort -z | xargs -0 cat \
    | cat - edge-worker/Cargo.toml edge/Cargo.toml engine/Cargo.toml contacts/Cargo.toml Cargo.toml Cargo.lock openapi.json | sha256sum | cut -c1-16
}
HASH=$(source_hash)
stale() {
  [ "$force" = "--force" ] && return 0
  [ -f "$OUT/index.js" ] && [ -f "$WASM" ] || return 0
  [ "$(cat "$OUT/.source-hash" 2>/dev/null)" != "$HASH" ]
}

if stale; then
  (cd edge-worker && worker-build --release) >&2
  echo "$HASH" > "$OUT/.source-hash"
else
  echo "build-worker: $WASM is up to date" >&2
fi

# The entry (wrangler.toml `main`): our JavaScript module beside worker-build's output.
cp edge-worker/js/worker.mjs "$OUT/worker.mjs"

# Static assets: always present (wrangler refuses a missing [assets] folder).
mkdir -p dist/public/vitrine/sdk
if [ -d dist/sdk ]; then
  rm -f dist/public/vitrine/sdk/*
  cp dist/sdk/* dist/public/vitrine/sdk/
fi

if [ -z "${QUIET:-}" ]; then
  printf 'worker wasm: %d B raw, %d B gzip (%s)\n' "$(stat -c%s "$WASM")" "$(gzip -9c "$WASM" | wc -c)" "$WASM" >&2
fi
