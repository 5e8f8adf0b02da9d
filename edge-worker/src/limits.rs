//! Limits before work, carried out (the rules: `vitrine_edge::limits`): the gate every request
//! passes before its handler (declared body length, rate limits), bodies read chunk by chunk
//! under their cap, and the limits an events batch meets once read.

use std::cell::RefCell;

use futures_util::StreamExt;
use vitrine_edge::api::JsonReply;
use vitrine_edge::events::{self, Checked};
use vitrine_edge::limits::{self, Cap, Check, Limiter, MAX_BATCH_OBJECTS, PERIOD_SECS};
use vitrine_edge::routes::Route;
use worker::{console_error, wasm_bindgen_futures, web_sys, Env, Method, Request, Response, Result};

use crate::endpoints;
use crate::env::config;

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The client's key for the per-client limits (`X-Vitrine-Client` only in dev mode).
pub fn client(req: &Request, env: &Env) -> String {
    limits::client_key(config(env).dev_mode, header(req, "cf-connecting-ip").as_deref(), header(req, limits::CLIENT_HEADER).as_deref())
}

/// Cancels a body nobody will read. workerd sends no answer until the request's body is read
/// or cancelled: without this a refused 100 MB upload would still be taken in whole first.
fn discard_body(req: &Request) {
    discard_unread(req.inner().body());
}

/// Cancels `body` unless something reads it (a handler's reader, the origin fetch of a page).
pub fn discard_unread(body: Option<web_sys::ReadableStream>) {
    if let Some(body) = body.filter(|b| !b.locked()) {
        let cancelled = body.cancel();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(cancelled).await;
        });
    }
}

/// A refusal as the route answers: JSON, with the CORS headers its callers need to read it;
/// the body, if unread, is cancelled.
fn refusal(req: &Request, env: &Env, route: &Route, reply: JsonReply) -> Result<Response> {
    discard_body(req);
    let resp = endpoints::json(reply)?;
    match route {
        Route::Events => crate::events::cors(resp),
        Route::Decide | Route::ExitOffer | Route::Slice | Route::PushKey => endpoints::with_cors(req, env, resp),
        _ => Ok(resp),
    }
}

/// Adds `Retry-After` to a 429.
pub fn with_retry_after(resp: Response) -> Result<Response> {
    if resp.status_code() == 429 {
        let headers = resp.headers().clone();
        headers.set("retry-after", &PERIOD_SECS.to_string())?;
        return Ok(resp.with_headers(headers));
    }
    Ok(resp)
}

thread_local! {
    /// Bindings already reported missing or failing (logged once per isolate).
    static REPORTED: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

fn report_once(binding: &'static str, problem: &str) {
    let first = REPORTED.with(|r| {
        let mut r = r.borrow_mut();
        let first = !r.contains(&binding);
        if first {
            r.push(binding);
        }
        first
    });
    if first {
        console_error!("vitrine: rate limit {binding}: {problem}; requests are let through until it works (wrangler.toml [[ratelimits]])");
    }
}

/// Whether `check` is within its limit. A missing or failing binding lets the request through
/// (logged once): a limit's outage must not become the store's.
pub async fn allowed(env: &Env, check: &Check) -> bool {
    let binding = check.limiter.binding();
    let limiter = match env.rate_limiter(binding) {
        Ok(l) => l,
        Err(e) => {
            report_once(binding, &e.to_string());
            return true;
        }
    };
    match limiter.limit(check.key.clone()).await {
        Ok(outcome) => outcome.success,
        Err(e) => {
            report_once(binding, &e.to_string());
            true
        }
    }
}

/// Which bindings this deployment has (`/v1/health`).
pub fn bindings(env: &Env) -> Vec<&'static str> {
    Limiter::ALL.iter().map(|l| l.binding()).filter(|b| env.rate_limiter(b).is_ok()).collect()
}

/// Before any handler: a declared body over the route's limit (413), then the route's rate
/// limits (429). `Some`: the answer, the handler does not run.
pub async fn gate(req: &Request, env: &Env, route: &Route) -> Result<Option<Response>> {
    let path = req.path();
    if let Some(limit) = limits::body_limit(route) {
        if let Err(reply) = limits::declared_length(header(req, "content-length").as_deref(), limit, &path) {
            return refusal(req, env, route, reply).map(Some);
        }
    }
    let config = config(env);
    let client = client(req, env);
    let cookie = header(req, "cookie");
    let server = *route == Route::Events && events::bearer_matches(header(req, "authorization").as_deref(), config.write_key.as_deref());
    let checks = limits::before_work(&limits::Request { route, post: req.method() == Method::Post, client: &client, cookie: cookie.as_deref(), server });
    for check in &checks {
        if !allowed(env, check).await {
            return with_retry_after(refusal(req, env, route, limits::too_many(check, &path))?).map(Some);
        }
    }
    Ok(None)
}

/// Reads the body chunk by chunk, keeping at most the route's limit (`limits::body_limit`, the
/// one the gate checked the declared length against): past it, the stream is cancelled and the
/// 413 is the answer (`Err`).
pub async fn read_body(req: &mut Request, env: &Env) -> Result<std::result::Result<Vec<u8>, Response>> {
    let path = req.path();
    let route = Route::of(&path, false, false);
    let limit = limits::body_limit(&route).unwrap_or(limits::SMALL_BODY);
    let declared = match limits::declared_length(header(req, "content-length").as_deref(), limit, &path) {
        Ok(d) => d,
        Err(reply) => return refusal(req, env, &route, reply).map(Err),
    };
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    if req.inner().body().is_none() {
        return Ok(Ok(body));
    }
    let mut cap = Cap::new(limit, &path);
    let mut stream = req.stream()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if let Err(reply) = cap.take(chunk.len()) {
            drop(stream); // cancels the request's stream: nothing more is read
            return refusal(req, env, &route, reply).map(Err);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Ok(body))
}

/// The limits an events batch meets once read: at most `MAX_BATCH_OBJECTS` objects, each
/// visitor's rate, and identifies per client. Events over a limit move to the refused ones,
/// each with its reason.
pub async fn batch(req: &Request, env: &Env, checked: &mut Checked, server: bool) {
    events::bound_fan_out(checked, MAX_BATCH_OBJECTS);
    let client = client(req, env);
    let identifies = checked.accepted.iter().any(|a| a.identify);
    let checks = limits::batch_checks(checked.accepted.iter().flat_map(|a| a.objects()), identifies, &client, server);
    let path = req.path();
    for check in checks {
        if allowed(env, &check).await {
            continue;
        }
        let reason = limits::limited_reason(&check, &path);
        match check.limiter {
            Limiter::Visitor => events::hold_back(checked, |_, a| a.objects().any(|k| k == check.key), &reason, true),
            _ => events::hold_back(checked, |_, a| a.identify, &reason, true),
        }
    }
}

/// One more check once a handler knows its key (an inbound text's number): the 429, if over.
pub async fn over(env: &Env, check: &Check, path: &str) -> Result<Option<Response>> {
    if allowed(env, check).await {
        return Ok(None);
    }
    with_retry_after(endpoints::json(limits::too_many(check, path))?).map(Some)
}
