//! The counts every recommendation table and RFM profile is scored from (sql/SCHEMA.md): the
//! builder counts them from its `Dataset` (`count.rs`), or reads what an SQL engine counted
//! from the cleaned lines (`read.rs`, `model-builder build --aggregates DIR`). Either way the
//! scoring that follows is the same code (`recs::tables`, `rfm::profiles_from`).
//!
//! Invariants: products are `ProductIdx` (SKU order, as in the bundle's catalog), customers
//! index `customers.ids`; `customers.items` and `customers.categories` are sorted by customer;
//! `pairs` hold each unordered pair once.

mod count;
mod read;
mod write;

use serde::Serialize;
use vitrine_engine::rfm::History;

use crate::data::{CategoryIdx, CountryIdx, CustomerIdx, ProductIdx};
pub use crate::recs::Pair;

pub use count::customer_stats;
pub use read::{read_dir, read_products};
pub use write::write_dir;

/// `day(t) = floor(t / DAY)`, a UTC day (sql/SCHEMA.md).
const DAY: i64 = vitrine_engine::civil::DAY_SECS;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aggregates {
    pub totals: Totals,
    /// Country names, sorted: `CountryItem::country` indexes them.
    pub countries: Vec<String>,
    /// Per product (`items[p]`), zero for products nobody bought.
    pub items: Vec<ItemCounts>,
    pub country_items: Vec<CountryItem>,
    pub reorders: Vec<Reorder>,
    pub pairs: Vec<Pair>,
    pub customers: CustomerAggregates,
}

/// `totals.csv`: the bundle's stats.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    pub orders: u64,
    pub lines: u64,
    pub customers: u64,
    pub guest_orders: u64,
    pub countries: u64,
    pub first_time: i64,
    /// The data's last order: "as of" for recency, trending and decay.
    pub last_time: i64,
}

/// `items.csv` and `basket_items.csv`, one product.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ItemCounts {
    /// Distinct buyers (customers, and guest orders).
    pub buyers: u32,
    /// Buyers decayed by the age of their latest purchase (trending half-life).
    pub trend: f64,
    /// Kept baskets holding the product, and their summed decay weight.
    pub baskets: u32,
    pub basket_weight: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CountryItem {
    pub country: CountryIdx,
    pub product: ProductIdx,
    pub buyers: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reorder {
    pub product: ProductIdx,
    /// Customers who bought the product on two days or more.
    pub customers: u32,
    /// Median days between a customer's consecutive days with the product.
    pub gap_days: f32,
}

/// What RFM profiles are made of (private: customer ids).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomerAggregates {
    pub ids: Vec<String>,
    pub stats: Vec<CustomerStats>,
    pub categories: Vec<CustomerCategory>,
    pub items: Vec<CustomerItem>,
}

/// `customers.csv`, one customer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CustomerStats {
    pub orders: u32,
    pub monetary: f64,
    pub first_time: i64,
    pub last_time: i64,
    /// Median days between consecutive order days; None with orders on one day only.
    pub gap_days: Option<f32>,
    /// Distinct UTC days with an order (`floor(time / 86400)`); None when not counted (a
    /// `customers.csv` from before the column: no predictive fits, sql/SCHEMA.md).
    pub purchase_days: Option<u32>,
    /// Spend on every purchase day but the first: with the days, what the predictive models
    /// are fitted on (`predict::Summaries::from_aggregates`, via [`CustomerStats::history`]).
    pub repeat_spend: f64,
}

impl CustomerStats {
    /// The customer's orders as the engine scores them again when one more comes: the one
    /// definition of the models' summary (`History::summary`) for the build, `eval` and the edge.
    pub fn history(&self) -> History {
        History {
            orders: self.orders,
            monetary: self.monetary,
            first_day: self.first_time.div_euclid(DAY),
            last_day: self.last_time.div_euclid(DAY),
            purchase_days: self.purchase_days,
            repeat_spend: self.repeat_spend,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CustomerCategory {
    pub customer: CustomerIdx,
    pub category: CategoryIdx,
    pub spend: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CustomerItem {
    pub customer: CustomerIdx,
    pub product: ProductIdx,
    pub orders: u32,
    pub last_time: i64,
}

impl Aggregates {
    pub fn as_of(&self) -> i64 {
        self.totals.last_time
    }
}

#[cfg(test)]
mod tests;
