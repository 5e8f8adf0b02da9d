//! `model-builder recommend`: what the tables recommend for one product or one segment, as text
//! or `--json`.

use std::path::PathBuf;

use vitrine_model_builder::error::Result;
use vitrine_model_builder::recommend::{recommend, render, Query};

#[derive(clap::Args)]
pub struct Args {
    bundle: PathBuf,
    #[command(flatten)]
    query: RecommendQuery,
    /// How many items per table.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Print JSON: the product asked about, then each table's items (rank, SKU, title, price, score).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct RecommendQuery {
    /// A product SKU: bought together and similar.
    #[arg(long, value_name = "SKU")]
    product: Option<String>,
    /// An RFM segment name: popular in that segment.
    #[arg(long, value_name = "NAME")]
    segment: Option<String>,
}

pub fn run(a: Args) -> Result<()> {
    let q = match (&a.query.product, &a.query.segment) {
        (Some(p), _) => Query::Product(p),
        (None, Some(s)) => Query::Segment(s),
        (None, None) => unreachable!("clap requires one of --product, --segment"),
    };
    let r = recommend(&a.bundle, q, a.k)?;
    if a.json {
        super::print_json(&r)
    } else {
        print!("{}", render(&r));
        Ok(())
    }
}
