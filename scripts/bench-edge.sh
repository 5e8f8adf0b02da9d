#!/usr/bin/env bash
# Edge worker benchmark: the same demo page, personalized (recorded, or not recorded for a
# crawler's User-Agent: edge/src/measure.rs records_page) against the controls: the origin's page
# fetched by plain JavaScript in the same isolate and streamed through a no-op HTMLRewriter or
# returned untouched, or replaying the personalized page's bytes from JS (a wrapper around the worker's entry, written below), and through our worker
# with no decision (dev-mode header X-Vitrine-Bypass: rewriter, or 1 for untouched). Measured in
# wrk runs against ONE local `wrangler dev`: one keep-alive connection whose requests rotate
# between the seven in a random order per cycle, each timed on its own after a pause of GAP_MS (so
# machine load hits all alike, and no request is timed with the previous one's leftovers); RUNS
# runs, each difference reported per run. Also the worker's wasm size, raw and gzip. Writes the
# "## Edge worker" section of BENCHMARKS.md (set NO_WRITE=1 to only print it).
#
#   bash scripts/bench-edge.sh            DURATION=60 (seconds; ~290 requests a variant, and a
#                                         run's median still moves by ~0.1 ms) RUNS=3 GAP_MS=5
#                                         PAGE=/ PORT=8897
#                                         BENCH_ORDER=not_recorded,personalized,… (the variants)
#                                         WORKER_BUILD=dir: bench another worker-build output
#                                         ORIGIN_DELAY_MS=20 (the default): the origin answers
#                                         that late, as a store's origin away from the edge does
#                                         (0: at once, which no real origin does, so that nothing
#                                         can be done while it answers)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
ORIGIN_DELAY_MS=${ORIGIN_DELAY_MS:-20}
PAGE=${PAGE:-/}
PORT=${PORT:-8897}
ORIGIN_PORT=$((PORT + 1))
bash scripts/setup.sh >/dev/null
source scripts/env.sh
command -v wrk >/dev/null || { echo "bench-edge: wrk is missing: run scripts/setup.sh" >&2; exit 1; }

DEMO=dist/demo
mkdir -p "$DEMO"
cargo run --release --quiet -p vitrine-model-builder -- build --config examples/demo/vitrine.toml \
  --out "$DEMO/bundle.bin" --profiles "$DEMO/profiles.jsonl" --quiet
[ -n "${WORKER_BUILD:-}" ] || QUIET=1 bash scripts/build-worker.sh
WORKER_BUILD=${WORKER_BUILD:-edge-worker/build}
cargo build --release --quiet -p vitrine-tests --bin vitrine-edge -p vitrine-edge --bin vitrine-kv
EDGE_TOOL=target/release/vitrine-edge
KV_TOOL=target/release/vitrine-kv

