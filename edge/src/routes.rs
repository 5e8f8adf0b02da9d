//! Which handler answers a request: one table for every path the worker serves.
//!
//! ```text
//! POST /v1/events                   events -> each visitor's Durable Object (visitor_do.rs)
//! GET  /v1/visitors/{key}/messages  a visitor's delivery log (DEV_MODE=1 only)
//! GET  /v1/click?vt=…              a message's link: records the click, redirects to its landing (click.rs)
//! GET|POST /v1/unsubscribe?vt=…     signed one-click unsubscribe (optout.rs)
//! GET|POST /v1/confirm?vt=…         an email's double opt-in link (visitor_do.rs, optout.rs)
//! POST /v1/sms/inbound              Twilio's inbound-message webhook: STOP / START (optout.rs)
//! POST /v1/providers/sendgrid/events  SendGrid's signed Event Webhook: bounces, complaints (feedback.rs)
//! POST /v1/providers/twilio/status  Twilio's status callbacks: numbers that cannot take texts (feedback.rs)
//! GET  /v1/decide, /v1/exit-offer   decisions as JSON (api.rs); OPTIONS: CORS preflight
//! GET|DELETE /v1/admin/customers/{id}  export or erase a customer (ADMIN_TOKEN; privacy.rs)
//! GET  /v1/admin/measure?prefix=&cursor=&limit=  stored measurement files (ADMIN_TOKEN; measure.rs)
//! GET  /v1/admin/measure/<key>      one stored file, gzip'd JSONL as stored
//! PUT  /v1/admin/report              stores the latest HTML report (ADMIN_TOKEN; staff.rs)
//! POST /v1/admin/catalog/publish     a publish's catalog changes to the visitors watching (write key; watch.rs)
//! GET  /staff/report                 that report, behind HTTP Basic auth (password: ADMIN_TOKEN)
//! GET  /v1/push/key                 the VAPID public key browsers subscribe with (push.rs)
//! POST /v1/push/report              the service worker's report: a push shown or clicked (push.rs)
//! GET  /v1/health                   what serves, what was refused
//! GET  /v1/openapi.json             this table as OpenAPI 3.1, with every /v1 shape (openapi.rs)
//! GET  /v1/bundle[/<version>]       the bundle bytes
//! GET  /v1/slice?path=…             the bundle cut for this visitor and page (the SDK's download)
//! GET  /vitrine/sdk/*               the browser SDK's files ([assets])
//! anything else                     a store page: proxied, personalized when HTML
//! ```

use vitrine_engine::percent_decode;

use crate::api;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Events,
    /// The visitor key, decoded.
    VisitorMessages(String),
    /// The customer id, decoded.
    AdminCustomer(String),
    /// The stored measurement files (`GET`, listing).
    AdminMeasureList,
    /// One stored measurement file, by its key (decoded).
    AdminMeasureFile(String),
    /// A message's link (`engine::journey::CLICK_PATH`).
    Click,
    /// `PUT`: the latest HTML report, stored.
    AdminReport,
    /// `POST`: diff `bundle:previous` against `bundle:current` and tell the watchers (`watch.rs`).
    CatalogPublish,
    /// The latest report, for staff (Basic auth).
    StaffReport,
    Unsubscribe,
    Confirm,
    /// `POST /v1/codes/verify`, `/v1/codes/redeem`: the store's backend, with the write key.
    CodeVerify,
    CodeRedeem,
    SmsInbound,
    /// SendGrid's Event Webhook.
    SendgridEvents,
    /// Twilio's message status callbacks.
    TwilioStatus,
    Decide,
    ExitOffer,
    /// The VAPID public key (`{"publicKey"}`) the SDK subscribes with.
    PushKey,
    /// A push notification shown or clicked, from the SDK's service worker.
    PushReport,
    Health,
    /// The API's description (`openapi.json` at the repository's root).
    OpenApi,
    /// OPTIONS on the JSON API.
    Preflight,
    /// Another method on a GET-only endpoint.
    UseGet,
    Bundle,
    /// The bundle cut for the visitor (`Engine::slice`).
    Slice,
    NotFound,
    Asset,
    Page,
}

/// The worker's own paths: everything under these prefixes, and these paths exactly. Any other
/// path is a store page ([`is_page`]). The entry reads them once per isolate, to send a store
/// page's origin request before it calls into wasm (`entry::Edge::own_paths`); a path listed
/// here never reaches the origin, so a message's signed link (`/v1/click?vt=…`) stays ours.
pub const OWN_PREFIXES: [&str; 2] = ["/v1/", api::SDK_PREFIX];
pub const OWN_PATHS: [&str; 1] = [STAFF_REPORT_PATH];
const STAFF_REPORT_PATH: &str = "/staff/report";

