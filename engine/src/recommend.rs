//! Blending recommendation sources for one shopper: the one implementation of "these weighted
//! sources, for this shopper, now".
//!
//! [`Engine::decide`](crate::Engine::decide) builds a [`Shopper`] from the visitor (page
//! product, cart, session interests, and a known customer's purchase history from the profile
//! traits) and calls [`recommend`]; the model builder's offline eval calls the same function with
//! shoppers built from its training data, so the eval measures what visitors are served.
//!
//! How a blend scores: each source gives every product it reaches a raw score (neighbour lists
//! of several seeds add up); the source's scores are then scaled to a maximum of 1 for this
//! shopper and multiplied by the source's weight, so a weight reads as "how much this source
//! counts"; a product's score is the sum over sources. Ranking is best first, ties by product
//! index, so every host ranks identically. Pure: no clock (`now` is an argument), no hashing,
//! no allocation proportional to the catalog.

use alloc::vec::Vec;

use crate::body::{Neighbors, ProductIdx, RecTables, Scored};
use crate::rules::{Source, RECOMMENDERS};
use crate::value::Value;

/// An owned item's pull halves every this many days since it was last bought.
pub const HISTORY_HALF_LIFE_DAYS: f32 = 60.0;
/// Only the strongest owned items seed "more like this" and "buy it again": bounds the work.
pub const MAX_HISTORY_SEEDS: usize = 50;

const DAY: f32 = 86_400.0;

/// One product a known customer bought before (from their private profile).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Owned {
    pub item: ProductIdx,
    /// Unix seconds of their latest order of it, on the data's clock (see [`Shopper::owned`]).
    pub last_time: i64,
    /// Orders that held it.
    pub orders: u32,
}

/// What a recommendation knows about the shopper. Every field may be empty: an anonymous first
/// visit, or an eval customer with history but no session.
#[derive(Clone, Debug, Default)]
pub struct Shopper<'a> {
    /// Products of the moment, with weights, strongest first: the page's product, the cart,
    /// what was looked at this session. They seed `bought_together` and `similar`.
    pub seeds: Vec<(ProductIdx, f32)>,
    /// Purchase history; `last_time` is compared with the `now` given to [`recommend`], which
    /// must be on the same clock.
    pub owned: Vec<Owned>,
    /// Products in the cart (they seed `cart_addons`).
    pub cart: Vec<ProductIdx>,
    pub country: Option<&'a str>,
    /// RFM segment name (`popular_segment`, and affinity's last resort).
    pub segment: Option<&'a str>,
    /// The category page being looked at (`popular_category`).
    pub page_category: Option<&'a str>,
    /// Session interest per category (decayed weights, any scale), for `affinity`.
    pub interest_categories: Vec<(&'a str, f32)>,
    /// Session interest per product (decayed), for `affinity`'s look-alikes.
    pub interest_products: Vec<(ProductIdx, f32)>,
    /// Favourite categories, best first (profile trait `top_categories`), for `affinity`.
    pub top_categories: Vec<&'a str>,
    /// Products viewed lately, most recent first (`recently_viewed`; they also seed
    /// `viewed_together` and `bought_after_viewing`).
    pub recently_viewed: Vec<ProductIdx>,
    /// Favourite brands, best first (profile trait `top_brands`), for `brand_affinity`.
    pub top_brands: Vec<&'a str>,
    /// Session interest per brand (the brands of the session's products), for `brand_affinity`.
    pub interest_brands: Vec<(&'a str, f32)>,
    /// The placement being decided: `decided` reads the edge's decision for it.
    pub placement: &'a str,
}

/// A ranked item: the product, its blended score and the source that contributed most.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranked {
    pub item: ProductIdx,
    pub score: f32,
    pub source: &'static str,
}

/// How many products one source offered (for `explain`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Offered {
    pub recommender: &'static str,
    pub weight: f32,
    pub candidates: u32,
}

/// What a blend gives: the ranking and, per known source, how many products it offered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recommendation {
    pub items: Vec<Ranked>,
    pub offered: Vec<Offered>,
}

