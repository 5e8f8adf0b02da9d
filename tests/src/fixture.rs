//! A small, hand-made store bundle whose every decision the end-to-end tests can predict:
//! ten products in three categories (one out of stock), tables wired so each placement has an
//! obvious answer, and rules for the visitors the tests play (new, Champion, At risk, German,
//! with a cart).

use serde_json::json;
use vitrine_engine::bundle::{self, BundleBody, Catalog, Header, Keyed, Neighbors, Product, RecTables, Scored, Stats};
use vitrine_engine::rules::{Rules, Store};
use vitrine_engine::ProductIdx;

/// Products, sorted by SKU (the bundle's invariant): (sku, title, category, price, in stock).
pub const PRODUCTS: &[(&str, &str, u16, f32, bool)] = &[
    ("C100", "Vanilla Candle", 0, 4.50, true),
    ("C101", "Lavender Candle", 0, 5.00, true),
    ("C102", "Brass Candle Holder", 0, 12.00, true),
    ("C103", "Tealight Set", 0, 3.00, false),
    ("G200", "Watering Can", 2, 18.00, true),
    ("G201", "Seed Kit", 2, 9.00, true),
    ("K300", "Teapot", 1, 25.00, true),
    ("K301", "Mug Set", 1, 14.00, true),
    ("K302", "Tea Towel", 1, 6.00, true),
    ("K303", "Cake Tin", 1, 11.00, true),
];
pub const CATEGORIES: &[&str] = &["Candles", "Kitchen", "Garden"];
/// The out-of-stock product: never recommended.
pub const OUT_OF_STOCK: &str = "C103";

pub fn idx(sku: &str) -> ProductIdx {
    PRODUCTS.iter().position(|p| p.0 == sku).unwrap_or_else(|| panic!("fixture has no {sku}")) as ProductIdx
}

fn scored(list: &[(&str, f32)]) -> Vec<Scored> {
    list.iter().map(|&(sku, score)| Scored { item: idx(sku), score }).collect()
}

fn keyed(key: &str, list: &[(&str, f32)]) -> Keyed {
    Keyed { key: key.into(), items: scored(list) }
}

/// The rules, written as the config would be (JSON here; TOML in a store's `vitrine.toml`).
pub fn rules() -> Rules {
    serde_json::from_value(json!({
        // No global holdout: the end-to-end visitors get random ids (vt_vid), and 5% of them
        // would see the store's own pages and get no messages.
        "measurement": { "holdout": 0 },
        "pages": [
            { "pattern": "/", "page": "home" },
            { "pattern": "/products/:sku", "page": "product" },
            { "pattern": "/category/:category", "page": "category" },
            { "pattern": "/cart", "page": "cart" }
        ],
        "segments": [
            { "name": "Big basket", "when": { "cart.value": { "$gte": 30 } } }
        ],
        "placements": [
            {
                "id": "hero",
                "when": { "page.type": "home" },
                "variants": [
                    { "name": "champions", "when": { "segment": "Champions" },
                      "html": "<h1 class=\"hero-champions\">Early access for you, {{traits.first_name|friend}}</h1>" },
                    { "name": "at-risk", "when": { "segment": "At risk" },
                      "html": "<h1 class=\"hero-at-risk\">We miss you: 15% off with COMEBACK15</h1>" },
                    { "name": "germany", "when": { "country": "DE" },
                      "html": "<h1 class=\"hero-germany\">Willkommen! Free shipping to Germany</h1>" },
                    { "name": "welcome", "when": { "new_visitor": true },
                      "html": "<h1 class=\"hero-welcome\">New here? 10% off your first order</h1>" }
                ]
            },
            {
                "id": "greeting",
                "when": { "known": true },
                "variants": [ { "name": "welcome-back", "html": "Welcome back, {{traits.first_name|there}}" } ]
            },
            {
                "id": "home-for-you",
                "when": { "page.type": "home" },
                "title": "Just for You",
                "max_items": 4,
                "sources": [
                    { "recommender": "affinity", "weight": 2.0 },
                    { "recommender": "popular_country", "weight": 1.0 },
                    { "recommender": "trending", "weight": 0.5 }
                ]
            },
            {
                "id": "pdp-pair-with",
                "when": { "page.type": "product" },
                "title": "Pair With It",
                "max_items": 3,
                "sources": [ { "recommender": "bought_together" } ]
            },
            {
                "id": "cart-dont-forget",
                "when": { "page.type": "cart", "cart.count": { "$gt": 0 } },
                "title": "Don't forget these",
                "max_items": 4,
                "max_price": 15.0,
                "sources": [ { "recommender": "cart_addons" } ]
            }
        ],
        "offers": [
            { "id": "comeback15", "scenario": "win_back", "when": { "segment": "At risk" }, "kind": "percent_off",
              "value": 15, "code": "COMEBACK15", "headline": "Come back for 15% off" },
            { "id": "welcome10", "scenario": "welcome", "when": { "known": false }, "kind": "percent_off",
              "value": 10, "code": "WELCOME10", "headline": "10% off your first order" }
        ]
    }))
    .expect("fixture rules parse")
}

