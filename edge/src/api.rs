//! The worker's own endpoints as pure functions: parse the query, decide, answer JSON. Errors
//! are JSON too (`{"error": "…"}`) with a status that says whose fault it was.
//!
//! ```text
//! GET /v1/decide?placement=ID[&path=/page/path][&explain=1][&now=UNIX (dev mode)]
//! GET /v1/exit-offer[?path=…][&explain=1][&now=…]         -> 200 offer | 204 none
//! GET /v1/bundle                  the serving bundle (short cache, ETag = version)
//! GET /v1/bundle/<version>        one version (immutable)
//! GET /v1/slice[?path=…][&now=…]   the bundle cut for this visitor on that page (`Engine::slice`;
//!                                  private, not cached): what the browser SDK downloads
//! GET /v1/health                  the worker's version, the serving bundle, refused versions
//! ```

use serde::Serialize;
use serde_json::{json, Value as Json};
use vitrine_engine::DecideError;
use vitrine_engine::{Engine, Visitor};

use crate::query;

const MAX_PLACEMENT: usize = 128;
const MAX_PATH: usize = 2048;

/// A response body with its status; headers are the caller's (JSON, no caching).
#[derive(Debug, PartialEq)]
pub struct JsonReply {
    pub status: u16,
    pub body: String,
}

impl JsonReply {
    pub fn ok(value: &impl Serialize) -> JsonReply {
        JsonReply { status: 200, body: serde_json::to_string(value).unwrap_or_else(|e| error_body(&e.to_string())) }
    }

    pub fn error(status: u16, message: impl AsRef<str>) -> JsonReply {
        JsonReply { status, body: error_body(message.as_ref()) }
    }

    pub fn error_with(status: u16, message: &str, extra: Json) -> JsonReply {
        let mut body = json!({ "error": message });
        if let (Some(b), Json::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        JsonReply { status, body: body.to_string() }
    }
}

fn error_body(message: &str) -> String {
    json!({ "error": message }).to_string()
}

/// What a decide or exit-offer call asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecideQuery {
    pub placement: String,
    /// The page the decision is for (its type, product, category come from the URL patterns).
    pub path: String,
    /// The page's own query string (UTM parameters), from `path`.
    pub page_query: String,
    pub explain: bool,
    /// A fixed clock (dev mode only): makes decisions reproducible in tests.
    pub now: Option<i64>,
}

pub fn parse_decide_query(raw: &str, need_placement: bool, dev_mode: bool) -> Result<DecideQuery, JsonReply> {
    let placement = query::get(raw, "placement").unwrap_or_default();
    if need_placement && placement.is_empty() {
        return Err(JsonReply::error(400, "missing ?placement=<id>"));
    }
    if placement.len() > MAX_PLACEMENT {
        return Err(JsonReply::error(400, "placement id too long"));
    }
    let full_path = query::get(raw, "path").filter(|p| !p.is_empty()).unwrap_or_else(|| "/".into());
    if full_path.len() > MAX_PATH || !full_path.starts_with('/') {
        return Err(JsonReply::error(400, "path must be a URL path starting with / (at most 2048 bytes)"));
    }
    let (path, page_query) = match full_path.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (full_path, String::new()),
    };
    let explain = matches!(query::get(raw, "explain").as_deref(), Some("1" | "true" | ""));
    let now = match query::get(raw, "now") {
        None => None,
        Some(_) if !dev_mode => return Err(JsonReply::error(400, "now= is only accepted in dev mode (DEV_MODE=1)")),
        Some(n) => Some(n.parse::<i64>().map_err(|_| JsonReply::error(400, "now must be unix seconds"))?),
    };
    Ok(DecideQuery { placement, path, page_query, explain, now })
}

