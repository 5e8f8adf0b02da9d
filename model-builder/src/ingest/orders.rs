//! The streaming pass over the order lines (CSV or Parquet, `rows.rs`): read each row, check
//! it, classify it (sale, cancellation, return, non-product, …), and keep the sales in compact,
//! interned form.
//! `assemble` turns the result into a `Dataset`.

use csv::ByteRecord;
use indicatif::ProgressBar;

use super::bad_rows::BadRows;
use super::columns::Header;
use super::dates::DateParser;
use super::fields::{decimal, text, whole};
use super::intern::{Interner, LastSeen};
use super::parquet::TYPED_TIME_FORMATS;
use super::report::{AsRead, Dropped};
use super::rows::Rows;
use crate::config::{CleaningConfig, Config, OrderColumns};
use crate::error::Result;

pub const NONE: u32 = u32::MAX;
const NO_TIME: i64 = i64::MIN;

/// Column positions of the logical fields.
struct Columns {
    invoice: usize,
    sku: usize,
    quantity: usize,
    date: usize,
    price: usize,
    title: Option<usize>,
    customer: Option<usize>,
    country: Option<usize>,
}

impl Columns {
    fn find(header: &Header, c: &OrderColumns) -> Result<Columns> {
        Ok(Columns {
            invoice: header.required("orders.columns.invoice", &c.invoice)?,
            sku: header.required("orders.columns.sku", &c.sku)?,
            quantity: header.required("orders.columns.quantity", &c.quantity)?,
            date: header.required("orders.columns.date", &c.date)?,
            price: header.required("orders.columns.price", &c.price)?,
            title: header.optional("orders.columns.title", c.title.as_deref(), OrderColumns::DEFAULT_TITLE)?,
            customer: header.optional("orders.columns.customer", c.customer.as_deref(), OrderColumns::DEFAULT_CUSTOMER)?,
            country: header.optional("orders.columns.country", c.country.as_deref(), OrderColumns::DEFAULT_COUNTRY)?,
        })
    }

    fn used(&self) -> [Option<usize>; 8] {
        [Some(self.invoice), Some(self.sku), Some(self.quantity), Some(self.date), Some(self.price), self.title, self.customer, self.country]
    }
}

/// What a stock code is, decided once per distinct code.
#[derive(Clone, Copy, Debug)]
pub enum SkuClass {
    Product(u32),
    NonProduct,
    NotInCatalog,
}

/// First values seen for an invoice: later lines with a blank date, customer or country (as
/// in Shopify exports, where only an order's first line carries them) inherit these.
#[derive(Clone, Copy)]
pub struct InvoiceInfo {
    time: i64,
    customer: u32,
    country: u32,
    /// Index into `orders`, once the invoice has a kept line.
    order: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct TmpOrder {
    pub invoice: u32,
    pub customer: u32,
    pub country: u32,
    pub time: i64,
}

#[derive(Clone, Copy, Debug)]
pub struct TmpLine {
    pub order: u32,
    pub product: u32,
    pub quantity: u32,
    pub unit_price: f32,
}

/// A cancellation line, kept to undo the sale it cancels.
#[derive(Clone, Copy, Debug)]
pub struct Cancellation {
    pub customer: u32,
    pub product: u32,
    pub quantity: u32,
    pub time: i64,
}

/// Evidence for a product's title and price, gathered from its kept lines.
#[derive(Clone, Debug, Default)]
pub struct ProductEvidence {
    /// Descriptions and how many lines used each, in order of first use.
    pub titles: Vec<(Box<str>, u32)>,
    pub prices: Vec<f32>,
}

impl ProductEvidence {
    fn vote(&mut self, title: &str) {
        match self.titles.iter_mut().find(|(t, _)| &**t == title) {
            Some((_, n)) => *n += 1,
            None => self.titles.push((title.into(), 1)),
        }
    }

