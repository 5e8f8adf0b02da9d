//! The cleaned dataset every analysis step reads: what `ingest` produces from the store's
//! exports after cleaning. Private to the builder (it holds customer ids).
//!
//! Invariants:
//! - `products` is sorted by SKU, so a product's index here equals its index in the bundle's
//!   catalog (`ProductIdx`).
//! - `orders` is sorted by time; each order's lines are `lines[order.lines.clone()]`.
//! - Only lines that are real sales are here: cancellations, returns, zero prices, non-product
//!   codes are counted in the ingest report and kept out.
//! - `customer: None` marks a guest order: it counts for baskets and popularity, never for a
//!   customer's profile.

use std::ops::Range;

/// A product as the bundle's catalog carries it: the builder knows no more about a product
/// than that. Its `price` is the catalog's, or the median unit price seen in orders when the
/// catalog has none (rounded to cents only when written to the bundle).
pub use vitrine_engine::bundle::Product;
pub use vitrine_engine::bundle::{CategoryIdx, ProductIdx};

pub type CustomerIdx = u32;
pub type CountryIdx = u16;

#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub products: Vec<Product>,
    pub categories: Vec<String>,
    pub countries: Vec<String>,
    /// Original customer ids from the export. Never written to the public bundle.
    pub customers: Vec<String>,
    pub orders: Vec<Order>,
    pub lines: Vec<Line>,
    /// When each product was added to the store (the catalog's `created_at`; unix seconds,
    /// wall-clock as UTC), indexed like `products`; empty when the catalog has no such column
    /// (or there is no catalog). Not in the bundle's catalog: it ranks `new_arrivals`.
    pub created_at: Vec<Option<i64>>,
}

#[derive(Clone, Debug)]
pub struct Order {
    pub invoice: String,
    pub customer: Option<CustomerIdx>,
    pub country: CountryIdx,
    /// Unix seconds (the export's local time read as UTC).
    pub time: i64,
    pub lines: Range<u32>,
}

#[derive(Clone, Copy, Debug)]
pub struct Line {
    pub product: ProductIdx,
    pub quantity: u32,
    pub unit_price: f32,
}

impl Dataset {
    pub fn order_lines(&self, o: &Order) -> &[Line] {
        &self.lines[o.lines.start as usize..o.lines.end as usize]
    }

    /// Time of the last order: the "as of" day for recency and trending.
    pub fn last_time(&self) -> i64 {
        self.orders.last().map_or(0, |o| o.time)
    }

    pub fn first_time(&self) -> i64 {
        self.orders.first().map_or(0, |o| o.time)
    }

    /// The orders strictly before `t` and from `t` on (for train/test splits): orders are sorted
    /// by time, so this is one binary search.
    pub fn split_at_time(&self, t: i64) -> (&[Order], &[Order]) {
        let i = self.orders.partition_point(|o| o.time < t);
        self.orders.split_at(i)
    }
}
