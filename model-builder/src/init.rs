//! `model-builder init --orders CSV [--catalog CSV]`: a starting `vitrine.toml` from an export's
//! header row (and a sample of its dates), so a new store starts from a config that validates
//! and builds rather than from a blank page.
//!
//! Columns are found by name (case, spaces, `_` and `-` ignored) from one table of known names
//! per logical field (`ORDER_FIELDS`, `CATALOG_FIELDS`), which covers the shapes we know: the
//! UCI Online Retail releases (2010-2011 `InvoiceNo`/`UnitPrice`/`CustomerID`; 2009-2011
//! "Online Retail II" `Invoice`/`Price`/`Customer ID`), Shopify's order export (`Name`,
//! `Lineitem sku`, `Created at`, …) and its product export (`Variant SKU`, `Vendor`, …), and
//! plain snake_case exports. The date format is the one (or the few) of `DATE_FORMATS` that
//! read the sampled dates. A required column not found is an error listing the header.

use std::collections::HashSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use crate::error::{Error, Result};
use crate::ingest::dates::DateParser;
use crate::ingest::open_rows;

/// (config key, required, header names it may have, most specific first).
type Field = (&'static str, bool, &'static [&'static str]);

pub const ORDER_FIELDS: &[Field] = &[
    ("invoice", true, &["InvoiceNo", "Invoice", "Name", "Order ID", "Order Number", "order_id", "order_number", "order"]),
    ("sku", true, &["StockCode", "Lineitem sku", "SKU", "product_sku", "product_id", "Variant SKU", "item_id"]),
    ("quantity", true, &["Quantity", "Lineitem quantity", "qty"]),
    ("date", true, &["InvoiceDate", "Created at", "order_date", "created_at", "date", "Paid at"]),
    ("price", true, &["UnitPrice", "Price", "Lineitem price", "unit_price", "item_price"]),
    ("title", false, &["Description", "Lineitem name", "title", "product_name", "product_title", "item_name"]),
    ("customer", false, &["CustomerID", "Customer ID", "Email", "customer_id", "customer_email", "customer"]),
    ("country", false, &["Country", "Billing Country", "Shipping Country", "country", "billing_country"]),
];

pub const CATALOG_FIELDS: &[Field] = &[
    ("id", true, &["id", "Variant SKU", "sku", "product_id", "StockCode", "item_id"]),
    ("title", false, &["title", "Title", "name", "product_name", "Description"]),
    ("url", false, &["url", "link", "product_url"]),
    ("image", false, &["image", "image_link", "Image Src", "image_url", "Variant Image"]),
    ("price", false, &["price", "Variant Price", "sale_price", "UnitPrice"]),
    ("category", false, &["category", "product_type", "Type", "Product Category", "google_product_category"]),
    ("brand", false, &["brand", "Vendor", "manufacturer"]),
    ("tags", false, &["tags", "keywords"]),
    ("in_stock", false, &["in_stock", "availability", "Variant Inventory Qty", "stock", "inventory"]),
];

/// Formats tried on the sampled dates, in this order (ties go to the earlier).
pub const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
];

/// Rows whose dates are sampled.
const SAMPLE_ROWS: usize = 500;

/// Which known export an orders file looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// UCI Online Retail, 2010-2011 release (`InvoiceNo`, `UnitPrice`, `CustomerID`).
    UciOnlineRetail,
    /// UCI Online Retail II, 2009-2011 (`Invoice`, `Price`, `Customer ID`).
    UciOnlineRetailII,
    /// Shopify's order export (one row per line item; `Name` is the order).
    Shopify,
    Other,
}

impl Shape {
    pub fn describe(self) -> &'static str {
        match self {
            Shape::UciOnlineRetail => "UCI Online Retail (2010-2011 release)",
            Shape::UciOnlineRetailII => "UCI Online Retail II (2009-2011 release)",
            Shape::Shopify => "Shopify order export",
            Shape::Other => "an order-lines export",
        }
    }

    fn is_uci(self) -> bool {
        matches!(self, Shape::UciOnlineRetail | Shape::UciOnlineRetailII)
    }
}

/// What `init` found in an export.
#[derive(Debug)]
pub struct Export {
    pub path: PathBuf,
    pub delimiter: char,
    pub header: Vec<String>,
    /// (config key, header name) of every field found, in the table's order.
    pub columns: Vec<(&'static str, String)>,
    /// Fields not found (optional ones: the config says `""`).
    pub absent: Vec<&'static str>,
}

impl Export {
    fn column(&self, key: &str) -> Option<&str> {
        self.columns.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }
}

/// The starting config and what it was made from.
#[derive(Debug)]
pub struct Started {
    pub shape: Shape,
    pub orders: Export,
    pub date_format: Vec<String>,
    pub catalog: Option<Export>,
    pub toml: String,
}

/// Reads the exports' headers (and a sample of order dates) and writes the config's text.
/// `out` is where the config will be written: its paths are relative to that folder.
pub fn init(orders: &Path, catalog: Option<&Path>, out: &Path) -> Result<Started> {
    let (orders_export, samples) = read_export(orders, ORDER_FIELDS, "orders")?;
    let shape = shape_of(&orders_export);
    let date_column = orders_export.column("date").expect("date is a required field");
    let date_index = orders_export.header.iter().position(|h| h == date_column).expect("found in this header");
    let date_format = date_formats(orders, date_column, date_index, &samples, shape)?;
    let catalog = catalog.map(|c| read_export(c, CATALOG_FIELDS, "catalog").map(|(e, _)| e)).transpose()?;
    let toml = write_config(shape, &orders_export, &date_format, catalog.as_ref(), out);
    Ok(Started { shape, orders: orders_export, date_format, catalog, toml })
}

/// Header names compared without case, spaces, `_` or `-`.
fn normal(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, ' ' | '_' | '-')).flat_map(char::to_lowercase).collect()
}

