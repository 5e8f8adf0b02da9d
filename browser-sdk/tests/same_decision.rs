//! The native engine's decisions for the fixture cases, recorded in `expected/decisions.json`;
//! the wasm tests (Node and headless Chromium) must reproduce them exactly.
//! `VITRINE_UPDATE_EXPECTED=1 cargo test -p vitrine-browser-sdk` rewrites the file after a
//! deliberate engine change.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;

use vitrine_engine::Engine;

fn case<'a>(all: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    all.as_array().unwrap().iter().find(|c| c["case"] == name).unwrap_or_else(|| panic!("case {name}"))
}

fn decision<'a>(case: &'a serde_json::Value, placement: &str) -> &'a serde_json::Value {
    case["decisions"].as_array().unwrap().iter().find(|d| d["placement"] == placement).unwrap()
}

#[test]
fn native_decisions_are_recorded_for_the_wasm_tests() {
    let engine = Engine::load(&common::bundle_bytes()).expect("fixture bundle loads");
    let got = common::decide_all(&engine);
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(common::EXPECTED_PATH);
    if std::env::var_os("VITRINE_UPDATE_EXPECTED").is_some() || !path.exists() {
        std::fs::write(&path, &text).expect("write expected decisions");
        eprintln!("wrote {}", path.display());
    }
    let recorded = std::fs::read_to_string(&path).expect("read expected decisions");
    assert!(recorded == text, "{} is stale: the engine now decides differently; rerun with VITRINE_UPDATE_EXPECTED=1 if that is intended", path.display());
}

#[test]
fn the_fixture_cases_decide_what_a_merchandiser_would_expect() {
    let engine = Engine::load(&common::bundle_bytes()).unwrap();
    let all = common::decide_all(&engine);

    let fresh = case(&all, "new visitor on home");
    assert_eq!(decision(fresh, "hero")["variant"], "default");
    assert_eq!(decision(fresh, "pdp-pair-with")["status"], "not_targeted");
    assert_eq!(fresh["exit_offer"]["scenario"], "welcome");

    let candles = case(&all, "viewed three candles, back home");
    assert_eq!(decision(candles, "hero")["variant"], "candles");
    let skus: Vec<&str> = decision(candles, "home-for-you")["skus"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(skus.len() >= 3 && skus[..3].iter().all(|s| s.starts_with('C')), "Just for You leads with candles: {skus:?}");

    let cart = case(&all, "returning customer, small cart");
    assert_eq!(cart["exit_offer"]["scenario"], "free_shipping");
    assert!(cart["exit_offer"]["html"].as_str().unwrap().contains("£23.00"), "40 - (8.50 + 2 × 4.25) missing");
    let addons = decision(cart, "cart-dont-forget");
    assert!(addons["skus"].as_array().unwrap().iter().all(|s| s != "C2" && s != "K3"), "never what is in the cart");

    assert_eq!(case(&all, "high-value cart")["exit_offer"]["scenario"], "priority_support");
    assert_eq!(case(&all, "loyal customer")["exit_offer"]["scenario"], "early_access");
    assert!(case(&all, "just bought")["exit_offer"].is_null(), "no offer right after a purchase");
}
