//! Every side effect of the SDK, through the loader's page side (browser-sdk/js/page.js): the
//! DOM, storage, cookies, timers, fetch and sendBeacon. A handful of coarse calls instead of
//! web-sys per DOM method: each web-sys method is a shim in the wasm and another in the glue,
//! and together they were a third of the download. Time and randomness come from js-sys.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::OnceCell;

use wasm_bindgen::prelude::*;

use super::PageLocal;
use crate::visit::Store;

#[wasm_bindgen]
extern "C" {
    /// The page side, made by the loader's `vitrinePage(sdk, emit, deadline)`.
    #[derive(Clone)]
    pub type Loader;

    /// Tells `vitrine.on(name)` listeners.
    #[wasm_bindgen(method)]
    fn emit(this: &Loader, name: &str, payload: &JsValue);
    /// `{path, url, title, referrer, userAgent, utcOffset, timeZone}` of the page now.
    #[wasm_bindgen(method)]
    fn here(this: &Loader) -> JsValue;
    /// A query parameter of the page's URL (null when absent).
    #[wasm_bindgen(method)]
    fn param(this: &Loader, name: &str) -> JsValue;
    #[wasm_bindgen(method, js_name = dropParam)]
    fn drop_param(this: &Loader, name: &str);
    #[wasm_bindgen(method, js_name = offerOnPage)]
    fn offer_on_page(this: &Loader) -> bool;
    #[wasm_bindgen(method, js_name = armBack)]
    fn arm_back(this: &Loader) -> bool;
    /// The placements of the slots still to decide, in document order.
    #[wasm_bindgen(method)]
    fn slots(this: &Loader) -> js_sys::Array;
    #[wasm_bindgen(method)]
    fn fill(this: &Loader, slot: u32, html: Option<&str>) -> bool;
    #[wasm_bindgen(method)]
    fn mark(this: &Loader, name: &str);
    #[wasm_bindgen(method)]
    fn read(this: &Loader, local: bool, key: &str) -> JsValue;
    #[wasm_bindgen(method)]
    fn write(this: &Loader, local: bool, key: &str, value: &str);
    #[wasm_bindgen(method)]
    fn cookies(this: &Loader) -> JsValue;
    #[wasm_bindgen(method, js_name = setCookie)]
    fn set_cookie(this: &Loader, text: &str);
    #[wasm_bindgen(method)]
    fn random(this: &Loader, bytes: &mut [u8]);
    /// Calls our `wake(timer)` after `ms` milliseconds; returns the timer's id.
    #[wasm_bindgen(method)]
    fn after(this: &Loader, timer: u8, ms: f64) -> i32;
    #[wasm_bindgen(method)]
    fn cancel(this: &Loader, id: i32);
    #[wasm_bindgen(method)]
    fn online(this: &Loader) -> bool;
    /// POSTs `body` (fetch, keepalive) and reports to our `sent(batch, retry, reasons)`.
    #[wasm_bindgen(method)]
    fn post(this: &Loader, url: &str, body: &str, batch: u32);
    #[wasm_bindgen(method)]
    fn beacon(this: &Loader, url: &str, body: &str) -> bool;
    /// Shows the exit-offer dialog; its call to action reports to `report(0)`, closing it to
    /// `report(1, reason)`. `capture` (`rules::Capture` as a number: 0 none, 1 email, 2 email
    /// and SMS): the dialog (js/dialog.js) shows its lead form instead of a code; `store`
    /// is then the store's name, for the SMS consent text.
    #[wasm_bindgen(method, js_name = showOffer)]
    fn show_offer(this: &Loader, html: &str, id: &str, scenario: &str, capture: u8, store: &str);
}

static LOADER: PageLocal<OnceCell<Loader>> = PageLocal::new(OnceCell::new());

/// The page side every call below goes through (set by the first `start`: one per page).
pub fn install(loader: Loader) {
    LOADER.with(|l| l.set(loader).ok());
}

