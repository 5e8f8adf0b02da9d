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

/// Merchandising decides the same in the browser: the demo store with a pin of a product an
/// anonymous home page's lists do not name (its row must travel in the slice, whole), an
/// exclude by category (what it removed is named in explain), a boost and a bury, on the
/// carousels every visitor of the mix meets.
#[test]
fn merchandised_slices_decide_as_the_whole_bundle() {
    let f = Fixture::new();
    let demo = std::fs::read_to_string(repo("examples/demo/vitrine.toml")).unwrap();
    let dir = repo("examples/demo");
    let config = demo
        .replace("path = \"orders.csv\"", &format!("path = {:?}", dir.join("orders.csv")))
        .replace("path = \"customers.csv\"", &format!("path = {:?}", dir.join("customers.csv")))
        + r#"
[[merchandising]]
id = "parasol-first"
action = "pin"
skus = ["15056N"]
position = 2
placements = ["home-for-you", "pdp-pair-with"]

[[merchandising]]
id = "no-decor"
action = "exclude"
category = "Home Decor"

[[merchandising]]
id = "kitchen-up"
action = "boost"
category = "Kitchen & Dining"
factor = 3.0

[[merchandising]]
id = "bags-down"
action = "bury"
category = "Bags & Travel"
factor = 0.2
"#;
    let config = f.write("vitrine.toml", config);
    let (engine, profiles, whole) = build(&f, &config);
    // The pin is shown: the parasol, in no list, second on the home page.
    let home = engine
        .decide(
            &vitrine_engine::Visitor { request: vitrine_engine::context::Request { page: engine.page("/"), ..Default::default() }, ..Default::default() },
            "home-for-you",
            slices::NOW,
        )
        .unwrap();
    assert_eq!(home.items[1].sku, "15056N", "{:?}", home.items);
    assert_eq!(home.items[1].source, "merchandising", "no list of an anonymous visitor's home page names it");
    assert!(
        home.explain.merchandising.iter().any(|m| m.rule == "no-decor") && home.explain.merchandising.iter().any(|m| m.rule == "kitchen-up"),
        "{:?}",
        home.explain
    );
    slices_decide_as_the_whole_bundle("merchandised demo store", &engine, &profiles, whole, 300);
}
