//! `[[merchandising]]` on a small store: each action, their order, `when` and `placements`,
//! the placement's filters on a pin, and what `explain.merchandising` says.

use serde_json::json;
use vitrine_engine::bundle::{self, BundleBody, Catalog, Header, Product, RecTables, Scored};
use vitrine_engine::context::{CartLine, Visitor};
use vitrine_engine::rules::Rules;
use vitrine_engine::{Engine, Explain, MerchandisingUse, Value};

const NOW: i64 = 1_700_000_000;

/// P0..P9 in SKU order. Categories: 0 Garden (P0–P4), 1 Kitchen (P5–P9). Brands: Acme on P0,
/// P2, P8; Zeta on the rest. Tag "clearance" on P3 and P7. P8 is out of stock, P9 costs 50.
fn products() -> Vec<Product> {
    (0..10)
        .map(|i| Product {
            sku: format!("P{i}"),
            title: format!("Product {i}"),
            url: format!("/p/P{i}"),
            image: String::new(),
            price: if i == 9 { 50.0 } else { 5.0 },
            category: Some(if i < 5 { 0 } else { 1 }),
            brand: if [0, 2, 8].contains(&i) { "Acme".into() } else { "Zeta".into() },
            tags: if [3, 7].contains(&i) { vec!["clearance".into()] } else { vec![] },
            in_stock: i != 8,
        })
        .collect()
}

/// Carousel `recs` (popular, 4 items) and `other` (the same), with `merchandising` rules.
/// Popular: P0 100, P1 90, … P7 30 (scaled to 1.0, 0.9, … 0.3); P8 and P9 are in no list.
fn store(merchandising: serde_json::Value) -> Engine {
    let placement = |id: &str| json!({ "id": id, "sources": [{ "recommender": "popular" }], "max_items": 4, "max_price": 20.0 });
    let rules: Rules = serde_json::from_value(json!({
        "placements": [placement("recs"), placement("other")],
        "merchandising": merchandising,
        "measurement": { "holdout": 0 },
    }))
    .unwrap();
    assert_eq!(rules.check(), vec![], "the fixture's rules are sound");
    let popular = (0..8).map(|i| Scored { item: i, score: 100.0 - 10.0 * i as f32 }).collect();
    let body = BundleBody {
        store: Default::default(),
        catalog: Catalog::new(products(), vec!["Garden".into(), "Kitchen".into()]),
        stats: Default::default(),
        recs: RecTables { popular, ..Default::default() },
        rules,
    };
    Engine::load(&bundle::encode(&Header { format_version: bundle::FORMAT_VERSION, build_id: [1; 16], created_at: 0 }, &body)).unwrap()
}

fn decide(e: &Engine, v: &Visitor, placement: &str) -> (Vec<String>, Explain) {
    let d = e.decide(v, placement, NOW).unwrap();
    (d.items.iter().map(|i| i.sku.clone()).collect(), d.explain)
}

fn skus(e: &Engine, placement: &str) -> Vec<String> {
    decide(e, &Visitor::default(), placement).0
}

fn used(rule: &str, action: &'static str, sku: &str, score: f32, position: u32) -> MerchandisingUse {
    MerchandisingUse { rule: rule.into(), action, sku: sku.into(), score, position }
}

#[test]
fn without_rules_the_ranking_is_the_recommenders() {
    assert_eq!(skus(&store(json!([])), "recs"), ["P0", "P1", "P2", "P3"]);
}

#[test]
fn exclude_removes_and_the_next_products_move_up() {
    let e = store(json!([{ "id": "no-garden-zeta", "action": "exclude", "skus": ["P1"], "tag": "clearance" }]));
    let (items, explain) = decide(&e, &Visitor::default(), "recs");
    assert_eq!(items, ["P0", "P2", "P4", "P5"], "P1 by SKU, P3 by its tag; the list is still full");
    assert_eq!(
        explain.merchandising,
        [used("no-garden-zeta", "exclude", "P1", 0.0, 0), used("no-garden-zeta", "exclude", "P3", 0.0, 0), used("no-garden-zeta", "exclude", "P7", 0.0, 0)]
    );
}

