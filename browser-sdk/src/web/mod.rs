//! The browser host: wires the engine and the pure modules to the page.
//!
//! One SDK per page, held in a [`PageLocal`] static. Every entry point (the public API, and the
//! loader's listeners, timers and fetch callbacks) goes through [`with_host`], which also
//! delivers `vitrine.on` notifications only after the host is released, so a listener may call
//! the API again.
//!
//! The page itself (DOM, storage, cookies, listeners, timers, fetch, the exit-offer dialog) is
//! the loader's page side, browser-sdk/js/page.js, reached through [`io`]: this module decides,
//! the page side does. Listeners and callbacks there call our exports back (`observe`, `wake`,
//! `sent`, ...): each Rust closure handed to JavaScript would cost its own glue in the download.

mod io;
mod js;
mod slots;

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use vitrine_engine::context::{is_valid_visitor_id, Device, Page, Visitor, CART_COOKIE, VISITOR_COOKIE};
use vitrine_engine::{Engine, Explain, OfferDecision};
use wasm_bindgen::prelude::*;

use crate::exit_intent::{ExitConfig, ExitIntent, Input, Surface};
use crate::message::{self, Kind};
use crate::outbox::{Gate, Outbox, OutboxConfig};
use crate::session::{self, EventFacts, Learn, Profile, SessionState};
use io::{now_ms, now_secs, Store};

const SESSION_KEY: &str = "vitrine:session";
const PROFILE_KEY: &str = "vitrine:profile";
const OUTBOX_KEY: &str = "vitrine:outbox";
const VISITOR_COOKIE_SECONDS: i64 = 365 * 24 * 3600;
const CART_COOKIE_SECONDS: i64 = 30 * 24 * 3600;

/// Which events the SDK sends by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AutoTrack {
    /// `page` on every page, plus `Product Viewed` on product pages.
    All,
    /// `page` only (the site tracks its own e-commerce events).
    Page,
    Off,
}

/// Settings from the script tag's data attributes (read by the loader).
struct Options {
    events_url: String,
    require_consent: bool,
    exit: ExitConfig,
    back_intent: bool,
    auto_track: AutoTrack,
    profile_cookie: String,
}

impl Options {
    fn read(o: &JsValue) -> Options {
        let defaults = ExitConfig::default();
        // The loader always passes one (the page's origin by default).
        let endpoint = js::get_string(o, "endpoint").unwrap_or_default();
        Options {
            events_url: [endpoint.trim_end_matches('/'), "/v1/events"].concat(),
            require_consent: js::get_bool(o, "requireConsent").unwrap_or(false),
            exit: ExitConfig {
                min_dwell_ms: js::get_f64(o, "exitDwellMs").unwrap_or(defaults.min_dwell_ms),
                idle_ms: js::get_f64(o, "exitIdleMs").unwrap_or(defaults.idle_ms),
                ..defaults
            },
            back_intent: js::get_bool(o, "backIntent").unwrap_or(true),
            auto_track: match js::get_string(o, "autoTrack").as_deref() {
                Some("page") => AutoTrack::Page,
                Some("off") => AutoTrack::Off,
                _ => AutoTrack::All,
            },
            profile_cookie: js::get_string(o, "profileCookie").unwrap_or_else(|| "vt_profile".into()),
        }
    }
}

/// Where the visitor is now (read from the page on every `page()`).
#[derive(Default)]
struct PageFacts {
    path: String,
    url: String,
    title: String,
    referrer: String,
    /// The visitor's clock: minutes ahead of UTC.
    utc_offset_minutes: i64,
    page: Page,
}

