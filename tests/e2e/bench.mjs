// Browser SDK benchmark: size of what a page downloads (loader + glue + wasm, raw and gzip)
// and the time from the loader's first line to the slots being filled, measured in headless
// Chromium by the SDK's own performance marks (`vitrine:start` -> `vitrine:filled`).
//
// Env: SDK_DIR (dist/sdk), BUNDLE (the bundle to serve), RUNS (per mode, default 15),
// OUT (a markdown file to write the "## Browser SDK" section into, e.g. BENCHMARKS.md).
import assert from "node:assert/strict";
import { cpSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir, cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cleanup, launch, open, serveStatic, visitor } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const sdkDir = process.env.SDK_DIR || path.join(root, "dist/sdk");
const bundle = process.env.BUNDLE;
assert.ok(bundle, "BUNDLE must name the bundle to serve");
assert.ok(process.env.PAGES_DIR, "PAGES_DIR must name the static store's pages (scripts/bench-sdk.sh writes them)");
const runs = Number(process.env.RUNS || 15);

function sizes() {
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

async function fillTimes(browser, url, cold) {
  const out = [];
  let ctx = null;
  for (let i = 0; i < runs + 1; i++) {
    if (cold || !ctx) {
      if (ctx) await ctx.context.close();
      ctx = await visitor(browser);
    }
    await open(ctx.page, url);
    const m = await ctx.page.evaluate(() => {
      const fill = performance.getEntriesByName("vitrine:fill")[0];
      const filled = performance.getEntriesByName("vitrine:filled")[0];
      return { fill: fill ? fill.duration : NaN, sinceNavigation: filled ? filled.startTime : NaN, filled: document.querySelectorAll("[data-vitrine-filled=browser]").length };
    });
    assert.ok(m.filled > 0, "slots filled");
    if (!cold && i === 0) continue; // the first warm run fills the cache
    if (cold && i === runs) break;
    out.push(m);
  }
  await ctx.context.close();
  return out;
}

async function main() {
  const site = mkdtempSync(path.join(tmpdir(), "vitrine-bench-"));
  cpSync(process.env.PAGES_DIR, site, { recursive: true });
  cpSync(sdkDir, path.join(site, "sdk"), { recursive: true });
  copyFileSync(bundle, path.join(site, "bundle.bin"));
  const base = await serveStatic(site);
  const browser = await launch();
  const url = `${base}/`;
  const cold = await fillTimes(browser, url, true);
  const warm = await fillTimes(browser, url, false);
  const size = sizes();
  const total = size[size.length - 1];
  const row = (name, xs, key) => `| ${name} | ${fmt(median(xs.map((x) => x[key])))} | ${fmt(Math.min(...xs.map((x) => x[key])))} | ${fmt(Math.max(...xs.map((x) => x[key])))} |`;
  const bundleBytes = statSync(bundle).size;
  const md = [
    "## Browser SDK",
    "",
    "Command: `scripts/bench-sdk.sh` (builds the SDK, serves the fixture store's static pages with python's http.server",
    `and the demo bundle, measures in headless Chromium with playwright-core; ${runs} runs per mode).`,
    `Machine: ${cpus().length} cores (${cpus()[0].model.trim()}), ${new Date().toISOString().slice(0, 10)}, load average ${loadavg()[0].toFixed(1)} while measuring.`,
    "",
    "What a page downloads (goal: ≤ 64 KB gzip in all):",
    "",
    "| file | raw bytes | gzip -9 bytes |",
    "|---|---:|---:|",
    ...size.map((r) => `| ${r.file} | ${r.raw} | ${r.gzip} |`),
    "",
    `Bundle served: ${path.basename(bundle)}, ${bundleBytes} bytes (fetched in parallel with the wasm).`,
    "",
    "Time from the loader's first line to the slots filled (`vitrine:start` -> `vitrine:filled`, ms; goal ≤ 50):",
    "",
    "| page load | median | min | max |",
    "|---|---:|---:|---:|",
    row("cold (new browser profile: downloads, compiles)", cold, "fill"),
    row("warm (HTTP cache)", warm, "fill"),
    "",
    `Slots filled at (ms after navigation start, median): cold ${fmt(median(cold.map((x) => x.sinceNavigation)))}, warm ${fmt(median(warm.map((x) => x.sinceNavigation)))}.`,
    "",
  ].join("\n");
  console.log(md);
  if (process.env.OUT) {
    const file = process.env.OUT;
    const text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n\n";
    const start = text.indexOf("## Browser SDK");
    let next;
    if (start >= 0) {
      const after = text.indexOf("\n## ", start + 3);
      const old = text.slice(start, after >= 0 ? after + 1 : text.length);
      // Hand-written notes between these markers survive a re-run.
      const notes = /<!-- sdk-notes -->[\s\S]*<!-- \/sdk-notes -->\n?/.exec(old);
      next = text.slice(0, start) + md + (notes ? "\n" + notes[0] : "") + (after >= 0 ? "\n" + text.slice(after + 1) : "");
    } else {
      next = text.replace(/\n*$/, "\n\n") + md;
    }
    writeFileSync(file, next);
    console.log(`updated ${file}`);
  }
  assert.ok(total.raw > 0);
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(cleanup);
