#!/usr/bin/env bash
# Benchmark (not a test): what a cold isolate of the edge worker pays, on local workerd
# (`wrangler dev --local`, the real runtime), to open a large bundle before its first
# personalized page (issue #16 part 5). Local workerd freezes the clock during a request, so
# this measures from outside, with curl: for each restart of `wrangler dev` (same persisted KV
# state), once the worker answers a route that loads no bundle (`/v1/…` 404: the isolate is
# up, its wasm instantiated, nothing read from KV), the first request to a personalized product
# page (reads `bundle:current` and the bundle from KV, joins its chunks, `Engine::load_shared`,
# decides, rewrites) and then WARM more product pages (other products); cold = first − warm
# median. The large bundle (default: 100k products, ~38 MB, stored in KV as
# `bundle:<v>:<i>` chunks behind a manifest) and the demo bundle (~67 kB, the control: the
# same first-request code paths, no size) are measured interleaved, large, demo, large, …,
# so what is left in (large − demo) is what the bundle's size costs.
#
# The KV read is separated as well as can be from outside: `/v1/bundle/kvprobe` reads a copy of
# the same bundle (the same chunks under another version, so the serving one is not it) from KV
# in full and answers 404 once it sees the header is not that version
# (edge-worker/src/bundle.rs `bytes_of`): its latency minus a plain 404's is one KV read + join
# of the bundle's bytes. Each bundle gets RESTARTS restarts in two orders: "page" (the first
# page first, the PROBES probes after the warm pages: a warm isolate's read) and "read" (the
# probes first: the first one is a cold isolate's read; then the first page, whose own read is
# a warm one, so first page - warm - probe is the opening and what else the size costs).
#
# Then where the first page's time goes, from inside: PROFILES more restarts per bundle, each
# with V8's CPU profiler (over wrangler's inspector, sampling every 50 µs) running during the
# first page request, whose samples are sorted by their stack: reading the bundle from KV
# (`read_bundle`: the KV gets, of which the copy of each value into wasm memory,
# `Uint8Array::to_vec`, and the join of the chunks), opening it (the rest of `bundle::load`:
# `Engine::load_shared`, of which the checksum), wasm-bindgen's closure bookkeeping when the KV
# promises resolve (`_wbg_cb_unref`), V8's garbage collector, the rest (decisions, rewriter, glue). The profiler's
# clock is not frozen; its overhead makes these a little larger than unprofiled.
#
# Every page request carries a crawler's User-Agent (personalized, but no exposures recorded:
# no queue work to blur the figures; edge/src/measure.rs) and a fixed vt_vid. BUNDLE_CHECK_SECS
# is an hour: no warm request re-reads bundle:current. Not measured: the isolate's own start
# (wasm compile and instantiation), which the readiness probe has already paid.
#
# Usage: scripts/bench-cold-start.sh [bundle.bin]
#   bundle.bin   the large bundle (default: a 100k-product one made by the engine's bench_open
#                example, as scripts/bench-bundle.sh does, in target/bench/)
#   RESTARTS=10  restarts of `wrangler dev` per bundle and order (plus one untimed check run each)
#   PROBES=5     KV probes per restart
#   WARM=30      warm page requests per restart
#   PROFILES=3   profiled restarts per bundle (0: none)
#   PORT=8931    wrangler dev (the static origin on PORT+1, the inspector on PORT+2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/env.sh
RESTARTS=${RESTARTS:-10}
WARM=${WARM:-30}
PORT=${PORT:-8931}
ORIGIN_PORT=$((PORT + 1))
INSPECT_PORT=$((PORT + 2))
PROBES=${PROBES:-5}
PROFILES=${PROFILES:-3}
for tool in wrangler node curl python3 setsid; do
  command -v "$tool" >/dev/null || { echo "bench-cold-start: $tool is missing (scripts/setup.sh)" >&2; exit 1; }
done

target="${CARGO_TARGET_DIR:-$root/target}"
WORK="$target/bench/cold-start"
rm -rf "$WORK"
mkdir -p "$WORK"

