//! The cookies edge and browser share, once: their names, the one Cookie-header reader, the
//! codecs of the cart and interests cookies, and the claims the profile cookie carries.
//!
//! | cookie | written by | read by | value |
//! |---|---|---|---|
//! | [`VISITOR`] `vt_vid` | whichever sees the visitor first | edge, SDK | the anonymous visitor id ([`is_valid_visitor_id`]) |
//! | [`CART`] `vt_cart` | the store's pages, the SDK | edge, SDK | [`cart_cookie`] / [`parse_cart_cookie`] |
//! | [`INTERESTS`] `vt_int` | the SDK | edge, SDK (other tabs) | [`interests_cookie`] / [`parse_interests_cookie`] |
//! | [`SEEN`] `vt_seen` | the SDK, the edge on product pages | edge | SKUs, most recent first: [`remember_viewed`] / [`recently_viewed`] |
//! | [`PROFILE`] `vt_profile` | the edge, signed ([`crate::token`]) | edge (verified), SDK (its traits, unverified) | [`ProfileClaims`] as JSON |
//!
//! Signing and JSON stay with the edge (`vitrine_edge::profile`): the engine has no JSON codec,
//! and the SDK parses the payload with the browser's `JSON`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::body::{Catalog, ProductIdx};
use crate::cart::{Cart, Line};
use crate::context::MAX_INTEREST_PRODUCTS;
use crate::text::{percent_decode, push_int, push_percent_encoded};
use crate::value::Value;

/// Only this much of a Cookie header is looked at; browsers send at most ~8 KiB anyway.
pub const MAX_COOKIE_HEADER: usize = 16 * 1024;

/// The `(name, value)` pairs of a Cookie header (or `document.cookie`), read defensively, the
/// one way edge and SDK read cookies: only the first `MAX_COOKIE_HEADER` characters, names and
/// values trimmed, one pair of double quotes around a value dropped, nameless pairs skipped.
/// Browsers send the most specific cookie of a name first, so callers take the first.
pub fn cookie_pairs(header: &str) -> impl Iterator<Item = (&str, &str)> {
    let header = match header.char_indices().nth(MAX_COOKIE_HEADER) {
        Some((cut, _)) => &header[..cut],
        None => header,
    };
    header
        .split(';')
        .filter_map(|part| {
            let (name, value) = part.split_once('=')?;
            let value = value.trim();
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
            Some((name.trim(), value))
        })
        .filter(|(name, _)| !name.is_empty())
}

/// The anonymous visitor id, one for edge and browser (set by whichever sees the visitor first).
pub const VISITOR: &str = "vt_vid";
/// Cart lines written by the store's pages (or the SDK), read by the edge and the SDK:
/// `SKU:QTY` pairs joined by `,`, each SKU percent-encoded (`encodeURIComponent`), e.g.
/// `85123A:2,22423:1`. A quantity may be omitted (1).
pub const CART: &str = "vt_cart";

/// Reads a `CART` value into the one cart model: repeated SKUs merged, malformed entries
/// skipped, SKUs longer than 64 bytes skipped, lines and quantities bounded as [`Cart`] bounds
/// them. Unknown SKUs stay: the catalog drops them when it resolves the lines.
pub fn parse_cart_cookie(cookie: &str) -> Cart {
    let mut cart = Cart::default();
    for entry in cookie.split(',').filter(|e| !e.is_empty()) {
        let (sku, qty) = entry.rsplit_once(':').unwrap_or((entry, "1"));
        let sku = percent_decode(sku.trim());
        let Ok(qty) = qty.trim().parse::<u32>() else { continue };
        if sku.len() <= 64 {
            cart.add(Line::new(sku, qty));
        }
    }
    cart
}

/// Writes a `CART` value.
pub fn cart_cookie(lines: &[Line]) -> String {
    let mut out = String::new();
    for (i, Line { sku, quantity: qty, .. }) in lines.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_percent_encoded(&mut out, sku);
        out.push(':');
        push_int(&mut out, i64::from(*qty));
    }
    out
}

