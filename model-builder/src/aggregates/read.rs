//! Reading the aggregate files of a directory (sql/SCHEMA.md) and the cleaned catalog
//! (`products.csv`). Columns are found by name; every bad value is an error naming file, line
//! and field.

use std::io::Read;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use super::{Aggregates, CountryItem, CustomerAggregates, CustomerCategory, CustomerItem, CustomerStats, ItemCounts, Reorder, Totals};
use crate::config::CatalogConfig;
use crate::data::{CategoryIdx, Product, ProductIdx};
use crate::error::{BadRow, Error, Result};
use crate::ingest::fields::{decimal, in_stock, whole};
use crate::ingest::{self, CategoryRules};
use crate::recs::Pair;

/// The aggregates in `dir`, for the catalog `products` (SKU order) and its `categories`.
pub fn read_dir(dir: &Path, products: &[Product], categories: &[String]) -> Result<Aggregates> {
    let sku_index: FxHashMap<&str, ProductIdx> = products.iter().enumerate().map(|(i, p)| (p.sku.as_str(), i as ProductIdx)).collect();
    let category_index: FxHashMap<&str, CategoryIdx> = categories.iter().enumerate().map(|(i, c)| (c.as_str(), i as CategoryIdx)).collect();
    let product = |row: &Row, col: usize| -> std::result::Result<ProductIdx, String> {
        let sku = row.get(col);
        sku_index.get(sku).copied().ok_or_else(|| format!("SKU {sku:?} is not in products.csv"))
    };

    let mut totals = None;
    Table::open(dir, "totals", &["orders", "lines", "customers", "guest_orders", "countries", "first_time", "last_time"])?.rows(|r| {
        let n = |c| r.whole(c).map(|v| v.max(0) as u64);
        totals = Some(Totals {
            orders: n(0)?,
            lines: n(1)?,
            customers: n(2)?,
            guest_orders: n(3)?,
            countries: n(4)?,
            first_time: r.whole(5)?,
            last_time: r.whole(6)?,
        });
        Ok(())
    })?;
    let totals = totals.ok_or_else(|| Error::Invalid(format!("{}: no row in totals (one is expected)", dir.display())))?;

    let mut items = vec![ItemCounts::default(); products.len()];
    Table::open(dir, "items", &["sku", "buyers", "trend"])?.rows(|r| {
        let item = &mut items[r.field(0, product)? as usize];
        item.buyers = r.count(1)?;
        item.trend = r.decimal(2)?;
        Ok(())
    })?;
    Table::open(dir, "basket_items", &["sku", "baskets", "weight"])?.rows(|r| {
        let item = &mut items[r.field(0, product)? as usize];
        item.baskets = r.count(1)?;
        item.basket_weight = r.decimal(2)?;
        Ok(())
    })?;

    let mut rows: Vec<(String, ProductIdx, u32)> = Vec::new();
    Table::open(dir, "country_items", &["country", "sku", "buyers"])?.rows(|r| {
        rows.push((r.get(0).to_string(), r.field(1, product)?, r.count(2)?));
        Ok(())
    })?;
    let mut countries: Vec<String> = rows.iter().map(|(c, _, _)| c.clone()).collect();
    countries.sort_unstable();
    countries.dedup();
    let mut country_items: Vec<CountryItem> =
        rows.into_iter().map(|(c, product, buyers)| CountryItem { country: countries.binary_search(&c).expect("collected") as u16, product, buyers }).collect();
    country_items.sort_unstable_by_key(|c| (c.country, c.product));

    let mut reorders = Vec::new();
    Table::open(dir, "reorders", &["sku", "customers", "gap_days"])?.rows(|r| {
        reorders.push(Reorder { product: r.field(0, product)?, customers: r.count(1)?, gap_days: r.decimal(2)? as f32 });
        Ok(())
    })?;
    reorders.sort_unstable_by_key(|r| r.product);

    let mut pairs = Vec::new();
    Table::open(dir, "pairs", &["sku_a", "sku_b", "baskets", "weight"])?.rows(|r| {
        let (a, b) = (r.field(0, product)?, r.field(1, product)?);
        pairs.push(Pair { a: a.min(b), b: a.max(b), baskets: r.count(2)?, weight: r.decimal(3)? });
        Ok(())
    })?;
    pairs.sort_unstable_by_key(|p| (p.a, p.b));

    let mut ids = Vec::new();
    let mut stats = Vec::new();
    // purchase_days and repeat_spend came later: a file without both reads as purchase days
    // unknown (the build then fits no predictive model and says why), one with either must
    // have both.
    let names = &["customer_id", "orders", "monetary", "first_time", "last_time", "gap_days", "purchase_days", "repeat_spend"];
    let table = Table::open_with(dir, "customers", names, &["purchase_days", "repeat_spend"])?;
    let days_counted = table.has(6);
    table.rows(|r| {
        ids.push(r.get(0).to_string());
        let gap_days = if r.get(5).trim().is_empty() { None } else { Some(r.decimal(5)? as f32) };
        let orders = r.count(1)?;
        let (purchase_days, repeat_spend) = if days_counted {
            // Every purchase day has an order.
            let days = r.count(6)?;
            if !(1..=orders).contains(&days) {
                return Err((6, format!("{days} purchase days for {orders} orders: expected 1 to {orders}")));
            }
            (Some(days), r.decimal(7)?)
        } else {
            (None, 0.0)
        };
        stats.push(CustomerStats { orders, monetary: r.decimal(2)?, first_time: r.whole(3)?, last_time: r.whole(4)?, gap_days, purchase_days, repeat_spend });
        Ok(())
    })?;
    let customer_index: FxHashMap<&str, u32> = ids.iter().enumerate().map(|(i, c)| (c.as_str(), i as u32)).collect();
    let customer = |row: &Row, col: usize| -> std::result::Result<u32, String> {
        let id = row.get(col);
        customer_index.get(id).copied().ok_or_else(|| format!("customer {id:?} is not in customers.csv"))
    };

    let mut customer_categories = Vec::new();
    Table::open(dir, "customer_categories", &["customer_id", "category", "spend"])?.rows(|r| {
        let name = r.get(1);
        let category = *category_index.get(name).ok_or_else(|| (1, format!("category {name:?} is not in products.csv")))?;
        customer_categories.push(CustomerCategory { customer: r.field(0, customer)?, category, spend: r.decimal(2)? });
        Ok(())
    })?;
    customer_categories.sort_by_key(|c| (c.customer, c.category));

    let mut customer_items = Vec::new();
    Table::open(dir, "customer_items", &["customer_id", "sku", "orders", "last_time"])?.rows(|r| {
        customer_items.push(CustomerItem { customer: r.field(0, customer)?, product: r.field(1, product)?, orders: r.count(2)?, last_time: r.whole(3)? });
        Ok(())
    })?;
    customer_items.sort_unstable_by_key(|i| (i.customer, i.product));

    let customers = CustomerAggregates { ids, stats, categories: customer_categories, items: customer_items };
    Ok(Aggregates { totals, countries, items, country_items, reorders, pairs, customers })
}