pub fn body() -> BundleBody {
    let products = PRODUCTS
        .iter()
        .map(|&(sku, title, category, price, in_stock)| Product {
            sku: sku.into(),
            title: title.into(),
            url: format!("/products/{sku}"),
            image: format!("/img/{sku}.svg"),
            price,
            category: Some(category),
            brand: "Fixture & Co".into(),
            tags: Vec::new(),
            in_stock,
        })
        .collect();
    let mut bought_together = vec![Vec::new(); PRODUCTS.len()];
    bought_together[idx("C100") as usize] = scored(&[("C103", 0.9), ("C102", 0.8), ("C101", 0.5)]);
    bought_together[idx("K300") as usize] = scored(&[("K301", 0.9), ("K302", 0.6), ("C100", 0.2)]);
    bought_together[idx("K301") as usize] = scored(&[("K300", 0.7), ("K302", 0.5), ("K303", 0.4), ("G200", 0.3)]);
    let mut similar = vec![Vec::new(); PRODUCTS.len()];
    similar[idx("C100") as usize] = scored(&[("C101", 0.9)]);
    let recs = RecTables {
        bought_together: Neighbors::from_lists(bought_together),
        similar: Neighbors::from_lists(similar),
        trending: scored(&[("C103", 9.0), ("K300", 8.0), ("C100", 7.0), ("G200", 6.0), ("K301", 5.0)]),
        popular: scored(&[("K300", 50.0), ("C100", 40.0), ("K302", 30.0), ("C101", 20.0), ("G201", 10.0)]),
        popular_by_country: vec![keyed("GB", &[("K300", 5.0), ("C100", 4.0)]), keyed("DE", &[("G200", 5.0), ("G201", 4.0), ("K303", 3.0)])],
        popular_by_category: vec![
            keyed("Candles", &[("C100", 5.0), ("C102", 3.0), ("C101", 2.0)]),
            keyed("Kitchen", &[("K300", 5.0), ("K301", 4.0), ("K303", 1.0)]),
            keyed("Garden", &[("G200", 5.0), ("G201", 3.0)]),
        ],
        popular_by_segment: vec![keyed("Champions", &[("K300", 5.0), ("K301", 4.0)]), keyed("At risk", &[("C100", 5.0), ("C101", 4.0)])],
        reorder_days: vec![(idx("C100"), 30.0)],
        ..RecTables::default()
    };
    BundleBody {
        store: Store {
            name: "Fixture & Co".into(),
            currency: "GBP".into(),
            currency_symbol: "£".into(),
            base_url: "https://fixture.example".into(),
            free_shipping_threshold: Some(40.0),
        },
        catalog: Catalog::new(products, CATEGORIES.iter().map(|c| c.to_string()).collect()),
        stats: Stats::default(),
        recs,
        rules: rules(),
    }
}