/// Visitor ids accepted back from a cookie: what the id generators make (UUIDs, hex), nothing
/// that could smuggle markup or separators into logs and keys.
pub fn is_valid_visitor_id(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The cookie that carries a session's interests by name from the SDK (which learns them as
/// the visitor browses) to the edge (which decides the next page with them):
///
/// ```text
/// <updated_at unix s>|<category>:<weight>,…|<sku>:<weight>,…
/// ```
/// Names are percent-encoded (UTF-8), weights are integer thousandths, products oldest
/// first, e.g. `1795426867|Candles:2750,Kitchen:500|C1:917,C2:958,C3:1000`.
pub const INTERESTS: &str = "vt_int";
/// A session touches few categories; a cookie naming more is cut, not trusted.
const MAX_INTEREST_CATEGORIES: usize = 32;

/// Interests by name, as `INTERESTS` holds them.
pub type NamedWeights = Vec<(String, f32)>;

/// Writes an `INTERESTS` value.
pub fn interests_cookie(updated_at: i64, categories: &[(String, f32)], products: &[(String, f32)]) -> String {
    let mut out = String::with_capacity(32 + 16 * (categories.len() + products.len()));
    push_int(&mut out, updated_at);
    for list in [categories, products] {
        out.push('|');
        for (j, (name, w)) in list.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_percent_encoded(&mut out, name);
            out.push(':');
            // What the reader takes: whole thousandths in u32 (a weight read from a forged
            // cookie, or a NaN, must not make a cookie no host reads back).
            push_int(&mut out, (libm::roundf(w * 1000.0) as i64).clamp(0, i64::from(u32::MAX)));
        }
    }
    out
}

/// Reads an `INTERESTS` value: (categories, products, updated_at); None when malformed.
/// Lists longer than a session makes are cut (products keep the most recent).
pub fn parse_interests_cookie(text: &str) -> Option<(NamedWeights, NamedWeights, i64)> {
    let mut parts = text.split('|');
    let at: i64 = parts.next()?.parse().ok()?;
    let list = |part: Option<&str>| -> Option<NamedWeights> {
        part?
            .split(',')
            .filter(|e| !e.is_empty())
            .map(|e| {
                let (name, w) = e.rsplit_once(':')?;
                let thousandths: u32 = w.parse().ok()?;
                Some((percent_decode(name), thousandths as f32 / 1000.0))
            })
            .collect()
    };
    let mut categories = list(parts.next())?;
    let mut products = list(parts.next())?;
    if parts.next().is_some() {
        return None;
    }
    categories.truncate(MAX_INTEREST_CATEGORIES);
    products.drain(..products.len().saturating_sub(MAX_INTEREST_PRODUCTS));
    Some((categories, products, at))
}

/// The visitor's recently viewed products, most recent first, kept by the SDK (with its stored
/// profile: local storage, across visits) and written here whenever it changes, so the edge
/// decides the next page with the same list (the `recently_viewed`, `viewed_together` and
/// `bought_after_viewing` recommenders): SKUs percent-encoded (`encodeURIComponent`), joined
/// by `,`, e.g. `22423,85123A`. Both hosts keep it in this form (the SDK carries no list codec):
/// [`remember_viewed`] bounds and changes it, [`recently_viewed`] reads it. The SDK writes it
/// whenever the list changes and never reads it back: its own copy is the stored profile's.
pub const SEEN: &str = "vt_seen";
/// How many recently viewed products are kept (a slot shows fewer; 12 SKUs keep the cookie
/// small).
pub const MAX_RECENTLY_VIEWED: usize = 12;
/// 64 bytes of SKU, every byte percent-encoded.
const MAX_SEEN_ENTRY: usize = 3 * 64;

/// An entry of a [`SEEN`] value that is read: not empty, not over-long.
fn is_seen_entry(entry: &str) -> bool {
    !entry.is_empty() && entry.len() <= MAX_SEEN_ENTRY
}

/// `sku` was viewed: the [`SEEN`] value `list` with it first, once, and the oldest past
/// [`MAX_RECENTLY_VIEWED`] dropped; empty or over-long entries (a forged cookie) too. The one
/// rule for the SDK (a product page: its `[[pages]]` pattern or `page()`'s product) and the
/// edge (the page's own product, which the SDK on that page adds before it decides). A SKU
/// longer than 64 bytes is not added; an empty `sku` only bounds the list. (Plain loops: this
/// runs in the SDK.)
pub fn remember_viewed(list: &str, sku: &str) -> String {
    let mut out = String::new();
    if sku.len() <= MAX_SEEN_ENTRY / 3 {
        push_percent_encoded(&mut out, sku);
    }
    let viewed = out.len();
    let mut kept = usize::from(viewed > 0);
    for entry in list.split(',') {
        if kept == MAX_RECENTLY_VIEWED {
            break;
        }
        if is_seen_entry(entry) && entry.as_bytes() != &out.as_bytes()[..viewed] {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(entry);
            kept += 1;
        }
    }
    out
}

