//! The tables browsing makes (`build --events`, read by `crate::events`): viewed together,
//! bought after viewing, and trending with views. Aggregate like every table: units are counted,
//! never kept.
//!
//! - **viewed together**: a unit's views split into sessions at a gap of [`SESSION_GAP_SECS`];
//!   each session is a basket of the products it viewed (its first [`MAX_SESSION_PRODUCTS`]
//!   distinct ones: a crawler's session costs no more than a shopper's) and is scored as
//!   bought together scores baskets (`baskets::bought_together`: `min_support`, the decay
//!   `co_purchase_half_life_days`, `bestseller_damping`, `top_k`).
//! - **bought after viewing**: for an order, the products its unit viewed in the
//!   [`VIEW_BUY_WINDOW_SECS`] before it (the latest [`MAX_SESSION_PRODUCTS`]); a pair (viewed v,
//!   bought b ≠ v) counts once per unit, decayed by its latest order. score(v → b) =
//!   C(v,b) / (V(v)^(1-d) · B(b)^d): V the decayed viewers of v, B the decayed buyers of b among
//!   the events' orders, d = `bestseller_damping`, as bought together.
//! - **trending**: purchases' trend (buyers decayed by their latest purchase, the aggregates')
//!   plus `view_weight` × viewers decayed by their latest view, with the same half-life, both as
//!   of the later of the orders' and the events' last time.

use rustc_hash::FxHashMap;
use vitrine_engine::bundle::{Neighbors, ProductIdx, Scored};

use super::baskets::{bought_together, Pair};
use super::rank::{top_k, top_k_dense};
use super::{decay, RecsConfig};
use crate::events::{Browsing, View};

/// A pause longer than this starts a new session (GA's and Segment's 30 minutes).
pub const SESSION_GAP_SECS: i64 = 30 * 60;
/// Distinct products kept per session (and viewed before an order): the pairs of one session
/// stay under 1,225 whatever it did.
pub const MAX_SESSION_PRODUCTS: usize = 50;
/// Views this long before an order may have led to it.
pub const VIEW_BUY_WINDOW_SECS: i64 = 7 * 86_400;

/// The tables browsing adds to the bundle.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewTables {
    pub viewed_together: Neighbors,
    pub bought_after_viewing: Neighbors,
    /// Trending counting views too; None when `view_weight` is 0 (purchases only: the
    /// aggregates' table stands).
    pub trending: Option<Vec<Scored>>,
}

/// Every view table. `trend[p]` and `as_of`: the purchases' trend per product and the time it
/// is decayed to (the aggregates'); `n` the catalog's size.
pub fn view_tables(b: &Browsing, n: usize, trend: &[f64], as_of: i64, cfg: &RecsConfig) -> ViewTables {
    let now = b.last_time.max(as_of);
    ViewTables {
        viewed_together: viewed_together(&b.views, n, now, cfg),
        bought_after_viewing: bought_after_viewing(b, n, now, cfg),
        trending: (cfg.view_weight > 0.0).then(|| trending(&b.views, trend, as_of, now, cfg)),
    }
}

/// Products viewed in the same sessions (`views` by unit, then time).
pub fn viewed_together(views: &[View], n: usize, as_of: i64, cfg: &RecsConfig) -> Neighbors {
    let mut co: FxHashMap<(ProductIdx, ProductIdx), (u32, f64)> = FxHashMap::default();
    let mut mass = vec![0f64; n];
    for session in sessions(views) {
        let mut products: Vec<ProductIdx> = Vec::with_capacity(MAX_SESSION_PRODUCTS);
        for v in session {
            if products.len() < MAX_SESSION_PRODUCTS && !products.contains(&v.product) && (v.product as usize) < n {
                products.push(v.product);
            }
        }
        if products.len() < 2 {
            continue;
        }
        products.sort_unstable();
        let w = decay(as_of - session.last().map_or(as_of, |v| v.ts), cfg.co_purchase_half_life_days);
        for (i, &a) in products.iter().enumerate() {
            mass[a as usize] += w;
            for &b in &products[i + 1..] {
                let cell = co.entry((a, b)).or_default();
                cell.0 += 1;
                cell.1 += w;
            }
        }
    }
    let mut pairs: Vec<Pair> = co.into_iter().map(|((a, b), (baskets, weight))| Pair { a, b, baskets, weight }).collect();
    // The float sums above follow session order; the pairs' order makes the lists reproducible.
    pairs.sort_unstable_by_key(|p| (p.a, p.b));
    bought_together(n, &mass, &pairs, cfg)
}

/// A unit's views cut at pauses longer than [`SESSION_GAP_SECS`].
fn sessions(views: &[View]) -> impl Iterator<Item = &[View]> {
    views.chunk_by(|a, b| a.unit == b.unit && b.ts - a.ts <= SESSION_GAP_SECS)
}