struct Host {
    engine: Engine,
    options: Options,
    session: SessionState,
    profile: Profile,
    outbox: Outbox,
    exit: ExitIntent,
    device: Device,
    here: PageFacts,
    /// The flush timer and when it fires.
    timer: Option<(i32, f64)>,
    /// The product this page view already learned from (an explicit `Product Viewed` for it
    /// does not count twice).
    viewed_here: Option<String>,
    /// We pushed a history entry on this page to catch a back press.
    back_armed: bool,
    /// The shared cookies' values as last read or written (reading them again is slow).
    cookie_visitor: Option<String>,
    cookie_interests: Option<String>,
    /// The exit offer on screen, and the `Promotion Clicked` properties its call to action sends.
    offer_open: Option<(String, String)>,
    /// Notifications for `vitrine.on`, delivered once the host is released.
    pending: Vec<(&'static str, JsValue)>,
}

static HOST: PageLocal<RefCell<Option<Host>>> = PageLocal::new(RefCell::new(None));

/// State that lives as long as the page: a `static` the SDK's one thread owns. (The SDK is
/// `no_std`, so there is no `thread_local!`; wasm32 without the atomics feature has one thread.)
pub(crate) struct PageLocal<T>(T);

// SAFETY: the browser runs this module on one thread: wasm32 without the atomics feature cannot
// share memory with another thread (the compile_error below keeps it that way).
unsafe impl<T> Sync for PageLocal<T> {}
#[cfg(target_feature = "atomics")]
compile_error!("the browser SDK keeps page state in PageLocal statics: build it without atomics");

impl<T> PageLocal<T> {
    pub(crate) const fn new(value: T) -> Self {
        PageLocal(value)
    }
    pub(crate) fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }
}

/// Runs `f` on the host, then delivers the notifications it queued.
fn with_host<R>(f: impl FnOnce(&mut Host) -> R) -> Option<R> {
    let (result, pending) = HOST.with(|cell| {
        let mut guard = cell.try_borrow_mut().ok()?;
        let host = guard.as_mut()?;
        let result = f(host);
        Some((result, core::mem::take(&mut host.pending)))
    })?;
    for (name, payload) in pending {
        io::emit(name, &payload);
    }
    Some(result)
}

/// Starts the SDK on this page with a bundle's bytes; `page` is the loader's page side
/// (`vitrinePage(...)`, browser-sdk/js/page.js). Returns how many slots were filled.
#[wasm_bindgen]
pub fn start(options: JsValue, bundle: &[u8], page: io::Loader) -> Result<u32, JsError> {
    io::install(page);
    let engine = Engine::load(bundle).map_err(|e| JsError::new(&e.to_string()))?;
    let options = Options::read(&options);
    let jar = io::Cookies::read();
    let here = io::here();
    let (profile, found) = load_profile(&options, &jar);
    let gate = match (options.require_consent, profile.consent) {
        (_, Some(false)) => Gate::Closed,
        (_, Some(true)) | (false, None) => Gate::Open,
        (true, None) => Gate::Held,
    };
    let mut outbox = Outbox::new(OutboxConfig::default(), gate);
    // Before this page queues anything: saving the outbox overwrites what is stored.
    let restored = if gate == Gate::Held { Ok(()) } else { outbox.restore(&io::read(Store::Local, OUTBOX_KEY).unwrap_or_default(), now_ms()) };
    let mut session = io::read(Store::Session, SESSION_KEY).and_then(|s| SessionState::decode(&s)).unwrap_or_default();
    if session.page_views == 0 {
        session.new_visitor = found.first_visit;
        session.landing = landing(&here);
    }
    // The store's pages (or the edge) may keep the cart in the shared cookie: it wins. So do
    // interests another tab of this session wrote.
    if let Some(cart) = cart_from_cookie(&jar) {
        session.cart = cart;
    }
    let interests_cookie = jar.get(vitrine_engine::context::INTERESTS_COOKIE);
    if let Some((categories, products, at)) = interests_cookie.as_deref().and_then(vitrine_engine::context::parse_interests_cookie) {
        if at >= session.interests_at {
            (session.categories, session.products, session.interests_at) = (categories, products, at);
        }
    }
    let device = Device::from_user_agent(&js::get_string(&here, "userAgent").unwrap_or_default());
    let host = Host {
        exit: ExitIntent::spent(options.exit, Surface::of(device), now_ms()),
        engine,
        options,
        session,
        profile,
        outbox,
        device,
        here: PageFacts::default(),
        timer: None,
        viewed_here: None,
        back_armed: false,
        cookie_visitor: jar.get(VISITOR_COOKIE),
        cookie_interests: interests_cookie,
        offer_open: None,
        pending: Vec::new(),
    };
    HOST.with(|cell| cell.borrow_mut().replace(host));
    let filled = with_host(|h| {
        if let Err(refusal) = restored {
            h.error(&["stored events: ", refusal.reason()].concat());
        }
        let filled = h.begin_page();
        h.settle_in(found.unsaved);
        filled
    });
    Ok(filled.unwrap_or(0))
}