    /// The most used description (the first one on a tie).
    pub fn title(&self) -> Option<&str> {
        let mut best: Option<&(Box<str>, u32)> = None;
        for t in &self.titles {
            if best.is_none_or(|b| t.1 > b.1) {
                best = Some(t);
            }
        }
        best.map(|(t, _)| &**t)
    }
}

/// Everything the pass keeps.
#[derive(Default)]
pub struct RawOrders {
    pub invoices: Interner,
    pub invoice_info: Vec<InvoiceInfo>,
    pub raw_skus: Interner,
    pub sku_class: Vec<SkuClass>,
    /// Products by (normalised) SKU; with a catalog, its products come first, in its order.
    pub products: Interner,
    pub evidence: Vec<ProductEvidence>,
    pub customers: Interner,
    pub countries: Interner,
    pub orders: Vec<TmpOrder>,
    pub lines: Vec<TmpLine>,
    pub cancellations: Vec<Cancellation>,
    pub rows: u64,
    pub as_read_value: f64,
    pub dropped: Dropped,
    pub guest_lines: u64,
    pub placeholder_title_lines: u64,
}

impl RawOrders {
    pub fn as_read(&self) -> AsRead {
        AsRead {
            invoices: self.invoices.len() as u64,
            skus: self.raw_skus.len() as u64,
            customers: self.customers.len() as u64,
            countries: self.countries.len() as u64,
            value: self.as_read_value,
        }
    }
}

/// One row's problem: the column it is in (if one) and what is wrong.
type RowError = (Option<usize>, String);

struct Pass<'a> {
    cols: Columns,
    width: usize,
    cleaning: &'a CleaningConfig,
    /// With a catalog, SKUs outside it are not products.
    closed_catalog: bool,
    dates: DateParser,
    last_invoice: LastSeen<u32>,
    last_customer: LastSeen<u32>,
    last_country: LastSeen<u32>,
    out: RawOrders,
}

/// Reads the order lines. `catalog_skus`, when given, seeds the products (already
/// normalised) and closes the catalog.
pub fn read(rows: &mut Rows, config: &Config, catalog_skus: Option<&[String]>, bad: &mut BadRows, progress: &ProgressBar) -> Result<RawOrders> {
    let cols = Columns::find(rows.header(), &config.orders.columns)?;
    rows.select(&cols.used())?;
    // Typed dates (Parquet) come as text in known formats, whatever the export's text says.
    let date_formats = if rows.is_time(cols.date) { TYPED_TIME_FORMATS.map(String::from).to_vec() } else { config.orders.date_format.clone() };
    let width = rows.header().len();

    let mut out = RawOrders::default();
    if let Some(skus) = catalog_skus {
        for sku in skus {
            out.products.intern(sku);
            out.evidence.push(ProductEvidence::default());
        }
    }
    let mut pass = Pass {
        cols,
        width,
        cleaning: &config.cleaning,
        closed_catalog: catalog_skus.is_some(),
        dates: DateParser::new(&date_formats),
        last_invoice: LastSeen::default(),
        last_customer: LastSeen::default(),
        last_country: LastSeen::default(),
        out,
    };

    let mut record = ByteRecord::new();
    while let Some(place) = rows.next(&mut record)? {
        pass.out.rows += 1;
        if pass.out.rows.is_multiple_of(16_384) {
            progress.set_position(rows.position());
        }
        if let Err((column, message)) = pass.row(&record) {
            bad.record(place, column.map(|c| rows.header().name(c)), message)?;
        }
    }
    Ok(pass.out)
}

