//! Push as the edge sends it: what a visitor's push address is, the request a push message
//! becomes, and the service worker's engagement reports.
//!
//! - The address ([`address`]): a visitor's `push_token` (a consent event's `push_token`, an
//!   identify's `traits.push_token`) is either a Web Push subscription, the JSON of
//!   `PushSubscription.toJSON()` (it starts with `{`), or an FCM registration token (anything
//!   else). [`is_subscription`] is the one rule. Both are checked when the event arrives
//!   ([`check_event`]), so a bad address is refused with its field named, never stored.
//! - The request ([`request`]): to a subscription, RFC 8030/8291/8292 (webpush.rs: the body
//!   encrypted with the runtime's fresh random bytes, VAPID-signed); to an FCM token, FCM HTTP
//!   v1 (messaging.rs) with the access token the runtime minted (fcm.rs) or the static
//!   `PUSH_API_KEY`. Either way the notification's `data.vitrine_key` is a [`report_key`].
//! - The report (`POST /v1/push/report`, [`read_report`]): the service worker posts
//!   `{"key": data.vitrine_key, "event": "displayed" | "clicked"}` as `text/plain`. The key is
//!   the message's ids signed by the edge (HMAC-SHA256 with `LINK_SECRET`, as message links),
//!   so a report names its visitor and step and cannot be made up: message keys alone are
//!   guessable (a hash of the visitor id, the journey, run and step numbers).

use serde::{Deserialize, Serialize};
use vitrine_engine::journey::{Channel, Event, EventKind, Message};
use vitrine_engine::measure::Record;
use vitrine_engine::token;

use crate::messaging::{self, BuildError, HttpRequest, Providers};
use crate::webpush::{self, Randomness, Schemes, Subscription};

/// FCM registration tokens are about 160 characters; this leaves room and no more than the
/// engine's field limit.
pub const MAX_FCM_TOKEN_BYTES: usize = vitrine_engine::journey::event::MAX_PUSH_TOKEN_BYTES;
/// A report's body over this is refused unread (a report key is a few hundred bytes).
pub const MAX_REPORT_BYTES: usize = 4096;
/// Signed into every report key, so no other token signed with the same secret (a message link)
/// reads as one.
const REPORT_CONTEXT: &[u8] = b"vitrine push report\0";

/// A visitor's push address, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// An FCM registration token.
    Fcm(String),
    /// A browser's Web Push subscription.
    WebPush(Subscription),
}

/// The one rule: a push address that is a JSON object is a Web Push subscription; anything else
/// is an FCM registration token.
pub fn is_subscription(token: &str) -> bool {
    token.trim_start().starts_with('{')
}

/// Reads a push address. `schemes`: `http` endpoints only in dev mode (tests' capture server).
pub fn address(token: &str, schemes: Schemes) -> Result<Address, String> {
    if is_subscription(token) {
        return Subscription::parse(token, schemes).map(Address::WebPush).map_err(|e| e.to_string());
    }
    let token = token.trim();
    if token.len() > MAX_FCM_TOKEN_BYTES {
        return Err(format!("FCM token is {} bytes, over the limit of {MAX_FCM_TOKEN_BYTES}", token.len()));
    }
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')) {
        return Err("not an FCM registration token (letters, digits, '-', '_', ':' and '.') nor a push subscription's JSON".into());
    }
    Ok(Address::Fcm(token.to_string()))
}

