//! What the SDK remembers, and how the session learns from what the visitor does.
//!
//! - [`SessionState`] lives in sessionStorage: page views, cart, interests, whether the exit
//!   offer was shown or an order completed. It names products and categories by SKU and name,
//!   not by bundle index, so a bundle rebuilt mid-session cannot scramble it.
//! - [`Profile`] lives in localStorage: the anonymous id, the user id and traits from
//!   `identify`, the consent choice.
//!
//! Both are stored as a few lines of text in a format of our own (a generic codec for these
//! would add kilobytes of wasm for a dozen fields); a damaged or outdated stored value starts
//! fresh rather than failing the page. Traits are kept as JSON text, parsed by the browser.

use alloc::string::String;
use alloc::vec::Vec;

use vitrine_engine::bundle::Catalog;
use vitrine_engine::cart::{Cart, Line};
use vitrine_engine::context::{self, CartLine, Device, Interests, Page, Request, Signal, Visitor};
use vitrine_engine::cookies;
use vitrine_engine::Value;

use crate::json::push_int;

/// First line of a stored value: bump when the format changes, so old values start fresh.
const SESSION_MAGIC: &str = "vitrine-session 1";
const PROFILE_MAGIC: &str = "vitrine-profile 1";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionState {
    pub page_views: u32,
    /// This browser had no visitor id when the session began.
    pub new_visitor: bool,
    pub purchased: bool,
    pub exit_offer_shown: bool,
    /// The offer a deep link promised (shown on landing; exit intent repeats it).
    pub promised_offer: Option<String>,
    /// The one cart model (`vitrine_engine::cart`), as the shared cookie carries it.
    pub cart: Cart,
    /// (category name, weight)
    pub categories: Vec<(String, f32)>,
    /// (SKU, weight), most recent last.
    pub products: Vec<(String, f32)>,
    pub interests_at: i64,
    /// How the session arrived (first page's referrer and UTM), kept for every later page.
    pub landing: Landing,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Landing {
    pub referrer: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub visitor_id: String,
    pub user_id: Option<String>,
    /// Traits from `identify` (or the edge): an object, or Null.
    pub traits: Value,
    /// None: not asked yet.
    pub consent: Option<bool>,
}

/// Something the visitor did that the session learns from.
#[derive(Clone, Debug, PartialEq)]
pub enum Learn {
    ProductViewed(String),
    CategoryViewed(String),
    Added(String, u32),
    /// Quantity None: the whole line.
    Removed(String, Option<u32>),
    /// The site told us the whole cart (Cart Viewed, Checkout Started).
    CartReplaced(Vec<(String, u32)>),
    Purchased,
}

/// The properties of a tracked event the session cares about, read by the host.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventFacts {
    /// `product_id`, else `sku`.
    pub product: Option<String>,
    pub category: Option<String>,
    pub quantity: Option<u32>,
    /// `products[]` as (product_id or sku, quantity).
    pub products: Option<Vec<(String, u32)>>,
}

/// What a Segment e-commerce event teaches the session.
pub fn learning(event: &str, facts: &EventFacts) -> Option<Learn> {
    let product = facts.product.clone();
    match event {
        "Product Viewed" | "Product Clicked" => product.map(Learn::ProductViewed),
        "Product List Viewed" | "Product Category Viewed" => facts.category.clone().map(Learn::CategoryViewed),
        "Product Added" => product.map(|p| Learn::Added(p, facts.quantity.unwrap_or(1).max(1))),
        "Product Removed" => product.map(|p| Learn::Removed(p, facts.quantity)),
        "Cart Viewed" | "Checkout Started" => facts.products.clone().map(Learn::CartReplaced),
        "Order Completed" => Some(Learn::Purchased),
        _ => None,
    }
}

