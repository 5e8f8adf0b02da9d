//! Reads the store's exports into a cleaned [`Dataset`], counting everything it keeps out.
//! Each export may be CSV, gzip'd CSV (`.csv.gz`) or Parquet (`.parquet`), by its name; all
//! three reach the same per-row code as text fields (`rows.rs`).
//!
//! One streaming pass over the order lines (byte records, interned strings, a cached
//! date parse), then one assembly step that sorts and groups. Cleaning, in this order, each
//! row counted under the first reason that applies:
//! 1. bad rows (malformed, bad number or date, invalid UTF-8): skipped or fatal, per policy;
//! 2. cancellation invoices (prefix `C`), which also undo the sale they cancel;
//! 3. non-product codes (postage, fees, adjustments, vouchers);
//! 4. quantity <= 0 (returns), 5. price <= 0, 6. products outside the catalog (if any).
//!
//! Lines without a customer stay (baskets, popularity) but make no customer profile.

mod assemble;
mod bad_rows;
mod catalog;
mod columns;
pub mod customers;
pub mod dates;
pub(crate) mod fields;
mod intern;
mod orders;
mod parquet;
mod report;
mod rows;

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;

pub use catalog::{fill_template, CategoryRules};
pub use columns::Header;
pub use report::{AsRead, CatalogReport, Dropped, IngestReport, BAD_ROWS_SHOWN};

use crate::config::{Config, LoadedConfig};
use crate::data::Dataset;
use crate::error::{Error, Result};
use bad_rows::BadRows;
pub use parquet::is_parquet;
pub use rows::{csv_error, open_rows, Place, Rows};

/// Whether `path` is gzip'd, by its name (`orders.csv.gz`): read through a decoder.
pub fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// An export's contents: the file as it is, or decompressed when its name ends in `.gz`
/// (several gzip members are read as one stream, as `gzip -d` does).
pub fn open(path: &Path) -> Result<Box<dyn std::io::Read>> {
    let file = std::fs::File::open(path).map_err(Error::io(path))?;
    Ok(if is_gzip(path) { Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file))) } else { Box::new(file) })
}

/// The orders and catalog files to read: the command line's, else the config's (relative to
/// the config file).
pub fn input_paths(loaded: &LoadedConfig, orders: Option<&Path>, catalog: Option<&Path>) -> Result<(PathBuf, Option<PathBuf>)> {
    let config = &loaded.config;
    let orders = match (orders, &config.orders.path) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(p)) => loaded.resolve(p),
        (None, None) => return Err(Error::Invalid(format!("no orders file: pass --orders FILE or set orders.path in {}", loaded.path.display()))),
    };
    let catalog = catalog.map(Path::to_path_buf).or_else(|| config.catalog.path.as_deref().map(|p| loaded.resolve(p)));
    Ok((orders, catalog))
}

/// The customers export (`[customers]`): CSV, gzip'd CSV or Parquet by name; bad rows
/// handled as `[cleaning]` says.
pub fn read_customers(config: &Config, path: &Path) -> Result<(Vec<customers::CustomerRow>, customers::CustomersReport)> {
    let mut rows = open_rows(path, config.customers.delimiter)?;
    let mut bad = BadRows::new(path.into(), config.cleaning.bad_rows, config.cleaning.max_bad_rows);
    customers::read(&mut rows, config, &mut bad)
}

/// Reads `orders` (and `catalog`, if given) as `config` says; each may be CSV, gzip'd CSV
/// (`.gz`) or Parquet (`.parquet`). `progress` is advanced in bytes of the orders file as
/// stored (compressed ones too; Parquet's in proportion to its rows read).
pub fn ingest(config: &Config, orders: &Path, catalog: Option<&Path>, progress: &ProgressBar) -> Result<(Dataset, IngestReport)> {
    let bytes = std::fs::metadata(orders).map_err(Error::io(orders))?.len();
    let catalog = match catalog {
        Some(path) => Some((path, open_rows(path, config.catalog.delimiter)?)),
        None => None,
    };
    if is_gzip(orders) && !is_parquet(orders) {
        // The bar follows the compressed bytes read; the CSV reader's positions are the
        // decompressed stream's, so it gets a bar nobody sees.
        progress.set_length(bytes);
        let file = std::fs::File::open(orders).map_err(Error::io(orders))?;
        let input = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(progress.wrap_read(file)));
        let rows = Rows::csv(orders, input, config.orders.delimiter)?;
        let hidden = ProgressBar::hidden();
        let done = ingest_from((orders, rows, bytes), catalog, config, &hidden);
        progress.set_position(bytes);
        return done;
    }
    let rows = open_rows(orders, config.orders.delimiter)?;
    ingest_from((orders, rows, bytes), catalog, config, progress)
}

