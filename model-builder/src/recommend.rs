//! `model-builder recommend`: what the tables give for one product or one segment, to judge
//! by eye whether they make sense (`render`), or as JSON for scripts (`Recommendation`).

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;
use vitrine_engine::bundle::{Bundle, Catalog, ProductIdx, RecTables, Scored};

use crate::error::{Error, Result};
use crate::inspect::load;

pub enum Query<'a> {
    Product(&'a str),
    Segment(&'a str),
}

/// What the tables recommend. JSON: `{"product": {…} | null, "segment": "…" | null,
/// "tables": [{"table", "title", "items": [{"rank", "sku", "title", "price", "score"}]}]}`.
#[derive(Debug, Serialize)]
pub struct Recommendation {
    /// The product asked about (`--product`).
    pub product: Option<Item>,
    /// The segment's name as the bundle spells it (`--segment`).
    pub segment: Option<String>,
    pub tables: Vec<TableItems>,
}

#[derive(Debug, Serialize)]
pub struct TableItems {
    /// The bundle's table: `bought_together`, `similar`, `popular_by_segment`.
    pub table: &'static str,
    pub title: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Serialize)]
pub struct Item {
    /// 1-based; absent for the product asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    pub sku: String,
    pub title: String,
    pub price: f32,
    /// The product's category; absent when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The table's score; absent for the product asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

/// The first `k` items of each table for the query.
pub fn recommend(path: &Path, query: Query, k: usize) -> Result<Recommendation> {
    let (bundle, _) = load(path)?;
    let Bundle { body, .. } = &bundle;
    let catalog = &body.catalog;
    let recs = &body.recs;
    Ok(match query {
        Query::Product(sku) => {
            let p = find_product(catalog, sku)?;
            Recommendation {
                product: Some(item(catalog, p, None, None)),
                segment: None,
                tables: vec![
                    table(catalog, "bought_together", "Bought together".into(), &recs.bought_together.list(p), k),
                    table(catalog, "similar", "Similar".into(), &recs.similar.list(p), k),
                ],
            }
        }
        Query::Segment(name) => {
            let list = recs.popular_by_segment.iter().find(|l| l.key.eq_ignore_ascii_case(name)).ok_or_else(|| {
                let known: Vec<&str> = recs.popular_by_segment.iter().map(|l| l.key.as_str()).collect();
                Error::NotFound(format!("no popular_by_segment list for {name:?}; the bundle has: {}", known.join(", ")))
            })?;
            let items = RecTables::keyed(&recs.popular_by_segment, &list.key);
            Recommendation {
                product: None,
                segment: Some(list.key.clone()),
                tables: vec![table(catalog, "popular_by_segment", format!("Popular with {}", list.key), items, k)],
            }
        }
    })
}

/// The text `recommend` prints.
pub fn render(r: &Recommendation) -> String {
    let mut out = String::new();
    if let Some(p) = &r.product {
        let _ = writeln!(out, "{}  {}  ({:.2}, {})", p.sku, p.title, p.price, p.category.as_deref().unwrap_or("-"));
    }
    for t in &r.tables {
        let _ = writeln!(out, "\n{} (table {}):", t.title, t.table);
        if t.items.is_empty() {
            let _ = writeln!(out, "  (nothing)");
        }
        for i in &t.items {
            let _ = writeln!(out, "  {:>2}. {:<10} {:<40} {:>8.4}", i.rank.unwrap_or(0), i.sku, i.title, i.score.unwrap_or(0.0));
        }
    }
    out
}

fn find_product(catalog: &Catalog, sku: &str) -> Result<ProductIdx> {
    if let Some(p) = catalog.index_of(sku) {
        return Ok(p);
    }
    if let Some(p) = catalog.iter().position(|p| p.sku().eq_ignore_ascii_case(sku)) {
        return Ok(p as ProductIdx);
    }
    let prefix: String = sku.chars().take(3).collect();
    let near: Vec<&str> = catalog.iter().map(|p| p.sku()).filter(|s| s.starts_with(&prefix)).take(8).collect();
    let hint = if near.is_empty() { String::new() } else { format!("; similar SKUs: {}", near.join(", ")) };
    Err(Error::NotFound(format!("no product with SKU {sku:?} in the bundle ({} products){hint}", catalog.len())))
}

fn table(catalog: &Catalog, name: &'static str, title: String, items: &[Scored], k: usize) -> TableItems {
    let items = items.iter().take(k).enumerate().map(|(rank, s)| item(catalog, s.item, Some(rank + 1), Some(s.score))).collect();
    TableItems { table: name, title, items }
}

fn item(catalog: &Catalog, p: ProductIdx, rank: Option<usize>, score: Option<f32>) -> Item {
    match catalog.get(p) {
        Some(product) => Item {
            rank,
            sku: product.sku().into(),
            title: product.title().into(),
            price: product.price,
            category: product.category.and_then(|c| catalog.categories.get(c as usize)).cloned(),
            score,
        },
        // A table naming a row that does not read: shown as such, never a panic.
        None => Item { rank, sku: "?".into(), title: "?".into(), price: 0.0, category: None, score },
    }
}
