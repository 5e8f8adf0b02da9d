//! The browser host: reads the page's facts into the [`Visit`] (crate::visit, where every
//! decision is made, tested natively) and carries its effects out. Nothing here decides.
//!
//! One SDK per page, held in a [`PageLocal`] static. Every entry point (the public API, and the
//! loader's listeners, timers and fetch callbacks) goes through [`with_host`], which carries
//! out the visit's effects and delivers `vitrine.on` notifications only after the host is
//! released, so a listener may call the API again.
//!
//! The page itself (DOM, storage, cookies, listeners, timers, fetch, the exit-offer dialog) is
//! the loader's page side, browser-sdk/js/page.js, reached through [`io`]. Listeners and
//! callbacks there call our exports back (`observe`, `wake`, `sent`, ...): each Rust closure
//! handed to JavaScript would cost its own glue in the download.

mod io;
mod js;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use vitrine_engine::rules::Capture;
use vitrine_engine::Value;
use vitrine_engine::{Decision, Engine};
use wasm_bindgen::prelude::*;

use crate::exit_intent::{ExitConfig, Input};
use crate::session::{EventFacts, Landing};
use crate::visit::{AutoTrack, Config, Effect, Env, PageFacts, Start, Store, Timer, Visit, OUTBOX_KEY, PROFILE_KEY, SESSION_KEY};
use io::now_ms;

