//! `vitrine.toml`: how to read the store's exports, how to clean them, how to build the tables,
//! and the rules stored in the bundle (deserialized straight into the engine's types).
//!
//! Every section denies unknown keys, so a typo is an error that names file, line, column and
//! key, never a silently ignored setting. [`crate::check`] then checks what types cannot say.

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use vitrine_engine::journey::{Journey, Messaging};
use vitrine_engine::predict::PredictConfig;
use vitrine_engine::rules::{Experiment, Measurement, Merchandising, Offer, PageRule, Placement, Rules, SegmentRule, Store, UniqueCode};
use vitrine_engine::Value;

use crate::error::{Error, Located, Result};
use crate::recs::RecsConfig;

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub store: Store,
    #[serde(default)]
    pub orders: OrdersConfig,
    #[serde(default)]
    pub catalog: CatalogConfig,
    #[serde(default)]
    pub customers: CustomersConfig,
    #[serde(default)]
    pub cleaning: CleaningConfig,
    #[serde(default)]
    pub recs: RecsConfig,
    /// `[predict]`: horizons and thresholds of the predicted traits in the private profiles
    /// (`vitrine_engine::predict::PredictConfig`).
    #[serde(default)]
    pub predict: PredictConfig,

    // The rules stored in the bundle: the fields of `vitrine_engine::rules::Rules`. They are
    // listed here rather than flattened because serde cannot combine `flatten` with
    // `deny_unknown_fields`.
    #[serde(default)]
    pub pages: Vec<PageRule>,
    #[serde(default)]
    pub segments: Vec<SegmentRule>,
    #[serde(default)]
    pub saved_groups: vitrine_engine::Map<Vec<Value>>,
    #[serde(default)]
    pub placements: Vec<Placement>,
    #[serde(default)]
    pub offers: Vec<Offer>,
    #[serde(default)]
    pub experiments: Vec<Experiment>,
    #[serde(default)]
    pub journeys: Vec<Journey>,
    #[serde(default)]
    pub messaging: Messaging,
    #[serde(default)]
    pub measurement: Measurement,
    #[serde(default)]
    pub unique_codes: Vec<UniqueCode>,
    #[serde(default)]
    pub merchandising: Vec<Merchandising>,
}

/// `[orders]`: the order-lines export, one row per line item.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OrdersConfig {
    /// Relative to the config file; `--orders` overrides it.
    pub path: Option<PathBuf>,
    pub delimiter: char,
    /// chrono formats, tried in order (`%Y-%m-%d %H:%M:%S`, `%m/%d/%Y %H:%M`, `%Y-%m-%d %H:%M:%S %z`).
    #[serde(deserialize_with = "one_or_many")]
    #[schemars(schema_with = "one_or_many_schema")]
    pub date_format: Vec<String>,
    pub columns: OrderColumns,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig { path: None, delimiter: ',', date_format: vec!["%Y-%m-%d %H:%M:%S".into()], columns: OrderColumns::default() }
    }
}

/// Header names of the logical fields. Defaults are the UCI Online Retail names.
///
/// The optional ones (`title`, `customer`, `country`): unset means "use the default name if the
/// header has it", `""` means "this export has none", a name must be in the header.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OrderColumns {
    pub invoice: String,
    pub sku: String,
    pub quantity: String,
    pub date: String,
    pub price: String,
    pub title: Option<String>,
    pub customer: Option<String>,
    pub country: Option<String>,
}

impl Default for OrderColumns {
    fn default() -> Self {
        OrderColumns {
            invoice: "InvoiceNo".into(),
            sku: "StockCode".into(),
            quantity: "Quantity".into(),
            date: "InvoiceDate".into(),
            price: "UnitPrice".into(),
            title: None,
            customer: None,
            country: None,
        }
    }
}

impl OrderColumns {
    pub const DEFAULT_TITLE: &'static str = "Description";
    pub const DEFAULT_CUSTOMER: &'static str = "CustomerID";
    pub const DEFAULT_COUNTRY: &'static str = "Country";
}

