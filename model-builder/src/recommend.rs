//! `model-builder recommend`: what the tables give for one product or one segment, to judge
//! by eye whether they make sense.

use std::fmt::Write;
use std::path::Path;

use vitrine_engine::bundle::{Bundle, Catalog, ProductIdx, RecTables, Scored};

use crate::error::{Error, Result};
use crate::inspect::load;

pub enum Query<'a> {
    Product(&'a str),
    Segment(&'a str),
}

pub fn recommend(path: &Path, query: Query, k: usize) -> Result<String> {
    let (bundle, _) = load(path)?;
    let Bundle { body, .. } = &bundle;
    let catalog = &body.catalog;
    let recs = &body.recs;
    let mut out = String::new();
    match query {
        Query::Product(sku) => {
            let p = find_product(catalog, sku)?;
            let product = catalog.get(p).expect("an index the catalog gave");
            let category = product.category.and_then(|c| catalog.categories.get(c as usize)).map_or("-", String::as_str);
            let _ = writeln!(out, "{}  {}  ({:.2}, {category})", product.sku(), product.title(), product.price);
            section(&mut out, "Bought together", "bought_together", &recs.bought_together.list(p), catalog, k);
            section(&mut out, "Similar", "similar", &recs.similar.list(p), catalog, k);
        }
        Query::Segment(name) => {
            let list = recs.popular_by_segment.iter().find(|l| l.key.eq_ignore_ascii_case(name)).ok_or_else(|| {
                let known: Vec<&str> = recs.popular_by_segment.iter().map(|l| l.key.as_str()).collect();
                Error::NotFound(format!("no popular_by_segment list for {name:?}; the bundle has: {}", known.join(", ")))
            })?;
            let title = format!("Popular with {}", list.key);
            section(&mut out, &title, "popular_by_segment", RecTables::keyed(&recs.popular_by_segment, &list.key), catalog, k);
        }
    }
    Ok(out)
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

fn section(out: &mut String, title: &str, table: &str, items: &[Scored], catalog: &Catalog, k: usize) {
    let _ = writeln!(out, "\n{title} (table {table}):");
    if items.is_empty() {
        let _ = writeln!(out, "  (nothing)");
    }
    for (rank, s) in items.iter().take(k).enumerate() {
        let (sku, name) = catalog.get(s.item).map_or(("?", "?"), |p| (p.sku(), p.title()));
        let _ = writeln!(out, "  {:>2}. {sku:<10} {name:<40} {:>8.4}", rank + 1, s.score);
    }
}
