//! `model-builder build --events`: measurement records with planted browsing become the
//! bundle's viewed-together and bought-after-viewing tables and count towards trending; bad
//! lines are named file:line in the summary and skipped.

mod common;

use std::io::Write;

use common::{csv, run, Fixture, UCI_HEADER, UCI_ROWS};
use vitrine_engine::Engine;

/// A `Product Viewed` record of `unit` at `ts`.
fn view(n: &mut u32, unit: &str, ts: i64, sku: &str) -> String {
    *n += 1;
    format!(r#"{{"messageId":"v{n}","event":"Product Viewed","ts":{ts},"unit":"{unit}","source":"browser","items":["{sku}"]}}"#)
}

fn order(n: &mut u32, unit: &str, ts: i64, skus: &[&str]) -> String {
    *n += 1;
    let items: Vec<String> = skus.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"{{"messageId":"o{n}","event":"Order Completed","ts":{ts},"unit":"{unit}","source":"browser","orderId":"order-{n}","items":[{}]}}"#,
        items.join(",")
    )
}

fn skus(engine: &Engine, list: impl Iterator<Item = vitrine_engine::bundle::Scored>) -> Vec<String> {
    list.map(|s| engine.body().catalog.get(s.item).unwrap().sku().to_string()).collect()
}

#[test]
fn planted_browsing_makes_the_view_tables_and_bad_lines_are_named() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", "[store]\nname = \"Test shop\"\n[recs]\nmin_support = 2\nview_weight = 1.0\n");
    // Four visitors view the lantern and the hand warmer in one session (2011: after the
    // orders), then buy the heart; two more view the lantern alone.
    let mut n = 0;
    let t0 = 1_300_000_000;
    let mut lines = Vec::new();
    for u in 0..4 {
        let unit = format!("unit{u}");
        lines.push(view(&mut n, &unit, t0 + u * 3600, "71053"));
        lines.push(view(&mut n, &unit, t0 + u * 3600 + 60, "22633"));
        lines.push(order(&mut n, &unit, t0 + u * 3600 + 600, &["85123A"]));
    }
    lines.push(view(&mut n, "unit9", t0 + 86_400, "71053"));
    let plain = f.write("b1.jsonl", lines.join("\n"));
    // A second file, gzip'd, with a broken line and a record of an unknown product.
    let gz_path = f.path("b2.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&gz_path).unwrap(), flate2::Compression::default());
    write!(gz, "{}\n{{\"messageId\": broken\n{}\n", view(&mut n, "unit8", t0, "71053"), view(&mut n, "unit8", t0 + 5, "NOT-SOLD")).unwrap();
    gz.finish().unwrap();

    let out = f.path("bundle.bin");
    let r = run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &out, &"--events", &plain, &gz_path]);
    r.ok();
    assert!(r.stdout.contains(&format!("{}:2: ", gz_path.display())), "the bad line is named file:line:\n{}", r.stdout);
    assert!(r.stdout.contains("10 product views (1 of SKUs not in the catalog), 4 orders (4 with a visitor), 6 visitors"), "{}", r.stdout);

    let engine = Engine::load(&std::fs::read(&out).unwrap()).unwrap();
    let catalog = &engine.body().catalog;
    let idx = |sku: &str| catalog.index_of(sku).unwrap();
    let recs = &engine.body().recs;
    assert_eq!(skus(&engine, recs.viewed_together.of(idx("71053"))), ["22633"]);
    assert_eq!(skus(&engine, recs.viewed_together.of(idx("22633"))), ["71053"]);
    assert!(recs.viewed_together.of(idx("85123A")).next().is_none(), "bought, never viewed with anything");
    assert_eq!(skus(&engine, recs.bought_after_viewing.of(idx("71053"))), ["85123A"]);
    assert_eq!(skus(&engine, recs.bought_after_viewing.of(idx("22633"))), ["85123A"]);
    // Six viewers of the lantern (at a purchase each, view_weight 1) outweigh the orders'
    // buyers, decayed to the events' time.
    assert_eq!(skus(&engine, recs.trending.iter().copied()).first().map(String::as_str), Some("71053"));

    // Without --events: no view tables, trending from purchases alone.
    let r = run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &out, &"--quiet"]);
    r.ok();
    let engine = Engine::load(&std::fs::read(&out).unwrap()).unwrap();
    assert!(engine.body().recs.viewed_together.of(idx("71053")).next().is_none());
    assert_eq!(skus(&engine, engine.body().recs.trending.iter().copied()).first().map(String::as_str), Some("22633"), "its latest buyers");

    let missing = f.path("no-such-dir");
    let r = run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &out, &"--events", &missing]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("no-such-dir"), "{}", r.stderr);
}
