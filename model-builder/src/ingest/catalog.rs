//! The product side: an optional catalog export, and what is derived when the data lacks it
//! (URLs and images from templates, categories from title keywords).

use csv::ByteRecord;
use indexmap::IndexMap;
use rustc_hash::FxHashMap;

use super::bad_rows::BadRows;
use super::columns::Header;
use super::dates::DateParser;
use super::fields::{decimal, in_stock, text};
use super::report::CatalogReport;
use super::rows::{Place, Rows};
use crate::config::{CatalogColumns, Config};
use crate::error::Result;
use vitrine_engine::slug;

/// One product as the catalog describes it; blank fields are derived later.
#[derive(Clone, Debug, Default)]
pub struct CatalogRow {
    pub sku: String,
    pub title: String,
    pub url: String,
    pub image: String,
    pub price: Option<f32>,
    pub category: String,
    pub brand: String,
    pub tags: Vec<String>,
    pub in_stock: bool,
    /// When the product was added (unix seconds, wall-clock as UTC); none when blank.
    pub created_at: Option<i64>,
}

struct Columns {
    id: usize,
    title: Option<usize>,
    url: Option<usize>,
    image: Option<usize>,
    price: Option<usize>,
    category: Option<usize>,
    brand: Option<usize>,
    tags: Option<usize>,
    in_stock: Option<usize>,
    created_at: Option<usize>,
}

impl Columns {
    fn find(h: &Header, c: &CatalogColumns) -> Result<Columns> {
        let opt = |key: &str, configured: &Option<String>, default: &str| h.optional(&format!("catalog.columns.{key}"), configured.as_deref(), default);
        Ok(Columns {
            id: h.required("catalog.columns.id", &c.id)?,
            title: opt("title", &c.title, "title")?,
            url: opt("url", &c.url, "url")?,
            image: opt("image", &c.image, "image")?,
            price: opt("price", &c.price, "price")?,
            category: opt("category", &c.category, "category")?,
            brand: opt("brand", &c.brand, "brand")?,
            tags: opt("tags", &c.tags, "tags")?,
            in_stock: opt("in_stock", &c.in_stock, "in_stock")?,
            created_at: opt("created_at", &c.created_at, "created_at")?,
        })
    }

    fn used(&self) -> [Option<usize>; 10] {
        [Some(self.id), self.title, self.url, self.image, self.price, self.category, self.brand, self.tags, self.in_stock, self.created_at]
    }
}

/// Reads the catalog: one product per row, ids unique (normalised like order SKUs). `path`
/// names it in the report.
pub fn read(path: &std::path::Path, rows: &mut Rows, config: &Config, bad: &mut BadRows) -> Result<(Vec<CatalogRow>, CatalogReport)> {
    let cols = Columns::find(rows.header(), &config.catalog.columns)?;
    rows.select(&cols.used())?;
    let width = rows.header().len();
    let separator = config.catalog.tags_separator.as_str();
    let mut dates = DateParser::with_rfc3339(&config.catalog.date_format);

    let mut products = Vec::new();
    let mut first_place: FxHashMap<String, Place> = FxHashMap::default();
    let mut report = CatalogReport { file: path.into(), ..Default::default() };
    let mut record = ByteRecord::new();
    while let Some(place) = rows.next(&mut record)? {
        report.rows += 1;
        let name = |c: usize| rows.header().name(c).to_string();
        match row(&record, &cols, width, separator, config.cleaning.uppercase_skus, &mut dates) {
            Ok(product) => {
                if let Some(first) = first_place.get(&product.sku) {
                    bad.record(place, Some(&name(cols.id)), format!("duplicate id {:?} (first on {first})", product.sku))?;
                    continue;
                }
                first_place.insert(product.sku.clone(), place);
                products.push(product);
            }
            Err((column, message)) => bad.record(place, column.map(name).as_deref(), message)?,
        }
    }
    report.products = products.len() as u64;
    Ok((products, report))
}

