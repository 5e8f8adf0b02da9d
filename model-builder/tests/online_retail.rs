//! Builds from the real UCI Online Retail file (data/online-retail/, gzip'd) and checks the
//! figures its README gives, the cleaning counts, that the public bundle holds no customer id,
//! and that the demo's sample is drawn from it.
//!
//! The README's figures are facts about the raw file, so they are checked against the
//! summary's "as read" counts (before cleaning):
//! - 25,900 invoices: distinct InvoiceNo values, cancellations (C…) included;
//! - 4,070 stock codes: distinct StockCode values exactly as written (case-sensitive: `85123a`
//!   and `85123A` are two codes here, though the example config merges them into one product);
//! - 4,372 customers: distinct non-blank CustomerID values, including customers who only
//!   cancelled or returned;
//! - 38 countries; sum(Quantity × UnitPrice) = 9,747,747.93.
//!
//! The cleaned dataset has fewer (customers with a kept sale, products with a kept sale).

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use serde_json::Value;
use vitrine_engine::bundle;
use vitrine_model_builder::ingest;

struct Built {
    _dir: Fixture,
    bundle: PathBuf,
    profiles: PathBuf,
    summary: Value,
    text: String,
}

/// One build for all the tests in this file (it reads 47 MB, from 7.6 MB gzip'd).
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = Fixture::new();
        let bundle = dir.path("online-retail.bin");
        let profiles = dir.path("profiles.jsonl");
        let r = run(&[&"build", &"--config", &UCI_CONFIG, &"--orders", &UCI_ORDERS, &"--out", &bundle, &"--profiles", &profiles, &"--json"]);
        r.ok();
        let summary = serde_json::from_str(&r.stdout).expect("JSON summary");
        let text_bundle = dir.path("text.bin");
        let text = run(&[&"build", &"--config", &UCI_CONFIG, &"--orders", &UCI_ORDERS, &"--out", &text_bundle]);
        text.ok();
        Built { bundle, profiles, summary, text: text.stdout, _dir: dir }
    })
}

/// The export's rows as the csv crate reads them (decompressed as the builder does).
fn uci_reader() -> csv::Reader<Box<dyn std::io::Read>> {
    csv::Reader::from_reader(ingest::open(Path::new(UCI_ORDERS)).unwrap())
}

#[test]
fn readme_figures_match_the_summary_as_read() {
    let b = built();
    let i = &b.summary["ingest"];
    assert_eq!(i["rows"], 541_909);
    assert_eq!(i["as_read"]["invoices"], 25_900);
    assert_eq!(i["as_read"]["skus"], 4_070);
    assert_eq!(i["as_read"]["customers"], 4_372);
    assert_eq!(i["as_read"]["countries"], 38);
    let value = i["as_read"]["value"].as_f64().unwrap();
    assert!((value - 9_747_747.93).abs() < 0.005, "sum of quantity × price {value}");
    assert_eq!(i["bad_rows"], 0);

    // The text summary says the same, as a person reads it.
    assert!(b.text.contains("as read        25,900 invoices, 4,070 stock codes, 4,372 customers, 38 countries"), "{}", b.text);
}

#[test]
fn cleaning_counts_match_the_readme_dirt() {
    let b = built();
    let i = &b.summary["ingest"];
    let d = &i["dropped"];
    let n = |v: &Value| v.as_u64().unwrap();
    // README: 9,288 lines of cancelled invoices; 10,624 lines with Quantity < 0, so the other
    // 1,336 negative lines are returns and adjustments outside cancellation invoices.
    assert_eq!(n(&d["cancelled"]), 9_288);
    assert_eq!(n(&d["non_positive_quantity"]), 10_624 - 9_288);
    assert!(n(&d["non_product"]) > 2_000, "postage, fees, manual lines: {d}");
    // Zero-price lines (2,515 in all) that are not already dropped for another reason.
    assert!(n(&d["non_positive_price"]) > 1_000 && n(&d["non_positive_price"]) < 2_515, "{d}");
    assert!(n(&d["reversed_by_cancellation"]) > 0);
    // Every row is accounted for exactly once.
    let total = n(&i["bad_rows"])
        + n(&i["kept_lines"])
        + ["cancelled", "non_product", "non_positive_quantity", "non_positive_price", "not_in_catalog", "reversed_by_cancellation"]
            .iter()
            .map(|k| n(&d[*k]))
            .sum::<u64>();
    assert_eq!(total, 541_909);
    // Guest lines (no CustomerID: 135,080 in the raw file) are kept for baskets, minus the dirt.
    assert!(n(&i["guest_lines"]) > 125_000 && n(&i["guest_lines"]) < 135_080);

    let ds = &b.summary["dataset"];
    assert!(n(&ds["customers"]) > 4_300 && n(&ds["customers"]) <= 4_372, "customers with a kept sale: {ds}");
    assert!(n(&ds["products"]) > 3_600 && n(&ds["products"]) < 4_070, "{ds}");
    assert_eq!(ds["first_day"], "2010-12-01");
    assert_eq!(ds["last_day"], "2011-12-09");
    // Segment sizes add up to the customers.
    let seg_total: u64 = b.summary["segments"].as_array().unwrap().iter().map(|s| n(&s["customers"])).sum();
    assert_eq!(seg_total, n(&ds["customers"]));
}

/// Every customer id of the input.
fn input_customer_ids() -> HashSet<String> {
    let mut reader = uci_reader();
    let col = reader.headers().unwrap().iter().position(|h| h == "CustomerID").unwrap();
    reader.records().map(|r| r.unwrap()[col].trim().to_string()).filter(|c| !c.is_empty()).collect()
}

