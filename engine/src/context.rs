//! The visitor context: everything a decision may look at, gathered by the host (edge worker
//! from the request and cookies, SDK from the page and session) and handed to the engine.
//!
//! Conditions see it as one JSON-shaped object ([`Visitor::attributes`]):
//!
//! ```text
//! visitor_id, known (bool), new_visitor (bool), customer (bool: has ordered before)
//! traits.*             e.g. traits.segment = "Champions", traits.first_name, traits.frequency
//! first_name           = traits.first_name (for templates: `{{first_name|there}}`)
//! segment              = traits.segment (RFM segment name) or "New" for unknown visitors
//! segments             [rule segments the visitor is in]
//! country, device      ("desktop" | "mobile" | "tablet" | "bot"), referrer
//! utm.source / utm.medium / utm.campaign
//! page.type, page.product (SKU), page.category, page.path
//! cart.count, cart.value, cart.items [SKUs]
//! interests.top_category, interests.categories [names, best first]
//! session.page_views, session.purchased
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::body::{Catalog, CategoryIdx, ProductIdx};
use crate::text::push_int;
use crate::value::Value;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Visitor {
    /// Stable anonymous id (cookie / localStorage).
    pub visitor_id: String,
    /// Traits of a known customer (from the private profile store or the signed profile cookie):
    /// `segment`, `first_name`, `recency_days`, `frequency`, `monetary`, … An object, or Null.
    pub traits: Value,
    pub request: Request,
    pub cart: Vec<CartLine>,
    pub interests: Interests,
    pub session: Session,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub country: Option<String>,
    pub device: Device,
    pub referrer: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub page: Page,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub path: String,
    /// From the config's page rules: "home", "product", "category", "cart", … or "other".
    pub kind: String,
    pub product: Option<ProductIdx>,
    pub category: Option<CategoryIdx>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Device {
    #[default]
    Desktop,
    Mobile,
    Tablet,
    Bot,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Bot => "bot",
        }
    }

    /// Classifies a User-Agent header, coarsely: enough for targeting, not fingerprinting.
    pub fn from_user_agent(ua: &str) -> Device {
        let ua = ua.to_ascii_lowercase();
        // A plain scan: the words are short, and str::contains's Two-Way searcher is a
        // kilobyte and a half of the browser's download.
        let has = |word: &str| ua.as_bytes().windows(word.len()).any(|w| w == word.as_bytes());
        if ["bot", "crawler", "spider", "slurp", "headlesschrome"].into_iter().any(has) {
            Device::Bot
        } else if has("ipad") || (has("android") && !has("mobile")) || has("tablet") {
            Device::Tablet
        } else if has("mobi") || has("iphone") || has("android") {
            Device::Mobile
        } else {
            Device::Desktop
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product: ProductIdx,
    pub quantity: u32,
}

/// What this session has shown interest in, decayed over time. Updated by
/// [`Interests::record`] as the visitor browses, with no new bundle.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Interests {
    /// (category, weight), unordered; small (a session touches few categories).
    pub categories: Vec<(CategoryIdx, f32)>,
    /// (product, weight): products viewed or added, most recent last.
    pub products: Vec<(ProductIdx, f32)>,
    /// Time of the last update (unix seconds), for decay.
    pub updated_at: i64,
}

/// Interest half-life within a session: what was looked at an hour ago counts half.
const INTEREST_HALF_LIFE_SECS: f64 = 3600.0;
const MAX_INTEREST_PRODUCTS: usize = 20;

/// How strongly each kind of signal counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    ProductView,
    CategoryView,
    AddToCart,
}

impl Signal {
    fn weight(self) -> f32 {
        match self {
            Signal::CategoryView => 0.5,
            Signal::ProductView => 1.0,
            Signal::AddToCart => 3.0,
        }
    }
}

impl Interests {
    /// Records a signal at time `now` (unix seconds): decays what is there, then adds.
    pub fn record(&mut self, catalog: &Catalog, signal: Signal, product: Option<ProductIdx>, category: Option<CategoryIdx>, now: i64) {
        self.decay_to(now);
        let w = signal.weight();
        let category = category.or_else(|| product.and_then(|p| catalog.get(p)).and_then(|p| p.category));
        if let Some(c) = category {
            match self.categories.iter_mut().find(|(k, _)| *k == c) {
                Some((_, v)) => *v += w,
                None => self.categories.push((c, w)),
            }
        }
        if let Some(p) = product {
            self.products.retain(|(q, _)| *q != p);
            self.products.push((p, w));
            if self.products.len() > MAX_INTEREST_PRODUCTS {
                self.products.remove(0);
            }
        }
    }