/// The cleaned catalog (`model-builder clean --products`: `sku,title,url,image,price,category,
/// brand,tags,in_stock`, tags joined by `|`), in SKU order, and the category names it indexes
/// (in `[catalog.categories]` order, then the others A-Z, as ingest orders them).
pub fn read_products(path: &Path, catalog: &CatalogConfig) -> Result<(Vec<Product>, Vec<String>)> {
    let mut products: Vec<(Product, String)> = Vec::new();
    Table::at(path, &["sku", "title", "url", "image", "price", "category", "brand", "tags", "in_stock"])?.rows(|r| {
        let tags = r.get(7).split('|').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect();
        let product = Product {
            sku: r.get(0).to_string(),
            title: r.get(1).to_string(),
            url: r.get(2).to_string(),
            image: r.get(3).to_string(),
            price: r.decimal(4)? as f32,
            category: None,
            brand: r.get(6).to_string(),
            tags,
            in_stock: in_stock(r.get(8)).map_err(|m| (8, m))?,
        };
        products.push((product, r.get(5).to_string()));
        Ok(())
    })?;
    products.sort_by(|a, b| a.0.sku.cmp(&b.0.sku));
    if let Some(w) = products.windows(2).find(|w| w[0].0.sku == w[1].0.sku) {
        return Err(Error::Invalid(format!("{}: SKU {:?} is listed twice", path.display(), w[0].0.sku)));
    }
    let mut categories: Vec<String> = Vec::new();
    if let Some(rules) = CategoryRules::new(&catalog.categories, &catalog.default_category) {
        categories.extend(rules.names().filter(|n| products.iter().any(|(_, c)| c == n)).map(String::from));
    }
    let mut others: Vec<&str> = products.iter().map(|(_, c)| c.as_str()).filter(|c| !c.is_empty() && !categories.iter().any(|k| k == c)).collect();
    others.sort_unstable();
    others.dedup();
    categories.extend(others.into_iter().map(String::from));
    let index: FxHashMap<&str, CategoryIdx> = categories.iter().enumerate().map(|(i, c)| (c.as_str(), i as CategoryIdx)).collect();
    let products = products.iter().map(|(p, c)| Product { category: index.get(c.as_str()).copied(), ..p.clone() }).collect();
    Ok((products, categories))
}