/// `/v1/decide`: the decision as JSON; `explain` (and the context used) only when asked.
pub fn decide(engine: &Engine, version: &str, visitor: &Visitor, q: &DecideQuery, now: i64) -> JsonReply {
    match engine.decide(visitor, &q.placement, now) {
        Ok(d) => {
            let mut body = serde_json::to_value(&d).unwrap_or(Json::Null);
            if let Some(obj) = body.as_object_mut() {
                if q.explain {
                    obj.insert("bundle".into(), json!(version));
                    obj.insert("now".into(), json!(now));
                    obj.insert("context".into(), serde_json::to_value(visitor).unwrap_or(Json::Null));
                } else {
                    obj.remove("explain");
                }
            }
            JsonReply::ok(&body)
        }
        Err(DecideError::UnknownPlacement(p)) => {
            let known: Vec<&str> = engine.body().rules.placements.iter().map(|p| p.id.as_str()).collect();
            JsonReply::error_with(404, &format!("unknown placement {p:?}"), json!({ "placements": known }))
        }
    }
}

/// `/v1/exit-offer`: the offer this visitor would get on exit intent; `None` means 204.
pub fn exit_offer(engine: &Engine, visitor: &Visitor, q: &DecideQuery, now: i64) -> Option<JsonReply> {
    exit_offer_with_code(engine, visitor, q, now, None)
}

/// [`exit_offer`] showing `code`, the unique code the edge issued this visitor for it
/// (`codes::exit_offer_code`).
pub fn exit_offer_with_code(engine: &Engine, visitor: &Visitor, q: &DecideQuery, now: i64, code: Option<&str>) -> Option<JsonReply> {
    let mut offer = engine.exit_offer(visitor, now)?;
    if let Some(code) = code {
        offer = crate::codes::with_code(engine, visitor, offer, code);
    }
    let mut body = serde_json::to_value(&offer).unwrap_or(Json::Null);
    if !q.explain {
        if let Some(obj) = body.as_object_mut() {
            obj.remove("explain");
        }
    }
    Some(JsonReply::ok(&body))
}

/// How long a response may be cached, by what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    /// Content-addressed or versioned URL: never changes.
    Immutable,
    /// A stable URL whose content changes on publish: revalidate with the ETag.
    Revalidate { max_age: u32 },
    /// Personalized: this visitor only.
    Private,
}

impl CachePolicy {
    pub fn header(self) -> String {
        match self {
            CachePolicy::Immutable => "public, max-age=31536000, immutable".into(),
            CachePolicy::Revalidate { max_age } => format!("public, max-age={max_age}, must-revalidate"),
            CachePolicy::Private => "private, no-cache".into(),
        }
    }
}

/// Where the SDK's files are served from (the `[assets]` folder mirrors these URLs).
pub const SDK_PREFIX: &str = "/vitrine/sdk/";

/// The SDK's versioned files are `vitrine-<hash>.wasm` (scripts/build-sdk.sh; `.js` too, for older builds); the loader
/// `vitrine.js` and the types keep their names and are revalidated.
pub fn asset_cache_policy(path: &str) -> CachePolicy {
    let file = path.rsplit('/').next().unwrap_or("");
    let hashed = file
        .strip_prefix("vitrine-")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(hash, ext)| hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(ext, "js" | "wasm"));
    if hashed {
        CachePolicy::Immutable
    } else {
        CachePolicy::Revalidate { max_age: 300 }
    }
}

/// `/v1/bundle` is revalidated every minute (publishing takes effect quickly); a versioned URL
/// is immutable.
pub const BUNDLE_MAX_AGE: u32 = 60;
pub const BUNDLE_CONTENT_TYPE: &str = "application/vnd.vitrine.bundle";

pub fn etag(version: &str) -> String {
    format!("\"{version}\"")
}