/// The `k` best products for `shopper` at `now` (unix seconds, the clock of `shopper.owned`)
/// from the weighted `sources`. Products for which `eligible` is false never rank (stock, cart,
/// price cap: the host's filters); with `exclude_owned`, neither does anything the shopper owns
/// (a discovery placement). Unknown recommender names are skipped. The list may be shorter
/// than `k`: nothing fills it up.
pub fn recommend(
    tables: &RecTables,
    shopper: &Shopper,
    sources: &[Source],
    exclude_owned: bool,
    now: i64,
    k: usize,
    eligible: impl Fn(ProductIdx) -> bool,
) -> Recommendation {
    let history = history_seeds(&shopper.owned, now);
    // Every source's scaled contributions, merged per item below.
    let mut contributions = Tally::default();
    let mut offered = Vec::new();
    for s in sources {
        let Some(which) = RECOMMENDERS.iter().position(|r| *r == s.recommender) else { continue };
        let name = RECOMMENDERS[which];
        let raw = candidates(tables, name, shopper, &history, &eligible);
        offered.push(Offered { recommender: name, weight: s.weight, candidates: raw.len() as u32 });
        let max = raw.iter().map(|r| r.1).fold(0.0f32, f32::max);
        if max <= 0.0 {
            continue;
        }
        for (item, score) in raw {
            contributions.add(item, s.weight * score / max, which as u8);
        }
    }
    let owned = |item: ProductIdx| shopper.owned.iter().any(|o| o.item == item);
    let mut items: Vec<Ranked> = Vec::new();
    contributions.merge(|item, adds| {
        // Total score, and the recommender of the best single contribution (first on ties).
        let (mut score, mut best, mut source) = (0.0f32, 0.0f32, adds[0].1);
        for &(c, which) in adds {
            score += c;
            if c > best {
                best = c;
                source = which;
            }
        }
        if score > 0.0 && eligible(item) && !(exclude_owned && owned(item)) {
            items.push(Ranked { item, score, source: RECOMMENDERS[source as usize] });
        }
    });
    // Items are unique, so the order is total: unstable sorting gives the same list everywhere.
    crate::sort::top_k_by(&mut items, k, best_first);
    Recommendation { items, offered }
}

/// The one ranking order: best score first, ties by product index. A named function, so the
/// merchandising re-sort (`merchandise::apply`) shares this sort's code in the SDK.
pub(crate) fn best_first(a: &Ranked, b: &Ranked) -> core::cmp::Ordering {
    b.score.total_cmp(&a.score).then(a.item.cmp(&b.item))
}

/// Values added per product. A decision sees a few hundred candidates, so collecting pairs and
/// merging them in one sort is cheaper than a map. Values of one item are handed over in the
/// order they were added, so every host sums the same floats in the same order. Not generic:
/// one instance of `sort::sort_by`.
#[derive(Default)]
struct Tally {
    /// (item << 32 | insertion number, value, payload): the key orders by item, then by time.
    adds: Vec<(u64, f32, u8)>,
}

impl Tally {
    fn add(&mut self, item: ProductIdx, value: f32, payload: u8) {
        let key = (u64::from(item) << 32) | self.adds.len() as u64;
        self.adds.push((key, value, payload));
    }

    /// Calls `each` once per item, in item order, with its values in the order added.
    fn merge(mut self, mut each: impl FnMut(ProductIdx, &[(f32, u8)])) {
        crate::sort::sort_by(&mut self.adds, |a, b| a.0.cmp(&b.0));
        let mut run: Vec<(f32, u8)> = Vec::new();
        let mut i = 0;
        while i < self.adds.len() {
            let item = (self.adds[i].0 >> 32) as ProductIdx;
            run.clear();
            while i < self.adds.len() && (self.adds[i].0 >> 32) as ProductIdx == item {
                run.push((self.adds[i].1, self.adds[i].2));
                i += 1;
            }
            each(item, &run);
        }
    }

    /// Each item with the sum of its values, in item order.
    fn sums(mut self) -> Vec<(ProductIdx, f32)> {
        crate::sort::sort_by(&mut self.adds, |a, b| a.0.cmp(&b.0));
        let mut out: Vec<(ProductIdx, f32)> = Vec::with_capacity(self.adds.len());
        for &(key, value, _) in &self.adds {
            let item = (key >> 32) as ProductIdx;
            match out.last_mut() {
                Some(last) if last.0 == item => last.1 += value,
                _ => out.push((item, value)),
            }
        }
        out
    }
}

