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
# Usage: scripts/build-sdk.sh [OUT_DIR]     (sizes are printed; set QUIET=1 to silence them;
# KEEP_LOADER=FILE keeps the loader as spliced, before minifying)
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
import re, sys
glue, page, template, out, module, version = sys.argv[1:]


def drop(src, start):
    """`src` without the block that starts at the regex `start` (through its closing brace)."""
    found = list(re.finditer(start, src))
    assert len(found) == 1, "build-sdk: the glue changed, expected one " + start
    depth, i = 0, src.index("{", found[0].end())
    for j in range(i, len(src)):
        depth += {"{": 1, "}": -1}.get(src[j], 0)
        if depth == 0:
            return src[:found[0].start()] + src[j + 1:]
    raise AssertionError("build-sdk: unbalanced glue after " + start)


def swap(src, old, new):
    assert src.count(old) == 1, "build-sdk: the glue changed, expected one " + old
    return src.replace(old, new)


# The glue's ways in the loader never takes (it is local to the loader, which always passes
# `{ module_or_path: <promise of a compiled WebAssembly.Module> }`): fetching a URL or Response
# (the loader fetches and compiles itself), the script's own URL as the default, the deprecated
# argument shapes and initSync. Gone, the same module is instantiated the same way.
g = open(glue).read()
g = drop(g, r"\n *let script_src;\n *if \(typeof document")
g = drop(g, r"\n *async function __wbg_load\(")
g = drop(g, r"\n *function initSync\(")
g = drop(g, r"\n *async function __wbg_init_once\(")
g = swap(g, "Object.assign(__wbg_init, { initSync }, exports)", "Object.assign(__wbg_init, exports)")
g = swap(g, "\n    let __wbg_init_promise;", """
    async function __wbg_init_once(options) {
        const module = await options.module_or_path;
        return __wbg_finalize_init(await WebAssembly.instantiate(module, __wbg_get_imports()), module);
    }

    let __wbg_init_promise;""")
assert "script_src" not in g and "initSync" not in g
text = open(template).read()
for marker, js in (("/*__VITRINE_GLUE__*/", g), ("/*__VITRINE_PAGE__*/", open(page).read())):
    assert marker in text, "build-sdk: the loader template lost its marker " + marker
    text = text.replace(marker, js)
open(out, "w").write(text.replace("__VITRINE_WASM__", module).replace("__VITRINE_VERSION__", version))
SPLICE
[ -n "${KEEP_LOADER:-}" ] && cp "$WORK/loader.js" "$KEEP_LOADER"
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
