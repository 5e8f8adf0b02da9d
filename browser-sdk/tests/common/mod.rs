//! A small store bundle and visitor cases shared by the native and the wasm tests: the native
//! test writes what the engine decides for each case, the wasm tests (Node and Chromium)
//! decide the same cases through the SDK and must get exactly the same.

#![allow(dead_code)] // each test binary uses a different part

use serde_json::json;
use vitrine_browser_sdk::session::{Learn, Profile, SessionState};
use vitrine_engine::bundle::{self, BundleBody, Catalog, Header, Keyed, Neighbors, Product, RecTables, Scored, Stats};
use vitrine_engine::context::Device;
use vitrine_engine::rules::{Measurement, Offer, PageRule, Placement, Rules, Source, Store, Variant};
use vitrine_engine::Engine;
use vitrine_engine::Value;

/// The expected decisions, written by `tests/same_decision.rs` (native).
pub const EXPECTED_PATH: &str = "tests/expected/decisions.json";

fn cond(json: serde_json::Value) -> Value {
    serde_json::from_value(json).expect("a condition is JSON")
}

const CATEGORIES: [&str; 3] = ["Candles", "Kitchen", "Garden"];

/// (SKU, title, price, category) sorted by SKU, as the builder stores them.
const PRODUCTS: [(&str, &str, f32, u16); 12] = [
    ("C1", "Heart T-light holder", 2.95, 0),
    ("C2", "Glass star lantern", 8.50, 0),
    ("C3", "Scented candle jar", 12.00, 0),
    ("C4", "Candle gift set", 24.00, 0),
    ("G1", "Herb planter", 14.50, 2),
    ("G2", "Garden twine", 3.25, 2),
    ("G3", "Bird feeder", 19.99, 2),
    ("G4", "Watering can", 22.00, 2),
    ("K1", "Cake stand", 16.95, 1),
    ("K2", "Tea towels (3)", 5.95, 1),
    ("K3", "Retro lunch box", 4.25, 1),
    ("K4", "Enamel mug", 6.50, 1),
];

fn scored(items: &[(u32, f32)]) -> Vec<Scored> {
    items.iter().map(|&(item, score)| Scored { item, score }).collect()
}

fn placement(id: &str, when: serde_json::Value, title: &str, sources: &[(&str, f32)]) -> Placement {
    Placement {
        id: id.into(),
        when: cond(when),
        title: title.into(),
        sources: sources.iter().map(|&(r, w)| Source { recommender: r.into(), weight: w }).collect(),
        max_items: 4,
        max_price: None,
        variants: vec![],
        template: String::new(),
        item_template: String::new(),
        exclude_owned: false,
    }
}

fn offer(id: &str, scenario: &str, when: serde_json::Value, kind: &str, code: &str, headline: &str, body: &str) -> Offer {
    Offer {
        id: id.into(),
        scenario: scenario.into(),
        when: cond(when),
        kind: kind.into(),
        value: 10.0,
        code: code.into(),
        headline: headline.into(),
        body: body.into(),
        cta_text: "Shop now".into(),
        cta_url: "/".into(),
        capture: Default::default(),
    }
}

