//! Store pages: the origin's answer (to the request the entry, `js/worker.mjs`, sent) and, when
//! it is HTML, handed to the entry to stream through the slot rewriter with this visitor's
//! decisions, all made before the body streams. Also the demo visitor picker (`?vitrine_as=`).

use futures_util::future;
use vitrine_edge::bundles::Loaded;
use vitrine_engine::{Engine, Value};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, console_warn, js_sys, web_sys, Context, Env, Headers, Method, Request, Response, Result};

use vitrine_edge::api;
use vitrine_edge::config::Config;
use vitrine_edge::context::{self, Identity, RequestInfo};
use vitrine_edge::cookies::{self, SetCookie};
use vitrine_edge::deep_link;
use vitrine_edge::identity::{self, OriginIdentity};
use vitrine_edge::kv::{PERSONA_PREFIX, PROFILES};
use vitrine_edge::measure::records_page;
use vitrine_edge::pages::{should_personalize, PageDecisions};
use vitrine_edge::profile::{self, cookie_traits, Persona, PickerChoice, ProfileClaims};
use vitrine_edge::query;
use vitrine_edge::routes::{Bypass, PICKER_PARAM};

use crate::bundle::serving;
use crate::entry::{Answer, StorePage};
use crate::env::{self, now_secs};
use crate::measure::after_page;
use crate::visitor::{identify, request_info, stored_traits};

/// A store page. `given`: the origin's answer (a promise of it) to the request the entry sent
/// (`js/worker.mjs`: the one place a store page's origin request is made); `None` only for the
/// demo picker and when no `ORIGIN_URL` is set, which answer without the origin.
pub async fn handle(req: Request, env: &Env, ctx: &Context, given: Option<js_sys::Promise>) -> Result<Answer> {
    let config = env::config(env);
    let info = request_info(&req, &config)?;
    let method = req.method();
    let is_get = method == Method::Get;
    if config.demo_picker && (is_get || method == Method::Head) {
        if let Some(choice) = query::get(&info.query, PICKER_PARAM) {
            return picker(env, &config, &info, &choice).await.map(Answer::from);
        }
    }
    if config.origin_url.is_empty() {
        console_error!("vitrine: ORIGIN_URL is not set");
        return unavailable("This store is not configured yet.").map(Answer::from);
    }
    let Some(answered) = given else {
        return Err(worker::Error::RustError("a store page without its origin request (js/worker.mjs sends it)".into()));
    };

    // The origin's answer and the visitor's context (bundle, KV profile) are awaited side by side.
    let facts = info.facts(&info.path, &info.query);
    let bypass = info.bypass;
    let context = async {
        if bypass != Bypass::No {
            return None;
        }
        let loaded = serving(env, &config).await?;
        let id = identify(env, &config, &facts).await;
        Some((loaded, id))
    };
    let origin = async { JsFuture::from(answered).await.map(|r| Response::from(web_sys::Response::from(r))).map_err(worker::Error::from) };
    let (origin, context) = future::join(origin, context).await;
    let origin = match origin {
        Ok(r) => r,
        Err(e) => return unreachable(&config, &e.to_string()).map(Answer::from),
    };
    let origin = origin_identity(env, &config, &info, origin).await?;
    let facts = OriginFacts::new(origin.status_code(), ORIGIN_HEADERS.map(|name| origin.headers().get(name).ok().flatten()));
    let prepared = || context.map(|(loaded, id)| prepare(&config, &info, loaded, id, now_secs()));
    match plan(&config, &info, is_get, &facts, prepared) {
        Plan::Untouched => Ok(origin.into()),
        Plan::Redirect(public) => {
            let headers = origin.headers().clone();
            headers.set(LOCATION, &public)?;
            Ok(origin.with_headers(headers).into())
        }
        Plan::RewriterOnly => {
            let headers = origin.headers().clone();
            Ok(Answer::Page(StorePage::new(with_headers(origin, headers)?, None, None)))
        }
        Plan::Personalize(p) => {
            let headers = origin.headers().clone();
            for name in p.remove {
                headers.delete(name)?;
            }
            for (name, value) in &p.set {
                headers.set(name, value)?;
            }
            for c in &p.cookies {
                headers.append("set-cookie", c)?;
            }
            let view = p.measure.map(|m| after_page(ctx, env, m.key, m.visitor_id, m.holdout_arm));
            Ok(Answer::Page(StorePage::new(with_headers(origin, headers)?, Some(p.decided), view)))
        }
    }
}