/// The customers export from CSV bytes in memory, named `path` in errors (fuzzing: fuzz/).
pub fn read_customers_bytes(config: &Config, path: &Path, bytes: &[u8]) -> Result<(Vec<customers::CustomerRow>, customers::CustomersReport)> {
    let mut rows = Rows::csv(path, bytes, config.customers.delimiter)?;
    let mut bad = BadRows::new(path.into(), config.cleaning.bad_rows, config.cleaning.max_bad_rows);
    customers::read(&mut rows, config, &mut bad)
}

/// [`ingest`] from CSV bytes in memory, named `orders` and `catalog` in errors (fuzzing: fuzz/).
pub fn ingest_bytes(config: &Config, orders: (&Path, &[u8]), catalog: Option<(&Path, &[u8])>) -> Result<(Dataset, IngestReport)> {
    let rows = Rows::csv(orders.0, orders.1, config.orders.delimiter)?;
    let catalog = match catalog {
        Some((path, bytes)) => Some((path, Rows::csv(path, bytes, config.catalog.delimiter)?)),
        None => None,
    };
    ingest_from((orders.0, rows, orders.1.len() as u64), catalog, config, &ProgressBar::hidden())
}

/// `orders`: its name, rows and size in bytes (for the progress bar and report).
fn ingest_from(orders: (&Path, Rows, u64), catalog: Option<(&Path, Rows)>, config: &Config, progress: &ProgressBar) -> Result<(Dataset, IngestReport)> {
    let (orders, mut orders_rows, bytes) = orders;
    progress.set_length(bytes);
    let cleaning = &config.cleaning;

    let mut catalog_report = None;
    let mut catalog_bad = Vec::new();
    let catalog_rows = match catalog {
        Some((path, mut rows)) => {
            let mut bad = BadRows::new(path.into(), cleaning.bad_rows, cleaning.max_bad_rows);
            let (rows, mut rep) = catalog::read(path, &mut rows, config, &mut bad)?;
            rep.bad_rows = bad.count;
            catalog_bad = bad.first;
            catalog_report = Some(rep);
            Some(rows)
        }
        None => None,
    };
    let catalog_skus: Option<Vec<String>> = catalog_rows.as_ref().map(|rows| rows.iter().map(|r| r.sku.clone()).collect());

    let mut bad = BadRows::new(orders.into(), cleaning.bad_rows, cleaning.max_bad_rows);
    let raw = orders::read(&mut orders_rows, config, catalog_skus.as_deref(), &mut bad, progress)?;
    progress.set_position(bytes);

    let mut report = IngestReport {
        file: orders.into(),
        bytes,
        rows: raw.rows,
        as_read: raw.as_read(),
        dropped: raw.dropped.clone(),
        bad_rows: bad.count,
        first_bad_rows: catalog_bad.into_iter().chain(bad.first).take(BAD_ROWS_SHOWN).collect(),
        guest_lines: raw.guest_lines,
        placeholder_title_lines: raw.placeholder_title_lines,
        catalog: catalog_report,
        ..Default::default()
    };
    let (dataset, reversed) = assemble::assemble(raw, catalog_rows, config);
    report.dropped.reversed_by_cancellation = reversed;
    report.kept_lines = dataset.lines.len() as u64;
    // Guest lines undone by a cancellation cannot happen (cancellations need a customer).
    Ok((dataset, report))
}
