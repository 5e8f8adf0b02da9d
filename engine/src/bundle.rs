//! Bundle format v4: the compiled, public model that edge and browser load. (v2: placements
//! gained `exclude_owned`; v3: the body's layout is our own, `wire.rs`, instead of bincode;
//! v4: the catalog carries its categories' URL slugs.
//! The body is positional, so other versions are refused, not guessed.)
//!
//! ```text
//! offset size field
//!      0    8 magic "VITRINE\x01"
//!      8    2 format version (u16 LE)
//!     10    2 reserved, zero
//!     12   16 build id (random bytes chosen by the builder)
//!     28    8 created at (i64 LE, unix seconds)
//!     36    8 body length (u64 LE)
//!     44    8 body checksum (FNV-1a 64 of the body, LE): detects corruption, not tampering
//!     52    … body: `BundleBody` in the layout of `wire.rs`
//! ```
//!
//! Invariant: [`decode`] never panics, whatever the bytes; every refusal is a [`BundleError`].
//! Invariant: the body holds no customer identity or personal data (see `Stats`: counts only).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::wire;

use crate::render::{int_text, push_hex};
use crate::rules::Rules;

pub const MAGIC: [u8; 8] = *b"VITRINE\x01";
pub const FORMAT_VERSION: u16 = 4;
pub const HEADER_LEN: usize = 52;

/// Index of a product in `Catalog::products`. Tables store these, never SKUs.
pub type ProductIdx = u32;
/// Index of a category in `Catalog::categories`.
pub type CategoryIdx = u16;

#[derive(Clone, Debug, PartialEq)]
pub struct Bundle {
    pub header: Header,
    pub body: BundleBody,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub format_version: u16,
    pub build_id: [u8; 16],
    pub created_at: i64,
}

impl Header {
    pub fn build_id_hex(&self) -> String {
        self.build_id.iter().map(|b| alloc::format!("{b:02x}")).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleBody {
    pub store: crate::rules::Store,
    pub catalog: Catalog,
    pub stats: Stats,
    pub recs: RecTables,
    pub rules: Rules,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub products: Vec<Product>,
    pub categories: Vec<String>,
    /// Each category's URL word (`engine::slug`), computed by the builder: the browser would
    /// otherwise carry Unicode tables just to lower-case names at load.
    pub category_slugs: Vec<String>,
}

impl Catalog {
    pub fn new(products: Vec<Product>, categories: Vec<String>) -> Catalog {
        let category_slugs = categories.iter().map(|c| crate::engine::slug(c)).collect();
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleError {
    /// Fewer bytes than a header.
    TooShort { len: usize },
    BadMagic,
    /// Written by a newer builder than this engine understands.
    NewerFormat { found: u16, supported: u16 },
    /// Written by an older builder: the body layout differs, so it must be rebuilt.
    OlderFormat { found: u16, supported: u16 },
    /// The header promises more (or fewer) body bytes than there are.
    Truncated { expected: u64, actual: u64 },
    ChecksumMismatch { expected: u64, actual: u64 },
    /// The body does not decode as a `BundleBody`.
    Body(wire::WireError),
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            BundleError::TooShort { len } => f.write_str(
                &["not a Vitrine bundle: ", &int_text(*len as i64), " bytes is shorter than the ", &int_text(HEADER_LEN as i64), "-byte header"].concat(),
            ),
            BundleError::BadMagic => f.write_str("not a Vitrine bundle: wrong magic bytes"),
            BundleError::NewerFormat { found, supported } => f.write_str(
                &["bundle format v", &int_text(i64::from(*found)), " is newer than this engine supports (v", &int_text(i64::from(*supported)), "): upgrade the worker/SDK"]
                    .concat(),
            ),
            BundleError::OlderFormat { found, supported } => f.write_str(
                &["bundle format v", &int_text(i64::from(*found)), " is older than this engine reads (v", &int_text(i64::from(*supported)), "): rebuild it with model-builder"]
                    .concat(),
            ),
            BundleError::Truncated { expected, actual } => f.write_str(
                &["bundle truncated: header says ", &int_text(*expected as i64), " body bytes, found ", &int_text(*actual as i64)].concat(),
            ),
            BundleError::ChecksumMismatch { expected, actual } => {
                let mut text = String::from("bundle corrupt: body checksum ");
                push_hex(&mut text, *actual, 16);
                text.push_str(" does not match header ");
                push_hex(&mut text, *expected, 16);
                f.write_str(&text)
            }
            BundleError::Body(e) => {
                f.write_str("bundle body does not decode: ")?;
                e.fmt(f)
            }
        }
    }
}

impl core::error::Error for BundleError {}

/// FNV-1a, 64 bit: the body checksum.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub fn encode(header: &Header, body: &BundleBody) -> Vec<u8> {
    let body_bytes = wire::to_vec(body);
    let mut out = Vec::with_capacity(HEADER_LEN + body_bytes.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&header.format_version.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&header.build_id);
    out.extend_from_slice(&header.created_at.to_le_bytes());
    out.extend_from_slice(&(body_bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(&checksum(&body_bytes).to_le_bytes());
    out.extend_from_slice(&body_bytes);
    out
}

/// Reads only the header (cheap: for `inspect`, ETags and version checks).
pub fn decode_header(bytes: &[u8]) -> Result<Header, BundleError> {
    if bytes.len() < HEADER_LEN {
        return Err(if bytes.len() >= 8 && bytes[..8] != MAGIC { BundleError::BadMagic } else { BundleError::TooShort { len: bytes.len() } });
    }
    if bytes[..8] != MAGIC {
        return Err(BundleError::BadMagic);
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let format_version = u16_at(8);
    if format_version > FORMAT_VERSION {
        return Err(BundleError::NewerFormat { found: format_version, supported: FORMAT_VERSION });
    }
    if format_version < FORMAT_VERSION {
        return Err(BundleError::OlderFormat { found: format_version, supported: FORMAT_VERSION });
    }
    let mut build_id = [0u8; 16];
    build_id.copy_from_slice(&bytes[12..28]);
    let created_at = i64::from_le_bytes(bytes[28..36].try_into().expect("8 bytes"));
    Ok(Header { format_version, build_id, created_at })
}

pub fn decode(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let header = decode_header(bytes)?;
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let expected_len = u64_at(36);
    let expected_sum = u64_at(44);
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != expected_len {
        return Err(BundleError::Truncated { expected: expected_len, actual: body.len() as u64 });
    }
    let actual_sum = checksum(body);
    if actual_sum != expected_sum {
        return Err(BundleError::ChecksumMismatch { expected: expected_sum, actual: actual_sum });
    }
    let body = wire::from_slice::<BundleBody>(body).map_err(BundleError::Body)?;
    Ok(Bundle { header, body })
}