struct Host {
    visit: Visit,
    /// `<endpoint>/v1/events`.
    events_url: String,
    /// The page side's id of the flush timer (a new one replaces it).
    flush_timer: Option<i32>,
    /// We pushed a history entry on this page to catch a back press.
    back_armed: bool,
    /// Slots filled since the page view began.
    filled: u32,
    /// The decisions this page view showed, and when, reported to the visit once it settled
    /// ([`Host::settle`]). Kept in the boxes the fill effects bring them in (unboxed: 52 B
    /// more of download).
    #[allow(clippy::vec_box)]
    shown: Vec<Box<Decision>>,
    shown_at: Option<f64>,
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

/// The page side's timer for [`Host::settle`] (after the visit's own, `Timer`).
const SETTLE: u8 = 2;

/// Runs `f` on the host (settled first), carries out the effects, then delivers the
/// notifications.
fn with_host<R>(f: impl FnOnce(&mut Host) -> R) -> Option<R> {
    let mut f = Some(f);
    let mut result = None;
    on_host(true, &mut |host| result = f.take().map(|f| f(host)));
    result
}

/// [`with_host`]'s body, once for every entry point (a `dyn` call rather than a copy per
/// closure: the download is a budget).
#[inline(never)]
fn on_host(settle: bool, f: &mut dyn FnMut(&mut Host)) {
    let Some(pending) = HOST.with(|cell| {
        let mut guard = cell.try_borrow_mut().ok()?;
        let host = guard.as_mut()?;
        if settle {
            host.settle();
        }
        f(host);
        host.carry_out();
        Some(core::mem::take(&mut host.pending))
    }) else {
        return;
    };
    for (name, payload) in pending {
        io::emit(name, &payload);
    }
}

/// What the visit borrows from the page: its JSON and Web Crypto.
const ENV: Env = Env { parse_json, to_json, new_id: io::new_id };

fn parse_json(text: &str) -> Option<Value> {
    js::parse(text).map(|v| js::to_value(&v))
}

fn to_json(v: &Value) -> String {
    js::stringify(&js::from_value(v))
}

/// Starts the SDK on this page with a bundle's bytes; `page` is the loader's page side
/// (`vitrinePage(...)`, browser-sdk/js/page.js). Returns how many slots were filled.
#[wasm_bindgen]
pub fn start(options: JsValue, bundle: &[u8], page: io::Loader) -> Result<u32, JsError> {
    io::install(page);
    let engine = Engine::load(bundle).map_err(|e| JsError::new(&e.text()))?;
    let o = &options;
    let defaults = ExitConfig::default();
    let config = Config {
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
        profile_cookie: js::get_string(o, "profileCookie").unwrap_or_else(|| vitrine_engine::cookies::PROFILE.into()),
    };
    // The loader always passes one (the page's origin by default).
    let endpoint = js::get_string(o, "endpoint").unwrap_or_default();
    let here = io::here();
    let start = Start {
        config,
        user_agent: js::get_string(&here, "userAgent").unwrap_or_default(),
        cookies: io::cookies(),
        stored_profile: io::read(Store::Local, PROFILE_KEY).or_else(|| io::read(Store::Session, PROFILE_KEY)),
        stored_session: io::read(Store::Session, SESSION_KEY),
        stored_outbox: io::read(Store::Local, OUTBOX_KEY),
        anonymous_id: js::get_string(o, "anonymousId"),
        landing: Landing {
            referrer: js::get_string(&here, "referrer"),
            utm_source: io::param("utm_source"),
            utm_medium: io::param("utm_medium"),
            utm_campaign: io::param("utm_campaign"),
        },
    };
    let visit = Visit::start_fill(engine, start, page_facts(&here, String::new(), None), ENV, now_ms());
    let host = Host {
        visit,
        events_url: [endpoint.trim_end_matches('/'), "/v1/events"].concat(),
        flush_timer: None,
        back_armed: false,
        filled: 0,
        shown: Vec::new(),
        shown_at: None,
        pending: Vec::new(),
    };
    HOST.with(|cell| cell.borrow_mut().replace(host));
    // The slots only: the rest of the page view waits for the settle timer, or the first call.
    let mut filled = 0;
    on_host(false, &mut |h| filled = h.take_filled());
    Ok(filled)
}

/// Where the visitor is: `here` (`{path, url, title, referrer, utcOffset, timeZone}`), the
/// slots to fill and a deep link's token, which leaves the address bar; and what
/// `vitrine.page()` said (`properties` as JSON text, the `product` they name).
fn page_facts(here: &JsValue, properties: String, product: Option<String>) -> PageFacts {
    let fact = |key| js::get_string(here, key).unwrap_or_default();
    let deep_link = io::param("vt");
    if deep_link.is_some() {
        io::drop_param("vt");
    }
    PageFacts {
        path: fact("path"),
        url: fact("url"),
        title: fact("title"),
        referrer: fact("referrer"),
        utc_offset_minutes: js::get_f64(here, "utcOffset").unwrap_or(0.0) as i64,
        timezone: fact("timeZone"),
        slots: io::slots(),
        offer_on_page: deep_link.is_some() && io::offer_on_page(),
        deep_link,
        properties,
        product,
    }
}

/// Records a page view (single-page apps call this after a route change): learns from the
/// URL (and the product `properties` name), fills new slots, sends `page`. `properties`:
/// Segment's `page(category, name, properties)` as the loader merges them (`name` and
/// `category` among the properties). Returns how many slots were filled.
#[wasm_bindgen]
pub fn page(properties: JsValue) -> u32 {
    let facts = page_facts(&io::here(), js::stringify_object(&properties), product_of(&properties));
    with_host(|h| {
        h.visit.page_fill(facts, now_ms());
        h.take_filled()
    })
    .unwrap_or(0)
}

/// `vitrine.reset()`: forgets the user, their traits and the anonymous id (a new one).
#[wasm_bindgen]
pub fn reset() {
    with_host(|h| h.visit.reset(now_ms()));
}

/// `vitrine.anonymousId(id?)` and `vitrine.user()`'s getters: `[userId or null, anonymousId,
/// traits]`, after setting the anonymous id to `id` if one is given. (One export for all:
/// each export costs its own glue.)
#[wasm_bindgen]
pub fn who(id: Option<String>) -> js_sys::Array {
    with_host(|h| {
        let anonymous = JsValue::from_str(h.visit.anonymous_id(id));
        let p = h.visit.profile();
        [p.user_id.as_deref().map_or(JsValue::NULL, JsValue::from_str), anonymous, js::from_value(&p.traits)].iter().collect()
    })
    .unwrap_or_else(js_sys::Array::new)
}

/// `vitrine.track(event, properties)`: a Segment e-commerce v2 event (or any custom one).
#[wasm_bindgen]
pub fn track(event: &str, properties: JsValue) {
    with_host(|h| h.visit.track(event, &event_facts(&properties), &js::stringify_object(&properties), now_ms()));
}

/// `vitrine.identify(userId, traits, { token })`: `user_id` None keeps the user, empty
/// (`identify(null)`) forgets them.
#[wasm_bindgen]
pub fn identify(user_id: Option<String>, traits: JsValue, token: String) {
    with_host(|h| h.visit.identify(user_id, js::to_value(&traits), &js::stringify_object(&traits), token, now_ms()));
}

/// `vitrine.consent(granted)` or `vitrine.consent({ personalization, email, sms, push })`: the
/// loader passes the personalization answer and the object's JSON (empty for a plain yes/no).
#[wasm_bindgen]
pub fn consent(personalization: Option<bool>, purposes: String) {
    with_host(|h| h.visit.consent(personalization, &purposes, now_ms()));
}

/// `vitrine.decide(placement)`: the decision for this visitor now, as a plain object.
#[wasm_bindgen]
pub fn decide(placement: &str) -> Result<JsValue, JsError> {
    with_host(|h| h.visit.decide(placement, now_ms()).map(|d| js::decision_js(&d)).map_err(|e| JsError::new(&e.text())))
        .unwrap_or_else(|| Err(JsError::new("vitrine is not started")))
}

/// Shows the exit-intent offer now (for sites with their own trigger). False when it was
/// already shown this session, right after a purchase, or no scenario matches.
#[wasm_bindgen(js_name = showExitOffer)]
pub fn show_exit_offer() -> bool {
    with_host(|h| h.visit.exit_intent("api", now_ms())).unwrap_or(false)
}

/// Sends what is queued now (sendBeacon), as on page hide.
#[wasm_bindgen]
pub fn flush() {
    with_host(|h| h.visit.flush(now_ms()));
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
    with_host(|h| h.visit.observe(input, now_ms()));
}

/// The visitor pressed back onto the page's own entry (off our history sentinel). True when
/// they should leave as they asked: no offer was due.
#[wasm_bindgen]
pub fn back() -> bool {
    // Only our sentinel's pop: a site's own router entries are none of our business.
    let outcome = with_host(|h| core::mem::take(&mut h.back_armed).then(|| h.visit.observe(Input::BackRequested, now_ms())));
    outcome == Some(Some(false))
}

/// A timer set through [`io::after`] fired: [`Timer`]'s number, or [`SETTLE`] (every entry
/// point settles first: nothing more to do).
#[wasm_bindgen]
pub fn wake(timer: u8) {
    with_host(|h| {
        let timer = match timer {
            0 => Timer::Flush,
            1 => Timer::Idle,
            _ => return,
        };
        if timer == Timer::Flush {
            h.flush_timer = None;
        }
        h.visit.wake(timer, now_ms(), io::online());
    });
}

/// How a POST of batch `batch` ended: `retry` for a network error, 5xx, 408 or 429 (else it
/// was taken, or refused for good); `reasons`: a refusal's response body.
#[wasm_bindgen]
pub fn sent(batch: u32, retry: bool, reasons: Option<String>) {
    with_host(|h| h.visit.sent(batch, retry, reasons.as_deref(), js_sys::Math::random(), now_ms(), io::online()));
}

/// Back online: send what waits now.
#[wasm_bindgen]
pub fn resume() {
    with_host(|h| h.visit.resume(now_ms(), io::online()));
}

/// What the visitor did to Vitrine's own content, reported by the page side (one export for
/// all three: each export costs its own glue). `kind` 0: the exit offer's call to action was
/// followed (the page navigates next); 1: the exit-offer dialog closed, `text` the reason
/// ("escape" or "dismissed"); 2: a link inside a slot was followed, `text` the slot's placement,
/// `sku` the item's SKU (`data-sku`; empty when the item names none).
#[wasm_bindgen]
pub fn report(kind: u8, text: &str, sku: &str) {
    with_host(|h| match kind {
        0 => h.visit.offer_clicked(now_ms()),
        1 => h.visit.offer_closed(text, now_ms()),
        _ => h.visit.product_clicked(text, sku, now_ms()),
    });
}

impl Host {
    /// The rest of the page view whose slots were filled ([`Visit::settle`]), then what they
    /// showed: once per page view, before anything else reaches the visit.
    fn settle(&mut self) {
        self.visit.settle();
        if let Some(at) = self.shown_at.take() {
            for d in core::mem::take(&mut self.shown) {
                self.visit.shown(&d, at);
            }
            self.visit.exposed(at);
        }
    }

