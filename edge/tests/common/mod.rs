//! What the edge's integration tests share: a small store's engine.

use vitrine_engine::bundle::{self, BundleBody, Catalog, Header, Product, RecTables};
use vitrine_engine::rules::Rules;
use vitrine_engine::Engine;

/// A store of `skus` (given in SKU order, as catalogs are: `Product <sku>` at `/p/<sku>`, 5.00,
/// in stock) with `recs` and `rules` (the config's rules sections, as JSON), loaded as the
/// edge loads a published bundle.
pub fn engine(skus: &[&str], recs: RecTables, rules: serde_json::Value) -> Engine {
    let products = skus
        .iter()
        .map(|sku| Product {
            sku: sku.to_string(),
            title: format!("Product {sku}"),
            url: format!("/p/{sku}"),
            price: 5.0,
            in_stock: true,
            ..Default::default()
        })
        .collect();
    let rules: Rules = serde_json::from_value(rules).expect("rules as the config writes them");
    let body = BundleBody { store: Default::default(), catalog: Catalog::new(products, vec![]), stats: Default::default(), recs, rules };
    Engine::load(&bundle::encode(&Header { format_version: bundle::FORMAT_VERSION, build_id: [7; 16], created_at: 0 }, &body)).unwrap()
}
