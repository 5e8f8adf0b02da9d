//! The browser's side effects, each in one small function: storage, time, randomness,
//! timers, listeners and the two ways to send (fetch with keepalive, sendBeacon).

use alloc::boxed::Box;
use alloc::string::{String, ToString};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Event, EventTarget, RequestInit, Response, Storage, Window};

use super::PageLocal;

pub fn window() -> Window {
    web_sys::window().expect("the SDK runs in a window")
}

pub fn document() -> Document {
    window().document().expect("a window has a document")
}

/// Wall-clock unix milliseconds.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Unix seconds, as the engine takes time.
pub fn now_secs() -> i64 {
    (now_ms() / 1000.0) as i64
}

pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if let Ok(crypto) = window().crypto() {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    // Without Web Crypto (very old browsers) fall back to Math.random: ids need only be unique.
    if bytes == [0; 16] {
        bytes.iter_mut().for_each(|b| *b = (js_sys::Math::random() * 256.0) as u8);
    }
    bytes
}

pub fn new_id() -> String {
    crate::json::uuid_v4(random_bytes())
}

/// Web Storage can be missing or throw (privacy modes, full quota): every access is fallible
/// and a failure only means the SDK forgets sooner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// This tab, until it closes.
    Session,
    /// This browser, across visits.
    Local,
}

fn storage(store: Store) -> Option<Storage> {
    match store {
        Store::Session => window().session_storage().ok().flatten(),
        Store::Local => window().local_storage().ok().flatten(),
    }
}

pub fn read(store: Store, key: &str) -> Option<String> {
    storage(store)?.get_item(key).ok().flatten()
}

pub fn write(store: Store, key: &str, value: &str) {
    if let Some(s) = storage(store) {
        let _ = if value.is_empty() { s.remove_item(key) } else { s.set_item(key, value) };
    }
}

/// The SDK's timers. One closure shape for all of them: each distinct Rust closure handed to
/// JavaScript costs its own glue in the wasm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The outbox's next wake-up.
    Flush,
    /// Exit intent's idle check.
    IdleCheck,
}

/// Calls `super::on_timer(timer)` after `ms` milliseconds; returns the timer id.
pub fn after(ms: f64, timer: Timer) -> i32 {
    let callback = Closure::once_into_js(move || super::on_timer(timer));
    window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms.clamp(0.0, 2_147_483_647.0) as i32)
        .unwrap_or(0)
}

pub fn cancel(timer: i32) {
    window().clear_timeout_with_handle(timer);
}

type Handler = fn(&Event);

/// (event type, handler): every DOM listener of the SDK goes through one JS function.
static HANDLERS: PageLocal<core::cell::RefCell<alloc::vec::Vec<(&'static str, Handler)>>> =
    PageLocal::new(core::cell::RefCell::new(alloc::vec::Vec::new()));
/// `Fn`, not `FnMut`: a handler may fire another event synchronously (focus() fires
/// focusin), and wasm-bindgen refuses to re-enter an `FnMut` closure.
static DISPATCH: PageLocal<core::cell::OnceCell<js_sys::Function>> = PageLocal::new(core::cell::OnceCell::new());

fn dispatch(e: Event) {
    let kind = e.type_();
    let handlers: alloc::vec::Vec<Handler> =
        HANDLERS.with(|h| h.borrow().iter().filter(|(k, _)| *k == kind).map(|(_, f)| *f).collect());
    handlers.into_iter().for_each(|f| f(&e));
}

/// Calls `handler` for `event` on `target` (capture phase) for the life of the page.
/// `passive` listeners promise never to cancel the event (smooth scrolling).
pub fn listen(target: &EventTarget, event: &'static str, passive: bool, handler: Handler) {
    HANDLERS.with(|h| h.borrow_mut().push((event, handler)));
    let options = web_sys::AddEventListenerOptions::new();
    options.set_passive(passive);
    options.set_capture(true);
    DISPATCH.with(|f| {
        let f = f.get_or_init(|| Closure::<dyn Fn(Event)>::new(dispatch).into_js_value().unchecked_into());
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(event, f, &options);
    });
}

/// How a POST ended, from the outbox's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Taken (2xx), or refused for good (4xx other than 408/429): do not send again.
    Done,
    /// Network error, 5xx, 408 or 429: try again later.
    Retry,
}

