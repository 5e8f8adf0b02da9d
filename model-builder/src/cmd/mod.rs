//! One file per subcommand: its arguments (clap) and a thin `run` that calls the library and
//! prints. The work itself (ingest, tables, checks, eval, simulate) is in the library's modules.

pub mod build;
pub mod clean;
pub mod diff;
pub mod eval;
pub mod generate;
pub mod init;
pub mod inspect;
pub mod patch;
pub mod recommend;
pub mod report;
pub mod sample;
pub mod schema;
pub mod simulate;
pub mod validate;

use vitrine_model_builder::error::{Error, Result};

/// `v` as pretty JSON on stdout.
fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v).map_err(|e| Error::Invalid(format!("JSON output: {e}")))?);
    Ok(())
}
