//! GrowthBook's hashing and bucketing, bit for bit as its JavaScript SDK does it, so that a
//! visitor lands in the same experiment arm here, in GrowthBook and on every host.

use alloc::vec::Vec;

/// FNV-1a, 32-bit, over the UTF-16 code units of the concatenated parts: JS hashes
/// `charCodeAt`, so non-ASCII text must be hashed as UTF-16, not UTF-8.
fn fnv1a32(parts: &[&str]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for part in parts {
        for unit in part.encode_utf16() {
            h ^= u32::from(unit);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// GrowthBook's version 1 hash (biased, kept for namespaces): `fnv(value + seed)` in thousandths.
fn hash_v1(parts: &[&str]) -> f64 {
    f64::from(fnv1a32(parts) % 1000) / 1000.0
}

/// GrowthBook's `hash`: a number in [0, 1) from a seed (experiment key) and a value (visitor
/// id). Version 2 hashes the decimal form of a first hash again, which removes v1's bias.
/// `None` for an unknown version.
pub fn hash(seed: &str, value: &str, version: u32) -> Option<f64> {
    match version {
        1 => Some(hash_v1(&[value, seed])),
        2 => {
            let mut buf = [0u8; 10];
            let first = decimal(fnv1a32(&[seed, value]), &mut buf);
            Some(f64::from(fnv1a32(&[first]) % 10_000) / 10_000.0)
        }
        _ => None,
    }
}

/// `n` in decimal, written into `buf` (a u32 has at most 10 digits).
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    core::str::from_utf8(&buf[i..]).unwrap_or_default()
}

/// `n` equal weights summing to 1 (none for 0 variations).
pub fn get_equal_weights(n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    alloc::vec![1.0 / n as f64; n]
}

/// GrowthBook's `getBucketRanges`: one `[start, end)` range of the hash space per variation.
/// Variation `i` owns a slice of width `weights[i]` and includes its first `coverage` share.
/// Coverage is clamped to [0, 1]; missing weights, weights of the wrong length or not summing
/// to 1 (±0.01) fall back to equal weights.
pub fn get_bucket_ranges(num_variations: usize, coverage: f64, weights: Option<&[f64]>) -> Vec<(f64, f64)> {
    // `clamp` lets NaN through, as JS's comparisons do.
    let coverage = coverage.clamp(0.0, 1.0);
    let equal;
    let weights = match weights {
        Some(w) if w.len() == num_variations && sums_to_one(w) => w,
        _ => {
            equal = get_equal_weights(num_variations);
            &equal[..]
        }
    };
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|w| {
            let start = cumulative;
            cumulative += w;
            (start, start + coverage * w)
        })
        .collect()
}

/// Whether weights add up to 1, give or take 0.01. Not `(0.99..=1.01).contains(..)`: JS's
/// comparisons accept weights summing to NaN, and so does this.
#[allow(clippy::manual_range_contains)]
fn sums_to_one(weights: &[f64]) -> bool {
    let total = weights.iter().fold(0.0, |sum, w| sum + w);
    !(total < 0.99 || total > 1.01)
}

/// The index of the range holding `n` (start inclusive, end exclusive), -1 if none does.
pub fn choose_variation(n: f64, ranges: &[(f64, f64)]) -> i32 {
    ranges.iter().position(|&(start, end)| n >= start && n < end).and_then(|i| i32::try_from(i).ok()).unwrap_or(-1)
}

/// Whether a visitor id falls in a namespace's `[start, end)` share (v1 hash seeded with
/// `"__" + namespace`).
pub fn in_namespace(id: &str, (namespace, start, end): (&str, f64, f64)) -> bool {
    let n = hash_v1(&[id, "__", namespace]);
    n >= start && n < end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_utf16_like_javascript() {
        // Values from GrowthBook's JS SDK (`hash(seed, value, v)` under Node).
        assert_eq!(hash("seed", "é", 1), Some(0.137));
        assert_eq!(hash("seed", "😀", 2), Some(0.4346));
        assert_eq!(hash("", "", 2), Some(0.2305));
        assert_eq!(hash("a", "b", 0), None);
    }

    #[test]
    fn decimal_writes_u32() {
        let mut buf = [0u8; 10];
        assert_eq!(decimal(0, &mut buf), "0");
        assert_eq!(decimal(u32::MAX, &mut buf), "4294967295");
    }
}
