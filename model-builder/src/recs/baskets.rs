//! Bought together: co-purchase in the same basket (one invoice, or one customer's whole
//! history, per `co_purchase_scope`): the baskets and pair counts (`aggregates`), and the
//! score computed from them.

use rayon::prelude::*;
use vitrine_engine::bundle::{Neighbors, ProductIdx, Scored};

use super::buyers::BuyerGroups;
use super::rank::top_k;
use super::{decay, CoPurchaseScope, RecsConfig};
use crate::data::Dataset;

/// Baskets as a sparse item × basket matrix, stored both ways (CSR).
pub struct Baskets {
    n_products: usize,
    /// Distinct items of basket `b`: `items[basket_start[b]..basket_start[b+1]]`.
    basket_start: Vec<u32>,
    items: Vec<ProductIdx>,
    /// Decay weight of each basket.
    weight: Vec<f64>,
    /// Baskets holding product `p`: `baskets[item_start[p]..item_start[p+1]]`.
    item_start: Vec<u32>,
    baskets: Vec<u32>,
}

impl Baskets {
    pub fn from_dataset(ds: &Dataset, cfg: &RecsConfig) -> Self {
        let n_products = ds.products.len();
        let as_of = ds.last_time();
        let mut basket_start = vec![0u32];
        let mut items = Vec::with_capacity(ds.lines.len());
        let mut weight = Vec::new();
        // Dedupes a basket's items without sorting: `seen_in[p]` is the last order group holding p.
        let mut seen_in = vec![u32::MAX; n_products];
        // The orders that form one basket: each order alone, or all of a customer's orders
        // (guest orders stay alone: nothing ties them together).
        let groups = match cfg.co_purchase_scope {
            CoPurchaseScope::Basket => BuyerGroups::each_order(ds),
            CoPurchaseScope::Customer => BuyerGroups::of(ds),
        };
        for (g, group) in groups.iter().enumerate() {
            // The group's own number, not the kept baskets' count: a dropped group's marks must
            // not hide its items from the next group.
            let b = g as u32;
            let start = items.len();
            for order in group.iter().map(|&o| &ds.orders[o as usize]) {
                for line in ds.order_lines(order) {
                    let p = line.product as usize;
                    if p < n_products && seen_in[p] != b {
                        seen_in[p] = b;
                        items.push(line.product);
                    }
                }
            }
            let size = items.len() - start;
            // A single item pairs with nothing; a wholesale restock says nothing about taste.
            if size < 2 || (cfg.max_basket_items > 0 && size > cfg.max_basket_items) {
                items.truncate(start);
                continue;
            }
            // Sorted, so a pair is found from its first item only (`pairs`).
            items[start..].sort_unstable();
            let latest = group.iter().map(|&o| ds.orders[o as usize].time).max().unwrap_or(as_of);
            weight.push(decay(as_of - latest, cfg.co_purchase_half_life_days));
            basket_start.push(items.len() as u32);
        }
        let (item_start, baskets) = transpose(n_products, &basket_start, &items);
        Baskets { n_products, basket_start, items, weight, item_start, baskets }
    }

    fn basket(&self, b: u32) -> &[ProductIdx] {
        &self.items[self.basket_start[b as usize] as usize..self.basket_start[b as usize + 1] as usize]
    }

    fn baskets_of(&self, p: usize) -> &[u32] {
        &self.baskets[self.item_start[p] as usize..self.item_start[p + 1] as usize]
    }

    /// Per product, its kept baskets: (count, summed weight).
    pub fn items(&self) -> Vec<(u32, f64)> {
        (0..self.n_products).map(|p| (self.baskets_of(p).len() as u32, self.baskets_of(p).iter().map(|&b| self.weight[b as usize]).sum())).collect()
    }

    /// Pairs sharing at least `min_support` kept baskets, each once (`a < b`), by `a` then `b`.
    pub fn pairs(&self, min_support: u32) -> Vec<Pair> {
        // One row of C at a time per thread, in a dense scratch row reset through `touched`.
        let scratch = || (vec![CoCount::default(); self.n_products], Vec::new());
        let rows: Vec<Vec<Pair>> = (0..self.n_products)
            .into_par_iter()
            .map_init(scratch, |(co, touched), i| {
                for &b in self.baskets_of(i) {
                    let w = self.weight[b as usize];
                    let basket = self.basket(b);
                    for &j in &basket[basket.partition_point(|&j| j as usize <= i)..] {
                        let cell = &mut co[j as usize];
                        if cell.baskets == 0 {
                            touched.push(j as usize);
                        }
                        cell.baskets += 1;
                        cell.weight += w;
                    }
                }
                touched.sort_unstable();
                let row = touched
                    .iter()
                    .filter(|&&j| co[j].baskets >= min_support.max(1))
                    .map(|&j| Pair { a: i as ProductIdx, b: j as ProductIdx, baskets: co[j].baskets, weight: co[j].weight })
                    .collect();
                for &j in touched.iter() {
                    co[j] = CoCount::default();
                }
                touched.clear();
                row
            })
            .collect();
        rows.concat()
    }
}