/// The fixture bundle's bytes; `build` picks the version (build id), so tests can publish
/// several distinct versions of the same content.
pub fn bundle_bytes(build: u8) -> Vec<u8> {
    bundle_bytes_with(build, |_| {})
}

/// A variant of the fixture (e.g. another banner text) as bundle `build`.
pub fn bundle_bytes_with(build: u8, edit: impl FnOnce(&mut BundleBody)) -> Vec<u8> {
    let header = Header { format_version: bundle::FORMAT_VERSION, build_id: [build; 16], created_at: 1_700_000_000 + build as i64 };
    let mut body = body();
    edit(&mut body);
    bundle::encode(&header, &body)
}

/// The version (build id hex) of `bundle_bytes(build)`.
pub fn version(build: u8) -> String {
    format!("{build:02x}").repeat(16)
}

/// Profiles as model-builder's `--profiles` writes them (JSONL), for the customers the tests
/// play.
pub const PROFILES_JSONL: &str = concat!(
    r#"{"customer_id":"14646","segment":"Champions","recency_days":3,"frequency":40,"monetary":2800.5,"r":5,"f":5,"m":5,"first_order":"2010-12-01","last_order":"2011-12-06","typical_gap_days":9.0,"top_categories":["Kitchen"]}"#,
    "\n",
    r#"{"customer_id":"17850","segment":"At risk","recency_days":200,"frequency":6,"monetary":310.0,"r":2,"f":4,"m":3,"first_order":"2010-12-01","last_order":"2011-05-20","typical_gap_days":30.0,"top_categories":["Candles"]}"#,
    "\n",
    r#"{"customer_id":"12347","segment":"Loyal","recency_days":20,"frequency":12,"monetary":900.0,"r":4,"f":4,"m":4,"first_order":"2010-12-07","last_order":"2011-11-15","typical_gap_days":25.0,"top_categories":["Garden"]}"#,
    "\n",
);

#[cfg(test)]
mod tests {
    use super::*;
    use vitrine_engine::Engine;

    #[test]
    fn publishing_points_current_and_previous() {
        let e = vitrine_edge::kv::bundle_entries(&bundle_bytes(7), true, Some("old")).unwrap();
        let keys: Vec<&str> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, [format!("bundle:{}", version(7)).as_str(), "bundle:previous", "bundle:current"]);
        assert!(e[0].base64);
        assert_eq!(e[2].value, version(7));
    }

    #[test]
    fn the_fixture_profiles_give_personas() {
        let e = vitrine_edge::kv::profile_entries(PROFILES_JSONL).unwrap();
        let get = |k: &str| e.iter().find(|e| e.key == k).map(|e| e.value.clone());
        assert!(get("profile:14646").unwrap().contains("Champions"));
        let champion: serde_json::Value = serde_json::from_str(&get("persona:champions").unwrap()).unwrap();
        assert_eq!(champion["customer_id"], "14646");
        assert!(get("persona:at-risk").is_some());
    }

    /// The fuzz targets' engine is this fixture as `fuzz/seed-bundle.sh` wrote it: a layout
    /// change that forgot to rewrite it fails here, not in the fuzz stage.
    #[test]
    fn the_fuzz_seed_is_this_fixture_in_the_current_format() {
        let seed = std::fs::read(crate::stack::repo_root().join("fuzz/corpus/bundle/fixture-bundle")).unwrap();
        assert!(Engine::load(&seed).is_ok(), "run fuzz/seed-bundle.sh and commit fuzz/corpus/bundle/fixture-bundle");
    }

    #[test]
    fn the_fixture_loads_and_is_sorted() {
        let e = Engine::load(&bundle_bytes(1)).unwrap();
        assert_eq!(e.header().build_id_hex(), version(1));
        let skus: Vec<&str> = e.body().catalog.iter().map(|p| p.sku()).collect();
        let mut sorted = skus.clone();
        sorted.sort();
        assert_eq!(skus, sorted);
    }
}