pub fn body() -> BundleBody {
    let products = PRODUCTS
        .iter()
        .map(|&(sku, title, price, category)| Product {
            sku: sku.into(),
            title: title.into(),
            url: format!("/products/{sku}"),
            image: format!("/img/{sku}.jpg"),
            price,
            category: Some(category),
            brand: "Vitrine".into(),
            tags: vec![],
            in_stock: sku != "G4", // out of stock: never recommended
        })
        .collect();
    // Within-category similarity; bought together across categories.
    let similar = (0..12u32).map(|p| scored(&[((p / 4) * 4 + (p + 1) % 4, 0.9), ((p / 4) * 4 + (p + 2) % 4, 0.5)])).collect();
    let bought = (0..12u32).map(|p| scored(&[((p + 4) % 12, 0.8), ((p + 9) % 12, 0.4)])).collect();
    let by_category = |c: u32| Keyed {
        key: CATEGORIES[match c {
            0 => 0,
            1 => 2,
            _ => 1,
        }]
        .into(),
        items: scored(&[(c * 4, 9.0), (c * 4 + 1, 7.0), (c * 4 + 2, 5.0), (c * 4 + 3, 3.0)]),
    };
    let hero = Placement {
        variants: vec![
            Variant {
                name: "loyal".into(),
                when: cond(json!({"segment": {"$in": ["Champions", "Loyal"]}})),
                html: "<h1>Early access for you, {{traits.first_name|friend}}</h1>".into(),
            },
            Variant { name: "candles".into(), when: cond(json!({"interests.top_category": "Candles"})), html: "<h1>Light up the evenings</h1>".into() },
            Variant { name: "default".into(), when: cond(json!({})), html: "<h1>Welcome to {{store.name}}</h1>".into() },
        ],
        ..placement("hero", json!({}), "", &[])
    };
    BundleBody {
        store: Store {
            name: "Fixture Store".into(),
            currency: "GBP".into(),
            currency_symbol: "£".into(),
            base_url: "https://shop.example".into(),
            free_shipping_threshold: Some(40.0),
        },
        catalog: Catalog::new(products, CATEGORIES.iter().map(|c| c.to_string()).collect()),
        stats: Stats::default(),
        recs: RecTables {
            bought_together: Neighbors::from_lists(bought),
            similar: Neighbors::from_lists(similar),
            trending: scored(&[(8, 5.0), (4, 4.0), (0, 3.0), (9, 2.0)]),
            popular: scored(&[(0, 9.0), (8, 8.0), (5, 7.0), (10, 6.0), (1, 5.0), (11, 4.0)]),
            popular_by_country: vec![],
            popular_by_category: vec![by_category(0), by_category(1), by_category(2)],
            popular_by_segment: vec![Keyed { key: "Loyal".into(), items: scored(&[(3, 5.0), (7, 4.0)]) }],
            reorder_days: vec![],
            ..RecTables::default()
        },
        rules: Rules {
            pages: vec![
                PageRule { pattern: "/".into(), page: "home".into() },
                PageRule { pattern: "/products/:sku".into(), page: "product".into() },
                PageRule { pattern: "/category/:category".into(), page: "category".into() },
                PageRule { pattern: "/cart".into(), page: "cart".into() },
            ],
            placements: vec![
                hero,
                placement("home-for-you", json!({"page.type": "home"}), "Just for You", &[("affinity", 1.0), ("trending", 0.3)]),
                placement("pdp-pair-with", json!({"page.type": "product"}), "Pair With It", &[("bought_together", 1.0)]),
                Placement {
                    max_price: Some(15.0),
                    ..placement("cart-dont-forget", json!({"page.type": "cart"}), "Don't forget these", &[("cart_addons", 1.0)])
                },
            ],
            offers: vec![
                offer(
                    "priority10",
                    "priority_support",
                    json!({"cart.value": {"$gte": 60}}),
                    "priority_support",
                    "",
                    "Priority support for your order",
                    "A specialist will help you with your {{cart.count}} items.",
                ),
                offer(
                    "early-access",
                    "early_access",
                    json!({"segment": {"$in": ["Champions", "Loyal"]}}),
                    "early_access",
                    "EARLY",
                    "Early access, {{traits.first_name|friend}}",
                    "The new collection is yours a week early.",
                ),
                offer(
                    "free-ship",
                    "free_shipping",
                    json!({"customer": true}),
                    "free_shipping",
                    "",
                    "Free shipping is close",
                    "Add {{cart.free_shipping_missing_text}} more for free shipping.",
                ),
                offer(
                    "welcome10",
                    "welcome",
                    json!({"new_visitor": true}),
                    "percent_off",
                    "WELCOME10",
                    "10% off your first order",
                    "Use the code at checkout.",
                ),
            ],
            // No global holdout: the browser tests' visitors get random ids, and 5% of them
            // would keep the page's own content.
            measurement: Measurement::without_holdout(),
            ..Rules::default()
        },
    }
}

pub fn bundle_bytes() -> Vec<u8> {
    let header = Header { format_version: bundle::FORMAT_VERSION, build_id: [7; 16], created_at: 1_790_000_000 };
    bundle::encode(&header, &body())
}