/// Whether `path` is a store page's: proxied from the origin ([`Route::Page`]).
pub fn is_page(path: &str) -> bool {
    !OWN_PREFIXES.iter().any(|p| path.starts_with(p)) && !OWN_PATHS.contains(&path)
}

impl Route {
    /// `get` is true for GET and HEAD.
    pub fn of(path: &str, get: bool, options: bool) -> Route {
        if is_page(path) {
            return Route::Page;
        }
        match path {
            "/v1/events" => Route::Events,
            vitrine_engine::journey::CLICK_PATH if get => Route::Click,
            vitrine_engine::journey::CLICK_PATH => Route::UseGet,
            crate::openapi::PATH if get => Route::OpenApi,
            crate::openapi::PATH => Route::UseGet,
            "/v1/unsubscribe" => Route::Unsubscribe,
            "/v1/confirm" => Route::Confirm,
            crate::codes::VERIFY_PATH => Route::CodeVerify,
            crate::codes::REDEEM_PATH => Route::CodeRedeem,
            "/v1/sms/inbound" => Route::SmsInbound,
            SENDGRID_EVENTS_PATH => Route::SendgridEvents,
            TWILIO_STATUS_PATH => Route::TwilioStatus,
            "/v1/decide" | "/v1/exit-offer" | PUSH_KEY_PATH if options => Route::Preflight,
            "/v1/decide" | "/v1/exit-offer" | "/v1/health" | "/v1/slice" | PUSH_KEY_PATH if !get => Route::UseGet,
            PUSH_KEY_PATH => Route::PushKey,
            PUSH_REPORT_PATH => Route::PushReport,
            "/v1/decide" => Route::Decide,
            "/v1/exit-offer" => Route::ExitOffer,
            "/v1/health" => Route::Health,
            "/v1/slice" => Route::Slice,
            p if api::bundle_path_version(p).is_some() => Route::Bundle,
            "/v1/admin/measure" => Route::AdminMeasureList,
            "/v1/admin/report" => Route::AdminReport,
            crate::watch::PUBLISH_PATH => Route::CatalogPublish,
            STAFF_REPORT_PATH => Route::StaffReport,
            p if p.starts_with("/v1/admin/measure/") => match percent_decode(&p["/v1/admin/measure/".len()..]) {
                key if crate::measure::is_stored_file(&key) => Route::AdminMeasureFile(key),
                _ => Route::NotFound,
            },
            p if p.starts_with("/v1/admin/customers/") => match percent_decode(&p["/v1/admin/customers/".len()..]) {
                id if crate::kv::is_customer_id(&id) => Route::AdminCustomer(id),
                _ => Route::NotFound,
            },
            p if p.starts_with("/v1/visitors/") => match p["/v1/visitors/".len()..].strip_suffix("/messages") {
                Some(key) => Route::VisitorMessages(percent_decode(key)),
                None => Route::NotFound,
            },
            p if p.starts_with("/v1/") => Route::NotFound,
            p if p.starts_with(api::SDK_PREFIX) => Route::Asset,
            _ => Route::NotFound, // not reached: `is_page` said these paths are ours
        }
    }
}

/// The VAPID public key, as `{"publicKey": "<base64url of the 65-byte point>"}`.
pub const PUSH_KEY_PATH: &str = "/v1/push/key";
/// Where the SDK's service worker posts `{"key", "event"}` (`text/plain`).
pub const PUSH_REPORT_PATH: &str = "/v1/push/report";

/// Where SendGrid posts its events (the Event Webhook's URL in SendGrid's settings).
pub const SENDGRID_EVENTS_PATH: &str = "/v1/providers/sendgrid/events";
/// Where Twilio posts a sent message's status (the `StatusCallback` of every text we send).
pub const TWILIO_STATUS_PATH: &str = "/v1/providers/twilio/status";

/// `?vitrine_as=<persona>`: the demo visitor picker (`DEMO_PICKER=1`).
pub const PICKER_PARAM: &str = "vitrine_as";

/// Dev mode only (benchmarks, debugging): `1` answers with the origin's page untouched;
/// `rewriter` streams it through the HTML rewriter with no slot decided, which shows what the
/// runtime's streaming costs apart from our decisions.
pub const BYPASS_HEADER: &str = "X-Vitrine-Bypass";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Bypass {
    #[default]
    No,
    Untouched,
    RewriterOnly,
}

