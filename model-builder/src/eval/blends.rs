//! The placement blends the engine serves, and the standard line-up the eval compares.

use super::personal::Blend;
use super::recommenders::Recommender;
use crate::data::Dataset;

// Weights tuned on the 30 days before the test period of the UCI data (validation), never on
// the test period itself.

/// "For you" (home page, account page): re-orders first, then what is in season and the
/// companions of what they buy.
pub fn for_you() -> Blend {
    Blend { buy_again: 1.0, bought_together: 0.3, similar: 0.1, trending: 0.3, ..Blend::default() }
}

/// "Discover": nothing the shopper owns; companions and look-alikes of their items, mixed
/// evenly with what is in season.
pub fn discover() -> Blend {
    Blend { bought_together: 1.0, similar: 0.3, trending: 0.7, exclude_owned: true, ..Blend::default() }
}

/// "Buy it again": only the shopper's own items.
pub fn buy_again() -> Blend {
    Blend { buy_again: 1.0, ..Blend::default() }
}

/// Baselines, each source alone, then the placement blends.
pub fn standard(train: &Dataset) -> Vec<(String, Recommender)> {
    let alone = |name: &str, blend: Blend| (name.to_string(), Recommender::Blend(blend));
    vec![
        ("random".into(), Recommender::Random { seed: 42 }),
        ("popular".into(), Recommender::popular(train)),
        alone("trending", Blend { trending: 1.0, ..Blend::default() }),
        alone("popular_country", Blend { popular_country: 1.0, ..Blend::default() }),
        alone("popular_segment", Blend { popular_segment: 1.0, ..Blend::default() }),
        alone("affinity", Blend { affinity: 1.0, ..Blend::default() }),
        alone("buy_again", buy_again()),
        alone("bought_together", Blend { bought_together: 1.0, ..Blend::default() }),
        alone("similar", Blend { similar: 1.0, ..Blend::default() }),
        alone("blend:for-you", for_you()),
        alone("blend:discover", discover()),
    ]
}
