//! `model-builder eval`: config + data in, a table or JSON out (the measuring is `eval/`).

use std::path::{Path, PathBuf};

use clap::Args;

const DAY: i64 = 86_400;

use vitrine_engine::civil;
use vitrine_model_builder::config::LoadedConfig;
use vitrine_model_builder::data::Dataset;
use vitrine_model_builder::error::{Error, Result};
use vitrine_model_builder::eval::blends::LearnedWeights;
use vitrine_model_builder::eval::holdout::Holdout;
use vitrine_model_builder::eval::predict::{self, PredictOptions};
use vitrine_model_builder::eval::recommenders::Recommender;
use vitrine_model_builder::eval::{self, blends, evaluate, evaluate_orders, external, interactions, report, tune, EvalReport, Protocol};
use vitrine_model_builder::predict::{BgNbd, GammaGamma};
use vitrine_model_builder::recs::{CoPurchaseScope, RecsConfig};

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The store's config (column mapping, cleaning, `[recs]`). Optional with --interactions.
    #[arg(long, value_name = "FILE", required_unless_present = "interactions")]
    pub config: Option<PathBuf>,
    /// Order lines CSV (overrides orders.path).
    #[arg(long, value_name = "CSV")]
    pub orders: Option<PathBuf>,
    /// First day of the test period (YYYY-MM-DD, UTC); the test runs to the data's end, or for
    /// --test-days days.
    #[arg(long, value_name = "DATE")]
    pub split_date: Option<String>,
    /// Length of the test period in days; alone, the data's last N days (default 30).
    #[arg(long, value_name = "N")]
    pub test_days: Option<i64>,
    /// Evaluate an interaction log (user, item, timestamp, weight) with a per-user random
    /// 75/25 split instead of a store's orders.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["orders", "split_date"])]
    pub interactions: Option<PathBuf>,
    /// The interaction log's columns in order (MovieLens u.data: user,item,weight,timestamp).
    #[arg(long, value_name = "LIST", default_value = "user,item,timestamp,weight")]
    pub columns: String,
    /// Seed of the random split and the random baseline.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write the split (train.tsv, users.tsv) here for another library (bench/eval).
    #[arg(long, value_name = "DIR")]
    pub export_split: Option<PathBuf>,
    /// Also score the `<model>.all.tsv` / `<model>.new.tsv` lists found here.
    #[arg(long, value_name = "DIR")]
    pub external: Option<PathBuf>,
    /// Choose the learned table's settings (`[recs] learned_*`) and its blend weights on a
    /// validation split cut from the training data (orders: the test period's length before
    /// it; a log: the training part split 75/25 again), then score the test split with them.
    #[arg(long)]
    pub tune: bool,
    /// Evaluate the predictive models (BG/NBD, Gamma-Gamma) instead of the recommendations:
    /// fit on the orders before the last --holdout-days days, compare each customer's
    /// predicted purchase days in the holdout with the actual ones, beside a naive rate.
    #[arg(long, conflicts_with_all = ["interactions", "tune", "split_date", "test_days", "export_split", "external"])]
    pub predict: bool,
    /// With --predict: days at the data's end held out (default 182: half of a one-year log);
    /// 0 fits on everything and scores nothing (for --summaries).
    #[arg(long, value_name = "N", requires = "predict")]
    pub holdout_days: Option<i64>,
    /// With --predict: write the calibration summaries and each customer's predictions here (CSV).
    #[arg(long, value_name = "CSV", requires = "predict")]
    pub summaries: Option<PathBuf>,
    /// With --predict: BG/NBD parameters "r,alpha,a,b" (alpha in days) used instead of fitting.
    #[arg(long, value_name = "LIST", requires = "predict")]
    pub bgnbd: Option<String>,
    /// With --predict: Gamma-Gamma parameters "p,q,v" used instead of fitting.
    #[arg(long, value_name = "LIST", requires = "predict")]
    pub gamma_gamma: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &EvalArgs) -> Result<()> {
    if args.predict {
        return run_predict(args);
    }
    let report = match &args.interactions {
        Some(path) => run_interactions(args, path)?,
        None => run_orders(args)?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| Error::Invalid(format!("JSON output: {e}")))?);
    } else {
        print!("{}", report::render(&report));
    }
    Ok(())
}

/// The store's config and its cleaned orders.
fn read_orders(args: &EvalArgs) -> Result<(LoadedConfig, Dataset)> {
    let config_path = args.config.as_deref().expect("clap requires --config without --interactions");
    let loaded = LoadedConfig::read(config_path)?;
    let config = &loaded.config;
    let orders = match (&args.orders, &config.orders.path) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => loaded.resolve(p),
        (None, None) => return Err(Error::Invalid(format!("no orders file: pass --orders CSV or set orders.path in {}", config_path.display()))),
    };
    let catalog = config.catalog.path.as_deref().map(|p| loaded.resolve(p));
    // Reading takes a fraction of a second: no progress bar.
    let (ds, _) = vitrine_model_builder::ingest::ingest(config, &orders, catalog.as_deref(), &indicatif::ProgressBar::hidden())?;
    Ok((loaded, ds))
}

