#!/usr/bin/env bash
# Builds the browser SDK into dist/sdk/:
#   vitrine.js                 the loader sites include (js/vitrine.js around js/core.js), with
#                              the page side (js/page.js) and wasm-bindgen's glue spliced in
#                              (unversioned: short cache)
#   vitrine.mjs                the same as an ES module, `load(options)` (js/vitrine.mjs)
#   vitrine-<hash>.wasm        the module (versioned: cache forever)
#   vitrine.css                the exit offer dialog's CSS (js/dialog.css), linked by the page
#                              side once the slots are filled: off the first download
#   vitrine.d.ts               TypeScript types for window.vitrine and the module
#   vitrine-push.js            web push (js/push.js), an ES module `vitrine.push.*` imports on
#                              first use: outside the loader's budget, its size printed apart
#   vitrine-sw.js              the push service worker (js/sw.js), registered by vitrine-push.js
#   vitrine-dialog.js          the exit offer's dialog and its lead form (js/dialog.js), an ES
#                              module the page side imports when an offer first shows: outside
#                              the budget too
# and the npm package @vitrine/browser (those files, browser-sdk/npm/) packed by `npm pack`
# into NPM_OUT (default: OUT_DIR's sibling npm/, e.g. dist/npm/vitrine-browser-<version>.tgz).
# Steps: cargo (wasm32, release, no std) -> wasm-bindgen --target no-modules -> short import
# names (scripts/short-wasm-names.py) -> wasm-opt -Oz (and more, below) -> page side and glue spliced into the loader ->
# esbuild --minify -> npm pack.
# Usage: scripts/build-sdk.sh [OUT_DIR]     (sizes are printed; set QUIET=1 to silence them;
# KEEP_LOADER=FILE keeps the script tag's loader as spliced, before minifying)
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
# --encode-into always: TextEncoder.encodeInto without its polyfill (every browser that runs
# this module has it).
wasm-bindgen --target no-modules --no-typescript --encode-into always --out-dir "$WORK" --out-name vitrine "$WASM"
# Short import names in module and glue alike (wasm-bindgen's are long and hashed).
python3 scripts/short-wasm-names.py "$WORK/vitrine_bg.wasm" "$WORK/vitrine.js"
# The features rustc enables by default for wasm32 (Chrome/Firefox/Safari have had them for years).
# --low-memory-unused: nothing lives in the first KiB of memory (rustc puts the 1 MiB stack first,
# growing down towards it, and data after it), so a constant added to a pointer may become the
# load's offset. --flatten --rereloop: binaryen's control-flow rebuild, then -Oz again. Together
# 0.8 KB gzip less, same semantics (BENCHMARKS.md, Browser SDK). Merging similar functions
# first, and inlining and dead arguments before the last -Oz: 0.16 KB less (measured against
# four other orders). --strip-target-features: the features section no browser reads (0.1 KB).
# -aimfs 4: functions of up to 4 instructions inlined everywhere before that last pass (84 B less;
# 5 the same, 6 and up larger; V8's lazy compile of a cold load's ~260 functions took no less
# time with fewer, larger ones: BENCHMARKS.md, Browser SDK).
"$WASM_OPT_BIN" --low-memory-unused --merge-similar-functions -Oz --flatten --rereloop -Oz \
  -aimfs 4 --inlining-optimizing --dae-optimizing -Oz --converge \
  --strip-debug --strip-producers --strip-target-features \
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
python3 - "$WORK/vitrine.js" browser-sdk/js/page.js browser-sdk/js/core.js browser-sdk/js/vitrine.js browser-sdk/js/vitrine.mjs "$WORK/loader.js" "$WORK/loader.mjs" "$MODULE" "$VERSION+$HASH" <<'SPLICE'
import re, sys
glue, page, core, tag, esm, out, out_esm, module, version = sys.argv[1:]


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


# The glue's ways in, all but one never taken (it is local to the loader): fetching a URL or
# Response, the script's own URL as the default, the deprecated argument shapes, initSync, and
# the promise that makes a second init wait for the first. The loader calls `__wbg_init` once,
# with a function that instantiates the module with the glue's imports (instantiateStreaming on
# the fetch response: compiled while it downloads, instantiated as soon as it is, one step).
g = open(glue).read()
g = drop(g, r"\n *let script_src;\n *if \(typeof document")
g = drop(g, r"\n *async function __wbg_load\(")
g = drop(g, r"\n *function initSync\(")
g = drop(g, r"\n *async function __wbg_init_once\(")
g = drop(g, r"\n *async function __wbg_init\(")
g = swap(g, "\n    let __wbg_init_promise;", """
    const __wbg_init = (instantiate) => instantiate(__wbg_get_imports()).then((r) => __wbg_finalize_init(r.instance, r.module));""")
# Strings always go in with `realloc` (every call the glue makes passes it): the branch for
# callers without it never runs.
g = drop(g, r"\n *if \(realloc === undefined\) ")
g = swap(g, "Object.assign(__wbg_init, { initSync }, exports)", "Object.assign(__wbg_init, exports)")
assert "script_src" not in g and "initSync" not in g and "__wbg_init_promise" not in g


def arrows(src):
    """`src` with its anonymous `function (...) {...}` expressions as arrow functions, where
    their bodies use neither `this` nor `arguments` (the only differences an arrow makes here:
    the glue never calls them with `new`). Shorter once minified (`(e)=>x` for
    `function(e){return x}`)."""
    out, i = [], 0
    for m in re.finditer(r"(?<![\w$.])function ?(\([^()]*\)) \{", src):
        if m.start() < i or src[:m.start()].rstrip()[-1:] not in (":", "(", ",", "="):
            continue  # inside a header already rewritten, or not an expression
        depth, j = 0, m.end() - 1
        for j in range(m.end() - 1, len(src)):
            depth += {"{": 1, "}": -1}.get(src[j], 0)
            if depth == 0:
                break
        body = src[m.end():j]
        if re.search(r"\b(this|arguments)\b", body):
            continue
        out.append(src[i:m.start()] + m.group(1) + " => {")
        i = m.end()
    return "".join(out) + src[i:]