/// One aggregate file: its reader and where each wanted column is (None: an optional one the
/// file does not have).
struct Table {
    path: PathBuf,
    reader: csv::Reader<Box<dyn Read>>,
    names: &'static [&'static str],
    columns: Vec<Option<usize>>,
}

/// A row being read: fields by wanted-column number (an absent optional column reads as
/// empty); errors are (column, message).
struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a [Option<usize>],
}

type FieldResult<T> = std::result::Result<T, (usize, String)>;

impl Row<'_> {
    fn get(&self, col: usize) -> &str {
        self.columns[col].and_then(|i| self.record.get(i)).unwrap_or("")
    }

    fn field<T>(&self, col: usize, parse: impl Fn(&Row, usize) -> std::result::Result<T, String>) -> FieldResult<T> {
        parse(self, col).map_err(|m| (col, m))
    }

    fn whole(&self, col: usize) -> FieldResult<i64> {
        whole(self.get(col)).map_err(|m| (col, m))
    }

    fn count(&self, col: usize) -> FieldResult<u32> {
        let v = self.whole(col)?;
        u32::try_from(v).map_err(|_| (col, format!("{v} is not a count")))
    }

    fn decimal(&self, col: usize) -> FieldResult<f64> {
        decimal(self.get(col)).map_err(|m| (col, m))
    }
}

impl Table {
    /// `dir/name.csv`, or `name.csv.gz`.
    fn path(dir: &Path, name: &str) -> Result<PathBuf> {
        for file in [format!("{name}.csv"), format!("{name}.csv.gz")] {
            let path = dir.join(file);
            if path.exists() {
                return Ok(path);
            }
        }
        // The place for Parquet: read `name.parquet` with the reader ingest uses for exports.
        if dir.join(format!("{name}.parquet")).exists() {
            return Err(Error::Invalid(format!(
                "{}: Parquet aggregates are not read yet; write {name}.csv or {name}.csv.gz",
                dir.join(format!("{name}.parquet")).display()
            )));
        }
        Err(Error::Invalid(format!("{}: no {name}.csv or {name}.csv.gz (the aggregate files are listed in sql/SCHEMA.md)", dir.display())))
    }

    fn open(dir: &Path, name: &str, names: &'static [&'static str]) -> Result<Table> {
        Self::open_with(dir, name, names, &[])
    }

    /// [`Table::open`] with the `optional` names (some of `names`) missing together or not at
    /// all: a file with one of them must have every one.
    fn open_with(dir: &Path, name: &str, names: &'static [&'static str], optional: &[&str]) -> Result<Table> {
        Self::at_with(&Self::path(dir, name)?, names, optional)
    }

    fn at(path: &Path, names: &'static [&'static str]) -> Result<Table> {
        Self::at_with(path, names, &[])
    }

    fn at_with(path: &Path, names: &'static [&'static str], optional: &[&str]) -> Result<Table> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(ingest::open(path)?);
        let header = reader.headers().map_err(|e| Error::Invalid(format!("{}:1: {e}", path.display())))?.clone();
        let columns: Vec<Option<usize>> = names.iter().map(|&n| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n))).collect();
        let with_optional = names.iter().zip(&columns).any(|(n, c)| optional.contains(n) && c.is_some());
        if let Some((n, _)) = names.iter().zip(&columns).find(|(n, c)| c.is_none() && (with_optional || !optional.contains(n))) {
            return Err(Error::Invalid(format!("{}:1: no column {n:?}; the header has: {}", path.display(), header.iter().collect::<Vec<_>>().join(", "))));
        }
        Ok(Table { path: path.to_path_buf(), reader, names, columns })
    }

    /// Whether the file has wanted column `col` (an optional one may be missing).
    fn has(&self, col: usize) -> bool {
        self.columns[col].is_some()
    }

    fn rows(mut self, mut each: impl FnMut(&Row) -> FieldResult<()>) -> Result<()> {
        let mut record = csv::StringRecord::new();
        loop {
            let line = self.reader.position().line();
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(e) => return Err(Error::BadRow(BadRow { file: self.path.clone(), line, row_group: None, field: None, message: e.to_string() })),
            }
            let line = record.position().map_or(line, |p| p.line());
            each(&Row { record: &record, columns: &self.columns }).map_err(|(col, message)| {
                Error::BadRow(BadRow { file: self.path.clone(), line, row_group: None, field: Some(self.names[col].to_string()), message })
            })?;
        }
    }
}