    fn decay_to(&mut self, now: i64) {
        if self.updated_at != 0 && now > self.updated_at {
            let f = libm::pow(0.5, (now - self.updated_at) as f64 / INTEREST_HALF_LIFE_SECS) as f32;
            self.categories.iter_mut().for_each(|(_, v)| *v *= f);
            self.products.iter_mut().for_each(|(_, v)| *v *= f);
        }
        self.updated_at = self.updated_at.max(now);
    }

    /// Interests by name (the SDK's session, `INTERESTS_COOKIE`) resolved against the catalog;
    /// names it does not know are dropped.
    pub fn from_names(catalog: &Catalog, categories: &[(String, f32)], products: &[(String, f32)], updated_at: i64) -> Interests {
        Interests {
            categories: categories.iter().filter_map(|(n, w)| Some((catalog.category_index(n)?, *w))).collect(),
            products: products.iter().filter_map(|(s, w)| Some((catalog.index_of(s)?, *w))).collect(),
            updated_at,
        }
    }

    /// Categories by weight, best first.
    pub fn top_categories(&self) -> Vec<CategoryIdx> {
        let mut c = self.categories.clone();
        crate::sort::sort_by(&mut c, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        c.into_iter().map(|(k, _)| k).collect()
    }
}

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
pub const VISITOR_COOKIE: &str = "vt_vid";
/// Cart lines written by the store's pages (or the SDK), read by the edge and the SDK:
/// `SKU:QTY` pairs joined by `,`, each SKU percent-encoded (`encodeURIComponent`), e.g.
/// `85123A:2,22423:1`. A quantity may be omitted (1).
pub const CART_COOKIE: &str = "vt_cart";
/// A cart longer than this is cut: a decision never needs more lines.
pub const MAX_CART_LINES: usize = 50;
const MAX_CART_QUANTITY: u32 = 999;

/// Reads a `CART_COOKIE` value: repeated SKUs merged, malformed entries skipped, lines and
/// quantities bounded. Unknown SKUs stay: the catalog drops them when it resolves the lines.
pub fn parse_cart_cookie(cookie: &str) -> Vec<(String, u32)> {
    let mut lines: Vec<(String, u32)> = Vec::new();
    for entry in cookie.split(',').filter(|e| !e.is_empty()) {
        let (sku, qty) = entry.rsplit_once(':').unwrap_or((entry, "1"));
        let sku = percent_decode(sku.trim());
        let Ok(qty) = qty.trim().parse::<u32>() else { continue };
        if sku.is_empty() || sku.len() > 64 || qty == 0 {
            continue;
        }
        if let Some((_, q)) = lines.iter_mut().find(|(s, _)| *s == sku) {
            *q = (*q + qty).min(MAX_CART_QUANTITY);
        } else if lines.len() < MAX_CART_LINES {
            lines.push((sku, qty.min(MAX_CART_QUANTITY)));
        } else {
            break;
        }
    }
    lines
}

/// Writes a `CART_COOKIE` value.
pub fn cart_cookie(lines: &[(String, u32)]) -> String {
    let mut out = String::new();
    for (i, (sku, qty)) in lines.iter().enumerate() {
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
pub const INTERESTS_COOKIE: &str = "vt_int";
/// A session touches few categories; a cookie naming more is cut, not trusted.
const MAX_INTEREST_CATEGORIES: usize = 32;

/// Interests by name, as `INTERESTS_COOKIE` holds them.
pub type NamedWeights = Vec<(String, f32)>;

/// Writes an `INTERESTS_COOKIE` value.
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
            push_int(&mut out, libm::roundf(w * 1000.0) as i64);
        }
    }
    out
}

/// Reads an `INTERESTS_COOKIE` value: (categories, products, updated_at); None when malformed.
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

/// Percent-encodes everything but `A-Z a-z 0-9 - _ . ~` (as encodeURIComponent, stricter).
fn push_percent_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Decodes `%XX` escapes (in URL path segments and cookie names alike: `+` stays a plus);
/// bad escapes stay as they are, invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub page_views: u32,
    /// Completed an order in this session (no exit-intent offer right after a purchase).
    pub purchased: bool,
    /// First visit of this browser (no visitor cookie was present).
    pub new_visitor: bool,
}

impl Visitor {
    pub fn is_known(&self) -> bool {
        matches!(&self.traits, Value::Object(m) if !m.is_empty())
    }

    /// RFM segment from the traits, or "New" for a visitor we know nothing about.
    pub fn segment(&self) -> &str {
        self.traits.path("segment").and_then(Value::as_str).unwrap_or("New")
    }

    pub fn cart_value(&self, catalog: &Catalog) -> f32 {
        self.cart.iter().filter_map(|l| catalog.get(l.product).map(|p| p.price * l.quantity as f32)).sum()
    }