impl SessionState {
    /// Applies what the visitor did at `now` (unix seconds).
    pub fn learn(&mut self, catalog: &Catalog, what: Learn, now: i64) {
        match what {
            Learn::ProductViewed(sku) => self.record(catalog, Signal::ProductView, Some(&sku), None, now),
            Learn::CategoryViewed(name) => self.record(catalog, Signal::CategoryView, None, Some(&name), now),
            Learn::Added(sku, quantity) => {
                self.record(catalog, Signal::AddToCart, Some(&sku), None, now);
                self.cart.add(Line::new(sku, quantity));
            }
            Learn::Removed(sku, quantity) => self.cart.remove(&sku, quantity),
            Learn::CartReplaced(lines) => self.cart.replace(lines.into_iter().map(|(sku, q)| Line::new(sku, q))),
            Learn::Purchased => {
                self.purchased = true;
                self.cart.clear();
            }
        }
    }

    /// Records one signal through the engine's own interest model, so decay and weights are
    /// exactly the edge's.
    fn record(&mut self, catalog: &Catalog, signal: Signal, sku: Option<&str>, category: Option<&str>, now: i64) {
        let product = sku.and_then(|s| catalog.index_of(s));
        let category = category.and_then(|c| catalog.category_index(c));
        if product.is_none() && category.is_none() {
            return; // not in this catalog: nothing to learn
        }
        let mut interests = self.interests(catalog);
        interests.record(catalog, signal, product, category, now);
        // Thousandths, as the `vt_int` cookie carries them: the edge, reading the cookie, and
        // the browser, reading its own session, decide on bit-identical weights.
        interests.categories.iter_mut().for_each(|(_, w)| *w = to_thousandths(*w));
        interests.products.iter_mut().for_each(|(_, w)| *w = to_thousandths(*w));
        self.categories = interests.categories.iter().filter_map(|&(c, w)| catalog.categories.get(c as usize).map(|n| (n.clone(), w))).collect();
        self.products = interests.products.iter().filter_map(|&(p, w)| catalog.get(p).map(|x| (x.sku().into(), w))).collect();
        self.interests_at = interests.updated_at;
    }

    /// The session's interests in the engine's terms for this catalog.
    pub fn interests(&self, catalog: &Catalog) -> Interests {
        Interests::from_names(catalog, &self.categories, &self.products, self.interests_at)
    }

    /// This session's interests for the edge (`cookies::INTERESTS`).
    pub fn interests_cookie(&self) -> String {
        cookies::interests_cookie(self.interests_at, &self.categories, &self.products)
    }

    pub fn cart_lines(&self, catalog: &Catalog) -> Vec<CartLine> {
        self.cart.resolve(catalog)
    }

    /// The engine's view of this visitor on `page`.
    pub fn visitor(&self, profile: &Profile, catalog: &Catalog, page: Page, device: Device, country: Option<String>) -> Visitor {
        Visitor {
            visitor_id: profile.visitor_id.clone(),
            traits: profile.traits.clone(),
            request: Request {
                country,
                device,
                referrer: self.landing.referrer.clone(),
                utm_source: self.landing.utm_source.clone(),
                utm_medium: self.landing.utm_medium.clone(),
                utm_campaign: self.landing.utm_campaign.clone(),
                page,
            },
            cart: self.cart_lines(catalog),
            interests: self.interests(catalog),
            session: context::Session { page_views: self.page_views, purchased: self.purchased, new_visitor: self.new_visitor },
            // Filled from the recently-viewed cookie (#18 part 4).
            recently_viewed: Vec::new(),
        }
    }
}

/// One field per line: a short tag, a space, the value. Values never hold a line break
/// (they are flattened to spaces on the way in); the free-text part of a line comes last.
struct Lines(String);

impl Lines {
    fn new(magic: &str) -> Self {
        Lines(String::from(magic))
    }

    fn field(&mut self, tag: &str) -> &mut String {
        self.0.push('\n');
        self.0.push_str(tag);
        self.0.push(' ');
        &mut self.0
    }

    fn text(&mut self, tag: &str, value: &str) {
        let out = self.field(tag);
        out.extend(value.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }));
    }

    fn opt(&mut self, tag: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(tag, v);
        }
    }

    fn int(&mut self, tag: &str, value: i64) {
        push_int(self.field(tag), value);
    }

    /// An integer, then free text: `c 2 85123A`. Weights go as their f32 bits, so a stored
    /// session restores the exact interests (and the exact decisions) it had.
    fn pair(&mut self, tag: &str, number: i64, value: &str) {
        let out = self.field(tag);
        push_int(out, number);
        out.push(' ');
        self.text_tail(value);
    }

    fn text_tail(&mut self, value: &str) {
        self.0.extend(value.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }));
    }
}

