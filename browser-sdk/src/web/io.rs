//! The browser's side effects that need no callback, each in one small function: storage,
//! cookies, time, randomness and sendBeacon. (Timers, listeners and fetch call back into the
//! SDK: the loader does those, see `super::Page`.)

use alloc::string::{String, ToString};

use wasm_bindgen::JsCast;
use web_sys::{Document, Storage, Window};

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
