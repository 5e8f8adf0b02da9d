//! Who bought what: one record per (buyer, product), the base of every "distinct buyers" count
//! and of re-order intervals (`aggregates` counts from it). A buyer is a known customer, or a
//! single guest order.

use rustc_hash::FxHashMap;
use vitrine_engine::bundle::ProductIdx;

use crate::data::{CountryIdx, CustomerIdx, Dataset};

/// A buyer's history with one product.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Purchase {
    pub product: ProductIdx,
    /// `None` for a guest order.
    pub customer: Option<CustomerIdx>,
    /// Country of the buyer's latest order of the product.
    pub country: CountryIdx,
    pub first_time: i64,
    pub last_time: i64,
    /// Orders holding the product (distinct orders, as `count(distinct order_id)`).
    pub orders: u32,
    /// The latest of those orders (its index in `Dataset::orders`).
    last_order: u32,
}

pub struct BuyerItems {
    pub purchases: Vec<Purchase>,
    /// Days between a customer's consecutive orders of the product, per product (orders on the
    /// same day are split orders, not re-orders, and are left out).
    reorder_gaps: Vec<Vec<f32>>,
    /// Customers who re-ordered the product on another day.
    reorderers: Vec<u32>,
    /// Distinct buyers per (country, product), a buyer counting in every country they bought
    /// the product from.
    pub country_buyers: FxHashMap<(CountryIdx, ProductIdx), u32>,
}

impl BuyerItems {
    pub fn from_dataset(ds: &Dataset) -> Self {
        let n_products = ds.products.len();
        let mut purchases: Vec<Purchase> = Vec::with_capacity(ds.lines.len());
        let mut reorder_gaps = vec![Vec::new(); n_products];
        let mut reorderers = vec![0u32; n_products];
        // `slot[p]` is the index in `purchases` of the current buyer's record of p, valid when
        // `slot[p] >= buyer_start` (records of earlier buyers all lie before `buyer_start`).
        let mut slot = vec![0usize; n_products];
        let mut country_buyers: FxHashMap<(CountryIdx, ProductIdx), u32> = FxHashMap::default();
        let mut seen_in: Vec<(CountryIdx, ProductIdx)> = Vec::new();

        for orders in BuyerGroups::of(ds).iter() {
            let buyer_start = purchases.len();
            seen_in.clear();
            for &o in orders {
                let order = &ds.orders[o as usize];
                for line in ds.order_lines(order) {
                    let p = line.product as usize;
                    if p >= n_products {
                        continue;
                    }
                    seen_in.push((order.country, line.product));
                    let s = slot[p];
                    if s >= buyer_start && s < purchases.len() && purchases[s].product == line.product {
                        let rec: &mut Purchase = &mut purchases[s];
                        if rec.last_order == o {
                            continue; // the same product twice in one order
                        }
                        let (last_day, day) = (day_of(rec.last_time), day_of(order.time));
                        if day != last_day {
                            if day_of(rec.first_time) == last_day {
                                reorderers[p] += 1; // this customer's first re-order of p
                            }
                            reorder_gaps[p].push((day - last_day) as f32);
                        }
                        rec.orders += 1;
                        rec.last_order = o;
                        rec.last_time = order.time;
                        rec.country = order.country;
                    } else {
                        slot[p] = purchases.len();
                        purchases.push(Purchase {
                            product: line.product,
                            customer: order.customer,
                            country: order.country,
                            first_time: order.time,
                            last_time: order.time,
                            orders: 1,
                            last_order: o,
                        });
                    }
                }
            }
            seen_in.sort_unstable();
            seen_in.dedup();
            for &key in &seen_in {
                *country_buyers.entry(key).or_default() += 1;
            }
        }
        BuyerItems { purchases, reorder_gaps, reorderers, country_buyers }
    }

    /// Products re-ordered by anyone: (product, customers who re-ordered it, median days
    /// between re-orders), sorted by product.
    pub fn reorders(&self) -> Vec<(ProductIdx, u32, f32)> {
        self.reorder_gaps
            .iter()
            .enumerate()
            .filter(|(p, _)| self.reorderers[*p] > 0)
            .map(|(p, gaps)| (p as ProductIdx, self.reorderers[p], median(gaps)))
            .collect()
    }
}

/// Calendar day number (UTC), so two orders on one day are one visit whatever the hours.
fn day_of(t: i64) -> i64 {
    t.div_euclid(86_400)
}

fn median(values: &[f32]) -> f32 {
    let mut v = values.to_vec();
    v.sort_unstable_by(f32::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Order indices grouped by buyer, each group in time order: one group per known customer (in
/// customer order), then one per guest order. Flat: group `g` is
/// `orders[start[g]..start[g + 1]]` (millions of little vectors cost more to free than to use).
pub(crate) struct BuyerGroups {
    pub orders: Vec<u32>,
    pub start: Vec<u32>,
}

impl BuyerGroups {
    pub fn of(ds: &Dataset) -> Self {
        let n = ds.customers.len();
        let known = |o: &crate::data::Order| o.customer.map(|c| c as usize).filter(|&c| c < n);
        // Counting sort by customer, guests after: stable, so time order holds within a group.
        let mut count = vec![0u32; n + 1];
        let mut guests = 0u32;
        for o in &ds.orders {
            match known(o) {
                Some(c) => count[c + 1] += 1,
                None => guests += 1,
            }
        }
        for c in 0..n {
            count[c + 1] += count[c];
        }
        let mut next = count.clone();
        let mut guest_at = count[n];
        let mut orders = vec![0u32; count[n] as usize + guests as usize];
        for (i, o) in ds.orders.iter().enumerate() {
            let at = match known(o) {
                Some(c) => &mut next[c],
                None => &mut guest_at,
            };
            orders[*at as usize] = i as u32;
            *at += 1;
        }
        let mut start: Vec<u32> = count;
        start.dedup(); // customers without orders make no group
        let guests_from = start.last().copied().unwrap_or(0);
        start.extend((1..=guests).map(|g| guests_from + g));
        BuyerGroups { orders, start }
    }

    /// Each order alone.
    pub fn each_order(ds: &Dataset) -> Self {
        BuyerGroups { orders: (0..ds.orders.len() as u32).collect(), start: (0..=ds.orders.len() as u32).collect() }
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u32]> {
        self.start.windows(2).map(|w| &self.orders[w[0] as usize..w[1] as usize])
    }
}
