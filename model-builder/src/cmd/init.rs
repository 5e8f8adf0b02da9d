//! `model-builder init --orders CSV [--catalog CSV] [--out vitrine.toml]`: a starting config
//! from the exports' headers (`init.rs` in the library). Never overwrites a file.

use std::io::Write;
use std::path::PathBuf;

use vitrine_model_builder::error::{Error, Result};
use vitrine_model_builder::init;

#[derive(clap::Args)]
pub struct Args {
    /// The order-lines export (CSV, .csv.gz or Parquet): UCI Online Retail, Shopify's orders export, or similar.
    #[arg(long, value_name = "FILE")]
    orders: PathBuf,
    /// A product export (Shopify's products export, a Google Merchant feed, or similar).
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// Where to write the config; it must not exist yet.
    #[arg(long, value_name = "FILE", default_value = "vitrine.toml")]
    out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let started = init::init(&a.orders, a.catalog.as_deref(), &a.out)?;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&a.out).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::Invalid(format!("{} exists already; give another --out (init never overwrites a config)", a.out.display())),
        _ => Error::Io { path: a.out.clone(), source: e },
    })?;
    file.write_all(started.toml.as_bytes()).map_err(Error::io(&a.out))?;
    let found: Vec<String> = started.orders.columns.iter().map(|(k, v)| format!("{k} = {v:?}")).collect();
    eprintln!("{}: {} ({})", a.orders.display(), started.shape.describe(), found.join(", "));
    eprintln!("dates: {}", started.date_format.join(" or "));
    if let Some(c) = &started.catalog {
        let found: Vec<String> = c.columns.iter().map(|(k, v)| format!("{k} = {v:?}")).collect();
        eprintln!("{}: {}", c.path.display(), found.join(", "));
    }
    eprintln!("wrote {}; next: model-builder validate {0}", a.out.display());
    Ok(())
}
