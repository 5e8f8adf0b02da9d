//! `model-builder patch`: a catalog patch (prices, stock) into a new bundle, no rebuild.

mod common;

use common::*;
use serde_json::Value;
use vitrine_engine::bundle::{decode, Bundle};

fn bundle(path: &std::path::Path) -> Bundle {
    decode(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_patch_changes_price_and_stock_only_and_names_bad_rows_and_unknown_skus() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    f.build_json(&config, &orders).0.ok();
    let old = f.path("bundle.bin");
    let changes = f.write(
        "changes.csv",
        "sku,price,in_stock\n\
         85123A,2.00,\n\
         71053,,no\n\
         22633,cheap,yes\n\
         NOPE,1.00,\n\
         85123A,1.00,\n\
         ,1.00,\n",
    );
    let new = f.path("patched.bin");
    let r = run(&[&"patch", &"--bundle", &old, &"--changes", &changes, &"-o", &new, &"--json"]);
    r.ok();
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["products_changed"], 2);
    let at = |line: u32| format!("{}:{line}: ", changes.display());
    let bad: Vec<&str> = s["bad_rows"].as_array().unwrap().iter().map(|b| b.as_str().unwrap()).collect();
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad[0].starts_with(&at(4)) && bad[0].contains("price \"cheap\""), "{bad:?}");
    assert!(bad[1].starts_with(&at(6)) && bad[1].contains("first at line 2"), "{bad:?}");
    assert!(bad[2].starts_with(&at(7)) && bad[2].contains("sku is empty"), "{bad:?}");
    assert_eq!(s["unknown_skus"], serde_json::json!([format!("{}NOPE", at(5))]));
    // The engine's one definition of what the catalog triggers see: 2.55 -> 2.00 is 21.57 % off.
    assert_eq!(s["catalog_changes"], serde_json::json!([{"sku": "85123A", "change": {"price_drop": {"old": 2.55, "new": 2.0, "percent": 21.57}}}]));

    let (before, after) = (bundle(&old), bundle(&new));
    assert_ne!(before.header.build_id, after.header.build_id, "a new build id");
    assert_eq!(s["new_build_id"], after.header.build_id_hex());
    for (b, a) in before.body.catalog.iter().zip(after.body.catalog.iter()) {
        let (mut b, a) = (b.to_product(), a.to_product());
        match b.sku.as_str() {
            "85123A" => b.price = 2.0,
            "71053" => b.in_stock = false,
            _ => {}
        }
        assert_eq!(a, b, "nothing else of a product changes");
    }
    assert_eq!(before.body.catalog.len(), after.body.catalog.len());
    let mut unchanged = after.body.clone();
    unchanged.catalog = before.body.catalog.clone();
    assert_eq!(unchanged, before.body, "rules, tables, stats and store as they were");
}

#[test]
fn a_changes_file_with_another_column_or_no_sku_is_refused_whole() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    f.build_json(&config, &orders).0.ok();
    let old = f.path("bundle.bin");
    let new = f.path("patched.bin");
    let changes = f.write("changes.csv", "sku,title\n85123A,Free\n");
    let r = run(&[&"patch", &"--bundle", &old, &"--changes", &changes, &"-o", &new]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains(":1: unknown column \"title\""), "{}", r.stderr);
    assert!(!new.exists(), "nothing written");
    let changes = f.write("changes.csv", "price,in_stock\n1,yes\n");
    let r = run(&[&"patch", &"--bundle", &old, &"--changes", &changes, &"-o", &new]);
    assert!(r.stderr.contains(":1: no sku column"), "{}", r.stderr);
}