fn with<R: Default>(f: impl FnOnce(&Loader) -> R) -> R {
    LOADER.with(|l| l.get().map(f)).unwrap_or_default()
}

pub fn emit(name: &str, payload: &JsValue) {
    with(|l| l.emit(name, payload));
}

/// Wall-clock unix milliseconds.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    with(|l| l.random(&mut bytes));
    // Without Web Crypto (very old browsers) fall back to Math.random: ids need only be unique.
    if bytes == [0; 16] {
        bytes.iter_mut().for_each(|b| *b = (js_sys::Math::random() * 256.0) as u8);
    }
    crate::json::uuid_v4(bytes)
}

/// Where the visitor is: `{path, url, title, referrer, userAgent, utcOffset, timeZone}`.
pub fn here() -> JsValue {
    with(|l| Some(l.here())).unwrap_or(JsValue::UNDEFINED)
}

/// A non-empty query parameter of the page's URL.
pub fn param(name: &str) -> Option<String> {
    with(|l| l.param(name).as_string()).filter(|v| !v.is_empty())
}

pub fn drop_param(name: &str) {
    with(|l| l.drop_param(name));
}

pub fn offer_on_page() -> bool {
    with(|l| l.offer_on_page())
}

/// Pushes the history entry that catches a back press; false when there already is one.
pub fn arm_back() -> bool {
    with(|l| l.arm_back())
}

pub fn slots() -> Vec<String> {
    with(|l| l.slots().iter().map(|s| s.as_string().unwrap_or_default()).collect())
}

/// Fills slot `i` of [`slots`] with `html`, or with `None` keeps the page's content. False:
/// too late (the loader's anti-flicker deadline passed), the page's content stays.
pub fn fill(i: u32, html: Option<&str>) -> bool {
    with(|l| l.fill(i, html))
}

/// A performance mark (the benchmark measures from the loader's start mark to this).
pub fn mark(name: &str) {
    with(|l| l.mark(name));
}

pub fn read(store: Store, key: &str) -> Option<String> {
    with(|l| l.read(store == Store::Local, key).as_string())
}

/// Stores `value` under `key` (an empty value removes it). Storage may be missing or full:
/// then the SDK forgets sooner.
pub fn write(store: Store, key: &str, value: &str) {
    with(|l| l.write(store == Store::Local, key, value));
}

/// `document.cookie`, read once: every access is a synchronous round trip to the browser's
/// network process.
pub fn cookies() -> String {
    with(|l| l.cookies().as_string()).unwrap_or_default()
}

/// Sets a site-wide cookie for `max_age` seconds (0 deletes it; None: until the browser
/// closes), as the edge sets its own (the page side adds `Secure` on https).
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>) {
    let mut c = String::with_capacity(name.len() + value.len() + 48);
    c.push_str(name);
    c.push('=');
    c.push_str(value);
    c.push_str("; Path=/; SameSite=Lax");
    if let Some(seconds) = max_age {
        c.push_str("; Max-Age=");
        crate::json::push_int(&mut c, seconds);
    }
    with(|l| l.set_cookie(&c));
}

/// Calls our `wake(timer)` after `ms` milliseconds; returns the timer's id.
pub fn after(timer: u8, ms: f64) -> i32 {
    with(|l| l.after(timer, ms))
}

pub fn cancel(id: i32) {
    with(|l| l.cancel(id));
}

pub fn online() -> bool {
    with(|l| l.online())
}

/// POSTs a batch; the page side reports to our `sent(batch, retry, reasons)`.
pub fn post(url: &str, body: &str, batch: u32) {
    with(|l| l.post(url, body, batch));
}

/// Queues `body` with sendBeacon; false when the browser refused it (too big, quota).
pub fn beacon(url: &str, body: &str) -> bool {
    with(|l| l.beacon(url, body))
}

pub fn show_offer(html: &str, id: &str, scenario: &str, capture: u8, store: &str) {
    with(|l| l.show_offer(html, id, scenario, capture, store));
}
