//! `model-builder sample`: a small demo file drawn deterministically from a full export — the
//! most popular products, the orders of a spread of customers chosen by a hash of their id,
//! and some guest orders, with their raw dirt (cancellations, returns, postage) left in so
//! the demo shows the cleaning too. Customer ids are replaced by new numbers.

use std::fmt;
use std::path::PathBuf;

use csv::ByteRecord;
use indicatif::ProgressBar;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::config::{CleaningConfig, LoadedConfig, OrderColumns};
use crate::error::{Error, Result};
use crate::ingest;

/// Pseudonymous customer ids start here (the UCI ids are 12346..=18287).
const FIRST_PSEUDONYM: u64 = 50_001;

pub struct SampleOptions {
    pub config: PathBuf,
    pub orders: Option<PathBuf>,
    pub out: PathBuf,
    pub products: usize,
    pub customers: usize,
    pub guest_orders: usize,
}

pub struct SampleReport {
    pub out: PathBuf,
    pub rows: u64,
    pub bytes: u64,
    pub customers: usize,
    pub guest_orders: usize,
    pub products: usize,
}

impl fmt::Display for SampleReport {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "wrote {}: {} rows ({}), {} products, {} customers (renumbered from {FIRST_PSEUDONYM}), {} guest orders",
            self.out.display(),
            crate::fmt::n(self.rows),
            crate::fmt::bytes(self.bytes),
            self.products,
            self.customers,
            self.guest_orders
        )
    }
}

pub fn sample(opts: &SampleOptions) -> Result<SampleReport> {
    let loaded = LoadedConfig::read(&opts.config)?;
    crate::check::check(&loaded)?;
    let config = &loaded.config;
    let source = match (&opts.orders, &config.orders.path) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => loaded.resolve(p),
        (None, None) => return Err(Error::Invalid("no orders file: pass --orders CSV or set orders.path".into())),
    };
    let (ds, _) = ingest::ingest(config, &source, None, &ProgressBar::hidden())?;

    // The most popular products, by distinct orders.
    let mut orders_per_product = vec![0u32; ds.products.len()];
    for o in &ds.orders {
        let mut seen: Vec<u32> = ds.order_lines(o).iter().map(|l| l.product).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.iter().for_each(|&p| orders_per_product[p as usize] += 1);
    }
    let mut ranked: Vec<usize> = (0..ds.products.len()).collect();
    ranked.sort_by_key(|&p| (std::cmp::Reverse(orders_per_product[p]), ds.products[p].sku.clone()));
    ranked.truncate(opts.products);
    let top: FxHashSet<&str> = ranked.iter().map(|&p| ds.products[p].sku.as_str()).collect();
    let top_idx: FxHashSet<u32> = ranked.iter().map(|&p| p as u32).collect();
    let buys_top = |o: &crate::data::Order| ds.order_lines(o).iter().any(|l| top_idx.contains(&l.product));

    // Customers and guest orders, chosen by a hash of their id: a spread, the same each run.
    let mut customers: Vec<u32> = ds.orders.iter().filter(|o| buys_top(o)).filter_map(|o| o.customer).collect();
    customers.sort_unstable();
    customers.dedup();
    customers.sort_by_key(|&c| fnv(&ds.customers[c as usize]));
    customers.truncate(opts.customers);
    let chosen: FxHashSet<&str> = customers.iter().map(|&c| ds.customers[c as usize].as_str()).collect();
    let mut guests: Vec<&str> = ds.orders.iter().filter(|o| o.customer.is_none() && buys_top(o)).map(|o| o.invoice.as_str()).collect();
    guests.sort_by_key(|i| fnv(i));
    guests.truncate(opts.guest_orders);
    let guests: FxHashSet<&str> = guests.into_iter().collect();

    let rows = copy_rows(&source, &opts.out, config.orders.delimiter as u8, &config.orders.columns, |invoice, customer, sku| {
        let wanted_order = if customer.is_empty() { guests.contains(invoice) } else { chosen.contains(customer) };
        let sku = if config.cleaning.uppercase_skus { sku.to_ascii_uppercase() } else { sku.to_string() };
        wanted_order && (top.contains(sku.as_str()) || is_non_product(&sku, &config.cleaning))
    })?;
    let bytes = std::fs::metadata(&opts.out).map_err(Error::io(&opts.out))?.len();
    Ok(SampleReport { out: opts.out.clone(), rows, bytes, customers: chosen.len(), guest_orders: guests.len(), products: top.len() })
}

/// Copies the rows `keep(invoice, customer, sku)` accepts, renumbering customers.
fn copy_rows(source: &std::path::Path, out: &std::path::Path, delimiter: u8, columns: &OrderColumns, keep: impl Fn(&str, &str, &str) -> bool) -> Result<u64> {
    // Gzip'd sources by name, as the build reads them (the UCI export is kept as .csv.gz).
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(ingest::open(source)?);
    let headers = reader.byte_headers().map_err(|e| Error::Invalid(format!("{}: {e}", source.display())))?.clone();
    let header = ingest::Header::new(source, &headers)?;
    let invoice = header.required("orders.columns.invoice", &columns.invoice)?;
    let sku = header.required("orders.columns.sku", &columns.sku)?;
    let customer = header
        .optional("orders.columns.customer", columns.customer.as_deref(), OrderColumns::DEFAULT_CUSTOMER)?
        .ok_or_else(|| Error::Invalid("sampling needs a customer column".into()))?;

    let target = std::fs::File::create(out).map_err(Error::io(out))?;
    let mut writer = csv::WriterBuilder::new().delimiter(delimiter).from_writer(std::io::BufWriter::new(target));
    let write_err = |e: csv::Error| Error::Invalid(format!("{}: {e}", out.display()));
    writer.write_byte_record(&headers).map_err(write_err)?;
    let mut pseudonyms: FxHashMap<Vec<u8>, u64> = FxHashMap::default();
    let mut record = ByteRecord::new();
    let mut rows = 0;
    while reader.read_byte_record(&mut record).map_err(|e| Error::Invalid(format!("{}: {e}", source.display())))? {
        if record.len() != headers.len() {
            continue;
        }
        let text = |i: usize| std::str::from_utf8(&record[i]).unwrap_or("").trim();
        if !keep(text(invoice), text(customer), text(sku)) {
            continue;
        }
        let mut row = ByteRecord::new();
        for (i, field) in record.iter().enumerate() {
            if i == customer && !field.is_empty() {
                let next = FIRST_PSEUDONYM + pseudonyms.len() as u64;
                let id = *pseudonyms.entry(field.to_vec()).or_insert(next);
                row.push_field(id.to_string().as_bytes());
            } else {
                row.push_field(field);
            }
        }
        writer.write_byte_record(&row).map_err(write_err)?;
        rows += 1;
    }
    writer.flush().map_err(Error::io(out))?;
    Ok(rows)
}

fn is_non_product(sku: &str, cleaning: &CleaningConfig) -> bool {
    let lower = sku.to_ascii_lowercase();
    cleaning.non_product_skus.iter().any(|s| s.eq_ignore_ascii_case(sku))
        || cleaning.non_product_prefixes.iter().any(|p| lower.starts_with(&p.to_ascii_lowercase()))
}

/// FNV-1a 64: a stable hash (std's hasher may change between releases).
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}
