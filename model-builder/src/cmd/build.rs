//! `model-builder build`: config + exports -> bundle (+ private profiles), then a summary.

use std::path::PathBuf;

use vitrine_model_builder::build::{build, BuildOptions};
use vitrine_model_builder::error::Result;
use vitrine_model_builder::progress::Progress;
use vitrine_model_builder::summary;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    #[arg(long, value_name = "BUNDLE")]
    out: PathBuf,
    /// Order lines CSV (overrides orders.path).
    #[arg(long, value_name = "CSV")]
    orders: Option<PathBuf>,
    /// Catalog CSV (overrides catalog.path).
    #[arg(long, value_name = "CSV")]
    catalog: Option<PathBuf>,
    /// Write the private customer profiles (JSONL) here.
    #[arg(long, value_name = "OUT")]
    profiles: Option<PathBuf>,
    /// Customers export CSV: names, contacts, consent (overrides customers.path). Goes into the
    /// private profiles only, never the bundle.
    #[arg(long, value_name = "CSV")]
    customers: Option<PathBuf>,
    /// Customer ids erased by privacy requests, one per line (`scripts/privacy.sh erased`):
    /// left out of the profiles.
    #[arg(long, value_name = "FILE")]
    erased: Option<PathBuf>,
    /// Build from the aggregates counted elsewhere (sql/SCHEMA.md: totals.csv, items.csv, …,
    /// and the cleaned catalog products.csv) instead of from order lines.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["orders", "catalog"])]
    aggregates: Option<PathBuf>,
    /// Also write the aggregates counted from the order lines to DIR (to compare with SQL's).
    #[arg(long, value_name = "DIR", conflicts_with = "aggregates")]
    write_aggregates: Option<PathBuf>,
    /// Measurement record files (`*.jsonl`, `*.jsonl.gz`, or folders of them, as the edge writes
    /// them to R2): product views and orders make the viewed-together and
    /// bought-after-viewing tables, and views count towards trending (`[recs] view_weight`).
    #[arg(long, value_name = "FILES", num_args = 1..)]
    events: Vec<PathBuf>,
    /// No progress bars and no summary.
    #[arg(long)]
    quiet: bool,
    /// Print the summary as JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let Args { config, out, orders, catalog, profiles, customers, erased, aggregates, write_aggregates, events, quiet, json } = a;
    let s =
        build(&BuildOptions { config, out, orders, catalog, profiles, customers, erased, aggregates, write_aggregates, events }, Progress::new(quiet || json))?;
    if json {
        super::print_json(&s)?;
    } else if !quiet {
        print!("{}", summary::render(&s));
    }
    Ok(())
}