impl Pass<'_> {
    fn row(&mut self, r: &ByteRecord) -> Result<(), RowError> {
        if r.len() != self.width {
            return Err((None, format!("expected {} fields, found {} (a stray delimiter or quote?)", self.width, r.len())));
        }
        let c = &self.cols;
        let field = |i: usize| text(&r[i]).map_err(|m| (Some(i), m));
        let optional = |i: Option<usize>| i.map_or(Ok(""), |i| text(&r[i]).map_err(|m| (Some(i), m)));

        // Read and check every field before counting anything, so a bad row leaves no trace.
        let invoice = field(c.invoice)?.trim();
        if invoice.is_empty() {
            return Err((Some(c.invoice), "empty".into()));
        }
        let sku = field(c.sku)?.trim();
        if sku.is_empty() {
            return Err((Some(c.sku), "empty".into()));
        }
        let quantity = whole(field(c.quantity)?).map_err(|m| (Some(c.quantity), m))?;
        let price = decimal(field(c.price)?).map_err(|m| (Some(c.price), m))?;
        let title = optional(c.title)?.trim();
        let customer = optional(c.customer)?.trim();
        let country = optional(c.country)?.trim();
        let date = field(c.date)?.trim();

        let time = if date.is_empty() {
            // Inherit the date of the invoice's earlier lines, if there were any.
            let earlier = self.out.invoices.get(invoice).map(|id| self.out.invoice_info[id as usize].time);
            earlier.filter(|&t| t != NO_TIME).ok_or((Some(c.date), "empty, expected a date".to_string()))?
        } else {
            self.dates.parse(date).map_err(|m| (Some(c.date), m))?
        };
        let Ok(quantity_u32) = u32::try_from(quantity.unsigned_abs()) else {
            return Err((Some(c.quantity), format!("{quantity} is too large")));
        };

        // The row is good: count it as read.
        let (invoice_id, _) = self.invoice(invoice);
        let inherited = self.out.invoice_info[invoice_id as usize];
        let customer = if customer.is_empty() { inherited.customer } else { intern_cached(&mut self.out.customers, &mut self.last_customer, customer) };
        let country = if country.is_empty() { inherited.country } else { intern_cached(&mut self.out.countries, &mut self.last_country, country) };
        let info = &mut self.out.invoice_info[invoice_id as usize];
        if info.time == NO_TIME {
            info.time = time;
        }
        if info.customer == NONE {
            info.customer = customer;
        }
        if info.country == NONE {
            info.country = country;
        }
        let class = self.sku_class(sku);
        self.out.as_read_value += quantity as f64 * price;

        // Classify: the first reason that applies.
        let cl = self.cleaning;
        let dropped = &mut self.out.dropped;
        if !cl.cancelled_prefix.is_empty() && invoice.starts_with(cl.cancelled_prefix.as_str()) {
            dropped.cancelled += 1;
            if let (SkuClass::Product(product), true, true) = (class, customer != NONE, quantity < 0) {
                self.out.cancellations.push(Cancellation { customer, product, quantity: quantity_u32, time });
            }
            return Ok(());
        }
        let product = match class {
            SkuClass::NonProduct => {
                dropped.non_product += 1;
                return Ok(());
            }
            _ if quantity <= 0 => {
                dropped.non_positive_quantity += 1;
                return Ok(());
            }
            _ if price <= 0.0 => {
                dropped.non_positive_price += 1;
                return Ok(());
            }
            SkuClass::NotInCatalog => {
                dropped.not_in_catalog += 1;
                return Ok(());
            }
            SkuClass::Product(p) => p,
        };
        let quantity = quantity_u32;

        let info = &mut self.out.invoice_info[invoice_id as usize];
        if info.order == NONE {
            info.order = self.out.orders.len() as u32;
            self.out.orders.push(TmpOrder { invoice: invoice_id, customer, country, time });
        }
        let order = info.order;
        self.out.lines.push(TmpLine { order, product, quantity, unit_price: price as f32 });
        if customer == NONE {
            self.out.guest_lines += 1;
        }
        let evidence = &mut self.out.evidence[product as usize];
        evidence.prices.push(price as f32);
        if title.is_empty() || cl.placeholder_titles.iter().any(|p| p.eq_ignore_ascii_case(title)) {
            self.out.placeholder_title_lines += 1;
        } else {
            evidence.vote(title);
        }
        Ok(())
    }

    fn invoice(&mut self, invoice: &str) -> (u32, bool) {
        if let Some(id) = self.last_invoice.get(invoice.as_bytes()) {
            return (id, false);
        }
        let (id, new) = self.out.invoices.intern(invoice);
        if new {
            self.out.invoice_info.push(InvoiceInfo { time: NO_TIME, customer: NONE, country: NONE, order: NONE });
        }
        self.last_invoice.set(invoice.as_bytes(), id);
        (id, new)
    }

    fn sku_class(&mut self, sku: &str) -> SkuClass {
        let (raw, new) = self.out.raw_skus.intern(sku);
        if !new {
            return self.out.sku_class[raw as usize];
        }
        let cl = self.cleaning;
        let lower = sku.to_ascii_lowercase();
        let class = if cl.non_product_skus.iter().any(|s| s.eq_ignore_ascii_case(sku))
            || cl.non_product_prefixes.iter().any(|p| lower.starts_with(&p.to_ascii_lowercase()))
        {
            SkuClass::NonProduct
        } else {
            let normalised = if cl.uppercase_skus { sku.to_ascii_uppercase() } else { sku.to_string() };
            match self.out.products.get(&normalised) {
                Some(p) => SkuClass::Product(p),
                None if self.closed_catalog => SkuClass::NotInCatalog,
                None => {
                    let (p, _) = self.out.products.intern(&normalised);
                    self.out.evidence.push(ProductEvidence::default());
                    SkuClass::Product(p)
                }
            }
        };
        self.out.sku_class.push(class);
        class
    }
}

fn intern_cached(interner: &mut Interner, last: &mut LastSeen<u32>, s: &str) -> u32 {
    if let Some(id) = last.get(s.as_bytes()) {
        return id;
    }
    let (id, _) = interner.intern(s);
    last.set(s.as_bytes(), id);
    id
}
