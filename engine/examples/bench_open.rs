//! Benchmark (not a test): opening a large bundle, natively.
//!
//! ```sh
//! cargo run --release -p vitrine-engine --example bench_open -- --rules examples/demo/vitrine.toml \
//!     [--products 100000] [--out target/bench/large.bin] [--reps 11] [--views 20000]
//! ```
//! (`scripts/bench-bundle.sh` runs this, then the same engine in wasm under Node.)
//!
//! Makes a store of `--products` products deterministically (`support/large_store.rs`) with
//! the config's store and rules, encodes it, writes it to `--out` if given, then prints:
//! bundle bytes; `Engine::load_shared` (the edge: header, checksum, body read in place, rule
//! compilation) and `Engine::load` (the same, the body copied first) median and min
//! over `--reps` runs; the first page view after a fresh load (every placement + the exit offer:
//! what a cold isolate's first request decides); page-view median and p99 over `--views`.

use std::hint::black_box;
use std::time::Instant;

use vitrine_engine::bundle::{self, Header};
use vitrine_engine::rules::{Rules, Store};
use vitrine_engine::Engine;

#[path = "support/large_store.rs"]
mod large_store;

fn fail(msg: String) -> ! {
    eprintln!("bench_open: {msg}");
    std::process::exit(2)
}

/// The store and rules of a `vitrine.toml` (its input, cleaning and recs sections dropped:
/// those are the builder's).
fn read_rules(path: &str) -> (Store, Rules) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("cannot read {path}: {e}")));
    let mut table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| fail(format!("{path}: {e}")));
    for builder_only in ["orders", "catalog", "customers", "cleaning", "recs"] {
        table.remove(builder_only);
    }
    let store: Store =
        table.remove("store").unwrap_or_else(|| fail(format!("{path}: no [store]"))).try_into().unwrap_or_else(|e| fail(format!("{path}: [store]: {e}")));
    let rules: Rules = table.try_into().unwrap_or_else(|e| fail(format!("{path}: {e}")));
    (store, rules)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize] as f64
}

fn main() {
    let (mut rules_path, mut products, mut out, mut reps, mut views) = (None, 100_000usize, None, 11usize, 20_000usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| fail(format!("{a} needs a value")));
        match a.as_str() {
            "--rules" => rules_path = Some(value()),
            "--products" => products = value().replace('_', "").parse().unwrap_or_else(|_| fail("--products needs a number".into())),
            "--out" => out = Some(value()),
            "--reps" => reps = value().parse().unwrap_or_else(|_| fail("--reps needs a number".into())),
            "--views" => views = value().parse().unwrap_or_else(|_| fail("--views needs a number".into())),
            _ => fail(format!("unknown argument {a}; usage: bench_open --rules vitrine.toml [--products N] [--out FILE] [--reps N] [--views N]")),
        }
    }
    let (store, rules) = read_rules(&rules_path.unwrap_or_else(|| fail("--rules vitrine.toml is required".into())));

    let t = Instant::now();
    let body = large_store::body(products, store, rules);
    let header = Header { format_version: bundle::FORMAT_VERSION, build_id: [7; 16], created_at: body.stats.data_end };
    let bytes = bundle::encode(&header, &body);
    drop(body);
    eprintln!("made a {products}-product store in {:.1} s", t.elapsed().as_secs_f64());
    if let Some(path) = &out {
        std::fs::write(path, &bytes).unwrap_or_else(|e| fail(format!("cannot write {path}: {e}")));
    }

    // Cold: a fresh load, then its first page view (nothing warmed for this engine). The
    // edge's way (`load_shared`: the bytes handed over) and every other host's (`load`: the body
    // copied).
    let mut loads = Vec::new();
    let mut copied = Vec::new();
    let mut firsts = Vec::new();
    let now = 1_700_000_000 + 86_400;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        black_box(Engine::load(black_box(&bytes)).unwrap_or_else(|e| fail(format!("the bundle does not load: {e}"))));
        copied.push(t.elapsed().as_nanos() as u64);
        let arrived = bytes.clone();
        let t = Instant::now();
        let engine = Engine::load_shared(black_box(arrived)).unwrap_or_else(|e| fail(format!("the bundle does not load: {e}")));
        loads.push(t.elapsed().as_nanos() as u64);
        let v = &large_store::visitors(&engine, 1, now)[0];
        let t = Instant::now();
        black_box(large_store::page_view(&engine, black_box(v), now));
        firsts.push(t.elapsed().as_nanos() as u64);
    }
    loads.sort_unstable();
    copied.sort_unstable();
    firsts.sort_unstable();

    let engine = Engine::load(&bytes).expect("loads");
    let pool = large_store::visitors(&engine, 2_000, now);
    let mut shown = 0;
    for v in pool.iter().take(500) {
        shown += large_store::page_view(&engine, v, now); // warm-up
    }
    let mut samples: Vec<u64> = (0..views)
        .map(|i| {
            let v = &pool[i % pool.len()];
            let t = Instant::now();
            black_box(large_store::page_view(&engine, black_box(v), now));
            t.elapsed().as_nanos() as u64
        })
        .collect();
    samples.sort_unstable();
    println!("native, format v{}: {products} products, {} placements", bundle::FORMAT_VERSION, engine.body().rules.placements.len());
    println!("  bundle bytes            {}", bytes.len());
    println!(
        "  Engine::load_shared  median {:.2} ms, min {:.2} ms ({} runs; the edge: bytes shared)",
        percentile(&loads, 0.5) / 1e6,
        loads[0] as f64 / 1e6,
        loads.len()
    );
    println!("  Engine::load            median {:.2} ms, min {:.2} ms (body copied)", percentile(&copied, 0.5) / 1e6, copied[0] as f64 / 1e6);
    println!("  first page view         median {:.1} µs after a fresh load", percentile(&firsts, 0.5) / 1e3);
    println!(
        "  page view               median {:.1} µs, p99 {:.1} µs ({} views, {:.1} items shown per view)",
        percentile(&samples, 0.5) / 1e3,
        percentile(&samples, 0.99) / 1e3,
        samples.len(),
        shown as f64 / 500.0
    );
}