/// Records a page view (single-page apps call this after a route change): learns from the
/// URL, fills new slots, sends `page`. Returns how many slots were filled.
#[wasm_bindgen]
pub fn page() -> u32 {
    with_host(Host::begin_page).unwrap_or(0)
}

/// `vitrine.track(event, properties)`: a Segment e-commerce v2 event (or any custom one).
#[wasm_bindgen]
pub fn track(event: &str, properties: JsValue) {
    with_host(|h| h.track(event, &properties));
}

/// `vitrine.identify(userId, traits)`.
#[wasm_bindgen]
pub fn identify(user_id: Option<String>, traits: JsValue) {
    with_host(|h| h.identify(user_id, &traits));
}

/// `vitrine.consent(granted)`.
#[wasm_bindgen]
pub fn consent(granted: bool) {
    with_host(|h| h.consent(granted));
}

/// `vitrine.decide(placement)`: the decision for this visitor now, as a plain object.
#[wasm_bindgen]
pub fn decide(placement: &str) -> Result<JsValue, JsError> {
    with_host(|h| {
        let v = h.visitor();
        h.engine.decide(&v, placement, now_secs()).map(|d| js::decision_js(&d)).map_err(|e| JsError::new(&e.to_string()))
    })
    .unwrap_or_else(|| Err(JsError::new("vitrine is not started")))
}

/// Shows the exit-intent offer now (for sites with their own trigger). False when it was
/// already shown this session, right after a purchase, or no scenario matches.
#[wasm_bindgen(js_name = showExitOffer)]
pub fn show_exit_offer() -> bool {
    with_host(|h| h.exit_intent("api")).unwrap_or(false)
}

/// Sends what is queued now (sendBeacon), as on page hide.
#[wasm_bindgen]
pub fn flush() {
    with_host(Host::flush_for_unload);
}

/// How the profile was found: `first_visit` when this browser had none stored (the visitor is
/// new, even if the edge set their id cookie on this very response); `unsaved` when what is
/// stored must be written (new, or the shared id cookie changed it).
struct Found {
    first_visit: bool,
    unsaved: bool,
}

fn load_profile(options: &Options, jar: &io::Cookies) -> (Profile, Found) {
    let stored = io::read(Store::Local, PROFILE_KEY).or_else(|| io::read(Store::Session, PROFILE_KEY)).unwrap_or_default();
    let (mut p, created) = match Profile::decode(&stored) {
        Some((mut p, traits)) => {
            p.traits = traits.and_then(js::parse).map(|t| js::to_value(&t)).unwrap_or_default();
            (p, false)
        }
        None => (Profile { visitor_id: io::new_id(), ..Profile::default() }, true),
    };
    // One id per visitor for edge and browser (experiments bucket by it): a readable
    // `vt_vid` cookie, the edge's or ours from an earlier page, wins.
    let mut unsaved = created;
    if let Some(id) = jar.get(VISITOR_COOKIE).filter(|id| is_valid_visitor_id(id)) {
        unsaved |= id != p.visitor_id;
        p.visitor_id = id;
    }
    // The edge's signed profile cookie is the freshest word on a known customer.
    if let Some(vitrine_engine::Value::Object(traits)) = profile_cookie_traits(jar, &options.profile_cookie) {
        merge_traits(&mut p.traits, traits);
    }
    (p, Found { first_visit: created, unsaved })
}