/// One visitor situation.
pub struct Case {
    pub name: &'static str,
    pub path: &'static str,
    /// (segment, frequency, first name) of a known customer.
    pub traits: Option<(&'static str, f64, &'static str)>,
    pub new_visitor: bool,
    pub steps: Vec<Learn>,
}

pub const NOW: i64 = 1_795_426_867;

pub fn cases() -> Vec<Case> {
    let viewed = |skus: &[&str]| skus.iter().map(|s| Learn::ProductViewed(s.to_string())).collect::<Vec<_>>();
    vec![
        Case { name: "new visitor on home", path: "/", traits: None, new_visitor: true, steps: vec![] },
        Case { name: "viewed three candles, back home", path: "/", traits: None, new_visitor: true, steps: viewed(&["C1", "C2", "C3"]) },
        Case { name: "viewed kitchen then garden", path: "/", traits: None, new_visitor: false, steps: viewed(&["K1", "G2", "G1"]) },
        Case { name: "on a product page", path: "/products/K2", traits: None, new_visitor: true, steps: viewed(&["K2"]) },
        Case {
            name: "returning customer, small cart",
            path: "/cart",
            traits: Some(("Promising", 2.0, "Sam")),
            new_visitor: false,
            steps: vec![Learn::Added("C2".into(), 1), Learn::Added("K3".into(), 2)],
        },
        Case {
            name: "high-value cart",
            path: "/cart",
            traits: None,
            new_visitor: true,
            steps: vec![Learn::Added("C4".into(), 2), Learn::Added("G3".into(), 1)],
        },
        Case { name: "loyal customer", path: "/", traits: Some(("Loyal", 6.0, "Jane")), new_visitor: false, steps: viewed(&["G1"]) },
        Case { name: "just bought", path: "/", traits: None, new_visitor: true, steps: vec![Learn::Added("K1".into(), 1), Learn::Purchased] },
    ]
}

pub fn profile(case: &Case) -> Profile {
    let mut traits = Value::Null;
    if let Some((segment, frequency, first_name)) = case.traits {
        traits = Value::object();
        traits.set("segment", segment).set("frequency", frequency).set("first_name", first_name);
    }
    Profile { visitor_id: "visitor-fixture".into(), user_id: None, traits, consent: None }
}

/// The session a case leaves behind (steps one second apart, ending at NOW), stored and
/// restored as the SDK does between pages.
pub fn session(engine: &Engine, case: &Case) -> SessionState {
    let mut s = SessionState { page_views: case.steps.len() as u32 + 1, new_visitor: case.new_visitor, ..SessionState::default() };
    let n = case.steps.len() as i64;
    for (i, step) in case.steps.iter().enumerate() {
        s.learn(&engine.body().catalog, step.clone(), NOW - (n - i as i64) * 60);
    }
    SessionState::decode(&s.encode()).expect("a session round-trips")
}

/// Everything the engine decides for every case, as comparable JSON.
pub fn decide_all(engine: &Engine) -> serde_json::Value {
    let placements = ["hero", "home-for-you", "pdp-pair-with", "cart-dont-forget"];
    let out: Vec<serde_json::Value> = cases()
        .iter()
        .map(|case| {
            let page = engine.page(case.path);
            let v = session(engine, case).visitor(&profile(case), &engine.body().catalog, page, Device::Desktop, None);
            let decisions: Vec<serde_json::Value> = placements
                .iter()
                .map(|p| {
                    let d = engine.decide(&v, p, NOW).expect("known placement");
                    json!({
                        "placement": p,
                        "status": d.status,
                        "variant": d.variant,
                        "skus": d.items.iter().map(|i| i.sku.as_str()).collect::<Vec<_>>(),
                        "html": d.html,
                        "rule": d.explain.rule,
                    })
                })
                .collect();
            let offer = engine.exit_offer(&v, NOW).map(|o| json!({"id": o.id, "scenario": o.scenario, "html": o.html}));
            json!({"case": case.name, "path": case.path, "decisions": decisions, "exit_offer": offer})
        })
        .collect();
    serde_json::Value::Array(out)
}
