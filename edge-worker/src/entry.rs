//! What the worker's JavaScript entry (`js/worker.mjs`) calls: [`Edge::hot`] and [`HotPage`]
//! for a store page on the hot path; otherwise [`Edge::page_with_origin`] (a store page given
//! its origin's answer) or [`Edge::fetch`] (the worker's own paths, the demo picker, any page
//! when no `ORIGIN_URL` is set) answer the request,
//! once, with either a finished `Response` or a [`StorePage`]: the origin's HTML
//! response with every slot already decided, which the entry streams through workerd's
//! `HTMLRewriter` with element handlers that only look each slot up (no call into wasm per
//! element). Why a JavaScript entry at all: see BENCHMARKS.md, "Edge worker".

use vitrine_edge::api::JsonReply;
use vitrine_edge::pages::{is_page_load, PageDecisions, PAGE_LOAD_HEADERS};
use vitrine_edge::rewrite::{SLOT_ATTR, SLOT_SELECTOR};
use worker::wasm_bindgen::prelude::*;
use worker::{console_error, web_sys, worker_sys, Context, Env, Request, Response};
// The async exports below expand to calls into these crates, by these names (which one
// depends on how worker-build invokes cargo).
#[allow(unused_imports)]
use worker::{js_sys, wasm_bindgen_futures};

use std::rc::Rc;

use vitrine_edge::bundles::Loaded;
use vitrine_edge::config::Config;
use vitrine_edge::context::{Identity, RequestInfo};
use vitrine_edge::identity;
use vitrine_edge::query;
use vitrine_edge::routes::{Bypass, OWN_PATHS, OWN_PREFIXES, PICKER_PARAM};
use vitrine_engine::Engine;

use crate::env;
use crate::fetch::route;
use crate::measure::{send_page, PageView, SEND_AFTER_MS};
use crate::page::{self, Measure, OriginFacts, Plan, Prepared};
use crate::visitor::{identify_now, info_of, UrlParts, REQUEST_HEADERS};
use crate::{bundle, endpoints};

/// A request's answer: most routes finish here; a store page streams from the entry.
pub enum Answer {
    Response(Response),
    Page(StorePage),
}

impl From<Response> for Answer {
    fn from(r: Response) -> Answer {
        Answer::Response(r)
    }
}

/// A store page about to stream: the response to send (status and headers final, the origin's
/// body), what each slot gets, and the page view to record once the body went by.
#[wasm_bindgen]
pub struct StorePage {
    response: web_sys::Response,
    decided: Option<PageDecisions>,
    view: Option<PageView>,
    html: Vec<String>,
}

impl StorePage {
    /// `decided`: `None` streams the page through the rewriter with no slot touched (dev mode's
    /// rewriter-only bypass); `view`: the page view's exposures, recorded at its end.
    pub fn new(response: Response, decided: Option<PageDecisions>, view: Option<PageView>) -> StorePage {
        StorePage { response: response.into(), decided, view, html: Vec::new() }
    }
}

#[wasm_bindgen]
impl StorePage {
    #[wasm_bindgen(getter)]
    pub fn response(&self) -> web_sys::Response {
        // `Clone::clone`, the same JS object: the inherent `clone()` is the Fetch API's (a copy).
        Clone::clone(&self.response)
    }

    /// Every placement and what its slots get ([`PageDecisions::for_entry`]; none for the
    /// rewriter-only bypass): the JSON entries. Their HTML is kept for [`StorePage::html`].
    #[wasm_bindgen(getter)]
    pub fn slots(&mut self) -> String {
        let Some(decided) = &self.decided else { return "[]".into() };
        let (entries, html) = decided.for_entry();
        self.html = html;
        entries
    }

    /// The inner HTML of the slots that are filled, in the order of [`StorePage::slots`] (taken
    /// once, after it).
    #[wasm_bindgen(getter)]
    pub fn html(&mut self) -> Vec<String> {
        std::mem::take(&mut self.html)
    }

    /// Whether the entry should report the slots it filled ([`StorePage::streamed`]).
    #[wasm_bindgen(getter)]
    pub fn records(&self) -> bool {
        self.view.is_some()
    }

