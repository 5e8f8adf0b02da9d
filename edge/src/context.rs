//! Request -> visitor context: everything a decision may look at, read from one request.
//!
//! - visitor id: the `vt_vid` cookie, or a fresh id (then `session.new_visitor`);
//! - traits: the signed `vt_profile` cookie (forged or expired ones are dropped and cleared);
//! - country: `request.cf.country` (or, in dev mode only, the `X-Vitrine-Debug-Country` header);
//! - device: the User-Agent; referrer: the Referer header; UTM: the query string;
//! - page type, product, category: the bundle's `[[pages]]` URL patterns;
//! - cart: the `vt_cart` cookie, resolved against the catalog (unknown SKUs dropped);
//! - interests: the session's, from the SDK's `vt_int` cookie (`cookies::INTERESTS`),
//!   plus the product or category this page shows;
//! - recently viewed: the SDK's `vt_seen` cookie (`cookies::SEEN`) with this page's product
//!   first (`cookies::remember_viewed`, as the SDK on this page adds it before it decides).

use std::rc::Rc;

use vitrine_engine::context::{Device, Interests, Request, Session, Signal};
use vitrine_engine::cookies::{parse_cart_cookie, parse_interests_cookie};
use vitrine_engine::{Engine, Value, Visitor};

use crate::cookies::{self, Cookies, SetCookie};
use crate::profile::{self, ProfileClaims};
use crate::query;

/// Dev-mode header standing in for `request.cf.country` (local workerd has no real `cf`).
pub const DEBUG_COUNTRY_HEADER: &str = "X-Vitrine-Debug-Country";
const MAX_REFERRER: usize = 512;
const MAX_UTM: usize = 100;

/// What the glue reads off the request, as plain data.
#[derive(Clone, Debug, Default)]
pub struct RequestFacts<'a> {
    /// The page's URL path (for `/v1/decide`, the `path` parameter).
    pub path: &'a str,
    /// The page's query string, without `?`.
    pub query: &'a str,
    /// The request's cookies, parsed once.
    pub cookies: Cookies<'a>,
    pub user_agent: Option<&'a str>,
    pub referrer: Option<&'a str>,
    /// Already chosen between `cf` and the dev override.
    pub country: Option<&'a str>,
    pub https: bool,
    /// The site asks visitors before keeping cookies (`REQUIRE_CONSENT`).
    pub require_consent: bool,
}

impl RequestFacts<'_> {
    /// Whether the edge may set cookies for this visitor: their `vt_consent` answer (from the
    /// SDK's `vitrine.consent`), else the site's rule. Without it the page is personalized
    /// from this request alone and nothing is remembered.
    pub fn may_store(&self) -> bool {
        cookies::may_store(self.cookies.get(cookies::CONSENT), self.require_consent)
    }
}

/// The request data the context needs, owned (the facts borrow from it). The runtime fills it
/// in from the Workers request; headers only dev mode may use are already dropped outside it.
#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    pub path: String,
    pub query: String,
    pub cookie: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub country: Option<String>,
    pub https: bool,
    pub require_consent: bool,
    /// What the dev-mode bypass header asks for (always `No` outside dev mode).
    pub bypass: crate::routes::Bypass,
    /// `scheme://host[:port]` the visitor used.
    pub public_base: String,
}

impl RequestInfo {
    /// The facts for a page at `path?query` (the request's own page, or `/v1/decide?path=`).
    pub fn facts<'a>(&'a self, path: &'a str, query: &'a str) -> RequestFacts<'a> {
        RequestFacts {
            path,
            query,
            cookies: Cookies::parse(self.cookie.as_deref()),
            user_agent: self.user_agent.as_deref(),
            referrer: self.referrer.as_deref(),
            country: self.country.as_deref(),
            https: self.https,
            require_consent: self.require_consent,
        }
    }
}

/// Who is asking, from the cookies; the cookies to set or clear in the response.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub visitor_id: String,
    /// No (valid) visitor cookie came with the request.
    pub new_visitor: bool,
    /// Shared with the isolate's memory of verified cookies ([`profile::read_remembered`]).
    pub claims: Option<Rc<ProfileClaims>>,
    pub set_cookies: Vec<SetCookie>,
    /// The visitor allows cookies ([`RequestFacts::may_store`]).
    pub may_store: bool,
    /// Why a cookie was dropped, for the log.
    pub problem: Option<String>,
}