/// The strongest owned items with their pull, strongest first (ties by product index), scaled
/// so the strongest weighs at most 1: a past purchase never outweighs the page's product or
/// the cart, and old histories weigh less than that.
fn history_seeds(owned: &[Owned], now: i64) -> Vec<(Owned, f32)> {
    let mut seeds: Vec<(Owned, f32)> = owned.iter().map(|o| (*o, pull(o, now))).collect();
    crate::sort::top_k_by(&mut seeds, MAX_HISTORY_SEEDS, |a, b| b.1.total_cmp(&a.1).then(a.0.item.cmp(&b.0.item)).then(b.0.last_time.cmp(&a.0.last_time)));
    let top = seeds.first().map_or(1.0, |s| s.1).max(1.0);
    seeds.iter_mut().for_each(|s| s.1 /= top);
    seeds
}

/// How strongly an owned item speaks for the shopper at `now`: 2^(−age/60 days) × (1 + ln
/// orders). The order it puts items in does not change with `now` (once `now` is past them all),
/// so a profile can keep the strongest items at build time.
pub fn pull(owned: &Owned, now: i64) -> f32 {
    let age_days = now.saturating_sub(owned.last_time).max(0) as f32 / DAY;
    let recency = libm::expf(-core::f32::consts::LN_2 * age_days / HISTORY_HALF_LIFE_DAYS);
    recency * (1.0 + libm::logf(owned.orders.max(1) as f32))
}

/// One source's raw scores for this shopper, summed per product.
fn candidates(tables: &RecTables, name: &str, shopper: &Shopper, history: &[(Owned, f32)], eligible: &impl Fn(ProductIdx) -> bool) -> Vec<(ProductIdx, f32)> {
    let mut out = Tally::default();
    let mut add = |item: ProductIdx, score: f32| out.add(item, score, 0);
    let history_seeds = || history.iter().map(|(o, w)| (o.item, *w));
    match name {
        "bought_together" => neighbours(&tables.bought_together, shopper.seeds.iter().copied().chain(history_seeds()), &mut add),
        #[cfg(not(feature = "compact"))]
        "learned" => neighbours(&tables.learned, shopper.seeds.iter().copied().chain(history_seeds()), &mut add),
        #[cfg(not(feature = "compact"))]
        "viewed_together" => neighbours(&tables.viewed_together, shopper.seeds.iter().copied().chain(viewed(shopper)), &mut add),
        #[cfg(not(feature = "compact"))]
        "bought_after_viewing" => neighbours(&tables.bought_after_viewing, shopper.seeds.iter().copied().chain(viewed(shopper)), &mut add),
        #[cfg(not(feature = "compact"))]
        "recently_viewed" => {
            for (rank, &p) in shopper.recently_viewed.iter().enumerate() {
                add(p, 1.0 / (rank as f32 + 1.0));
            }
        }
        #[cfg(not(feature = "compact"))]
        "brand_affinity" => {
            // The session's brands first (twice as strong as a favourite), then the favourites.
            let total: f32 = shopper.interest_brands.iter().map(|b| b.1).sum::<f32>().max(1e-6);
            let session = shopper.interest_brands.iter().map(|&(b, w)| (b, 2.0 * w / total));
            let favourites = shopper.top_brands.iter().enumerate().map(|(rank, &b)| (b, 1.0 / (rank as f32 + 1.0)));
            by_keys(&tables.popular_by_brand, session.chain(favourites), &mut add);
        }
        #[cfg(not(feature = "compact"))]
        "new_arrivals" => list(&tables.new_arrivals, 1.0, &mut add),
        "similar" => neighbours(&tables.similar, shopper.seeds.iter().copied().chain(history_seeds()), &mut add),
        "trending" => list(&tables.trending, 1.0, &mut add),
        "popular" => list(&tables.popular, 1.0, &mut add),
        "popular_country" => list(shopper.country.map_or(&[][..], |c| RecTables::keyed(&tables.popular_by_country, c)), 1.0, &mut add),
        "popular_segment" => list(shopper.segment.map_or(&[][..], |s| RecTables::keyed(&tables.popular_by_segment, s)), 1.0, &mut add),
        crate::rules::SLICE_RECOMMENDER => list(RecTables::keyed(&tables.decided, shopper.placement), 1.0, &mut add),
        "popular_category" => by_keys(&tables.popular_by_category, shopper.page_category.map(|c| (c, 1.0)).into_iter(), &mut add),
        "affinity" => {
            // Session interests first (twice as strong as a favourite), then the known
            // customer's favourite categories, then look-alikes of what was looked at; the
            // segment's favourites, faintly, so the list is never empty.
            let total: f32 = shopper.interest_categories.iter().map(|c| c.1).sum::<f32>().max(1e-6);
            let session = shopper.interest_categories.iter().map(|&(c, w)| (c, 2.0 * w / total));
            let favourites = shopper.top_categories.iter().enumerate().map(|(rank, &c)| (c, 1.0 / (rank as f32 + 1.0)));
            by_keys(&tables.popular_by_category, session.chain(favourites), &mut add);
            neighbours(&tables.similar, shopper.interest_products.iter().copied(), &mut add);
            let segment = shopper.segment.map_or(&[][..], |s| RecTables::keyed(&tables.popular_by_segment, s));
            list(segment, 0.01, &mut add);
        }
        "buy_again" => {
            // Re-orderable products (in `reorder_days`) are likelier to be bought again than
            // one-off buys (a gift, a piece of furniture).
            for &(o, pull) in history {
                let habit = if tables.reorder_days.binary_search_by_key(&o.item, |&(p, _)| p).is_ok() { 1.0 } else { 0.5 };
                add(o.item, pull * habit);
            }
        }
        "cart_addons" => {
            let mut tally = Tally::default();
            neighbours(&tables.bought_together, shopper.cart.iter().map(|&p| (p, 1.0)), &mut |i, s| tally.add(i, s, 0));
            let companions = tally.sums();
            // Low-price add-ons people buy anyway: popular items that pass the filters (the
            // placement's price cap), at most 0.3 of the best companion.
            let top = companions.iter().map(|c| c.1).fold(0.0f32, f32::max).max(1.0);
            let pop_max = tables.popular.first().map_or(1.0, |s| s.score.max(1e-6));
            for (i, s) in companions {
                add(i, s);
            }
            for s in tables.popular.iter().filter(|s| eligible(s.item)) {
                add(s.item, 0.3 * top * s.score / pop_max);
            }
        }
        _ => {}
    }
    out.sums()
}

