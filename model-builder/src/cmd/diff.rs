//! `model-builder diff OLD.bin NEW.bin`: what changed between two bundles (header, sizes,
//! products, tables, rules), as text or `--json`.

use std::path::PathBuf;

use vitrine_model_builder::diff;
use vitrine_model_builder::error::Result;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle serving now.
    old: PathBuf,
    /// The bundle about to be published.
    new: PathBuf,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let d = diff::diff(&a.old, &a.new)?;
    if a.json {
        super::print_json(&d)
    } else {
        print!("{}", diff::render(&d));
        Ok(())
    }
}