def exported_arrows(src):
    """`src` with wasm-bindgen's wrappers, `function NAME(...) {...}` then
    `exports.NAME = NAME;`, written as `exports.NAME = (...) => {...};` where nothing else
    names NAME and the body uses neither `this` nor `arguments`."""
    src = re.sub(r"/\*\*.*?\*/", "", src, flags=re.S)  # JSDoc: names that are not uses
    for m in list(re.finditer(r"\n *function (\w+)(\([^()]*\)) \{", src))[::-1]:
        name, depth = m.group(1), 0
        for j in range(m.end() - 1, len(src)):
            depth += {"{": 1, "}": -1}.get(src[j], 0)
            if depth == 0:
                break
        tail = re.match(r"\s*exports\." + name + " = " + name + ";", src[j + 1:])
        body = src[m.end():j]
        if not tail or re.search(r"\b(this|arguments)\b", body) or len(re.findall(r"\b" + name + r"\b", src)) != 3:
            continue
        src = src[:m.start()] + "\nexports." + name + " = " + m.group(2) + " => {" + body + "};" + src[j + 1 + tail.end():]
    return src


# wasm-bindgen's `handleError` wrappers, `function() { return handleError(function (…) {…}, arguments) }`,
# as `(...a) => handleError(…, a)`: the same call (imports are called without a `this`), shorter.
g = re.sub(r"function\(\) \{ return handleError\((.*?), arguments\); \}", r"(...a) => handleError(\1, a)", g, flags=re.S)
assert "arguments); }" not in g, "build-sdk: a handleError wrapper changed shape"
g = arrows(exported_arrows(g))


def splice(text, parts):
    for marker, js in parts:
        assert marker in text, "build-sdk: a loader template lost its marker " + marker
        text = text.replace(marker, js)
    return text


body = splice(open(core).read(), (("/*__VITRINE_GLUE__*/", g), ("/*__VITRINE_PAGE__*/", open(page).read())))
for wrapper, path in ((tag, out), (esm, out_esm)):
    text = splice(open(wrapper).read(), (("/*__VITRINE_CORE__*/", body),))
    open(path, "w").write(text.replace("__VITRINE_WASM__", module).replace("__VITRINE_VERSION__", version))
SPLICE
[ -n "${KEEP_LOADER:-}" ] && cp "$WORK/loader.js" "$KEEP_LOADER"
minify "$WORK/loader.js" "$OUT/vitrine.js"
minify "$WORK/loader.mjs" "$OUT/vitrine.mjs"
minify browser-sdk/js/dialog.css "$OUT/vitrine.css"
minify browser-sdk/js/push.js "$OUT/vitrine-push.js"
minify browser-sdk/js/sw.js "$OUT/vitrine-sw.js"
minify browser-sdk/js/dialog.js "$OUT/vitrine-dialog.js"
cp browser-sdk/js/vitrine.d.ts "$OUT/vitrine.d.ts"

# The npm package: browser-sdk/npm/package.json with this build's version and module name.
NPM_OUT=${NPM_OUT:-$(dirname "$OUT")/npm}
mkdir -p "$WORK/npm" "$NPM_OUT"
cp "$OUT/vitrine.js" "$OUT/vitrine.mjs" "$OUT/$MODULE" "$OUT/vitrine.css" "$OUT/vitrine.d.ts" "$OUT/vitrine-push.js" "$OUT/vitrine-sw.js" "$OUT/vitrine-dialog.js" \
  browser-sdk/npm/README.md "$WORK/npm/"
python3 - browser-sdk/npm/package.json "$WORK/npm/package.json" "$VERSION" "$MODULE" <<'PACKAGE'
import json, sys
src, out, version, module = sys.argv[1:]
p = json.load(open(src))
p["version"] = version
p["exports"]["./vitrine.wasm"] = "./" + module
json.dump(p, open(out, "w"), indent=2)
PACKAGE
rm -f "$NPM_OUT"/vitrine-browser-*.tgz
(cd "$WORK/npm" && npm pack --silent --pack-destination "$NPM_OUT" >/dev/null)

if [ -z "${QUIET:-}" ]; then
  total_raw=0; total_gz=0
  for f in "$OUT/vitrine.js" "$OUT/$MODULE"; do  # the script tag's download
    raw=$(stat -c%s "$f"); gz=$(gzip -9c "$f" | wc -c)
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
    printf '%-34s %8d B raw %8d B gzip\n' "$(basename "$f")" "$raw" "$gz"
  done
  printf '%-34s %8d B raw %8d B gzip\n' "total (JS + wasm)" "$total_raw" "$total_gz"
  for f in "$OUT/vitrine-push.js" "$OUT/vitrine-sw.js" "$OUT/vitrine-dialog.js"; do  # loaded on use, outside the total
    printf '%-34s %8d B raw %8d B gzip (on use)\n' "$(basename "$f")" "$(stat -c%s "$f")" "$(gzip -9c "$f" | wc -c)"
  done
  printf '%-34s %8d B\n' "$(cd "$NPM_OUT" && ls vitrine-browser-*.tgz)" "$(stat -c%s "$NPM_OUT"/vitrine-browser-*.tgz)"
fi
