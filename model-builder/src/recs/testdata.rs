//! Tiny hand-made datasets for the recommendation and eval tests.

use crate::data::{Dataset, Line, Order, Product};

pub const DAY_SECS: i64 = 86_400;

/// Builds a `Dataset` order by order; orders must be added in time order.
pub struct TinyData {
    pub ds: Dataset,
}

impl TinyData {
    /// Products named by their titles; SKUs are "P00", "P01", … so the order is the SKU order.
    pub fn new(titles: &[&str]) -> Self {
        let products =
            titles.iter().enumerate().map(|(i, t)| Product { sku: format!("P{i:02}"), title: t.to_string(), in_stock: true, ..Default::default() }).collect();
        TinyData { ds: Dataset { products, ..Default::default() } }
    }

    pub fn customers(mut self, n: usize) -> Self {
        self.ds.customers = (0..n).map(|c| format!("C{c}")).collect();
        self
    }

    pub fn countries(mut self, names: &[&str]) -> Self {
        self.ds.countries = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// An order by `customer` (None = guest) from `country` on day `day`, one unit of each item.
    pub fn order(mut self, customer: Option<u32>, country: u16, day: i64, items: &[u32]) -> Self {
        let start = self.ds.lines.len() as u32;
        self.ds.lines.extend(items.iter().map(|&product| Line { product, quantity: 1, unit_price: 1.0 }));
        let invoice = format!("I{}", self.ds.orders.len());
        let time = day * DAY_SECS + 36_000;
        assert!(self.ds.orders.last().is_none_or(|o| o.time <= time), "orders must come in time order");
        self.ds.orders.push(Order { invoice, customer, country, time, lines: start..self.ds.lines.len() as u32 });
        self
    }
}