WORK=$(mktemp -d /tmp/vitrine-bench-XXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
"$EDGE_TOOL" store "$DEMO/bundle.bin" "$WORK/site" >/dev/null
# A private copy of the worker and a config without [build]: a rebuild by someone else during
# the run must not swap the code under measurement.
cp -r "$WORKER_BUILD" "$WORK/build"
mkdir -p dist/public
# The entry: the worker's own (our JavaScript module since #19, worker-build's before), wrapped
# in the controls: the origin's page fetched by JavaScript with none of our code and returned
# untouched (X-Vitrine-Bench: js) or through a no-op HTMLRewriter (js-rewriter). They live here,
# not in the worker, and run in the same isolate as the variants they are compared with.
ENTRY=worker.mjs
[ -f "$WORK/build/$ENTRY" ] || ENTRY=index.js
# A third control, js-replay: the same bytes out as the personalized page, none of our computing
# (so personalized − js-replay is our own cost, js-replay − js-rewriter the content's):
# the first such request asks our Rust for its plan once (Edge.hot, HotPage.answer), every one
# after replays it (header edits, cookies, slot contents by lookup) from JavaScript.
cat > "$WORK/build/bench-entry.mjs" <<JS
import Worker from "./$ENTRY";
import { Edge } from "./index.js";
export * from "./$ENTRY";
let replay;
// Read once per isolate, as the entry reads them: a control makes no call into wasm per request
// (before 2026-12-04 the JS rewriter controls called Edge.originHeaders() on each one, and the
// replay Edge.slotAttribute() and Edge.slotSelector(): a call into wasm is 0.02-0.11 ms, so
// each control carried some of our cost).
const ATTRIBUTE = Edge.slotAttribute();
const SELECTOR = Edge.slotSelector();
const ORIGIN_HEADERS = Edge.originHeaders();
// Edge.hot's URL arguments: its parts as the runtime parsed them (the whole URL: builds before
// 2026-12-04; with the hostname: builds before the entry sent the origin request, 2026-12-04).
function urlOf(request) {
  const u = new URL(request.url);
  return Edge.hot.length === 14 ? [u.pathname, u.search, u.origin] : Edge.hot.length > 12 ? [u.pathname, u.search, u.origin, u.hostname] : [request.url];
}
async function planOf(request, env) {
  const h = request.headers;
  const hot = Edge.hot(env, Date.now(), "GET", ...urlOf(request), null, ...Edge.requestHeaders().map((n) => h.get(n)));
  const u = new URL(request.url);
  const origin = await fetch(env.ORIGIN_URL + u.pathname + u.search);
  const o = origin.headers;
  const plan = JSON.parse(hot.answer(Date.now(), origin.status, ...ORIGIN_HEADERS.map((n) => o.get(n)), false));
  const entries = plan.slots ?? JSON.parse(hot.slots); // in the plan: builds before 2026-12-04
  const html = hot.html;
  let next = 0;
  plan.slots = new Map(entries.map(([placement, marks, fills]) => [placement, { marks, html: fills ? html[next++] : undefined }]));
  return plan;
}
export default class Bench extends Worker {
  async fetch(request) {
    const control = request.headers.get("x-vitrine-bench");
    if (control === null) return super.fetch(request);
    const url = new URL(request.url);
    const replaying = control.startsWith("js-replay");
    if (replaying) replay ??= await planOf(request, this.env);
    // Ablations (BENCH_ORDER=…,js_replay_hot,…): the replay plus the request's call into Rust
    // (js-replay-hot; -anon: without the profile cookie), a call that does nothing (js-replay-touch), or both calls (js-replay-answer), their
    // results thrown away; *N: N calls, so a repeated call's cost shows apart from the first's.
    const [ablation, times] = control.split("*");
    // …-touch (js-replay-touch, js-rewriter-wait-touch): one call into wasm that does nothing
    // (the cost of entering it at all; the second is the JS control as it was before 2026-12-04).
    if (ablation.endsWith("-touch")) Edge.sendAfterMs();
    const hots = [];
    if (ablation === "js-replay-hot" || ablation === "js-replay-answer" || ablation === "js-replay-hot-anon") {
      const h = request.headers;
      // A browser's page load, as the variants are (no page-load headers: builds before 2026-12-04).
      const values = [...Edge.requestHeaders(), ...(Edge.pageLoadHeaders?.() ?? [])].map((n) => h.get(n));
      if (ablation === "js-replay-hot-anon") values[0] = values[0].replace(/vt_profile=[^;]*/, "");
      for (let i = 0; i < (Number(times) || 1); i++) {
        let hot = Edge.hot(this.env, Date.now(), "GET", ...urlOf(request), null, ...values);
        // A KV read due (the bundle's check): the worker's own path does it, as for a page.
        if (hot === undefined) await (await super.fetch(request.clone())).arrayBuffer();
        hot ??= Edge.hot(this.env, Date.now(), "GET", ...urlOf(request), null, ...values);
        if (hot.origin !== undefined) JSON.parse(hot.origin); // builds that said what to fetch
        hots.push(hot);
      }
    }
    const origin = await fetch(this.env.ORIGIN_URL + url.pathname + url.search, { headers: request.headers });
    if (control === "js") return origin;
    // With work pending after the response, as a recorded page has (its exposures go 50 ms
    // later): local workerd ends such a response sooner (measured: ~1-3 ms at the median), so the
    // recorded personalized variant is compared with the controls that have it too.
    if (ablation.startsWith("js-rewriter-wait") || ablation === "js-replay-wait") this.ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 50)));
    const values = hots.length === 0 ? [] : ORIGIN_HEADERS.map((n) => origin.headers.get(n));
    for (const hot of hots) {
      // (A page load decided here, after the answer; a KV read due: nothing to parse.)
      if (ablation === "js-replay-answer" && (!hot.pageLoad || hot.early(Date.now()))) {
        const answer = hot.answer(Date.now(), origin.status, ...values, false);
        if (answer !== undefined) JSON.parse(answer), JSON.parse(hot.slots ?? "[]"), hot.html;
      }
      hot.free();
    }
    if (replaying) {
      // The header edits on the rewriter's own response (as the entry makes them since 2026-12-04).
      const out = new HTMLRewriter().on(SELECTOR, {
        element(el) {
          const slot = replay.slots.get(el.getAttribute(ATTRIBUTE).trim());
          if (slot === undefined) return;
          if (slot.html !== undefined) el.setInnerContent(slot.html, { html: true });
          for (const [name, value] of slot.marks) el.setAttribute(name, value);
        },
      }).transform(origin);
      const h = out.headers;
      for (const name of replay.remove) h.delete(name);
      for (const [name, value] of replay.set) h.set(name, value);
      for (const cookie of replay.cookies) h.append("set-cookie", cookie);
      return out;
    }
    return new HTMLRewriter().on("[data-vitrine-slot]", { element() {} }).transform(origin);
  }
}
JS
sed -e "s|^main = .*|main = \"$WORK/build/bench-entry.mjs\"|" -e '/^\[build\]/,/^$/d' \
  -e "s|^directory = \"dist/public\"|directory = \"$PWD/dist/public\"|" wrangler.toml > "$WORK/wrangler.toml"
