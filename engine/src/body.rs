//! What a bundle holds: the catalog, aggregate stats, the recommendation tables and the rules
//! (`BundleBody`). The bytes around it (header, checksum) are `bundle.rs`; its layout is
//! `wire.rs`.
//!
//! Invariant: the body holds no customer identity or personal data (see `Stats`: counts only).
//! Invariant: the catalog's products are sorted by SKU; tables store `ProductIdx` positions into it.
//! The catalog and the neighbour tables are read in place (format v6, see `Catalog`,
//! `Neighbors`): opening a bundle decodes the rules, stats and small lists only.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::rfm::CustomerModel;
use crate::rules::{Rules, Store};
use crate::text::{int_text, slug};
use crate::wire::{put_varint, Reader};

/// Index of a product in the catalog (`Catalog::get`). Tables store these, never SKUs.
pub type ProductIdx = u32;
/// Index of a category in `Catalog::categories`.
pub type CategoryIdx = u16;

#[derive(Clone, Debug, PartialEq)]
pub struct BundleBody {
    pub store: Store,
    pub catalog: Catalog,
    pub stats: Stats,
    pub recs: RecTables,
    pub rules: Rules,
}

/// Bytes read where they lie: a range of the bundle the host handed over (shared, not copied),
/// or bytes of their own (a bundle being built, a slice).
#[derive(Clone, Default)]
pub struct Blob {
    bytes: Arc<Vec<u8>>,
    start: usize,
    end: usize,
}

impl Blob {
    pub(crate) fn shared(bytes: &Arc<Vec<u8>>, start: usize, end: usize) -> Blob {
        Blob { bytes: Arc::clone(bytes), start, end }
    }
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(self.start..self.end).unwrap_or(&[])
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Blob {
        let end = bytes.len();
        Blob { bytes: Arc::new(bytes), start: 0, end }
    }
}

impl PartialEq for Blob {
    fn eq(&self, other: &Blob) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&[&int_text(self.as_slice().len() as i64), " bytes"].concat())
    }
}

/// The products, read in place (format v6): opening a bundle of 100k products decodes none of
/// them; a request decodes the rows it looks at.
///
/// `rows`: one fixed-width row of [`ROW_LEN`] bytes per product, in SKU order: the offset of its
/// record in `heap` (u32 LE), price (f32 LE), category (u16 LE), flags (bit 0 in stock, bit 1 has
/// a category, bit 2 ranks only: no title), one zero byte. `heap`: each product's record, its
/// strings as a varint byte length then UTF-8 (sku, title, url, image, brand), then a varint
/// count of tags and each tag the same way. Offsets and lengths are checked where they are read:
/// a row that does not read is an absent product, a string that is not UTF-8 is empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub(crate) rows: Blob,
    pub(crate) heap: Blob,
    pub categories: Vec<String>,
    /// Each category's URL word (`slug`), computed by the builder: the browser would
    /// otherwise carry Unicode tables just to lower-case names at load.
    pub category_slugs: Vec<String>,
}

/// Bytes per catalog row (see [`Catalog`]).
pub const ROW_LEN: usize = 12;
const IN_STOCK: u8 = 1;
const HAS_CATEGORY: u8 = 2;
const RANKS_ONLY: u8 = 4;

impl Catalog {
    /// `products` sorted by SKU (the builder's invariant).
    pub fn new(products: Vec<Product>, categories: Vec<String>) -> Catalog {
        let category_slugs = categories.iter().map(|c| slug(c)).collect();
        Catalog::with_slugs(&products, categories, category_slugs)
    }

    /// As [`Catalog::new`], with the categories' slugs already made.
    pub fn with_slugs(products: &[Product], categories: Vec<String>, category_slugs: Vec<String>) -> Catalog {
        let mut rows = Vec::with_capacity(products.len() * ROW_LEN);
        let mut heap = Vec::new();
        for p in products {
            rows.extend_from_slice(&(heap.len() as u32).to_le_bytes());
            rows.extend_from_slice(&p.price.to_le_bytes());
            rows.extend_from_slice(&p.category.unwrap_or(0).to_le_bytes());
            let flags =
                if p.in_stock { IN_STOCK } else { 0 } | if p.category.is_some() { HAS_CATEGORY } else { 0 } | if p.title.is_empty() { RANKS_ONLY } else { 0 };
            rows.extend_from_slice(&[flags, 0]);
            for s in [&p.sku, &p.title, &p.url, &p.image, &p.brand] {
                put_str(&mut heap, s);
            }
            put_varint(&mut heap, p.tags.len() as u64);
            p.tags.iter().for_each(|t| put_str(&mut heap, t));
        }
        Catalog { rows: rows.into(), heap: heap.into(), categories, category_slugs }
    }

