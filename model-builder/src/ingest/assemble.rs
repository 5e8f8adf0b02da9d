//! Turns what the pass kept into the `Dataset` invariants: products sorted by SKU, orders
//! sorted by time with their lines contiguous, dense customer and country indices.

use rustc_hash::{FxHashMap, FxHashSet};

use super::catalog::{fill_template, CatalogRow, CategoryRules};
use super::orders::{RawOrders, NONE};
use crate::config::Config;
use crate::data::{Dataset, Line, Order, Product};

/// Builds the dataset; returns it with the number of sales undone by cancellations.
pub fn assemble(raw: RawOrders, catalog: Option<Vec<CatalogRow>>, config: &Config) -> (Dataset, u64) {
    let removed = if config.cleaning.reverse_cancellations { reverse_cancellations(&raw) } else { vec![false; raw.lines.len()] };
    let reversed = removed.iter().filter(|&&r| r).count() as u64;
    let alive = |i: usize| !removed[i];

    // Orders that still have a line, by time (file order on a tie).
    let mut order_lines = vec![0u32; raw.orders.len()];
    for (i, l) in raw.lines.iter().enumerate() {
        if alive(i) {
            order_lines[l.order as usize] += 1;
        }
    }
    let mut order_ids: Vec<u32> = (0..raw.orders.len() as u32).filter(|&o| order_lines[o as usize] > 0).collect();
    order_ids.sort_by_key(|&o| raw.orders[o as usize].time);
    let mut order_rank = vec![NONE; raw.orders.len()];
    for (rank, &o) in order_ids.iter().enumerate() {
        order_rank[o as usize] = rank as u32;
    }

    // Products: the catalog's, or every product with a kept line; sorted by SKU.
    let mut product_has_line = vec![catalog.is_some(); raw.products.len()];
    for (i, l) in raw.lines.iter().enumerate() {
        if alive(i) {
            product_has_line[l.product as usize] = true;
        }
    }
    let mut product_ids: Vec<u32> = (0..raw.products.len() as u32).filter(|&p| product_has_line[p as usize]).collect();
    product_ids.sort_by(|&a, &b| raw.products.name(a).cmp(raw.products.name(b)));
    let mut product_rank = vec![NONE; raw.products.len()];
    for (rank, &p) in product_ids.iter().enumerate() {
        product_rank[p as usize] = rank as u32;
    }

    // Customers in order of their first order; countries by name.
    let mut customer_rank = vec![NONE; raw.customers.len()];
    let mut customers = Vec::new();
    let mut country_used = vec![false; raw.countries.len()];
    for &o in &order_ids {
        let order = &raw.orders[o as usize];
        if order.customer != NONE && customer_rank[order.customer as usize] == NONE {
            customer_rank[order.customer as usize] = customers.len() as u32;
            customers.push(raw.customers.name(order.customer).to_string());
        }
        if order.country != NONE {
            country_used[order.country as usize] = true;
        }
    }
    let mut country_ids: Vec<u32> = (0..raw.countries.len() as u32).filter(|&c| country_used[c as usize]).collect();
    country_ids.sort_by(|&a, &b| raw.countries.name(a).cmp(raw.countries.name(b)));
    let mut countries: Vec<String> = country_ids.iter().map(|&c| raw.countries.name(c).to_string()).collect();
    let mut country_rank = vec![NONE; raw.countries.len()];
    for (rank, &c) in country_ids.iter().enumerate() {
        country_rank[c as usize] = rank as u32;
    }
    // Orders without a country column still need one.
    let unknown_country = if order_ids.iter().any(|&o| raw.orders[o as usize].country == NONE) {
        countries.push("Unknown".into());
        Some((countries.len() - 1) as u16)
    } else {
        None
    };

    // Lines grouped by order (a counting sort), orders pointing at their range.
    let mut starts = vec![0u32; order_ids.len() + 1];
    for &o in &order_ids {
        starts[order_rank[o as usize] as usize + 1] = order_lines[o as usize];
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let orders: Vec<Order> = order_ids
        .iter()
        .enumerate()
        .map(|(rank, &o)| {
            let t = &raw.orders[o as usize];
            Order {
                invoice: raw.invoices.name(t.invoice).to_string(),
                customer: (t.customer != NONE).then(|| customer_rank[t.customer as usize]),
                country: if t.country == NONE { unknown_country.unwrap_or(0) } else { country_rank[t.country as usize] as u16 },
                time: t.time,
                lines: starts[rank]..starts[rank + 1],
            }
        })
        .collect();
    let mut fill = starts.clone();
    let mut lines = vec![Line { product: 0, quantity: 0, unit_price: 0.0 }; *starts.last().unwrap_or(&0) as usize];
    for (i, l) in raw.lines.iter().enumerate() {
        if alive(i) {
            let slot = &mut fill[order_rank[l.order as usize] as usize];
            lines[*slot as usize] = Line { product: product_rank[l.product as usize], quantity: l.quantity, unit_price: l.unit_price };
            *slot += 1;
        }
    }

    let (products, categories, created_at) = products(&raw, catalog, &product_ids, config);
    let ds = Dataset { products, categories, countries, customers, orders, lines, created_at };
    (ds, reversed)
}

/// Product records, the category names they index, and when each was added (empty when the
/// catalog dates none).
fn products(raw: &RawOrders, catalog: Option<Vec<CatalogRow>>, product_ids: &[u32], config: &Config) -> (Vec<Product>, Vec<String>, Vec<Option<i64>>) {
    let cat = &config.catalog;
    let rules = CategoryRules::new(&cat.categories, &cat.default_category);
    let mut catalog = catalog.map(|rows| rows.into_iter().map(Some).collect::<Vec<_>>());

    let mut category_names: Vec<Option<String>> = Vec::with_capacity(product_ids.len());
    let mut products = Vec::with_capacity(product_ids.len());
    let mut created_at = Vec::with_capacity(product_ids.len());
    for &p in product_ids {
        // Catalog products were interned first, so their tmp id is their catalog row.
        let row = catalog.as_mut().and_then(|rows| rows.get_mut(p as usize)).and_then(Option::take).unwrap_or_default();
        let evidence = &raw.evidence[p as usize];
        let sku = raw.products.name(p).to_string();
        let title = if row.title.is_empty() { evidence.title().unwrap_or(&sku).to_string() } else { row.title };
        let price = row.price.unwrap_or_else(|| median(&evidence.prices));
        let category = if !row.category.is_empty() { Some(row.category) } else { rules.as_ref().map(|r| r.categorise(&title).to_string()) };
        category_names.push(category);
        created_at.push(row.created_at);
        products.push(Product {
            url: if row.url.is_empty() { fill_template(&cat.url_template, &sku, &title) } else { row.url },
            image: if row.image.is_empty() { fill_template(&cat.image_template, &sku, &title) } else { row.image },
            price,
            category: None,
            brand: row.brand,
            tags: row.tags,
            in_stock: catalog.is_none() || row.in_stock,
            sku,
            title,
        });
    }

    // Categories in rule order (the default last), then any others the catalog names, A-Z.
    let used: FxHashSet<&str> = category_names.iter().flatten().map(String::as_str).collect();
    let mut categories: Vec<String> = Vec::new();
    if let Some(r) = &rules {
        categories.extend(r.names().filter(|n| used.contains(n)).map(String::from));
    }
    let mut others: Vec<&str> = used.iter().copied().filter(|n| !categories.iter().any(|c| c == n)).collect();
    others.sort_unstable();
    categories.extend(others.into_iter().map(String::from));
    categories.truncate(u16::MAX as usize);
    let index: FxHashMap<&str, u16> = categories.iter().enumerate().map(|(i, c)| (c.as_str(), i as u16)).collect();
    for (product, name) in products.iter_mut().zip(&category_names) {
        product.category = name.as_deref().and_then(|n| index.get(n).copied());
    }
    if created_at.iter().all(Option::is_none) {
        created_at = Vec::new();
    }
    (products, categories, created_at)
}

/// Marks the sale each cancellation undoes: same customer, product and quantity, the latest
/// one at or before the cancellation. Partial cancellations are left alone (already dropped
/// as cancellation lines; the rest of the sale stands).
fn reverse_cancellations(raw: &RawOrders) -> Vec<bool> {
    let mut removed = vec![false; raw.lines.len()];
    if raw.cancellations.is_empty() {
        return removed;
    }
    type Key = (u32, u32, u32);
    let wanted: FxHashSet<Key> = raw.cancellations.iter().map(|c| (c.customer, c.product, c.quantity)).collect();
    let mut candidates: FxHashMap<Key, Vec<u32>> = FxHashMap::default();
    for (i, l) in raw.lines.iter().enumerate() {
        let customer = raw.orders[l.order as usize].customer;
        let key = (customer, l.product, l.quantity);
        if customer != NONE && wanted.contains(&key) {
            candidates.entry(key).or_default().push(i as u32);
        }
    }
    let mut cancellations = raw.cancellations.clone();
    cancellations.sort_by_key(|c| c.time);
    for c in &cancellations {
        let Some(lines) = candidates.get(&(c.customer, c.product, c.quantity)) else { continue };
        let time = |i: u32| raw.orders[raw.lines[i as usize].order as usize].time;
        let best = lines.iter().copied().filter(|&i| !removed[i as usize] && time(i) <= c.time).max_by_key(|&i| (time(i), i));
        if let Some(i) = best {
            removed[i as usize] = true;
        }
    }
    removed
}

fn median(values: &[f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_unstable_by(f32::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