"$KV_TOOL" bundle "$DEMO/bundle.bin" "$WORK/bundles.json" --current
"$KV_TOOL" profiles "$DEMO/profiles.jsonl" "$WORK/profiles.json" 2>/dev/null
for ns in BUNDLES:bundles PROFILES:profiles; do
  wrangler kv bulk put "$WORK/${ns#*:}.json" --binding "${ns%%:*}" --local --persist-to "$WORK/state" --config "$WORK/wrangler.toml" >/dev/null
done

ORIGIN_DELAY_MS=$ORIGIN_DELAY_MS setsid "$EDGE_TOOL" serve "$WORK/site" "$ORIGIN_PORT" >/dev/null </dev/null &
pids+=($!)
INSPECT_PORT=$((PORT + 3))
setsid wrangler dev --config "$WORK/wrangler.toml" --local --ip 127.0.0.1 --port "$PORT" --inspector-port "$INSPECT_PORT" --persist-to "$WORK/state" --show-interactive-dev-session=false \
  --var "ORIGIN_URL:http://127.0.0.1:$ORIGIN_PORT" --var DEV_MODE:1 --var DEMO_PICKER:1 --var PROFILE_SECRET:bench-secret \
  --var BUNDLE_CHECK_SECS:30 --var MEASUREMENT_KEY:bench-measurement-key >"$WORK/wrangler.log" 2>&1 </dev/null &
pids+=($!)
URL=http://127.0.0.1:$PORT
for _ in $(seq 600); do curl -fsS -m 2 -o /dev/null "$URL/v1/health" 2>/dev/null && break; sleep 0.2; done
curl -fsS -m 2 -o /dev/null "$URL/v1/health" || { cat "$WORK/wrangler.log" >&2; echo "bench-edge: wrangler dev did not start on $URL" >&2; exit 1; }
curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/" || { echo "bench-edge: the origin did not start on :$ORIGIN_PORT (port taken? set PORT)" >&2; exit 1; }

