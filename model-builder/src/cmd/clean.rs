//! `model-builder clean`: the cleaned order lines (and catalog) the build would use, written
//! for SQL engines. The schema is documented in `lines.rs` and in `--help`.

use std::path::PathBuf;

use vitrine_model_builder::config::LoadedConfig;
use vitrine_model_builder::error::{Error, Result};
use vitrine_model_builder::progress::Progress;
use vitrine_model_builder::{check, fmt, ingest, lines};

/// The schema, shown by `clean --help` (the same as `lines.rs` documents).
const SCHEMA: &str = "\
Writes exactly the order lines `build` keeps, one row per kept line, orders by time; the
format follows the name: .csv, .csv.gz (gzip'd CSV) or .parquet. Columns:
  order_id     string
  customer_id  string; guests: empty in CSV, NULL in Parquet
  country      string
  time         int64: unix seconds of the export's local time read as UTC
  sku          string
  quantity     int64
  unit_price   double
--products writes the catalog the bundle carries: sku, title, url, image, price (double,
rounded to cents), category (by name), brand, tags (joined by |), in_stock (boolean).";

#[derive(clap::Args)]
#[command(after_help = SCHEMA)]
pub struct Args {
    /// The store's config (vitrine.toml): column mapping and [cleaning], as `build` reads it.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Order lines: CSV, .csv.gz or .parquet (overrides orders.path).
    #[arg(long, value_name = "FILE")]
    orders: Option<PathBuf>,
    /// Catalog: CSV, .csv.gz or .parquet (overrides catalog.path).
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// Where the cleaned order lines go: .csv, .csv.gz or .parquet.
    #[arg(long, value_name = "LINES")]
    out: PathBuf,
    /// Also write the cleaned catalog here: .csv, .csv.gz or .parquet.
    #[arg(long, value_name = "FILE")]
    products: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(a: Args) -> Result<()> {
    let loaded = LoadedConfig::read(&a.config)?;
    check::check(&loaded)?;
    let (orders, catalog) = ingest::input_paths(&loaded, a.orders.as_deref(), a.catalog.as_deref())?;
    let size = std::fs::metadata(&orders).map_err(Error::io(&orders))?.len();
    let bar = Progress::new(a.quiet).bytes_of("reading order lines", size);
    let (ds, report) = ingest::ingest(&loaded.config, &orders, catalog.as_deref(), &bar)?;
    bar.finish_and_clear();
    let written = lines::write_lines(&a.out, &ds)?;
    println!(
        "wrote {} order lines ({} orders, {} of {} rows read kept) to {}",
        fmt::n(written),
        fmt::n(ds.orders.len() as u64),
        fmt::n(report.kept_lines),
        fmt::n(report.rows),
        a.out.display()
    );
    if let Some(path) = &a.products {
        let products = lines::write_products(path, &ds)?;
        println!("wrote {} products to {}", fmt::n(products), path.display());
    }
    Ok(())
}
