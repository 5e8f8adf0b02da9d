//! `model-builder report`: the measurement records in a folder (the R2 export), added up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use vitrine_engine::{bundle, civil, rules};
use vitrine_model_builder::error::{Error, Result};
use vitrine_model_builder::report::{self, html, simulate, text, Options};

#[derive(clap::Args)]
pub struct Args {
    /// The folder of records: every *.jsonl and *.jsonl.gz under it
    /// (events/day=YYYY-MM-DD/<batch>.jsonl.gz).
    dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Only records from this day (YYYY-MM-DD, UTC) …
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// … to this day, included.
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// The bundle the store serves: its experiments' arm weights and its holdout's share are
    /// what the sample-ratio check expects.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Configured arm weights for the sample-ratio check, e.g.
    /// `--weights vitrine-holdout=holdout:10,personalized:90` (repeatable; over --bundle's).
    /// Without either: equal weights, and the holdout at its default share (5%).
    #[arg(long, value_name = "EXP=ARM:W,…")]
    weights: Vec<String>,
    /// Write N units of simulated traffic into DIR first, for bench/report: experiment
    /// `recs-v2` (`control`, then `treatment`, `treatment2`, …, each +10% conversion on the
    /// one before), the global holdout at 10%, a journey for 20% of units.
    #[arg(long, value_name = "N", hide = true)]
    simulate: Option<usize>,
    /// Arms of the simulated experiment.
    #[arg(long, default_value_t = 2, hide = true)]
    arms: usize,
    #[arg(long, default_value_t = 7, hide = true)]
    seed: u64,
}

pub fn run(a: Args) -> Result<()> {
    let day = |flag: &str, d: &Option<String>| -> Result<Option<i64>> {
        d.as_deref().map(|s| civil::parse_day_unix(s.trim()).ok_or_else(|| Error::Invalid(format!("--{flag} {s:?}: expected YYYY-MM-DD")))).transpose()
    };
    let mut configured = match &a.bundle {
        Some(path) => bundle_weights(path)?,
        None => HashMap::from([holdout_weights(rules::DEFAULT_HOLDOUT)]),
    };
    configured.extend(weights(&a.weights)?);
    let options = Options { from: day("from", &a.from)?, to: day("to", &a.to)?.map(|t| t + 86_400), weights: configured };
    if let Some(units) = a.simulate {
        let mut traffic = simulate::Traffic { journey_share: 0.2, holdout_share: 0.1, ..simulate::Traffic::ab(units, a.seed, 0.10) };
        let base = traffic.arms[0].clone();
        traffic.arms = (0..a.arms.max(2))
            .map(|i| {
                let name = match i {
                    0 => "control".to_string(),
                    1 => "treatment".to_string(),
                    i => format!("treatment{i}"),
                };
                simulate::ArmSpec { name, conversion: base.conversion * 1.1f64.powi(i as i32), ..base.clone() }
            })
            .collect();
        simulate::write_export(&a.dir, &traffic.records(), 5_000)?;
    }
    let r = report::run(&a.dir, &options)?;
    if let Some(path) = &a.html {
        std::fs::write(path, html::render(&r)).map_err(Error::io(path))?;
    }
    if a.json {
        super::print_json(&r)
    } else {
        print!("{}", text::render(&r));
        Ok(())
    }
}

/// The arm weights the bundle at `path` buckets with: each experiment's (equal when it names
/// none) and the global holdout's.
fn bundle_weights(path: &Path) -> Result<HashMap<String, Vec<(String, f64)>>> {
    let raw = std::fs::read(path).map_err(Error::io(path))?;
    let rules = bundle::decode(&raw).map_err(|source| Error::Bundle { path: path.into(), source })?.body.rules;
    let mut out: HashMap<_, _> = rules
        .experiments
        .iter()
        .map(|e| {
            let equal = 1.0 / e.arms.len().max(1) as f64;
            let arms = e.arms.iter().enumerate().map(|(i, arm)| (arm.name.clone(), e.weights.get(i).map_or(equal, |w| f64::from(*w)))).collect();
            (e.key.clone(), arms)
        })
        .collect();
    if rules.measurement.holdout > 0.0 {
        out.extend([holdout_weights(rules.measurement.holdout)]);
    }
    Ok(out)
}

fn holdout_weights(share: f64) -> (String, Vec<(String, f64)>) {
    (rules::HOLDOUT_EXPERIMENT.into(), vec![(rules::HOLDOUT_ARM.into(), share), (rules::PERSONALIZED_ARM.into(), 1.0 - share)])
}

/// `exp=arm:w,arm:w` flags into weights per experiment.
fn weights(flags: &[String]) -> Result<HashMap<String, Vec<(String, f64)>>> {
    let mut out = HashMap::new();
    for flag in flags {
        let bad = || Error::Invalid(format!("--weights {flag:?}: expected EXPERIMENT=ARM:WEIGHT,ARM:WEIGHT (e.g. vitrine-holdout=holdout:10,personalized:90)"));
        let (exp, list) = flag.split_once('=').ok_or_else(bad)?;
        let arms = list
            .split(',')
            .map(|p| {
                let (arm, w) = p.split_once(':').ok_or_else(bad)?;
                let w: f64 = w.trim().parse().map_err(|_| bad())?;
                if !w.is_finite() || w < 0.0 {
                    return Err(bad());
                }
                Ok((arm.trim().to_string(), w))
            })
            .collect::<Result<Vec<_>>>()?;
        out.insert(exp.trim().to_string(), arms);
    }
    Ok(out)
}
