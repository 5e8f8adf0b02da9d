// Browser SDK benchmark: size of what a page downloads (loader + glue + wasm, raw and gzip),
// the time from the loader's first line to the slots being filled (the SDK's own performance
// marks, `vitrine:start` -> `vitrine:filled`), and where the page's main thread spent that
// time: the SDK's own work apart from the page's first render (Chrome traces).
//
// One build, or two measured side by side in one run: SDK_DIR_BEFORE (e.g. main's build) and
// SDK_DIR, each on its own static server with the same pages and bundle, loads interleaved
// A B B A so that the machine's load falls on both alike.
//
// A load is timed without the harness touching the page until the SDK says `ready`: an init
// script queues `vitrine.on("ready")` (the documented queue snippet), the listener logs to the
// console, and only then are the marks read. (Playwright's own waitForFunction injects a large
// script and polls every frame: that lands on the page's main thread inside the interval timed.)
//
// Env: SDK_DIR (dist/sdk), SDK_DIR_BEFORE (optional), LABEL / LABEL_BEFORE (the builds' names
// in the tables), BUNDLE (the bundle to serve), PAGES_DIR (the fixture store's pages), RUNS
// (loads per mode and build, default 15), TRACE_RUNS (traced cold loads per build, default 5;
// 0: none), OUT (a markdown file whose "## Browser SDK" section gets the figures between its
// <!-- sdk-bench --> markers, e.g. BENCHMARKS.md), BENCH_COMMAND (the command, as printed).
import assert from "node:assert/strict";
import { cpSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir, cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cleanup, launch, serveStatic, visitor } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bundle = process.env.BUNDLE;
assert.ok(bundle, "BUNDLE must name the bundle to serve");
assert.ok(process.env.PAGES_DIR, "PAGES_DIR must name the static store's pages (scripts/bench-sdk.sh writes them)");
const runs = Number(process.env.RUNS || 15);
const traceRuns = Number(process.env.TRACE_RUNS ?? 5);
const builds = [
  ...(process.env.SDK_DIR_BEFORE ? [{ name: process.env.LABEL_BEFORE || "before", dir: process.env.SDK_DIR_BEFORE }] : []),
  { name: process.env.LABEL || (process.env.SDK_DIR_BEFORE ? "after" : "this build"), dir: process.env.SDK_DIR || path.join(root, "dist/sdk") },
];