machine() { echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

# The bundles: the large one (argument or made here) and the demo's (the control).
if [ -n "${1:-}" ]; then
  large="$1"
else
  large="$target/bench/large-100000.bin"
  echo "bench-cold-start: making a 100k-product bundle ($large)" >&2
  cargo run --quiet --release -p vitrine-engine --example bench_open -- --rules examples/demo/vitrine.toml \
    --products 100000 --out "$large" --views 1000 --reps 1 >/dev/null
fi
demo="$WORK/demo.bin"
cargo run --quiet --release -p vitrine-model-builder -- build --config examples/demo/vitrine.toml --out "$demo" --quiet
QUIET=1 bash scripts/build-worker.sh
cargo build --release --quiet -p vitrine-tests --bin vitrine-edge -p vitrine-edge --bin vitrine-kv
EDGE_TOOL="$target/release/vitrine-edge"
KV_TOOL="$target/release/vitrine-kv"

pids=()          # the origin
wrangler_pid=   # the running wrangler dev, if any
cleanup() {
  for pid in "${pids[@]}" $wrangler_pid; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}" $wrangler_pid; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# A private copy of the worker and a config without [build] (as scripts/bench-edge.sh).
cp -r edge-worker/build "$WORK/build"
mkdir -p dist/public
# The entry: our JavaScript module (since #19), or worker-build's own for an older build.
ENTRY=$WORK/build/worker.mjs
[ -f "$ENTRY" ] || ENTRY=$WORK/build/index.js
sed -e "s|^main = .*|main = \"$ENTRY\"|" -e '/^\[build\]/,/^$/d' \
  -e "s|^directory = \"dist/public\"|directory = \"$PWD/dist/public\"|" wrangler.toml > "$WORK/wrangler.toml"

# The origin: the demo store (from the demo bundle), plus, for the large bundle's products, a
# copy of a demo product page at /products/<SKU> (the worker reads the product off the URL,
# `[[pages]] /products/:sku`; the page's own text does not matter to it).
"$EDGE_TOOL" store "$demo" "$WORK/site" >/dev/null
n_paths=$((WARM + 1))
ls "$WORK/site/products" | sed -n 's/\.html$//p' | awk -v n="$n_paths" 'NR % 5 == 1 && c < n { print "/products/" $0; c++ }' > "$WORK/demo.paths"
template="$WORK/site$(head -1 "$WORK/demo.paths").html"
# The large store's SKUs (NN-NNNNNN, engine/examples/support/large_store.rs) from its products'
# URLs in the bundle's string heap; checked below (the product slot must be filled).
grep -aoE '/products/[a-z0-9-]+-[0-9]{2}-[0-9]{6}' "$large" > "$WORK/large.urls" || true
sed -E 's/.*-([0-9]{2}-[0-9]{6})$/\1/' "$WORK/large.urls" | awk '!seen[$0]++' > "$WORK/large.skus"
[ "$(wc -l < "$WORK/large.skus")" -ge $((n_paths * 50)) ] || { echo "bench-cold-start: found too few SKUs in $large" >&2; exit 1; }
awk -v n="$n_paths" 'NR % 50 == 1 && c < n { print "/products/" $0; c++ }' "$WORK/large.skus" > "$WORK/large.paths"
while read -r p; do cp "$template" "$WORK/site$p.html"; done < "$WORK/large.paths"

# KV state per bundle: bundle:<v> (or its chunks and manifest), bundle:current, and the probe's
# copy under version "kvprobe" (same chunking).
for kind in large demo; do
  bundle=$large; [ "$kind" = demo ] && bundle=$demo
  "$KV_TOOL" bundle "$bundle" "$WORK/$kind.kv.json" --current
  python3 - "$WORK/$kind.kv.json" > "$WORK/$kind.kv.summary" <<'PY'
import json, re, sys
path = sys.argv[1]
entries = json.load(open(path))
current = next(e["value"] for e in entries if e["key"] == "bundle:current")
probe = []
for e in entries:
    m = re.fullmatch(r"bundle:" + re.escape(current) + r"(:\d+)?", e["key"])
    if m:  # the bundle, or its chunks and manifest ("vitrine-chunks <n> <bytes>")
        probe.append(dict(e, key="bundle:kvprobe" + (m.group(1) or "")))
json.dump(entries + probe, open(path, "w"))
for e in entries:
    v = e["value"]
    size = len(v) * 3 // 4 - v[-2:].count("=") if e.get("base64") else len(v)
    print(f'{e["key"]} {size} {e["value"] if not e.get("base64") else "(bytes)"}')
PY
  echo "KV entries for the $kind bundle ($(stat -c%s "$bundle") bytes): $(tr '\n' ';' < "$WORK/$kind.kv.summary" | sed 's/;$//; s/;/; /g')"
  wrangler kv bulk put "$WORK/$kind.kv.json" --binding BUNDLES --local --persist-to "$WORK/state-$kind" --config "$WORK/wrangler.toml" >/dev/null
  rm -f "$WORK/$kind.kv.json"
done

setsid "$EDGE_TOOL" serve "$WORK/site" "$ORIGIN_PORT" >"$WORK/origin.log" 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 100); do curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/" 2>/dev/null && break; sleep 0.1; done
curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/" || { echo "bench-cold-start: the origin did not start on :$ORIGIN_PORT (port taken? set PORT)" >&2; exit 1; }

