//! `build --aggregates DIR`: a bundle compiled from aggregates (sql/SCHEMA.md) equals the one
//! compiled from the order lines they were counted from, profiles included.

mod common;

use std::path::Path;

use common::*;
use vitrine_engine::bundle;

/// The cleaned catalog in `clean --products`'s schema, from a bundle's catalog.
fn write_products(bundle_path: &Path, out: &Path) {
    let b = bundle::decode(&std::fs::read(bundle_path).unwrap()).unwrap();
    let c = &b.body.catalog;
    let mut w = csv::Writer::from_path(out).unwrap();
    w.write_record(["sku", "title", "url", "image", "price", "category", "brand", "tags", "in_stock"]).unwrap();
    for p in c.iter() {
        let category = p.category.map_or("", |k| c.categories[k as usize].as_str());
        let tags = p.tags().collect::<Vec<_>>().join("|");
        w.write_record([p.sku(), p.title(), p.url(), p.image(), &p.price.to_string(), category, p.brand(), &tags, &p.in_stock.to_string()]).unwrap();
    }
    w.flush().unwrap();
}

fn sorted_lines(path: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(path).unwrap().lines().map(String::from).collect();
    lines.sort();
    lines
}

#[test]
fn a_bundle_from_aggregates_equals_the_one_from_order_lines() {
    let f = Fixture::new();
    // The six UCI rows twice more on later days, so pairs pass min_support and customers return.
    let later: Vec<String> = [("1", "7"), ("2", "8")]
        .iter()
        .flat_map(|(decade, invoice)| {
            UCI_ROWS.iter().map(move |r| r.replace("2010-12-0", &format!("2010-12-{decade}")).replace("53636", &format!("5363{invoice}")))
        })
        .collect();
    let returning = returning_customers();
    let rows: Vec<&str> = UCI_ROWS.iter().copied().chain(later.iter().chain(&returning).map(String::as_str)).collect();
    let orders = f.write("orders.csv", csv(UCI_HEADER, &rows));
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}\n[recs]\nmin_support = 2\nmin_reorder_customers = 1\n"));
    let dir = f.path("aggregates");
    let (lines_bundle, lines_profiles) = (f.path("lines.bin"), f.path("lines.jsonl"));
    run(&[
        &"build",
        &"--config",
        &config,
        &"--orders",
        &orders,
        &"--out",
        &lines_bundle,
        &"--profiles",
        &lines_profiles,
        &"--write-aggregates",
        &dir,
        &"--quiet",
    ])
    .ok();
    write_products(&lines_bundle, &dir.join("products.csv"));

    let (agg_bundle, agg_profiles) = (f.path("agg.bin"), f.path("agg.jsonl"));
    let r = run(&[&"build", &"--config", &config, &"--aggregates", &dir, &"--out", &agg_bundle, &"--profiles", &agg_profiles]);
    r.ok();
    assert!(r.stdout.contains("Read aggregates and products from"), "{}", r.stdout);

    let from_lines = bundle::decode(&std::fs::read(&lines_bundle).unwrap()).unwrap().body;
    let from_aggregates = bundle::decode(&std::fs::read(&agg_bundle).unwrap()).unwrap().body;
    assert!(!from_lines.recs.bought_together.is_empty() && !from_lines.recs.reorder_days.is_empty(), "the fixture exercises the tables");
    assert_eq!(from_aggregates.recs, from_lines.recs);
    assert_eq!(from_aggregates.catalog, from_lines.catalog);
    // The customers aggregate carries purchase days: the same fits, predictions and days.
    let model = from_aggregates.stats.customer_model.as_ref().expect("a build scores its customers");
    assert!(model.bgnbd.is_some() && model.gamma_gamma.is_some(), "the fixture fits both models: {model:?}");
    assert_eq!(from_aggregates.stats, from_lines.stats);
    let (agg_lines, lines_lines) = (sorted_lines(&agg_profiles), sorted_lines(&lines_profiles));
    assert!(agg_lines.iter().filter(|l| l.contains("\"p_alive\"") && l.contains("\"repeat_spend\"")).count() >= 40, "{agg_lines:?}");
    assert_eq!(agg_lines, lines_lines);
}