/// The origin unreachable: logged, and the visitor gets a short page.
pub fn unreachable(config: &Config, error: &str) -> Result<Response> {
    console_error!("vitrine: origin {} unreachable: {error}", config.origin_url);
    unavailable("The store is not answering right now. Please try again in a moment.")
}

/// The origin response headers the page rules read, in [`OriginFacts::new`]'s order (the
/// entry's hot path reads them by these names: `entry::Edge::origin_headers`).
pub const ORIGIN_HEADERS: [&str; 4] = ["content-type", "content-disposition", LOCATION, "vary"];
const LOCATION: &str = "location";

/// What the page rules read of the origin's answer (after its identity header was handled).
pub struct OriginFacts {
    pub status: u16,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
    pub location: Option<String>,
    pub vary: Option<String>,
}

impl OriginFacts {
    /// `headers`: the values of [`ORIGIN_HEADERS`], in that order.
    pub fn new(status: u16, headers: [Option<String>; 4]) -> OriginFacts {
        let [content_type, content_disposition, location, vary] = headers;
        OriginFacts { status, content_type, content_disposition, location, vary }
    }
}

/// What becomes of the origin's answer: the one definition both the async path ([`handle`])
/// and the entry's hot path (`entry::HotPage`) carry out.
pub enum Plan {
    /// Streamed to the visitor as it came.
    Untouched,
    /// A redirect to the origin's own address, pointed back at the worker's: this location.
    Redirect(String),
    /// Dev mode's rewriter-only bypass: through the rewriter, no slot touched.
    RewriterOnly,
    Personalize(Personalized),
}

/// A personalized page: its header edits and cookies, every slot decided, and what its page
/// view records (none: bots, no consent, no measurement key).
pub struct Personalized {
    pub remove: &'static [&'static str],
    pub set: Vec<(&'static str, String)>,
    pub cookies: Vec<String>,
    pub decided: PageDecisions,
    pub measure: Option<Measure>,
}

/// Who a page view's exposures are recorded for (`measure::after_page`, `measure::send_page`).
pub struct Measure {
    pub key: Vec<u8>,
    pub visitor_id: String,
    pub holdout_arm: Option<&'static str>,
}

/// What personalizing a page takes that does not depend on the origin's answer: its cookies,
/// every slot decided, what its page view records. Made while the origin answers (the hot
/// path, for a browser's page load: `pages::is_page_load`) or once it did; either way [`plan`]
/// decides whether it is used. (Made early, a refused deep link is logged even when the origin
/// then answers with no page to personalize.)
pub struct Prepared {
    version: String,
    cookies: Vec<String>,
    pub decided: PageDecisions,
    measure: Option<Measure>,
}