URL=http://127.0.0.1:$PORT
UA="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 (compatible; bench-bot)"
COOKIE="vt_vid=bench-visitor-0001"
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
page() { curl -sS -m 120 -A "$UA" -H "Cookie: $COOKIE" -o "$2" -w '%{http_code} %{time_total}\n' "$URL$1"; }
pdp_filled() { grep -o 'data-vitrine-slot="pdp-pair-with"[^>]*' "$1" | grep -c 'data-vitrine-filled' || true; }

start_wrangler() {  # kind
  setsid wrangler dev --config "$WORK/wrangler.toml" --local --ip 127.0.0.1 --port "$PORT" --inspector-port "$INSPECT_PORT" \
    --persist-to "$WORK/state-$1" --show-interactive-dev-session=false \
    --var "ORIGIN_URL:http://127.0.0.1:$ORIGIN_PORT" --var DEV_MODE:0 --var DEMO_PICKER:0 --var BUNDLE_CHECK_SECS:3600 \
    >"$WORK/wrangler-$1.log" 2>&1 </dev/null &
  wrangler_pid=$!
  local t0=$SECONDS
  # Ready: the worker itself answers (a JSON 404 from /v1/…, a route that reads no bundle).
  until curl -sS -m 2 "$URL/v1/cold-start-ready" 2>/dev/null | grep -q 'no endpoint'; do
    kill -0 "$wrangler_pid" 2>/dev/null || { tail -30 "$WORK/wrangler-$1.log" >&2; echo "bench-cold-start: wrangler dev exited" >&2; exit 1; }
    [ $((SECONDS - t0)) -lt 180 ] || { tail -30 "$WORK/wrangler-$1.log" >&2; echo "bench-cold-start: wrangler dev not ready on $URL" >&2; exit 1; }
    sleep 0.2
  done
  startup_s=$((SECONDS - t0))
  sleep 2   # let wrangler's own start-up work settle (the isolate stays as it is)
}

stop_wrangler() {
  kill -TERM -- "-$wrangler_pid" 2>/dev/null || true
  for _ in $(seq 100); do pgrep -g "$wrangler_pid" >/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$wrangler_pid" 2>/dev/null || true
  wait "$wrangler_pid" 2>/dev/null || true
  wrangler_pid=
  for _ in $(seq 100); do curl -s -m 1 -o /dev/null "$URL/" 2>/dev/null || break; sleep 0.1; done
}

# The workerd processes' resident memory (MiB), summed over wrangler's process group.
rss_mib() { ps -e -o pgid=,rss=,comm= | awk -v g="$wrangler_pid" '$1 == g && $3 ~ /workerd/ { s += $2 } END { printf "%.0f", s / 1024 }'; }