    /// The page went by to its end; `placements` are its slot elements' placements that the
    /// rewrite found in [`StorePage::slots`], in document order: what the page view exposed.
    pub fn streamed(self, placements: Vec<String>) {
        let (Some(view), Some(decided)) = (self.view, self.decided) else { return };
        *view.decisions.borrow_mut() = decided.of_slots(placements.iter().map(String::as_str));
        view.streamed.finish();
    }
}

/// Answers a request: through its route, or, when its origin response is given (a promise of
/// it), as a store page; as [`Edge::fetch`], never throws.
async fn answer(req: web_sys::Request, env: Env, ctx: worker_sys::Context, given: Option<js_sys::Promise>) -> JsValue {
    let req = Request::from(req);
    let (path, method) = (req.path(), req.method());
    let ctx = Context::new(ctx);
    let answered = match given {
        None => route(req, &env, &ctx).await,
        Some(answered) => page::handle(req, &env, &ctx, Some(answered)).await,
    };
    let answer = match answered {
        Ok(answer) => answer,
        Err(e) => {
            console_error!("vitrine: {method:?} {path}: {e}");
            let failed = if path.starts_with("/v1/") {
                endpoints::json(JsonReply::error(500, "internal error (logged at the edge)"))
            } else {
                Response::error("Something went wrong at the edge; please reload.", 500)
            };
            match failed {
                Ok(r) => Answer::Response(r),
                Err(_) => return JsValue::UNDEFINED,
            }
        }
    };
    match answer {
        Answer::Response(r) => web_sys::Response::from(r).into(),
        Answer::Page(page) => page.into(),
    }
}

/// The hot path of a store page (`GET`/`HEAD`), for the entry: everything known without KV,
/// taken from plain values in synchronous calls, once the entry sent the origin request
/// ([`Edge::own_prefixes`] says why it can). [`Edge::hot`] reads the request; for a browser's
/// page load the entry has the page decided while the origin answers ([`HotPage::early`]); then
/// it hands back what the page rules read of the answer ([`HotPage::answer`]), getting one plan. A recorded page view's exposures
/// go through [`HotPage::record`] once the document went by.
#[wasm_bindgen]
pub struct HotPage {
    env: Env,
    config: Rc<Config>,
    info: RequestInfo,
    is_get: bool,
    stage: Stage,
    recorded: Option<(PageDecisions, Measure)>,
    /// The prepared page's slots for the entry ([`PageDecisions::for_entry`]), until taken.
    slots: Option<(String, Vec<String>)>,
}

#[wasm_bindgen]
impl HotPage {
    /// Whether the request is a browser's page load (`pages::is_page_load`, a `GET`) not yet
    /// prepared: the entry then calls [`HotPage::early`] once the origin request went out.
    #[wasm_bindgen(getter, js_name = pageLoad)]
    pub fn page_load(&self) -> bool {
        matches!(self.stage, Stage::Later)
    }

    /// Reads the bundle and the visitor, and prepares the page, now (at `now_ms`), while the
    /// origin answers, instead of once it did; its slots are then ready for [`HotPage::slots`]
    /// before the origin answers too. `false`: that needs KV, and the entry hands the origin's
    /// answer (the promise) to [`Edge::page_with_origin`].
    pub fn early(&mut self, now_ms: f64) -> bool {
        if !self.read_context(now_ms) {
            return false;
        }
        if let Stage::Read(context) = &mut self.stage {
            if let Some((loaded, id)) = context.take() {
                let prepared = page::prepare(&self.config, &self.info, loaded, id, secs(now_ms));
                self.slots = Some(prepared.decided.for_entry());
                self.stage = Stage::Prepared(prepared);
            }
        }
        true
    }

    /// Reads the bundle and the visitor now (at `now_ms`) if they were left for later; `false`:
    /// a KV read is due.
    fn read_context(&mut self, now_ms: f64) -> bool {
        if matches!(self.stage, Stage::Later) {
            self.stage = context_now(&self.config, &self.info, now_ms).map_or(Stage::Due, Stage::Read);
        }
        !matches!(self.stage, Stage::Due)
    }