fn merge_traits(traits: &mut vitrine_engine::Value, new: vitrine_engine::Map) {
    if !matches!(traits, vitrine_engine::Value::Object(_)) {
        *traits = vitrine_engine::Value::object();
    }
    for (k, v) in new {
        traits.set(&k, v);
    }
}

/// The cart the store's pages (or the edge) keep in the shared cookie, when there is one.
fn cart_from_cookie(jar: &io::Cookies) -> Option<Vec<(String, u32)>> {
    jar.get(CART_COOKIE).map(|raw| vitrine_engine::context::parse_cart_cookie(&raw))
}

fn write_cart_cookie(cart: &[(String, u32)]) {
    let value = vitrine_engine::context::cart_cookie(cart);
    io::set_cookie(CART_COOKIE, &value, Some(if cart.is_empty() { 0 } else { CART_COOKIE_SECONDS }));
}

/// Traits from the edge's signed profile cookie when the page can read it. Unverified here:
/// they only choose what to show; the edge verifies before honouring anything.
fn profile_cookie_traits(jar: &io::Cookies, name: &str) -> Option<vitrine_engine::Value> {
    let token = jar.get(name)?;
    let payload = vitrine_engine::token::unverified_payload(&token).ok()?;
    let parsed = js::parse(core::str::from_utf8(&payload).ok()?)?;
    let traits = js::get(&parsed, "traits");
    Some(js::to_value(if traits.is_object() { &traits } else { &parsed }))
}

/// How the session arrived: referrer and UTM parameters of its first page.
fn landing(here: &JsValue) -> session::Landing {
    session::Landing {
        referrer: js::get_string(here, "referrer"),
        utm_source: io::param("utm_source"),
        utm_medium: io::param("utm_medium"),
        utm_campaign: io::param("utm_campaign"),
    }
}

/// The loader's listeners and callbacks (not part of `window.vitrine`).
///
/// `observe(kind, y)`: exit-intent input. 0: the pointer left the document at height `y`;
/// 1: the page scrolled to `y`; 2: key, pointer or touch activity.
#[wasm_bindgen]
pub fn observe(kind: u8, y: f64) {
    let input = match kind {
        0 => Input::PointerLeft { y },
        1 => Input::Scrolled { y },
        _ => Input::Activity,
    };
    with_host(|h| h.observe(input));
}

/// The visitor pressed back onto the page's own entry (off our history sentinel). True when
/// they should leave as they asked: no offer was due.
#[wasm_bindgen]
pub fn back() -> bool {
    // Only our sentinel's pop: a site's own router entries are none of our business.
    let outcome = with_host(|h| core::mem::take(&mut h.back_armed).then(|| h.observe(Input::BackRequested)));
    outcome == Some(Some(false))
}

/// The module's timers, by the number it gives the page side ([`io::after`]).
const FLUSH_TIMER: u8 = 0;
const IDLE_TIMER: u8 = 1;

/// A timer set through [`io::after`] fired.
#[wasm_bindgen]
pub fn wake(timer: u8) {
    if timer == FLUSH_TIMER {
        with_host(|h| {
            h.timer = None;
            h.pump();
        });
    } else {
        with_host(|h| h.observe(Input::Tick));
    }
}

/// How a POST of batch `batch` ended: `retry` for a network error, 5xx, 408 or 429 (else it
/// was taken, or refused for good); `reasons`: a refusal's response body.
#[wasm_bindgen]
pub fn sent(batch: u32, retry: bool, reasons: Option<String>) {
    with_host(|h| {
        if retry {
            h.outbox.failed(batch, now_ms(), js_sys::Math::random());
        } else {
            h.outbox.acknowledged(batch);
        }
        if let Some(reasons) = reasons.filter(|r| !r.is_empty()) {
            h.error(&["events refused by the endpoint: ", &reasons].concat());
        }
        h.save_outbox();
        h.pending.push(("sent", JsValue::from_bool(!retry)));
        h.pump();
    });
}

