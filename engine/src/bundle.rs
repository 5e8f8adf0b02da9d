//! Bundle format v7: the compiled, public model that edge and browser load. (v2: placements
//! gained `exclude_owned`; v3: the body's layout is our own, `wire.rs`, instead of bincode;
//! v4: the catalog carries its categories' URL slugs; v5: experiments on offers and journeys,
//! arms choosing a variant, an offer or sending nothing, and `[measurement]`'s holdout; v6: the
//! catalog and the neighbour tables are read in place, fixed-width rows and a string heap, so
//! opening a 100k-product bundle decodes none of its products; v7: `[[unique_codes]]`, offers
//! whose code the edge issues per visitor.
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
//!     44    8 body checksum (LE, `checksum`): detects corruption, not tampering
//!     52    … body: `BundleBody` in the layout of `wire.rs`
//! ```
//!
//! Invariant: [`decode`] never panics, whatever the bytes; every refusal is a [`BundleError`].
//! [`decode_shared`] (the edge) is the same without copying the body: the catalog and tables
//! are read where they lie. Both verify the checksum (not in the browser SDK, feature
//! `compact`: the edge served it); v6's hashes 8 bytes a step in four lanes, so a cold start
//! pays a few ms for 38 MB where v5's byte-wise hash cost ~40.
//! What the body holds is in `body.rs`; its layout, field by field, in `wire.rs`.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::text::{int_text, push_hex};
use crate::wire;

// What the body holds, named here too: the bundle is one namespace for its hosts.
pub use crate::body::{Blob, BundleBody, Catalog, CategoryIdx, Keyed, Neighbors, Product, ProductIdx, ProductRef, RecTables, Scored, SegmentSize, Stats};
pub use crate::wire::WireError;

pub const MAGIC: [u8; 8] = *b"VITRINE\x01";
pub const FORMAT_VERSION: u16 = 10;
/// Also read (feature `previous-format`: the edge, the builder; not the browser SDK), so a
/// worker upgraded before the bundle is republished keeps personalizing. When the format
/// changes, the previous layout moves to `wire.rs` (`v9` today) and this follows.
pub const PREVIOUS_FORMAT_VERSION: u16 = 9;
pub const HEADER_LEN: usize = 52;

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleError {
    /// Fewer bytes than a header.
    TooShort {
        len: usize,
    },
    BadMagic,
    /// Written by a newer builder than this engine understands.
    NewerFormat {
        found: u16,
        supported: u16,
    },
    /// Written by an older builder: the body layout differs, so it must be rebuilt.
    OlderFormat {
        found: u16,
        supported: u16,
    },
    /// The header promises more (or fewer) body bytes than there are.
    Truncated {
        expected: u64,
        actual: u64,
    },
    ChecksumMismatch {
        expected: u64,
        actual: u64,
    },
    /// The body does not decode as a `BundleBody`.
    Body(wire::WireError),
}

