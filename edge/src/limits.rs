//! Limits before work: what a request may cost before the worker reads it, parses it or wakes a
//! Durable Object for it. The worker asks here and only carries the answer out
//! (`edge-worker/src/limits.rs`: it streams bodies and calls the rate-limit bindings).
//!
//! - **Bodies.** Each route has a body limit ([`body_limit`]). A declared `Content-Length` over
//!   it is refused with 413 before a byte is read ([`declared_length`]); a body without one
//!   (chunked) is read chunk by chunk through a [`Cap`] and cut off with 413 as soon as it passes
//!   the limit, so no more than the limit is ever held.
//! - **Rates.** Three Rate Limiting bindings (wrangler.toml `[[ratelimits]]`, each `limit` per
//!   [`PERIOD_SECS`]): requests per client address ([`Limiter::Client`], `CF-Connecting-IP`),
//!   per visitor ([`Limiter::Visitor`]: the `vt_vid` cookie, each object an events batch
//!   reaches), and per client or phone number on the identity and contact paths
//!   ([`Limiter::Contact`]: identify batches, `/v1/confirm`, `/v1/sms/inbound`). Over a limit:
//!   429 with `Retry-After` ([`too_many`]). [`before_work`] lists the checks made before the
//!   handler runs.
//! - **Fan-out.** One events batch reaches at most [`MAX_BATCH_OBJECTS`] Durable Objects
//!   (`events::bound_fan_out`).

use crate::api::JsonReply;
use crate::cookies::{self, Cookies};
use crate::events::visitor_key;
use crate::routes::Route;
use vitrine_engine::journey::event::MAX_BATCH_BYTES;

/// The body limit of `/v1/events`: a batch of at most 100 events.
pub const EVENTS_BODY: usize = MAX_BATCH_BYTES;
/// Twilio's inbound-message webhook: a form of a few fields (a text is at most 1600 characters).
pub const SMS_BODY: usize = 64 * 1024;
/// Every other `/v1` route reads no body (forms of the confirm and unsubscribe pages are empty).
pub const SMALL_BODY: usize = 4 * 1024;

/// The most Durable Objects (visitors, and the anonymous devices an identify links) one
/// `/v1/events` batch reaches; events for more are refused, each with the reason, to be sent
/// in another batch. The SDK's batches reach one or two; a server source batching customers
/// stays well inside the platform's subrequest limit.
pub const MAX_BATCH_OBJECTS: usize = 10;

/// The period of every `[[ratelimits]]` binding (`simple.period`; tests/tests/edge_deploy.rs
/// checks wrangler.toml says so), and the `Retry-After` of a 429.
pub const PERIOD_SECS: u32 = 60;

/// Dev mode only: stands in for the client address, so tests and benchmarks (all from
/// 127.0.0.1) keep to their own counters. Never read outside dev mode.
pub const CLIENT_HEADER: &str = "X-Vitrine-Client";

/// How many bytes a body on `route` may have; `None`: not limited here (store pages and their
/// forms stream to the origin untouched, the SDK's files are GET).
pub fn body_limit(route: &Route) -> Option<usize> {
    match route {
        Route::Events => Some(EVENTS_BODY),
        Route::SmsInbound | Route::TwilioStatus => Some(SMS_BODY),
        Route::SendgridEvents => Some(crate::feedback::MAX_BODY_BYTES),
        Route::PushReport => Some(crate::push::MAX_REPORT_BYTES),
        Route::AdminReport => Some(crate::staff::REPORT_BODY),
        Route::CodeVerify | Route::CodeRedeem => Some(crate::codes::MAX_BODY_BYTES),
        Route::Page | Route::Asset => None,
        _ => Some(SMALL_BODY),
    }
}

fn too_large(path: &str, limit: usize, what: String) -> JsonReply {
    JsonReply::error_with(413, &format!("the body of {path} is {what}, over its {limit}-byte limit: nothing was read"), serde_json::json!({ "limit": limit }))
}

