//! `model-builder inspect`: what a bundle holds.

use std::path::PathBuf;

use vitrine_model_builder::error::Result;
use vitrine_model_builder::inspect;

#[derive(clap::Args)]
pub struct Args {
    bundle: PathBuf,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let i = inspect::inspect(&a.bundle)?;
    if a.json {
        super::print_json(&i)
    } else {
        print!("{}", inspect::render(&i));
        Ok(())
    }
}