# KV probes: reads the "kvprobe" copy of the bundle in full ($1 times, each followed by a plain
# 404); appends their times (s) to probe.times, the 404s' to nf.times.
probe() {
  for _ in $(seq "$1"); do
    curl -sS -m 120 -o /dev/null -w '%{http_code} %{time_total}\n' "$URL/v1/bundle/kvprobe" >> "$WORK/probe.times"
    curl -sS -m 10 -o /dev/null -w '%{http_code} %{time_total}\n' "$URL/v1/cold-start-nothing" >> "$WORK/nf.times"
  done
}

# One restart of `wrangler dev`, in one of two orders:
#   page: ready, first page (cold), warm pages, then the KV probes (a warm isolate's read);
#   read: ready, the KV probes first (the first one: a cold isolate's read of the bundle, no
#         bundle opened yet), then the first page (its own read is now a warm one) and warm pages.
# Sets (ms) first, warm (median), cold = first - warm, kv_first (first probe - 404), kv (median
# of the other probes - 404), nf (404 median); rss (MiB, after the warm pages), startup_s.
run_one() {  # kind mode
  local kind=$1 mode=$2 paths="$WORK/$1.paths" code t first_s warm_s nf_s
  start_wrangler "$kind"
  : > "$WORK/probe.times"; : > "$WORK/nf.times"
  [ "$mode" = read ] && probe "$PROBES"
  read -r code t < <(page "$(head -1 "$paths")" "$WORK/first.html")
  [ "$code" = 200 ] || { tail -30 "$WORK/wrangler-$kind.log" >&2; echo "bench-cold-start: $kind: first page answered $code" >&2; exit 1; }
  [ "$(pdp_filled "$WORK/first.html")" -ge 1 ] || { tail -30 "$WORK/wrangler-$kind.log" >&2; echo "bench-cold-start: $kind: the first page was not personalized (no bundle?)" >&2; exit 1; }
  first_s=$t
  : > "$WORK/warm.times"
  while read -r p; do
    read -r code t < <(page "$p" "$WORK/warm.html")
    [ "$code" = 200 ] && [ "$(pdp_filled "$WORK/warm.html")" -ge 1 ] || { echo "bench-cold-start: $kind: $p answered $code, or unpersonalized" >&2; exit 1; }
    echo "$t" >> "$WORK/warm.times"
  done < <(tail -n +2 "$paths")
  warm_s=$(median < "$WORK/warm.times")
  rss=$(rss_mib)
  [ "$mode" = page ] && probe "$PROBES"
  if grep -qv '^404 ' "$WORK/probe.times"; then
    echo "bench-cold-start: $kind: the KV probe did not answer 404: $(sort -u "$WORK/probe.times" | head -3)" >&2
    exit 1
  fi
  grep -q 'serving bundle' "$WORK/wrangler-$kind.log" || { echo "bench-cold-start: $kind: no 'serving bundle' line in the worker's log" >&2; exit 1; }
  stop_wrangler
  nf_s=$(cut -d' ' -f2 "$WORK/nf.times" | median)
  first=$(ms "$first_s"); warm=$(ms "$warm_s"); nf=$(ms "$nf_s")
  cold=$(awk -v f="$first_s" -v w="$warm_s" 'BEGIN { printf "%.1f", (f - w) * 1000 }')
  kv_first=$(awk -v p="$(head -1 "$WORK/probe.times" | cut -d' ' -f2)" -v n="$nf_s" 'BEGIN { printf "%.1f", (p - n) * 1000 }')
  kv=$(awk -v p="$(tail -n +2 "$WORK/probe.times" | cut -d' ' -f2 | median)" -v n="$nf_s" 'BEGIN { printf "%.1f", (p - n) * 1000 }')
}

machine
echo "large: $large ($(stat -c%s "$large") bytes); demo: $(stat -c%s "$demo") bytes; $RESTARTS restarts per bundle and order, $WARM warm pages, $PROBES KV probes"
for kind in large demo; do
  run_one "$kind" page
  echo "check run ($kind, not counted): first $first ms, warm median $warm ms, KV read $kv ms, started in ${startup_s}s; $(grep -m1 'serving bundle' "$WORK/wrangler-$kind.log" | sed 's/^.*vitrine: //')"