# A returning Champion: banner, greeting and a carousel are decided on every request.
COOKIE="vt_vid=bench-visitor-0001; $(curl -fsS -o /dev/null -D - "$URL/?vitrine_as=champions" | sed -n 's/^[Ss]et-[Cc]ookie: \(vt_profile=[^;]*\).*/\1/p')"
filled=$(curl -fsS -H "Cookie: $COOKIE" "$URL$PAGE" | { grep -o 'data-vitrine-filled' || true; } | wc -l)
if [ "$filled" -eq 0 ]; then
  tail -20 "$WORK/wrangler.log" >&2
  echo "bench-edge: $PAGE was not personalized (no bundle served? see the log above)" >&2
  exit 1
fi
# Recorded (a browser) and not recorded (a crawler, otherwise the same browser): the same page.
BROWSER_UA="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
BOT_UA="$BROWSER_UA (compatible; bench-bot)"
if ! cmp -s <(curl -fsS -A "$BROWSER_UA" -H "Cookie: $COOKIE" "$URL$PAGE" | grep -o 'data-vitrine-filled[^>]*' | sort) \
  <(curl -fsS -A "$BOT_UA" -H "Cookie: $COOKIE" "$URL$PAGE" | grep -o 'data-vitrine-filled[^>]*' | sort); then
  echo "bench-edge: the crawler's page is not personalized as the browser's: no like-for-like control" >&2
  exit 1
fi
same=$(cmp -s <(curl -fsS -H "Cookie: $COOKIE" -H 'X-Vitrine-Bypass: 1' "$URL$PAGE") <(curl -fsS "http://127.0.0.1:$ORIGIN_PORT$PAGE") && echo yes || echo NO)
page_bytes=$(curl -fsS "http://127.0.0.1:$ORIGIN_PORT$PAGE" | wc -c)
personalized_bytes=$(curl -fsS -H "Cookie: $COOKIE" "$URL$PAGE" | wc -c)

