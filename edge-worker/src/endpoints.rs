//! `/v1/*` endpoints and the SDK's static files.

use serde_json::json;
use worker::{Env, Headers, Method, Request, Response, Result};

use vitrine_edge::api::{self, CachePolicy, DecideQuery, JsonReply};
use vitrine_edge::bundles::Loaded;
use vitrine_edge::context;
use vitrine_edge::cookies::SetCookie;
use vitrine_engine::{Engine, Visitor};

use crate::bundle::{self, serving};
use crate::codes;
use crate::env::{config, now_secs};
use crate::visitor::{identify, request_info};

pub fn json(reply: JsonReply) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "private, no-store")?;
    Ok(Response::ok(reply.body)?.with_status(reply.status).with_headers(headers))
}

fn with_cookies(resp: Response, cookies: &[SetCookie]) -> Result<Response> {
    let mut resp = resp;
    for c in cookies {
        resp.headers_mut().append("set-cookie", &c.to_string())?;
    }
    Ok(resp)
}

/// The shared start of decide and exit-offer: query, bundle, visitor, clock.
async fn prepare(req: &Request, env: &Env, need_placement: bool) -> Result<std::result::Result<Prepared, JsonReply>> {
    let config = config(env);
    let info = request_info(req, &config)?;
    let q = match api::parse_decide_query(&info.query, need_placement, config.dev_mode) {
        Ok(q) => q,
        Err(reply) => return Ok(Err(reply)),
    };
    let Some(loaded) = serving(env, &config).await else {
        return Ok(Err(JsonReply::error(503, "no bundle is published yet (KV BUNDLES has no loadable bundle:current)")));
    };
    let facts = info.facts(&q.path, &q.page_query);
    let id = identify(env, &config, &facts).await;
    let now = q.now.unwrap_or_else(now_secs);
    let visitor = context::visitor(&loaded.value, &facts, &id, now);
    // A fresh id the visitor will not keep (no cookie may be set) gets no unique code.
    let keeps_id = !id.new_visitor || id.may_store;
    Ok(Ok(Prepared { loaded, visitor, set_cookies: id.set_cookies, q, now, keeps_id }))
}

struct Prepared {
    loaded: Loaded<Engine>,
    visitor: Visitor,
    set_cookies: Vec<SetCookie>,
    q: DecideQuery,
    now: i64,
    keeps_id: bool,
}

impl Prepared {
    /// The visitor's unique code for their exit offer, issued (`codes::issue_exit_offer_code`).
    async fn unique_code(&self, env: &Env) -> Option<(String, String)> {
        if !self.keeps_id {
            return None;
        }
        codes::issue_exit_offer_code(env, &self.loaded.value, &self.visitor, self.now).await
    }
}

pub async fn decide(req: Request, env: &Env) -> Result<Response> {
    let p = match prepare(&req, env, true).await? {
        Ok(p) => p,
        Err(reply) => return with_cors(&req, env, json(reply)?),
    };
    let reply = api::decide(&p.loaded.value, &p.loaded.version, &p.visitor, &p.q, p.now);
    with_cors(&req, env, with_cookies(json(reply)?, &p.set_cookies)?)
}

/// `/v1/slice`: the bundle cut for this visitor and page; private (cookies decide it).
pub async fn slice(req: Request, env: &Env) -> Result<Response> {
    let p = match prepare(&req, env, false).await? {
        Ok(p) => p,
        Err(reply) => return with_cors(&req, env, json(reply)?),
    };
    let headers = Headers::new();
    headers.set("content-type", api::BUNDLE_CONTENT_TYPE)?;
    headers.set("cache-control", "private, no-store")?;
    headers.set("x-vitrine-bundle", &p.loaded.version)?;
    let body = if req.method() == Method::Head {
        Vec::new()
    } else {
        // Their exit offer's code, and the one a deep link's message showed (its landing's slice).
        let referer = req.headers().get("referer")?;
        let deep_link = codes::issue_deep_link_code(env, &p.loaded.value, referer.as_deref(), now_secs()).await;
        let codes: Vec<(String, String)> = deep_link.into_iter().chain(p.unique_code(env).await).collect();
        api::slice_with_codes(&p.loaded.value, &p.visitor, p.now, &codes)
    };
    with_cors(&req, env, with_cookies(Response::from_bytes(body)?.with_headers(headers), &p.set_cookies)?)
}