/// Refuses an event whose push address is neither a subscription nor an FCM token, naming the
/// field (`push_token` of a consent, `traits.push_token` of an identify).
pub fn check_event(e: &Event, schemes: Schemes) -> Result<(), String> {
    let (field, token) = match &e.kind {
        EventKind::Consent { push_token: Some(t), .. } => ("push_token", t),
        EventKind::Identify(traits) => match &traits.push_token {
            Some(t) => ("traits.push_token", t),
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    address(token, schemes).map(drop).map_err(|why| format!("{field}: {why}"))
}

/// One provider request: text for every provider but Web Push, whose body is encrypted bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    Text(HttpRequest),
    WebPush(HttpRequest<Vec<u8>>),
}

impl Outgoing {
    pub fn url(&self) -> &str {
        match self {
            Outgoing::Text(r) => &r.url,
            Outgoing::WebPush(r) => &r.url,
        }
    }

    pub fn headers(&self) -> &[(&'static str, String)] {
        match self {
            Outgoing::Text(r) => &r.headers,
            Outgoing::WebPush(r) => &r.headers,
        }
    }

    pub fn body(&self) -> &[u8] {
        match self {
            Outgoing::Text(r) => r.body.as_bytes(),
            Outgoing::WebPush(r) => &r.body,
        }
    }

    /// What the answer means: a push service's status reads differently from other providers'
    /// (404 and 410: the subscription is gone). `id_header`: `X-Message-Id` (SendGrid), or the
    /// push service's `Location`.
    pub fn outcome(&self, status: u16, body: &str, id_header: Option<&str>) -> messaging::Outcome {
        match self {
            Outgoing::Text(_) => messaging::outcome(status, body, id_header),
            Outgoing::WebPush(_) => webpush::answer(status).outcome(status, body, id_header),
        }
    }

    /// Whether the answer says the subscription is gone: drop it from the visitor.
    pub fn subscription_gone(&self, status: u16) -> bool {
        matches!(self, Outgoing::WebPush(_)) && webpush::answer(status) == webpush::Answer::Gone
    }
}

/// The request `m` becomes at `now` (unix seconds). `random`: fresh from the runtime for every
/// attempt (used only by Web Push; a retry re-encrypts with new bytes).
pub fn request(m: &Message, p: &Providers, now: i64, random: &Randomness) -> Result<Outgoing, BuildError> {
    if m.channel != Channel::Push || m.to.is_empty() {
        return messaging::request(m, p, now).map(Outgoing::Text);
    }
    match address(&m.to, p.push_schemes).map_err(BuildError::BadAddress)? {
        Address::Fcm(_) => messaging::request(m, p, now).map(Outgoing::Text),
        Address::WebPush(sub) => {
            let api = p.web_push.as_ref().ok_or(BuildError::NotConfigured(Channel::Push))?;
            let plaintext = webpush::payload(m, &report_key(m, &p.report_secret));
            webpush::request(&sub, &plaintext, &api.vapid, &api.options, now, random).map(Outgoing::WebPush).map_err(|e| BuildError::WebPush(e.to_string()))
        }
    }
}

/// Whether `m` goes to FCM (and so needs an access token).
pub fn goes_to_fcm(m: &Message) -> bool {
    m.channel == Channel::Push && !m.to.is_empty() && !is_subscription(&m.to)
}

/// The ids a report key carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportClaims {
    /// The visitor object the message went from.
    pub visitor: String,
    /// The message's idempotency key.
    pub key: String,
    pub journey: String,
    pub step: u32,
}

/// `data.vitrine_key` of a push message: its ids, signed with `secret` (`LINK_SECRET`).
pub fn report_key(m: &Message, secret: &[u8]) -> String {
    let claims = ReportClaims { visitor: m.visitor.clone(), key: m.idempotency_key.clone(), journey: m.journey.clone(), step: m.step };
    let mut payload = REPORT_CONTEXT.to_vec();
    payload.extend_from_slice(serde_json::to_string(&claims).expect("claims serialize").as_bytes());
    token::sign(secret, &payload)
}

/// What the service worker saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engagement {
    /// The notification was shown: the message is delivered.
    Displayed,
    /// The notification was clicked.
    Clicked,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportJson {
    key: String,
    event: Engagement,
}

/// A checked report: the measurement record for the visitor the message went to.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub visitor: String,
    pub record: Record,
}

