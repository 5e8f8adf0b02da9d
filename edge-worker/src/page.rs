//! Store pages: proxied from the origin and, when they are HTML, handed to the entry
//! (`js/worker.mjs`) to stream through the slot rewriter with this visitor's decisions, all
//! made before the body streams. Also the demo visitor picker (`?vitrine_as=`).

use futures_util::future;
use vitrine_engine::{Engine, Value, Visitor};
use worker::{console_error, console_warn, Context, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response, Result};

use vitrine_edge::api;
use vitrine_edge::config::Config;
use vitrine_edge::context::{self, RequestInfo};
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
use crate::measure::{after_page, PageView};
use crate::visitor::{identify, request_info, stored_traits};

pub async fn handle(req: Request, env: &Env, ctx: &Context) -> Result<Answer> {
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

    // The origin request and the visitor's context (bundle, KV profile) run side by side.
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
    let (origin, context) = future::join(fetch_origin(req, &config, &info), context).await;
    let origin = match origin {
        Ok(r) => r,
        Err(e) => {
            console_error!("vitrine: origin {} unreachable: {e}", config.origin_url);
            return unavailable("The store is not answering right now. Please try again in a moment.").map(Answer::from);
        }
    };
    let origin = origin_identity(env, &config, &info, origin).await?;
    let header = |name: &str| origin.headers().get(name).ok().flatten();
    if (300..400).contains(&origin.status_code()) {
        return redirect_through_worker(origin, &config, &info).map(Answer::from);
    }
    if bypass == Bypass::Untouched
        || !should_personalize(is_get, origin.status_code(), header("content-type").as_deref(), header("content-disposition").as_deref())
    {
        return Ok(origin.into());
    }
    let Some((loaded, mut id)) = context else {
        if bypass == Bypass::RewriterOnly {
            let headers = origin.headers().clone();
            return Ok(Answer::Page(StorePage::new(with_headers(origin, headers)?, None, None)));
        }
        return Ok(origin.into());
    };
    let now = now_secs();
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
    let visitor = context::visitor(&loaded.value, &facts, &id, now);
    // Exposures: bots and visitors who did not consent (where asked) record nothing.
    let view = match &config.measurement_key {
        Some(key) if records_page(true, info.user_agent.as_deref(), id.may_store) => {
            Some(after_page(ctx, env, key.clone(), id.visitor_id.clone(), loaded.value.holdout_arm(&visitor)))
        }
        _ => None,
    };
    personalized(origin, &loaded.value, &loaded.version, visitor, now, &id.set_cookies, view)
}

async fn fetch_origin(req: Request, config: &Config, info: &RequestInfo) -> Result<Response> {
    let mut url = format!("{}{}", config.origin_url, info.path);
    if !info.query.is_empty() {
        url.push('?');
        url.push_str(&info.query);
    }
    let headers = req.headers().clone();
    let host = req.url()?.host_str().unwrap_or("").to_string();
    headers.delete("host")?;
    headers.set("x-forwarded-host", &host)?;
    headers.set("x-forwarded-proto", if info.https { "https" } else { "http" })?;
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(headers).with_redirect(RequestRedirect::Manual);
    if !matches!(req.method(), Method::Get | Method::Head) {
        init.with_body(req.inner().body().map(Into::into));
    }
    Fetch::Request(Request::new_with_init(&url, &init)?).send().await
}

/// The origin's HTML with the personalized page's headers and every slot decided, for the
/// entry to stream; with a page view to record, the decisions of the slots it really had are
/// recorded once the document went by.
fn personalized(
    origin: Response,
    engine: &Engine,
    version: &str,
    visitor: Visitor,
    now: i64,
    set_cookies: &[SetCookie],
    view: Option<PageView>,
) -> Result<Answer> {
    let headers = origin.headers().clone();
    let edits = api::personalized_header_edits(headers.get("vary")?.as_deref());
    for name in edits.remove {
        headers.delete(name)?;
    }
    for (name, value) in &edits.set {
        headers.set(name, value)?;
    }
    for c in set_cookies {
        headers.append("set-cookie", &c.to_string())?;
    }
    headers.set("x-vitrine-bundle", version)?;
    let decided = PageDecisions::decide(engine, &visitor, &engine.rule_input(&visitor), now);
    Ok(Answer::Page(StorePage::new(with_headers(origin, headers)?, Some(decided), view)))
}

/// The origin's response (status and streaming body) with `headers` instead of its own.
fn with_headers(origin: Response, headers: Headers) -> Result<Response> {
    Ok(Response::from_body(origin.body().clone())?.with_status(origin.status_code()).with_headers(headers))
}

/// Origin redirects to its own (internal) address are pointed back at the worker's.
fn redirect_through_worker(origin: Response, config: &Config, info: &RequestInfo) -> Result<Response> {
    let Some(location) = origin.headers().get("location")? else { return Ok(origin) };
    let Some(public) = api::public_location(&location, &config.origin_url, &info.public_base) else { return Ok(origin) };
    let headers = origin.headers().clone();
    headers.set("location", &public)?;
    Ok(origin.with_headers(headers))
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