/// Back online: send what waits now.
#[wasm_bindgen]
pub fn resume() {
    with_host(Host::pump);
}

/// The exit offer's call to action was followed (the page navigates next).
#[wasm_bindgen(js_name = offerClicked)]
pub fn offer_clicked() {
    with_host(|h| {
        // Once per offer: the properties are taken.
        if let Some(props) = h.offer_open.as_mut().map(|(_, props)| core::mem::take(props)).filter(|p| !p.is_empty()) {
            h.enqueue(Kind::Track("Promotion Clicked"), &props);
            // Send now rather than wait for the batch.
            h.flush_for_unload();
        }
    });
}

/// The exit-offer dialog closed: `reason` is "escape" or "dismissed".
#[wasm_bindgen(js_name = offerClosed)]
pub fn offer_closed(reason: &str) {
    with_host(|h| {
        if let Some((id, _)) = h.offer_open.take() {
            h.pending.push(("offer_closed", js::object_of(&[("id", JsValue::from_str(&id)), ("reason", JsValue::from_str(reason))])));
        }
    });
}

impl Host {
    fn begin_page(&mut self) -> u32 {
        let here = io::here();
        let fact = |key| js::get_string(&here, key).unwrap_or_default();
        let path = fact("path");
        self.here = PageFacts {
            page: self.engine.page(&path),
            path,
            url: fact("url"),
            title: fact("title"),
            referrer: fact("referrer"),
            utc_offset_minutes: js::get_f64(&here, "utcOffset").unwrap_or(0.0) as i64,
        };
        self.session.page_views = self.session.page_views.saturating_add(1);
        self.viewed_here = None;
        let promised = self.deep_link();
        self.learn_from_page();

        let filled = self.fill_slots();
        io::mark("vitrine:filled");
        self.save_session();

        self.send_page_events();
        let now = now_ms();
        let spent = self.session.exit_offer_shown || self.session.purchased;
        self.exit = if spent {
            ExitIntent::spent(self.options.exit, Surface::of(self.device), now)
        } else {
            ExitIntent::new(self.options.exit, Surface::of(self.device), now)
        };
        self.arm_back_sentinel();
        self.schedule_idle_check();
        if let Some(offer) = promised {
            self.show_offer(offer, "deep_link");
        }
        filled
    }

    /// A `vt` token in the URL (from an email or SMS): remembers the promised offer and
    /// returns it to show, then removes the token from the address bar.
    fn deep_link(&mut self) -> Option<OfferDecision> {
        let token = io::param("vt")?;
        io::drop_param("vt");
        let payload = vitrine_engine::token::unverified_payload(&token).ok()?;
        let parsed = js::parse(core::str::from_utf8(&payload).ok()?)?;
        let id = js::get_string(&parsed, "offer")?;
        self.engine.offer(&id)?;
        self.session.promised_offer = Some(id);
        // Behind the worker the edge may have rendered the offer already.
        if io::offer_on_page() {
            return None;
        }
        self.promised_offer("deep_link")
    }

    fn promised_offer(&self, rule: &str) -> Option<OfferDecision> {
        let offer = self.engine.offer(self.session.promised_offer.as_deref()?)?;
        let v = self.visitor();
        let explain = Explain { rule: [rule, ".offers.", &offer.id].concat(), segment: v.segment().into(), ..Explain::default() };
        Some(self.engine.render_offer(offer, self.engine.attributes(&v), explain))
    }