/// The catalog's products of a [`SEEN`] value as [`remember_viewed`] leaves it (every host
/// passes its list through it first), most recent first, each once; unknown SKUs are dropped
/// (the list outlives catalogs). The value is a [`CART`] value without quantities, so the cart's
/// reader reads it: one SKU codec, and no second one in the SDK's download.
pub fn recently_viewed(catalog: &Catalog, list: &str) -> Vec<ProductIdx> {
    parse_cart_cookie(list).resolve(catalog).into_iter().map(|line| line.product).collect()
}

/// The offer a deep link (`?vt=` from a message) promised, set by the edge once it checked the
/// link's signature and expiry; the SDK shows it and clears it. The SDK never reads an offer
/// from a token itself: nobody in the browser can check a signature.
pub const OFFER: &str = "vt_offer";

/// The visitor's answer to the site's consent banner for personalization, written by the SDK's
/// `vitrine.consent(…)`: `1` yes, `0` no. A site that requires consent (`data-require-consent`
/// in the browser, `REQUIRE_CONSENT` at the edge) gets no other cookie from either before a
/// `1`; a `0` stops both from setting any, required or not.
pub const CONSENT: &str = "vt_consent";

/// Whether Vitrine may keep cookies for this visitor: their [`CONSENT`] answer, else the site's
/// rule (without a required consent, yes).
pub fn may_store(consent_cookie: Option<&str>, require_consent: bool) -> bool {
    match consent_cookie {
        Some("1") => true,
        Some("0") => false,
        _ => !require_consent,
    }
}

/// The edge's signed profile: who the visitor is, when the store told the edge. A
/// [`crate::token`] over the JSON of [`ProfileClaims`]; the SDK reads its traits unverified
/// (they only choose what to show; the edge verifies before honouring anything).
pub const PROFILE: &str = "vt_profile";

/// What [`PROFILE`] carries: JSON `{"cid", "traits", "iat"}`, field names as spelled here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileClaims {
    /// The store's customer id, when the visitor is a known customer.
    #[serde(default)]
    pub cid: String,
    /// An object of traits (or null).
    #[serde(default)]
    pub traits: Value,
    /// Issued at (unix seconds).
    #[serde(default)]
    pub iat: i64,
}

impl ProfileClaims {
    /// The JSON key of [`ProfileClaims::traits`], for readers of the payload without serde (the SDK).
    pub const TRAITS: &'static str = "traits";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{MAX_LINES, MAX_QUANTITY};

    #[test]
    fn cart_cookies_merge_skip_junk_and_are_bounded() {
        let pairs = |c: &Cart| c.iter().map(|l| (l.sku.clone(), l.quantity)).collect::<Vec<_>>();
        let lines = parse_cart_cookie("85123A:2,22423,bad:x,:3,85123A:1,A%2CB:4,zero:0,C+D:1,%E2%82%AC:1");
        let want: Vec<(String, u32)> = ["85123A:3", "22423:1", "A,B:4", "C+D:1", "\u{20ac}:1"]
            .iter()
            .map(|l| l.rsplit_once(':').map(|(s, q)| (s.into(), q.parse().unwrap())).unwrap())
            .collect();
        assert_eq!(pairs(&lines), want, "a plus is a plus, as decodeURIComponent reads it");
        assert_eq!(parse_cart_cookie(&cart_cookie(&lines)), lines);
        assert_eq!(cart_cookie(&lines[2..3]), "A%2CB:4");

        let many = (0..500).map(|i| alloc::format!("S{i}:99999")).collect::<Vec<_>>().join(",");
        let lines = parse_cart_cookie(&many);
        assert_eq!(lines.len(), MAX_LINES);
        assert!(lines.iter().all(|l| l.quantity == MAX_QUANTITY));
    }

