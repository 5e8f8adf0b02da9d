//! Reading the visitor off a worker request: facts, cookies, stored profiles (KV `PROFILES`).

use std::rc::Rc;

use vitrine_edge::config::Config;
use vitrine_edge::context::{self, Identity, RequestFacts, RequestInfo, DEBUG_COUNTRY_HEADER};
use vitrine_edge::cookies::{self, SetCookie};
use vitrine_edge::kv::{erased_key, profile_key, PROFILES};
use vitrine_edge::profile::{self, cookie_traits, ProfileClaims};
use vitrine_edge::profile_line::ProfileLine;
use vitrine_edge::routes::{Bypass, BYPASS_HEADER};
use vitrine_engine::Value;
use worker::{console_warn, Env, Request, Result, Url};

use crate::env::{fresh_visitor_id, now_secs};

/// The request headers a page's context reads, in the order [`info_of`] takes their values
/// (the entry's hot path reads them by these names: `entry::Edge::request_headers`).
pub const REQUEST_HEADERS: [&str; 5] = ["cookie", "user-agent", "referer", DEBUG_COUNTRY_HEADER, BYPASS_HEADER];

/// The request data the context needs; dev-only headers count only in dev mode.
pub fn request_info(req: &Request, config: &Config) -> Result<RequestInfo> {
    let headers = req.headers();
    Ok(info_of(UrlParts::of(&req.url()?), REQUEST_HEADERS.map(|name| headers.get(name).ok().flatten()), || req.cf().and_then(|cf| cf.country()), config))
}

/// What the context reads of the request's URL, once parsed: here by the url crate, on the
/// entry's hot path by the runtime's own `URL` (both WHATWG URL parsers), which the entry parsed
/// for the origin request already; the runtime's parser is native code, so the hot path does not
/// parse the URL again in wasm (measured: no difference within the bench's spread,
/// BENCHMARKS.md "A page load decided while the origin answers").
pub struct UrlParts {
    pub path: String,
    /// Without its `?`.
    pub query: String,
    /// `scheme://host[:port]`.
    pub origin: String,
    pub https: bool,
}

impl UrlParts {
    pub fn of(url: &Url) -> UrlParts {
        UrlParts {
            path: url.path().to_string(),
            query: url.query().unwrap_or("").to_string(),
            origin: url.origin().ascii_serialization(),
            https: url.scheme() == "https",
        }
    }

    /// From the runtime's `URL`: its `pathname`, `search` (`?` and the query, or empty) and
    /// `origin`.
    pub fn of_runtime(pathname: String, search: &str, origin: String) -> UrlParts {
        UrlParts { path: pathname, query: search.strip_prefix('?').unwrap_or(search).to_string(), https: origin.starts_with("https:"), origin }
    }
}

/// [`request_info`] from plain values: `headers` as named by [`REQUEST_HEADERS`];
/// `cf_country`: `request.cf.country`.
pub fn info_of(url: UrlParts, headers: [Option<String>; 5], cf_country: impl FnOnce() -> Option<String>, config: &Config) -> RequestInfo {
    let [cookie, user_agent, referrer, debug_country, bypass] = headers;
    let debug_country = debug_country.filter(|_| config.dev_mode);
    RequestInfo {
        path: url.path,
        query: url.query,
        cookie,
        user_agent,
        referrer,
        country: debug_country.or_else(cf_country),
        https: url.https,
        require_consent: config.require_consent,
        bypass: Bypass::parse(bypass.filter(|_| config.dev_mode).as_deref()),
        public_base: url.origin,
    }
}

/// [`identify`] when it needs no KV read at `now` (unix seconds): `None` when the profile cookie
/// is due for its refresh.
pub fn identify_now(config: &Config, facts: &RequestFacts<'_>, now: i64) -> Option<Identity> {
    let id = context::identify(facts, config.profile_secret.as_deref(), fresh_visitor_id);
    if due_for_refresh(config, &id, now).is_some() {
        return None;
    }
    if let Some(problem) = &id.problem {
        console_warn!("vitrine: {problem}");
    }
    Some(id)
}

/// Who is asking; a known customer's traits are re-read from KV once their cookie is stale.
pub async fn identify(env: &Env, config: &Config, facts: &RequestFacts<'_>) -> Identity {
    let mut id = context::identify(facts, config.profile_secret.as_deref(), fresh_visitor_id);
    if let Some(problem) = &id.problem {
        console_warn!("vitrine: {problem}");
    }
    let now = now_secs();
    let Some((claims, secret)) = due_for_refresh(config, &id, now) else { return id };
    if is_erased(env, &claims.cid).await {
        // Erased by a privacy request: this old cookie personalizes no more.
        id.claims = None;
        id.set_cookie(SetCookie::delete(cookies::PROFILE, facts.https));
        return id;
    }
    if let Some(mut traits) = stored_traits(env, &claims.cid).await {
        // The export has no names: a demo name given by the picker survives the refresh.
        if let (Some(name), None) = (claims.traits.path("first_name").cloned(), traits.path("first_name")) {
            traits.set("first_name", name);
        }
        let fresh = ProfileClaims { cid: claims.cid.clone(), traits: cookie_traits(traits), iat: now };
        id.set_cookie(SetCookie::new(cookies::PROFILE, profile::issue(&fresh, secret), cookies::THIRTY_DAYS, facts.https));
        id.claims = Some(Rc::new(fresh));
    }
    id
}

/// A known customer's signed claims and the secret to re-sign them, when their cookie is due for
/// its refresh from KV (the one rule [`identify`] carries out and [`identify_now`] defers to it).
fn due_for_refresh<'a>(config: &'a Config, id: &'a Identity, now: i64) -> Option<(&'a ProfileClaims, &'a [u8])> {
    let (Some(claims), Some(secret)) = (&id.claims, &config.profile_secret) else { return None };
    profile::is_stale(claims, now).then_some((claims, secret.as_slice()))
}

/// Whether a privacy request erased this customer (KV `erased:<id>`). Read only when a profile
/// cookie is due for its refresh, beside the profile itself, and before an order re-scores a
/// profile.
pub async fn is_erased(env: &Env, customer_id: &str) -> bool {
    let (Some(key), Ok(kv)) = (erased_key(customer_id), env.kv(PROFILES)) else { return false };
    matches!(kv.get(&key).text().await, Ok(Some(_)))
}

/// A known customer's private profile from KV `profile:<customer id>`.
pub async fn stored_profile(env: &Env, customer_id: &str) -> Option<ProfileLine> {
    let key = profile_key(customer_id)?;
    let kv = env.kv(PROFILES).ok()?; // no profile store bound: nothing is known
    let json = kv.get(&key).text().await.unwrap_or_else(|e| {
        console_warn!("vitrine: reading {PROFILES}/{key} failed: {e}");
        None
    })?;
    ProfileLine::parse(&json).map_err(|e| console_warn!("vitrine: {PROFILES}/{key}: {e}")).ok()
}

/// A known customer's traits from KV `profile:<customer id>`.
pub async fn stored_traits(env: &Env, customer_id: &str) -> Option<Value> {
    stored_profile(env, customer_id).await.map(|p| p.traits)
}