impl Identity {
    /// Adds a cookie to the response, unless it would set one the visitor did not allow.
    pub fn set_cookie(&mut self, c: SetCookie) {
        if c.allowed(self.may_store) {
            self.set_cookies.push(c);
        }
    }
}

/// Reads the visitor and profile cookies. `secret`: the profile signing key (none: profiles
/// are off). `fresh_id` makes a new visitor id when needed.
pub fn identify(facts: &RequestFacts, secret: Option<&[u8]>, fresh_id: impl FnOnce() -> String) -> Identity {
    let jar = &facts.cookies;
    let mut id = Identity { may_store: facts.may_store(), ..Identity::default() };
    match jar.get(cookies::VISITOR).filter(|v| cookies::is_valid_visitor_id(v)) {
        Some(v) => id.visitor_id = v.to_string(),
        None => {
            id.visitor_id = fresh_id();
            id.new_visitor = true;
            id.set_cookie(SetCookie::new(cookies::VISITOR, id.visitor_id.clone(), cookies::ONE_YEAR, facts.https));
        }
    }
    if let (Some(token), Some(secret)) = (jar.get(cookies::PROFILE), secret) {
        match profile::read_remembered(secret, token) {
            Ok(claims) => id.claims = Some(claims),
            Err(e) => {
                id.problem = Some(e.to_string());
                id.set_cookie(SetCookie::delete(cookies::PROFILE, facts.https));
            }
        }
    }
    id
}

/// A two-letter country code, upper case; `XX` (unknown) and junk are none.
pub fn normalize_country(raw: Option<&str>) -> Option<String> {
    let c = raw?.trim();
    (c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphanumeric()) && !c.eq_ignore_ascii_case("xx")).then(|| c.to_ascii_uppercase())
}

fn bounded(s: &str, max: usize) -> String {
    vitrine_engine::truncate(s, max).to_string()
}

/// The recently viewed list after this page: the `vt_seen` cookie's, this page's product first
/// (as the SDK on this page adds it before it decides, and as the edge writes it back on a
/// product page: `seen_cookie`).
pub fn seen_after(engine: &Engine, facts: &RequestFacts) -> String {
    let catalog = &engine.body().catalog;
    let page_sku = engine.page(facts.path).product.and_then(|p| catalog.get(p)).map(|p| p.sku()).unwrap_or_default();
    vitrine_engine::cookies::remember_viewed(facts.cookies.get(cookies::SEEN).unwrap_or_default(), page_sku)
}

/// On a product page, the `vt_seen` cookie with that product first, when it changes the list:
/// the next page knows what was viewed even where the SDK did not run (no JavaScript, a bot
/// that keeps cookies, the SDK blocked). The SDK writes the same list by the same rule.
pub fn seen_cookie(engine: &Engine, facts: &RequestFacts) -> Option<SetCookie> {
    engine.page(facts.path).product?;
    let seen = seen_after(engine, facts);
    (facts.cookies.get(cookies::SEEN) != Some(seen.as_str())).then(|| SetCookie::new(cookies::SEEN, seen, cookies::ONE_YEAR, facts.https))
}