/// Two products bought together: the kept baskets holding both, counted and weighted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    pub a: ProductIdx,
    pub b: ProductIdx,
    pub baskets: u32,
    pub weight: f64,
}

/// Top-k companions per product. score(i → j) = C(i,j) / (N(i)^(1-d) · N(j)^d), where C is the
/// decayed count of shared baskets (`pairs`, already at `min_support` or more), N the decayed
/// count of baskets holding the product (`mass`) and d = `bestseller_damping`: an asymmetric
/// cosine, so a bestseller that lands in every basket does not crowd out the real companions.
pub fn bought_together(n_products: usize, mass: &[f64], pairs: &[Pair], cfg: &RecsConfig) -> Neighbors {
    let damping = cfg.bestseller_damping.clamp(0.0, 1.0) as f64;
    // Files counted with a lower support than the config's are held to it here.
    let kept = |p: &&Pair| (p.a as usize) < n_products && (p.b as usize) < n_products && p.a != p.b && p.baskets >= cfg.min_support;
    let norm = |p: ProductIdx, power: f64| mass.get(p as usize).copied().unwrap_or(0.0).max(f64::MIN_POSITIVE).powf(power);
    let (start, scored) = pairs_both_ways(n_products, pairs, kept, |pair, i, j| {
        let score = pair.weight / (norm(i, 1.0 - damping) * norm(j, damping));
        Scored { item: j, score: score as f32 }
    });
    let lists = (0..n_products).into_par_iter().map(|p| top_k(scored[start[p]..start[p + 1]].to_vec(), cfg.top_k)).collect();
    Neighbors::from_lists(lists)
}

/// Both directions of every `kept` pair, grouped by product (CSR): product `p`'s row is
/// `values[start[p]..start[p + 1]]`, one `value(pair, p, other)` per pair it is in, in the
/// pairs' order. The one layout `bought_together` and the learned table (`learned.rs`) read.
pub(crate) fn pairs_both_ways<T: Copy + Default>(
    n_products: usize,
    pairs: &[Pair],
    kept: impl Fn(&&Pair) -> bool,
    value: impl Fn(&Pair, ProductIdx, ProductIdx) -> T,
) -> (Vec<usize>, Vec<T>) {
    let mut start = vec![0usize; n_products + 1];
    for pair in pairs.iter().filter(&kept) {
        start[pair.a as usize + 1] += 1;
        start[pair.b as usize + 1] += 1;
    }
    for p in 0..n_products {
        start[p + 1] += start[p];
    }
    let mut next = start.clone();
    let mut values = vec![T::default(); start[n_products]];
    for pair in pairs.iter().filter(&kept) {
        for (i, j) in [(pair.a, pair.b), (pair.b, pair.a)] {
            values[next[i as usize]] = value(pair, i, j);
            next[i as usize] += 1;
        }
    }
    (start, values)
}

/// Shared baskets of a pair: raw count (for the support floor) and decayed weight (for the score),
/// side by side so one row update touches one cache line.
#[derive(Clone, Copy, Default)]
struct CoCount {
    baskets: u32,
    weight: f64,
}

/// Transposes a CSR matrix (rows = baskets, columns = products) into columns → rows.
fn transpose(n_cols: usize, row_start: &[u32], cols: &[ProductIdx]) -> (Vec<u32>, Vec<u32>) {
    let mut col_start = vec![0u32; n_cols + 1];
    for &c in cols {
        col_start[c as usize + 1] += 1;
    }
    for c in 0..n_cols {
        col_start[c + 1] += col_start[c];
    }
    let mut next = col_start.clone();
    let mut rows = vec![0u32; cols.len()];
    for r in 0..row_start.len() - 1 {
        for &c in &cols[row_start[r] as usize..row_start[r + 1] as usize] {
            rows[next[c as usize] as usize] = r as u32;
            next[c as usize] += 1;
        }
    }
    (col_start, rows)
}