/// The delimiter of a CSV file's header line: the most frequent of `,` `;` tab `|`.
fn sniff_delimiter(path: &Path) -> Result<char> {
    use std::io::BufRead;
    if crate::ingest::is_parquet(path) {
        return Ok(',');
    }
    let mut first = String::new();
    std::io::BufReader::new(crate::ingest::open(path)?).read_line(&mut first).map_err(Error::io(path))?;
    Ok([',', ';', '\t', '|'].into_iter().max_by_key(|d| (first.matches(*d).count(), *d == ',')).unwrap_or(','))
}

/// The export's columns for `fields`, and each row's fields of the first `SAMPLE_ROWS` rows.
fn read_export(path: &Path, fields: &[Field], what: &str) -> Result<(Export, Vec<ByteRecord>)> {
    let delimiter = sniff_delimiter(path)?;
    let mut rows = open_rows(path, delimiter)?;
    let header: Vec<String> = (0..rows.header().len()).map(|i| rows.header().name(i).to_string()).collect();
    let mut taken = HashSet::new();
    let (mut columns, mut absent, mut missing) = (Vec::new(), Vec::new(), Vec::new());
    for &(key, required, names) in fields {
        let found = names.iter().find_map(|want| header.iter().find(|h| !taken.contains(*h) && normal(h) == normal(want)));
        match found {
            Some(h) => {
                taken.insert(h.clone());
                columns.push((key, h.clone()));
            }
            None if required => missing.push(format!("{key} (e.g. {})", names.iter().take(3).map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "))),
            None => absent.push(key),
        }
    }
    if !missing.is_empty() {
        return Err(Error::Invalid(format!(
            "{}:1: cannot tell which {what} columns hold {}; the header has: {}. Write [{what}.columns] in vitrine.toml by hand (README: \"Your store's exports\")",
            path.display(),
            missing.join("; "),
            header.join(", ")
        )));
    }
    let mut samples = Vec::new();
    let mut record = ByteRecord::new();
    while samples.len() < SAMPLE_ROWS && rows.next(&mut record)?.is_some() {
        samples.push(record.clone());
    }
    Ok((Export { path: path.into(), delimiter, header, columns, absent }, samples))
}

fn shape_of(orders: &Export) -> Shape {
    let has = |key: &str, name: &str| orders.column(key).is_some_and(|c| normal(c) == normal(name));
    if has("sku", "Lineitem sku") || has("quantity", "Lineitem quantity") {
        Shape::Shopify
    } else if has("invoice", "InvoiceNo") && has("price", "UnitPrice") {
        Shape::UciOnlineRetail
    } else if has("invoice", "Invoice") && has("price", "Price") && has("sku", "StockCode") {
        Shape::UciOnlineRetailII
    } else {
        Shape::Other
    }
}

/// The fewest formats of `DATE_FORMATS` that read every sampled date: greedily, the one that
/// reads the most dates not yet read. No rows: the shape's usual formats.
fn date_formats(path: &Path, column: &str, i: usize, samples: &[ByteRecord], shape: Shape) -> Result<Vec<String>> {
    let mut dates: Vec<String> =
        samples.iter().filter_map(|r| r.get(i)).map(|f| String::from_utf8_lossy(f).trim().to_string()).filter(|d| !d.is_empty()).collect();
    dates.dedup();
    if dates.is_empty() {
        let usual: &[&str] = match shape {
            Shape::Shopify => &["%Y-%m-%d %H:%M:%S %z"],
            Shape::UciOnlineRetail | Shape::UciOnlineRetailII => &["%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M"],
            Shape::Other => &["%Y-%m-%d %H:%M:%S"],
        };
        return Ok(usual.iter().map(|s| s.to_string()).collect());
    }
    let reads = |format: &str, date: &str| DateParser::new(&[format.to_string()]).parse(date).is_ok();
    let mut chosen = Vec::new();
    let mut unread: Vec<&String> = dates.iter().collect();
    while !unread.is_empty() {
        let best = DATE_FORMATS
            .iter()
            .map(|f| (f, unread.iter().filter(|d| reads(f, d)).count()))
            .filter(|(_, n)| *n > 0)
            .fold(None, |best: Option<(&&str, usize)>, c| if best.is_some_and(|b| b.1 >= c.1) { best } else { Some(c) });
        let Some((format, _)) = best else {
            return Err(Error::Invalid(format!(
                "{}: column {column:?}: cannot read dates like {:?} with any usual format; set [orders] date_format (a chrono format) by hand",
                path.display(),
                unread[0]
            )));
        };
        chosen.push(format.to_string());
        unread.retain(|d| !reads(format, d));
    }
    Ok(chosen)
}

/// A TOML string literal.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `path` as the config should name it: relative to the config's folder when it is inside it.
fn relative(path: &Path, out: &Path) -> String {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let absolute = |p: &Path| std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.to_path_buf());
    let (path_abs, dir_abs) = (absolute(path), absolute(dir));
    path_abs.strip_prefix(&dir_abs).map(Path::to_path_buf).unwrap_or(path_abs).to_string_lossy().replace('\\', "/")
}

fn write_config(shape: Shape, orders: &Export, date_format: &[String], catalog: Option<&Export>, out: &Path) -> String {
    let mut t = String::new();
    let file_name = |e: &Export| e.path.file_name().map_or_else(|| e.path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let _ = writeln!(t, "# A starting Vitrine config, written by `model-builder init` from {} ({}).", file_name(orders), shape.describe());
    let _ = writeln!(t, "# Check it: model-builder validate {0}; build: model-builder build --config {0} --out bundle.bin", out.display());
    let _ = writeln!(t, "# Editors complete and check it with the schema: model-builder schema > vitrine.schema.json,");
    let _ = writeln!(t, "# then put `#:schema ./vitrine.schema.json` on the first line (Taplo / Even Better TOML).");
    let _ = writeln!(t, "\n[store]");
    let _ = writeln!(t, "name = \"My store\"            # your store's name");
    if shape.is_uci() {
        let _ = writeln!(t, "currency = \"GBP\"\ncurrency_symbol = \"£\"");
    }
    let _ = writeln!(t, "base_url = \"https://shop.example\" # the domain the edge answers (links in messages)");

    let _ = writeln!(t, "\n[orders]");
    let _ = writeln!(t, "path = {}", quoted(&relative(&orders.path, out)));
    let _ = writeln!(t, "delimiter = {}", quoted(&orders.delimiter.to_string()));
    let formats: Vec<String> = date_format.iter().map(|f| quoted(f)).collect();
    let _ = writeln!(t, "date_format = [{}]", formats.join(", "));
    columns(&mut t, "orders.columns", orders);

    if let Some(c) = catalog {
        let _ = writeln!(t, "\n[catalog]");
        let _ = writeln!(t, "path = {}", quoted(&relative(&c.path, out)));
        let _ = writeln!(t, "delimiter = {}", quoted(&c.delimiter.to_string()));
    } else {
        let _ = writeln!(t, "\n[catalog]\n# No catalog export: products, titles and prices come from the order lines.");
    }
    let url = if shape == Shape::Shopify { "/products/{slug}" } else { "/products/{sku}" };
    let _ = writeln!(t, "url_template = {}     # product links when the data has none", quoted(url));
    if let Some(c) = catalog {
        columns(&mut t, "catalog.columns", c);
    }

    if !shape.is_uci() {
        // The cleaning defaults are the UCI file's (cancellations `C…`, postage codes `POST`,
        // `M`, `D`, …): another store's SKUs may be such codes.
        let _ = writeln!(t, "\n[cleaning]\ncancelled_prefix = \"\"   # invoices starting with this are cancellations");
        let _ = writeln!(t, "non_product_skus = []    # codes that are not products: postage, fees");
    }

    t.push_str(STARTING_RULES);
    t
}

fn columns(t: &mut String, table: &str, e: &Export) {
    let _ = writeln!(t, "\n[{table}]");
    for (key, name) in &e.columns {
        let _ = writeln!(t, "{key} = {}", quoted(name));
    }
    for key in &e.absent {
        let _ = writeln!(t, "{key} = \"\"    # not in this export");
    }
}

/// Pages and two carousels every store has: enough to see the edge fill a slot.
const STARTING_RULES: &str = r#"
# ------------------------------------------------------------------------------------------
# Rules stored in the bundle (examples/online-retail/vitrine.toml has them all, annotated).
# Slots are `data-vitrine-slot="<id>"` elements.

[[pages]]
pattern = "/"
page = "home"

[[pages]]
pattern = "/products/:sku"
page = "product"

[[pages]]
pattern = "/cart"
page = "cart"

[[placements]]
id = "home-popular"
when = { "page.type" = "home" }
title = "Popular right now"
sources = [{ recommender = "trending", weight = 1.0 }, { recommender = "popular", weight = 0.5 }]

[[placements]]
id = "pdp-pair-with"
when = { "page.type" = "product" }
title = "Pairs well with"
max_items = 6
sources = [{ recommender = "bought_together", weight = 2.0 }, { recommender = "similar", weight = 1.0 }]
"#;
