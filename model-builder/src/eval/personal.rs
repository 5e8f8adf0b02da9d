//! Per-shopper recommendations: the public tables blended with the shopper's own purchases.
//!
//! This is exactly what the engine serves at decide time, so the eval measures what visitors
//! get. It uses only `vitrine_engine::bundle` types and `alloc` (no clock, no hashing, no
//! threads), so it can move into the engine as it is.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use vitrine_engine::bundle::{ProductIdx, RecTables, Scored};

extern crate alloc;

/// One product the shopper bought before (from their private profile).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Owned {
    pub item: ProductIdx,
    /// Unix seconds of their latest order of it.
    pub last_time: i64,
    /// Orders that held it.
    pub orders: u32,
}

/// What a decision knows about the shopper.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shopper<'a> {
    pub owned: &'a [Owned],
    pub country: Option<&'a str>,
    pub segment: Option<&'a str>,
    /// Favourite categories, best first (profile trait `top_categories`).
    pub top_categories: &'a [&'a str],
}

/// How a placement mixes the sources: one weight per recommender, named as in a placement's
/// `sources` (`buy_again`, `bought_together`, …). Each source's scores are scaled to a maximum
/// of 1 for this shopper before weighting, so a weight reads as "how much this source counts".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Blend {
    /// The shopper's own items, by recency, frequency and re-order habit.
    pub buy_again: f32,
    /// Companions of the shopper's items (bought-together table).
    pub bought_together: f32,
    /// Look-alikes of the shopper's items (content table).
    pub similar: f32,
    pub trending: f32,
    pub popular: f32,
    pub popular_country: f32,
    pub popular_segment: f32,
    /// Popular in the shopper's favourite categories (the first counts most).
    pub affinity: f32,
    /// An owned item's pull halves every this many days since it was last bought.
    pub history_half_life_days: f32,
    /// Only the most recent owned items seed neighbours: bounds decide-time work.
    pub max_seeds: usize,
    /// Leave out what the shopper already owns (a discovery placement).
    pub exclude_owned: bool,
}

impl Default for Blend {
    fn default() -> Self {
        Blend {
            buy_again: 0.0,
            bought_together: 0.0,
            similar: 0.0,
            trending: 0.0,
            popular: 0.0,
            popular_country: 0.0,
            popular_segment: 0.0,
            affinity: 0.0,
            history_half_life_days: 60.0,
            max_seeds: 50,
            exclude_owned: false,
        }
    }
}

/// A ranked list, and how much of it the blend's own sources could not fill.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub items: Vec<Scored>,
    /// The last `filled` items are the cold-start fallback (popular, score 0).
    pub filled: usize,
}

const SOURCES: usize = 8;
const DAY: f32 = 86_400.0;

/// The `k` best products for `shopper` at time `now`, best first. When the blend's sources
/// give fewer than `k` products, `popular` fills the rest (cold start).
pub fn recommend(tables: &RecTables, shopper: &Shopper, now: i64, blend: &Blend, k: usize) -> Ranked {
    let mut scores: BTreeMap<ProductIdx, [f32; SOURCES]> = BTreeMap::new();
    let mut add = |item: ProductIdx, source: usize, value: f32| {
        scores.entry(item).or_insert([0.0; SOURCES])[source] += value;
    };

    let mut seeds: Vec<(Owned, f32)> =
        shopper.owned.iter().map(|o| (*o, pull(o, now, blend.history_half_life_days))).collect();
    seeds.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.item.cmp(&b.0.item)));
    seeds.truncate(blend.max_seeds);

    for &(owned, pull) in &seeds {
        if blend.buy_again > 0.0 {
            add(owned.item, 0, pull * reorder_affinity(tables, &owned, now));
        }
        if blend.bought_together > 0.0 {
            for n in tables.bought_together.of(owned.item) {
                add(n.item, 1, pull * n.score);
            }
        }
        if blend.similar > 0.0 {
            for n in tables.similar.of(owned.item) {
                add(n.item, 2, pull * n.score);
            }
        }
    }
    let first_list = 3; // sources 0..3 above come from the history
    let lists: [(&[Scored], f32); 4] = [
        (&tables.trending, blend.trending),
        (&tables.popular, blend.popular),
        (shopper.country.map_or(&[][..], |c| RecTables::keyed(&tables.popular_by_country, c)), blend.popular_country),
        (shopper.segment.map_or(&[][..], |s| RecTables::keyed(&tables.popular_by_segment, s)), blend.popular_segment),
    ];
    for (i, (list, weight)) in lists.iter().enumerate() {
        if *weight > 0.0 {
            for s in list.iter() {
                add(s.item, first_list + i, s.score);
            }
        }
    }
    if blend.affinity > 0.0 {
        for (rank, category) in shopper.top_categories.iter().enumerate() {
            let list = RecTables::keyed(&tables.popular_by_category, category);
            let top = list.first().map_or(1.0, |s| s.score.max(f32::MIN_POSITIVE));
            for s in list {
                add(s.item, 7, s.score / top / (rank as f32 + 1.0));
            }
        }
    }

    let weights = [
        blend.buy_again,
        blend.bought_together,
        blend.similar,
        blend.trending,
        blend.popular,
        blend.popular_country,
        blend.popular_segment,
        blend.affinity,
    ];
    let mut max = [0f32; SOURCES];
    for v in scores.values() {
        for s in 0..SOURCES {
            max[s] = max[s].max(v[s]);
        }
    }
    let owned = |item: ProductIdx| shopper.owned.iter().any(|o| o.item == item);
    let mut items: Vec<Scored> = scores
        .iter()
        .filter(|(&item, _)| !(blend.exclude_owned && owned(item)))
        .filter_map(|(&item, v)| {
            let score: f32 = (0..SOURCES).filter(|&s| max[s] > 0.0).map(|s| weights[s] * v[s] / max[s]).sum();
            (score > 0.0).then_some(Scored { item, score })
        })
        .collect();
    items.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    items.truncate(k);
    let from_sources = items.len();

    // Fallback: popular items not yet listed (and not owned, when excluded).
    for s in &tables.popular {
        if items.len() >= k {
            break;
        }
        let skip = items.iter().any(|x| x.item == s.item) || (blend.exclude_owned && owned(s.item));
        if !skip {
            items.push(Scored { item: s.item, score: 0.0 });
        }
    }
    Ranked { filled: items.len() - from_sources, items }
}