    /// The origin answered (at `now_ms`, the entry's clock): its status and the headers the rules read (named by
    /// [`Edge::origin_headers`], in that order; `identity`: whether it
    /// carries the origin identity header, which needs KV: `undefined` then, as when a KV read
    /// is due, and the entry hands the answer to [`Edge::page_with_origin`]). The plan, as JSON: `{}` (stream it as it
    /// came), `{"location": string}` (the same response with this location),
    /// `{"rewrite": true}` (through the rewriter, no slot touched), or a personalized page:
    /// `{"remove": [name…], "set": [[name, value]…], "cookies": [set-cookie…], "records": bool}`,
    /// its slots in [`HotPage::slots`] and [`HotPage::html`].
    // Plain values, one per argument: reading them off a JS `Headers` from wasm is a call each.
    #[allow(clippy::too_many_arguments)]
    pub fn answer(
        &mut self,
        now_ms: f64,
        status: u16,
        content_type: Option<String>,
        content_disposition: Option<String>,
        location: Option<String>,
        vary: Option<String>,
        identity: bool,
    ) -> Option<String> {
        if identity || !self.read_context(now_ms) {
            return None;
        }
        let origin = OriginFacts::new(status, [content_type, content_disposition, location, vary]);
        let (config, info, stage) = (&self.config, &self.info, std::mem::replace(&mut self.stage, Stage::Read(None)));
        let slots_made = matches!(stage, Stage::Prepared(_)); // by `early`, and maybe taken by the entry already
        let prepared = || match stage {
            Stage::Prepared(prepared) => Some(prepared),
            Stage::Read(context) => context.map(|(loaded, id)| page::prepare(config, info, loaded, id, secs(now_ms))),
            Stage::Later | Stage::Due => None, // read above
        };
        let plan = match page::plan(config, info, self.is_get, &origin, prepared) {
            Plan::Untouched => "{}".into(),
            Plan::Redirect(location) => serde_json::json!({ "location": location }).to_string(),
            Plan::RewriterOnly => r#"{"rewrite":true}"#.into(),
            Plan::Personalize(p) => {
                let plan = PersonalizedPlan { remove: p.remove, set: &p.set, cookies: &p.cookies, records: p.measure.is_some() };
                let plan = serde_json::to_string(&plan).unwrap_or_default();
                if !slots_made {
                    self.slots = Some(p.decided.for_entry());
                }
                self.recorded = p.measure.map(|m| (p.decided, m));
                plan
            }
        };
        Some(plan)
    }

    /// The personalized page's slots as JSON entries (as [`StorePage::slots`]); their HTML is
    /// kept for [`HotPage::html`], read after this. Ready after [`HotPage::early`], else after
    /// [`HotPage::answer`].
    #[wasm_bindgen(getter)]
    pub fn slots(&mut self) -> String {
        self.slots.as_mut().map_or_else(|| "[]".into(), |(entries, _)| std::mem::take(entries))
    }

    /// The inner HTML of the slots that are filled, in the order of [`HotPage::slots`] (taken
    /// once, after it).
    #[wasm_bindgen(getter)]
    pub fn html(&mut self) -> Vec<String> {
        self.slots.take().map(|(_, html)| html).unwrap_or_default()
    }

    /// The origin did not answer: logged, and the visitor's short page.
    pub fn unreachable(&self, error: String) -> JsValue {
        match page::unreachable(&self.config, &error) {
            Ok(r) => web_sys::Response::from(r).into(),
            Err(_) => JsValue::UNDEFINED,
        }
    }

    /// The page view's exposures, sent (the entry calls this after the document's end, off the
    /// page's path): `placements` are its slot elements' placements that the rewrite found in
    /// the plan's slots, in document order.
    pub async fn record(self, placements: Vec<String>) {
        let Some((decided, m)) = self.recorded else { return };
        let decisions = decided.of_slots(placements.iter().map(String::as_str));
        send_page(&self.env, &decisions, m.holdout_arm, &m.key, &m.visitor_id).await;
    }
}