/// The stored lines after `magic`, as (tag, rest); None if the magic line differs.
fn read_lines<'a>(text: &'a str, magic: &str) -> Option<impl Iterator<Item = (&'a str, &'a str)>> {
    let mut lines = text.split('\n');
    (lines.next()? == magic).then(|| lines.map(|l| l.split_once(' ').unwrap_or((l, ""))))
}

fn split_pair(rest: &str) -> Option<(i64, &str)> {
    let (n, text) = rest.split_once(' ')?;
    Some((n.parse().ok()?, text))
}

fn to_thousandths(w: f32) -> f32 {
    libm::roundf(w * 1000.0) / 1000.0
}

impl SessionState {
    pub fn encode(&self) -> String {
        let mut l = Lines::new(SESSION_MAGIC);
        l.int("pv", self.page_views.into());
        l.int("nv", self.new_visitor.into());
        l.int("pu", self.purchased.into());
        l.int("ex", self.exit_offer_shown.into());
        l.opt("po", self.promised_offer.as_deref());
        l.int("at", self.interests_at);
        self.cart.iter().for_each(|line| l.pair("c", line.quantity.into(), &line.sku));
        self.categories.iter().for_each(|(name, w)| l.pair("k", w.to_bits().into(), name));
        self.products.iter().for_each(|(sku, w)| l.pair("p", w.to_bits().into(), sku));
        l.opt("lr", self.landing.referrer.as_deref());
        l.opt("ls", self.landing.utm_source.as_deref());
        l.opt("lm", self.landing.utm_medium.as_deref());
        l.opt("lc", self.landing.utm_campaign.as_deref());
        l.0
    }

    /// None when missing, damaged or written by another format version.
    pub fn decode(text: &str) -> Option<SessionState> {
        let mut s = SessionState::default();
        for (tag, rest) in read_lines(text, SESSION_MAGIC)? {
            let int = || rest.parse::<i64>().ok();
            let owned = || Some(String::from(rest));
            match tag {
                "pv" => s.page_views = u32::try_from(int()?).ok()?,
                "nv" => s.new_visitor = int()? != 0,
                "pu" => s.purchased = int()? != 0,
                "ex" => s.exit_offer_shown = int()? != 0,
                "po" => s.promised_offer = owned(),
                "at" => s.interests_at = int()?,
                "c" => {
                    let (q, sku) = split_pair(rest)?;
                    s.cart.add(Line::new(sku, u32::try_from(q).ok()?));
                }
                "k" | "p" => {
                    let (bits, name) = split_pair(rest)?;
                    let w = f32::from_bits(u32::try_from(bits).ok()?);
                    if tag == "k" { &mut s.categories } else { &mut s.products }.push((name.into(), w));
                }
                "lr" => s.landing.referrer = owned(),
                "ls" => s.landing.utm_source = owned(),
                "lm" => s.landing.utm_medium = owned(),
                "lc" => s.landing.utm_campaign = owned(),
                _ => {} // a field from a newer SDK: skip it
            }
        }
        Some(s)
    }
}

impl Profile {
    /// `traits_json` is the traits as JSON text (the host converts with the browser's JSON).
    pub fn encode(&self, traits_json: &str) -> String {
        let mut l = Lines::new(PROFILE_MAGIC);
        l.text("id", &self.visitor_id);
        l.opt("u", self.user_id.as_deref());
        if let Some(c) = self.consent {
            l.int("co", c.into());
        }
        l.text("t", traits_json);
        l.0
    }