/// Forty customers of one to five purchase days over two months (some with two orders on one
/// day), enough for both predictive models to fit.
fn returning_customers() -> Vec<String> {
    let mut rows = Vec::new();
    for c in 0..40u32 {
        for visit in 0..=(c % 5) {
            let day = 1 + c % 7 + visit * (3 + c % 11);
            let date = format!("2011-{:02}-{:02} 1{}:00:00", 1 + day / 28, 1 + day % 28, visit % 2);
            let invoice = 600_000 + c * 10 + visit;
            rows.push(format!("{invoice},85123A,WHITE HANGING HEART T-LIGHT HOLDER,{},{date},2.55,{},United Kingdom", 1 + (c + visit) % 4, 20_000 + c));
            if c % 3 == 0 {
                // A second order the same day: one purchase day, its spend counted once with it.
                rows.push(format!("{},22633,HAND WARMER UNION JACK,2,{date},1.85,{},United Kingdom", invoice + 5_000, 20_000 + c));
            }
        }
    }
    rows
}

#[test]
fn aggregates_with_orders_or_a_missing_file_is_an_error_naming_it() {
    let f = Fixture::new();
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let dir = f.path("aggregates");
    let out = f.path("b.bin");
    let r = run(&[&"build", &"--config", &config, &"--aggregates", &dir, &"--orders", &orders, &"--out", &out]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("--orders"), "{}", r.stderr);

    run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &out, &"--write-aggregates", &dir, &"--quiet"]).ok();
    write_products(&out, &dir.join("products.csv"));
    std::fs::remove_file(dir.join("pairs.csv")).unwrap();
    let r = run(&[&"build", &"--config", &config, &"--aggregates", &dir, &"--out", &out]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("no pairs.csv or pairs.csv.gz"), "{}", r.stderr);
}

#[test]
fn a_customers_file_from_before_purchase_days_builds_without_fits_and_says_why() {
    let f = Fixture::new();
    let returning = returning_customers();
    let rows: Vec<&str> = UCI_ROWS.iter().copied().chain(returning.iter().map(String::as_str)).collect();
    let orders = f.write("orders.csv", csv(UCI_HEADER, &rows));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    let dir = f.path("aggregates");
    let out = f.path("b.bin");
    run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &out, &"--write-aggregates", &dir, &"--quiet"]).ok();
    write_products(&out, &dir.join("products.csv"));
    // customers.csv as sql/customers.sql wrote it before: the first six columns.
    let customers = dir.join("customers.csv");
    let old: String = std::fs::read_to_string(&customers).unwrap().lines().map(|l| l.splitn(7, ',').take(6).collect::<Vec<_>>().join(",") + "\n").collect();
    assert!(old.starts_with("customer_id,orders,monetary,first_time,last_time,gap_days\n"), "{old}");
    std::fs::write(&customers, old).unwrap();

    let profiles = f.path("p.jsonl");
    let r = run(&[&"build", &"--config", &config, &"--aggregates", &dir, &"--out", &out, &"--profiles", &profiles]);
    r.ok();
    assert!(r.stdout.contains("BG/NBD         not fitted: the aggregates' customers.csv has no purchase_days and repeat_spend columns"), "{}", r.stdout);
    let text = std::fs::read_to_string(&profiles).unwrap();
    assert!(text.lines().count() > 40 && !text.contains("p_alive") && !text.contains("purchase_days"), "{text}");
    let model = bundle::decode(&std::fs::read(&out).unwrap()).unwrap().body.stats.customer_model.unwrap();
    assert!(model.bgnbd.is_none() && model.gamma_gamma.is_none());
}
