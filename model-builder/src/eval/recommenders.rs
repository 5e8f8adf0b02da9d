//! The recommenders the eval compares: two baselines, each table alone, the placement blends,
//! and lists computed elsewhere (another library's output, read from files).

use std::collections::HashMap;

use vitrine_engine::bundle::RecTables;
use vitrine_engine::recommend::{self, Owned, Shopper};
use vitrine_engine::rules::Placement;

use super::holdout::TestUser;
use super::metrics::K;
use crate::data::{CustomerIdx, Dataset, ProductIdx};
use crate::rng::SplitMix64;

/// A ranked list for one user, and whether it came up short of `K`.
pub struct Ranking {
    pub items: Vec<ProductIdx>,
    pub fell_back: bool,
}

pub enum Recommender {
    /// Uniformly random products (seeded per user, so runs repeat).
    Random { seed: u64 },
    /// Every product by distinct buyers in training.
    Popular { ranking: Vec<ProductIdx> },
    /// A placement's blend of the tables and the user's history (`sources`, `exclude_owned`),
    /// ranked by the engine's own `recommend::recommend`: what the engine serves.
    Blend(Placement),
    /// Microsoft Recommenders' SAR, fitted on the training data (a baseline: eval only).
    Sar(Box<super::sar::Sar>),
    /// Lists made outside (another library), by customer, one set per protocol.
    External { all: HashMap<CustomerIdx, Vec<ProductIdx>>, new: HashMap<CustomerIdx, Vec<ProductIdx>> },
}

/// A customer's profile traits as of the split (private: the profile store, not the bundle).
#[derive(Clone, Debug, Default)]
pub struct Traits {
    pub segment: Option<String>,
    /// Favourite categories, best first.
    pub top_categories: Vec<String>,
    /// Purchase history as the profile holds it (`items`), strongest first.
    pub owned: Vec<Owned>,
}

/// What a recommender may look at for one user.
pub struct Context<'a> {
    pub tables: &'a RecTables,
    pub train: &'a Dataset,
    pub now: i64,
    /// By customer; may be shorter (no traits).
    pub traits: &'a [Traits],
}

impl Recommender {
    /// Whether the list depends on the user's history (the cold-start share applies).
    pub fn is_personal(&self) -> bool {
        !matches!(self, Recommender::Random { .. } | Recommender::Popular { .. })
    }

    pub fn popular(train: &Dataset) -> Recommender {
        let mut buyers = vec![0u32; train.products.len()];
        for p in crate::recs::BuyerItems::from_dataset(train).purchases {
            buyers[p.product as usize] += 1;
        }
        let mut ranking: Vec<ProductIdx> = (0..buyers.len() as ProductIdx).collect();
        ranking.sort_by_key(|&p| (std::cmp::Reverse(buyers[p as usize]), p));
        Recommender::Popular { ranking }
    }

    /// The `n` best products for `user`, leaving out what they own when `exclude_owned`.
    pub fn rank(&self, ctx: &Context, user: &TestUser, exclude_owned: bool, n: usize) -> Ranking {
        let allowed = |p: &ProductIdx| !exclude_owned || !user.owned.iter().any(|o| o.item == *p);
        match self {
            Recommender::Random { seed } => {
                let mut rng = SplitMix64::new(seed ^ (user.customer as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut items: Vec<ProductIdx> = (0..ctx.train.products.len() as ProductIdx).filter(allowed).collect();
                rng.partial_shuffle(&mut items, n);
                items.truncate(n);
                Ranking { items, fell_back: false }
            }
            Recommender::Popular { ranking } => Ranking { items: ranking.iter().copied().filter(allowed).take(n).collect(), fell_back: false },
            Recommender::Blend(placement) => {
                let traits = ctx.traits.get(user.customer as usize);
                let shopper = Shopper {
                    owned: traits.map_or(Vec::new(), |t| t.owned.clone()),
                    country: ctx.train.countries.get(user.country as usize).map(String::as_str),
                    segment: traits.and_then(|t| t.segment.as_deref()),
                    top_categories: traits.map_or(Vec::new(), |t| t.top_categories.iter().map(String::as_str).collect()),
                    ..Shopper::default()
                };
                let exclude_owned = exclude_owned || placement.exclude_owned;
                // The engine only knows (and so only leaves out) the profile's items; the "new"
                // protocol leaves out everything owned, from every recommender alike.
                let ranked = recommend::recommend(ctx.tables, &shopper, &placement.sources, exclude_owned, ctx.now, n + user.owned.len(), |_| true);
                let items: Vec<ProductIdx> = ranked.items.iter().map(|r| r.item).filter(allowed).take(n).collect();
                Ranking { fell_back: items.len() < K, items }
            }
            Recommender::Sar(sar) => {
                let items = sar.recommend(user.customer, exclude_owned, n);
                Ranking { fell_back: items.len() < K, items }
            }
            Recommender::External { all, new } => {
                let lists = if exclude_owned { new } else { all };
                let items: Vec<ProductIdx> = lists.get(&user.customer).map_or(Vec::new(), |l| l.iter().copied().filter(allowed).take(n).collect());
                Ranking { fell_back: items.len() < K, items }
            }
        }
    }
}