    /// The profile and its traits' JSON text (for the host to parse); None when unusable.
    pub fn decode(text: &str) -> Option<(Profile, Option<&str>)> {
        let mut p = Profile::default();
        let mut traits = None;
        for (tag, rest) in read_lines(text, PROFILE_MAGIC)? {
            match tag {
                "id" => p.visitor_id = rest.into(),
                "u" => p.user_id = Some(rest.into()),
                "co" => p.consent = Some(rest == "1"),
                "t" => traits = Some(rest),
                _ => {}
            }
        }
        (!p.visitor_id.is_empty()).then_some((p, traits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitrine_engine::bundle::Product;
    use vitrine_engine::cookies::parse_interests_cookie;

    fn catalog() -> Catalog {
        let product =
            |sku: &str, cat: u16, price: f32| Product { sku: sku.into(), title: sku.into(), price, category: Some(cat), in_stock: true, ..Product::default() };
        // Sorted by SKU, as the builder writes it.
        Catalog::new(alloc::vec![product("A1", 0, 2.0), product("A2", 0, 3.0), product("B1", 1, 10.0)], alloc::vec!["Candles".into(), "Kitchen".into()])
    }

    #[test]
    fn maps_segment_events_to_learning() {
        let p = EventFacts { product: Some("A1".into()), quantity: Some(2), ..EventFacts::default() };
        assert_eq!(learning("Product Viewed", &p), Some(Learn::ProductViewed("A1".into())));
        assert_eq!(learning("Product Added", &p), Some(Learn::Added("A1".into(), 2)));
        assert_eq!(learning("Product Removed", &p), Some(Learn::Removed("A1".into(), Some(2))));
        assert_eq!(learning("Order Completed", &EventFacts::default()), Some(Learn::Purchased));
        assert_eq!(learning("Cart Viewed", &EventFacts::default()), None, "no products listed: cart unknown, keep ours");
        assert_eq!(learning("Promotion Viewed", &p), None);
        let c = EventFacts { category: Some("Kitchen".into()), ..EventFacts::default() };
        assert_eq!(learning("Product List Viewed", &c), Some(Learn::CategoryViewed("Kitchen".into())));
    }

    #[test]
    fn product_views_build_category_interest_like_the_engine() {
        let cat = catalog();
        let mut s = SessionState::default();
        s.learn(&cat, Learn::ProductViewed("A1".into()), 1_000);
        s.learn(&cat, Learn::ProductViewed("B1".into()), 1_000);
        s.learn(&cat, Learn::ProductViewed("A2".into()), 1_000);
        s.learn(&cat, Learn::ProductViewed("NOPE".into()), 1_000);
        let mut engine_side = Interests::default();
        for sku in ["A1", "B1", "A2"] {
            engine_side.record(&cat, Signal::ProductView, cat.index_of(sku), None, 1_000);
        }
        assert_eq!(s.interests(&cat), engine_side);
        assert_eq!(s.interests(&cat).top_categories(), alloc::vec![0, 1], "Candles first");
        assert_eq!(s.products.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["A1", "B1", "A2"]);
    }

    #[test]
    fn cart_follows_adds_removes_and_purchases() {
        let cat = catalog();
        let mut s = SessionState::default();
        s.learn(&cat, Learn::Added("A1".into(), 1), 10);
        s.learn(&cat, Learn::Added("A1".into(), 2), 11);
        s.learn(&cat, Learn::Added("B1".into(), 1), 12);
        assert_eq!(s.cart[..], [Line::new("A1", 3), Line::new("B1", 1)]);
        s.learn(&cat, Learn::Removed("A1".into(), Some(1)), 13);
        assert_eq!(s.cart[0], Line::new("A1", 2));
        s.learn(&cat, Learn::Removed("A1".into(), None), 14);
        assert_eq!(s.cart[..], [Line::new("B1", 1)]);
        s.learn(&cat, Learn::CartReplaced(alloc::vec![("A2".into(), 4), ("A1".into(), 0)]), 15);
        assert_eq!(s.cart[..], [Line::new("A2", 4)]);
        assert_eq!(s.cart_lines(&cat), [CartLine { product: 1, quantity: 4 }]);
        s.learn(&cat, Learn::Purchased, 16);
        assert!(s.purchased && s.cart.is_empty());
    }

    #[test]
    fn the_interests_cookie_round_trips_exactly() {
        let cat = Catalog::new(
            alloc::vec![
                Product { sku: "A 1".into(), category: Some(0), ..Product::default() },
                Product { sku: "Ä2,|:".into(), category: Some(1), ..Product::default() },
            ],
            alloc::vec!["Candles & Lights".into(), "Kitchen".into()],
        );
        let mut s = SessionState::default();
        s.learn(&cat, Learn::ProductViewed("A 1".into()), 1_000);
        s.learn(&cat, Learn::ProductViewed("Ä2,|:".into()), 2_234);
        s.learn(&cat, Learn::CategoryViewed("Kitchen".into()), 3_000);
        let cookie = s.interests_cookie();
        assert!(cookie.bytes().all(|b| b.is_ascii_graphic() && b != b';' && b != b'"' && b != b'\\'), "cookie-safe: {cookie}");
        assert!(cookie.starts_with("3000|Candles%20%26%20Lights:"), "{cookie}");
        let (categories, products, at) = parse_interests_cookie(&cookie).expect("parses");
        assert_eq!((categories, products, at), (s.categories.clone(), s.products.clone(), s.interests_at), "bit-identical weights");
        assert_eq!(parse_interests_cookie("12|a:1"), None, "three parts");
        assert_eq!(parse_interests_cookie("x||"), None);
        assert_eq!(parse_interests_cookie("5||"), Some((alloc::vec![], alloc::vec![], 5)));
    }

    #[test]
    fn builds_the_engine_visitor() {
        let cat = catalog();
        let mut s = SessionState { page_views: 3, new_visitor: true, ..SessionState::default() };
        s.landing.utm_campaign = Some("spring".into());
        s.learn(&cat, Learn::Added("B1".into(), 2), 100);
        let profile = Profile { visitor_id: "v1".into(), ..Profile::default() };
        let page = Page { path: "/".into(), kind: "home".into(), product: None, category: None };
        let v = s.visitor(&profile, &cat, page, Device::Mobile, None);
        assert_eq!(v.visitor_id, "v1");
        assert_eq!(v.cart_value(&cat), 20.0);
        assert_eq!((v.session.page_views, v.session.new_visitor), (3, true));
        assert_eq!(v.request.utm_campaign.as_deref(), Some("spring"));
        assert_eq!(v.interests.top_categories(), [1]);
    }

    #[test]
    fn stored_values_round_trip_exactly_and_damage_starts_fresh() {
        let cat = catalog();
        let mut s = SessionState { page_views: 4, new_visitor: true, ..SessionState::default() };
        s.learn(&cat, Learn::ProductViewed("A1".into()), 5);
        s.learn(&cat, Learn::Added("B1".into(), 2), 4_000);
        s.promised_offer = Some("welcome10".into());
        s.landing.referrer = Some("https://mail.example/inbox\nline".into());
        s.landing.utm_campaign = Some("spring sale".into());
        s.cart.add(Line::new("SKU WITH SPACES", 1));
        let back = SessionState::decode(&s.encode()).expect("decodes");
        assert_eq!(back.landing.referrer.as_deref(), Some("https://mail.example/inbox line"), "line breaks flattened");
        s.landing.referrer = back.landing.referrer.clone();
        assert_eq!(back, s, "weights restore bit for bit");

        let p = Profile { visitor_id: "v".into(), user_id: Some("u 1".into()), traits: Value::Null, consent: Some(false) };
        let text = p.encode(r#"{"segment":"Loyal"}"#);
        assert_eq!(Profile::decode(&text), Some((p, Some(r#"{"segment":"Loyal"}"#))));

        assert_eq!(SessionState::decode(""), None);
        assert_eq!(SessionState::decode("vitrine-session 0\npv 1"), None, "another format version");
        assert_eq!(SessionState::decode("vitrine-session 1\npv many"), None, "damaged");
        assert_eq!(SessionState::decode("vitrine-session 1\nzz future field\npv 2").map(|s| s.page_views), Some(2));
        assert_eq!(Profile::decode("vitrine-profile 1\nu someone"), None, "no visitor id");
    }
}