done
row() { printf '%-8s %-6s %-6s %9s %9s %9s %12s %9s %8s %8s %8s\n' "$@"; }
row restart order bundle first_ms warm_ms cold_ms kv_first_ms kv_ms 404_ms rss_MiB start_s
: > "$WORK/rows"
for r in $(seq "$RESTARTS"); do
  for mode in page read; do
    for kind in large demo; do
      run_one "$kind" "$mode"
      row "$r" "$mode" "$kind" "$first" "$warm" "$cold" "$kv_first" "$kv" "$nf" "$rss" "$startup_s"
      echo "$mode $kind $first $warm $cold $kv_first $kv $nf $rss" >> "$WORK/rows"
    done
  done
done

# The profiled restarts (not timed from outside).
cat > "$WORK/profile.mjs" <<'JS'
// CPU profile of one request, through wrangler's inspector; prints the busy time by category (ms).
import { execFileSync } from "node:child_process";
const [wsUrl, url, ua, cookie] = process.argv.slice(2);
const ws = new WebSocket(wsUrl, { headers: { Origin: "https://devtools.devprod.cloudflare.dev" } });
let id = 0;
const pending = new Map();
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && pending.has(msg.id)) pending.get(msg.id)(msg), pending.delete(msg.id);
};
ws.onerror = () => { console.error(`profile: cannot connect to ${wsUrl}`); process.exit(1); };
const send = (method, params = {}) => new Promise((res) => { pending.set(++id, res); ws.send(JSON.stringify({ id, method, params })); });
await new Promise((r) => (ws.onopen = r));
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 50 });
await send("Profiler.start");
const status = execFileSync("curl", ["-sS", "-m", "120", "-o", "/dev/null", "-w", "%{http_code}", "-A", ua, "-H", `Cookie: ${cookie}`, url]).toString();
const p = (await send("Profiler.stop")).result.profile;
ws.close();
if (status !== "200") { console.error(`profile: ${url} answered ${status}`); process.exit(1); }
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
const cats = ["kv_copy", "kv_join", "kv_other", "checksum", "open_other", "log", "cb_unref", "other", "gc", "idle"];
const t = Object.fromEntries(cats.map((c) => [c, 0]));
for (let i = 0; i < p.samples.length; i++) {
  const names = [];
  for (let n = p.samples[i]; n !== undefined; n = parent.get(n)) names.push(byId.get(n).callFrame.functionName);
  const has = (s) => names.some((n) => n.includes(s));
  const cat = has("read_bundle") ? (has("Uint8Array::to_vec") ? "kv_copy" : has("spec_extend") ? "kv_join" : "kv_other")
    : has("vitrine_edge_worker::bundle::load") ? (has("console") ? "log" : has("bundle::checksum") ? "checksum" : "open_other")
    : names[0].includes("_wbg_cb_unref") ? "cb_unref"
    : names[0] === "(garbage collector)" ? "gc" : names[0] === "(idle)" ? "idle" : "other";
  t[cat] += (p.timeDeltas[i] || 0) / 1000;
}
console.log(cats.map((c) => t[c].toFixed(1)).join(" "));
process.exit(0); // the inspector's socket would keep Node alive
JS
if [ "$PROFILES" -gt 0 ]; then
  echo
  echo "CPU profile of the first page (ms of samples; KV read = copy into wasm + join + rest of read_bundle; open = checksum + rest of Engine::load_shared):"
  prow() { printf '%-8s %-6s %8s %8s %8s %9s %9s %8s %6s %5s %9s %6s %6s\n' "$@"; }
  prow restart bundle kv_copy kv_join kv_other checksum open_rest KV_read open log cb_unref gc other
  : > "$WORK/profiles"
  for r in $(seq "$PROFILES"); do
    for kind in large demo; do
      start_wrangler "$kind"
      line=$(node "$WORK/profile.mjs" "ws://127.0.0.1:$INSPECT_PORT/ws" "$URL$(head -1 "$WORK/$kind.paths")" "$UA" "$COOKIE") \
        || { tail -20 "$WORK/wrangler-$kind.log" >&2; exit 1; }
      stop_wrangler
      read -r c j o k x l u h g _ <<<"$line"
      prow "$r" "$kind" "$c" "$j" "$o" "$k" "$x" "$(awk -v a="$c" -v b="$j" -v d="$o" 'BEGIN { printf "%.1f", a + b + d }')" \
        "$(awk -v a="$k" -v b="$x" 'BEGIN { printf "%.1f", a + b }')" "$l" "$u" "$g" "$h"
      echo "$kind $line" >> "$WORK/profiles"
    done
  done
  python3 - "$WORK/profiles" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