/// Reads a service worker's report (`{"key", "event"}`) received at `now`: refused, saying why,
/// when over [`MAX_REPORT_BYTES`], not that JSON, or the key is not one this edge signed.
/// One record per message and event (`<key>:delivered`, `<key>:clicked`): a repeated report
/// counts once.
pub fn read_report(body: &[u8], secret: &[u8], now: i64) -> Result<Report, String> {
    if body.len() > MAX_REPORT_BYTES {
        return Err(format!("the report is {} bytes, over the limit of {MAX_REPORT_BYTES}", body.len()));
    }
    let r: ReportJson = serde_json::from_slice(body).map_err(|e| format!("the report must be {{\"key\": …, \"event\": \"displayed\" | \"clicked\"}} ({e})"))?;
    let payload = token::verify(secret, r.key.trim()).map_err(|_| "key: not a message key this edge issued".to_string())?;
    let claims = payload
        .strip_prefix(REPORT_CONTEXT)
        .and_then(|json| serde_json::from_slice::<ReportClaims>(json).ok())
        .ok_or_else(|| "key: not a push message's key".to_string())?;
    let record = match r.event {
        Engagement::Displayed => crate::measure::delivered_record(&claims.key, &claims.journey, Some(claims.step), Channel::Push.as_str(), now),
        Engagement::Clicked => crate::measure::push_click_record(&claims.key, &claims.journey, claims.step, now),
    };
    Ok(Report { visitor: claims.visitor, record })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    fn subscription(endpoint: &str) -> String {
        format!(r#"{{"endpoint":"{endpoint}","expirationTime":null,"keys":{{"p256dh":"{P256DH}","auth":"{AUTH}"}}}}"#)
    }

    fn message(to: &str) -> Message {
        Message {
            visitor: "a:v1".into(),
            journey: "cart".into(),
            step: 1,
            channel: Channel::Push,
            to: to.into(),
            subject: "Still thinking?".into(),
            text: "Your lamp is waiting".into(),
            link: "https://shop.test/offer?vt=a.b".into(),
            idempotency_key: "00ab-cart-1-1".into(),
            ..Message::default()
        }
    }

    fn providers(vars: &[(&str, &str)]) -> Providers {
        Providers::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).with_report_secret(b"link-secret")
    }

    const VAPID: [(&str, &str); 2] = [("VAPID_PRIVATE_KEY", "IQ9Ur0ykXoHS9gzfYX0aBjy9lvdrjx_PFUXmie9YRcY"), ("VAPID_SUBJECT", "mailto:ops@shop.example")];

    #[test]
    fn one_rule_tells_a_subscription_from_an_fcm_token() {
        let sub = subscription("https://push.example.net/p/1");
        assert!(matches!(address(&sub, Schemes::HttpsOnly), Ok(Address::WebPush(s)) if s.origin == "https://push.example.net"));
        assert_eq!(address(" fcm:APA91b-x_y.z ", Schemes::HttpsOnly), Ok(Address::Fcm("fcm:APA91b-x_y.z".into())));
        // A broken subscription is not taken for a token, and says what is wrong.
        let err = address(r#"{"endpoint":"ftp://x"}"#, Schemes::HttpsOnly).unwrap_err();
        assert!(err.starts_with("push subscription: endpoint must be https"), "{err}");
        assert!(address("has space", Schemes::HttpsOnly).unwrap_err().starts_with("not an FCM registration token"));
        assert!(address(&"t".repeat(MAX_FCM_TOKEN_BYTES + 1), Schemes::HttpsOnly).unwrap_err().contains("over the limit"));
        // http endpoints only in dev mode.
        let local = subscription("http://127.0.0.1:9/push");
        assert!(address(&local, Schemes::HttpsOnly).unwrap_err().contains("must be https, not http"));
        assert!(address(&local, Schemes::HttpAllowedForTests).is_ok());
    }

    #[test]
    fn events_with_a_bad_push_address_are_refused_naming_the_field() {
        let parse = |s: &str| vitrine_engine::journey::event::parse(&serde_json::from_str(s).unwrap(), s.len()).unwrap();
        let consent =
            parse(r#"{"type":"consent","messageId":"m","anonymousId":"a","channels":{"push":true},"push_token":"{\"endpoint\":\"http://evil.test/\"}"}"#);
        let err = check_event(&consent, Schemes::HttpsOnly).unwrap_err();
        assert!(err.starts_with("push_token: push subscription: endpoint must be https"), "{err}");
        let identify = parse(r#"{"type":"identify","messageId":"m","anonymousId":"a","traits":{"push_token":"not a token"}}"#);
        assert!(check_event(&identify, Schemes::HttpsOnly).unwrap_err().starts_with("traits.push_token: not an FCM"));
        let good = format!(
            r#"{{"type":"identify","messageId":"m","anonymousId":"a","traits":{{"push_token":{}}}}}"#,
            serde_json::to_string(&subscription("https://push.example.net/1")).unwrap()
        );
        assert_eq!(check_event(&parse(&good), Schemes::HttpsOnly), Ok(()));
    }

    fn random(byte: u8) -> Randomness {
        Randomness { sender_secret: [byte; 32], salt: [byte; 16] }
    }

    #[test]
    fn a_push_to_a_subscription_is_web_push_and_to_a_token_is_fcm() {
        let mut vars = VAPID.to_vec();
        vars.extend([("PUSH_PROJECT_ID", "shop"), ("PUSH_API_KEY", "static")]);
        let p = providers(&vars);
        let m = message(&subscription("https://push.example.net/p/1"));
        let Outgoing::WebPush(r) = request(&m, &p, 1_700_000_000, &random(7)).unwrap() else { panic!("web push") };
        assert_eq!(r.url, "https://push.example.net/p/1");
        let header = |n: &str| r.headers.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(header("Content-Encoding"), "aes128gcm");
        assert!(header("Authorization").starts_with("vapid t="));
        assert_eq!(header("TTL"), "86400");
        // Fresh random bytes: another body for the same message.
        let Outgoing::WebPush(again) = request(&m, &p, 1_700_000_000, &random(8)).unwrap() else { panic!() };
        assert_ne!(again.body, r.body);

        let fcm = request(&message("fcm-token"), &p, 0, &random(7)).unwrap();
        assert!(matches!(&fcm, Outgoing::Text(r) if r.url.ends_with("/v1/projects/shop/messages:send")));
        // Its data carries the same kind of report key.
        let body: serde_json::Value = serde_json::from_slice(fcm.body()).unwrap();
        let key = body["message"]["data"]["vitrine_key"].as_str().unwrap();
        let report = read_report(format!(r#"{{"key":"{key}","event":"clicked"}}"#).as_bytes(), b"link-secret", 5).unwrap();
        assert_eq!((report.visitor.as_str(), report.record.message_id.as_str()), ("a:v1", "00ab-cart-1-1:clicked"));
    }

    #[test]
    fn a_service_account_takes_precedence_over_the_static_key_and_needs_a_minted_token() {
        let account = serde_json::json!({
            "type": "service_account", "project_id": "shop-push", "client_email": "v@shop-push.iam.gserviceaccount.com",
            "private_key": include_str!("../tests/data/fcm-test-key.pem"), "token_uri": "https://oauth2.googleapis.com/token",
        })
        .to_string();
        let p = providers(&[("FCM_SERVICE_ACCOUNT", &account), ("PUSH_API_KEY", "static")]);
        assert_eq!(request(&message("fcm-token"), &p, 0, &random(7)), Err(BuildError::NoAccessToken), "never the static key");
        let token = crate::fcm::AccessToken { access_token: "ya29.minted".into(), expires_at: 3600 };
        let Outgoing::Text(r) = request(&message("fcm-token"), &p.with_access_token(&token), 0, &random(7)).unwrap() else { panic!("FCM") };
        assert_eq!(r.url, "https://fcm.googleapis.com/v1/projects/shop-push/messages:send", "the key's project");
        assert!(r.headers.contains(&("Authorization", "Bearer ya29.minted".into())));
        // A malformed account is a problem named, not a silent fallback.
        let p = providers(&[("FCM_SERVICE_ACCOUNT", "{}"), ("PUSH_API_KEY", "static"), ("PUSH_PROJECT_ID", "x")]);
        assert!(p.problems.iter().any(|e| e.starts_with("FCM_SERVICE_ACCOUNT")), "{:?}", p.problems);
        assert!(goes_to_fcm(&message("fcm-token")) && !goes_to_fcm(&message(&subscription("https://push.example.net/1"))));
    }

    #[test]
    fn web_push_without_vapid_or_with_a_bad_address_fails_clearly() {
        let p = providers(&[]);
        assert_eq!(request(&message(&subscription("https://push.example.net/1")), &p, 0, &random(7)), Err(BuildError::NotConfigured(Channel::Push)));
        assert!(matches!(request(&message("{\"endpoint\":1}"), &p, 0, &random(7)), Err(BuildError::BadAddress(_))));
    }

    #[test]
    fn answers_gone_drop_the_subscription_and_busy_ones_retry() {
        let p = providers(&VAPID);
        let out = request(&message(&subscription("https://push.example.net/1")), &p, 0, &random(7)).unwrap();
        assert!(out.subscription_gone(410) && out.subscription_gone(404) && !out.subscription_gone(201));
        assert!(matches!(out.outcome(429, "", None), messaging::Outcome::Retry { .. }));
        assert!(matches!(out.outcome(503, "", None), messaging::Outcome::Retry { .. }));
        assert!(matches!(out.outcome(201, "", Some("loc")), messaging::Outcome::Delivered { provider_id, .. } if provider_id == "loc"));
        let text = Outgoing::Text(HttpRequest { url: String::new(), headers: vec![], body: String::new() });
        assert!(!text.subscription_gone(410), "a 410 from another provider is not a subscription gone");
    }

    #[test]
    fn reports_need_a_key_the_edge_signed() {
        let key = report_key(&message("t"), b"link-secret");
        let report = |body: String| read_report(body.as_bytes(), b"link-secret", 1_700_000_000);
        let shown = report(format!(r#"{{"key":"{key}","event":"displayed"}}"#)).unwrap();
        assert_eq!(shown.visitor, "a:v1");
        assert_eq!((shown.record.event.as_str(), shown.record.message_id.as_str()), ("Message Delivered", "00ab-cart-1-1:delivered"));
        assert_eq!((shown.record.journey.as_str(), shown.record.step, shown.record.channel.as_str()), ("cart", Some(1), "push"));
        // The bare message key, a key signed with another secret, a message link's token: refused.
        assert_eq!(report(r#"{"key":"00ab-cart-1-1","event":"displayed"}"#.into()).unwrap_err(), "key: not a message key this edge issued");
        let forged = report_key(&message("t"), b"guess");
        assert!(report(format!(r#"{{"key":"{forged}","event":"clicked"}}"#)).is_err());
        let link = token::sign(b"link-secret", br#"{"visitor":"a:v1","journey":"cart","step":1}"#);
        assert_eq!(report(format!(r#"{{"key":"{link}","event":"clicked"}}"#)).unwrap_err(), "key: not a push message's key");
        // Bad shapes and sizes.
        assert!(report(format!(r#"{{"key":"{key}","event":"opened"}}"#)).unwrap_err().starts_with("the report must be"));
        assert!(report("not json".into()).is_err());
        assert!(report(format!(r#"{{"key":"{}","event":"clicked"}}"#, "k".repeat(MAX_REPORT_BYTES))).unwrap_err().contains("over the limit"));
    }
}