/// Prepares a page for the visitor `id` with the serving bundle `loaded`, at `now`.
pub fn prepare(config: &Config, info: &RequestInfo, loaded: Loaded<Engine>, mut id: Identity, now: i64) -> Prepared {
    if let Some(vt) = query::get(&info.query, "vt") {
        // A deep link from a message: its promised offer reaches the SDK only once checked here.
        match config.link_secret.as_deref().map(|secret| deep_link::verified_offer(secret, &vt, now)) {
            Some(Ok(offer)) if loaded.value.offer(&offer).is_some() => {
                id.set_cookie(SetCookie::new(cookies::OFFER, offer, deep_link::OFFER_COOKIE_SECS, info.https))
            }
            Some(Ok(offer)) => console_warn!("vitrine: a deep link promises offer {offer:?}, which this bundle does not have"),
            Some(Err(why)) => console_warn!("vitrine: deep link refused ({why:?}): no offer shown"),
            None => console_error!("vitrine: a deep link arrived, but LINK_SECRET is not set: no offer shown"),
        }
    }
    let engine: &Engine = &loaded.value;
    let facts = info.facts(&info.path, &info.query);
    if let Some(seen) = context::seen_cookie(engine, &facts) {
        id.set_cookie(seen);
    }
    let visitor = context::visitor(engine, &facts, &id, now);
    // Exposures: bots and visitors who did not consent (where asked) record nothing.
    let measure = match &config.measurement_key {
        Some(key) if records_page(true, info.user_agent.as_deref(), id.may_store) => {
            Some(Measure { key: key.clone(), visitor_id: id.visitor_id.clone(), holdout_arm: engine.holdout_arm(&visitor) })
        }
        _ => None,
    };
    let decided = PageDecisions::decide(engine, &visitor, &engine.rule_input(&visitor), now);
    Prepared { version: loaded.version.clone(), cookies: id.set_cookies.iter().map(SetCookie::to_string).collect(), decided, measure }
}

/// The page rules, once the origin answered: `prepared` gives what was prepared for the visitor
/// (none: bypassed, or no bundle loaded), called only for a page that is personalized.
pub fn plan(config: &Config, info: &RequestInfo, is_get: bool, origin: &OriginFacts, prepared: impl FnOnce() -> Option<Prepared>) -> Plan {
    if (300..400).contains(&origin.status) {
        // Origin redirects to its own (internal) address are pointed back at the worker's.
        let public = origin.location.as_deref().and_then(|l| api::public_location(l, &config.origin_url, &info.public_base));
        return public.map_or(Plan::Untouched, Plan::Redirect);
    }
    let bypass = info.bypass;
    if bypass == Bypass::Untouched || !should_personalize(is_get, origin.status, origin.content_type.as_deref(), origin.content_disposition.as_deref()) {
        return Plan::Untouched;
    }
    let Some(p) = prepared() else {
        return if bypass == Bypass::RewriterOnly { Plan::RewriterOnly } else { Plan::Untouched };
    };
    let edits = api::personalized_header_edits(origin.vary.as_deref());
    let mut set = edits.set;
    set.push(("x-vitrine-bundle", p.version));
    Plan::Personalize(Personalized { remove: edits.remove, set, cookies: p.cookies, decided: p.decided, measure: p.measure })
}

/// The origin's response (status and streaming body) with `headers` instead of its own.
fn with_headers(origin: Response, headers: Headers) -> Result<Response> {
    Ok(Response::from_body(origin.body().clone())?.with_status(origin.status_code()).with_headers(headers))
}

fn unavailable(message: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "text/html; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    headers.set("retry-after", "10")?;
    let html =
        format!("<!doctype html><meta charset=utf-8><title>Store unavailable</title><h1>Store unavailable</h1><p>{}</p>", vitrine_engine::escape(message));
    Ok(Response::ok(html)?.with_status(502).with_headers(headers))
}

fn text(status: u16, message: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "text/plain; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::ok(message)?.with_status(status).with_headers(headers))
}