for k in ("large", "demo"):
    rs = [list(map(float, r[1:])) for r in rows if r[0] == k]
    m = lambda f: st.median(f(r) for r in rs)
    print(f"{k:<6} median: KV read {m(lambda r: r[0] + r[1] + r[2]):.1f} ms (copy into wasm {m(lambda r: r[0]):.1f}, join {m(lambda r: r[1]):.1f}), "
          f"open {m(lambda r: r[3] + r[4]):.1f} ms (checksum {m(lambda r: r[3]):.1f}), log line {m(lambda r: r[5]):.1f}, "
          f"closure bookkeeping {m(lambda r: r[6]):.1f}, garbage collector {m(lambda r: r[8]):.1f}, the rest {m(lambda r: r[7]):.1f} ms")
PY
fi

echo
python3 - "$WORK/rows" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
F = dict(first=0, warm=1, cold=2, kv_first=3, kv=4, nf=5, rss=6)
by = {(m, k): [list(map(float, r[2:])) for r in rows if r[0] == m and r[1] == k] for m in ("page", "read") for k in ("large", "demo")}
col = lambda m, k, f: [r[F[f]] for r in by[(m, k)]]
med = lambda m, k, f: st.median(col(m, k, f))
def pairs(m, f):
    return [a - b for a, b in zip(col(m, "large", f), col(m, "demo", f))]
print("Order 'page' (first request after the isolate is up is the page): cold = first page - warm median")
print(f'{"":<14} {"cold median":>12} {"cold max":>10} {"warm median":>12} {"KV read, warm isolate":>22} {"workerd RSS":>12}')
for k in ("large", "demo"):
    print(f'{k:<14} {med("page", k, "cold"):>9.1f} ms {max(col("page", k, "cold")):>7.1f} ms {med("page", k, "warm"):>9.1f} ms'
          f' {med("page", k, "kv"):>19.1f} ms {med("page", k, "rss"):>8.0f} MiB')
d = pairs("page", "cold")
print(f'{"large - demo":<14} {st.median(d):>9.1f} ms {max(d):>7.1f} ms   (median and max of the {len(d)} restart pairs)')
kvd = st.median(pairs("page", "kv"))
print(f'  of which one warm KV read of the large bundle (probe, large - demo): {kvd:.1f} ms; the rest: {st.median(d) - kvd:.1f} ms')
print()
print("Order 'read' (the KV probes first, then the first page): the bundle's first read, then its opening")
print(f'{"":<14} {"1st KV read":>12} {"later reads":>12} {"first page - warm":>18}')
for k in ("large", "demo"):
    print(f'{k:<14} {med("read", k, "kv_first"):>9.1f} ms {med("read", k, "kv"):>9.1f} ms {med("read", k, "cold"):>15.1f} ms')
kf, kl, c = st.median(pairs("read", "kv_first")), st.median(pairs("read", "kv")), st.median(pairs("read", "cold"))
print(f'{"large - demo":<14} {kf:>9.1f} ms {kl:>9.1f} ms {c:>15.1f} ms')
print(f'  the first page after the bundle was read once (large - demo), minus its own (warm) read: {c - kl:.1f} ms'
      ' = opening the bundle + what else its size costs the first page')
PY
machine