function sizes(sdkDir) {
  const files = readdirSync(sdkDir).filter((f) => /^vitrine(-[0-9a-f]+)?\.(js|wasm)$/.test(f)).sort();
  const rows = files.map((f) => {
    const bytes = readFileSync(path.join(sdkDir, f));
    // `gzip -9c FILE | wc -c`, as the size goal is stated.
    return { file: f, raw: bytes.length, gzip: execFileSync("gzip", ["-9c", path.join(sdkDir, f)]).length };
  });
  rows.push({ file: "total (JS + wasm)", raw: rows.reduce((a, r) => a + r.raw, 0), gzip: rows.reduce((a, r) => a + r.gzip, 0) });
  return rows;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (ms) => ms.toFixed(1);

/** A visitor whose pages tell the console when the SDK is ready (nothing else runs in them). */
async function quietVisitor(browser) {
  const v = await visitor(browser);
  await v.context.addInitScript(() => {
    (window.vitrine = window.vitrine || []).push(["on", "ready", () => console.debug("vitrine:ready")]);
  });
  return v;
}

/** Loads `url` and waits for the SDK's `ready`, then reads its marks. */
async function load(page, url) {
  const ready = page.waitForEvent("console", { predicate: (m) => m.text() === "vitrine:ready", timeout: 15_000 });
  await page.goto(url);
  await ready;
  const m = await page.evaluate(() => {
    const fill = performance.getEntriesByName("vitrine:fill")[0];
    const filled = performance.getEntriesByName("vitrine:filled")[0];
    return { fill: fill ? fill.duration : NaN, sinceNavigation: filled ? filled.startTime : NaN, filled: document.querySelectorAll("[data-vitrine-filled=browser]").length };
  });
  assert.ok(m.filled > 0, "slots filled");
  return m;
}

/** A B B A ...: the order of the builds in round `i`. */
const order = (i) => (i % 4 === 1 || i % 4 === 2 ? [...builds].reverse() : builds);

async function coldLoads(browser) {
  for (let i = 0; i < runs + 1; i++) {
    for (const b of order(i)) {
      const v = await quietVisitor(browser);
      const m = await load(v.page, b.url);
      await v.context.close();
      if (i > 0) b.cold.push(m); // the first round warms the servers and the browser itself
    }
  }
}

async function warmLoads(browser) {
  for (const b of builds) {
    b.ctx = await quietVisitor(browser);
    await load(b.ctx.page, b.url); // fills the HTTP cache (and V8's code cache)
  }
  for (let i = 0; i < runs; i++) {
    for (const b of order(i)) b.warm.push(await load(b.ctx.page, b.url));
  }
  for (const b of builds) await b.ctx.context.close();
}

// --- Where the main thread's time goes, from a Chrome trace of one cold load. -----------------

const RENDER = new Set(["UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize", "Commit", "ParseHTML", "ParseAuthorStyleSheet",
  "UpdateLayer", "UpdateLayerTree", "CompositeLayers", "HitTest", "ScheduleStyleRecalculation", "InvalidateLayout", "RasterTask"]);

/** The trace's slices on the renderer's main thread (the thread that marked `vitrine:start`),
 *  X events and B/E pairs alike, with their nesting. */
function mainThreadSlices(events) {
  const start = events.find((e) => e.name === "vitrine:start");
  const filled = events.find((e) => e.name === "vitrine:filled");
  assert.ok(start && filled, "the trace holds the SDK's marks");
  const mine = events.filter((e) => e.pid === start.pid && e.tid === start.tid).sort((a, b) => a.ts - b.ts);
  const slices = [];
  const open = [];
  for (const e of mine) {
    // `cpu`: the thread's own time in the slice (the trace's thread clock), when it says.
    if (e.ph === "X" && e.dur != null) slices.push({ name: e.name, ts: e.ts, end: e.ts + e.dur, cpu: e.tdur, args: e.args });
    else if (e.ph === "B") open.push({ name: e.name, ts: e.ts, tts: e.tts, args: e.args });
    else if (e.ph === "E") {
      const b = open.pop();
      if (b) slices.push({ ...b, end: e.ts, cpu: b.tts != null && e.tts != null ? e.tts - b.tts : undefined });
    }
  }
  slices.sort((a, b) => a.ts - b.ts || b.end - a.end);
  // Top-level slices, each with its descendants.
  const top = [];
  for (const s of slices) {
    const parent = top[top.length - 1];
    if (parent && s.ts < parent.end) parent.children.push(s);
    else top.push({ ...s, children: [] });
  }
  return { start: start.ts, filled: filled.ts, top };
}

/** Main-thread time (ms) from the loader script's first task to `vitrine:filled`: the SDK's own
 *  tasks (its script, its promise callbacks and wasm: compile, instantiate, start), of which V8
 *  compiling wasm functions (lazily, on first call, and the streamed module's last bytes), and
 *  the CPU time the thread had in them (wall time counts the waits for the other core too:
 *  this machine is shared); the page's own render (style, layout, paint, parsing) in tasks
 *  that run none of the SDK, and its CPU; other busy time (network callbacks, the browser's
 *  own); idle. A task cut by the window counts its CPU pro rata. */
function mainThreadSplit(events, sdkPath) {
  const { filled, top } = mainThreadSlices(events);
  const sdkUrl = (s) => { const d = s.args && s.args.data; return d && typeof d.url === "string" && d.url.includes(sdkPath); };
  const isSdk = (s) => s.name.startsWith("wasm.") || s.name.startsWith("v8.wasm") || s.name === "BlinkScheduler_PerformMicrotaskCheckpoint" || sdkUrl(s);
  const loader = top.find((t) => [t, ...t.children].some((s) => s.name === "EvaluateScript" && sdkUrl(s)));
  assert.ok(loader, "the trace holds the loader's script");
  const from = loader.ts;
  const clip = (s) => Math.max(0, Math.min(s.end, filled) - Math.max(s.ts, from)) / 1000;
  const out = { window: (filled - from) / 1000, sdk: 0, sdkCpu: 0, compile: 0, render: 0, renderCpu: 0, other: 0 };
  const cpu = (t) => (t.cpu == null ? 0 : (t.cpu / 1000) * (clip(t) / Math.max((t.end - t.ts) / 1000, 1e-9)));
  for (const t of top) {
    if (t.end <= from || t.ts >= filled) continue;
    const all = [t, ...t.children];
    if (all.some(isSdk)) {
      out.sdk += clip(t);
      out.sdkCpu += cpu(t);
      out.compile += all.filter((s) => s.name === "wasm.CompileLazy" || s.name === "wasm.OnBytesReceived" || s.name === "wasm.FinishStreaming").reduce((a, s) => a + clip(s), 0);
    } else if (all.some((s) => RENDER.has(s.name))) {
      out.render += clip(t);
      out.renderCpu += cpu(t);
    } else out.other += clip(t);
  }
  out.idle = out.window - out.sdk - out.render - out.other;
  return out;
}

async function tracedLoads(browser) {
  for (let i = 0; i < traceRuns; i++) {
    for (const b of order(i)) {
      const v = await quietVisitor(browser);
      await browser.startTracing(v.page, { categories: ["toplevel", "devtools.timeline", "v8.wasm", "blink.user_timing"] });
      const m = await load(v.page, b.url);
      const trace = JSON.parse((await browser.stopTracing()).toString());
      await v.context.close();
      b.traced.push({ ...mainThreadSplit(trace.traceEvents || trace, "/sdk/vitrine"), fill: m.fill });
    }
  }
}

async function main() {
  for (const b of builds) {
    const site = mkdtempSync(path.join(tmpdir(), "vitrine-bench-"));
    cpSync(process.env.PAGES_DIR, site, { recursive: true });
    cpSync(b.dir, path.join(site, "sdk"), { recursive: true });
    copyFileSync(bundle, path.join(site, "bundle.bin"));
    Object.assign(b, { url: `${await serveStatic(site)}/`, cold: [], warm: [], traced: [], size: sizes(b.dir) });
  }
  const browser = await launch();
  const load0 = loadavg()[0];
  await coldLoads(browser);
  await warmLoads(browser);
  await tracedLoads(browser);
  const load1 = loadavg()[0];

  const stats = (xs, key) => { const v = xs.map((x) => x[key]); return [median(v), Math.min(...v), Math.max(...v)].map(fmt); };
  const total = (b) => b.size[b.size.length - 1].gzip;
  const md = [
    `Command: \`${process.env.BENCH_COMMAND || "scripts/bench-sdk.sh"}\` (builds the SDK, serves the fixture store's static home page with python's http.server`,
    `and the demo bundle, measures in headless Chromium with playwright-core; ${runs} loads per mode and build${builds.length > 1 ? ", builds interleaved A B B A" : ""}).`,
    `Machine: ${cpus().length} cores (${cpus()[0].model.trim()}), ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, load average ${load0.toFixed(1)} → ${load1.toFixed(1)} while measuring.`,
    "",
    "What a page downloads (budget: 65,536 B gzip in all, `scripts/test-sdk.sh`):",
    "",
    "| build | file | raw bytes | gzip -9 bytes |",
    "|---|---|---:|---:|",
    ...builds.flatMap((b) => b.size.map((r) => `| ${b.name} | ${r.file} | ${r.raw} | ${r.gzip} |`)),
    "",
    `Bundle served: ${path.basename(bundle)}, ${statSync(bundle).size} bytes (fetched in parallel with the wasm).`,
    "",
    "Time from the loader's first line to the slots filled (`vitrine:start` -> `vitrine:filled`, ms; goal: cold ≤ 50, warm ≤ 35):",
    "",
    "| build | gzip B | cold median | cold min | cold max | warm median | warm min | warm max |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...builds.map((b) => `| ${b.name} | ${total(b)} | ${stats(b.cold, "fill").join(" | ")} | ${stats(b.warm, "fill").join(" | ")} |`),
    "",
    `Slots filled at (ms after navigation start, median): ${builds.map((b) => `${b.name}: cold ${fmt(median(b.cold.map((x) => x.sinceNavigation)))}, warm ${fmt(median(b.warm.map((x) => x.sinceNavigation)))}`).join("; ")}.`,
    "",
  ];
  if (traceRuns > 0) {
    md.push(
      `The page's main thread from the loader's first task to the slots filled, cold, median of ${traceRuns} traced loads per build`,
      "(Chrome trace: `toplevel`, `devtools.timeline`, `v8.wasm`; tracing slows a load, so these fills are longer than above). SDK: tasks that",
      "run the loader, its promise callbacks or wasm (of which V8 compiling wasm: functions on first call, the streamed module's",
      "last bytes); page render: style, layout, paint and HTML parsing in tasks that run none of the SDK; other: the rest (network",
      "callbacks, the browser's own); idle: nothing on the main thread (waiting for the downloads). Wall time, and the CPU time the",
      "main thread had in those tasks (the rest of their wall time it waited for a core: the machine is shared).",
      "",
      "| build | traced fill | SDK | SDK, CPU | of which wasm compile | page render | page render, CPU | other | idle |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...builds.map((b) => `| ${b.name} | ${["window", "sdk", "sdkCpu", "compile", "render", "renderCpu", "other", "idle"].map((k) => fmt(median(b.traced.map((x) => x[k])))).join(" | ")} |`),
      "",
    );
  }
  const text = md.join("\n");
  console.log(text);
  if (process.env.OUT) {
    const file = process.env.OUT;
    const old = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n\n";
    // The figures go between these markers of the "## Browser SDK" section; the hand-written
    // history around them stays.
    const begin = "<!-- sdk-bench -->\n", end = "<!-- /sdk-bench -->\n";
    const at = old.indexOf(begin), to = old.indexOf(end);
    assert.ok(at >= 0 && to > at, `${file}: the Browser SDK section has no ${begin.trim()} … ${end.trim()} markers`);
    writeFileSync(file, old.slice(0, at + begin.length) + text + old.slice(to));
    console.log(`updated ${file}`);
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(cleanup);