/// `[catalog]`: an optional product export, and how to derive what it lacks.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// Relative to the config file; `--catalog` overrides it. Without a catalog, products come
    /// from the order lines.
    pub path: Option<PathBuf>,
    pub delimiter: char,
    pub columns: CatalogColumns,
    /// Separates tags within the tags field.
    pub tags_separator: String,
    /// Product URL when the catalog has none: `{sku}` and `{slug}` (from the title) are filled.
    pub url_template: String,
    /// Image URL when the catalog has none (empty: no image).
    pub image_template: String,
    /// Keyword rules deriving a category from the title when the data has none:
    /// `"Candles & Lights" = ["T-LIGHT", "CANDLE"]`. The first category (in file order) with a
    /// keyword at the start of a word of the title wins.
    pub categories: IndexMap<String, Vec<String>>,
    /// Category of products no keyword matches (only when `categories` is set).
    pub default_category: String,
    /// chrono formats of `created_at`, tried in order after RFC 3339 (`2024-05-01T09:30:00Z`,
    /// always understood); a date without a time is midnight. Default: `%Y-%m-%d`,
    /// `%Y-%m-%d %H:%M:%S`. Like order dates, the wall-clock time is read as UTC.
    #[serde(deserialize_with = "one_or_many")]
    #[schemars(schema_with = "one_or_many_schema")]
    pub date_format: Vec<String>,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig {
            path: None,
            delimiter: ',',
            columns: CatalogColumns::default(),
            tags_separator: ",".into(),
            url_template: "/products/{sku}".into(),
            image_template: String::new(),
            categories: IndexMap::new(),
            default_category: "Other".into(),
            date_format: vec!["%Y-%m-%d".into(), "%Y-%m-%d %H:%M:%S".into()],
        }
    }
}

/// Header names in the catalog export. `id` is required; the others work like the optional
/// order columns (unset: the default name if present).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogColumns {
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub image: Option<String>,
    pub price: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub tags: Option<String>,
    pub in_stock: Option<String>,
    /// When the product was added to the store (a date or a timestamp: `date_format`): what
    /// the `new_arrivals` list ranks by. Unset: `created_at` if the header has it.
    pub created_at: Option<String>,
}

impl Default for CatalogColumns {
    fn default() -> Self {
        CatalogColumns {
            id: "id".into(),
            title: None,
            url: None,
            image: None,
            price: None,
            category: None,
            brand: None,
            tags: None,
            in_stock: None,
            created_at: None,
        }
    }
}

/// `[customers]`: an optional customers export (names, contacts, consent). It goes into the
/// private profiles only, never the bundle.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CustomersConfig {
    /// Relative to the config file; `--customers` overrides it.
    pub path: Option<PathBuf>,
    pub delimiter: char,
    /// ISO 3166 country of phone numbers written without a country code (`07400 123456`).
    pub default_country: String,
    pub columns: CustomerColumns,
}

impl Default for CustomersConfig {
    fn default() -> Self {
        CustomersConfig { path: None, delimiter: ',', default_country: "GB".into(), columns: CustomerColumns::default() }
    }
}

/// Header names in the customers export. `id` (the customer id of the orders export) is
/// required; the others are optional (unset: the default name if present).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CustomerColumns {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Consent to marketing email / SMS: yes/no, true/false, 1/0.
    pub email_consent: Option<String>,
    pub sms_consent: Option<String>,
    /// When and where consent was given (kept as written: the store's own record).
    pub consent_at: Option<String>,
    pub consent_source: Option<String>,
    pub created_at: Option<String>,
}

impl Default for CustomerColumns {
    fn default() -> Self {
        CustomerColumns {
            id: "customer_id".into(),
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            email_consent: None,
            sms_consent: None,
            consent_at: None,
            consent_source: None,
            created_at: None,
        }
    }
}

/// `[cleaning]`: what is not a sale, and what to do with rows that cannot be read.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CleaningConfig {
    /// Invoices starting with this are cancellations ("" disables).
    pub cancelled_prefix: String,
    /// A cancellation line also removes the original line it cancels (same customer, SKU and
    /// quantity, the latest before it), so an order placed by mistake and cancelled does not
    /// count as a sale.
    pub reverse_cancellations: bool,
    /// Stock codes that are not products (postage, fees, manual adjustments), case-insensitive.
    pub non_product_skus: Vec<String>,
    /// Prefixes of stock codes that are not products (gift vouchers), case-insensitive.
    pub non_product_prefixes: Vec<String>,
    /// Merge SKUs that differ only in case (`85123a` and `85123A`).
    pub uppercase_skus: bool,
    /// Descriptions that say nothing about the product; they never become a title.
    pub placeholder_titles: Vec<String>,
    pub bad_rows: BadRowPolicy,
    /// Under `skip`, more bad rows than this stop the build (the file is probably mis-mapped).
    pub max_bad_rows: u64,
}