/// Checks a request's `Content-Length` against the route's limit before the body is read: the
/// declared length (`None`: no header, a chunked body), or the 413 (over the limit) or 400
/// (not a length) to answer.
pub fn declared_length(content_length: Option<&str>, limit: usize, path: &str) -> Result<Option<u64>, JsonReply> {
    let Some(value) = content_length else { return Ok(None) };
    let value = value.trim();
    let length = match value.parse::<u64>() {
        Ok(n) if value.bytes().all(|b| b.is_ascii_digit()) => n,
        // Every digit but too long for a u64: larger than any limit.
        Err(_) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => u64::MAX,
        _ => return Err(JsonReply::error(400, format!("Content-Length {value:?} of {path} is not a length"))),
    };
    if length > limit as u64 {
        let shown = if length == u64::MAX { "over 2^64".to_string() } else { format!("{length} bytes") };
        return Err(too_large(path, limit, format!("{shown} (Content-Length)")));
    }
    Ok(Some(length))
}

/// Counts a body's bytes as its chunks arrive and refuses it once past the limit, before the
/// chunk that passed it is kept.
#[derive(Clone, Debug)]
pub struct Cap {
    pub limit: usize,
    pub read: usize,
    path: String,
}

impl Cap {
    pub fn new(limit: usize, path: &str) -> Cap {
        Cap { limit, read: 0, path: path.to_string() }
    }

    /// Whether a chunk of `len` more bytes may be kept; else the 413.
    pub fn take(&mut self, len: usize) -> Result<(), JsonReply> {
        self.read = self.read.saturating_add(len);
        if self.read > self.limit {
            let what = format!("past {} bytes after {} read (no Content-Length)", self.limit, self.read);
            return Err(JsonReply::error_with(
                413,
                &format!("the body of {} is {what}, over its {}-byte limit: reading stopped there", self.path, self.limit),
                serde_json::json!({ "limit": self.limit }),
            ));
        }
        Ok(())
    }
}

/// The three rate-limit bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limiter {
    /// Requests to the `/v1` API per client address.
    Client,
    /// Decisions and events per visitor.
    Visitor,
    /// Identity and contact paths: identify batches and `/v1/confirm` per client, inbound texts
    /// per phone number.
    Contact,
}

impl Limiter {
    pub const ALL: [Limiter; 3] = [Limiter::Client, Limiter::Visitor, Limiter::Contact];

    /// The binding's name in wrangler.toml (`[[ratelimits]] name`).
    pub fn binding(self) -> &'static str {
        match self {
            Limiter::Client => "LIMIT_CLIENT",
            Limiter::Visitor => "LIMIT_VISITOR",
            Limiter::Contact => "LIMIT_CONTACT",
        }
    }

    fn counts(self) -> &'static str {
        match self {
            Limiter::Client => "requests from client",
            Limiter::Visitor => "requests for visitor",
            Limiter::Contact => "identity and contact requests from",
        }
    }
}

/// One rate-limit check: the binding and the key counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub limiter: Limiter,
    pub key: String,
}

impl Check {
    pub fn new(limiter: Limiter, key: impl Into<String>) -> Check {
        Check { limiter, key: key.into() }
    }
}

/// Who is asking, for the per-client limits: the address Cloudflare saw (`CF-Connecting-IP`);
/// in dev mode only, [`CLIENT_HEADER`] stands in for it.
pub fn client_key(dev_mode: bool, connecting_ip: Option<&str>, test_client: Option<&str>) -> String {
    let named = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(|v| v.chars().take(64).collect::<String>());
    match (dev_mode, named(test_client), named(connecting_ip)) {
        (true, Some(test), _) => format!("test:{test}"),
        (_, _, Some(ip)) => ip,
        _ => "unknown".to_string(),
    }
}

/// What [`before_work`] needs to know about a request.
pub struct Request<'a> {
    pub route: &'a Route,
    pub post: bool,
    /// [`client_key`].
    pub client: &'a str,
    pub cookie: Option<&'a str>,
    /// Carries the write key: the store's backend, limited per visitor only.
    pub server: bool,
}

/// The rate-limit checks made before the handler runs (the events' visitors and an inbound
/// text's number are counted once the capped body is read: `batch_checks`, [`sms_check`]).
pub fn before_work(r: &Request) -> Vec<Check> {
    let client = || Check::new(Limiter::Client, r.client);
    let visitor =
        || Cookies::parse(r.cookie).get(cookies::VISITOR).filter(|v| cookies::is_valid_visitor_id(v)).map(|v| Check::new(Limiter::Visitor, visitor_key("", v)));
    match r.route {
        Route::Events if r.server => Vec::new(),
        Route::Events
        | Route::Click
        | Route::Unsubscribe
        | Route::SmsInbound
        | Route::AdminCustomer(_)
        | Route::AdminReport
        | Route::CatalogPublish
        | Route::StaffReport
        | Route::PushReport => {
            vec![client()]
        }
        Route::Decide | Route::ExitOffer | Route::Slice | Route::PushKey => [Some(client()), visitor()].into_iter().flatten().collect(),
        Route::Confirm if r.post => vec![client(), Check::new(Limiter::Contact, r.client)],
        Route::Confirm => vec![client()],
        _ => Vec::new(),
    }
}

