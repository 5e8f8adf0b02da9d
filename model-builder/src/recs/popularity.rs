//! Popularity tables: distinct buyers per product, overall and per country, category and RFM
//! segment, and trending (buyers decayed by the age of their latest purchase).
//!
//! Distinct buyers rather than units: one wholesaler ordering 10,000 units is one vote.

use vitrine_engine::bundle::{Keyed, Scored};

use super::buyers::BuyerItems;
use super::rank::top_k_dense;
use super::{decay, RecsConfig};
use crate::data::Dataset;

pub fn popular(ds: &Dataset, buyers: &BuyerItems, cfg: &RecsConfig) -> Vec<Scored> {
    let mut counts = vec![0f32; ds.products.len()];
    for p in &buyers.purchases {
        counts[p.product as usize] += 1.0;
    }
    top_k_dense(&counts, cfg.popular_size)
}

/// Buyers weighted by how recent their latest purchase is, as of the data's last order.
pub fn trending(ds: &Dataset, buyers: &BuyerItems, cfg: &RecsConfig) -> Vec<Scored> {
    let as_of = ds.last_time();
    let mut heat = vec![0f32; ds.products.len()];
    for p in &buyers.purchases {
        heat[p.product as usize] += decay(as_of - p.last_time, cfg.trending_half_life_days);
    }
    top_k_dense(&heat, cfg.trending_size)
}

pub fn by_country(ds: &Dataset, buyers: &BuyerItems, cfg: &RecsConfig) -> Vec<Keyed> {
    keyed_counts(ds, buyers, &ds.countries, cfg, |p| Some(p.country as usize))
}

pub fn by_category(ds: &Dataset, buyers: &BuyerItems, cfg: &RecsConfig) -> Vec<Keyed> {
    keyed_counts(ds, buyers, &ds.categories, cfg, |p| ds.products[p.product as usize].category.map(usize::from))
}

/// Popular among the customers of each segment; guests belong to no segment.
pub fn by_segment(ds: &Dataset, buyers: &BuyerItems, customer_segment: &[&str], cfg: &RecsConfig) -> Vec<Keyed> {
    let mut names: Vec<&str> = customer_segment.to_vec();
    names.sort_unstable();
    names.dedup();
    let segment_of: Vec<usize> = customer_segment.iter().map(|s| names.binary_search(s).expect("every name was collected")).collect();
    let names: Vec<String> = names.into_iter().map(String::from).collect();
    keyed_counts(ds, buyers, &names, cfg, |p| p.customer.and_then(|c| segment_of.get(c as usize).copied()))
}

/// Distinct buyers per (key, product); keys without any purchase are left out.
fn keyed_counts(ds: &Dataset, buyers: &BuyerItems, keys: &[String], cfg: &RecsConfig, key_of: impl Fn(&super::Purchase) -> Option<usize>) -> Vec<Keyed> {
    let n = ds.products.len();
    let mut counts = vec![0f32; keys.len() * n];
    for p in &buyers.purchases {
        if let Some(k) = key_of(p).filter(|&k| k < keys.len()) {
            counts[k * n + p.product as usize] += 1.0;
        }
    }
    keys.iter()
        .enumerate()
        .map(|(k, key)| Keyed { key: key.clone(), items: top_k_dense(&counts[k * n..(k + 1) * n], cfg.popular_size) })
        .filter(|keyed| !keyed.items.is_empty())
        .collect()
}
