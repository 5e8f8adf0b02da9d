//! `model-builder patch --bundle OLD.bin --changes changes.csv -o NEW.bin`: a catalog patch,
//! prices and stock changed without a rebuild (seconds, whatever the order history). The new
//! bundle is the old one with those fields changed and nothing else (rules, tables, stats and
//! every other product field as they were), under a new build id; publish it like any bundle
//! (`scripts/publish-bundle.sh`), and the edge tells the visitors who carted or watch a product
//! that came back or got cheaper (`back_in_stock`, `price_drop`).
//!
//! The changes file is CSV with a header: `sku,price,in_stock` (any order, other columns
//! refused). An empty cell leaves that field as it is. `price`: a number, 0 or more, in the
//! store's currency; `in_stock`: `true`/`false`, `1`/`0`, `yes`/`no`. A bad row is reported
//! with its line and skipped; an SKU the bundle does not hold is reported and skipped; the
//! same SKU twice is a bad row (the first one counts). What changed for the catalog triggers is
//! printed with the engine's one definition (`journey::catalog_changes`), as the edge will see it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use vitrine_engine::bundle::{self, Catalog, Header, Product, FORMAT_VERSION};
use vitrine_engine::journey::{catalog_changes, CatalogChange, Change};
use vitrine_model_builder::error::{Error, Result};
use vitrine_model_builder::inspect::load;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle to patch (the one serving now).
    #[arg(long)]
    bundle: PathBuf,
    /// CSV with header `sku,price,in_stock`; an empty cell keeps the field.
    #[arg(long)]
    changes: PathBuf,
    /// Where the patched bundle goes (a new build id).
    #[arg(short, long)]
    out: PathBuf,
    /// The summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Longest changes file read (a patch is for a few products; a full catalog is a build).
const MAX_CHANGES_BYTES: u64 = 64 * 1024 * 1024;

/// One row of the changes file.
#[derive(Debug, PartialEq)]
struct Row {
    line: u64,
    sku: String,
    price: Option<f32>,
    in_stock: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
pub struct PatchSummary {
    pub old_build_id: String,
    pub new_build_id: String,
    /// Rows that changed a product (a row restating the catalog changes nothing).
    pub products_changed: usize,
    /// `file:line: why`, each skipped.
    pub bad_rows: Vec<String>,
    /// `file:line: sku`, each skipped.
    pub unknown_skus: Vec<String>,
    /// What the catalog triggers see (back in stock, price drops).
    pub catalog_changes: Vec<CatalogChange>,
}

fn stock(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// The changes file's rows, and its bad rows (`file:line: why`).
fn read_changes(path: &Path) -> Result<(Vec<Row>, Vec<String>)> {
    let meta = std::fs::metadata(path).map_err(Error::io(path))?;
    if meta.len() > MAX_CHANGES_BYTES {
        return Err(Error::Invalid(format!("{}: {} bytes, over the {MAX_CHANGES_BYTES}-byte limit of a patch (rebuild instead)", path.display(), meta.len())));
    }
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_path(path).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
    let header: Vec<String> =
        reader.headers().map_err(|e| Error::Invalid(format!("{}:1: {e}", path.display())))?.iter().map(|h| h.to_ascii_lowercase()).collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    if let Some(other) = header.iter().find(|h| !["sku", "price", "in_stock"].contains(&h.as_str())) {
        return Err(Error::Invalid(format!("{}:1: unknown column {other:?} (the columns are sku, price, in_stock)", path.display())));
    }
    let sku_at = column("sku").ok_or_else(|| Error::Invalid(format!("{}:1: no sku column (the header is sku,price,in_stock)", path.display())))?;
    let (price_at, stock_at) = (column("price"), column("in_stock"));
    let (mut rows, mut bad) = (Vec::new(), Vec::new());
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bad.push(format!("{}:{line}: {e}", path.display()));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let at = |why: String| format!("{}:{line}: {why}", path.display());
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("");
        let sku = cell(Some(sku_at));
        if sku.is_empty() {
            bad.push(at("sku is empty".into()));
            continue;
        }
        if sku.len() > vitrine_engine::journey::event::MAX_ID_LEN {
            bad.push(at(format!("sku is {} bytes, over {}", sku.len(), vitrine_engine::journey::event::MAX_ID_LEN)));
            continue;
        }
        let price = match cell(price_at) {
            "" => None,
            p => match p.parse::<f32>() {
                Ok(v) if v.is_finite() && (0.0..1e9).contains(&v) => Some(v),
                _ => {
                    bad.push(at(format!("price {p:?} is not a price (a number, 0 or more)")));
                    continue;
                }
            },
        };
        let in_stock = match cell(stock_at) {
            "" => None,
            s => match stock(s) {
                Some(v) => Some(v),
                None => {
                    bad.push(at(format!("in_stock {s:?} is not true/false, 1/0 or yes/no")));
                    continue;
                }
            },
        };
        if price.is_none() && in_stock.is_none() {
            bad.push(at(format!("{sku}: neither price nor in_stock given")));
            continue;
        }
        if let Some(first) = first_line.get(sku) {
            bad.push(at(format!("{sku} again (first at line {first}, which counts)")));
            continue;
        }
        first_line.insert(sku.to_string(), line);
        rows.push(Row { line, sku: sku.to_string(), price, in_stock });
    }
    Ok((rows, bad))
}

/// `catalog` with the rows' fields changed; how many products changed, and the rows naming an
/// SKU it does not hold. Every other field of every product stays as it was.
fn patched<'r>(catalog: &Catalog, rows: &'r [Row]) -> (Catalog, usize, Vec<&'r Row>) {
    let mut products: Vec<Product> = catalog.iter().map(|p| p.to_product()).collect();
    let (mut changed, mut unknown) = (0, Vec::new());
    for row in rows {
        // Rows are in SKU order (the catalog's invariant): a binary search per row.
        match products.binary_search_by(|p| p.sku.as_str().cmp(&row.sku)) {
            Ok(i) => {
                let p = &mut products[i];
                let before = (p.price, p.in_stock);
                p.price = row.price.unwrap_or(p.price);
                p.in_stock = row.in_stock.unwrap_or(p.in_stock);
                changed += usize::from(before != (p.price, p.in_stock));
            }
            Err(_) => unknown.push(row),
        }
    }
    (Catalog::with_slugs(&products, catalog.categories.clone(), catalog.category_slugs.clone()), changed, unknown)
}

