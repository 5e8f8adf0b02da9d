//! Popularity tables from the aggregates: distinct buyers per product, overall and per
//! country, category, brand and RFM segment, and trending (buyers decayed by the age of their
//! latest purchase); and new arrivals, from the catalog's dates rather than from sales.
//!
//! Distinct buyers rather than units: one wholesaler ordering 10,000 units is one vote.

use vitrine_engine::bundle::{Keyed, Product, Scored};

use super::rank::{top_k, top_k_dense};
use super::RecsConfig;
use crate::aggregates::Aggregates;

pub fn popular(a: &Aggregates, cfg: &RecsConfig) -> Vec<Scored> {
    let counts: Vec<f32> = a.items.iter().map(|i| i.buyers as f32).collect();
    top_k_dense(&counts, cfg.popular_size)
}

/// Buyers weighted by how recent their latest purchase is, as of the data's last order.
pub fn trending(a: &Aggregates, cfg: &RecsConfig) -> Vec<Scored> {
    let heat: Vec<f32> = a.items.iter().map(|i| i.trend as f32).collect();
    top_k_dense(&heat, cfg.trending_size)
}

/// Per country (sorted by name), from `country_items`.
pub fn by_country(a: &Aggregates, cfg: &RecsConfig) -> Vec<Keyed> {
    let mut lists: Vec<Vec<Scored>> = vec![Vec::new(); a.countries.len()];
    for c in &a.country_items {
        if let Some(list) = lists.get_mut(c.country as usize) {
            list.push(Scored { item: c.product, score: c.buyers as f32 });
        }
    }
    keyed(&a.countries, lists, cfg)
}

/// Per category: the category's products by buyers (a product belongs to one category).
pub fn by_category(a: &Aggregates, products: &[Product], categories: &[String], cfg: &RecsConfig) -> Vec<Keyed> {
    let mut lists: Vec<Vec<Scored>> = vec![Vec::new(); categories.len()];
    for (p, (product, item)) in products.iter().zip(&a.items).enumerate() {
        if let Some(list) = product.category.and_then(|c| lists.get_mut(c as usize)).filter(|_| item.buyers > 0) {
            list.push(Scored { item: p as u32, score: item.buyers as f32 });
        }
    }
    keyed(categories, lists, cfg)
}

/// Per brand (keyed by the brand as the catalog spells it, sorted), the brand's products by
/// buyers; products without a brand are in none. What `brand_affinity` reads.
pub fn by_brand(a: &Aggregates, products: &[Product], cfg: &RecsConfig) -> Vec<Keyed> {
    let mut brands: Vec<&str> = products.iter().map(|p| p.brand.as_str()).filter(|b| !b.is_empty()).collect();
    brands.sort_unstable();
    brands.dedup();
    let mut lists: Vec<Vec<Scored>> = vec![Vec::new(); brands.len()];
    for (p, (product, item)) in products.iter().zip(&a.items).enumerate() {
        if let (Ok(b), true) = (brands.binary_search(&product.brand.as_str()), item.buyers > 0) {
            lists[b].push(Scored { item: p as u32, score: item.buyers as f32 });
        }
    }
    let brands: Vec<String> = brands.into_iter().map(String::from).collect();
    keyed(&brands, lists, cfg)
}

/// The newest in-stock products by the catalog's `created_at` (indexed like `products`; empty:
/// no dates, no list): those added within `new_arrivals_days` of `as_of` (the data's last
/// order), scored 2^(−age / `new_arrivals_half_life_days`), best (newest) first, ties by
/// product index; the top `new_arrivals_size`. A product dated after `as_of` (a catalog
/// exported after the orders) is brand new: age 0.
pub fn new_arrivals(products: &[Product], created_at: &[Option<i64>], as_of: i64, cfg: &RecsConfig) -> Vec<Scored> {
    let window = f64::from(cfg.new_arrivals_days) * 86_400.0;
    let candidates = products
        .iter()
        .zip(created_at)
        .enumerate()
        .filter_map(|(p, (product, &created))| {
            let age = as_of.saturating_sub(created?).max(0);
            let fresh = cfg.new_arrivals_days <= 0.0 || (age as f64) <= window;
            (product.in_stock && fresh).then(|| Scored { item: p as u32, score: super::decay(age, cfg.new_arrivals_half_life_days) as f32 })
        })
        .collect();
    top_k(candidates, cfg.new_arrivals_size)
}

/// Popular among the customers of each segment (`customer_segment[c]`, names sorted in the
/// table); guests belong to no segment.
pub fn by_segment(a: &Aggregates, customer_segment: &[&str], cfg: &RecsConfig) -> Vec<Keyed> {
    let mut names: Vec<&str> = customer_segment.to_vec();
    names.sort_unstable();
    names.dedup();
    let segment_of: Vec<usize> = customer_segment.iter().map(|s| names.binary_search(s).expect("every name was collected")).collect();
    // Dense per segment (a dozen at most): customer_items is sorted by customer, not product.
    let n = a.items.len();
    let mut counts = vec![0u32; names.len() * n];
    for i in &a.customers.items {
        if let Some(&s) = segment_of.get(i.customer as usize).filter(|_| (i.product as usize) < n) {
            counts[s * n + i.product as usize] += 1;
        }
    }
    let lists = (0..names.len())
        .map(|s| counts[s * n..(s + 1) * n].iter().enumerate().filter(|(_, &c)| c > 0).map(|(p, &c)| Scored { item: p as u32, score: c as f32 }).collect())
        .collect();
    let names: Vec<String> = names.into_iter().map(String::from).collect();
    keyed(&names, lists, cfg)
}

/// The top `popular_size` of each key's list; keys without any purchase are left out.
fn keyed(keys: &[String], lists: Vec<Vec<Scored>>, cfg: &RecsConfig) -> Vec<Keyed> {
    keys.iter().zip(lists).map(|(key, list)| Keyed { key: key.clone(), items: top_k(list, cfg.popular_size) }).filter(|keyed| !keyed.items.is_empty()).collect()
}