fn run_predict(args: &EvalArgs) -> Result<()> {
    let (loaded, ds) = read_orders(args)?;
    let numbers = |flag: &str, list: &str, n: usize| -> Result<Vec<f64>> {
        let values: Vec<f64> = list
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Invalid(format!("{flag} {list:?}: {e}")))?;
        if values.len() != n || !values.iter().all(|v| v.is_finite() && *v > 0.0) {
            return Err(Error::Invalid(format!("{flag} {list:?}: expected {n} positive numbers separated by commas")));
        }
        Ok(values)
    };
    let bgnbd = match &args.bgnbd {
        Some(list) => numbers("--bgnbd", list, 4).map(|v| Some(BgNbd { r: v[0], alpha: v[1], a: v[2], b: v[3] }))?,
        None => None,
    };
    let gamma_gamma = match &args.gamma_gamma {
        Some(list) => numbers("--gamma-gamma", list, 3).map(|v| Some(GammaGamma { p: v[0], q: v[1], v: v[2] }))?,
        None => None,
    };
    let opts = PredictOptions { holdout_days: args.holdout_days.unwrap_or(predict::DEFAULT_HOLDOUT_DAYS), bgnbd, gamma_gamma };
    let (report, summaries, fits) = predict::evaluate(&ds, &opts)?;
    if let Some(path) = &args.summaries {
        predict::write_summaries(path, &ds, &summaries, &fits, &loaded.config.predict)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| Error::Invalid(format!("JSON output: {e}")))?);
    } else {
        print!("{}", predict::render(&report));
    }
    Ok(())
}

fn run_orders(args: &EvalArgs) -> Result<EvalReport> {
    let (loaded, ds) = read_orders(args)?;
    let config = &loaded.config;

    if args.test_days.is_some_and(|n| n < 1) {
        return Err(Error::Invalid("--test-days must be at least 1".into()));
    }
    let (split, end) = match (&args.split_date, args.test_days) {
        (Some(date), days) => {
            let split = civil::parse_day_unix(date.trim()).ok_or_else(|| Error::Invalid(format!("--split-date {date:?}: expected YYYY-MM-DD")))?;
            (split, days.map_or(i64::MAX, |n| split + n * DAY))
        }
        (None, days) => (eval::split_time_for_test_days(&ds, days.unwrap_or(eval::DEFAULT_TEST_DAYS)), i64::MAX),
    };
    if split <= ds.first_time() || split > ds.last_time() {
        return Err(Error::Invalid(format!(
            "the split {} leaves no training or no test data (orders run {} .. {})",
            civil::day_string(split),
            civil::day_string(ds.first_time()),
            civil::day_string(ds.last_time())
        )));
    }
    let holdout = Holdout::by_time(&ds, split, end);
    let extra = side_by_side(args, &holdout)?;
    let (recs, weights, tuning) = if args.tune {
        let days = args.test_days.unwrap_or(eval::DEFAULT_TEST_DAYS);
        let from = split - days * DAY;
        if from <= ds.first_time() {
            return Err(Error::Invalid(format!("--tune: no training data before the validation period from {}", civil::day_string(from))));
        }
        let validation = Holdout::by_time(&ds, from, split);
        let what = format!("orders {} .. {}, trained on the orders before", civil::day_string(from), civil::day_string(split - 1));
        let t = tune::tune(&validation, &what, &config.recs, &eval::profile_traits(&validation.train), Protocol::New, Protocol::All);
        (t.recs.clone(), t.weights, Some(t))
    } else {
        (config.recs.clone(), LearnedWeights::default(), None)
    };
    let report = evaluate_orders(&holdout, &recs, weights, extra);
    Ok(EvalReport { test_end: (end != i64::MAX).then_some(end), tuning, ..report })
}

fn run_interactions(args: &EvalArgs, path: &Path) -> Result<EvalReport> {
    let columns = interactions::parse_columns(&args.columns).map_err(Error::Invalid)?;
    let rows = interactions::read(path, &columns).map_err(|e| Error::Invalid(e.to_string()))?;
    let recs = match &args.config {
        Some(config) => LoadedConfig::read(config)?.config.recs,
        None => RecsConfig::default(),
    };
    // A log has one item per "order": co-purchase can only mean "the same user".
    let recs = RecsConfig { co_purchase_scope: CoPurchaseScope::Customer, max_basket_items: 0, ..recs };
    let holdout = interactions::random_split(&rows, 0.75, args.seed);
    let (recs, weights, tuning) = if args.tune {
        let validation = tune::interactions_validation(&holdout, args.seed.wrapping_add(1));
        let what = format!("the training part split 75/25 per user again (seed {})", args.seed.wrapping_add(1));
        let t = tune::tune(&validation, &what, &recs, &eval::profile_traits(&validation.train), Protocol::New, Protocol::New);
        (t.recs.clone(), t.weights, Some(t))
    } else {
        (recs, LearnedWeights::default(), None)
    };
    let mut recommenders = blends::standard_with(&holdout.train, weights);
    recommenders.extend(side_by_side(args, &holdout)?);
    // Every unseen item is ranked: the "new" protocol. Each user's history reaches the blends
    // as a profile would carry it.
    let traits = eval::profile_traits(&holdout.train);
    let report = evaluate(&holdout, &recs, &traits, &recommenders, &[Protocol::New]);
    Ok(EvalReport { split: format!("random 75/25 per user, seed {}", args.seed), tuning, ..report })
}

/// Writes the split for another library and reads back its lists, as asked.
fn side_by_side(args: &EvalArgs, holdout: &Holdout) -> Result<Vec<(String, Recommender)>> {
    let to_error = |e: external::ExternalError| Error::Invalid(e.to_string());
    if let Some(dir) = &args.export_split {
        external::export_split(holdout, dir).map_err(to_error)?;
    }
    match &args.external {
        Some(dir) => external::read_dir(dir, &holdout.train).map_err(to_error),
        None => Ok(Vec::new()),
    }
}
