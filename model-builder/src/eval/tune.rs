//! Choosing the learned table's settings and its weight in the blends on a validation split,
//! never the test split: `model-builder eval --tune` picks them here, then scores the test
//! split with what was picked, in one run.
//!
//! The validation split is cut from the training data only: for a store's orders the
//! `test_days` before the test period; for an interaction log a second per-user random 75/25
//! split of the training part (another seed).

use serde::Serialize;
use vitrine_engine::bundle::RecTables;

use super::blends::{self, LearnedWeights};
use super::holdout::Holdout;
use super::interactions::{random_split, Interaction};
use super::recommenders::{Recommender, Traits};
use super::{evaluate_with_tables, Protocol};
use crate::aggregates::Aggregates;
use crate::recs::{build_tables, learned, RecsConfig};

/// λ for the learned regression, in decayed shared baskets.
pub const GRID_L2: [f32; 6] = [1.0, 3.0, 10.0, 30.0, 100.0, 300.0];
/// Candidate neighbours per product.
pub const GRID_CANDIDATES: [usize; 2] = [32, 64];
/// Neighbours kept per product (K).
pub const GRID_TOP_K: [usize; 2] = [12, 24];
/// The learned table's weight in a blend (the other sources keep theirs).
pub const GRID_BLEND_WEIGHT: [f32; 5] = [0.1, 0.3, 1.0, 3.0, 10.0];

/// One setting tried and its validation NDCG@10.
#[derive(Clone, Debug, Serialize)]
pub struct Tried {
    pub setting: String,
    pub ndcg_at_10: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tuning {
    /// What the validation split was.
    pub validation: String,
    pub learned_l2: f32,
    pub learned_candidates: usize,
    pub learned_top_k: usize,
    pub weights: LearnedWeights,
    pub tried: Vec<Tried>,
    #[serde(skip)]
    pub recs: RecsConfig,
}

/// The validation holdout of an interaction log: its training part split again per user.
pub fn interactions_validation(train: &Holdout, seed: u64) -> Holdout {
    let t = &train.train;
    let rows: Vec<Interaction> = t
        .orders
        .iter()
        .filter_map(|o| {
            let line = t.order_lines(o).first()?;
            Some(Interaction {
                user: t.customers[o.customer? as usize].clone(),
                item: t.products[line.product as usize].sku.clone(),
                time: o.time,
                weight: 1.0,
            })
        })
        .collect();
    random_split(&rows, 0.75, seed)
}

/// Within `NEAR_BEST` of the best score, the cheapest setting: the shortest lists (bundle
/// bytes), then the fewest candidates (build time), then the better score. Differences that
/// small are noise on a validation split of a few thousand users.
pub const NEAR_BEST: f64 = 0.01;

fn cheapest_near_best(scored: Vec<(f64, RecsConfig)>) -> RecsConfig {
    let best = scored.iter().map(|s| s.0).fold(f64::MIN, f64::max);
    scored
        .into_iter()
        .filter(|s| s.0 >= best * (1.0 - NEAR_BEST))
        .min_by(|x, y| (x.1.learned_top_k, x.1.learned_candidates).cmp(&(y.1.learned_top_k, y.1.learned_candidates)).then(y.0.total_cmp(&x.0)))
        .expect("the grid is not empty")
        .1
}

/// Picks the learned table's settings (NDCG@10 of `learned` alone under `select_on`), then each
/// learned blend's weight (for-you under `for_you_on`, discover under `select_on`).
pub fn tune(validation: &Holdout, what: &str, base: &RecsConfig, traits: &[Traits], select_on: Protocol, for_you_on: Protocol) -> Tuning {
    let segment_names: Vec<&str> = traits.iter().map(|t| t.segment.as_deref().unwrap_or("")).collect();
    let mut tables = build_tables(&validation.train, base, &segment_names);
    let a = Aggregates::from_dataset(&validation.train, base);
    let diag: Vec<f64> = a.items.iter().map(|i| i.basket_weight).collect();
    let n = validation.train.products.len();
    let alone = vec![("learned".to_string(), Recommender::Blend(blends::placement("learned", &[("learned", 1.0)], false)))];
    let ndcg = |tables: &RecTables, recommenders: &[(String, Recommender)], protocol: Protocol| -> Vec<f64> {
        let report = evaluate_with_tables(validation, tables, traits, recommenders, &[protocol]);
        report.protocols[0].rows.iter().map(|r| r.metrics.ndcg_at_10).collect()
    };

    let mut tried = Vec::new();
    let mut scored: Vec<(f64, RecsConfig)> = Vec::new();
    for &l2 in &GRID_L2 {
        for &candidates in &GRID_CANDIDATES {
            for &top_k in &GRID_TOP_K {
                let cfg = RecsConfig { learned_l2: l2, learned_candidates: candidates, learned_top_k: top_k, ..base.clone() };
                tables.learned = learned(n, &diag, &a.pairs, &cfg);
                let score = ndcg(&tables, &alone, select_on)[0];
                tried.push(Tried { setting: format!("learned l2={l2} candidates={candidates} top_k={top_k}"), ndcg_at_10: score });
                scored.push((score, cfg));
            }
        }
    }
    let recs = cheapest_near_best(scored);
    tables.learned = learned(n, &diag, &a.pairs, &recs);

    let mut weights = LearnedWeights::default();
    let mut best_for_you = f64::MIN;
    let mut best_discover = f64::MIN;
    for &w in &GRID_BLEND_WEIGHT {
        let f = ndcg(&tables, &[("for-you".into(), Recommender::Blend(blends::for_you_learned(w)))], for_you_on)[0];
        let d = ndcg(&tables, &[("discover".into(), Recommender::Blend(blends::discover_learned(w)))], select_on)[0];
        tried.push(Tried { setting: format!("blend:for-you+learned weight={w}"), ndcg_at_10: f });
        tried.push(Tried { setting: format!("blend:discover+learned weight={w}"), ndcg_at_10: d });
        if f > best_for_you {
            (best_for_you, weights.for_you) = (f, w);
        }
        if d > best_discover {
            (best_discover, weights.discover) = (d, w);
        }
    }
    Tuning {
        validation: what.to_string(),
        learned_l2: recs.learned_l2,
        learned_candidates: recs.learned_candidates,
        learned_top_k: recs.learned_top_k,
        weights,
        tried,
        recs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_ties_go_to_the_cheapest_setting_and_clear_wins_to_the_best() {
        let setting =
            |score: f64, candidates: usize, top_k: usize| (score, RecsConfig { learned_candidates: candidates, learned_top_k: top_k, ..RecsConfig::default() });
        let picked = cheapest_near_best(vec![setting(0.1000, 64, 24), setting(0.0995, 32, 12), setting(0.0996, 64, 12)]);
        assert_eq!((picked.learned_candidates, picked.learned_top_k), (32, 12), "within 1%: the shortest lists, then the fewest candidates");
        let picked = cheapest_near_best(vec![setting(0.1000, 64, 24), setting(0.0980, 32, 12)]);
        assert_eq!((picked.learned_candidates, picked.learned_top_k), (64, 24), "2% better is not a tie");
    }
}