/// The engine's visitor for this request at `now` (unix seconds).
pub fn visitor(engine: &Engine, facts: &RequestFacts, id: &Identity, now: i64) -> Visitor {
    let catalog = &engine.body().catalog;
    let page = engine.page(facts.path);
    let utm = |name: &str| query::get(facts.query, name).filter(|v| !v.is_empty()).map(|v| bounded(&v, MAX_UTM));

    let jar = &facts.cookies;
    let cart = jar.get(cookies::CART).map(parse_cart_cookie).unwrap_or_default().resolve(catalog);

    // What the SDK learned this session (none before it ran: the first page, or no SDK).
    let mut interests = jar
        .get(cookies::INTERESTS)
        .and_then(parse_interests_cookie)
        .map(|(categories, products, at)| Interests::from_names(catalog, &categories, &products, at.min(now)))
        .unwrap_or_default();
    if page.product.is_some() {
        interests.record(catalog, Signal::ProductView, page.product, None, now);
    } else if page.category.is_some() {
        interests.record(catalog, Signal::CategoryView, None, page.category, now);
    }

    let recently_viewed = vitrine_engine::cookies::recently_viewed(catalog, &seen_after(engine, facts));

    let traits = match id.claims.as_ref().map(|c| &c.traits) {
        Some(t @ Value::Object(m)) if !m.is_empty() => t.clone(),
        _ => Value::Null,
    };

    Visitor {
        visitor_id: id.visitor_id.clone(),
        traits,
        request: Request {
            country: normalize_country(facts.country),
            device: Device::from_user_agent(facts.user_agent.unwrap_or("")),
            referrer: facts.referrer.filter(|r| !r.is_empty()).map(|r| bounded(r, MAX_REFERRER)),
            utm_source: utm("utm_source"),
            utm_medium: utm("utm_medium"),
            utm_campaign: utm("utm_campaign"),
            page,
        },
        cart,
        interests,
        recently_viewed,
        session: Session { page_views: 0, purchased: false, new_visitor: id.new_visitor },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{issue, ProfileClaims};

    fn facts(cookie: Option<&'static str>) -> RequestFacts<'static> {
        RequestFacts { path: "/", cookies: Cookies::parse(cookie), ..RequestFacts::default() }
    }

    #[test]
    fn a_new_visitor_gets_an_id_cookie() {
        let id = identify(&facts(None), Some(b"k"), || "fresh-id-123".into());
        assert!(id.new_visitor);
        assert_eq!(id.visitor_id, "fresh-id-123");
        assert_eq!(id.set_cookies[0].to_string(), "vt_vid=fresh-id-123; Path=/; Max-Age=31536000; SameSite=Lax");
    }

    #[test]
    fn a_returning_visitor_keeps_theirs_and_a_forged_profile_is_cleared() {
        let mut traits = Value::object();
        traits.set("segment", "Champions");
        let good = issue(&ProfileClaims { cid: "1".into(), traits, iat: 5 }, b"k");
        let header: &'static str = Box::leak(format!("vt_vid=returning-1; vt_profile={good}").into_boxed_str());
        let id = identify(&facts(Some(header)), Some(b"k"), || unreachable!());
        assert!(!id.new_visitor && id.set_cookies.is_empty() && id.problem.is_none());
        assert_eq!(id.claims.unwrap().traits.path("segment").and_then(Value::as_str), Some("Champions"));

        let forged = format!("vt_vid=returning-1; vt_profile={}x", &good[..good.len() - 1]);
        let header: &'static str = Box::leak(forged.into_boxed_str());
        let id = identify(&facts(Some(header)), Some(b"k"), || unreachable!());
        assert!(id.claims.is_none());
        assert!(id.problem.as_deref().unwrap().starts_with("profile cookie refused"));
        assert_eq!(id.set_cookies, vec![SetCookie::delete(cookies::PROFILE, false)]);
    }

    #[test]
    fn without_consent_where_the_site_requires_it_no_cookie_is_set() {
        let required = |cookie| RequestFacts { require_consent: true, ..facts(cookie) };
        let id = identify(&required(None), Some(b"k"), || "fresh-id-123".into());
        assert!(id.new_visitor && id.set_cookies.is_empty(), "an id for this request only: {:?}", id.set_cookies);
        let id = identify(&required(Some("vt_consent=1")), Some(b"k"), || "fresh-id-123".into());
        assert_eq!(id.set_cookies.len(), 1, "consented: remembered");
        // A refusal counts where consent is not required too; clearing a cookie always may.
        let mut id = identify(&facts(Some("vt_consent=0; vt_profile=forged")), Some(b"k"), || "fresh-id-123".into());
        assert_eq!(id.set_cookies, vec![SetCookie::delete(cookies::PROFILE, false)]);
        id.set_cookie(SetCookie::new(cookies::OFFER, "o", 60, false));
        assert_eq!(id.set_cookies.len(), 1);
    }

    #[test]
    fn without_a_secret_profiles_are_ignored_not_errors() {
        let id = identify(&facts(Some("vt_vid=returning-1; vt_profile=abc.def")), None, || unreachable!());
        assert!(id.claims.is_none() && id.problem.is_none());
    }

    #[test]
    fn countries() {
        assert_eq!(normalize_country(Some("de")).as_deref(), Some("DE"));
        assert_eq!(normalize_country(Some("XX")), None);
        assert_eq!(normalize_country(Some("<b>")), None);
        assert_eq!(normalize_country(None), None);
    }

    #[test]
    fn bounded_cuts_on_char_boundaries() {
        assert_eq!(bounded("ééé", 3), "é");
    }
}