/// For a viewed product, what its viewers bought in the window after viewing it.
pub fn bought_after_viewing(b: &Browsing, n: usize, as_of: i64, cfg: &RecsConfig) -> Neighbors {
    let half_life = cfg.co_purchase_half_life_days;
    // Viewers per product: each unit once, decayed by its latest view.
    let mut viewers = vec![0f64; n];
    for unit in b.views.chunk_by(|x, y| x.unit == y.unit) {
        let mut latest: FxHashMap<ProductIdx, i64> = FxHashMap::default();
        for v in unit.iter().filter(|v| (v.product as usize) < n) {
            latest.insert(v.product, v.ts);
        }
        for (p, ts) in latest {
            viewers[p as usize] += decay(as_of - ts, half_life);
        }
    }
    let mut buyers = vec![0f64; n];
    let mut co: FxHashMap<(ProductIdx, ProductIdx), (u32, f64)> = FxHashMap::default();
    let mut views = b.views.as_slice();
    for orders in b.orders.chunk_by(|x, y| x.unit == y.unit) {
        let unit = orders[0].unit;
        // Both lists are by unit: walk them together.
        let start = views.partition_point(|v| v.unit < unit);
        views = &views[start..];
        let mine = &views[..views.partition_point(|v| v.unit == unit)];
        // (viewed, bought) → the latest order that made the pair; buyers the same way.
        let mut pairs: FxHashMap<(ProductIdx, ProductIdx), i64> = FxHashMap::default();
        let mut bought: FxHashMap<ProductIdx, i64> = FxHashMap::default();
        for order in orders {
            let items: Vec<ProductIdx> = order.items.iter().copied().filter(|&p| (p as usize) < n).collect();
            for &p in &items {
                bought.insert(p, order.ts);
            }
            let window = &mine[mine.partition_point(|v| v.ts < order.ts - VIEW_BUY_WINDOW_SECS)..mine.partition_point(|v| v.ts <= order.ts)];
            let mut viewed: Vec<ProductIdx> = Vec::with_capacity(MAX_SESSION_PRODUCTS);
            for v in window.iter().rev() {
                if viewed.len() == MAX_SESSION_PRODUCTS {
                    break;
                }
                if !viewed.contains(&v.product) && (v.product as usize) < n {
                    viewed.push(v.product);
                }
            }
            for &v in &viewed {
                for &p in items.iter().filter(|&&p| p != v) {
                    pairs.insert((v, p), order.ts);
                }
            }
        }
        for (p, ts) in bought {
            buyers[p as usize] += decay(as_of - ts, half_life);
        }
        for (pair, ts) in pairs {
            let cell = co.entry(pair).or_default();
            cell.0 += 1;
            cell.1 += decay(as_of - ts, half_life);
        }
    }
    let damping = cfg.bestseller_damping.clamp(0.0, 1.0) as f64;
    let norm = |mass: f64, power: f64| mass.max(f64::MIN_POSITIVE).powf(power);
    let mut lists: Vec<Vec<Scored>> = vec![Vec::new(); n];
    let mut kept: Vec<_> = co.into_iter().filter(|(_, (units, _))| *units >= cfg.min_support.max(1)).collect();
    kept.sort_unstable_by_key(|&(pair, _)| pair);
    for ((v, p), (_, weight)) in kept {
        let score = weight / (norm(viewers[v as usize], 1.0 - damping) * norm(buyers[p as usize], damping));
        lists[v as usize].push(Scored { item: p, score: score as f32 });
    }
    Neighbors::from_lists(lists.into_iter().map(|l| top_k(l, cfg.top_k)).collect())
}

