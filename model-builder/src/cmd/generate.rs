//! `model-builder generate`: a large, deterministic store (orders, catalog, config) for the
//! scale benchmark.

use std::path::PathBuf;

use vitrine_model_builder::error::Result;
use vitrine_model_builder::generate::{default_customers, generate, GenerateOptions};

#[derive(clap::Args)]
pub struct Args {
    /// Folder to write orders.csv (or orders.csv.gz), catalog.csv and vitrine.toml into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Rows of the orders file, cancellations included (the benchmark sizes: 1000000, 3000000,
    /// 10000000).
    #[arg(long, default_value_t = 10_000_000)]
    lines: u64,
    /// Products in the catalog (the same 100k at every size by default: the catalog is what
    /// stresses the similarity and co-purchase tables).
    #[arg(long, default_value_t = 100_000)]
    products: u32,
    /// Customers who may order; about 60% do within the period [default: lines / 20: 500k at
    /// 10M lines (~300k with orders), 150k at 3M, 50k at 1M, so orders per customer are the
    /// same at every size].
    #[arg(long)]
    customers: Option<u32>,
    /// Years of orders, ending 2025-12-31.
    #[arg(long, default_value_t = 3)]
    years: u32,
    /// The same seed and sizes give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write orders.csv.gz instead of orders.csv.
    #[arg(long)]
    gzip: bool,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let Args { out, lines, products, customers, years, seed, gzip, json } = a;
    let customers = customers.unwrap_or_else(|| default_customers(lines));
    let g = generate(&GenerateOptions { out, lines, products, customers, years, seed, gzip })?;
    if json {
        super::print_json(&g)
    } else {
        println!("{g}");
        Ok(())
    }
}