/// How far a [`HotPage`] got with its bundle and visitor.
enum Stage {
    /// A browser's page load: read while the origin answers ([`HotPage::early`]).
    Later,
    /// Reading them needs KV: the async path, with the origin's answer.
    Due,
    /// The serving bundle and the visitor (none: no bundle loaded, or used).
    Read(Option<(Loaded<Engine>, Identity)>),
    /// The page prepared while the origin answered.
    Prepared(Prepared),
}

/// The entry's clock reading (ms) in the rules' unix seconds.
fn secs(now_ms: f64) -> i64 {
    (now_ms / 1000.0) as i64
}

/// The serving bundle and the visitor at `now_ms`, when no KV read is due for either (`None`
/// then); `Some(None)`: no bundle loaded.
fn context_now(config: &Config, info: &RequestInfo, now_ms: f64) -> Option<Option<(Loaded<Engine>, Identity)>> {
    Some(match bundle::serving_now(config, now_ms)? {
        Some(loaded) => Some((loaded, identify_now(config, &info.facts(&info.path, &info.query), secs(now_ms))?)),
        None => None,
    })
}

/// A personalized page's plan for the entry ([`HotPage::answer`]).
#[derive(serde::Serialize)]
struct PersonalizedPlan<'a> {
    remove: &'a [&'a str],
    set: &'a [(&'a str, String)],
    cookies: &'a [String],
    records: bool,
}

/// The entry's calls into Rust (static methods: a free function would become an RPC method of
/// the worker's entrypoint).
#[wasm_bindgen]
pub struct Edge;

#[wasm_bindgen]
impl Edge {
    /// Answers one request of the worker's own ([`Edge::own_prefixes`]), the demo picker's
    /// ([`Edge::picks`]), or a store page when no `ORIGIN_URL` is set: a `Response`, or a
    /// [`StorePage`] for the entry to stream. Never
    /// throws: an unexpected error is logged and answered with a short message.
    pub async fn fetch(req: web_sys::Request, env: Env, ctx: worker_sys::Context) -> JsValue {
        answer(req, env, ctx, None).await
    }

    /// A store page the hot path does not answer (not a `GET` or `HEAD`, a KV read due, the
    /// answer carries the origin identity header, a bypass): as [`Edge::fetch`].
    /// `answered`: the origin's answer to the request the entry sent, a promise (the KV reads
    /// run while it is pending); never asked again.
    #[wasm_bindgen(js_name = pageWithOrigin)]
    pub async fn page_with_origin(req: web_sys::Request, env: Env, ctx: worker_sys::Context, answered: js_sys::Promise) -> JsValue {
        answer(req, env, ctx, Some(answered)).await
    }

    /// The hot path for a store page's `GET` or `HEAD` request (`routes::is_page`, not the demo
    /// picker's, `ORIGIN_URL` set: the entry already sent its origin request) at `now_ms` (the entry's clock: one
    /// reading of it per request instead of a `Date` built from wasm at each rule), from plain
    /// values: the request URL's parts as the runtime's `URL` parsed it (`pathname`, `search`,
    /// `origin`: [`UrlParts`] says why), `cf_country` (`request.cf.country`), and the headers
    /// named by [`Edge::request_headers`], then those named by [`Edge::page_load_headers`], in
    /// that order. `undefined` when it does not apply (a dev-mode bypass; for
    /// anything but a page load also a KV read due for the bundle, the fault switches or the
    /// visitor's profile): the entry then hands the origin's answer to
    /// [`Edge::page_with_origin`]. A page load learns of a KV read due from [`HotPage::early`].
    #[allow(clippy::too_many_arguments)]
    pub fn hot(
        env: Env,
        now_ms: f64,
        method: String,
        path: String,
        search: String,
        origin: String,
        cf_country: Option<String>,
        cookie: Option<String>,
        user_agent: Option<String>,
        referer: Option<String>,
        debug_country: Option<String>,
        bypass: Option<String>,
        accept: Option<String>,
        fetch_dest: Option<String>,
    ) -> Option<HotPage> {
        let is_get = method == "GET";
        if !is_get && method != "HEAD" {
            return None;
        }
        let config = env::config(&env);
        let info = info_of(UrlParts::of_runtime(path, &search, origin), [cookie, user_agent, referer, debug_country, bypass], || cf_country, &config);
        if info.bypass != Bypass::No {
            return None;
        }
        // A browser's page load reads the rest while the origin answers; anything else now, so
        // that a KV read due takes the async path.
        let stage =
            if is_get && is_page_load(accept.as_deref(), fetch_dest.as_deref()) { Stage::Later } else { Stage::Read(context_now(&config, &info, now_ms)?) };
        Some(HotPage { env, config, info, is_get, stage, recorded: None, slots: None })
    }