fn row(r: &ByteRecord, c: &Columns, width: usize, separator: &str, uppercase: bool, dates: &mut DateParser) -> Result<CatalogRow, (Option<usize>, String)> {
    if r.len() != width {
        return Err((None, format!("expected {width} fields, found {}", r.len())));
    }
    let get = |i: Option<usize>| i.map_or(Ok(""), |i| text(&r[i]).map(str::trim).map_err(|m| (Some(i), m)));
    let mut sku = get(Some(c.id))?.to_string();
    if sku.is_empty() {
        return Err((Some(c.id), "empty".into()));
    }
    if uppercase {
        sku.make_ascii_uppercase();
    }
    let price = match get(c.price)? {
        "" => None,
        p => Some(decimal(p).map_err(|m| (c.price, m))? as f32),
    };
    for (col, value) in [(c.url, get(c.url)?), (c.image, get(c.image)?)] {
        super::fields::link(value).map_err(|m| (col, m))?;
    }
    let created_at = match get(c.created_at)? {
        "" => None,
        d => Some(dates.parse(d).map_err(|m| (c.created_at, m))?),
    };
    let tags = get(c.tags)?.split(separator).map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect();
    Ok(CatalogRow {
        sku,
        title: get(c.title)?.into(),
        url: get(c.url)?.into(),
        image: get(c.image)?.into(),
        price,
        category: get(c.category)?.into(),
        brand: get(c.brand)?.into(),
        tags,
        in_stock: in_stock(get(c.in_stock)?).map_err(|m| (c.in_stock, m))?,
        created_at,
    })
}

/// Keyword rules: the first category with a keyword at the start of a word of the title.
pub struct CategoryRules {
    rules: Vec<(String, Vec<String>)>,
    default: String,
}

impl CategoryRules {
    pub fn new(rules: &IndexMap<String, Vec<String>>, default: &str) -> Option<Self> {
        if rules.is_empty() {
            return None;
        }
        let rules = rules.iter().map(|(name, words)| (name.clone(), words.iter().map(|w| w.trim().to_uppercase()).collect())).collect();
        Some(CategoryRules { rules, default: default.into() })
    }

    pub fn categorise(&self, title: &str) -> &str {
        let title = title.to_uppercase();
        self.rules.iter().find(|(_, words)| words.iter().any(|w| starts_a_word(&title, w))).map_or(self.default.as_str(), |(name, _)| name)
    }

    /// Category names in rule order, the default last.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|(n, _)| n.as_str()).chain(std::iter::once(self.default.as_str()))
    }
}

/// `word` occurs in `text` at the start of a word ("LIGHT" in "T-LIGHT", not in "DELIGHT").
fn starts_a_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
}

/// Fills `{sku}` (percent-encoded) and `{slug}` in a URL template.
pub fn fill_template(template: &str, sku: &str, title: &str) -> String {
    if template.is_empty() {
        return String::new();
    }
    let mut out = template.replace("{sku}", &percent_encode(sku));
    if out.contains("{slug}") {
        out = out.replace("{slug}", &slug(title));
    }
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_category_wins_at_word_starts() {
        let mut m = IndexMap::new();
        m.insert("Candles & Lights".to_string(), vec!["T-LIGHT".to_string(), "LIGHT".to_string()]);
        m.insert("Home".to_string(), vec!["HEART".to_string()]);
        let r = CategoryRules::new(&m, "Other").unwrap();
        assert_eq!(r.categorise("WHITE HANGING HEART T-LIGHT HOLDER"), "Candles & Lights");
        assert_eq!(r.categorise("heart of wicker"), "Home");
        assert_eq!(r.categorise("TURKISH DELIGHT"), "Other");
        assert_eq!(r.names().collect::<Vec<_>>(), ["Candles & Lights", "Home", "Other"]);
    }

    #[test]
    fn templates() {
        assert_eq!(slug("WHITE HANGING HEART T-LIGHT HOLDER "), "white-hanging-heart-t-light-holder");
        assert_eq!(fill_template("/products/{sku}", "85123A", ""), "/products/85123A");
        assert_eq!(fill_template("/p/{sku}/{slug}", "A B", "Red Mug"), "/p/A%20B/red-mug");
        assert_eq!(fill_template("", "A", "B"), "");
    }
}
