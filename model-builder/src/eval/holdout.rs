//! Train/test splits: the training dataset the tables are built from, and per test user what
//! they owned before and what they bought after.

use crate::data::{CountryIdx, CustomerIdx, Dataset, ProductIdx};
use crate::recs::BuyerItems;

use super::personal::Owned;

pub struct Holdout {
    /// What the builder may see.
    pub train: Dataset,
    /// "Now" for the recommenders: the first moment of the test period.
    pub as_of: i64,
    pub users: Vec<TestUser>,
    /// Buyers in the test period with nothing in training: only non-personal lists reach them.
    pub cold_customers: usize,
}

pub struct TestUser {
    pub customer: CustomerIdx,
    pub country: CountryIdx,
    /// Training purchases, one per product.
    pub owned: Vec<Owned>,
    /// Distinct products bought in the test period, sorted.
    pub bought: Vec<ProductIdx>,
}

impl TestUser {
    /// The products that count as hits under a protocol: everything bought (all) or only
    /// what the user never bought before (new).
    pub fn relevant(&self, new_only: bool) -> Vec<ProductIdx> {
        self.bought.iter().copied().filter(|p| !new_only || !self.owned.iter().any(|o| o.item == *p)).collect()
    }
}

impl Holdout {
    /// Trains on the orders before `split`, tests on the orders from `split` on. Users are the
    /// customers with orders on both sides.
    pub fn by_time(ds: &Dataset, split: i64) -> Holdout {
        let (before, after) = ds.split_at_time(split);
        let train = Dataset { orders: before.to_vec(), ..ds.clone() };
        let mut bought: Vec<Vec<ProductIdx>> = vec![Vec::new(); ds.customers.len()];
        let mut country = vec![0; ds.customers.len()];
        for order in after {
            if let Some(c) = order.customer {
                bought[c as usize].extend(ds.order_lines(order).iter().map(|l| l.product));
                country[c as usize] = order.country;
            }
        }
        let owned = owned_by_customer(&train);
        let mut users = Vec::new();
        let mut cold_customers = 0;
        for (c, mut items) in bought.into_iter().enumerate() {
            if items.is_empty() {
                continue;
            }
            if owned[c].is_empty() {
                cold_customers += 1;
                continue;
            }
            items.sort_unstable();
            items.dedup();
            users.push(TestUser { customer: c as CustomerIdx, country: country[c], owned: owned[c].clone(), bought: items });
        }
        Holdout { train, as_of: split, users, cold_customers }
    }
}

/// Each customer's training purchases, one record per product.
pub fn owned_by_customer(train: &Dataset) -> Vec<Vec<Owned>> {
    let mut owned = vec![Vec::new(); train.customers.len()];
    for p in BuyerItems::from_dataset(train).purchases {
        if let Some(c) = p.customer {
            owned[c as usize].push(Owned { item: p.product, last_time: p.last_time, orders: p.orders });
        }
    }
    owned
}