    pub fn in_cart(&self, p: ProductIdx) -> bool {
        self.cart.iter().any(|l| l.product == p)
    }

    /// The object conditions are evaluated against (see the module docs for its shape).
    /// `segments` are the rule segments the visitor is in, computed by the engine.
    pub fn attributes(&self, catalog: &Catalog, segments: &[String]) -> Value {
        let sku = |p: ProductIdx| catalog.get(p).map(|p| Value::from(p.sku.as_str())).unwrap_or_default();
        let cat_name = |c: CategoryIdx| catalog.categories.get(c as usize).map(|s| Value::from(s.as_str())).unwrap_or_default();
        let top: Vec<CategoryIdx> = self.interests.top_categories();

        let mut page = Value::object();
        page.set("type", self.request.page.kind.as_str())
            .set("path", self.request.page.path.as_str())
            .set("product", self.request.page.product.map(sku).unwrap_or_default())
            .set("category", self.request.page.category.map(cat_name).unwrap_or_default());
        let mut cart = Value::object();
        cart.set("count", self.cart.iter().map(|l| l.quantity).sum::<u32>())
            .set("value", libm::round(self.cart_value(catalog) as f64 * 100.0) / 100.0)
            .set("items", Value::Array(self.cart.iter().map(|l| sku(l.product)).collect()));
        let mut utm = Value::object();
        utm.set("source", self.request.utm_source.clone())
            .set("medium", self.request.utm_medium.clone())
            .set("campaign", self.request.utm_campaign.clone());
        let mut interests = Value::object();
        interests
            .set("top_category", top.first().map(|&c| cat_name(c)).unwrap_or_default())
            .set("categories", Value::Array(top.iter().map(|&c| cat_name(c)).collect()));
        let mut session = Value::object();
        session.set("page_views", self.session.page_views).set("purchased", self.session.purchased);
        let frequency = self.traits.path("frequency").and_then(Value::as_f64).unwrap_or(0.0);

        let mut a = Value::object();
        a.set("visitor_id", self.visitor_id.as_str())
            .set("known", self.is_known())
            .set("new_visitor", self.session.new_visitor && !self.is_known())
            .set("customer", frequency > 0.0)
            .set("traits", if self.is_known() { self.traits.clone() } else { Value::object() })
            .set("first_name", self.traits.path("first_name").cloned().unwrap_or_default())
            .set("segment", self.segment())
            .set("segments", Value::Array(segments.iter().map(|s| Value::from(s.as_str())).collect()))
            .set("country", self.request.country.clone())
            .set("device", self.request.device.as_str())
            .set("referrer", self.request.referrer.clone())
            .set("utm", utm)
            .set("page", page)
            .set("cart", cart)
            .set("interests", interests)
            .set("session", session);
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cart_cookies_merge_skip_junk_and_are_bounded() {
        let lines = parse_cart_cookie("85123A:2,22423,bad:x,:3,85123A:1,A%2CB:4,zero:0,C+D:1,%E2%82%AC:1");
        let want: Vec<(String, u32)> = ["85123A:3", "22423:1", "A,B:4", "C+D:1", "\u{20ac}:1"]
            .iter()
            .map(|l| l.rsplit_once(':').map(|(s, q)| (s.into(), q.parse().unwrap())).unwrap())
            .collect();
        assert_eq!(lines, want, "a plus is a plus, as decodeURIComponent reads it");
        assert_eq!(parse_cart_cookie(&cart_cookie(&lines)), lines);
        assert_eq!(cart_cookie(&lines[2..3]), "A%2CB:4");

        let many = (0..500).map(|i| alloc::format!("S{i}:99999")).collect::<Vec<_>>().join(",");
        let lines = parse_cart_cookie(&many);
        assert_eq!(lines.len(), MAX_CART_LINES);
        assert!(lines.iter().all(|(_, q)| *q == MAX_CART_QUANTITY));
    }

    #[test]
    fn classifies_user_agents_coarsely() {
        let cases = [
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1", Device::Mobile),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36", Device::Mobile),
            ("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 Chrome/126.0 Safari/537.36", Device::Tablet),
            ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", Device::Tablet),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36", Device::Desktop),
            ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Device::Bot),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/126.0 Safari/537.36", Device::Bot),
            ("", Device::Desktop),
        ];
        for (ua, device) in cases {
            assert_eq!(Device::from_user_agent(ua), device, "{ua}");
        }
    }

    #[test]
    fn visitor_ids() {
        assert!(is_valid_visitor_id("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!is_valid_visitor_id("short"));
        assert!(!is_valid_visitor_id("<script>alert(1)</script>"));
        assert!(!is_valid_visitor_id(&"a".repeat(65)));
    }
}
