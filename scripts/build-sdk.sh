#!/usr/bin/env bash
# Builds the browser SDK into dist/sdk/:
#   vitrine.js                 the loader sites include, with the page side (js/page.js) and
#                              wasm-bindgen's glue spliced in
#                              (unversioned: short cache)
#   vitrine-<hash>.wasm        the module (versioned: cache forever)
#   vitrine.d.ts               TypeScript types for window.vitrine
# Steps: cargo (wasm32, release, no std) -> wasm-bindgen --target no-modules -> short import
# names (scripts/short-wasm-names.py) -> wasm-opt -Oz (and more, below) -> page side and glue spliced into the loader ->
# esbuild --minify.
# Usage: scripts/build-sdk.sh [OUT_DIR]     (sizes are printed; set QUIET=1 to silence them)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
OUT=${1:-dist/sdk}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

# opt-level "z" for this download only (the edge and native builds keep the workspace's "s"):
# 6.5 KB gzip less, no fill-time difference measurable (BENCHMARKS.md, Browser SDK).
CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
  cargo rustc --quiet --release --target wasm32-unknown-unknown -p vitrine-browser-sdk --features bare --crate-type cdylib
WASM="$TARGET_DIR/wasm32-unknown-unknown/release/vitrine_browser_sdk.wasm"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
wasm-bindgen --target no-modules --no-typescript --out-dir "$WORK" --out-name vitrine "$WASM"
# Short import names in module and glue alike (wasm-bindgen's are long and hashed).
python3 scripts/short-wasm-names.py "$WORK/vitrine_bg.wasm" "$WORK/vitrine.js"
# The features rustc enables by default for wasm32 (Chrome/Firefox/Safari have had them for years).
# --low-memory-unused: nothing lives in the first KiB of memory (rustc puts the 1 MiB stack first,
# growing down towards it, and data after it), so a constant added to a pointer may become the
# load's offset. --flatten --rereloop: binaryen's control-flow rebuild, then -Oz again. Together
# 0.8 KB gzip less, same semantics (BENCHMARKS.md, Browser SDK).
"$WASM_OPT_BIN" --low-memory-unused -Oz --flatten --rereloop -Oz --converge --strip-debug --strip-producers \
  --enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int \
  --enable-reference-types --enable-multivalue \
  "$WORK/vitrine_bg.wasm" -o "$WORK/vitrine_bg.wasm"

minify() { # in out
  if [ -n "${ESBUILD_BIN:-}" ] && [ -x "$ESBUILD_BIN" ]; then
    "$ESBUILD_BIN" "$1" --minify --log-level=warning --legal-comments=inline --outfile="$2"
  else
    echo "build-sdk: esbuild not found (scripts/setup.sh installs it): shipping unminified JS" >&2
    cp "$1" "$2"
  fi
}
HASH=$(cat "$WORK/vitrine.js" "$WORK/vitrine_bg.wasm" | sha256sum | cut -c1-12)
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
MODULE="vitrine-$HASH.wasm"

mkdir -p "$OUT"
rm -f "$OUT"/vitrine-*.js "$OUT"/vitrine-*.wasm
cp "$WORK/vitrine_bg.wasm" "$OUT/$MODULE"
python3 - "$WORK/vitrine.js" browser-sdk/js/page.js browser-sdk/js/vitrine.js "$WORK/loader.js" "$MODULE" "$VERSION+$HASH" <<'SPLICE'
import sys
glue, page, template, out, module, version = sys.argv[1:]
text = open(template).read()
for marker, path in (("/*__VITRINE_GLUE__*/", glue), ("/*__VITRINE_PAGE__*/", page)):
    assert marker in text, "build-sdk: the loader template lost its marker " + marker
    text = text.replace(marker, open(path).read())
open(out, "w").write(text.replace("__VITRINE_WASM__", module).replace("__VITRINE_VERSION__", version))
SPLICE
minify "$WORK/loader.js" "$OUT/vitrine.js"
cp browser-sdk/js/vitrine.d.ts "$OUT/vitrine.d.ts"

if [ -z "${QUIET:-}" ]; then
  total_raw=0; total_gz=0
  for f in "$OUT/vitrine.js" "$OUT/$MODULE"; do
    raw=$(stat -c%s "$f"); gz=$(gzip -9c "$f" | wc -c)
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
    printf '%-34s %8d B raw %8d B gzip\n' "$(basename "$f")" "$raw" "$gz"
  done
  printf '%-34s %8d B raw %8d B gzip\n' "total (JS + wasm)" "$total_raw" "$total_gz"
fi