/// How strongly an owned item speaks for the shopper now: recent and repeated purchases more.
fn pull(owned: &Owned, now: i64, half_life_days: f32) -> f32 {
    let age_days = (now - owned.last_time).max(0) as f32 / DAY;
    let recency = if half_life_days > 0.0 { (-core::f32::consts::LN_2 * age_days / half_life_days).exp() } else { 1.0 };
    recency * (1.0 + (owned.orders.max(1) as f32).ln())
}

/// Re-orderable products (in `reorder_days`) are likelier to be bought again; one-off buys
/// (a gift, a piece of furniture) much less.
fn reorder_affinity(tables: &RecTables, owned: &Owned, _now: i64) -> f32 {
    match tables.reorder_days.binary_search_by_key(&owned.item, |&(p, _)| p) {
        Ok(_) => 1.0,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitrine_engine::bundle::{Keyed, Neighbors};

    const DAY_SECS: i64 = 86_400;

    fn scored(list: &[(u32, f32)]) -> Vec<Scored> {
        list.iter().map(|&(item, score)| Scored { item, score }).collect()
    }

    /// Products 0..10. 0 bought with 1 and 2; 3 looks like 4; trending 5, 6; popular 7, 8, 9.
    fn tables() -> RecTables {
        let mut bought_together = vec![Vec::new(); 10];
        bought_together[0] = scored(&[(1, 0.9), (2, 0.3)]);
        let mut similar = vec![Vec::new(); 10];
        similar[3] = scored(&[(4, 0.8)]);
        RecTables {
            bought_together: Neighbors::from_lists(bought_together),
            similar: Neighbors::from_lists(similar),
            trending: scored(&[(5, 10.0), (6, 5.0)]),
            popular: scored(&[(7, 100.0), (8, 50.0), (9, 10.0), (0, 5.0)]),
            popular_by_category: vec![Keyed { key: "Garden".into(), items: scored(&[(9, 3.0)]) }],
            reorder_days: vec![(3, 14.0)],
            ..RecTables::default()
        }
    }

    fn items(r: &Ranked) -> Vec<u32> {
        r.items.iter().map(|s| s.item).collect()
    }

    #[test]
    fn buy_again_prefers_recent_repeated_reorderable_items() {
        let now = 100 * DAY_SECS;
        let owned = [
            Owned { item: 0, last_time: now - 90 * DAY_SECS, orders: 1 },
            Owned { item: 3, last_time: now - 5 * DAY_SECS, orders: 4 },
            Owned { item: 4, last_time: now - 5 * DAY_SECS, orders: 1 },
        ];
        let shopper = Shopper { owned: &owned, ..Shopper::default() };
        let r = recommend(&tables(), &shopper, now, &Blend { buy_again: 1.0, ..Blend::default() }, 3);
        assert_eq!(items(&r), [3, 4, 0]);
        assert_eq!(r.filled, 0);
        assert_eq!(r.items[0].score, 1.0, "each source is scaled to a maximum of 1");
    }

    #[test]
    fn neighbours_of_owned_items_blend_with_trending_and_owned_can_be_excluded() {
        let now = 10 * DAY_SECS;
        let owned = [Owned { item: 0, last_time: now, orders: 1 }, Owned { item: 3, last_time: now, orders: 1 }];
        let shopper = Shopper { owned: &owned, ..Shopper::default() };
        let blend = Blend { bought_together: 1.0, similar: 0.5, trending: 0.2, exclude_owned: true, ..Blend::default() };
        let r = recommend(&tables(), &shopper, now, &blend, 6);
        // 1: 1.0 (bt), 4: 0.5 (similar), 2: 0.33 (bt), 5: 0.2, 6: 0.1 (trending); then popular 7.
        assert_eq!(items(&r), [1, 4, 2, 5, 6, 7]);
        assert_eq!(r.filled, 1);
        let owned_kept = recommend(&tables(), &shopper, now, &Blend { exclude_owned: false, buy_again: 1.0, ..blend }, 10);
        assert!(items(&owned_kept).contains(&0));
    }

    #[test]
    fn a_shopper_without_history_gets_the_popular_fallback() {
        let r = recommend(&tables(), &Shopper::default(), 0, &Blend { buy_again: 1.0, bought_together: 1.0, ..Blend::default() }, 3);
        assert_eq!(items(&r), [7, 8, 9]);
        assert_eq!(r.filled, 3);
    }

    #[test]
    fn affinity_follows_favourite_categories() {
        let shopper = Shopper { top_categories: &["Garden"], ..Shopper::default() };
        let r = recommend(&tables(), &shopper, 0, &Blend { affinity: 1.0, ..Blend::default() }, 1);
        assert_eq!(items(&r), [9]);
    }
}