    fn take_filled(&mut self) -> u32 {
        self.carry_out();
        core::mem::take(&mut self.filled)
    }

    /// Carries out the visit's effects, in order (a beacon's outcome goes back in at once).
    fn carry_out(&mut self) {
        while let Some(effect) = self.visit.poll_effect() {
            self.perform(effect);
        }
    }

    fn perform(&mut self, effect: Effect) {
        let note = match effect {
            Effect::Fill(i, placement, decision) => {
                // What fills a slot is the engine's one rule (`Decision::slot_html`, the edge's
                // too). The page side keeps the page's content without html, and refuses html
                // after the loader's anti-flicker deadline: a late decision never replaces content.
                let html = decision.as_ref().and_then(|d| d.slot_html());
                let in_time = io::fill(i, html);
                let fills = html.is_some();
                match decision {
                    Some(d) if in_time => {
                        self.filled += u32::from(fills);
                        let note = ("decision", js::decision_js(&d));
                        self.shown.push(d);
                        note
                    }
                    Some(_) => error(&[&placement, ": decided after the anti-flicker timeout; original content kept"].concat()),
                    None => error(&[&placement, ": no such placement in the bundle; original content kept"].concat()),
                }
            }
            Effect::Filled => {
                io::mark("vitrine:filled");
                self.shown_at = Some(now_ms());
                io::after(SETTLE, 0.0);
                return;
            }
            Effect::Store(store, key, value) => return io::write(store, key, &value),
            Effect::SetCookie(name, value, max_age) => return io::set_cookie(name, &value, max_age),
            Effect::Timer(timer, ms) => {
                let id = io::after(timer as u8, ms);
                if timer == Timer::Flush {
                    if let Some(old) = self.flush_timer.replace(id) {
                        io::cancel(old);
                    }
                }
                return;
            }
            Effect::Post(batch, body) => return io::post(&self.events_url, &body, batch),
            Effect::Beacon(bodies) => {
                let accepted = bodies.iter().take_while(|b| io::beacon(&self.events_url, b)).count();
                return self.visit.beaconed(accepted);
            }
            Effect::ArmBack => {
                self.back_armed = io::arm_back();
                return;
            }
            Effect::ShowOffer(offer, trigger, capture) => {
                let store = if capture == Capture::None { "" } else { self.visit.store_name() };
                io::show_offer(&offer.html, &offer.id, &offer.scenario, capture as u8, store);
                ("offer", js::offer_js(&offer, trigger))
            }
            Effect::Event(name) => ("event", JsValue::from_str(&name)),
            Effect::Error(reason) => error(&reason),
            Effect::Sent(ok) => ("sent", JsValue::from_bool(ok)),
            Effect::Consent(granted) => ("consent", JsValue::from_bool(granted)),
            Effect::OfferClosed(id, reason) => ("offer_closed", js::object_of(&[("id", JsValue::from_str(&id)), ("reason", JsValue::from_str(&reason))])),
        };
        self.pending.push(note);
    }
}

fn error(reason: &str) -> (&'static str, JsValue) {
    ("error", JsValue::from_str(reason))
}

/// The product properties name: `product_id`, else `sku` (Segment's e-commerce spec).
fn product_of(o: &JsValue) -> Option<String> {
    js::get_string(o, "product_id").or_else(|| js::get_string(o, "sku"))
}

/// Reads what the session learns from out of an event's properties.
fn event_facts(p: &JsValue) -> EventFacts {
    let quantity_of = |o: &JsValue| js::get_f64(o, "quantity").map(|q| q.clamp(0.0, 10_000.0) as u32);
    let products = js::get(p, "products");
    EventFacts {
        product: product_of(p),
        category: js::get_string(p, "category"),
        quantity: quantity_of(p),
        products: js_sys::Array::is_array(&products)
            .then(|| js_sys::Array::from(&products).iter().filter_map(|line| Some((product_of(&line)?, quantity_of(&line).unwrap_or(1)))).collect()),
    }
}