    /// The rows, whole (a trailing partial row is none: the decoder refuses one anyway).
    fn rows(&self) -> &[[u8; ROW_LEN]] {
        self.rows.as_slice().as_chunks().0
    }

    /// How many products.
    pub fn len(&self) -> usize {
        self.rows().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, idx: ProductIdx) -> Option<ProductRef<'_>> {
        self.row(self.rows().get(idx as usize)?)
    }

    fn row<'a>(&'a self, row: &[u8; ROW_LEN]) -> Option<ProductRef<'a>> {
        let [o0, o1, o2, o3, p0, p1, p2, p3, c0, c1, flags, _] = *row;
        Some(ProductRef {
            price: f32::from_le_bytes([p0, p1, p2, p3]),
            category: (flags & HAS_CATEGORY != 0).then_some(u16::from_le_bytes([c0, c1])),
            in_stock: flags & IN_STOCK != 0,
            ranks_only: flags & RANKS_ONLY != 0,
            record: self.heap.as_slice().get(u32::from_le_bytes([o0, o1, o2, o3]) as usize..)?,
        })
    }

    /// Every product, in SKU order.
    pub fn iter(&self) -> impl Iterator<Item = ProductRef<'_>> {
        self.rows().iter().filter_map(|r| self.row(r))
    }

    pub fn index_of(&self, sku: &str) -> Option<ProductIdx> {
        // Products are stored sorted by SKU (builder invariant), so this is a binary search
        // (by hand: `binary_search_by` and its closure cost the browser's download ~100 B more).
        let (mut lo, mut hi) = (0, self.len() as ProductIdx);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            // Bytes compare as their text does; a SKU that is not UTF-8 (a damaged bundle) never equals one.
            match self.get(mid).map_or(&[][..], |p| Reader::over(p.record).str_bytes()).cmp(sku.as_bytes()) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
    pub fn category_index(&self, name: &str) -> Option<CategoryIdx> {
        self.categories.iter().position(|c| c.eq_ignore_ascii_case(name)).map(|i| i as CategoryIdx)
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// One product as it lies in the catalog: the row's numbers, and its strings read on demand.
#[derive(Clone, Copy)]
pub struct ProductRef<'a> {
    /// Price in the store's currency, major units (pounds).
    pub price: f32,
    pub category: Option<CategoryIdx>,
    pub in_stock: bool,
    ranks_only: bool,
    record: &'a [u8],
}

/// The product's fields (its record runs on into the rest of the heap: not that).
impl fmt::Debug for ProductRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_product().fmt(f)
    }
}

impl<'a> ProductRef<'a> {
    /// The `n`th string of the record (0 sku, 1 title, 2 url, 3 image, 4 brand).
    fn string(&self, n: usize) -> &'a str {
        let mut r = Reader::over(self.record);
        for _ in 0..n {
            r.str();
        }
        r.str()
    }
    #[inline(always)]
    pub fn sku(&self) -> &'a str {
        self.string(0)
    }
    #[inline(always)]
    pub fn title(&self) -> &'a str {
        self.string(1)
    }
    #[inline(always)]
    pub fn url(&self) -> &'a str {
        self.string(2)
    }
    #[inline(always)]
    pub fn image(&self) -> &'a str {
        self.string(3)
    }
    #[inline(always)]
    pub fn brand(&self) -> &'a str {
        self.string(4)
    }
    pub fn tags(&self) -> impl Iterator<Item = &'a str> {
        let mut r = Reader::over(self.record);
        for _ in 0..5 {
            r.str();
        }
        // A count no larger than the bytes left, so a bad one ends in empty strings, soon.
        let count = r.len("a tag count");
        (0..count).map(move |_| r.str())
    }
    /// A slice's stub: ranked like any product, never shown (a product in a bundle always has a
    /// title: the builder falls back to its SKU).
    pub fn ranks_only(&self) -> bool {
        self.ranks_only
    }
    /// The row as an owned [`Product`].
    pub fn to_product(&self) -> Product {
        Product {
            sku: self.sku().into(),
            title: self.title().into(),
            url: self.url().into(),
            image: self.image().into(),
            price: self.price,
            category: self.category,
            brand: self.brand().into(),
            tags: self.tags().map(String::from).collect(),
            in_stock: self.in_stock,
        }
    }
}

