//! Train/test splits: the training dataset the tables are built from, and per test user what
//! they owned before and what they bought after.

use crate::data::{CountryIdx, CustomerIdx, Dataset, ProductIdx};
use crate::recs::BuyerItems;

use vitrine_engine::recommend::Owned;

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
    /// Trains on the orders before `split`, tests on the orders from `split` to `end`
    /// (exclusive). Users are the
    /// customers with orders on both sides. The training set only knows the customers who had
    /// ordered by then (as a real build on that day would), so customer indices are renumbered.
    pub fn by_time(ds: &Dataset, split: i64, end: i64) -> Holdout {
        let (before, after) = ds.split_at_time(split);
        let after = &after[..after.partition_point(|o| o.time < end)];
        let mut new_index: Vec<Option<CustomerIdx>> = vec![None; ds.customers.len()];
        let mut customers = Vec::new();
        let mut orders = before.to_vec();
        for order in &mut orders {
            if let Some(c) = order.customer {
                let idx = *new_index[c as usize].get_or_insert_with(|| {
                    customers.push(ds.customers[c as usize].clone());
                    (customers.len() - 1) as CustomerIdx
                });
                order.customer = Some(idx);
            }
        }
        let train = Dataset { orders, customers, ..ds.clone() };

        let mut bought: Vec<Vec<ProductIdx>> = vec![Vec::new(); train.customers.len()];
        let mut country = vec![0; train.customers.len()];
        let mut cold = vec![false; ds.customers.len()];
        for order in after {
            let Some(c) = order.customer else { continue };
            match new_index[c as usize] {
                Some(t) => {
                    bought[t as usize].extend(ds.order_lines(order).iter().map(|l| l.product));
                    country[t as usize] = order.country;
                }
                None => cold[c as usize] = true,
            }
        }
        let owned = owned_by_customer(&train);
        let users = bought
            .into_iter()
            .enumerate()
            .filter(|(_, items)| !items.is_empty())
            .map(|(c, mut items)| {
                items.sort_unstable();
                items.dedup();
                TestUser { customer: c as CustomerIdx, country: country[c], owned: owned[c].clone(), bought: items }
            })
            .collect();
        Holdout { train, as_of: split, users, cold_customers: cold.iter().filter(|&&c| c).count() }
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