    /// Product and category pages teach the session by themselves.
    fn learn_from_page(&mut self) {
        let catalog = &self.engine.body().catalog;
        let page = &self.here.page;
        let lesson = if let Some(p) = page.product.and_then(|p| catalog.get(p)) {
            self.viewed_here = Some(p.sku.clone());
            Some(Learn::ProductViewed(p.sku.clone()))
        } else {
            page.category.and_then(|c| catalog.categories.get(c as usize)).map(|c| Learn::CategoryViewed(c.clone()))
        };
        if let Some(lesson) = lesson {
            self.session.learn(catalog, lesson, now_secs());
        }
    }

    fn visitor(&self) -> Visitor {
        let catalog = &self.engine.body().catalog;
        self.session.visitor(&self.profile, catalog, self.here.page.clone(), self.device, None)
    }

    fn fill_slots(&mut self) -> u32 {
        let v = self.visitor();
        let outcomes = slots::fill(&self.engine, &v, now_secs());
        let mut filled = 0;
        for outcome in outcomes {
            match outcome {
                slots::Outcome::Decided(d) => {
                    filled += u32::from(d.status == vitrine_engine::Status::Filled);
                    self.pending.push(("decision", js::decision_js(&d)));
                }
                slots::Outcome::Unknown(p) => self.error(&[&p, ": no such placement in the bundle; original content kept"].concat()),
                slots::Outcome::TooLate(p) => self.error(&[&p, ": decided after the anti-flicker timeout; original content kept"].concat()),
            }
        }
        filled
    }

    fn send_page_events(&mut self) {
        if self.options.auto_track == AutoTrack::Off {
            return;
        }
        let props = message::page_properties(&self.context());
        self.enqueue(Kind::Page, &props);
        if self.options.auto_track != AutoTrack::All {
            return;
        }
        let catalog = &self.engine.body().catalog;
        if let Some(p) = self.here.page.product.and_then(|p| catalog.get(p)) {
            let mut props = String::new();
            let mut o = crate::json::Object::new(&mut props);
            o.str("product_id", &p.sku).str("sku", &p.sku).str("name", &p.title).str("url", &p.url).str("image_url", &p.image);
            // Two decimals, as the engine shows prices ("2.50").
            o.raw("price", &vitrine_engine::two_decimals(f64::from(p.price)));
            if let Some(c) = p.category.and_then(|c| catalog.categories.get(c as usize)) {
                o.str("category", c);
            }
            o.str("currency", &self.engine.body().store.currency);
            o.end();
            self.enqueue(Kind::Track("Product Viewed"), &props);
        }
    }

