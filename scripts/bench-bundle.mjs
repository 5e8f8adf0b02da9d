// Benchmark (not a test): the engine in wasm under Node 22 opening a large bundle (run by
// scripts/bench-bundle.sh). Usage: node bench-bundle.mjs <bench_open_wasm.wasm> <bundle.bin> [views]
// Prints: Engine::load_shared (and Engine::load, the body copied) per fresh instance (a cold isolate: new module instance, bundle bytes
// already in JS memory), its first page view, memory after load, page-view median and p99.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const [wasmPath, bundlePath, viewsArg] = process.argv.slice(2);
if (!wasmPath || !bundlePath) {
  console.error("usage: node bench-bundle.mjs <bench_open_wasm.wasm> <bundle.bin> [views]");
  process.exit(2);
}
const module = new WebAssembly.Module(readFileSync(wasmPath));
const bundle = readFileSync(bundlePath);
const views = Number(viewsArg || 20000);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.round((xs.length - 1) * p)];

async function fresh(copy) {
  const { exports } = await WebAssembly.instantiate(module, {});
  const ptr = exports.alloc(bundle.length);
  new Uint8Array(exports.memory.buffer, ptr, bundle.length).set(bundle);
  const t0 = performance.now();
  const refused = exports.load(ptr, bundle.length, copy);
  const t1 = performance.now();
  if (refused) throw new Error(`${bundlePath}: the engine refused the bundle`);
  const memory = exports.memory.buffer.byteLength;
  exports.visitors(1);
  const t2 = performance.now();
  exports.page_view(0);
  const t3 = performance.now();
  return { exports, load: t1 - t0, first: t3 - t2, memory };
}

const runs = [];
for (let i = 0; i < 11; i++) runs.push(await fresh(0));
const copied = [];
for (let i = 0; i < 5; i++) copied.push(await fresh(1));
const { exports } = runs[runs.length - 1];
exports.visitors(2000);
for (let i = 0; i < 500; i++) exports.page_view(i);
const samples = [];
for (let i = 0; i < views; i++) {
  const t = performance.now();
  exports.page_view(i);
  samples.push(performance.now() - t);
}
const ms = (x) => x.toFixed(2);
const us = (x) => (x * 1000).toFixed(1);
console.log(`wasm (Node ${process.version}): ${bundlePath}, ${bundle.length} bytes`);
console.log(`  Engine::load_shared     median ${ms(pct(runs.map((r) => r.load), 0.5))} ms, min ${ms(Math.min(...runs.map((r) => r.load)))} ms (${runs.length} fresh instances; the edge's way: bytes shared, checksum verified)`);
console.log(`  Engine::load (copied)   median ${ms(pct(copied.map((r) => r.load), 0.5))} ms (${copied.length} fresh instances; the body copied first)`);
console.log(`  first page view         median ${us(pct(runs.map((r) => r.first), 0.5))} µs after a fresh load`);
console.log(`  memory after load       ${(runs[0].memory / 1048576).toFixed(1)} MiB (wasm linear memory, the bundle bytes included)`);
console.log(`  page view               median ${us(pct(samples, 0.5))} µs, p99 ${us(pct(samples, 0.99))} µs (${views} views)`);