    #[test]
    fn visitor_ids() {
        assert!(is_valid_visitor_id("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!is_valid_visitor_id("short"));
        assert!(!is_valid_visitor_id("<script>alert(1)</script>"));
        assert!(!is_valid_visitor_id(&"a".repeat(65)));
    }

    #[test]
    fn repeated_cart_lines_saturate_instead_of_overflowing() {
        // Issue #14: 1 + 4294967295 overflowed the u32 (a panic in debug builds, 0 in release).
        let lines = parse_cart_cookie("A:1,A:4294967295,B:4294967295,B:4294967295");
        assert_eq!(lines.iter().map(|l| (l.sku.as_str(), l.quantity)).collect::<Vec<_>>(), [("A", MAX_QUANTITY), ("B", MAX_QUANTITY)]);
    }

    #[test]
    fn interests_cookies_re_read_whatever_their_weights() {
        // Found by fuzzing (fuzz/, target `cookies`): a weight of u32::MAX thousandths read
        // back as 4294967.5 and was written as 4294967296, which no reader takes, so the whole
        // cookie was dropped by the next host; a negative weight was written as one too.
        let (c, p, at) = parse_interests_cookie("1|a:4294967295|b:4294967295").unwrap();
        let again = parse_interests_cookie(&interests_cookie(at, &c, &p)).expect("its own cookie re-read");
        assert_eq!((again.0.len(), again.1.len(), again.2), (1, 1, 1));
        let written = interests_cookie(5, &[("a".into(), -2.0), ("b".into(), f32::NAN)], &[("c".into(), f32::INFINITY)]);
        assert_eq!(written, "5|a:0,b:0|c:4294967295");
        assert!(parse_interests_cookie(&written).is_some());
    }

    #[test]
    fn a_view_goes_first_once_and_the_oldest_falls_off() {
        let full: Vec<String> = (0..MAX_RECENTLY_VIEWED).map(|i| alloc::format!("S{i}")).collect();
        let list = full.join(",");
        let again = remember_viewed(&list, "S5");
        assert_eq!(again.split(',').collect::<Vec<_>>()[..7], ["S5", "S0", "S1", "S2", "S3", "S4", "S6"]);
        assert_eq!(again.split(',').count(), MAX_RECENTLY_VIEWED);
        assert_eq!(remember_viewed(&again, "S5"), again, "already the latest");
        let new = remember_viewed(&again, "A,\u{20ac}");
        assert!(new.starts_with("A%2C%E2%82%AC,S5,S0,") && new.ends_with(",S10"), "{new}");
        assert_eq!(remember_viewed(",,B,,C", &"y".repeat(65)), "B,C", "a SKU longer than a cookie keeps is not remembered");
        assert_eq!(remember_viewed("", "A"), "A");
    }

    #[test]
    fn recently_viewed_reads_the_catalogs_products_once_and_bounded() {
        use crate::body::Product;
        let product = |sku: &str| Product { sku: sku.into(), ..Product::default() };
        let catalog = Catalog::new(alloc::vec![product("A"), product("B,C"), product("D")], alloc::vec![]);
        assert_eq!(recently_viewed(&catalog, "D,GONE,B%2CC,%44,A"), [2, 1, 0], "unknown dropped, repeats once, order kept");
        // What a host reads is bounded first.
        let long = alloc::format!("{},A", "x".repeat(MAX_SEEN_ENTRY + 1));
        assert_eq!(recently_viewed(&catalog, &remember_viewed(&long, "")), [0], "an over-long entry is skipped");
        let many = alloc::format!("{}D", "Z,".repeat(MAX_RECENTLY_VIEWED));
        assert!(recently_viewed(&catalog, &remember_viewed(&many, "")).is_empty(), "only the first entries are read");
    }

    #[test]
    fn profile_claims_are_the_json_the_sdk_reads() {
        let mut traits = Value::object();
        traits.set("segment", "Champions");
        let claims = ProfileClaims { cid: "12346".into(), traits, iat: 1_700_000_000 };
        let json = serde_json::to_string(&claims).unwrap();
        assert_eq!(json, r#"{"cid":"12346","traits":{"segment":"Champions"},"iat":1700000000}"#);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[ProfileClaims::TRAITS]["segment"], "Champions");
        assert_eq!(serde_json::from_str::<ProfileClaims>("{}").unwrap(), ProfileClaims::default(), "every claim is optional");
    }
}