impl Bypass {
    pub fn parse(header: Option<&str>) -> Bypass {
        match header.map(str::trim) {
            None => Bypass::No,
            Some(v) if v.eq_ignore_ascii_case("rewriter") => Bypass::RewriterOnly,
            Some(_) => Bypass::Untouched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_has_one_handler() {
        assert_eq!(Route::of("/v1/events", false, false), Route::Events);
        assert_eq!(Route::of("/v1/visitors/u%3A1/messages", true, false), Route::VisitorMessages("u:1".into()));
        assert_eq!(Route::of("/v1/visitors/u:1", true, false), Route::NotFound);
        assert_eq!(Route::of("/v1/decide", true, false), Route::Decide);
        assert_eq!(Route::of("/v1/click", true, false), Route::Click);
        assert_eq!(Route::of("/v1/click", false, false), Route::UseGet);
        assert_eq!(Route::of("/v1/decide", false, true), Route::Preflight);
        assert_eq!(Route::of("/v1/health", false, false), Route::UseGet);
        assert_eq!(Route::of("/v1/bundle", true, false), Route::Bundle);
        assert_eq!(Route::of("/v1/slice", true, false), Route::Slice);
        assert_eq!(Route::of("/v1/slice", false, false), Route::UseGet);
        assert_eq!(Route::of("/v1/nope", true, false), Route::NotFound);
        assert_eq!(Route::of("/vitrine/sdk/vitrine.js", true, false), Route::Asset);
        assert_eq!(Route::of("/products/1", true, false), Route::Page);
        assert_eq!(Route::of("/v1/eventsx", true, false), Route::NotFound);
        assert_eq!(Route::of("/v1/admin/customers/17850", false, false), Route::AdminCustomer("17850".into()));
        assert_eq!(Route::of("/v1/admin/customers/", true, false), Route::NotFound);
        assert_eq!(Route::of("/v1/providers/sendgrid/events", false, false), Route::SendgridEvents);
        assert_eq!(Route::of("/v1/providers/twilio/status", false, false), Route::TwilioStatus);
        assert_eq!(Route::of("/v1/providers/other", false, false), Route::NotFound);
        assert_eq!(Route::of("/v1/admin/measure", true, false), Route::AdminMeasureList);
        let file = "events/day=2026-12-02/ab.jsonl.gz";
        assert_eq!(Route::of(&format!("/v1/admin/measure/{file}"), true, false), Route::AdminMeasureFile(file.into()));
        assert_eq!(Route::of("/v1/admin/measure/bundle:current", true, false), Route::NotFound);
        assert_eq!(Route::of("/v1/admin/report", false, false), Route::AdminReport);
        assert_eq!(Route::of("/staff/report", true, false), Route::StaffReport);
        assert_eq!(Route::of("/staff/reports", true, false), Route::Page);
        assert_eq!(Route::of("/v1/codes/verify", false, false), Route::CodeVerify);
        assert_eq!(Route::of("/v1/codes/redeem", false, false), Route::CodeRedeem);
        assert_eq!(Route::of("/v1/codes/redeem/x", false, false), Route::NotFound);
        assert_eq!(Route::of("/v1/admin/catalog/publish", false, false), Route::CatalogPublish);
        assert_eq!(Route::of("/v1/admin/catalog/publish/x", false, false), Route::NotFound);
    }

    #[test]
    fn a_store_page_is_any_path_the_worker_does_not_own() {
        let own = ["/v1/click", "/v1/", "/v1/x/y", "/vitrine/sdk/vitrine.js", "/vitrine/sdk/", "/staff/report", crate::openapi::PATH];
        for path in own {
            assert!(!is_page(path), "{path}");
            assert_ne!(Route::of(path, true, false), Route::Page, "{path}");
        }
        let pages = ["/", "/v1", "/v2/events", "/V1/click", "/%761/click", "/vitrine/sdk", "/staff/report/", "/staff/reports", "/products/v1/click", ""];
        for path in pages {
            assert!(is_page(path), "{path}");
            for (get, options) in [(true, false), (false, false), (false, true)] {
                assert_eq!(Route::of(path, get, options), Route::Page, "{path}");
            }
        }
    }

    #[test]
    fn bypass_header() {
        assert_eq!(Bypass::parse(None), Bypass::No);
        assert_eq!(Bypass::parse(Some(" Rewriter ")), Bypass::RewriterOnly);
        assert_eq!(Bypass::parse(Some("1")), Bypass::Untouched);
    }
}
