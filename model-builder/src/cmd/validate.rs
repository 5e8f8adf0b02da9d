//! `model-builder validate`: a config checked without reading any data (the builder's own
//! checks and the engine's `Rules::check`, located by file, line and key).

use std::path::PathBuf;

use vitrine_model_builder::check;
use vitrine_model_builder::config::LoadedConfig;
use vitrine_model_builder::error::Result;

#[derive(clap::Args)]
pub struct Args {
    config: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    check::check(&LoadedConfig::read(&a.config)?)?;
    println!("ok");
    Ok(())
}