/// Adds the JSON API's CORS headers (`api::api_cors_headers`).
pub fn with_cors(req: &Request, env: &Env, mut resp: Response) -> Result<Response> {
    let origin = req.headers().get("origin")?;
    for (name, value) in api::api_cors_headers(origin.as_deref(), &config(env).cors_origins) {
        resp.headers_mut().set(name, &value)?;
    }
    Ok(resp)
}

pub async fn exit_offer(req: Request, env: &Env) -> Result<Response> {
    let p = match prepare(&req, env, false).await? {
        Ok(p) => p,
        Err(reply) => return with_cors(&req, env, json(reply)?),
    };
    let code = p.unique_code(env).await;
    let resp = match api::exit_offer_with_code(&p.loaded.value, &p.visitor, &p.q, p.now, code.as_ref().map(|(_, code)| code.as_str())) {
        Some(reply) => json(reply)?,
        None => Response::empty()?.with_status(204),
    };
    with_cors(&req, env, with_cookies(resp, &p.set_cookies)?)
}

/// `/v1/health` (no-store): `ok` whenever the worker answers, its `version` (the workspace's,
/// one for every crate), and the bundle that serves (`null`: none loads, pages pass through
/// unpersonalized). It asks `serving` like a page would, so it is what the next request gets:
/// in a warm isolate that is memory or one small KV read every `BUNDLE_CHECK_SECS`; a cold
/// isolate loads the bundle here as its first page would (probes and tests wait on it for a
/// publish to take effect).
pub async fn health(env: &Env) -> Result<Response> {
    let config = config(env);
    let loaded = serving(env, &config).await;
    let refused: Vec<_> = bundle::refused().into_iter().map(|(v, why)| json!({ "version": v, "reason": why })).collect();
    json(JsonReply::ok(&json!({
        "ok": true,
        "version": env!("CARGO_PKG_VERSION"),
        "bundle": loaded.as_ref().map(|l| l.version.clone()),
        "bundle_created_at": loaded.as_ref().map(|l| l.value.header().created_at),
        "refused": refused,
        "origin": !config.origin_url.is_empty(),
        "profiles": config.profile_secret.is_some(),
        "dev_mode": config.dev_mode,
        "rate_limits": crate::limits::bindings(env),
    })))
}

/// `/v1/openapi.json`: the API's description, public and cacheable like the SDK's loader.
pub fn openapi() -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", &CachePolicy::Revalidate { max_age: vitrine_edge::openapi::MAX_AGE }.header())?;
    headers.set("access-control-allow-origin", "*")?;
    Ok(Response::ok(vitrine_edge::openapi::DOCUMENT)?.with_headers(headers))
}

/// `/v1/bundle` (the serving version, revalidated) and `/v1/bundle/<version>` (immutable).
pub async fn bundle(req: Request, env: &Env) -> Result<Response> {
    let config = config(env);
    let path = req.path();
    let asked = api::bundle_path_version(&path).flatten();
    let (version, bytes, policy) = match asked {
        None => match serving(env, &config).await {
            Some(l) => (l.version, l.bytes, CachePolicy::Revalidate { max_age: api::BUNDLE_MAX_AGE }),
            None => return json(JsonReply::error(503, "no bundle is published yet")),
        },
        Some(v) => match bundle::bytes_of(env, v).await {
            Some(bytes) => (v.to_string(), bytes, CachePolicy::Immutable),
            None => return json(JsonReply::error(404, format!("no bundle version {v}"))),
        },
    };
    let etag = api::etag(&version);
    let headers = Headers::new();
    headers.set("etag", &etag)?;
    headers.set("cache-control", &policy.header())?;
    headers.set("x-vitrine-bundle", &version)?;
    headers.set("access-control-allow-origin", "*")?;
    if api::etag_matches(req.headers().get("if-none-match")?.as_deref(), &etag) {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    }
    headers.set("content-type", api::BUNDLE_CONTENT_TYPE)?;
    let body = if req.method() == Method::Head { Vec::new() } else { bytes.as_ref().clone() };
    Ok(Response::from_bytes(body)?.with_headers(headers))
}

/// The SDK's files from the `[assets]` folder, with our caching on top of its content type
/// and ETag.
pub async fn asset(req: Request, env: &Env) -> Result<Response> {
    let policy = api::asset_cache_policy(&req.path());
    let resp = env.assets("ASSETS")?.fetch_request(req).await?;
    let status = resp.status_code();
    let headers = resp.headers().clone();
    if status == 200 || status == 304 {
        headers.set("cache-control", &policy.header())?;
        headers.set("access-control-allow-origin", "*")?;
    }
    Ok(resp.with_headers(headers))
}
