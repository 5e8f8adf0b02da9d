//! `model-builder generate`: a small store comes out byte for byte the same for a seed, builds
//! into a bundle with every table filled, and has the structure the generator promises (the
//! scale benchmark relies on it): bought-together finds the latent themes, popularity is
//! Zipf-like, categories are uneven, and guests and cancellations come in realistic shares.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;
use vitrine_model_builder::generate::{Catalog, GenerateOptions};
use vitrine_model_builder::inspect;

const LINES: &str = "20000";
const PRODUCTS: &str = "2000";
const SEED: &str = "7";

fn generate(dir: &Path, seed: &str) {
    run(&[&"generate", &"--out", &dir, &"--lines", &LINES, &"--products", &PRODUCTS, &"--seed", &seed]).ok();
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["orders.csv", "catalog.csv", "vitrine.toml"].iter().map(|f| (dir.join(f), std::fs::read(dir.join(f)).expect("generated file"))).collect()
}

/// Rows of a generated CSV (no field is quoted), header left out.
fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("generated CSV");
    text.lines().skip(1).map(|l| l.split(',').map(String::from).collect()).collect()
}

#[test]
fn a_small_store_repeats_builds_and_has_the_promised_structure() {
    let fx = Fixture::new();
    let (a, b, other) = (fx.path("a"), fx.path("b"), fx.path("other"));
    generate(&a, SEED);
    generate(&b, SEED);
    generate(&other, "8");
    let (fa, fb) = (files(&a), files(&b));
    for ((path, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{} differs between two runs with the same seed", path.display());
    }
    assert!(fa[0].1 != files(&other)[0].1, "another seed gives other orders");

    // It builds, and every table has rows.
    let bundle = fx.path("store.bin");
    let r = run(&[&"build", &"--config", &a.join("vitrine.toml"), &"--out", &bundle, &"--json"]);
    r.ok();
    let summary: Value = serde_json::from_str(&r.stdout).expect("JSON summary");
    let t = &summary["tables"];
    for table in ["bought_together", "similar", "popular_by_country", "popular_by_category", "popular_by_segment"] {
        assert!(t[table]["entries"].as_u64() > Some(0), "{table} is empty: {t}");
    }
    for table in ["trending", "popular", "reorder_days"] {
        assert!(t[table].as_u64() > Some(0), "{table} is empty: {t}");
    }
    let ingest = &summary["ingest"];
    assert_eq!(ingest["rows"], 20_000);
    assert_eq!(ingest["bad_rows"], 0);
    let share = |v: &Value| v.as_f64().unwrap() / 20_000.0;
    let cancelled = share(&ingest["dropped"]["cancelled"]);
    assert!((0.008..0.03).contains(&cancelled), "cancelled lines {cancelled}");
    assert_eq!(ingest["dropped"]["reversed_by_cancellation"], ingest["dropped"]["cancelled"], "every cancellation undoes a sale");
    let guests = share(&ingest["guest_lines"]);
    assert!((0.05..0.15).contains(&guests), "guest lines {guests}");

    // Bought-together neighbours mostly share the product's theme (chance: 1 in 80 themes).
    let catalog = Catalog::of(&GenerateOptions { out: a.clone(), lines: 20_000, products: 2_000, customers: 1_000, years: 3, seed: 7, gzip: false });
    let theme: HashMap<&str, u32> = catalog.products.iter().map(|p| (p.sku.as_str(), p.theme)).collect();
    let (decoded, _) = inspect::load(&bundle).expect("bundle loads");
    let products: Vec<_> = decoded.body.catalog.iter().collect();
    let (mut same, mut all) = (0, 0);
    for (i, p) in products.iter().enumerate() {
        for n in decoded.body.recs.bought_together.of(i as _) {
            all += 1;
            same += usize::from(theme[p.sku()] == theme[products[n.item as usize].sku()]);
        }
    }
    assert!(all > 1_000 && same * 10 > all * 6, "{same} of {all} bought-together neighbours share a theme");

    // Zipf-like popularity: the top 1% of products (20) take far more than 1% of the sales.
    let orders = rows(&a.join("orders.csv"));
    let mut per_sku: HashMap<&str, usize> = HashMap::new();
    for r in orders.iter().filter(|r| !r[0].starts_with('C')) {
        *per_sku.entry(&r[1]).or_default() += 1;
    }
    let mut counts: Vec<usize> = per_sku.into_values().collect();
    counts.sort_unstable_by(|x, y| y.cmp(x));
    let top: usize = counts.iter().take(20).sum();
    let total: usize = counts.iter().sum();
    assert!(top * 10 > total, "the top 20 products have {top} of {total} sales lines");

    // Uneven categories: the largest holds a big share of the catalog (40 even ones: 2.5%).
    let mut per_category: HashMap<String, usize> = HashMap::new();
    for r in rows(&a.join("catalog.csv")) {
        *per_category.entry(r[5].clone()).or_default() += 1;
    }
    let largest = per_category.values().max().copied().unwrap_or(0);
    assert!(largest * 100 > 2_000 * 12, "the largest category has {largest} of 2,000 products");
}

#[test]
fn bad_sizes_are_refused_with_a_message() {
    let fx = Fixture::new();
    let r = run(&[&"generate", &"--out", &fx.path("x"), &"--lines", &"0"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("--lines"), "{}", r.stderr);
}
