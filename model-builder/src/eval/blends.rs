//! The placement blends the eval compares, and the standard line-up.

use vitrine_engine::rules::{Placement, Source};
use vitrine_engine::Value;

use super::recommenders::Recommender;
use super::sar::{Sar, SarConfig, Similarity};
use crate::data::Dataset;

// Weights tuned on the 30 days before the test period of the UCI data (validation), never on
// the test period itself.

/// A carousel placement with these weighted sources, as a store's config would declare it.
pub fn placement(id: &str, sources: &[(&str, f32)], exclude_owned: bool) -> Placement {
    Placement {
        id: id.into(),
        when: Value::object(),
        title: String::new(),
        sources: sources.iter().map(|&(r, weight)| Source { recommender: r.into(), weight }).collect(),
        max_items: 10,
        max_price: None,
        variants: Vec::new(),
        template: String::new(),
        item_template: String::new(),
        exclude_owned,
    }
}

/// "For you" (home page, account page): re-orders first, then what is in season and the
/// companions of what they buy.
pub fn for_you() -> Placement {
    placement("for-you", &[("buy_again", 1.0), ("bought_together", 0.3), ("similar", 0.1), ("trending", 0.3)], false)
}

/// "Discover": nothing the shopper owns; companions and look-alikes of their items, mixed
/// evenly with what is in season.
pub fn discover() -> Placement {
    placement("discover", &[("bought_together", 1.0), ("similar", 0.3), ("trending", 0.7)], true)
}

/// The learned table's weight in the blends that add it (chosen on validation: `eval --tune`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct LearnedWeights {
    pub for_you: f32,
    pub discover: f32,
}

impl Default for LearnedWeights {
    fn default() -> Self {
        LearnedWeights { for_you: 1.0, discover: 1.0 }
    }
}

/// "For you" with the learned item-to-item weights as one more source.
pub fn for_you_learned(weight: f32) -> Placement {
    placement("for-you+learned", &[("buy_again", 1.0), ("learned", weight), ("bought_together", 0.3), ("similar", 0.1), ("trending", 0.3)], false)
}

/// "Discover" with the learned item-to-item weights as one more source.
pub fn discover_learned(weight: f32) -> Placement {
    placement("discover+learned", &[("learned", weight), ("bought_together", 1.0), ("similar", 0.3), ("trending", 0.7)], true)
}

/// "Buy it again": only the shopper's own items.
pub fn buy_again() -> Placement {
    placement("buy-again", &[("buy_again", 1.0)], false)
}

/// SAR with Microsoft's defaults (30-day affinity half-life, threshold 1) and `similarity`.
pub fn sar(train: &Dataset, similarity: Similarity) -> (String, Recommender) {
    let cfg = SarConfig { similarity, ..SarConfig::default() };
    (format!("sar:{}", similarity.name()), Recommender::Sar(Box::new(Sar::fit(train, cfg))))
}

/// Baselines, each source alone, then the placement blends.
pub fn standard(train: &Dataset) -> Vec<(String, Recommender)> {
    standard_with(train, LearnedWeights::default())
}

/// The standard line-up with the learned blends at these weights.
pub fn standard_with(train: &Dataset, weights: LearnedWeights) -> Vec<(String, Recommender)> {
    let alone = |name: &str| (name.to_string(), Recommender::Blend(placement(name, &[(name, 1.0)], false)));
    vec![
        ("random".into(), Recommender::Random { seed: 42 }),
        ("popular".into(), Recommender::popular(train)),
        alone("trending"),
        alone("popular_country"),
        alone("popular_segment"),
        alone("affinity"),
        ("buy_again".into(), Recommender::Blend(buy_again())),
        alone("bought_together"),
        alone("similar"),
        alone("learned"),
        sar(train, Similarity::Jaccard),
        sar(train, Similarity::Lift),
        ("blend:for-you".into(), Recommender::Blend(for_you())),
        ("blend:discover".into(), Recommender::Blend(discover())),
        ("blend:for-you+learned".into(), Recommender::Blend(for_you_learned(weights.for_you))),
        ("blend:discover+learned".into(), Recommender::Blend(discover_learned(weights.discover))),
    ]
}