    fn context(&self) -> message::Context<'_> {
        message::Context {
            anonymous_id: &self.profile.visitor_id,
            user_id: self.profile.user_id.as_deref(),
            path: &self.here.path,
            url: &self.here.url,
            title: &self.here.title,
            referrer: &self.here.referrer,
            page_type: &self.here.page.kind,
            utc_offset_minutes: self.here.utc_offset_minutes,
        }
    }

    fn track(&mut self, event: &str, properties: &JsValue) {
        let facts = event_facts(properties);
        if let Some(lesson) = session::learning(event, &facts) {
            let repeat_view = matches!(&lesson, Learn::ProductViewed(sku) if self.viewed_here.as_ref() == Some(sku));
            if matches!(lesson, Learn::Purchased) {
                self.exit.disarm();
            }
            if !repeat_view {
                let cart_before = self.session.cart.clone();
                self.session.learn(&self.engine.body().catalog, lesson, now_secs());
                if self.session.cart != cart_before {
                    write_cart_cookie(&self.session.cart);
                }
                self.save_session();
            }
        }
        self.enqueue(Kind::Track(event), &js::stringify_object(properties));
    }

    fn identify(&mut self, user_id: Option<String>, traits: &JsValue) {
        if user_id.is_some() {
            self.profile.user_id = user_id;
        }
        if let vitrine_engine::Value::Object(new) = js::to_value(traits) {
            merge_traits(&mut self.profile.traits, new);
        }
        self.save_profile();
        self.enqueue(Kind::Identify, &js::stringify_object(traits));
    }

    fn consent(&mut self, granted: bool) {
        self.profile.consent = Some(granted);
        if granted {
            self.outbox.grant();
            self.enqueue(Kind::Consent(true), "{}");
            self.share_visitor_id();
        } else {
            // A revocation must reach the endpoint (it stops running journeys); a refusal
            // before any consent sends nothing at all.
            if self.outbox.gate() == Gate::Open {
                self.enqueue(Kind::Consent(false), "{}");
            }
            let discarded = self.outbox.deny();
            if discarded > 0 {
                let mut reason = String::from("consent refused: ");
                crate::json::push_int(&mut reason, discarded as i64);
                reason.push_str(" events collected before it were discarded, unsent");
                self.error(&reason);
            }
        }
        self.save_profile();
        self.save_outbox();
        self.pending.push(("consent", JsValue::from_bool(granted)));
    }

    fn enqueue(&mut self, kind: Kind, payload: &str) {
        let json = message::envelope(kind, payload, &self.context(), &io::new_id(), now_ms() as i64);
        let name = match kind {
            Kind::Track(e) => e,
            Kind::Page => "page",
            Kind::Identify => "identify",
            Kind::Consent(_) => "consent",
        };
        match self.outbox.push(json, now_ms()) {
            Ok(()) => {
                self.save_outbox();
                self.pending.push(("event", JsValue::from_str(name)));
            }
            Err(refusal) => self.error(&[name, ": ", refusal.reason()].concat()),
        }
        self.schedule();
    }

    /// Sets the flush timer for the outbox's next wake-up (keeping an earlier one).
    fn schedule(&mut self) {
        let Some(due) = self.outbox.next_wakeup() else { return };
        if let Some((_, at)) = self.timer {
            if at <= due {
                return;
            }
        }
        if let Some((id, _)) = self.timer.take() {
            io::cancel(id);
        }
        let id = io::after(FLUSH_TIMER, due - now_ms());
        self.timer = Some((id, due));
    }

    /// Sends the batch that is due, if any (the loader reports to [`sent`]).
    fn pump(&mut self) {
        if let Some(batch) = self.outbox.poll(now_ms(), io::online()) {
            io::post(&self.options.events_url, &batch.body, batch.id);
        }
        self.schedule();
    }

    fn flush_for_unload(&mut self) {
        let bodies = self.outbox.beacon_bodies(now_ms());
        let accepted = bodies.iter().take_while(|b| io::beacon(&self.options.events_url, b)).count();
        self.outbox.beaconed(accepted);
        self.save_outbox();
        self.save_session();
    }

    fn observe(&mut self, input: Input) -> bool {
        let now = now_ms();
        let fired = self.exit.observe(input, now);
        self.schedule_idle_check();
        match fired {
            Some(trigger) => self.exit_intent(trigger.as_str()),
            None => false,
        }
    }

    /// The exit-intent moment: the promised offer if a deep link brought one, else the
    /// engine's pick by scenario. Once per session, never after a purchase.
    fn exit_intent(&mut self, trigger: &str) -> bool {
        self.exit.disarm();
        if self.session.exit_offer_shown || self.session.purchased || self.offer_open.is_some() {
            return false;
        }
        let offer = match self.promised_offer("exit_intent") {
            Some(o) => Some(o),
            None => self.engine.exit_offer(&self.visitor(), now_secs()),
        };
        let Some(offer) = offer else { return false };
        self.session.exit_offer_shown = true;
        self.save_session();
        self.show_offer(offer, trigger);
        true
    }

    fn show_offer(&mut self, offer: OfferDecision, trigger: &str) {
        let mut props = String::new();
        let mut o = crate::json::Object::new(&mut props);
        o.str("promotion_id", &offer.id).str("name", &offer.headline).str("creative", &offer.scenario).str("position", trigger);
        o.end();
        self.enqueue(Kind::Track("Promotion Viewed"), &props);
        self.pending.push(("offer", js::offer_js(&offer, trigger)));
        io::show_offer(&offer.html, &offer.id, &offer.scenario);
        self.offer_open = Some((offer.id, props));
    }

    /// Touch devices: one history entry to catch a back press (only while the detector
    /// can still fire, and never on top of an earlier sentinel).
    fn arm_back_sentinel(&mut self) {
        if !self.options.back_intent || self.exit.is_spent() || Surface::of(self.device) != Surface::Touch {
            return;
        }
        self.back_armed = io::arm_back();
    }

    /// Idle detection needs a timer; the detector says when.
    fn schedule_idle_check(&self) {
        if let Some(at) = self.exit.next_check_at() {
            io::after(IDLE_TIMER, at - now_ms());
        }
    }

    /// Writes the `vt_vid` cookie so the edge uses our id too (never before consent when
    /// the site requires it).
    fn share_visitor_id(&mut self) {
        if self.may_store() && self.cookie_visitor.as_deref() != Some(self.profile.visitor_id.as_str()) {
            io::set_cookie(VISITOR_COOKIE, &self.profile.visitor_id, Some(VISITOR_COOKIE_SECONDS));
            self.cookie_visitor = Some(self.profile.visitor_id.clone());
        }
    }

    /// What can wait until the slots are filled: the visitor's id for the edge (a cookie
    /// write), a new visitor's profile.
    fn settle_in(&mut self, unsaved_profile: bool) {
        self.share_visitor_id();
        if unsaved_profile {
            self.save_profile();
        }
    }

    /// Lasting storage (localStorage, cookies) is allowed: consent given, or not required.
    fn may_store(&self) -> bool {
        self.profile.consent == Some(true) || (!self.options.require_consent && self.profile.consent.is_none())
    }

    fn save_session(&mut self) {
        io::write(Store::Session, SESSION_KEY, &self.session.encode());
        if self.may_store() && self.session.interests_at != 0 {
            let cookie = self.session.interests_cookie();
            if self.cookie_interests.as_deref() != Some(cookie.as_str()) {
                io::set_cookie(vitrine_engine::context::INTERESTS_COOKIE, &cookie, None);
                self.cookie_interests = Some(cookie);
            }
        }
    }

    /// Nothing goes to lasting storage until consent when the site requires it.
    fn save_profile(&self) {
        let lasting = self.may_store();
        let traits = js::stringify(&js::from_value(&self.profile.traits));
        let encoded = self.profile.encode(&traits);
        if lasting {
            io::write(Store::Local, PROFILE_KEY, &encoded);
        } else {
            io::write(Store::Local, PROFILE_KEY, "");
            io::write(Store::Session, PROFILE_KEY, &encoded);
        }
    }

    fn save_outbox(&self) {
        if self.outbox.gate() != Gate::Held {
            io::write(Store::Local, OUTBOX_KEY, &self.outbox.stored());
        }
    }

    fn error(&mut self, reason: &str) {
        self.pending.push(("error", JsValue::from_str(reason)));
    }
}

/// Reads what the session learns from out of an event's properties.
fn event_facts(p: &JsValue) -> EventFacts {
    let product_of = |o: &JsValue| js::get_string(o, "product_id").or_else(|| js::get_string(o, "sku"));
    let quantity_of = |o: &JsValue| js::get_f64(o, "quantity").map(|q| q.clamp(0.0, 10_000.0) as u32);
    let products = js::get(p, "products");
    EventFacts {
        product: product_of(p),
        category: js::get_string(p, "category"),
        quantity: quantity_of(p),
        products: js_sys::Array::is_array(&products).then(|| {
            js_sys::Array::from(&products).iter().filter_map(|line| Some((product_of(&line)?, quantity_of(&line).unwrap_or(1)))).collect()
        }),
    }
}