impl Default for CleaningConfig {
    fn default() -> Self {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect();
        CleaningConfig {
            cancelled_prefix: "C".into(),
            reverse_cancellations: true,
            non_product_skus: words(&["POST", "DOT", "M", "C2", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS"]),
            non_product_prefixes: words(&["gift_"]),
            uppercase_skus: false,
            placeholder_titles: words(&["Unknown", "?", "??"]),
            bad_rows: BadRowPolicy::Skip,
            max_bad_rows: 1000,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BadRowPolicy {
    /// Count the row, show the first few in the summary, go on.
    #[default]
    Skip,
    /// Stop the build at the first bad row.
    Stop,
}

impl Config {
    /// The rules section as the engine stores it.
    pub fn rules(&self) -> Rules {
        Rules {
            pages: self.pages.clone(),
            segments: self.segments.clone(),
            saved_groups: self.saved_groups.clone(),
            placements: self.placements.clone(),
            offers: self.offers.clone(),
            experiments: self.experiments.clone(),
            journeys: self.journeys.clone(),
            messaging: self.messaging.clone(),
            measurement: self.measurement.clone(),
            unique_codes: self.unique_codes.clone(),
            merchandising: self.merchandising.clone(),
        }
    }
}

/// A config with the text it came from, for checks that point back into the file.
pub struct LoadedConfig {
    pub path: PathBuf,
    pub source: String,
    pub config: Config,
}

impl LoadedConfig {
    /// Reads and parses the file: types, names and syntax (not the semantic checks).
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(Error::io(path))?;
        let source = String::from_utf8(bytes).map_err(|e| {
            Error::Config(Located {
                file: path.into(),
                line: None,
                column: None,
                key: String::new(),
                message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            })
        })?;
        let config = parse(path, &source)?;
        Ok(LoadedConfig { path: path.into(), source, config })
    }

    /// A path from the config, relative to the config file's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        match self.path.parent() {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.into(),
        }
    }
}

/// Parses config text; `file` only names it in errors.
pub fn parse(file: &Path, source: &str) -> Result<Config> {
    let de = toml::Deserializer::parse(source).map_err(|e| Error::Config(locate_toml_error(file, source, &e, "")))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = if key == "." { String::new() } else { key };
        Error::Config(locate_toml_error(file, source, e.inner(), &key))
    })
}

fn locate_toml_error(file: &Path, source: &str, e: &toml::de::Error, key: &str) -> Located {
    let (line, column) = match e.span() {
        Some(span) => {
            let (l, c) = line_col(source, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    // toml quotes names in backticks; plain quotes read better in a terminal.
    let message = e.message().trim().replace('`', "'");
    Located { file: file.into(), line, column, key: key.into(), message }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// `date_format`'s schema: what `one_or_many` reads.
fn one_or_many_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" }, "minItems": 1 }] })
}

/// Accepts `"fmt"` or `["fmt", "fmt"]`.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    struct OneOrMany;
    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or an array of strings")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            Ok(vec![v.to_owned()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_any(OneOrMany)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Config> {
        parse(Path::new("vitrine.toml"), s)
    }

    #[test]
    fn minimal_config_takes_uci_defaults() {
        let c = parse_str("[store]\nname = \"Shop\"\n").unwrap();
        assert_eq!(c.orders.columns.invoice, "InvoiceNo");
        assert_eq!(c.orders.date_format, ["%Y-%m-%d %H:%M:%S"]);
        assert_eq!(c.cleaning.bad_rows, BadRowPolicy::Skip);
    }

    #[test]
    fn typo_names_file_line_column_and_key() {
        let err = parse_str("[store]\nname = \"Shop\"\n\n[orders]\ndelimter = \";\"\n").unwrap_err().to_string();
        assert!(err.starts_with("vitrine.toml:5:1: "), "{err}");
        assert!(err.contains("unknown field 'delimter'"), "{err}");
        assert!(err.contains("orders"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_key_path() {
        let err = parse_str("[store]\nname = \"Shop\"\n\n[recs]\ntop_k = \"twelve\"\n").unwrap_err().to_string();
        assert!(err.starts_with("vitrine.toml:5:9: recs.top_k: "), "{err}");
    }

    #[test]
    fn category_rules_keep_file_order() {
        let c = parse_str("[store]\nname = \"S\"\n[catalog.categories]\nZeta = [\"Z\"]\nAlpha = [\"A\"]\n").unwrap();
        assert_eq!(c.catalog.categories.keys().collect::<Vec<_>>(), ["Zeta", "Alpha"]);
    }

    #[test]
    fn saved_groups_are_looked_up_by_name_and_bad_ones_named() {
        let c = parse_str("[store]\nname = \"S\"\n[saved_groups]\nstaff = [\"v2\", \"v1\"]\nbeta = [3]\n").unwrap();
        let groups = &c.rules().saved_groups;
        assert_eq!(groups.keys().collect::<Vec<_>>(), ["beta", "staff"]);
        assert_eq!(groups.get("staff").unwrap(), &vec![Value::from("v2"), Value::from("v1")]);
        let err = parse_str("[store]\nname = \"S\"\n[saved_groups]\nstaff = \"v1\"\n").unwrap_err().to_string();
        assert!(err.starts_with("vitrine.toml:4:9: saved_groups.staff: "), "{err}");
    }

    #[test]
    fn date_format_may_be_a_list() {
        let c = parse_str("[store]\nname = \"S\"\n[orders]\ndate_format = [\"%d/%m/%Y\", \"%Y-%m-%d\"]\n").unwrap();
        assert_eq!(c.orders.date_format.len(), 2);
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
