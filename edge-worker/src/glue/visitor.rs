//! Reading the visitor off a worker request: facts, cookies, stored profiles.

use vitrine_engine::Value;
use worker::wasm_bindgen::prelude::*;
use worker::{console_warn, Env, Request, Result};

use super::config::{now_secs, Config};
use crate::context::{self, Identity, RequestFacts, DEBUG_COUNTRY_HEADER};
use crate::cookies::{self, SetCookie};
use crate::profile::{cookie_traits, profile_key, traits_from_profile_json, ProfileClaims};

/// KV namespace of the private profiles (`profile:<customer id>`, `persona:<slug>`).
pub const PROFILES: &str = "PROFILES";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    fn random_uuid() -> String;
}

pub fn fresh_visitor_id() -> String {
    random_uuid()
}

/// The request data the context needs, owned (the facts borrow from it).
pub struct RequestInfo {
    pub path: String,
    pub query: String,
    pub cookie: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub country: Option<String>,
    pub https: bool,
    /// What the dev-mode bypass header asks for (always `No` outside dev mode).
    pub bypass: super::page::Bypass,
    /// `scheme://host[:port]` the visitor used.
    pub public_base: String,
}

impl RequestInfo {
    pub fn read(req: &Request, config: &Config) -> Result<RequestInfo> {
        let url = req.url()?;
        let headers = req.headers();
        let header = |name: &str| headers.get(name).ok().flatten();
        let debug_country = if config.dev_mode { header(DEBUG_COUNTRY_HEADER) } else { None };
        Ok(RequestInfo {
            path: url.path().to_string(),
            query: url.query().unwrap_or("").to_string(),
            cookie: header("cookie"),
            user_agent: header("user-agent"),
            referrer: header("referer"),
            country: debug_country.or_else(|| req.cf().and_then(|cf| cf.country())),
            https: url.scheme() == "https",
            bypass: super::page::Bypass::parse(header(super::page::BYPASS_HEADER).filter(|_| config.dev_mode).as_deref()),
            public_base: url.origin().ascii_serialization(),
        })
    }

    /// The facts for a page at `path?query` (the request's own page, or `/v1/decide?path=`).
    pub fn facts<'a>(&'a self, path: &'a str, query: &'a str) -> RequestFacts<'a> {
        RequestFacts {
            path,
            query,
            cookies: crate::cookies::Cookies::parse(self.cookie.as_deref()),
            user_agent: self.user_agent.as_deref(),
            referrer: self.referrer.as_deref(),
            country: self.country.as_deref(),
            https: self.https,
        }
    }
}

/// Who is asking; a known customer's traits are re-read from KV once their cookie is stale.
pub async fn identify(env: &Env, config: &Config, facts: &RequestFacts<'_>) -> Identity {
    let mut id = context::identify(facts, config.profile_secret.as_deref(), fresh_visitor_id);
    if let Some(problem) = &id.problem {
        console_warn!("vitrine: {problem}");
    }
    let now = now_secs();
    let (Some(claims), Some(secret)) = (&id.claims, &config.profile_secret) else { return id };
    if !claims.is_stale(now) {
        return id;
    }
    if let Some(mut traits) = stored_traits(env, &claims.cid).await {
        // The export has no names: a demo name given by the picker survives the refresh.
        if let (Some(name), None) = (claims.traits.path("first_name").cloned(), traits.path("first_name")) {
            traits.set("first_name", name);
        }
        let fresh = ProfileClaims { cid: claims.cid.clone(), traits: cookie_traits(traits), iat: now };
        id.set_cookies.push(SetCookie::new(cookies::PROFILE, fresh.issue(secret), cookies::THIRTY_DAYS, facts.https));
        id.claims = Some(fresh);
    }
    id
}

/// A known customer's traits from KV `profile:<customer id>`.
pub async fn stored_traits(env: &Env, customer_id: &str) -> Option<Value> {
    let key = profile_key(customer_id)?;
    let kv = env.kv(PROFILES).ok()?;
    match kv.get(&key).text().await {
        Ok(Some(json)) => traits_from_profile_json(&json).or_else(|| {
            console_warn!("vitrine: {PROFILES}/{key} is not a JSON object");
            None
        }),
        Ok(None) => None,
        Err(e) => {
            console_warn!("vitrine: reading {PROFILES}/{key} failed: {e}");
            None
        }
    }
}