#[test]
fn boost_multiplies_the_score_and_re_sorts_with_ties_by_product() {
    let e = store(json!([{ "id": "kitchen-week", "action": "boost", "category": "Kitchen", "factor": 2.0 }]));
    let (items, explain) = decide(&e, &Visitor::default(), "recs");
    // P5 0.5 → 1.0 ties P0 (P0 first: lower index); P6 0.4 → 0.8 ties P2 and comes after it.
    assert_eq!(items, ["P0", "P5", "P1", "P2"]);
    let d = e.decide(&Visitor::default(), "recs", NOW).unwrap();
    assert_eq!(d.items[1].score, 1.0, "the boosted score is the item's score");
    assert_eq!(d.items[1].source, "popular", "still the recommender's product");
    assert_eq!(
        explain.merchandising,
        [used("kitchen-week", "boost", "P5", 1.0, 2), used("kitchen-week", "boost", "P6", 0.8, 0), used("kitchen-week", "boost", "P7", 0.6, 0)]
    );
}

#[test]
fn bury_sinks_a_brand_and_defaults_to_half() {
    let e = store(json!([{ "id": "less-acme", "action": "bury", "brand": "acme" }]));
    // P0 1.0 → 0.5, P2 0.8 → 0.4: brands match whatever their case.
    assert_eq!(skus(&e, "recs"), ["P1", "P3", "P4", "P0"]);
    let boosted = store(json!([{ "id": "more-zeta", "action": "boost", "brand": "Zeta", "skus": ["P2"] }]));
    assert_eq!(skus(&boosted, "recs"), ["P1", "P2", "P3", "P4"], "a boost doubles by default; skus and brand both select");
}

#[test]
fn pin_puts_the_product_at_its_position_and_pushes_the_rest_down() {
    let e = store(json!([{ "id": "gift-card", "action": "pin", "skus": ["P9"], "position": 2 }]));
    // P9 is over the price cap (50 > 20): the placement's filters keep it out.
    let (items, explain) = decide(&e, &Visitor::default(), "recs");
    assert_eq!(items, ["P0", "P1", "P2", "P3"]);
    assert_eq!(explain.merchandising, [used("gift-card", "pin", "P9", 0.0, 0)]);

    let e = store(json!([{ "id": "lamp", "action": "pin", "skus": ["P7"], "position": 2 }]));
    let d = e.decide(&Visitor::default(), "recs", NOW).unwrap();
    assert_eq!(d.items.iter().map(|i| i.sku.as_str()).collect::<Vec<_>>(), ["P0", "P7", "P1", "P2"]);
    assert!((d.items[1].score - 0.3).abs() < 1e-6, "it keeps its score: {:?}", d.items[1]);
    assert_eq!(d.explain.merchandising[0].position, 2);

    // A product no recommender offered: shown, from merchandising.
    let e = store(json!([{ "id": "unlisted", "action": "pin", "skus": ["P9"], "position": 1 }]));
    let e = Engine::from_bundle({
        let mut b = bundle::decode(&bundle::encode(e.header(), e.body())).unwrap();
        b.body.rules.placements[0].max_price = None;
        b
    })
    .unwrap();
    let d = e.decide(&Visitor::default(), "recs", NOW).unwrap();
    assert_eq!((d.items[0].sku.as_str(), d.items[0].source, d.items[0].score), ("P9", "merchandising", 0.0));
    assert_eq!(d.items.len(), 4, "max_items still holds");

    // Past the end of a short list: last. Further than `max_items`: cut.
    let e = store(json!([
        { "id": "few", "action": "exclude", "category": "Kitchen", "skus": ["P3", "P4"] },
        { "id": "far", "action": "pin", "skus": ["P7"], "position": 9 }
    ]));
    assert_eq!(skus(&e, "recs"), ["P0", "P1", "P2", "P7"]);
    let e = store(json!([{ "id": "too-far", "action": "pin", "skus": ["P0"], "position": 9 }]));
    let (items, explain) = decide(&e, &Visitor::default(), "recs");
    assert_eq!(items, ["P1", "P2", "P3", "P4"]);
    assert_eq!(explain.merchandising, [used("too-far", "pin", "P0", 1.0, 0)]);
}

