//! The browser's slice of a bundle (`Engine::slice`, served at `/v1/slice`): for generated
//! visitors, every decision from the slice equals the whole bundle's, and the slice stays
//! small whatever the catalog (gzip'd sizes printed; the 100k-product store is measured by
//! scripts/bench-scale.sh with examples/bench_slice.rs, the same check).

mod common;
#[path = "support/slices.rs"]
mod slices;

use std::path::Path;

use common::{run, Fixture};
use serde_json::Value as Json;
use slices::{check_slices, percentile, read_profiles, visitors};
use vitrine_engine::Engine;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Builds `config` into the fixture; the engine and the customers' profiles.
fn build(f: &Fixture, config: &Path) -> (Engine, Vec<Json>, u64) {
    let (bundle, profiles) = (f.path("store.bin"), f.path("profiles.jsonl"));
    let r = run(&[&"build", &"--config", &config, &"--out", &bundle, &"--profiles", &profiles, &"--quiet"]);
    assert_eq!(r.code, 0, "build {}: {}", config.display(), r.stderr);
    let engine = Engine::load(&std::fs::read(&bundle).unwrap()).unwrap();
    let profiles = read_profiles(&profiles).unwrap();
    (engine, profiles, std::fs::metadata(&bundle).unwrap().len())
}

/// Checks `n` visitors' slices; asserts the browser's budget (40 KB gzip at the 99th percentile).
fn slices_decide_as_the_whole_bundle(name: &str, engine: &Engine, profiles: &[Json], whole: u64, n: usize) {
    assert!(!profiles.is_empty(), "{name}: known customers are part of the mix");
    let sizes = check_slices(engine, &visitors(engine, profiles, n, 7));
    let p99 = percentile(&sizes, 0.99);
    println!(
        "{name} ({} products, bundle {whole} B): slice gzip p50 {} B, p99 {p99} B, max {} B",
        engine.body().catalog.len(),
        percentile(&sizes, 0.5),
        sizes[sizes.len() - 1]
    );
    assert!(p99 <= 40 * 1024, "{name}: p99 {p99} B");
}

#[test]
fn the_demo_stores_slices_decide_as_the_whole_bundle() {
    let f = Fixture::new();
    let (engine, profiles, whole) = build(&f, &repo("examples/demo/vitrine.toml"));
    slices_decide_as_the_whole_bundle("demo store", &engine, &profiles, whole, 300);
}

/// A catalog 2.5 times the UCI store's, from the scale benchmark's generator: categories of
/// thousands of products, titles sharing words, so popular and similar lists are long.
#[test]
fn a_generated_10k_product_stores_slices_decide_as_the_whole_bundle() {
    let f = Fixture::new();
    let store = f.path("store");
    let r = run(&[&"generate", &"--out", &store, &"--lines", &"150000", &"--products", &"10000", &"--seed", &"3"]);
    assert_eq!(r.code, 0, "generate: {}", r.stderr);
    let (engine, profiles, whole) = build(&f, &store.join("vitrine.toml"));
    assert_eq!(engine.body().catalog.len(), 10_000);
    slices_decide_as_the_whole_bundle("generated store", &engine, &profiles, whole, 200);
}