/// Whether an `If-None-Match` header names this ETag (weak or strong, or `*`).
pub fn etag_matches(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(h) = if_none_match else { return false };
    h.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// `/v1/slice`: the serving bundle cut for `visitor` (the page is the query's `path`), as
/// bundle bytes under the bundle's own header: decisions for this visitor from it equal the
/// bundle's, whatever the catalog's size.
pub fn slice(engine: &Engine, visitor: &Visitor, now: i64) -> Vec<u8> {
    slice_with_codes(engine, visitor, now, &[])
}

/// [`slice`] with the visitor's unique codes (`(offer id, code)`: their exit offer's, a deep
/// link's) put into those offers, so the SDK shows them (`codes::slice_with_code`).
pub fn slice_with_codes(engine: &Engine, visitor: &Visitor, now: i64, codes: &[(String, String)]) -> Vec<u8> {
    use vitrine_engine::bundle::{encode, Header, FORMAT_VERSION};
    let mut body = engine.slice(visitor, now);
    for (offer, code) in codes {
        crate::codes::slice_with_code(&mut body, offer, code);
    }
    // Written in the current layout whatever the serving bundle's (the previous one is read too).
    encode(&Header { format_version: FORMAT_VERSION, ..engine.header().clone() }, &body)
}

/// `/v1/bundle[/<version>]`: which version a path asks for (`None`: the current one).
pub fn bundle_path_version(path: &str) -> Option<Option<&str>> {
    let rest = path.strip_prefix("/v1/bundle")?;
    match rest {
        "" | "/" => Some(None),
        _ => rest.strip_prefix('/').filter(|v| crate::bundles::is_valid_version(v)).map(Some),
    }
}

/// A redirect from the origin to its own address (`http://origin.internal/a`) points the
/// visitor back through the worker (`https://shop.example/a`); other locations are left alone.
pub fn public_location(location: &str, origin_url: &str, public_base: &str) -> Option<String> {
    let origin_url = origin_url.trim_end_matches('/');
    let rest = location.strip_prefix(origin_url)?;
    (rest.is_empty() || rest.starts_with(['/', '?', '#'])).then(|| format!("{}{rest}", public_base.trim_end_matches('/')))
}

/// CORS for the JSON API (`/v1/decide`, `/v1/exit-offer`). Any page may read decisions
/// without the visitor's cookies (`*`: anonymous, or context given in the query); origins
/// listed in `CORS_ORIGINS` (a headless storefront on its own domain) may also send them, so
/// the decision is for that visitor.
pub fn api_cors_headers(origin: Option<&str>, allowed: &[String]) -> Vec<(&'static str, String)> {
    let mut h = vec![("vary", "Origin".to_string())];
    match origin.filter(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o))) {
        Some(o) => {
            h.push(("access-control-allow-origin", o.to_string()));
            h.push(("access-control-allow-credentials", "true".to_string()));
        }
        None => h.push(("access-control-allow-origin", "*".to_string())),
    }
    h.push(("access-control-allow-methods", "GET, OPTIONS".to_string()));
    h
}

/// `CORS_ORIGINS`: comma- or space-separated origins (`https://shop.example`), no paths.
pub fn parse_cors_origins(raw: &str) -> Vec<String> {
    raw.split([',', ' ']).map(|o| o.trim().trim_end_matches('/')).filter(|o| !o.is_empty()).map(str::to_string).collect()
}

/// What a personalized page's headers become, as edits on a copy of the origin's (a few calls
/// into the runtime instead of one per header): the length and validators go, as they change
/// with the content, and no shared cache may keep one visitor's page for another.
/// `origin_vary`: the origin's `Vary` (the runtime joins repeated headers).
pub struct HeaderEdits {
    pub remove: &'static [&'static str],
    pub set: Vec<(&'static str, String)>,
}