#[test]
fn a_pin_obeys_stock_and_cart() {
    let e = store(json!([{ "id": "sold-out", "action": "pin", "skus": ["P8"], "position": 1 }]));
    assert_eq!(skus(&e, "recs"), ["P0", "P1", "P2", "P3"], "out of stock: not pinned");
    let e = store(json!([{ "id": "in-cart", "action": "pin", "skus": ["P5"], "position": 1 }]));
    let mut v = Visitor::default();
    assert_eq!(decide(&e, &v, "recs").0, ["P5", "P0", "P1", "P2"]);
    v.cart = vec![CartLine { product: 5, quantity: 1 }];
    assert_eq!(decide(&e, &v, "recs").0, ["P0", "P1", "P2", "P3"], "already in the cart: not pinned");
}

#[test]
fn rules_act_in_config_order() {
    // Two pins on one position: the rule listed first keeps it.
    let e = store(json!([
        { "id": "first", "action": "pin", "skus": ["P6"], "position": 1 },
        { "id": "second", "action": "pin", "skus": ["P7"], "position": 1 }
    ]));
    assert_eq!(skus(&e, "recs"), ["P6", "P7", "P0", "P1"]);
    // A boost after a pin re-sorts the others and leaves the pin where it is.
    let e = store(json!([
        { "id": "pin", "action": "pin", "skus": ["P7"], "position": 1 },
        { "id": "boost", "action": "boost", "skus": ["P7", "P3"], "factor": 3.0 }
    ]));
    let (items, explain) = decide(&e, &Visitor::default(), "recs");
    assert_eq!(items, ["P7", "P3", "P0", "P1"], "P3 0.7 × 3 = 2.1 leads the ranking; P7 stays pinned");
    assert_eq!(explain.merchandising[1..].iter().map(|u| (u.sku.as_str(), u.position)).collect::<Vec<_>>(), [("P3", 2), ("P7", 1)]);
    // An exclude after a pin takes the pinned product out; one before it does not stop the pin.
    let e = store(json!([
        { "id": "pin", "action": "pin", "skus": ["P7"], "position": 1 },
        { "id": "out", "action": "exclude", "tag": "clearance" }
    ]));
    assert_eq!(skus(&e, "recs"), ["P0", "P1", "P2", "P4"]);
    let e = store(json!([
        { "id": "out", "action": "exclude", "tag": "clearance" },
        { "id": "pin", "action": "pin", "skus": ["P7"], "position": 1 }
    ]));
    assert_eq!(skus(&e, "recs"), ["P7", "P0", "P1", "P2"]);
}

#[test]
fn when_and_placements_choose_the_decisions_a_rule_applies_to() {
    let e = store(json!([
        { "id": "champions", "action": "pin", "skus": ["P7"], "position": 1, "when": { "segment": "Champions" } },
        { "id": "only-other", "action": "exclude", "skus": ["P0"], "placements": ["other"] }
    ]));
    assert_eq!(skus(&e, "recs"), ["P0", "P1", "P2", "P3"]);
    assert_eq!(skus(&e, "other"), ["P1", "P2", "P3", "P4"]);
    let champion = Visitor { traits: serde_json::from_str::<Value>(r#"{"segment": "Champions"}"#).unwrap(), ..Visitor::default() };
    let (items, explain) = decide(&e, &champion, "recs");
    assert_eq!(items, ["P7", "P0", "P1", "P2"]);
    assert_eq!(explain.merchandising, [used("champions", "pin", "P7", 0.3, 1)]);
}

#[test]
fn explain_lists_merchandising_in_the_json_shape() {
    let e = store(json!([{ "id": "kitchen-week", "action": "boost", "category": "Kitchen" }]));
    let d = serde_json::to_value(e.decide(&Visitor::default(), "recs", NOW).unwrap()).unwrap();
    let mut keys: Vec<&str> = d["explain"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    let mut expected = [Explain::FIELDS.as_slice(), &Explain::SERVER_FIELDS].concat();
    expected.sort();
    assert_eq!(keys, expected);
    let first = &d["explain"]["merchandising"][0];
    let mut keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    let mut expected = MerchandisingUse::FIELDS.to_vec();
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(first["rule"], "kitchen-week");
    assert_eq!(first["action"], "boost");
    assert_eq!(first["sku"], "P5");
    assert_eq!(first["position"], 2);
    // Nothing applied: an empty list, never a missing key.
    let plain = serde_json::to_value(store(json!([])).decide(&Visitor::default(), "recs", NOW).unwrap()).unwrap();
    assert_eq!(plain["explain"]["merchandising"], json!([]));
}