#[test]
fn the_public_bundle_contains_no_customer_id() {
    let b = built();
    let ids = input_customer_ids();
    assert_eq!(ids.len(), 4_372);
    let bytes = std::fs::read(&b.bundle).unwrap();
    let decoded = bundle::decode(&bytes).unwrap();

    // UCI customer ids are 5-digit numbers, and so are many stock codes ("16216") and the
    // numbers in some titles ("SET 10 CARDS XMAS CHOIR 17068"), so the raw bytes do contain
    // some of these digit strings — as product codes. The check is therefore in two parts:
    // 1. product text comes only from product columns of the input (StockCode, Description);
    let mut reader = uci_reader();
    let (mut codes, mut titles) = (HashSet::new(), HashSet::new());
    for r in reader.records() {
        let r = r.unwrap();
        codes.insert(r[1].trim().to_ascii_uppercase());
        titles.insert(r[2].trim().to_string());
    }
    for p in decoded.body.catalog.iter() {
        assert!(codes.contains(p.sku()), "sku {:?} is not a stock code of the input", p.sku());
        assert!(titles.contains(p.title()), "title {:?} is not a description of the input", p.title());
        assert_eq!(p.url(), format!("/products/{}", p.sku()));
    }
    // 2. with the product text blanked, no customer id is anywhere in the encoded bundle: not
    // in the stats, the tables, the list keys, the rules, nor any other string.
    let mut body = decoded.body.clone();
    let mut products: Vec<bundle::Product> = body.catalog.iter().map(|p| p.to_product()).collect();
    for p in &mut products {
        p.sku.clear();
        p.title.clear();
        p.url.clear();
        p.image.clear();
    }
    body.catalog = bundle::Catalog::with_slugs(&products, body.catalog.categories.clone(), body.catalog.category_slugs.clone());
    let rest = bundle::encode(&decoded.header, &body);
    let leaked = ids_in(&rest, &ids);
    assert!(leaked.is_empty(), "customer ids in the bundle outside product text: {leaked:?}");
    // And the bundle's own words: no string of the decoded bundle is a customer id.
    let json =
        serde_json::to_string(&(&body.stats, &body.rules, &body.recs.popular_by_country, &body.recs.popular_by_segment, &body.catalog.categories)).unwrap();
    assert!(ids.iter().all(|id| !json.contains(&format!("\"{id}\""))));

    // The private profiles, by contrast, are keyed by customer id.
    let profiles = std::fs::read_to_string(&b.profiles).unwrap();
    let first: Value = serde_json::from_str(profiles.lines().next().unwrap()).unwrap();
    assert!(ids.contains(first["customer_id"].as_str().unwrap()));
    assert_eq!(profiles.lines().count() as u64, b.summary["dataset"]["customers"].as_u64().unwrap());
}

/// The ids that occur anywhere in `haystack` (one pass per id length, a set lookup per window).
fn ids_in<'a>(haystack: &[u8], ids: &'a HashSet<String>) -> Vec<&'a str> {
    let lengths: HashSet<usize> = ids.iter().map(String::len).collect();
    let mut found = Vec::new();
    for len in lengths {
        for w in haystack.windows(len) {
            if let Some(id) = std::str::from_utf8(w).ok().and_then(|w| ids.get(w)) {
                found.push(id.as_str());
            }
        }
    }
    found
}

#[test]
fn profiles_have_the_documented_shape() {
    let b = built();
    let profiles = std::fs::read_to_string(&b.profiles).unwrap();
    let p12347: Value = profiles.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|p| p["customer_id"] == "12347").unwrap();
    // 12347: 7 orders from 2010-12-07 to 2011-12-07, all in the data.
    assert_eq!(p12347["frequency"], 7);
    assert_eq!(p12347["first_order"], "2010-12-07");
    assert_eq!(p12347["last_order"], "2011-12-07");
    assert_eq!(p12347["recency_days"], 3);
    assert_eq!(p12347["segment"], "Champions");
    for key in ["monetary", "r", "f", "m", "typical_gap_days", "top_categories"] {
        assert!(!p12347[key].is_null(), "{key} missing: {p12347}");
    }
}

#[test]
fn recommend_gives_companions_for_the_white_hanging_heart() {
    let b = built();
    let r = run(&[&"recommend", &b.bundle, &"--product", &"85123A", &"--k", &"5"]);
    r.ok();
    assert!(r.stdout.starts_with("85123A  WHITE HANGING HEART T-LIGHT HOLDER"), "{}", r.stdout);
    assert!(r.stdout.contains("Bought together (table bought_together):\n   1. "), "{}", r.stdout);
    let r = run(&[&"recommend", &b.bundle, &"--segment", &"Champions", &"--k", &"3"]);
    r.ok();
    assert!(r.stdout.contains("Popular with Champions (table popular_by_segment):\n   1. "), "{}", r.stdout);
}

/// The demo's orders are this file's sample (examples/demo/make-sample.sh's parameters), byte
/// for byte: the demo data can be regenerated from what the repository holds.
#[test]
fn the_demo_sample_is_drawn_from_this_file() {
    let f = Fixture::new();
    let out = f.path("orders.csv");
    run(&[
        &"sample",
        &"--config",
        &UCI_CONFIG,
        &"--orders",
        &UCI_ORDERS,
        &"--out",
        &out,
        &"--products",
        &"200",
        &"--customers",
        &"300",
        &"--guest-orders",
        &"60",
    ])
    .ok();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/demo/orders.csv");
    let (got, want) = (std::fs::read(&out).unwrap(), std::fs::read(demo).unwrap());
    assert!(got == want, "the sample differs from {demo} ({} vs {} bytes): run examples/demo/make-sample.sh and look at the diff", got.len(), want.len());
}