fn build_id() -> Result<[u8; 16]> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| Error::Invalid(format!("no randomness for the build id: {e}")))?;
    Ok(id)
}

pub fn run(a: Args) -> Result<()> {
    let (old, _) = load(&a.bundle)?;
    let (rows, bad_rows) = read_changes(&a.changes)?;
    let (catalog, products_changed, unknown) = patched(&old.body.catalog, &rows);
    let unknown_skus = unknown.iter().map(|r| format!("{}:{}: {}", a.changes.display(), r.line, r.sku)).collect();
    let changes = catalog_changes(&old.body.catalog, &catalog);
    let mut body = old.body;
    body.catalog = catalog;
    let created_at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let header = Header { format_version: FORMAT_VERSION, build_id: build_id()?, created_at };
    let bytes = bundle::encode(&header, &body);
    // Next to the target, then renamed: a publisher never reads half a bundle.
    let mut tmp = a.out.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, &bytes).map_err(Error::io(&tmp))?;
    std::fs::rename(&tmp, &a.out).map_err(Error::io(&a.out))?;
    let summary = PatchSummary {
        old_build_id: old.header.build_id_hex(),
        new_build_id: header.build_id_hex(),
        products_changed,
        bad_rows,
        unknown_skus,
        catalog_changes: changes,
    };
    if a.json {
        return super::print_json(&summary);
    }
    for problem in
        summary.bad_rows.iter().map(|b| format!("bad row skipped: {b}")).chain(summary.unknown_skus.iter().map(|u| format!("unknown SKU skipped: {u}")))
    {
        eprintln!("{problem}");
    }
    println!("patched {} -> {} ({}): {} products changed", summary.old_build_id, summary.new_build_id, a.out.display(), summary.products_changed);
    for c in &summary.catalog_changes {
        match c.change {
            Change::BackInStock => println!("  {}: back in stock", c.sku),
            Change::PriceDrop { old, new, percent } => println!("  {}: price drop {old:.2} -> {new:.2} ({percent}% off)", c.sku),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(sku: &str, price: f32, in_stock: bool) -> Product {
        Product { sku: sku.into(), title: format!("P {sku}"), price, in_stock, brand: "B".into(), tags: vec!["t".into()], ..Default::default() }
    }

    #[test]
    fn a_patch_changes_the_named_fields_only() {
        let catalog = Catalog::new(vec![product("A", 10.0, true), product("B", 5.0, false), product("C", 3.0, true)], vec!["Cat".into()]);
        let rows = [
            Row { line: 2, sku: "A".into(), price: Some(8.0), in_stock: None },
            Row { line: 3, sku: "B".into(), price: None, in_stock: Some(true) },
            Row { line: 4, sku: "Z".into(), price: Some(1.0), in_stock: None },
        ];
        let (new, changed, unknown) = patched(&catalog, &rows);
        assert_eq!(changed, 2);
        assert_eq!(unknown.iter().map(|r| r.sku.as_str()).collect::<Vec<_>>(), ["Z"]);
        let products: Vec<Product> = new.iter().map(|p| p.to_product()).collect();
        assert_eq!(products, [product("A", 8.0, true), product("B", 5.0, true), product("C", 3.0, true)]);
        assert_eq!(new.categories, catalog.categories);
    }
}