fn list(items: &[Scored], factor: f32, add: &mut impl FnMut(ProductIdx, f32)) {
    for s in items {
        add(s.item, factor * s.score);
    }
}

/// Neighbour lists of weighted seeds, added up (seeds themselves are left to the filters).
fn neighbours(table: &Neighbors, seeds: impl Iterator<Item = (ProductIdx, f32)>, add: &mut impl FnMut(ProductIdx, f32)) {
    for (seed, w) in seeds {
        for s in table.of(seed) {
            add(s.item, w * s.score);
        }
    }
}

/// Recently viewed products as seeds, the latest strongest (1, 1/2, 1/3, …).
#[cfg(not(feature = "compact"))]
fn viewed<'a>(shopper: &'a Shopper) -> impl Iterator<Item = (ProductIdx, f32)> + 'a {
    shopper.recently_viewed.iter().enumerate().map(|(rank, &p)| (p, 1.0 / (rank as f32 + 1.0)))
}

/// Popular items of weighted keys (categories, brands), each list scaled to a maximum of its
/// weight.
fn by_keys<'a>(lists: &[crate::body::Keyed], keys: impl Iterator<Item = (&'a str, f32)>, add: &mut impl FnMut(ProductIdx, f32)) {
    for (c, w) in keys {
        let items = RecTables::keyed(lists, c);
        let max = items.first().map_or(1.0, |s| s.score.max(1e-6));
        for s in items {
            add(s.item, w * s.score / max);
        }
    }
}

/// A known customer's purchase history from the profile trait `items`: entries
/// `[sku, last bought (unix seconds, the data's clock), orders]`, strongest first. Malformed
/// entries and unknown SKUs are skipped; a bare SKU (the older profile shape) counts as one
/// order bought at `default_time`.
pub fn owned_from_traits(traits: &Value, index_of: impl Fn(&str) -> Option<ProductIdx>, default_time: i64) -> Vec<Owned> {
    let Some(items) = traits.path("items").and_then(Value::as_array) else { return Vec::new() };
    items
        .iter()
        .take(MAX_HISTORY_SEEDS)
        .filter_map(|entry| {
            let (sku, last_time, orders) = match entry {
                Value::String(sku) => (sku.as_str(), default_time, 1),
                Value::Array(a) => {
                    let sku = a.first()?.as_str()?;
                    let last_time = number(a.get(1)?)?;
                    let orders = a.get(2).map_or(Some(1.0), number_f64)?;
                    (sku, last_time, orders.clamp(1.0, u32::MAX as f64) as u32)
                }
                _ => return None,
            };
            Some(Owned { item: index_of(sku)?, last_time, orders })
        })
        .collect()
}

