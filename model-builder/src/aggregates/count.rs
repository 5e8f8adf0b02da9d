//! The aggregates counted from the builder's own `Dataset` (the 10M-line path: one pass per
//! buyer for the per-product and per-customer counts, one over baskets for the pairs).

use super::{Aggregates, CountryItem, CustomerAggregates, CustomerCategory, CustomerItem, CustomerStats, ItemCounts, Reorder, Totals};
use crate::data::{CategoryIdx, Dataset};
use crate::recs::{decay, Baskets, BuyerItems, RecsConfig};

const DAY: i64 = 86_400;

impl Aggregates {
    /// Everything `[recs]` needs; `cfg` gives the counting's parameters (sql/SCHEMA.md).
    pub fn from_dataset(ds: &Dataset, cfg: &RecsConfig) -> Aggregates {
        let buyers = BuyerItems::from_dataset(ds);
        let as_of = ds.last_time();
        let mut items = vec![ItemCounts::default(); ds.products.len()];
        for p in &buyers.purchases {
            let item = &mut items[p.product as usize];
            item.buyers += 1;
            item.trend += decay(as_of - p.last_time, cfg.trending_half_life_days);
        }
        let mut country_items: Vec<CountryItem> =
            buyers.country_buyers.iter().map(|(&(country, product), &buyers)| CountryItem { country, product, buyers }).collect();
        country_items.sort_unstable_by_key(|c| (c.country, c.product));
        let reorders = buyers.reorders().into_iter().map(|(product, customers, gap_days)| Reorder { product, customers, gap_days }).collect();
        let customers = CustomerAggregates::from_buyers(ds, &buyers);
        drop(buyers);

        let baskets = Baskets::from_dataset(ds, cfg);
        for (item, (count, weight)) in items.iter_mut().zip(baskets.items()) {
            item.baskets = count;
            item.basket_weight = weight;
        }
        let pairs = baskets.pairs(cfg.min_support);
        Aggregates { totals: totals(ds), countries: ds.countries.clone(), items, country_items, reorders, pairs, customers }
    }
}

impl CustomerAggregates {
    /// The RFM inputs alone (profiles without the tables: eval, simulate).
    pub fn from_dataset(ds: &Dataset) -> CustomerAggregates {
        Self::from_buyers(ds, &BuyerItems::from_dataset(ds))
    }

    fn from_buyers(ds: &Dataset, buyers: &BuyerItems) -> CustomerAggregates {
        let n = ds.customers.len();
        let mut items: Vec<CustomerItem> = buyers
            .purchases
            .iter()
            .filter_map(|p| {
                Some(CustomerItem { customer: p.customer.filter(|&c| (c as usize) < n)?, product: p.product, orders: p.orders, last_time: p.last_time })
            })
            .collect();
        items.sort_unstable_by_key(|i| (i.customer, i.product));

        let mut stats = vec![CustomerStats::default(); n];
        let mut last_day = vec![0i64; n];
        let mut gaps: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut spend: Vec<Vec<(CategoryIdx, f64)>> = vec![Vec::new(); n];
        for order in &ds.orders {
            let Some(c) = order.customer.map(|c| c as usize).filter(|&c| c < n) else { continue };
            let s = &mut stats[c];
            let day = order.time.div_euclid(DAY);
            if s.orders == 0 {
                s.first_time = order.time;
            } else if day != last_day[c] {
                gaps[c].push((day - last_day[c]) as u32);
            }
            s.orders += 1;
            s.last_time = order.time;
            last_day[c] = day;
            for line in ds.order_lines(order) {
                let value = line.quantity as f64 * line.unit_price as f64;
                s.monetary += value;
                if let Some(cat) = ds.products.get(line.product as usize).and_then(|p| p.category) {
                    match spend[c].iter_mut().find(|(k, _)| *k == cat) {
                        Some((_, v)) => *v += value,
                        None => spend[c].push((cat, value)),
                    }
                }
            }
        }
        for (s, g) in stats.iter_mut().zip(&mut gaps) {
            s.gap_days = median(g);
        }
        let categories = spend
            .into_iter()
            .enumerate()
            .flat_map(|(c, list)| list.into_iter().map(move |(category, spend)| CustomerCategory { customer: c as u32, category, spend }))
            .collect();
        CustomerAggregates { ids: ds.customers.clone(), stats, categories, items }
    }
}

fn totals(ds: &Dataset) -> Totals {
    Totals {
        orders: ds.orders.len() as u64,
        lines: ds.lines.len() as u64,
        customers: ds.customers.len() as u64,
        guest_orders: ds.orders.iter().filter(|o| o.customer.is_none()).count() as u64,
        countries: ds.countries.len() as u64,
        first_time: ds.first_time(),
        last_time: ds.last_time(),
    }
}

/// `percentile_cont(0.5)`: the middle value, or the mean of the two middle ones.
fn median(v: &mut [u32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[mid] as f32 } else { (v[mid - 1] + v[mid]) as f32 / 2.0 })
}
