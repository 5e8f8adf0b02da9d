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
}

/// How a placement mixes the sources. Each source's scores are scaled to a maximum of 1 for
/// this shopper before weighting, so a weight reads as "how much this source counts".
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
    pub popular_in_country: f32,
    pub popular_in_segment: f32,
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
            popular_in_country: 0.0,
            popular_in_segment: 0.0,
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

const SOURCES: usize = 7;
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
        (shopper.country.map_or(&[][..], |c| RecTables::keyed(&tables.popular_by_country, c)), blend.popular_in_country),
        (shopper.segment.map_or(&[][..], |s| RecTables::keyed(&tables.popular_by_segment, s)), blend.popular_in_segment),
    ];
    for (i, (list, weight)) in lists.iter().enumerate() {
        if *weight > 0.0 {
            for s in list.iter() {
                add(s.item, first_list + i, s.score);
            }
        }
    }

    let weights = [
        blend.buy_again,
        blend.bought_together,
        blend.similar,
        blend.trending,
        blend.popular,
        blend.popular_in_country,
        blend.popular_in_segment,
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
        if !items.iter().any(|x| x.item == s.item) && !(blend.exclude_owned && owned(s.item)) {
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