cat > "$WORK/latency.lua" <<'LUA'
-- One connection; requests alternate personalized / passed through, each timed on its own, so
-- both variants see the same machine load. Flat per-variant tables (wrk copies them to done()).
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } vt_timespec; int clock_gettime(int, vt_timespec *); ]]
local ts = ffi.new("vt_timespec")
local function now_us() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3 end
local kinds = {}
for k in string.gmatch(os.getenv("BENCH_KINDS"), "[^,]+") do table.insert(kinds, k) end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  reqs, sent, t0, current = {}, 0, 0, nil
  for _, k in ipairs(kinds) do
    -- A browser's page load (what the hot path decides while the origin answers).
    local headers = { ["Cookie"] = os.getenv("BENCH_COOKIE"), ["User-Agent"] = os.getenv("BENCH_UA"),
      ["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ["Sec-Fetch-Dest"] = "document" }
    if k == "not_recorded" then headers["User-Agent"] = os.getenv("BENCH_BOT_UA") end
    if k == "passed_through" then headers["X-Vitrine-Bypass"] = "1" end
    if k == "rewriter_only" then headers["X-Vitrine-Bypass"] = "rewriter" end
    if k == "js_rewriter" then headers["X-Vitrine-Bench"] = "js-rewriter" end
    if k == "js_passed_through" then headers["X-Vitrine-Bench"] = "js" end
    if k == "js_rewriter_wait" then headers["X-Vitrine-Bench"] = "js-rewriter-wait" end
    if k == "js_replay" then headers["X-Vitrine-Bench"] = "js-replay" end
    if k == "js_replay_wait" then headers["X-Vitrine-Bench"] = "js-replay-wait" end
    if k == "js_replay_hot" then headers["X-Vitrine-Bench"] = "js-replay-hot" end
    if k == "js_replay_answer" then headers["X-Vitrine-Bench"] = "js-replay-answer" end
    if k == "js_replay_hot_anon" then headers["X-Vitrine-Bench"] = "js-replay-hot-anon" end
    if k == "js_replay_touch" then headers["X-Vitrine-Bench"] = "js-replay-touch" end
    if k == "js_rewriter_wait_touch" then headers["X-Vitrine-Bench"] = "js-rewriter-wait-touch" end
    if k == "js_replay_hot_two" then headers["X-Vitrine-Bench"] = "js-replay-hot*2" end
    if k == "js_replay_hot_many" then headers["X-Vitrine-Bench"] = "js-replay-hot*50" end
    if k == "js_replay_answer_many" then headers["X-Vitrine-Bench"] = "js-replay-answer*50" end
    reqs[k] = wrk.format("GET", os.getenv("BENCH_PAGE"), headers)
    _G["lat_" .. k], _G["bad_" .. k] = {}, 0
  end
end
-- Each cycle is a fresh random order of the variants, so none always follows the same other;
-- and a pause before each request lets the last one's work after its final byte (the rewriter's
-- end, wait_until) finish: a variant's leftovers would otherwise be timed on the next request.
local order, gap = {}, tonumber(os.getenv("BENCH_GAP_MS"))
math.randomseed(1)
function delay() return gap end
function request()
  if (sent % #kinds) == 0 then
    for i, k in ipairs(kinds) do order[i] = k end
    for i = #order, 2, -1 do local j = math.random(i); order[i], order[j] = order[j], order[i] end
  end
  sent = sent + 1
  current = order[(sent - 1) % #kinds + 1]
  t0 = now_us()
  return reqs[current]
end
function response(status)
  if status == 200 then
    local l = _G["lat_" .. current]
    l[#l + 1] = now_us() - t0
  else
    _G["bad_" .. current] = _G["bad_" .. current] + 1
  end
end
function done()
  for _, k in ipairs(kinds) do
    local l = threads[1]:get("lat_" .. k)
    table.sort(l)
    local function q(p) return l[math.max(1, math.ceil(#l * p))] / 1000 end
    io.write(string.format("%s %d %.2f %.2f %.2f %d\n", k, #l, q(0.5), q(0.99), q(0.9), threads[1]:get("bad_" .. k)))
  end
end
LUA
wrk -t1 -c1 -d2s -H "Cookie: $COOKIE" "$URL$PAGE" >/dev/null   # warm-up
stored_records() { { grep -o 'measurement batch [^:]*: [0-9]* records' "$WORK/wrangler.log" || true; } | awk '{ n += $(NF-1) } END { print n + 0 }'; }
stored_before=$(stored_records)
KINDS=${BENCH_ORDER:-personalized,not_recorded,js_rewriter_wait,js_rewriter,js_replay,js_passed_through,rewriter_only}
RUNS=${RUNS:-3}
GAP_MS=${GAP_MS:-5}
runs=()
for run in $(seq "$RUNS"); do
  runs+=("$(BENCH_KINDS=$KINDS BENCH_GAP_MS=$GAP_MS BENCH_COOKIE="$COOKIE" BENCH_PAGE="$PAGE" BENCH_UA="$BROWSER_UA" BENCH_BOT_UA="$BOT_UA" \
    wrk -t1 -c1 -d"${DURATION}s" -s "$WORK/latency.lua" "$URL" | grep -E '^[a-z_]+ [0-9]')")
done
for r in "${runs[@]}"; do echo "raw run (variant requests median p99 p90 non-200):"$'\n'"$r" >&2; done
# The recorded page views' exposures, stored by the queue consumer (batches of <= 5 s).
sleep 7
stored=$(( $(stored_records) - stored_before ))
# One variant's figure in one run's output: field 3 median, 4 p99, 5 p90 (ms), 2 requests, 6 non-200.
fig() { awk -v k="$2" -v f="$3" '$1 == k { print $f }' <<<"$1"; }
diff_of() { awk -v a="$(fig "$1" "$2" "$4")" -v b="$(fig "$1" "$3" "$4")" 'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%+.2f", a - b }'; }
RESULT=${runs[$((RUNS - 1))]}
per_run=""
over_control=()
for i in "${!runs[@]}"; do
  r=${runs[$i]}
  d=$(diff_of "$r" personalized js_rewriter_wait 3)
  over_control+=("$d")
  per_run+="| $((i + 1)) | **$d ms** | $(diff_of "$r" personalized js_rewriter_wait 4) ms | **$(diff_of "$r" not_recorded js_rewriter 3) ms** | $(diff_of "$r" not_recorded js_rewriter 4) ms | $(diff_of "$r" rewriter_only js_rewriter 3) ms | $(diff_of "$r" js_rewriter js_passed_through 3) ms | $(diff_of "$r" js_rewriter js_rewriter_wait 3) ms | $(diff_of "$r" not_recorded js_replay 3) ms | $(diff_of "$r" js_replay js_rewriter 3) ms |"$'\n'
done
spread=$(printf '%s\n' "${over_control[@]}" | { grep -v n/a || true; } | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "median %+.2f ms, min %+.2f, max %+.2f over %d runs", v[int((NR + 1) / 2)], v[1], v[NR], NR; else print "n/a" }')
row() { printf '| %s | %s | %s ms | %s ms | %s ms |' "$1" "$(fig "$RESULT" "$2" 2)" "$(fig "$RESULT" "$2" 3)" "$(fig "$RESULT" "$2" 5)" "$(fig "$RESULT" "$2" 4)"; }
bad=$(awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $6, $1 }' <<<"$RESULT")
# PROFILE=variant: where that variant's time goes inside the isolate (V8's CPU profiler over
# wrangler's inspector, sampling every 100 µs while wrk sends only that variant for 10 s):
# self time by function, the top of the list, and the share that is idle. PROFILE_OUT=file.cpuprofile
# also keeps the whole profile (Chrome DevTools' Performance panel opens it).
if [ -n "${PROFILE:-}" ]; then
  cat > "$WORK/profile.mjs" <<'JS'
import { spawn } from "node:child_process";
const [wsUrl, url, script] = process.argv.slice(2);
const ws = new WebSocket(wsUrl, { headers: { Origin: "https://devtools.devprod.cloudflare.dev" } });
let id = 0;
const pending = new Map();
ws.onmessage = (m) => { const msg = JSON.parse(m.data); if (msg.id && pending.has(msg.id)) pending.get(msg.id)(msg), pending.delete(msg.id); };
const send = (method, params = {}) => new Promise((res) => { pending.set(++id, res); ws.send(JSON.stringify({ id, method, params })); });
await new Promise((r) => (ws.onopen = r));
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 100 });
await send("Profiler.start");
const wrk = spawn("wrk", ["-t1", "-c1", "-d10s", "-s", script, url], { stdio: ["ignore", "inherit", "inherit"] });
await new Promise((r) => wrk.on("exit", r));
const p = (await send("Profiler.stop")).result.profile;
if (process.env.PROFILE_OUT) (await import("node:fs")).writeFileSync(process.env.PROFILE_OUT, JSON.stringify(p));
const self = new Map();
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const n = p.nodes.find((x) => x.id === p.samples[i]);
  const name = n.callFrame.functionName || `(anonymous ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber})`;
  const dt = (p.timeDeltas[i] || 0) / 1000;
  self.set(name, (self.get(name) || 0) + dt);
  total += dt;
}
// Inclusive time of our own code's parts (a sample counts once for each part on its stack).
const parts = ["Edge::fetch", "page::handle", "visitor::identify", "bundle::serving", "context::visitor", "PageDecisions::decide", "page::personalized", "StorePage::slots", "StorePage::streamed", "measure::after_page", "wasm-to-js", "js-to-wasm", "(garbage collector)", "stream", "element"];
const inclusive = new Map(parts.map((k) => [k, 0]));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
for (let i = 0; i < p.samples.length; i++) {
  const names = new Set();
  for (let n = p.samples[i]; n !== undefined; n = parent.get(n)) names.add(byId.get(n).callFrame.functionName);
  for (const k of parts) if ([...names].some((n) => n === k || n.includes(k + "::") || n.includes(k + "{") || n.endsWith(k))) inclusive.set(k, inclusive.get(k) + (p.timeDeltas[i] || 0) / 1000);
}
// What the wasm calls out to: by the first JavaScript frame above each wasm-to-js.
const imports = new Map();
for (let i = 0; i < p.samples.length; i++) {
  let child = null;
  for (let n = p.samples[i]; n !== undefined; n = parent.get(n)) {
    const f = byId.get(n).callFrame;
    if (f.functionName === "wasm-to-js" && child) {
      const c = byId.get(child).callFrame;
      const caller = byId.get(parent.get(n))?.callFrame.functionName.replace(/::h[0-9a-f]{16}$/, "").slice(-60);
      const key = `${c.functionName || "(anonymous)"} ${c.url.split("/").pop()}:${c.lineNumber}:${c.columnNumber} from ${caller}`;
      imports.set(key, (imports.get(key) || 0) + (p.timeDeltas[i] || 0) / 1000);
      break;
    }
    child = n;
  }
}
console.log("profile: called from wasm (ms): " + [...imports].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => `${k} ${v.toFixed(0)}`).join("; "));
console.log("profile: inclusive (ms): " + [...inclusive].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", "));
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30);
console.log(`profile: ${total.toFixed(0)} ms sampled; self time (ms, share):`);
for (const [name, ms] of rows) console.log(`${ms.toFixed(1).padStart(8)} ${(100 * ms / total).toFixed(1).padStart(5)}%  ${name.slice(0, 110)}`);
process.exit(0);
JS
  BENCH_KINDS=$PROFILE BENCH_GAP_MS=$GAP_MS BENCH_COOKIE="$COOKIE" BENCH_PAGE="$PAGE" BENCH_UA="$BROWSER_UA" BENCH_BOT_UA="$BOT_UA" \
    node "$WORK/profile.mjs" "ws://127.0.0.1:$INSPECT_PORT/ws" "$URL" "$WORK/latency.lua" >&2
  # The bundle wrangler ran, for the line numbers above.
  find "$WORK" -name 'bench-entry.js' -path '*tmp*' -exec cp {} /tmp/vitrine-bench-entry.js \; 2>/dev/null || true
  echo "profile: the bundle wrangler ran: /tmp/vitrine-bench-entry.js" >&2
fi

# HOLD=seconds: keep the stack up after the runs (to try requests by hand).
[ -n "${HOLD:-}" ] && { echo "bench-edge: holding $URL (cookie: $COOKIE)" >&2; sleep "$HOLD"; }
WASM=$WORK/build/index_bg.wasm
raw=$(stat -c%s "$WASM"); gz=$(gzip -9c "$WASM" | wc -c)
cores=$(nproc); load=$(cut -d' ' -f1 /proc/loadavg)

SECTION=$(cat <<MD
## Edge worker

The demo home page (\`$PAGE\`, $page_bytes bytes; $personalized_bytes personalized, $filled slots filled for a returning Champion:
hero banner, greeting, "Picked for you" carousel) through the worker on local workerd
(\`wrangler dev --local\`), requested as a browser loads a page (\`Sec-Fetch-Dest: document\`), the local
origin answering ${ORIGIN_DELAY_MS} ms after it was asked, as a store's origin away from the edge does
(\`ORIGIN_DELAY_MS\`; at 0 nothing can be done while it answers). Seven variants of the same request in one wrk run, one connection,
rotating request by request in a random order per cycle, ${GAP_MS} ms of pause before each
request (so none is timed with the work the one before it left after its last byte), for
${DURATION} s, $RUNS runs: **personalized** (a browser's User-Agent: its exposures recorded,
sent to the queue 50 ms after the body streamed, inside \`waitUntil\`); **personalized, not
recorded** (the same page for a crawler's User-Agent: bots are personalized but record
nothing); the **controls**, answered in the same isolate by a JavaScript wrapper the bench puts
around the worker's entry, with none of our code and no wasm: the origin's page through a no-op
\`HTMLRewriter\` (**JS rewriter**), the same with a 50 ms \`waitUntil\` pending as a recorded page
has (**JS rewriter with waitUntil**: local workerd ends a response with pending work sooner, so
each personalized variant is compared with the control that matches it), the personalized page's
bytes (headers, cookies, slot contents) replayed by JavaScript from a plan our Rust made once at
the start (**JS replay**: what the content itself costs the runtime, with none of our
computing), or untouched (**JS passed through**); and **rewriter only** (dev mode's \`X-Vitrine-Bypass: rewriter\`: through our
entry and Rust with no context and no decision). Latency per request as
wrk's client sees it, so it includes the dev proxy and the local origin fetch, the same for all.

\`\`\`sh
bash scripts/bench-edge.sh          # DURATION=60 RUNS=3 GAP_MS=5 ORIGIN_DELAY_MS=20 PAGE=/ PORT=8897
\`\`\`

Goal (#19): a personalized page costs ≤ 0.25 ms more than the JS no-op-rewriter control at the
median, in the same run. Per run (measured $(date -u +%Y-%m-%d), $cores cores, load $load, the origin answering after ${ORIGIN_DELAY_MS} ms of its own):

| run | **personalized − JS rewriter with waitUntil**, median | same, p99 | **not recorded − JS rewriter**, median | same, p99 | our entry, no decision (rewriter only − JS rewriter) | the runtime's rewriter (JS rewriter − JS passed through) | a pending waitUntil (JS rewriter − JS rewriter with it) | our own cost (not recorded − JS replay) | the content's own cost (JS replay − JS rewriter) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${per_run}
Personalized (recorded) over its control: **$spread**.

The last run in full:

| variant | requests | median | p90 | p99 |
| --- | --- | --- | --- | --- |
$(row personalized personalized)
$(row "personalized, not recorded" not_recorded)
$(row "JS rewriter with a pending waitUntil (control)" js_rewriter_wait)
$(row "JS rewriter (control)" js_rewriter)
$(row "JS replay of the personalized page (control)" js_replay)
$(row "JS passed through (control)" js_passed_through)
$(row "rewriter only (Rust, no decision)" rewriter_only)

Non-200 responses: $bad. Records the queue consumer stored during the runs: $stored.

Worker wasm (\`$WORKER_BUILD/index_bg.wasm\`, worker-build --release, wasm-opt): **$raw bytes raw, $gz bytes gzip**
(Cloudflare's limits: 3 MB gzip on the free plan, 10 MB paid).
MD
)
echo "$SECTION"
if [ -z "${NO_WRITE:-}" ]; then
  touch BENCHMARKS.md
  # Replace only this section: other sections belong to other parts of the project.
  SECTION="$SECTION" python3 - <<'PY'
import os, re
path = "BENCHMARKS.md"
text = open(path).read() or "# Benchmarks\n"
section = os.environ["SECTION"].rstrip() + "\n"
pattern = re.compile(r"^## Edge worker\n.*?(?=^## |\Z)", re.S | re.M)
found = pattern.search(text)
if found:
    # Hand-written notes between these markers survive a re-run.
    notes = re.search(r"<!-- edge-notes -->.*?<!-- /edge-notes -->\n", found.group(0), re.S)
    if notes:
        section += "\n" + notes.group(0)
    text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
else:
    text = text.rstrip() + "\n\n" + section
open(path, "w").write(text)
PY
  echo "bench-edge: wrote the Edge worker section of BENCHMARKS.md" >&2
fi