/// What `post` reports: the outcome, and for a refusal (4xx) the endpoint's reasons.
pub type OnSent = Box<dyn FnOnce(Sent, Option<String>)>;

/// POSTs `body` with keepalive (so it completes after the page unloads). `text/plain` keeps
/// it a "simple" request: no CORS preflight when the endpoint is on another origin.
pub fn post(url: &str, body: &str, done: OnSent) {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    // web-sys has no setter for keepalive yet: set the dictionary member directly.
    super::js::set(init.unchecked_ref(), "keepalive", true);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let headers = js_sys::Object::new();
    super::js::set(&headers, "content-type", "text/plain;charset=UTF-8");
    init.set_headers(&headers);
    let promise = window().fetch_with_str_and_init(url, &init);
    let done = alloc::rc::Rc::new(core::cell::Cell::new(Some(done)));
    let on_error = done.clone();
    let ok = Closure::once_into_js(move |response: JsValue| {
        let Some(f) = done.take() else { return };
        let response = response.dyn_into::<Response>().ok();
        match response.as_ref().map_or(0, |r| r.status()) {
            200..=299 => f(Sent::Done, None),
            408 | 429 => f(Sent::Retry, None),
            400..=499 => {
                // The reasons are in the body: read it, then report.
                let Some(text) = response.and_then(|r| r.text().ok()) else { return f(Sent::Done, None) };
                let f = alloc::rc::Rc::new(core::cell::Cell::new(Some(f)));
                let f2 = f.clone();
                let read = Closure::once_into_js(move |t: JsValue| {
                    if let Some(f) = f.take() {
                        f(Sent::Done, t.as_string());
                    }
                });
                let unread = Closure::once_into_js(move |_: JsValue| {
                    if let Some(f) = f2.take() {
                        f(Sent::Done, None);
                    }
                });
                then(&text, &read, &unread);
            }
            _ => f(Sent::Retry, None),
        }
    });
    let failed = Closure::once_into_js(move |_: JsValue| {
        if let Some(f) = on_error.take() {
            f(Sent::Retry, None);
        }
    });
    then(&promise, &ok, &failed);
}

/// `promise.then(ok, failed)` with self-freeing callbacks from `Closure::once_into_js`.
/// (The uncalled one of the pair stays allocated: a few bytes per request.)
fn then(promise: &JsValue, ok: &JsValue, failed: &JsValue) {
    if let Ok(then) = js_sys::Reflect::get(promise, &JsValue::from_str("then")).and_then(|f| f.dyn_into::<js_sys::Function>().map_err(Into::into)) {
        let _ = then.call2(promise, ok, failed);
    }
}

/// Queues `body` with sendBeacon; false when the browser refused it (too big, quota).
pub fn beacon(url: &str, body: &str) -> bool {
    window().navigator().send_beacon_with_opt_str(url, Some(body)).unwrap_or(false)
}

/// The cookies scripts can read, read once: every `document.cookie` access is a synchronous
/// round trip to the browser's network process.
pub struct Cookies(String);

impl Cookies {
    pub fn read() -> Cookies {
        let all = document().dyn_into::<web_sys::HtmlDocument>().ok().and_then(|d| d.cookie().ok());
        Cookies(all.unwrap_or_default())
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.split(';').find_map(|c| Some(c.trim().strip_prefix(name)?.strip_prefix('=')?.to_string())).filter(|v| !v.is_empty())
    }
}

/// Sets a site-wide cookie for `max_age` seconds (0 deletes it; None: until the browser
/// closes), as the edge sets its own.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>) {
    let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() else { return };
    let mut c = String::with_capacity(name.len() + value.len() + 48);
    c.push_str(name);
    c.push('=');
    c.push_str(value);
    c.push_str("; Path=/; SameSite=Lax");
    if let Some(seconds) = max_age {
        c.push_str("; Max-Age=");
        crate::json::push_int(&mut c, seconds);
    }
    if window().location().protocol().is_ok_and(|p| p == "https:") {
        c.push_str("; Secure");
    }
    let _ = doc.set_cookie(&c);
}

pub fn online() -> bool {
    window().navigator().on_line()
}

/// A performance mark (the benchmark measures from the loader's start mark to this).
pub fn mark(name: &str) {
    if let Some(p) = window().performance() {
        let _ = p.mark(name);
    }
}

/// Milliseconds since navigation start (for the slot deadline the loader sets).
pub fn since_navigation() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}
