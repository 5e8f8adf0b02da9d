//! `model-builder eval`: how well would the tables have predicted what customers bought next?
//! (`eval --predict`, the predictive models' calibration/holdout check, is `predict.rs`.)
//!
//! Train on the past, test on a later period (or, for research data sets, on a random quarter
//! of each user's interactions), and score each recommender's top 10 against what each user
//! really bought. Two protocols, because stores need both:
//! - **all**: any item bought in the test period is a hit (re-orders are real sales);
//! - **new**: only items the user never bought before count, and owned items are left out of
//!   every ranking (discovery).

pub mod blends;
pub mod external;
pub mod holdout;
pub mod interactions;
pub mod metrics;
pub mod predict;
pub mod recommenders;
pub mod report;
pub mod sar;
pub mod tune;

#[cfg(test)]
mod tests;

use std::time::Instant;

use serde::Serialize;

use crate::data::Dataset;
use vitrine_engine::bundle::RecTables;

use crate::recs::{build_tables, RecsConfig};
use holdout::Holdout;
use metrics::{Metrics, MetricsAcc, RECALL_K};
use recommenders::{Context, Recommender, Traits};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    All,
    New,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::All => "all",
            Protocol::New => "new",
        }
    }
}

/// A recommender's figures under one protocol.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub recommender: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProtocolReport {
    pub protocol: Protocol,
    pub rows: Vec<Row>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    /// "time" (orders before/after a date) or "random-75-25" (interactions).
    pub split: String,
    /// First moment of the test period (unix seconds), for the time split.
    pub split_time: Option<i64>,
    /// End of the test period (exclusive), when it stops before the data does.
    pub test_end: Option<i64>,
    pub train_orders: usize,
    pub test_users: usize,
    /// Test-period buyers without training history (non-personal lists only reach them).
    pub cold_customers: usize,
    pub protocols: Vec<ProtocolReport>,
    /// Time to build the tables from the training data, milliseconds.
    pub build_ms: u128,
    pub eval_ms: u128,
    /// The settings `--tune` chose on the validation split (None: the config's).
    pub tuning: Option<tune::Tuning>,
}

/// Builds the tables from `holdout.train` and scores every recommender under each protocol.
/// `traits[c]` is customer `c`'s profile as of the split (may be empty).
pub fn evaluate(holdout: &Holdout, cfg: &RecsConfig, traits: &[Traits], recommenders: &[(String, Recommender)], protocols: &[Protocol]) -> EvalReport {
    let started = Instant::now();
    let segment_names: Vec<&str> = traits.iter().map(|t| t.segment.as_deref().unwrap_or("")).collect();
    let tables = build_tables(&holdout.train, cfg, &segment_names);
    let build_ms = started.elapsed().as_millis();
    EvalReport { build_ms, ..evaluate_with_tables(holdout, &tables, traits, recommenders, protocols) }
}

/// Scores every recommender under each protocol with tables already built from `holdout.train`.
pub fn evaluate_with_tables(
    holdout: &Holdout,
    tables: &RecTables,
    traits: &[Traits],
    recommenders: &[(String, Recommender)],
    protocols: &[Protocol],
) -> EvalReport {
    let started = Instant::now();
    let ctx = Context { tables, train: &holdout.train, now: holdout.as_of, traits };
    let protocols = protocols
        .iter()
        .map(|&protocol| {
            let new_only = protocol == Protocol::New;
            let rows = recommenders
                .iter()
                .map(|(name, rec)| {
                    let mut acc = MetricsAcc::new(holdout.train.products.len(), rec.is_personal());
                    for user in &holdout.users {
                        let relevant = user.relevant(new_only);
                        if relevant.is_empty() {
                            continue;
                        }
                        let ranking = rec.rank(&ctx, user, new_only, RECALL_K);
                        acc.add(&ranking.items, &relevant, ranking.fell_back);
                    }
                    Row { recommender: name.clone(), metrics: acc.finish() }
                })
                .collect();
            ProtocolReport { protocol, rows }
        })
        .collect();

    EvalReport {
        split: String::new(),
        split_time: None,
        test_end: None,
        train_orders: holdout.train.orders.len(),
        test_users: holdout.users.len(),
        cold_customers: holdout.cold_customers,
        protocols,
        build_ms: 0,
        eval_ms: started.elapsed().as_millis(),
        tuning: None,
    }
}

/// The time-split eval of a store's orders: train before `split_time`, test from it on, with
/// the standard line-up plus `extra` recommenders.
pub fn evaluate_orders(holdout: &Holdout, cfg: &RecsConfig, weights: blends::LearnedWeights, extra: Vec<(String, Recommender)>) -> EvalReport {
    let mut recommenders = blends::standard_with(&holdout.train, weights);
    recommenders.extend(extra);
    let report = evaluate(holdout, cfg, &profile_traits(&holdout.train), &recommenders, &[Protocol::All, Protocol::New]);
    EvalReport { split: "time".into(), split_time: Some(holdout.as_of), ..report }
}

/// Segments, favourite categories and purchase history from the training data, as the profile
/// store holds them (`rfm::profiles`, the same code that writes profiles.jsonl).
pub fn profile_traits(train: &Dataset) -> Vec<Traits> {
    crate::rfm::profiles(train)
        .into_iter()
        .map(|p| Traits {
            segment: Some(p.segment.name().to_string()),
            top_categories: p.top_categories.iter().filter_map(|&c| train.categories.get(c as usize).cloned()).collect(),
            owned: p.items,
        })
        .collect()
}

/// Default test period: the last 30 days.
pub const DEFAULT_TEST_DAYS: i64 = 30;

/// The first moment of a test period of `days` days ending with the data's last day.
pub fn split_time_for_test_days(ds: &Dataset, days: i64) -> i64 {
    let last_day_start = ds.last_time().div_euclid(86_400) * 86_400;
    last_day_start - (days - 1) * 86_400
}
