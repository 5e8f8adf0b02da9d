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
    /// Products this visitor viewed lately, most recent first (the SDK keeps them across
    /// visits; the edge reads them from the same cookie).
    #[serde(default)]
    pub recently_viewed: Vec<ProductIdx>,
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
pub(crate) const MAX_INTEREST_PRODUCTS: usize = 20;

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

    /// Interests by name (the SDK's session, `cookies::INTERESTS`) resolved against the catalog;
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
        let sku = |p: ProductIdx| catalog.get(p).map(|p| Value::from(p.sku())).unwrap_or_default();
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
        utm.set("source", self.request.utm_source.clone()).set("medium", self.request.utm_medium.clone()).set("campaign", self.request.utm_campaign.clone());
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
}