/// The checks for an events batch once it is read: each object it reaches (per visitor), and,
/// when it identifies someone, the client on the contact limiter. `objects` in batch order;
/// `server` as in [`Request`].
pub fn batch_checks<'a>(objects: impl IntoIterator<Item = &'a str>, identifies: bool, client: &str, server: bool) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    for key in objects {
        let check = Check::new(Limiter::Visitor, key);
        if !checks.contains(&check) {
            checks.push(check);
        }
    }
    if identifies && !server {
        checks.push(Check::new(Limiter::Contact, client));
    }
    checks
}

/// An inbound text counts against its number.
pub fn sms_check(from: &str) -> Check {
    Check::new(Limiter::Contact, format!("sms:{from}"))
}

/// The reason a check was over its limit, naming the key, the path and the binding.
pub fn limited_reason(check: &Check, path: &str) -> String {
    format!(
        "rate limited: too many {} {} on {path} ({} per {PERIOD_SECS} s); retry after {PERIOD_SECS} s",
        check.limiter.counts(),
        check.key,
        check.limiter.binding()
    )
}

/// The 429 for a request over a limit (send `Retry-After: PERIOD_SECS` with it).
pub fn too_many(check: &Check, path: &str) -> JsonReply {
    JsonReply::error_with(429, &limited_reason(check, path), serde_json::json!({ "retryAfter": PERIOD_SECS, "limit": check.limiter.binding() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(reply: &JsonReply) -> serde_json::Value {
        serde_json::from_str(&reply.body).unwrap()
    }

    #[test]
    fn a_declared_length_over_the_routes_limit_is_refused_before_reading() {
        assert_eq!(body_limit(&Route::Events), Some(500 * 1024));
        assert_eq!(body_limit(&Route::SmsInbound), Some(SMS_BODY));
        assert_eq!(body_limit(&Route::SendgridEvents), Some(crate::feedback::MAX_BODY_BYTES), "SendGrid posts batches");
        assert_eq!(body_limit(&Route::Confirm), Some(SMALL_BODY));
        assert_eq!(body_limit(&Route::AdminCustomer("1".into())), Some(SMALL_BODY));
        assert_eq!(body_limit(&Route::Page), None);
        assert_eq!(body_limit(&Route::AdminReport), Some(5 * 1024 * 1024), "an HTML report");
        assert_eq!(body_limit(&Route::StaffReport), Some(SMALL_BODY));
        assert_eq!(body_limit(&Route::PushReport), Some(crate::push::MAX_REPORT_BYTES), "a service worker's report");
        assert_eq!(declared_length(None, 10, "/v1/events"), Ok(None));
        assert_eq!(declared_length(Some(" 10 "), 10, "/v1/events"), Ok(Some(10)));
        let ten_mb = declared_length(Some("10485760"), EVENTS_BODY, "/v1/events").unwrap_err();
        assert_eq!(ten_mb.status, 413);
        let reason = body(&ten_mb)["error"].as_str().unwrap().to_string();
        assert!(reason.contains("/v1/events is 10485760 bytes (Content-Length), over its 512000-byte limit"), "{reason}");
        assert_eq!(body(&ten_mb)["limit"], 512000);
        let huge = declared_length(Some("99999999999999999999999"), 10, "/v1/sms/inbound").unwrap_err();
        assert_eq!(huge.status, 413, "a length too long for u64 is over every limit");
        for bad in ["", "-1", "+5", "1e3", "12 34", "0x10"] {
            let refused = declared_length(Some(bad), 10, "/v1/events").unwrap_err();
            assert_eq!(refused.status, 400, "{bad:?}");
            assert!(body(&refused)["error"].as_str().unwrap().contains("is not a length"));
        }
    }

    #[test]
    fn a_body_without_a_length_is_cut_off_once_past_the_cap() {
        let mut cap = Cap::new(100, "/v1/events");
        assert!(cap.take(60).is_ok());
        assert!(cap.take(40).is_ok(), "exactly the limit is fine");
        let refused = cap.take(1).unwrap_err();
        assert_eq!(refused.status, 413);
        let reason = body(&refused)["error"].as_str().unwrap().to_string();
        assert!(reason.contains("/v1/events") && reason.contains("past 100 bytes after 101 read (no Content-Length)"), "{reason}");
        let mut huge = Cap::new(10, "/v1/events");
        assert!(huge.take(usize::MAX).is_err() && huge.take(usize::MAX).is_err(), "never overflows");
    }

    #[test]
    fn the_test_client_header_counts_only_in_dev_mode() {
        assert_eq!(client_key(false, Some("203.0.113.9"), Some("bench-a")), "203.0.113.9", "production ignores the header");
        assert_eq!(client_key(false, None, Some("bench-a")), "unknown");
        assert_eq!(client_key(true, Some("127.0.0.1"), Some("bench-a")), "test:bench-a");
        assert_eq!(client_key(true, Some("127.0.0.1"), Some("  ")), "127.0.0.1");
        assert_eq!(client_key(true, Some("127.0.0.1"), None), "127.0.0.1");
        assert_eq!(client_key(true, None, Some(&"x".repeat(500))).len(), "test:".len() + 64, "bounded");
    }

    #[test]
    fn which_limits_each_route_meets_before_work() {
        let checks =
            |route: Route, post: bool, cookie: Option<&str>, server: bool| before_work(&Request { route: &route, post, client: "1.2.3.4", cookie, server });
        let client = || Check::new(Limiter::Client, "1.2.3.4");
        assert_eq!(checks(Route::Events, true, Some("vt_vid=visitor-0001"), false), [client()], "events count per visitor once read");
        assert!(checks(Route::Events, true, None, true).is_empty(), "the store's backend is limited per visitor only");
        assert_eq!(checks(Route::Decide, false, None, false), [client()], "a new visitor has no id yet");
        assert_eq!(checks(Route::ExitOffer, false, Some("vt_vid=visitor-0001"), false), [client(), Check::new(Limiter::Visitor, "a:visitor-0001")]);
        assert_eq!(checks(Route::Decide, false, Some("vt_vid=<script>"), false), [client()], "an invalid id counts for nobody");
        assert_eq!(checks(Route::Confirm, true, None, false), [client(), Check::new(Limiter::Contact, "1.2.3.4")]);
        assert_eq!(checks(Route::Confirm, false, None, false), [client()]);
        assert_eq!(
            checks(Route::PushKey, false, Some("vt_vid=visitor-0001"), false),
            [client(), Check::new(Limiter::Visitor, "a:visitor-0001")],
            "as the other public GETs"
        );
        assert_eq!(checks(Route::PushReport, true, None, false), [client()]);
        for route in [Route::SmsInbound, Route::Unsubscribe, Route::AdminCustomer("1".into()), Route::AdminReport, Route::StaffReport] {
            assert_eq!(checks(route, true, None, false), [client()]);
        }
        for route in [Route::Page, Route::Asset, Route::Health, Route::Bundle] {
            assert!(checks(route, false, None, false).is_empty(), "pages and files are the CDN's");
        }
    }

    #[test]
    fn a_batch_counts_once_per_object_and_identifies_per_client() {
        let c = batch_checks(["a:1", "u:7", "a:1"], true, "1.2.3.4", false);
        assert_eq!(c, [Check::new(Limiter::Visitor, "a:1"), Check::new(Limiter::Visitor, "u:7"), Check::new(Limiter::Contact, "1.2.3.4")]);
        assert_eq!(batch_checks(["a:1"], true, "1.2.3.4", true).len(), 1, "the write key's identifies are the store's own");
        assert_eq!(sms_check("+447700900123"), Check::new(Limiter::Contact, "sms:+447700900123"));
    }

    #[test]
    fn a_429_names_the_key_the_path_and_when_to_retry() {
        let reply = too_many(&Check::new(Limiter::Client, "test:burst"), "/v1/decide");
        assert_eq!(reply.status, 429);
        let b = body(&reply);
        let reason = b["error"].as_str().unwrap();
        assert!(reason.contains("too many requests from client test:burst on /v1/decide (LIMIT_CLIENT per 60 s); retry after 60 s"), "{reason}");
        assert_eq!((b["retryAfter"].as_u64(), b["limit"].as_str()), (Some(60), Some("LIMIT_CLIENT")));
    }
}
