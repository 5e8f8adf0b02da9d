//! `model-builder`: the CLI. Each subcommand is a thin call into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use vitrine_model_builder::build::{build, BuildOptions};
use vitrine_model_builder::config::LoadedConfig;
use vitrine_model_builder::error::{Error, Result};
use vitrine_model_builder::progress::Progress;
use vitrine_model_builder::recommend::{recommend, Query};
use vitrine_model_builder::{check, inspect, sample, simulate, summary};

#[derive(Parser)]
#[command(name = "model-builder", version, about = "Compiles a store's exports and rules into a Vitrine bundle")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a bundle from the config and the store's exports.
    Build {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "BUNDLE")]
        out: PathBuf,
        /// Order lines CSV (overrides orders.path).
        #[arg(long, value_name = "CSV")]
        orders: Option<PathBuf>,
        /// Catalog CSV (overrides catalog.path).
        #[arg(long, value_name = "CSV")]
        catalog: Option<PathBuf>,
        /// Write the private customer profiles (JSONL) here.
        #[arg(long, value_name = "OUT")]
        profiles: Option<PathBuf>,
        /// No progress bars and no summary.
        #[arg(long)]
        quiet: bool,
        /// Print the summary as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show what a bundle holds.
    Inspect {
        bundle: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Check a config without reading any data.
    Validate { config: PathBuf },
    /// Show what the tables recommend for one product or one segment.
    Recommend {
        bundle: PathBuf,
        #[command(flatten)]
        query: RecommendQuery,
        /// How many items per table.
        #[arg(long, default_value_t = 10)]
        k: usize,
    },
    /// Replay the config's journeys over an order log: messages per journey per week and channel.
    Simulate {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Order lines CSV (overrides orders.path).
        #[arg(long, value_name = "CSV")]
        orders: Option<PathBuf>,
        /// Channels every customer consents to (comma-separated: email,sms,push,webhook).
        #[arg(long, value_name = "CHANNELS", default_value = "email,sms,push,webhook")]
        consent: String,
        /// Keep firing alarms this many days after the last order.
        #[arg(long, value_name = "DAYS", default_value_t = 0)]
        tail_days: i64,
        #[arg(long)]
        json: bool,
    },
    /// Measure recommendation quality: train before a date, test on what customers bought after.
    Eval(vitrine_model_builder::eval::cli::EvalArgs),
    /// Write a small, deterministic demo sample of an orders file (customer ids renumbered).
    Sample {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Orders CSV to sample from (overrides orders.path).
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
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct RecommendQuery {
    /// A product SKU: bought together and similar.
    #[arg(long, value_name = "SKU")]
    product: Option<String>,
    /// An RFM segment name: popular in that segment.
    #[arg(long, value_name = "NAME")]
    segment: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Build { config, out, orders, catalog, profiles, quiet, json } => {
            let s = build(&BuildOptions { config, out, orders, catalog, profiles }, Progress::new(quiet || json))?;
            if json {
                println!("{}", to_json(&s)?);
            } else if !quiet {
                print!("{}", summary::render(&s));
            }
        }
        Command::Inspect { bundle, json } => {
            let i = inspect::inspect(&bundle)?;
            if json {
                println!("{}", to_json(&i)?);
            } else {
                print!("{}", inspect::render(&i));
            }
        }
        Command::Validate { config } => {
            check::check(&LoadedConfig::read(&config)?)?;
            println!("ok");
        }
        Command::Recommend { bundle, query, k } => {
            let q = match (&query.product, &query.segment) {
                (Some(p), _) => Query::Product(p),
                (None, Some(s)) => Query::Segment(s),
                (None, None) => unreachable!("clap requires one of --product, --segment"),
            };
            print!("{}", recommend(&bundle, q, k)?);
        }
        Command::Simulate { config, orders, consent, tail_days, json } => {
            let consent = consent
                .split(',')
                .map(|c| vitrine_engine::journey::Channel::from_name(c.trim()).ok_or_else(|| Error::Invalid(format!("--consent: unknown channel {c:?} (email, sms, push, webhook)"))))
                .collect::<Result<Vec<_>>>()?;
            let replay = simulate::Options { consent, tail: tail_days * 86_400, ..simulate::Options::default() };
            let report = simulate::run(&simulate::SimulateOptions { config, orders, catalog: None, replay }, Progress::new(json))?;
            if json {
                println!("{}", to_json(&report)?);
            } else {
                println!("{report}");
            }
        }
        Command::Eval(args) => vitrine_model_builder::eval::cli::run(&args)?,
        Command::Sample { config, orders, out, products, customers, guest_orders } => {
            let opts = sample::SampleOptions { config, orders, out, products, customers, guest_orders };
            let s = sample::sample(&opts)?;
            println!("{s}");
        }
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v).map_err(|e| Error::Invalid(format!("JSON output: {e}")))
}