/// `?vitrine_as=champions|at-risk|new|customer:<id>|…`: signs the chosen visitor's profile
/// into the cookie and sends the browser back to the same page without the parameter.
async fn picker(env: &Env, config: &Config, info: &RequestInfo, choice: &str) -> Result<Response> {
    let Some(secret) = &config.profile_secret else {
        return text(503, "The visitor picker needs the PROFILE_SECRET secret (scripts/dev.sh writes one to .dev.vars).");
    };
    let Some(choice) = PickerChoice::parse(choice) else {
        return text(400, &format!("vitrine_as={choice:?} is not a persona. {}", known_personas(env).await));
    };
    let mut cookies = Vec::new();
    let found = match choice {
        PickerChoice::Reset => {
            for name in [cookies::PROFILE, cookies::VISITOR, cookies::CART] {
                cookies.push(SetCookie::delete(name, info.https));
            }
            true
        }
        PickerChoice::Persona(keys) => {
            let kv = env.kv(PROFILES)?;
            let mut persona = None;
            for key in &keys {
                if let Ok(Some(p)) = kv.get(key).json::<Persona>().await {
                    persona = Some(p);
                    break;
                }
            }
            match persona {
                Some(p) => sign_in(env, secret, &p.customer_id, &p.first_name, info.https, &mut cookies, true).await,
                None => false,
            }
        }
        PickerChoice::Customer(id) => sign_in(env, secret, &id, "", info.https, &mut cookies, true).await,
    };
    if !found {
        return text(404, &format!("No such visitor in KV {PROFILES}: load the profiles first (scripts/load-profiles.sh). {}", known_personas(env).await));
    }
    let rest = query::without(&info.query, PICKER_PARAM);
    let location = if rest.is_empty() { info.path.clone() } else { format!("{}?{rest}", info.path) };
    let headers = Headers::new();
    headers.set("location", &location)?;
    headers.set("cache-control", "no-store")?;
    for c in &cookies {
        headers.append("set-cookie", &c.to_string())?;
    }
    Ok(Response::empty()?.with_status(302).with_headers(headers))
}

/// The store's login and logout, told by the origin's `Vitrine-Identity` response header
/// (`vitrine_edge::identity`): the header never reaches the browser; a valid token signs the
/// customer in (the profile cookie, from their KV profile and the token's first name), `logout`
/// clears it, anything else is logged and changes nothing.
async fn origin_identity(env: &Env, config: &Config, info: &RequestInfo, origin: Response) -> Result<Response> {
    let Some(value) = origin.headers().get(identity::ORIGIN_HEADER)? else { return Ok(origin) };
    let headers = origin.headers().clone();
    headers.delete(identity::ORIGIN_HEADER)?;
    let mut set = Vec::new();
    match identity::from_origin(&value, headers.get("cache-control")?.as_deref(), &config.identity, now_secs()) {
        OriginIdentity::Logout => set.push(SetCookie::delete(cookies::PROFILE, info.https)),
        OriginIdentity::Refused(why) => console_error!("vitrine: {why}"),
        OriginIdentity::SignIn(claims) => match &config.profile_secret {
            Some(secret) => {
                sign_in(env, secret, &claims.sub, claims.first_name.as_deref().unwrap_or(""), info.https, &mut set, false).await;
            }
            None => console_error!("vitrine: {} names a customer, but PROFILE_SECRET is not set: nobody is signed in", identity::ORIGIN_HEADER),
        },
    }
    let may_store = info.facts(&info.path, &info.query).may_store();
    for c in set.iter().filter(|c| c.allowed(may_store)) {
        headers.append("set-cookie", &c.to_string())?;
    }
    Ok(origin.with_headers(headers))
}

/// Signs `customer_id` into the profile cookie. `known_only`: only a customer with a stored
/// profile (the picker); a customer the backend vouches for is signed in either way.
async fn sign_in(env: &Env, secret: &[u8], customer_id: &str, first_name: &str, https: bool, cookies: &mut Vec<SetCookie>, known_only: bool) -> bool {
    let mut traits = match stored_traits(env, customer_id).await {
        Some(t) => t,
        None if known_only => return false,
        None => Value::Object(Default::default()),
    };
    if !first_name.is_empty() {
        traits.set("first_name", first_name);
    }
    let claims = ProfileClaims { cid: customer_id.into(), traits: cookie_traits(traits), iat: now_secs() };
    cookies.push(SetCookie::new(cookies::PROFILE, profile::issue(&claims, secret), cookies::THIRTY_DAYS, https));
    true
}

async fn known_personas(env: &Env) -> String {
    let Ok(kv) = env.kv(PROFILES) else { return String::new() };
    match kv.list().prefix(PERSONA_PREFIX.into()).limit(50).execute().await {
        Ok(list) if !list.keys.is_empty() => {
            let names: Vec<&str> = list.keys.iter().filter_map(|k| k.name.strip_prefix(PERSONA_PREFIX)).collect();
            format!("Known: new, {}.", names.join(", "))
        }
        _ => "Known: new.".into(),
    }
}