/// Purchases' trend (`trend`, decayed to `trend_as_of`) plus `view_weight` × decayed viewers,
/// both as of `as_of`.
pub fn trending(views: &[View], trend: &[f64], trend_as_of: i64, as_of: i64, cfg: &RecsConfig) -> Vec<Scored> {
    let half_life = cfg.trending_half_life_days;
    let shift = decay(as_of - trend_as_of, half_life);
    let mut heat: Vec<f64> = trend.iter().map(|t| t * shift).collect();
    let weight = f64::from(cfg.view_weight.max(0.0));
    for unit in views.chunk_by(|x, y| x.unit == y.unit) {
        let mut latest: FxHashMap<ProductIdx, i64> = FxHashMap::default();
        for v in unit {
            latest.insert(v.product, v.ts);
        }
        let mut latest: Vec<(ProductIdx, i64)> = latest.into_iter().collect();
        latest.sort_unstable();
        for (p, ts) in latest {
            if let Some(h) = heat.get_mut(p as usize) {
                *h += weight * decay(as_of - ts, half_life);
            }
        }
    }
    let heat: Vec<f32> = heat.iter().map(|&h| h as f32).collect();
    top_k_dense(&heat, cfg.trending_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Order;

    const HOUR: i64 = 3600;

    fn cfg() -> RecsConfig {
        RecsConfig { min_support: 2, co_purchase_half_life_days: 0.0, trending_half_life_days: 0.0, view_weight: 0.5, ..RecsConfig::default() }
    }

    /// Unit `u`'s views of `products`, a minute apart from `start`.
    fn session(u: u32, start: i64, products: &[ProductIdx]) -> Vec<View> {
        products.iter().enumerate().map(|(i, &product)| View { unit: u, ts: start + 60 * i as i64, product }).collect()
    }

    fn browsing(mut views: Vec<View>, mut orders: Vec<Order>) -> Browsing {
        views.sort_unstable();
        orders.sort_unstable();
        let last_time = views.iter().map(|v| v.ts).chain(orders.iter().map(|o| o.ts)).max().unwrap_or(0);
        Browsing { views, orders, last_time, ..Browsing::default() }
    }

    fn items(n: &Neighbors, p: ProductIdx) -> Vec<ProductIdx> {
        n.of(p).map(|s| s.item).collect()
    }

    #[test]
    fn co_views_in_a_session_make_neighbours_and_a_pause_splits_sessions() {
        // 0 and 1 viewed together by three units; 0 and 2 by one unit in two sessions a day apart.
        let mut views = Vec::new();
        for u in 0..3 {
            views.extend(session(u, 1000, &[0, 1, 3]));
        }
        views.extend(session(3, 1000, &[0, 3]));
        views.extend(session(9, 0, &[0]));
        views.extend(session(9, 24 * HOUR, &[2]));
        views.extend(session(9, 48 * HOUR, &[0]));
        views.extend(session(9, 48 * HOUR + 31 * 60, &[2]));
        let t = view_tables(&browsing(views, vec![]), 4, &[0.0; 4], 0, &cfg());
        assert_eq!(items(&t.viewed_together, 1), [0, 3]);
        assert_eq!(items(&t.viewed_together, 0), [3, 1], "3 shares four sessions with 0, 1 three");
        assert!(items(&t.viewed_together, 2).is_empty(), "views in other sessions are not together");
    }

    #[test]
    fn a_session_of_many_products_is_capped() {
        let products: Vec<ProductIdx> = (0..200).collect();
        let views: Vec<View> = (0..3).flat_map(|u| session(u, 0, &products)).collect();
        let t = viewed_together(&views, 200, 0, &cfg());
        assert_eq!(items(&t, 0).len(), cfg().top_k);
        assert!(items(&t, MAX_SESSION_PRODUCTS as u32).is_empty(), "past the cap, nothing paired");
    }

    #[test]
    fn what_viewers_bought_in_the_window_after_viewing() {
        // Units 0..3 view 0 then buy 1 within the hour; unit 3 views 0 and buys 2 after 8 days.
        let mut views = Vec::new();
        let mut orders = Vec::new();
        for u in 0..3 {
            views.extend(session(u, 1000, &[0, 4]));
            orders.push(Order { unit: u, ts: 1000 + HOUR, items: vec![1, 0] });
            orders.push(Order { unit: u, ts: 2000 + HOUR, items: vec![1] });
        }
        views.extend(session(3, 1000, &[0]));
        orders.push(Order { unit: 3, ts: 1000 + 8 * 86_400, items: vec![2] });
        views.extend(session(4, 5000, &[3]));
        orders.push(Order { unit: 4, ts: 4000, items: vec![1] });
        let b = browsing(views, orders);
        let t = view_tables(&b, 5, &[0.0; 5], 0, &cfg());
        assert_eq!(items(&t.bought_after_viewing, 0), [1], "the product itself is not its own suggestion; 8 days is past the window");
        assert_eq!(items(&t.bought_after_viewing, 4), [0, 1], "1 is bought by more units: damped");
        assert!(items(&t.bought_after_viewing, 3).is_empty(), "a view after the order led to nothing");
        // 3 units / (√4 viewers of 0 · √4 buyers of 1): a unit that ordered 1 twice votes once.
        assert_eq!(t.bought_after_viewing.of(0).next().unwrap().score, 0.75);
    }

    #[test]
    fn trending_counts_views_at_their_weight() {
        let views: Vec<View> = (0..4).flat_map(|u| session(u, 100, &[2, 2, 2])).collect();
        let trend = [3.0, 1.0, 0.0];
        let b = browsing(views.clone(), vec![]);
        let t = view_tables(&b, 3, &trend, 100, &cfg()).trending.unwrap();
        let got: Vec<(ProductIdx, f32)> = t.iter().map(|s| (s.item, s.score)).collect();
        assert_eq!(got, [(0, 3.0), (2, 2.0), (1, 1.0)], "four viewers at half a purchase each, each viewer once");
        let purchases_only = RecsConfig { view_weight: 0.0, ..cfg() };
        assert_eq!(view_tables(&b, 3, &trend, 100, &purchases_only).trending, None);
        let later = trending(&views, &trend, 100 - 14 * 86_400, 100, &RecsConfig { trending_half_life_days: 14.0, ..cfg() });
        assert_eq!(later.iter().map(|s| (s.item, s.score)).collect::<Vec<_>>(), [(2, 2.0), (0, 1.5), (1, 0.5)], "purchases decayed to the events' time");
    }
}
