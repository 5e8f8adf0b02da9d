//! `model-builder`: the CLI. One subcommand per file in `cmd/`, each a thin call into the
//! library.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "model-builder", version, about = "Compiles a store's exports and rules into a Vitrine bundle")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a bundle from the config and the store's exports.
    Build(cmd::build::Args),
    /// Write the cleaned order lines (and catalog) the build uses, for SQL engines: CSV, .csv.gz or Parquet.
    Clean(cmd::clean::Args),
    /// Show what a bundle holds.
    Inspect(cmd::inspect::Args),
    /// Check a config without reading any data.
    Validate(cmd::validate::Args),
    /// Show what the tables recommend for one product or one segment.
    Recommend(cmd::recommend::Args),
    /// Replay the config's journeys over an order log: messages per journey per week and channel.
    Simulate(cmd::simulate::Args),
    /// Measure recommendation quality: train before a date, test on what customers bought after.
    Eval(cmd::eval::EvalArgs),
    /// Write a small, deterministic demo sample of an orders file (customer ids renumbered).
    Sample(cmd::sample::Args),
    /// Add up the measurement records (the R2 export): lift per experiment arm, placements, offers, journeys.
    Report(cmd::report::Args),
    /// What changed between two bundles: products, tables, rules, sizes.
    Diff(cmd::diff::Args),
    /// A catalog patch: prices and stock from a CSV (sku,price,in_stock) into a new bundle, no rebuild.
    Patch(cmd::patch::Args),
    /// Start a config from an export's headers (UCI Online Retail, Shopify, similar).
    Init(cmd::init::Args),
    /// Print the JSON Schema of vitrine.toml (editors complete and check the config with it).
    Schema(cmd::schema::Args),
    /// Generate a large, realistic store (orders, catalog, config) for the scale benchmark; deterministic for a seed.
    Generate(cmd::generate::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Build(a) => cmd::build::run(a),
        Command::Clean(a) => cmd::clean::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Recommend(a) => cmd::recommend::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Eval(a) => cmd::eval::run(&a),
        Command::Sample(a) => cmd::sample::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Generate(a) => cmd::generate::run(a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::Patch(a) => cmd::patch::run(a),
        Command::Init(a) => cmd::init::run(a),
        Command::Schema(a) => cmd::schema::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
