//! `model-builder sample`: a small, deterministic demo sample of an orders file.

use std::path::PathBuf;

use vitrine_model_builder::error::Result;
use vitrine_model_builder::sample::{self, SampleOptions};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Orders CSV (or .csv.gz) to sample from (overrides orders.path).
    #[arg(long, value_name = "CSV")]
    orders: Option<PathBuf>,
    #[arg(long, value_name = "CSV")]
    out: PathBuf,
    /// Most popular products kept.
    #[arg(long, default_value_t = 200)]
    products: usize,
    /// Customers whose orders are kept.
    #[arg(long, default_value_t = 300)]
    customers: usize,
    /// Guest (no customer) orders kept.
    #[arg(long, default_value_t = 60)]
    guest_orders: usize,
}

pub fn run(a: Args) -> Result<()> {
    let Args { config, orders, out, products, customers, guest_orders } = a;
    println!("{}", sample::sample(&SampleOptions { config, orders, out, products, customers, guest_orders })?);
    Ok(())
}