/// A product as the builder makes it (and a slice cuts it); the catalog stores it as a row.
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
    /// The quintile edges and fitted models the build scored customers with, for the edge to
    /// score a customer again when their order comes (server-only; never a customer's figure).
    /// None in a bundle of format v9, and in the browser (its build steps over it). Boxed: the
    /// model can grow without moving the browser's code (its download is a budget).
    #[serde(skip)]
    pub customer_model: Option<Box<CustomerModel>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSize {
    pub name: String,
    pub customers: u64,
}

/// A scored item in a ranked list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub item: ProductIdx,
    pub score: f32,
}

/// Top-K neighbours per product, read in place (format v6). `offsets`: one u32 LE per product
/// and one more; `items`: [`Scored`] rows of 8 bytes (item u32 LE, score f32 LE). The neighbours
/// of product `p` are items `offsets[p]..offsets[p+1]`, best first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Neighbors {
    pub(crate) offsets: Blob,
    pub(crate) items: Blob,
}

impl Neighbors {
    /// Builds the table from per-product lists (index = product).
    pub fn from_lists(lists: Vec<Vec<Scored>>) -> Self {
        let mut offsets = Vec::with_capacity(4 * (lists.len() + 1));
        let mut items = Vec::new();
        offsets.extend_from_slice(&0u32.to_le_bytes());
        for list in lists {
            for s in list {
                items.extend_from_slice(&s.item.to_le_bytes());
                items.extend_from_slice(&s.score.to_le_bytes());
            }
            offsets.extend_from_slice(&((items.len() / 8) as u32).to_le_bytes());
        }
        Neighbors { offsets: offsets.into(), items: items.into() }
    }

    /// Neighbours of `p`, best first; none for unknown products or a malformed table.
    pub fn of(&self, p: ProductIdx) -> impl ExactSizeIterator<Item = Scored> + Clone + '_ {
        let offsets: &[[u8; 4]] = self.offsets.as_slice().as_chunks().0;
        let items: &[[u8; 8]] = self.items.as_slice().as_chunks().0;
        let at = |i: usize| offsets.get(i).map(|&o| u32::from_le_bytes(o) as usize);
        let list = match (at(p as usize), at(p as usize + 1)) {
            (Some(a), Some(b)) => items.get(a..b).unwrap_or(&[]),
            _ => &[],
        };
        list.iter().map(|&[i0, i1, i2, i3, s0, s1, s2, s3]| Scored { item: u32::from_le_bytes([i0, i1, i2, i3]), score: f32::from_le_bytes([s0, s1, s2, s3]) })
    }

    /// The neighbours of `p` as a list (for tools and tests; requests iterate [`Neighbors::of`]).
    pub fn list(&self, p: ProductIdx) -> Vec<Scored> {
        self.of(p).collect()
    }

    /// How many products the table has a list for (empty ones included).
    pub fn products(&self) -> usize {
        (self.offsets.as_slice().len() / 4).saturating_sub(1)
    }

    /// How many neighbours in all.
    pub fn len(&self) -> usize {
        self.items.as_slice().len() / 8
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A ranked list under a key (a country, a category name, a segment name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keyed {
    pub key: String,
    pub items: Vec<Scored>,
}

/// Every precomputed recommendation table. Requests only look these up.
#[derive(Clone, Debug, Default, PartialEq)]
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
    /// What the edge decided for the placements only it decides (`Rules::needs_server`), per
    /// placement id, best first: a slice carries them, so the browser shows the edge's decision
    /// (recommender `decided`). Empty in a built bundle.
    pub decided: Vec<Keyed>,
    /// Item-to-item weights learned from purchase histories (recommender `learned`).
    pub learned: Neighbors,
    /// Products viewed in the same sessions (from the event files; `viewed_together`).
    pub viewed_together: Neighbors,
    /// For a viewed product, what the sessions that viewed it bought (`bought_after_viewing`).
    pub bought_after_viewing: Neighbors,
    /// Popular per brand (key: the catalog's brand; `brand_affinity`).
    pub popular_by_brand: Vec<Keyed>,
    /// The newest products, best first (catalog `created_at`; `new_arrivals`).
    pub new_arrivals: Vec<Scored>,
}

impl RecTables {
    pub fn keyed<'a>(list: &'a [Keyed], key: &str) -> &'a [Scored] {
        list.iter().find(|k| k.key.eq_ignore_ascii_case(key)).map_or(&[], |k| &k.items)
    }
}