pub fn personalized_header_edits(origin_vary: Option<&str>) -> HeaderEdits {
    let vary = origin_vary.map(str::trim).filter(|v| !v.is_empty());
    let vary = match vary {
        None => "Cookie".to_string(),
        Some(v) if v.to_ascii_lowercase().contains("cookie") => v.to_string(),
        Some(v) => format!("{v}, Cookie"),
    };
    HeaderEdits { remove: &["content-length", "etag", "last-modified", "age"], set: vec![("cache-control", CachePolicy::Private.header()), ("vary", vary)] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_cors_allows_listed_origins_with_cookies_and_others_without() {
        let allowed = parse_cors_origins(" https://shop.example/, https://b.example ");
        assert_eq!(allowed, ["https://shop.example", "https://b.example"]);
        let listed = api_cors_headers(Some("https://shop.example"), &allowed);
        assert!(listed.contains(&("access-control-allow-origin", "https://shop.example".into())));
        assert!(listed.contains(&("access-control-allow-credentials", "true".into())));
        for origin in [Some("https://evil.example"), None] {
            let h = api_cors_headers(origin, &allowed);
            assert!(h.contains(&("access-control-allow-origin", "*".into())), "{origin:?}");
            assert!(!h.iter().any(|(k, _)| *k == "access-control-allow-credentials"), "never credentials with *");
        }
        assert!(api_cors_headers(None, &[]).contains(&("vary", "Origin".into())));
    }

    #[test]
    fn a_slice_of_a_previous_format_bundle_is_in_the_current_format() {
        // The SDK reads the current format only: a worker serving a previous-format bundle still hands it
        // one it can read, with the bundle's id and date.
        let old = Engine::load(include_bytes!("../../engine/tests/golden/bundle-v9.bin")).unwrap();
        assert_eq!(old.header().format_version, vitrine_engine::bundle::PREVIOUS_FORMAT_VERSION);
        let bytes = slice(&old, &Visitor::default(), 0);
        let header = vitrine_engine::bundle::decode_header(&bytes).unwrap();
        assert_eq!(header.format_version, vitrine_engine::bundle::FORMAT_VERSION);
        assert_eq!((header.build_id, header.created_at), (old.header().build_id, old.header().created_at));
        // Its rules are the old bundle's as the browser decides them (an edge-only placement
        // blends the edge's decision: `slice.rs`).
        let sliced = Engine::load(&bytes).unwrap();
        let (a, b) = (&sliced.body().rules, &old.body().rules);
        assert_eq!((&a.segments, &a.offers, &a.experiments, &a.journeys), (&b.segments, &b.offers, &b.experiments, &b.journeys));
        assert_eq!(a.placements.iter().map(|p| &p.id).collect::<Vec<_>>(), b.placements.iter().map(|p| &p.id).collect::<Vec<_>>());
    }

    /// One product, one placement with sources, one offer: every part of the JSON shape.
    fn tiny_engine() -> Engine {
        crate::test_bundle::engine(json!({
            "placements": [{ "id": "for-you", "sources": [{ "recommender": "popular" }] }],
            "offers": [{ "id": "welcome", "scenario": "welcome", "kind": "percent_off", "value": 10, "headline": "10% off", "cta_text": "Shop", "cta_url": "/" }],
        }))
    }

    fn keys(v: &Json) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
        k.sort();
        k
    }

    fn sorted<const N: usize>(mut fields: [&'static str; N]) -> Vec<&'static str> {
        fields.sort();
        fields.to_vec()
    }

    #[test]
    fn decide_and_exit_offer_answer_the_engines_json_shape() {
        use vitrine_engine::{DecidedItem, Decision, Explain, OfferDecision, SourceUse};
        let (e, v) = (tiny_engine(), Visitor::default());
        let q = |raw: &str| parse_decide_query(raw, false, false).unwrap();
        let d: Json = serde_json::from_str(&decide(&e, "1", &v, &q("placement=for-you&explain=1"), 0).body).unwrap();
        assert_eq!(d["status"], "filled");
        let mut explained = Decision::FIELDS.to_vec();
        explained.extend(["bundle", "context", "now"]);
        explained.sort();
        assert_eq!(keys(&d), explained, "the explained answer adds these");
        assert_eq!(keys(&d["items"][0]), sorted(DecidedItem::FIELDS));
        let mut explain_fields = [Explain::FIELDS.as_slice(), Explain::SERVER_FIELDS.as_slice()].concat();
        explain_fields.sort();
        assert_eq!(keys(&d["explain"]), explain_fields, "every host's, and the edge's own");
        assert_eq!(keys(&d["explain"]["sources"][0]), sorted(SourceUse::FIELDS));
        let plain: Json = serde_json::from_str(&decide(&e, "1", &v, &q("placement=for-you"), 0).body).unwrap();
        assert_eq!(keys(&plain), sorted(Decision::FIELDS).into_iter().filter(|f| *f != "explain").collect::<Vec<_>>());
        let o: Json = serde_json::from_str(&exit_offer(&e, &v, &q("explain=1"), 0).unwrap().body).unwrap();
        assert_eq!(keys(&o), sorted(OfferDecision::FIELDS));
        assert_eq!((o["ctaText"].as_str(), o["ctaUrl"].as_str()), (Some("Shop"), Some("/")));
    }

    #[test]
    fn decide_queries() {
        let q = parse_decide_query("placement=hero&path=%2Fproducts%2F85123A%3Futm_source%3Dmail&explain=1", true, false).unwrap();
        assert_eq!(
            (q.placement.as_str(), q.path.as_str(), q.page_query.as_str(), q.explain, q.now),
            ("hero", "/products/85123A", "utm_source=mail", true, None)
        );
        assert_eq!(parse_decide_query("", true, false).unwrap_err().status, 400);
        assert_eq!(parse_decide_query("placement=hero&path=http://evil", true, false).unwrap_err().status, 400);
        assert_eq!(parse_decide_query(&format!("placement={}", "x".repeat(200)), true, false).unwrap_err().status, 400);
        let e = parse_decide_query("placement=hero&now=5", true, false).unwrap_err();
        assert!(e.body.contains("dev mode"), "{}", e.body);
        assert_eq!(parse_decide_query("placement=hero&now=5", true, true).unwrap().now, Some(5));
        assert_eq!(parse_decide_query("placement=hero&now=soon", true, true).unwrap_err().status, 400);
        assert_eq!(parse_decide_query("", false, false).unwrap().path, "/");
    }

    #[test]
    fn error_bodies_are_json() {
        let r = JsonReply::error_with(404, "unknown placement \"x\"", json!({ "placements": ["hero"] }));
        let v: Json = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v, json!({ "error": "unknown placement \"x\"", "placements": ["hero"] }));
    }

    #[test]
    fn caching() {
        assert_eq!(asset_cache_policy("/vitrine/sdk/vitrine-0a1b2c3d4e5f.wasm"), CachePolicy::Immutable);
        assert_eq!(asset_cache_policy("/vitrine/sdk/vitrine-0a1b2c3d4e5f.js"), CachePolicy::Immutable);
        assert_eq!(asset_cache_policy("/vitrine/sdk/vitrine.js"), CachePolicy::Revalidate { max_age: 300 });
        assert_eq!(asset_cache_policy("/vitrine/sdk/vitrine-latest.js"), CachePolicy::Revalidate { max_age: 300 });
        assert!(etag_matches(Some("W/\"abc\", \"def\""), "\"abc\""));
        assert!(etag_matches(Some("*"), "\"abc\""));
        assert!(!etag_matches(Some("\"abcd\""), "\"abc\""));
        assert!(!etag_matches(None, "\"abc\""));
    }

    #[test]
    fn bundle_paths() {
        assert_eq!(bundle_path_version("/v1/bundle"), Some(None));
        assert_eq!(bundle_path_version("/v1/bundle/0a1b"), Some(Some("0a1b")));
        assert_eq!(bundle_path_version("/v1/bundle/../../x"), None);
        assert_eq!(bundle_path_version("/v1/bundles"), None);
    }

    #[test]
    fn origin_redirects_point_back_through_the_worker() {
        let o = "http://127.0.0.1:8788";
        assert_eq!(public_location("http://127.0.0.1:8788/cart?x=1", o, "https://shop.example").as_deref(), Some("https://shop.example/cart?x=1"));
        assert_eq!(public_location("http://127.0.0.1:8788", o, "https://shop.example/").as_deref(), Some("https://shop.example"));
        assert_eq!(public_location("http://127.0.0.1:87889/x", o, "https://shop.example"), None);
        assert_eq!(public_location("/relative", o, "https://shop.example"), None);
        assert_eq!(public_location("https://elsewhere.example/", o, "https://shop.example"), None);
    }

    #[test]
    fn personalized_pages_are_private() {
        let e = personalized_header_edits(Some("Accept-Encoding"));
        for gone in ["content-length", "etag", "last-modified", "age"] {
            assert!(e.remove.contains(&gone), "{gone}");
        }
        assert!(e.set.contains(&("cache-control", "private, no-cache".into())));
        assert!(e.set.contains(&("vary", "Accept-Encoding, Cookie".into())));
        assert!(personalized_header_edits(None).set.contains(&("vary", "Cookie".into())));
        assert!(personalized_header_edits(Some("cookie, Accept")).set.contains(&("vary", "cookie, Accept".into())));
    }
}
