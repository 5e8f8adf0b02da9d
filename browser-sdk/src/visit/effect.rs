//! What goes into a [`Visit`](super::Visit) besides API calls (the page's facts, settings, what
//! it borrows from its host) and what comes out of it: [`Effect`]s, plain values the host
//! carries out in order.
//!
//! Effects are one small enum pushed to a `Vec`: no trait objects, no generics, no formatting
//! (the SDK's download is a budget, ARCHITECTURE.md).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use vitrine_engine::rules::Capture;
use vitrine_engine::Value;
use vitrine_engine::{Decision, OfferDecision};

use crate::exit_intent::ExitConfig;
use crate::session::Landing;

/// Which events the SDK sends by itself (`data-auto-track`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoTrack {
    /// `page` on every page, plus `Product Viewed` on product pages.
    All,
    /// `page` only (the site tracks its own e-commerce events).
    Page,
    Off,
}

/// Settings from the script tag's data attributes (read by the loader).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub require_consent: bool,
    pub exit: ExitConfig,
    /// Watch the back button on touch devices (a history entry of ours).
    pub back_intent: bool,
    pub auto_track: AutoTrack,
    /// The edge's signed profile cookie (`cookies::PROFILE`, unless `data-profile-cookie` names another).
    pub profile_cookie: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            require_consent: false,
            exit: ExitConfig::default(),
            back_intent: true,
            auto_track: AutoTrack::All,
            profile_cookie: vitrine_engine::cookies::PROFILE.into(),
        }
    }
}

/// What the visit borrows from its host: JSON as the page parses and writes it (the browser's
/// `JSON`: no JSON codec ships in the wasm) and fresh random ids (Web Crypto). Plain function
/// pointers: tests pass their own.
#[derive(Clone, Copy)]
pub struct Env {
    /// JSON text to a value; None when it is not JSON.
    pub parse_json: fn(&str) -> Option<Value>,
    pub to_json: fn(&Value) -> String,
    /// A random UUID v4 (visitor ids, `messageId`s).
    pub new_id: fn() -> String,
}

/// What the host reads once, when the SDK starts on a page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Start {
    pub config: Config,
    pub user_agent: String,
    /// `document.cookie`.
    pub cookies: String,
    /// The stored profile: localStorage's, else sessionStorage's.
    pub stored_profile: Option<String>,
    /// sessionStorage's [`SESSION_KEY`](super::SESSION_KEY).
    pub stored_session: Option<String>,
    /// localStorage's [`OUTBOX_KEY`](super::OUTBOX_KEY).
    pub stored_outbox: Option<String>,
    /// The id the site gives the visitor (the loader's `anonymousId` option: with
    /// `data-ajs-anonymous-id`, Segment's `ajs_anonymous_id`): when valid, it wins over `vt_vid`
    /// and the stored id, so both tools' events join on it.
    pub anonymous_id: Option<String>,
    /// Referrer and UTM parameters of this page (kept if the session starts here).
    pub landing: Landing,
}

/// Where the visitor is now, read on every page view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageFacts {
    pub path: String,
    pub url: String,
    pub title: String,
    pub referrer: String,
    /// The visitor's clock: minutes ahead of UTC.
    pub utc_offset_minutes: i64,
    /// The browser's IANA time zone (`Temporal.Now.timeZoneId()`, else
    /// `Intl.DateTimeFormat().resolvedOptions().timeZone`).
    pub timezone: String,
    /// What `vitrine.page(category, name, properties)` said (empty for an automatic page view):
    /// its properties as JSON text (`name` and `category` among them, as Segment's analytics.js
    /// puts them), and the product they name (`product_id`, else `sku`): a single-page app's
    /// product page without a URL pattern.
    pub properties: String,
    pub product: Option<String>,
    /// The placements of the slots still to decide, in document order (the edge's are not).
    pub slots: Vec<String>,
    /// A `vt` deep-link token in the URL (the host takes it out of the address bar; only the
    /// edge can check it, and tells the offer in the `vt_offer` cookie).
    pub deep_link: Option<String>,
    /// The edge already rendered an offer into the page (read when there is a deep link).
    pub offer_on_page: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// This tab, until it closes (sessionStorage).
    Session,
    /// This browser, across visits (localStorage).
    Local,
}

/// The visit's timers: the host calls `wake` with one when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// Send the outbox. A new one replaces the one set before.
    Flush = 0,
    /// Exit intent's idleness check.
    Idle = 1,
}

/// One thing for the host to do. Carried out in order, after the call that returned them.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Fill slot `i` of [`PageFacts::slots`] with the decision (its html when filled, else the
    /// page's own content), then tell `decision` listeners; or report that it came too late.
    /// No decision: the bundle has no such placement (named here): keep the page's content.
    Fill(u32, String, Option<Box<Decision>>),
    /// Every slot of this page is decided (a performance mark).
    Filled,
    /// Write `value` under `key` (an empty value removes it).
    Store(Store, &'static str, String),
    /// A site-wide cookie for `max_age` seconds (0 deletes it; None: until the browser closes).
    SetCookie(&'static str, String, Option<i64>),
    /// Wake the visit with this timer after `ms` milliseconds.
    Timer(Timer, f64),
    /// POST this batch to the events endpoint; report with `sent(batch, ...)`.
    Post(u32, String),
    /// sendBeacon these bodies in order until the browser refuses one; report how many it
    /// took with [`Visit::beaconed`](super::Visit::beaconed) right away.
    Beacon(Vec<String>),
    /// Push a history entry to catch a back press (touch devices).
    ArmBack,
    /// Show the exit-offer dialog and tell `offer` listeners (with the trigger). An offer that
    /// captures a contact (`[[offers]] capture`, exit intent only: a deep link's visitor has
    /// the code already) shows the lead form instead of a code.
    ShowOffer(Box<OfferDecision>, &'static str, Capture),
    /// `event` listeners: an event was queued (its name).
    Event(String),
    /// `error` listeners: something was refused or went wrong (never silent).
    Error(String),
    /// `sent` listeners: a batch went out (true) or will be retried (false).
    Sent(bool),
    /// `consent` listeners.
    Consent(bool),
    /// `offer_closed` listeners: the offer's id and why ("escape", "dismissed").
    OfferClosed(String, String),
}
