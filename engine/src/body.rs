//! What a bundle holds: the catalog, aggregate stats, the recommendation tables and the rules
//! (`BundleBody`). The bytes around it (header, checksum) are `bundle.rs`; its layout is
//! `wire.rs`.
//!
//! Invariant: the body holds no customer identity or personal data (see `Stats`: counts only).
//! Invariant: `Catalog::products` is sorted by SKU; tables store `ProductIdx` positions into it.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::rules::{Rules, Store};
use crate::text::slug;

/// Index of a product in `Catalog::products`. Tables store these, never SKUs.
pub type ProductIdx = u32;
/// Index of a category in `Catalog::categories`.
pub type CategoryIdx = u16;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleBody {
    pub store: Store,
    pub catalog: Catalog,
    pub stats: Stats,
    pub recs: RecTables,
    pub rules: Rules,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub products: Vec<Product>,
    pub categories: Vec<String>,
    /// Each category's URL word (`slug`), computed by the builder: the browser would
    /// otherwise carry Unicode tables just to lower-case names at load.
    pub category_slugs: Vec<String>,
}

impl Catalog {
    pub fn new(products: Vec<Product>, categories: Vec<String>) -> Catalog {
        let category_slugs = categories.iter().map(|c| slug(c)).collect();
        Catalog { products, categories, category_slugs }
    }
    pub fn index_of(&self, sku: &str) -> Option<ProductIdx> {
        // Products are stored sorted by SKU (builder invariant), so this is a binary search.
        self.products.binary_search_by(|p| p.sku.as_str().cmp(sku)).ok().map(|i| i as ProductIdx)
    }
    pub fn get(&self, idx: ProductIdx) -> Option<&Product> {
        self.products.get(idx as usize)
    }
    pub fn category_index(&self, name: &str) -> Option<CategoryIdx> {
        self.categories.iter().position(|c| c.eq_ignore_ascii_case(name)).map(|i| i as CategoryIdx)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub title: String,
    pub url: String,
    pub image: String,
    /// Price in the store's currency, major units (pounds).
    pub price: f32,
    pub category: Option<CategoryIdx>,
    pub brand: String,
    pub tags: Vec<String>,
    pub in_stock: bool,
}

/// Aggregate facts about the data the bundle was built from. Counts only: no identities.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub orders: u64,
    pub order_lines: u64,
    pub customers: u64,
    pub countries: u32,
    /// First and last order time in the data (unix seconds).
    pub data_start: i64,
    pub data_end: i64,
    pub segments: Vec<SegmentSize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSize {
    pub name: String,
    pub customers: u64,
}

/// A scored item in a ranked list.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub item: ProductIdx,
    pub score: f32,
}

/// Top-K neighbours per product, stored as one flat list (CSR): the neighbours of product `p`
/// are `items[offsets[p]..offsets[p+1]]`, best first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Neighbors {
    pub offsets: Vec<u32>,
    pub items: Vec<Scored>,
}

impl Neighbors {
    /// Builds the table from per-product lists (index = product).
    pub fn from_lists(lists: Vec<Vec<Scored>>) -> Self {
        let mut offsets = Vec::with_capacity(lists.len() + 1);
        let mut items = Vec::new();
        offsets.push(0);
        for list in lists {
            items.extend(list);
            offsets.push(items.len() as u32);
        }
        Neighbors { offsets, items }
    }

    /// Neighbours of `p`, best first; empty for unknown products or a malformed table.
    pub fn of(&self, p: ProductIdx) -> &[Scored] {
        let p = p as usize;
        match (self.offsets.get(p), self.offsets.get(p + 1)) {
            (Some(&a), Some(&b)) if a <= b => self.items.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A ranked list under a key (a country, a category name, a segment name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keyed {
    pub key: String,
    pub items: Vec<Scored>,
}

/// Every precomputed recommendation table. Requests only look these up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecTables {
    /// Bought together (co-purchase, discounted for bestsellers).
    pub bought_together: Neighbors,
    /// Content similarity (titles, categories, tags).
    pub similar: Neighbors,
    /// Trending as of the data's last day (time-decayed sales).
    pub trending: Vec<Scored>,
    /// Popular overall (distinct buyers).
    pub popular: Vec<Scored>,
    pub popular_by_country: Vec<Keyed>,
    pub popular_by_category: Vec<Keyed>,
    /// Popular among customers of each RFM segment (aggregate, no identities).
    pub popular_by_segment: Vec<Keyed>,
    /// Items customers re-order, with the median days between re-orders ("buy it again").
    pub reorder_days: Vec<(ProductIdx, f32)>,
}

impl RecTables {
    pub fn keyed<'a>(list: &'a [Keyed], key: &str) -> &'a [Scored] {
        list.iter().find(|k| k.key.eq_ignore_ascii_case(key)).map_or(&[], |k| &k.items)
    }
}