fn number_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) if n.is_finite() => Some(*n),
        _ => None,
    }
}

fn number(v: &Value) -> Option<i64> {
    // `as` saturates: no overflow, whatever the number.
    number_f64(v).map(|n| n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Keyed;
    use alloc::vec;

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
            learned: Neighbors::from_lists((0..10).map(|p| if p == 0 { scored(&[(2, 0.7), (4, 0.1)]) } else { Vec::new() }).collect()),
            viewed_together: Neighbors::from_lists((0..10).map(|p| if p == 4 { scored(&[(5, 0.5)]) } else { Vec::new() }).collect()),
            bought_after_viewing: Neighbors::from_lists((0..10).map(|p| if p == 4 { scored(&[(6, 1.0)]) } else { Vec::new() }).collect()),
            popular_by_brand: vec![
                Keyed { key: "Acme".into(), items: scored(&[(8, 2.0), (1, 1.0)]) },
                Keyed { key: "Maison".into(), items: scored(&[(9, 1.0)]) },
            ],
            new_arrivals: scored(&[(1, 1.0), (2, 0.5)]),
            ..RecTables::default()
        }
    }

    fn sources(list: &[(&str, f32)]) -> Vec<Source> {
        list.iter().map(|&(r, weight)| Source { recommender: r.into(), weight }).collect()
    }

    fn rank(shopper: &Shopper, list: &[(&str, f32)], exclude_owned: bool, now: i64, k: usize) -> Recommendation {
        recommend(&tables(), shopper, &sources(list), exclude_owned, now, k, |_| true)
    }

    fn items(r: &Recommendation) -> Vec<u32> {
        r.items.iter().map(|s| s.item).collect()
    }

    #[test]
    fn buy_again_prefers_recent_repeated_reorderable_items() {
        let now = 100 * DAY_SECS;
        let owned = vec![
            Owned { item: 0, last_time: now - 90 * DAY_SECS, orders: 1 },
            Owned { item: 3, last_time: now - 5 * DAY_SECS, orders: 4 },
            Owned { item: 4, last_time: now - 5 * DAY_SECS, orders: 1 },
        ];
        let shopper = Shopper { owned, ..Shopper::default() };
        let r = rank(&shopper, &[("buy_again", 1.0)], false, now, 3);
        assert_eq!(items(&r), [3, 4, 0]);
        assert_eq!(r.items[0].score, 1.0, "each source is scaled to a maximum of 1");
        assert_eq!(r.items[0].source, "buy_again");
    }

    #[test]
    fn neighbours_of_owned_items_blend_with_trending_and_owned_can_be_excluded() {
        let now = 10 * DAY_SECS;
        let owned = vec![Owned { item: 0, last_time: now, orders: 1 }, Owned { item: 3, last_time: now, orders: 1 }];
        let shopper = Shopper { owned, ..Shopper::default() };
        let blend = [("bought_together", 1.0), ("similar", 0.5), ("trending", 0.2)];
        let r = rank(&shopper, &blend, true, now, 6);
        // 1: 1.0 (bt), 4: 0.5 (similar), 2: 0.33 (bt), 5: 0.2, 6: 0.1 (trending); nothing fills.
        assert_eq!(items(&r), [1, 4, 2, 5, 6]);
        assert_eq!(r.offered.iter().map(|o| o.candidates).collect::<Vec<_>>(), [2, 1, 2]);
        let kept = rank(&shopper, &[("buy_again", 1.0), ("bought_together", 1.0)], false, now, 10);
        assert!(items(&kept).contains(&0));
    }

    #[test]
    fn the_page_product_and_history_both_seed_and_filters_apply() {
        let now = 10 * DAY_SECS;
        // A strong history item (3: many recent orders) and the page's product 0.
        let shopper = Shopper { seeds: vec![(0, 2.0)], owned: vec![Owned { item: 3, last_time: now, orders: 20 }], ..Shopper::default() };
        let r = recommend(&tables(), &shopper, &sources(&[("bought_together", 1.0), ("similar", 1.0)]), false, now, 10, |p| p != 2);
        // 1: 1.0 (bt of the page product); 4: 1.0 (similar of history, scaled to 1); 2 filtered.
        assert_eq!(items(&r), [1, 4]);
    }

    #[test]
    fn a_shopper_without_history_gets_only_what_the_sources_have() {
        let r = rank(&Shopper::default(), &[("buy_again", 1.0), ("bought_together", 1.0)], false, 0, 3);
        assert!(r.items.is_empty());
        let r = rank(&Shopper::default(), &[("popular", 1.0), ("nonsense", 5.0)], false, 0, 3);
        assert_eq!(items(&r), [7, 8, 9]);
        assert_eq!(r.offered.len(), 1, "unknown recommenders are skipped");
    }

    #[test]
    fn recently_viewed_lists_the_latest_first_and_seeds_the_browsing_tables() {
        let shopper = Shopper { recently_viewed: vec![4, 7], ..Shopper::default() };
        assert_eq!(items(&rank(&shopper, &[("recently_viewed", 1.0)], false, 0, 5)), [4, 7]);
        assert_eq!(items(&rank(&shopper, &[("viewed_together", 1.0)], false, 0, 5)), [5]);
        assert_eq!(items(&rank(&shopper, &[("bought_after_viewing", 1.0)], false, 0, 5)), [6]);
        assert!(rank(&Shopper::default(), &[("viewed_together", 1.0), ("recently_viewed", 1.0)], false, 0, 5).items.is_empty());
    }

    #[test]
    fn learned_neighbours_come_from_the_page_and_the_history() {
        let page = Shopper { seeds: vec![(0, 2.0)], ..Shopper::default() };
        assert_eq!(items(&rank(&page, &[("learned", 1.0)], false, 0, 5)), [2, 4]);
        let history = Shopper { owned: vec![Owned { item: 0, last_time: 0, orders: 1 }], ..Shopper::default() };
        assert_eq!(items(&rank(&history, &[("learned", 1.0)], true, 0, 5)), [2, 4]);
    }

    #[test]
    fn brand_affinity_puts_the_sessions_brand_before_a_favourite() {
        let favourite = Shopper { top_brands: vec!["maison"], ..Shopper::default() };
        assert_eq!(items(&rank(&favourite, &[("brand_affinity", 1.0)], false, 0, 5)), [9]);
        let both = Shopper { top_brands: vec!["Maison"], interest_brands: vec![("Acme", 3.0)], ..Shopper::default() };
        // Acme (the session) at 2: 8 scores 2 and 1 scores 1; Maison (a favourite) at 1: 9 scores 1.
        assert_eq!(items(&rank(&both, &[("brand_affinity", 1.0)], false, 0, 5)), [8, 1, 9]);
        assert_eq!(items(&rank(&Shopper::default(), &[("new_arrivals", 1.0)], false, 0, 5)), [1, 2]);
    }

    #[test]
    fn affinity_follows_favourite_categories() {
        let shopper = Shopper { top_categories: vec!["garden"], ..Shopper::default() };
        assert_eq!(items(&rank(&shopper, &[("affinity", 1.0)], false, 0, 1)), [9]);
    }

    #[test]
    fn history_comes_from_the_items_trait_and_malformed_entries_are_skipped() {
        let traits: Value = serde_json::from_str(
            r#"{"items": [["B", 1000, 3], ["A", 2000], "C", ["ZZZ", 1, 1], [5, 1, 1], ["A"], ["A", "x", 1], ["A", 1e300, -4], {}, null]}"#,
        )
        .unwrap();
        let index_of = |sku: &str| ["A", "B", "C"].iter().position(|s| *s == sku).map(|i| i as ProductIdx);
        let owned = owned_from_traits(&traits, index_of, 77);
        assert_eq!(
            owned,
            [
                Owned { item: 1, last_time: 1000, orders: 3 },
                Owned { item: 0, last_time: 2000, orders: 1 },
                Owned { item: 2, last_time: 77, orders: 1 },
                Owned { item: 0, last_time: i64::MAX, orders: 1 },
            ]
        );
        assert!(owned_from_traits(&Value::Null, index_of, 0).is_empty());
        assert!(owned_from_traits(&serde_json::from_str::<Value>(r#"{"items": "A"}"#).unwrap(), index_of, 0).is_empty());
        // Extreme times never panic.
        let shopper = Shopper { owned, ..Shopper::default() };
        for now in [i64::MIN, 0, i64::MAX] {
            rank(&shopper, &[("buy_again", 1.0), ("bought_together", 1.0)], false, now, 5);
        }
    }
}
