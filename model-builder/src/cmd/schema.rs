//! `model-builder schema`: prints the JSON Schema of `vitrine.toml` (`schema.rs`).

use vitrine_model_builder::error::Result;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_: Args) -> Result<()> {
    print!("{}", vitrine_model_builder::schema::config_schema());
    Ok(())
}
