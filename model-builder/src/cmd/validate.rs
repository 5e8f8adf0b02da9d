//! `model-builder validate`: a config checked without reading any data (the builder's own
//! checks and the engine's `Rules::check`, located by file, line and key). `--json` prints
//! `{"ok": bool, "problems": [{"file", "line", "column", "key", "message"}]}` on stdout, for
//! editors and CI; either way a config with problems exits 1.

use std::path::PathBuf;

use serde::Serialize;
use vitrine_model_builder::check;
use vitrine_model_builder::config::LoadedConfig;
use vitrine_model_builder::error::{Located, Result};

#[derive(clap::Args)]
pub struct Args {
    config: PathBuf,
    /// Print the problems as JSON: file, line, column, key path and message of each.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    ok: bool,
    problems: Vec<Located>,
}

pub fn run(a: Args) -> Result<()> {
    let result = LoadedConfig::read(&a.config).and_then(|loaded| check::check(&loaded));
    if a.json {
        let problems = result.as_ref().err().map(|e| e.config_problems(&a.config)).unwrap_or_default();
        super::print_json(&Report { ok: problems.is_empty(), problems })?;
    } else if result.is_ok() {
        println!("ok");
    }
    result
}
