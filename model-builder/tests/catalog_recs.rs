//! What the builder makes of a catalog's brands and dates, and of `[[merchandising]]` SKUs:
//! `created_at` read (a bad one named by file, line and field), the `new_arrivals` and
//! `popular_by_brand` lists in the bundle, `top_brands` in the private profiles, the
//! recommenders that read them, and merchandising SKUs checked against the catalog.

mod common;

use common::*;
use vitrine_engine::bundle::RecTables;
use vitrine_engine::context::Visitor;
use vitrine_engine::{Engine, Value};

/// The fixture's three products (SKU order: 22633, 71053, 85123A) with brands and dates:
/// 71053 the newest, 85123A a fortnight older, 22633 two years old.
const CATALOG: &str = "id,title,price,brand,created_at\n\
85123A,WHITE HANGING HEART T-LIGHT HOLDER,2.55,Acme,2010-11-20\n\
71053,WHITE METAL LANTERN,3.39,Acme,2010-12-03T12:00:00Z\n\
22633,HAND WARMER UNION JACK,1.85,Zeta,2008-12-01 09:00:00\n";

fn config_text(extra: &str) -> String {
    format!(
        "{MINIMAL_CONFIG}[catalog]\npath = \"products.csv\"\n[cleaning]\nbad_rows = \"stop\"\n\n\
[[placements]]\nid = \"new-in\"\nsources = [{{ recommender = \"new_arrivals\" }}]\n\n\
[[placements]]\nid = \"your-brands\"\nsources = [{{ recommender = \"brand_affinity\" }}]\n{extra}"
    )
}

#[test]
fn a_bad_created_at_names_its_file_line_and_field() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    f.write("products.csv", "id,price,created_at\n85123A,2.95,2010-11-01\n71053,3.39,next week\n22633,1.85,\n");
    let config = f.write("vitrine.toml", config_text(""));
    let (r, _) = f.build_json(&config, &orders);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let expected =
        "products.csv:3: field created_at: \"next week\" is not a date in the format RFC 3339 (2024-05-01T09:30:00Z) or \"%Y-%m-%d\" or \"%Y-%m-%d %H:%M:%S\"";
    assert!(r.stderr.contains(expected), "{}", r.stderr);
}

#[test]
fn brands_and_dates_become_lists_profiles_and_recommendations() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    f.write("products.csv", CATALOG);
    let config = f.write("vitrine.toml", config_text(""));
    let (bundle, profiles) = (f.path("store.bin"), f.path("profiles.jsonl"));
    run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &bundle, &"--profiles", &profiles, &"--quiet"]).ok();
    let engine = Engine::load(&std::fs::read(&bundle).unwrap()).unwrap();
    let body = engine.body();
    let sku = |i: u32| body.catalog.get(i).unwrap().sku().to_string();

    // New arrivals as of the last order (2010-12-03): 71053, then 85123A; 22633 is too old.
    let new: Vec<String> = body.recs.new_arrivals.iter().map(|s| sku(s.item)).collect();
    assert_eq!(new, ["71053", "85123A"]);
    assert_eq!(body.recs.new_arrivals[0].score, 1.0, "dated after the last order: age 0");
    assert!(body.recs.new_arrivals[1].score < 1.0);

    // Popular per brand, keyed as the catalog spells it.
    assert_eq!(body.recs.popular_by_brand.iter().map(|k| k.key.as_str()).collect::<Vec<_>>(), ["Acme", "Zeta"]);
    let mut acme: Vec<String> = RecTables::keyed(&body.recs.popular_by_brand, "Acme").iter().map(|s| sku(s.item)).collect();
    acme.sort();
    assert_eq!(acme, ["71053", "85123A"]);

    // Favourite brands in the private profiles (never in the bundle).
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&profiles).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let profile = |id: &str| lines.iter().find(|l| l["customer_id"] == id).unwrap().clone();
    assert_eq!(profile("17850")["top_brands"], serde_json::json!(["Acme"]));
    assert_eq!(profile("13047")["top_brands"], serde_json::json!(["Acme", "Zeta"]), "one order each: the same day, then by name");
    let raw = std::fs::read(&bundle).unwrap();
    assert!(!raw.windows(b"top_brands".len()).any(|w| w == b"top_brands"), "a per-customer trait stays out of the public bundle");

    // The recommenders read them: a Zeta fan gets Zeta's products first, anyone new arrivals.
    let mut traits = profile("13047");
    traits["top_brands"] = serde_json::json!(["Zeta"]);
    traits.as_object_mut().unwrap().remove("customer_id");
    let fan = Visitor { traits: serde_json::from_value::<Value>(traits).unwrap(), ..Visitor::default() };
    let d = engine.decide(&fan, "your-brands", 1_300_000_000).unwrap();
    assert_eq!(d.items.first().map(|i| (i.sku.as_str(), i.source)), Some(("22633", "brand_affinity")), "{d:?}");
    let d = engine.decide(&Visitor::default(), "new-in", 1_300_000_000).unwrap();
    assert_eq!(d.items.iter().map(|i| i.sku.as_str()).collect::<Vec<_>>(), ["71053", "85123A"]);
    assert!(d.explain.sources.iter().any(|s| s.recommender == "new_arrivals" && s.candidates == 2), "{:?}", d.explain);
}

#[test]
fn a_merchandising_sku_not_in_the_catalog_is_named_at_its_line() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    f.write("products.csv", CATALOG);
    let rules = "\n[[merchandising]]\nid = \"pin-it\"\naction = \"pin\"\nskus = [\"85123a\"]\nposition = 1\n\n\
[[merchandising]]\nid = \"hide\"\naction = \"exclude\"\nskus = [\"22633\", \"GONE\"]\n";
    let config = f.write("vitrine.toml", config_text(rules));
    let (r, _) = f.build_json(&config, &orders);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = std::fs::read_to_string(&config).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let at = |needle: &str, key: &str| {
        format!("vitrine.toml:{}:{}: {key}", line_of(needle), text.lines().nth(line_of(needle) - 1).unwrap().find(needle).unwrap() + 1)
    };
    let expected = [
        format!(
            "{}: unknown SKU \"85123a\": no product of the catalog has it (the catalog has \"85123A\": SKUs match exactly)",
            at("\"85123a\"", "merchandising[0].skus[0]")
        ),
        format!("{}: unknown SKU \"GONE\"", at("\"GONE\"", "merchandising[1].skus[1]")),
    ];
    for e in expected {
        assert!(r.stderr.contains(&e), "{e}\n{}", r.stderr);
    }

    // Known SKUs: built, and the pin decides.
    let good = rules.replace("85123a", "85123A").replace(", \"GONE\"", "");
    let config = f.write("vitrine.toml", config_text(&good).replace("id = \"new-in\"", "id = \"new-in\"\nmax_items = 8"));
    let (bundle, _) = (f.path("store.bin"), ());
    run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &bundle, &"--quiet"]).ok();
    let engine = Engine::load(&std::fs::read(&bundle).unwrap()).unwrap();
    let d = engine.decide(&Visitor::default(), "new-in", 1_300_000_000).unwrap();
    assert_eq!(d.items.iter().map(|i| i.sku.as_str()).collect::<Vec<_>>(), ["85123A", "71053"]);
    assert_eq!(d.explain.merchandising.iter().map(|m| (m.rule.as_str(), m.sku.as_str(), m.position)).collect::<Vec<_>>(), [("pin-it", "85123A", 1)]);
}
