//! The aggregates counted from the builder's own `Dataset` (the 10M-line path: one pass per
//! buyer for the per-product and per-customer counts, one over baskets for the pairs).

use super::DAY;
use super::{Aggregates, CountryItem, CustomerAggregates, CustomerCategory, CustomerItem, CustomerStats, ItemCounts, Reorder, Totals};
use crate::data::{CategoryIdx, Dataset, Line, Order};
use crate::recs::{decay, Baskets, BuyerItems, RecsConfig};

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

        let mut spend: Vec<Vec<(CategoryIdx, f64)>> = vec![Vec::new(); n];
        let stats = count_customers(ds, &ds.orders, n, |c, line, value| {
            if let Some(cat) = ds.products.get(line.product as usize).and_then(|p| p.category) {
                match spend[c].iter_mut().find(|(k, _)| *k == cat) {
                    Some((_, v)) => *v += value,
                    None => spend[c].push((cat, value)),
                }
            }
        });
        let categories = spend
            .into_iter()
            .enumerate()
            .flat_map(|(c, list)| list.into_iter().map(move |(category, spend)| CustomerCategory { customer: c as u32, category, spend }))
            .collect();
        CustomerAggregates { ids: ds.customers.clone(), stats, categories, items }
    }
}

/// Per customer (`CustomerIdx` below `customers`), the `customers.csv` row counted from
/// `orders` (sorted by time, as a `Dataset`'s are); guest orders count for nobody. Also what
/// `predict::Summaries::of_orders` counts a calibration window's purchase days with.
pub fn customer_stats(ds: &Dataset, orders: &[Order], customers: usize) -> Vec<CustomerStats> {
    count_customers(ds, orders, customers, |_, _, _| {})
}

/// [`customer_stats`], calling `each_line(customer, line, quantity × unit price)` on every line
/// of a customer's orders.
fn count_customers(ds: &Dataset, orders: &[Order], n: usize, mut each_line: impl FnMut(usize, &Line, f64)) -> Vec<CustomerStats> {
    let mut stats = vec![CustomerStats::default(); n];
    let mut last_day = vec![0i64; n];
    let mut gaps: Vec<Vec<u32>> = vec![Vec::new(); n];
    for order in orders {
        let Some(c) = order.customer.map(|c| c as usize).filter(|&c| c < n) else { continue };
        let s = &mut stats[c];
        let day = order.time.div_euclid(DAY);
        if s.orders == 0 {
            s.first_time = order.time;
            s.purchase_days = Some(1);
        } else if day != last_day[c] {
            gaps[c].push((day - last_day[c]) as u32);
            s.purchase_days = s.purchase_days.map(|d| d + 1);
        }
        let repeat_day = day != s.first_time.div_euclid(DAY);
        s.orders += 1;
        s.last_time = order.time;
        last_day[c] = day;
        for line in ds.order_lines(order) {
            let value = f64::from(line.quantity) * f64::from(line.unit_price);
            s.monetary += value;
            if repeat_day {
                s.repeat_spend += value;
            }
            each_line(c, line, value);
        }
    }
    for (s, g) in stats.iter_mut().zip(&mut gaps) {
        s.gap_days = median(g);
    }
    stats
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