impl BundleError {
    /// What `Display` writes, without `core::fmt` (the browser SDK's download: BENCHMARKS.md).
    pub fn text(&self) -> String {
        match self {
            BundleError::TooShort { len } => {
                ["not a Vitrine bundle: ", &int_text(*len as i64), " bytes is shorter than the ", &int_text(HEADER_LEN as i64), "-byte header"].concat()
            }
            BundleError::BadMagic => "not a Vitrine bundle: wrong magic bytes".into(),
            BundleError::NewerFormat { found, supported } => [
                "bundle format v",
                &int_text(i64::from(*found)),
                " is newer than this engine supports (v",
                &int_text(i64::from(*supported)),
                "): upgrade the worker/SDK",
            ]
            .concat(),
            BundleError::OlderFormat { found, supported } => [
                "bundle format v",
                &int_text(i64::from(*found)),
                " is older than this engine reads (v",
                &int_text(i64::from(*supported)),
                "): rebuild it with model-builder",
            ]
            .concat(),
            BundleError::Truncated { expected, actual } => {
                ["bundle truncated: header says ", &int_text(*expected as i64), " body bytes, found ", &int_text(*actual as i64)].concat()
            }
            BundleError::ChecksumMismatch { expected, actual } => {
                let mut text = String::from("bundle corrupt: body checksum ");
                push_hex(&mut text, *actual, 16);
                text.push_str(" does not match header ");
                push_hex(&mut text, *expected, 16);
                text
            }
            BundleError::Body(e) => ["bundle body does not decode: ", &e.text()].concat(),
        }
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl core::error::Error for BundleError {}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// The body checksum (v6): FNV-1a's step over 64-bit little-endian words in four interleaved
/// lanes (word i to lane i % 4: the lanes' multiplications overlap in the CPU), the lanes then
/// folded in order, then the last (< 32) bytes. Each step is a bijection of its state, so any
/// one changed word changes the sum; about 20 times faster than v5's byte-wise FNV-1a
/// which cost a cold start ~40 ms for 38 MB.
pub fn checksum(bytes: &[u8]) -> u64 {
    let step = |h: u64, w: u64| (h ^ w).wrapping_mul(FNV_PRIME);
    let (blocks, rest) = bytes.as_chunks::<32>();
    let (mut a, mut b, mut c, mut d) = (FNV_OFFSET, FNV_OFFSET, FNV_OFFSET, FNV_OFFSET);
    for block in blocks {
        let word = |i: usize| u64::from_le_bytes(core::array::from_fn(|j| block[8 * i + j]));
        a = step(a, word(0));
        b = step(b, word(1));
        c = step(c, word(2));
        d = step(d, word(3));
    }
    let h = [a, b, c, d].into_iter().fold(FNV_OFFSET, step);
    // What is left (< 32 bytes): words, then bytes, one lane.
    let (words, tail) = rest.as_chunks::<8>();
    let h = words.iter().fold(h, |h, w| step(h, u64::from_le_bytes(*w)));
    tail.iter().fold(h, |h, &b| step(h, u64::from(b)))
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
    if format_version < FORMAT_VERSION && !(cfg!(feature = "previous-format") && format_version == PREVIOUS_FORMAT_VERSION) {
        return Err(BundleError::OlderFormat { found: format_version, supported: FORMAT_VERSION });
    }
    let mut build_id = [0u8; 16];
    build_id.copy_from_slice(&bytes[12..28]);
    let created_at = i64::from_le_bytes(bytes[28..36].try_into().expect("8 bytes"));
    Ok(Header { format_version, build_id, created_at })
}

/// Decodes a bundle. The in-place parts copy their bytes (one copy of the body).
pub fn decode(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let header = check(bytes)?;
    decode_body(header, Arc::new(bytes[HEADER_LEN..].to_vec()), 0)
}

/// Decodes a bundle keeping `bytes` (shared with the host, which may serve them too): the
/// catalog and tables are read where they lie, nothing is copied.
pub fn decode_shared(bytes: impl Into<Arc<Vec<u8>>>) -> Result<Bundle, BundleError> {
    let bytes = bytes.into();
    let header = check(&bytes)?;
    decode_body(header, bytes, HEADER_LEN)
}

fn u64_at(bytes: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&bytes[i..i + 8]);
    u64::from_le_bytes(a)
}

/// The header, the body's length and checksum checked.
fn check(bytes: &[u8]) -> Result<Header, BundleError> {
    let header = decode_header(bytes)?;
    let expected_len = u64_at(bytes, 36);
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != expected_len {
        return Err(BundleError::Truncated { expected: expected_len, actual: body.len() as u64 });
    }
    // Not in the browser (feature `compact`), as `Rules::check`: it loads the slice the edge
    // cut and encoded for this request, and the hash's code would cost its download budget.
    #[cfg(not(feature = "compact"))]
    {
        let actual_sum = checksum(body);
        let expected_sum = u64_at(bytes, 44);
        if actual_sum != expected_sum {
            return Err(BundleError::ChecksumMismatch { expected: expected_sum, actual: actual_sum });
        }
    }
    Ok(header)
}

fn decode_body(header: Header, bytes: Arc<Vec<u8>>, start: usize) -> Result<Bundle, BundleError> {
    #[cfg(feature = "previous-format")]
    if header.format_version == PREVIOUS_FORMAT_VERSION {
        let body = wire::from_shared::<wire::v9::BundleBody>(&bytes, start).map_err(BundleError::Body)?;
        return Ok(Bundle { header, body: body.into() });
    }
    let body = wire::from_shared::<BundleBody>(&bytes, start).map_err(BundleError::Body)?;
    Ok(Bundle { header, body })
}