    /// Where the worker answers itself: paths under these prefixes (`routes::OWN_PREFIXES`), and
    /// those of [`Edge::own_paths`]. Any other path is a store page's, whose origin request the
    /// entry sends before it calls into wasm, so that the origin's time runs while Rust reads
    /// the request; a path of the worker's own never reaches the origin.
    #[wasm_bindgen(js_name = ownPrefixes)]
    pub fn own_prefixes() -> Vec<String> {
        owned(&OWN_PREFIXES)
    }

    /// The paths, exactly, where the worker answers itself (`routes::OWN_PATHS`).
    #[wasm_bindgen(js_name = ownPaths)]
    pub fn own_paths() -> Vec<String> {
        owned(&OWN_PATHS)
    }

    /// The origin a store page is fetched from (`ORIGIN_URL` as the settings read it; empty:
    /// not set, and [`Edge::fetch`] answers the page with a short message).
    #[wasm_bindgen(js_name = originUrl)]
    pub fn origin_url(env: Env) -> String {
        env::config(&env).origin_url.clone()
    }

    /// Whether the demo visitor picker is on (`DEMO_PICKER=1`): the entry then asks
    /// [`Edge::picks`] before a store page's origin request.
    #[wasm_bindgen(js_name = demoPicker)]
    pub fn demo_picker(env: Env) -> bool {
        env::config(&env).demo_picker
    }

    /// Whether a `GET` or `HEAD` with this query (the URL's `search`) is the demo picker's
    /// (`?vitrine_as=`): answered by [`Edge::fetch`], never asked of the origin.
    pub fn picks(search: String) -> bool {
        query::get(search.strip_prefix('?').unwrap_or(&search), PICKER_PARAM).is_some()
    }

    /// The request headers [`Edge::hot`] takes, in its order (one definition: `REQUEST_HEADERS`).
    #[wasm_bindgen(js_name = requestHeaders)]
    pub fn request_headers() -> Vec<String> {
        owned(&REQUEST_HEADERS)
    }

    /// The request headers [`Edge::hot`] takes last, in its order (`pages::PAGE_LOAD_HEADERS`).
    #[wasm_bindgen(js_name = pageLoadHeaders)]
    pub fn page_load_headers() -> Vec<String> {
        owned(&PAGE_LOAD_HEADERS)
    }

    /// The origin response headers [`HotPage::answer`] takes, in its order (`page::ORIGIN_HEADERS`).
    #[wasm_bindgen(js_name = originHeaders)]
    pub fn origin_headers() -> Vec<String> {
        owned(&page::ORIGIN_HEADERS)
    }

    /// The origin's response header that signs customers in and out (handled by the async path).
    #[wasm_bindgen(js_name = originIdentityHeader)]
    pub fn origin_identity_header() -> String {
        identity::ORIGIN_HEADER.into()
    }

    /// How long after the document's end a page view's exposures are sent.
    #[wasm_bindgen(js_name = sendAfterMs)]
    pub fn send_after_ms() -> u32 {
        SEND_AFTER_MS as u32
    }

    #[wasm_bindgen(js_name = slotAttribute)]
    pub fn slot_attribute() -> String {
        SLOT_ATTR.into()
    }

    #[wasm_bindgen(js_name = slotSelector)]
    pub fn slot_selector() -> String {
        SLOT_SELECTOR.into()
    }
}

/// A list of names as JavaScript strings (what the entry reads once per isolate).
fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}
