//! Delivery adapters: a journey [`Message`] becomes a real provider request.
//!
//! | channel | provider shape | auth |
//! |---|---|---|
//! | email   | SendGrid v3 `POST {EMAIL_API_BASE}/v3/mail/send` (JSON) | `Authorization: Bearer EMAIL_API_KEY` |
//! | sms     | Twilio `POST {SMS_API_BASE}/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json` (form) | basic `sid:TWILIO_AUTH_TOKEN` |
//! | whatsapp | Twilio, the same Messages endpoint: `To=whatsapp:+E164`, `From=whatsapp:{TWILIO_WHATSAPP_FROM}` (or `MessagingServiceSid=MG…`), an approved template as `ContentSid` + `ContentVariables` (JSON `{"1": …}`) | basic `sid:TWILIO_AUTH_TOKEN` |
//! | push to an FCM token | FCM HTTP v1 `POST {PUSH_API_BASE}/v1/projects/{PUSH_PROJECT_ID}/messages:send` (JSON) | `Authorization: Bearer <token minted from FCM_SERVICE_ACCOUNT>` (fcm.rs); else the static `PUSH_API_KEY` (a fallback) |
//! | push to a subscription | Web Push `POST <endpoint>` (RFC 8030, aes128gcm bytes; push.rs, webpush.rs) | `Authorization: vapid t=…, k=…` (`VAPID_PRIVATE_KEY`, `VAPID_SUBJECT`) |
//! | webhook | `POST {WEBHOOK_URL}` (JSON message) | `X-Vitrine-Signature: v1=hex(HMAC-SHA256(WEBHOOK_SECRET, "{timestamp}.{body}"))` |
//!
//! Every request carries `Idempotency-Key` (the message's key, stable across retries and
//! restarts) so receivers that honour it see each message once. Base URLs come from the worker's
//! vars, so tests point them at a capture server on 127.0.0.1.
//!
//! Building requests and classifying responses is pure (tested natively); only [`send`] does I/O.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use vitrine_engine::base64::{self, Alphabet::Standard};
use vitrine_engine::journey::{Channel, Message};

#[derive(Clone, Debug, Default)]
pub struct EmailApi {
    pub base_url: String,
    pub api_key: String,
    pub from_email: String,
    pub from_name: String,
}

#[derive(Clone, Debug, Default)]
pub struct TwilioApi {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// A sender number (E.164) or a Messaging Service SID (`MG…`).
    pub from: String,
    /// Where Twilio reports each text's fate (`StatusCallback`: feedback.rs suppresses numbers
    /// that cannot take texts); empty: no callbacks.
    pub status_callback: String,
}

#[derive(Clone, Debug, Default)]
pub struct PushApi {
    pub base_url: String,
    pub project_id: String,
    /// The bearer token FCM is called with: minted from `service_account` by the runtime
    /// ([`Providers::with_access_token`]), else the static `PUSH_API_KEY` (a fallback for a
    /// token made elsewhere: Google's expire within the hour).
    pub api_key: String,
    /// `FCM_SERVICE_ACCOUNT`: access tokens are minted from it (fcm.rs).
    pub service_account: Option<crate::fcm::ServiceAccount>,
}

/// Web Push straight to browsers' push services (push.rs, webpush.rs).
#[derive(Clone, Debug)]
pub struct WebPushApi {
    pub vapid: crate::webpush::Vapid,
    pub options: crate::webpush::PushOptions,
}

#[derive(Clone, Debug, Default)]
pub struct WebhookApi {
    pub url: String,
    pub secret: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay before the first retry; doubles each time, at most an hour.
    pub base_secs: i64,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base_secs: 30, max_attempts: 6 }
    }
}

impl RetryPolicy {
    /// Seconds to wait after failed attempt number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> i64 {
        let doubled = self.base_secs.max(1).saturating_mul(1i64 << attempt.saturating_sub(1).min(20));
        doubled.min(3600)
    }
}

/// The providers configured in the worker's vars. A channel without its vars is not configured:
/// its messages fail with a clear outcome rather than going somewhere by default.
#[derive(Clone, Debug, Default)]
pub struct Providers {
    pub email: Option<EmailApi>,
    pub sms: Option<TwilioApi>,
    /// Twilio's WhatsApp sender (`TWILIO_WHATSAPP_FROM`: its number, or a Messaging Service SID).
    pub whatsapp: Option<TwilioApi>,
    pub push: Option<PushApi>,
    pub web_push: Option<WebPushApi>,
    /// Which push subscription endpoints (and token URIs) are taken: `http` in dev mode only.
    pub push_schemes: crate::webpush::Schemes,
    /// Signs push messages' report keys (`LINK_SECRET`; push.rs `report_key`).
    pub report_secret: Vec<u8>,
    /// Settings that are set but unusable (a malformed VAPID key or service account): logged.
    pub problems: Vec<String>,
    pub webhook: Option<WebhookApi>,
    pub retry: RetryPolicy,
    /// How long a provider request may take before it counts as unanswered
    /// (`PROVIDER_TIMEOUT_SECS`, default 10): the runtime gives up and retries.
    pub timeout_ms: u64,
}

/// Default of `PROVIDER_TIMEOUT_SECS`.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

impl Providers {
    /// Reads the vars through `get` (the worker's `env`, or a map in tests).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Providers {
        let var = |k: &str| get(k).filter(|v| !v.is_empty());
        let base = |k: &str, default: &str| var(k).unwrap_or_else(|| default.into()).trim_end_matches('/').to_string();
        let email = var("EMAIL_API_KEY").map(|api_key| EmailApi {
            base_url: base("EMAIL_API_BASE", "https://api.sendgrid.com"),
            api_key,
            from_email: var("EMAIL_FROM").unwrap_or_else(|| "shop@example.com".into()),
            from_name: var("EMAIL_FROM_NAME").unwrap_or_default(),
        });
        let twilio = |from_var: &str| match (var("TWILIO_ACCOUNT_SID"), var("TWILIO_AUTH_TOKEN"), var(from_var)) {
            (Some(account_sid), Some(auth_token), Some(from)) => {
                Some(TwilioApi { base_url: base("SMS_API_BASE", "https://api.twilio.com"), account_sid, auth_token, from, status_callback: String::new() })
            }
            _ => None,
        };
        let (sms, whatsapp) = (twilio("SMS_FROM"), twilio("TWILIO_WHATSAPP_FROM"));
        let dev_mode = matches!(var("DEV_MODE").as_deref().map(str::trim), Some("1" | "true" | "yes"));
        let push_schemes = if dev_mode { crate::webpush::Schemes::HttpAllowedForTests } else { crate::webpush::Schemes::HttpsOnly };
        let mut problems = Vec::new();
        let service_account = crate::fcm::ServiceAccount::from_vars(&get, push_schemes).unwrap_or_else(|e| {
            problems.push(e.to_string());
            None
        });
        // The project: PUSH_PROJECT_ID, else the service account's own.
        let project_id = var("PUSH_PROJECT_ID").or_else(|| service_account.as_ref().map(|a| a.project_id.clone()).filter(|p| !p.is_empty()));
        let push = match (project_id, var("PUSH_API_KEY"), service_account) {
            (Some(project_id), _, Some(account)) => Some(PushApi {
                base_url: base("PUSH_API_BASE", "https://fcm.googleapis.com"),
                project_id,
                api_key: String::new(),
                service_account: Some(account),
            }),
            (Some(project_id), Some(api_key), None) => {
                Some(PushApi { base_url: base("PUSH_API_BASE", "https://fcm.googleapis.com"), project_id, api_key, service_account: None })
            }
            _ => None,
        };
        let web_push = match crate::webpush::Vapid::from_vars(&get) {
            Ok(vapid) => vapid.map(|vapid| WebPushApi { vapid, options: crate::webpush::PushOptions::default() }),
            Err(e) => {
                problems.push(e.to_string());
                None
            }
        };
        let webhook = var("WEBHOOK_URL").map(|url| WebhookApi { url, secret: var("WEBHOOK_SECRET").unwrap_or_default() });
        let mut retry = RetryPolicy::default();
        if let Some(s) = var("RETRY_BASE_SECS").and_then(|v| v.parse().ok()) {
            retry.base_secs = s;
        }
        if let Some(n) = var("RETRY_MAX_ATTEMPTS").and_then(|v| v.parse().ok()) {
            retry.max_attempts = n;
        }
        let timeout_ms = var("PROVIDER_TIMEOUT_SECS")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .map_or(DEFAULT_TIMEOUT_SECS * 1000, |s| (s * 1000.0) as u64);
        Providers { email, sms, whatsapp, push, web_push, push_schemes, report_secret: Vec::new(), problems, webhook, retry, timeout_ms }
    }

    /// Push messages' report keys are signed with `secret` (`LINK_SECRET`).
    pub fn with_report_secret(mut self, secret: &[u8]) -> Providers {
        self.report_secret = secret.to_vec();
        self
    }

    /// FCM is called with this access token (minted from the service account, fcm.rs).
    pub fn with_access_token(mut self, token: &crate::fcm::AccessToken) -> Providers {
        if let Some(push) = self.push.as_mut() {
            push.api_key.clone_from(&token.access_token);
        }
        self
    }

    /// Texts and WhatsApp messages ask Twilio for status callbacks at the store's public URL
    /// (the bundle's `store.base_url`, which the worker answers), when it is known.
    pub fn with_public_url(mut self, base_url: &str) -> Providers {
        let base = base_url.trim().trim_end_matches('/');
        for api in [self.sms.as_mut(), self.whatsapp.as_mut()].into_iter().flatten().filter(|_| !base.is_empty()) {
            api.status_callback = format!("{base}{}", crate::routes::TWILIO_STATUS_PATH);
        }
        self
    }
}

/// An HTTP request, ready to send. The body is text for the providers above; web push sends
/// bytes (`HttpRequest<Vec<u8>>`, webpush.rs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest<B = String> {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: B,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    NotConfigured(Channel),
    NoAddress(Channel),
    /// The push address is neither a subscription nor an FCM token (push.rs).
    BadAddress(String),
    /// The Web Push message could not be built (too large, say).
    WebPush(String),
    /// FCM with a service account, and no access token minted yet.
    NoAccessToken,
    /// A WhatsApp message without an approved template's Content SID (business-initiated
    /// WhatsApp messages must be templates; the builder refuses such steps).
    NoTemplate,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            BuildError::NotConfigured(c) => write!(f, "no {c} provider configured"),
            BuildError::NoAddress(c) => write!(f, "message has no {c} address"),
            BuildError::BadAddress(why) => write!(f, "push address refused: {why}"),
            BuildError::WebPush(why) => f.write_str(why),
            BuildError::NoAccessToken => f.write_str("no FCM access token (FCM_SERVICE_ACCOUNT set, none minted)"),
            BuildError::NoTemplate => f.write_str("whatsapp message without a template (ContentSid HX…)"),
        }
    }
}

/// Builds the provider request for `m`. `now` (unix seconds) timestamps webhook signatures.
pub fn request(m: &Message, p: &Providers, now: i64) -> Result<HttpRequest, BuildError> {
    if m.to.is_empty() && m.channel != Channel::Webhook {
        return Err(BuildError::NoAddress(m.channel));
    }
    let not_configured = || BuildError::NotConfigured(m.channel);
    let idempotency = ("Idempotency-Key", m.idempotency_key.clone());
    Ok(match m.channel {
        Channel::Email => {
            let api = p.email.as_ref().ok_or_else(not_configured)?;
            HttpRequest {
                url: format!("{}/v3/mail/send", api.base_url),
                headers: vec![("Authorization", format!("Bearer {}", api.api_key)), ("Content-Type", "application/json".into()), idempotency],
                body: sendgrid_body(m, api).to_string(),
            }
        }
        Channel::Sms => {
            let api = p.sms.as_ref().ok_or_else(not_configured)?;
            let from = if api.from.starts_with("MG") { ("MessagingServiceSid", api.from.clone()) } else { ("From", api.from.clone()) };
            twilio_request(api, m, [("To", m.to.clone()), from, ("Body", m.text.clone())])
        }
        Channel::Whatsapp => {
            let api = p.whatsapp.as_ref().ok_or_else(not_configured)?;
            if m.template.is_empty() {
                return Err(BuildError::NoTemplate);
            }
            // A Messaging Service picks its own WhatsApp sender; a number takes the channel prefix.
            let from = if api.from.starts_with("MG") { ("MessagingServiceSid", api.from.clone()) } else { ("From", format!("{WHATSAPP}{}", api.from)) };
            let variables: serde_json::Map<String, serde_json::Value> = m.variables.iter().enumerate().map(|(i, v)| ((i + 1).to_string(), json!(v))).collect();
            let to = ("To", format!("{WHATSAPP}{}", m.to));
            twilio_request(api, m, [to, from, ("ContentSid", m.template.clone()), ("ContentVariables", serde_json::Value::Object(variables).to_string())])
        }
        Channel::Push => {
            let api = p.push.as_ref().ok_or_else(not_configured)?;
            if api.api_key.is_empty() {
                return Err(BuildError::NoAccessToken);
            }
            HttpRequest {
                url: format!("{}/v1/projects/{}/messages:send", api.base_url, api.project_id),
                headers: vec![("Authorization", format!("Bearer {}", api.api_key)), ("Content-Type", "application/json".into()), idempotency],
                body: fcm_body(m, &crate::push::report_key(m, &p.report_secret)).to_string(),
            }
        }
        Channel::Webhook => {
            let api = p.webhook.as_ref().ok_or_else(not_configured)?;
            let body = json!({ "type": "journey.message", "message": m }).to_string();
            HttpRequest {
                url: api.url.clone(),
                headers: vec![
                    ("Content-Type", "application/json".into()),
                    ("X-Vitrine-Timestamp", now.to_string()),
                    ("X-Vitrine-Signature", format!("v1={}", webhook_signature(api.secret.as_bytes(), now, &body))),
                    idempotency,
                ],
                body,
            }
        }
    })
}

/// Twilio's channel prefix of a WhatsApp address (`whatsapp:+447700900123`).
pub const WHATSAPP: &str = "whatsapp:";

/// A number in a Twilio form field (`From`, `To`): `whatsapp:+E164` is WhatsApp, anything else a
/// phone number for texts (read with the store's country when written without one). `None`
/// unless the number is valid; a WhatsApp address must carry its country code.
pub fn twilio_address(raw: &str, country: vitrine_contacts::Country) -> Option<(Channel, String)> {
    let raw = raw.trim();
    if raw.len() > 64 {
        return None;
    }
    match raw.split_once(':') {
        // Twilio writes WhatsApp addresses in E.164 exactly: anything else is not its.
        Some((scheme, number)) if scheme.eq_ignore_ascii_case("whatsapp") => {
            vitrine_contacts::e164(number, country).filter(|n| n == number).map(|n| (Channel::Whatsapp, n))
        }
        Some(_) => None,
        None => vitrine_contacts::e164(raw, country).map(|n| (Channel::Sms, n)),
    }
}

/// Twilio's Messages API: the form `fields`, then the status callback when there is one.
fn twilio_request<const N: usize>(api: &TwilioApi, m: &Message, fields: [(&str, String); N]) -> HttpRequest {
    let mut pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let callback = (!api.status_callback.is_empty()).then(|| status_callback(&api.status_callback, m));
    if let Some(callback) = &callback {
        pairs.push(("StatusCallback", callback));
    }
    HttpRequest {
        url: format!("{}/2010-04-01/Accounts/{}/Messages.json", api.base_url, api.account_sid),
        headers: vec![
            ("Authorization", format!("Basic {}", base64::encode(format!("{}:{}", api.account_sid, api.auth_token).as_bytes(), Standard))),
            ("Content-Type", "application/x-www-form-urlencoded".into()),
            // Twilio drops a repeat of this token within 24 h: a retried message goes once.
            ("I-Twilio-Idempotency-Token", m.idempotency_key.clone()),
            ("Idempotency-Key", m.idempotency_key.clone()),
        ],
        body: form(&pairs),
    }
}

/// Where Twilio reports this text's fate: the callback with the message's own ids in the query
/// (Twilio signs the whole URL), so a delivery is recorded for its visitor and step
/// (`feedback::twilio_status`).
fn status_callback(callback: &str, m: &Message) -> String {
    let step = m.step.to_string();
    format!(
        "{callback}?{}",
        form(&[("visitor", &m.visitor), ("key", &m.idempotency_key), ("journey", &m.journey), ("step", &step), ("channel", m.channel.as_str())])
    )
}

/// SendGrid v3 mail/send. `custom_args` come back on SendGrid's event webhook, tying
/// deliveries, opens and bounces to the visitor and the journey step.
fn sendgrid_body(m: &Message, api: &EmailApi) -> serde_json::Value {
    let mut to = json!({ "email": m.to });
    if !m.first_name.is_empty() {
        to["name"] = json!(m.first_name);
    }
    let mut from = json!({ "email": api.from_email });
    if !api.from_name.is_empty() {
        from["name"] = json!(api.from_name);
    }
    let mut content = vec![json!({ "type": "text/plain", "value": m.text })];
    if !m.html.is_empty() {
        content.push(json!({ "type": "text/html", "value": m.html }));
    }
    json!({
        "personalizations": [{
            "to": [to],
            "custom_args": { "vitrine_key": m.idempotency_key, "visitor": m.visitor, "journey": m.journey, "step": m.step.to_string() }
        }],
        "from": from,
        "subject": m.subject,
        "content": content,
        "headers": {
            "List-Unsubscribe": format!("<{}>", m.unsubscribe),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"
        },
        "categories": ["vitrine", m.journey]
    })
}

/// FCM HTTP v1 send, with the deep link as the web push click target; `vitrine_key` is the
/// report key the service worker posts back (push.rs).
fn fcm_body(m: &Message, vitrine_key: &str) -> serde_json::Value {
    let mut notification = json!({ "title": m.subject, "body": m.text });
    if !m.image.is_empty() {
        notification["image"] = json!(m.image);
    }
    json!({
        "message": {
            "token": m.to,
            "notification": notification,
            "webpush": { "fcm_options": { "link": m.link } },
            "data": { "journey": m.journey, "step": m.step.to_string(), "vitrine_key": vitrine_key, "link": m.link }
        }
    })
}

/// Hex HMAC-SHA256 of `"{timestamp}.{body}"`: what a receiver recomputes to trust a webhook
/// (the timestamp inside the MAC stops replays of old bodies).
pub fn webhook_signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `header` is Twilio's signature of this request (`X-Twilio-Signature`: base64 of
/// HMAC-SHA1, keyed by the auth token, over the URL Twilio called followed by every POST
/// parameter as name then value, sorted by name, then value), compared in constant time.
pub fn twilio_signature_matches(auth_token: &str, url: &str, params: &[(String, String)], header: Option<&str>) -> bool {
    let Some(claimed) = header.and_then(|h| base64::decode(h.trim(), Standard)) else { return false };
    twilio_mac(auth_token, url, params).verify_slice(&claimed).is_ok()
}

fn twilio_mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<sha1::Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// `application/x-www-form-urlencoded`.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Accepted by the provider (its message id when it gave one).
    Delivered { status: u16, provider_id: String },
    /// Worth another try: network errors, 408, 429, 5xx.
    Retry { status: u16, error: String },
    /// Refused for good (other 4xx, not configured, no address).
    Failed { status: u16, error: String },
    /// The worker stopped while the request was out: the provider may or may not have it.
    /// Not sent again, so a message never arrives twice (at most once, by choice).
    Interrupted { error: String },
}

/// A request that got no answer: a network error, or none within `Providers::timeout_ms`. The
/// provider may have it. Retried like a 5xx where the provider drops a repeat of the same key
/// (Twilio reads `I-Twilio-Idempotency-Token`; webhook receivers `Idempotency-Key`); recorded as
/// interrupted and not resent where it takes no key (SendGrid, FCM): at most once, never twice.
pub fn unanswered(channel: Channel, error: String) -> Outcome {
    match channel {
        Channel::Sms | Channel::Whatsapp | Channel::Webhook => Outcome::Retry { status: 0, error },
        Channel::Email | Channel::Push => Outcome::Interrupted { error: format!("{error}: not resent (the provider takes no idempotency key)") },
    }
}

/// Classifies a provider response. `message_id_header` is SendGrid's `X-Message-Id`, if any.
pub fn outcome(status: u16, body: &str, message_id_header: Option<&str>) -> Outcome {
    if (200..300).contains(&status) {
        let from_body = serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| {
            // Twilio: "sid"; FCM: "name"; our webhook receivers: "id".
            ["sid", "name", "id"].iter().find_map(|k| v.get(*k).and_then(|x| x.as_str()).map(str::to_string))
        });
        let provider_id = message_id_header.map(str::to_string).or(from_body).unwrap_or_default();
        return Outcome::Delivered { status, provider_id };
    }
    let error = body.chars().take(300).collect();
    if status == 408 || status == 429 || status >= 500 {
        Outcome::Retry { status, error }
    } else {
        Outcome::Failed { status, error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(channel: Channel, to: &str) -> Message {
        Message {
            visitor: "u:17850".into(),
            journey: "cart".into(),
            step: 2,
            channel,
            to: to.into(),
            first_name: "Jane".into(),
            subject: "10% off your cart".into(),
            text: "Hi Jane & co, code CART10".into(),
            html: "<p>Hi</p>".into(),
            link: "https://shop.test/offer?vt=abc.def".into(),
            unsubscribe: "https://shop.test/v1/unsubscribe?vt=x.y".into(),
            image: "https://shop.test/img/A.jpg".into(),
            idempotency_key: "k-1".into(),
            ..Message::default()
        }
    }

    fn providers() -> Providers {
        let vars = [
            ("EMAIL_API_BASE", "http://127.0.0.1:9999/"),
            ("EMAIL_API_KEY", "SG.key"),
            ("EMAIL_FROM", "shop@shop.test"),
            ("EMAIL_FROM_NAME", "Gift Shop"),
            ("SMS_API_BASE", "http://127.0.0.1:9999"),
            ("TWILIO_ACCOUNT_SID", "AC123"),
            ("TWILIO_AUTH_TOKEN", "secret"),
            ("SMS_FROM", "+15005550006"),
            ("PUSH_API_BASE", "http://127.0.0.1:9999"),
            ("PUSH_PROJECT_ID", "shop"),
            ("PUSH_API_KEY", "push-key"),
            ("WEBHOOK_URL", "http://127.0.0.1:9999/hook"),
            ("WEBHOOK_SECRET", "whsec"),
            ("RETRY_BASE_SECS", "2"),
        ];
        Providers::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    }

    fn header<'a>(r: &'a HttpRequest, name: &str) -> &'a str {
        r.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap()
    }

    #[test]
    fn email_is_a_sendgrid_v3_mail_send() {
        let r = request(&message(Channel::Email, "jane@example.com"), &providers(), 0).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:9999/v3/mail/send");
        assert_eq!(header(&r, "Authorization"), "Bearer SG.key");
        assert_eq!(header(&r, "Idempotency-Key"), "k-1");
        let b: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(b["personalizations"][0]["to"][0], json!({"email": "jane@example.com", "name": "Jane"}));
        assert_eq!(b["personalizations"][0]["custom_args"]["step"], "2");
        assert_eq!(b["from"], json!({"email": "shop@shop.test", "name": "Gift Shop"}));
        assert_eq!(b["subject"], "10% off your cart");
        assert_eq!(b["content"][0], json!({"type": "text/plain", "value": "Hi Jane & co, code CART10"}));
        assert_eq!(b["content"][1]["type"], "text/html");
        assert_eq!(b["headers"]["List-Unsubscribe"], "<https://shop.test/v1/unsubscribe?vt=x.y>");
    }

    /// What Twilio sends (only tests sign; the worker verifies).
    fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
        base64::encode(&twilio_mac(auth_token, url, params).finalize().into_bytes(), Standard)
    }

    #[test]
    fn twilio_signatures_follow_twilios_documented_example() {
        // The example of Twilio's "Validating requests" documentation.
        let params: Vec<(String, String)> =
            [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"), ("From", "+12349013030"), ("To", "+18005551212")]
                .iter()
                .rev() // any order: they are sorted
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(twilio_signature("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(twilio_signature_matches("12345", url, &params, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")));
        assert!(!twilio_signature_matches("12345", url, &params, Some("1/KCTR6DLpKmkAf8muzZqo1nDgQ=")));
        assert!(!twilio_signature_matches("wrong", url, &params, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")));
        assert!(!twilio_signature_matches("12345", "https://mycompany.com/other", &params, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")));
        assert!(!twilio_signature_matches("12345", url, &params, None));
        assert!(!twilio_signature_matches("12345", url, &params, Some("not base64!")));
    }

    #[test]
    fn sms_is_a_twilio_form_post_with_basic_auth() {
        let r = request(&message(Channel::Sms, "+447700900123"), &providers(), 0).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:9999/2010-04-01/Accounts/AC123/Messages.json");
        assert_eq!(header(&r, "Authorization"), format!("Basic {}", base64::encode(b"AC123:secret", Standard)));
        assert_eq!(header(&r, "Content-Type"), "application/x-www-form-urlencoded");
        assert_eq!(r.body, "To=%2B447700900123&From=%2B15005550006&Body=Hi+Jane+%26+co%2C+code+CART10");
        // With the store's public URL known, Twilio reports each text's fate there.
        let r = request(&message(Channel::Sms, "+447700900123"), &providers().with_public_url("https://shop.test/"), 0).unwrap();
        // …with the message's own ids, so its delivery is recorded for its visitor and step.
        let callback = crate::query::get(&r.body, "StatusCallback").unwrap();
        assert_eq!(callback, "https://shop.test/v1/providers/twilio/status?visitor=u%3A17850&key=k-1&journey=cart&step=2&channel=sms");
        assert_eq!(providers().with_public_url(" ").sms.unwrap().status_callback, "", "unknown: no callbacks");
    }

    fn whatsapp_message() -> Message {
        Message {
            template: "HXb5b62575e6e4ff6129ad7c8efe1f983e".into(),
            variables: vec!["Jane & co".into(), "CART10".into(), "https://shop.test/v1/click?vt=abc.def".into()],
            ..message(Channel::Whatsapp, "+447700900123")
        }
    }

    #[test]
    fn whatsapp_is_a_twilio_template_message_to_a_prefixed_number() {
        let vars = |from: &str| {
            let vars =
                [("SMS_API_BASE", "http://127.0.0.1:9999"), ("TWILIO_ACCOUNT_SID", "AC123"), ("TWILIO_AUTH_TOKEN", "secret"), ("TWILIO_WHATSAPP_FROM", from)];
            Providers::from_vars(move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
        };
        let r = request(&whatsapp_message(), &vars("+15005550006").with_public_url("https://shop.test"), 0).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:9999/2010-04-01/Accounts/AC123/Messages.json");
        assert_eq!(header(&r, "Authorization"), format!("Basic {}", base64::encode(b"AC123:secret", Standard)));
        assert_eq!(header(&r, "I-Twilio-Idempotency-Token"), "k-1");
        let field = |name: &str| crate::query::get(&r.body, name).unwrap_or_else(|| panic!("no {name} in {}", r.body));
        assert_eq!((field("To"), field("From")), ("whatsapp:+447700900123".into(), "whatsapp:+15005550006".into()));
        assert_eq!(field("ContentSid"), "HXb5b62575e6e4ff6129ad7c8efe1f983e");
        let variables: serde_json::Value = serde_json::from_str(&field("ContentVariables")).unwrap();
        assert_eq!(variables, json!({"1": "Jane & co", "2": "CART10", "3": "https://shop.test/v1/click?vt=abc.def"}));
        assert!(crate::query::get(&r.body, "Body").is_none(), "a template, never free text (63016 outside the 24 h window)");
        assert!(field("StatusCallback").ends_with("&step=2&channel=whatsapp"));
        // A Messaging Service picks its WhatsApp sender.
        let r = request(&whatsapp_message(), &vars("MG0123"), 0).unwrap();
        assert_eq!(crate::query::get(&r.body, "MessagingServiceSid").as_deref(), Some("MG0123"));
        assert!(crate::query::get(&r.body, "From").is_none() && crate::query::get(&r.body, "StatusCallback").is_none());
        // Its own sender var: SMS alone configures no WhatsApp, and no template, no message.
        assert_eq!(request(&whatsapp_message(), &providers(), 0), Err(BuildError::NotConfigured(Channel::Whatsapp)));
        let untemplated = Message { template: String::new(), ..whatsapp_message() };
        assert_eq!(request(&untemplated, &vars("+15005550006"), 0), Err(BuildError::NoTemplate));
        assert!(matches!(unanswered(Channel::Whatsapp, "no answer".into()), Outcome::Retry { .. }), "Twilio dedupes: retried");
    }

    #[test]
    fn twilio_addresses_are_parsed_then_validated() {
        let gb = vitrine_contacts::Country::parse("GB").unwrap();
        assert_eq!(twilio_address("whatsapp:+447400123456", gb), Some((Channel::Whatsapp, "+447400123456".into())));
        assert_eq!(twilio_address(" +447400123456 ", gb), Some((Channel::Sms, "+447400123456".into())));
        assert_eq!(twilio_address("07400123456", gb), Some((Channel::Sms, "+447400123456".into())));
        for bad in ["whatsapp:07400123456", "whatsapp:", "whatsapp:+44", "messenger:+447400123456", "whatsapp:+447400123456:1", "", "tel:+447400123456"] {
            assert_eq!(twilio_address(bad, gb), None, "{bad}");
        }
        assert_eq!(twilio_address(&format!("whatsapp:+44{}", "7".repeat(80)), gb), None, "over the size limit");
    }

    #[test]
    fn push_is_an_fcm_v1_send_and_webhooks_are_signed() {
        let r = request(&message(Channel::Push, "tok"), &providers(), 0).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:9999/v1/projects/shop/messages:send");
        let b: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(b["message"]["token"], "tok");
        assert_eq!(b["message"]["notification"]["image"], "https://shop.test/img/A.jpg");
        assert_eq!(b["message"]["webpush"]["fcm_options"]["link"], "https://shop.test/offer?vt=abc.def");

        let r = request(&message(Channel::Webhook, ""), &providers(), 1_700_000_000).unwrap();
        assert_eq!(header(&r, "X-Vitrine-Timestamp"), "1700000000");
        assert_eq!(header(&r, "X-Vitrine-Signature"), format!("v1={}", webhook_signature(b"whsec", 1_700_000_000, &r.body)));
        let b: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(b["message"]["idempotency_key"], "k-1");
    }

    #[test]
    fn known_hmac_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn unconfigured_or_unaddressed_messages_fail_clearly() {
        let none = Providers::default();
        assert_eq!(request(&message(Channel::Email, "a@b"), &none, 0), Err(BuildError::NotConfigured(Channel::Email)));
        assert_eq!(request(&message(Channel::Sms, ""), &providers(), 0), Err(BuildError::NoAddress(Channel::Sms)));
    }

    #[test]
    fn responses_are_classified_and_retries_back_off() {
        assert_eq!(outcome(202, "", Some("sg-1")), Outcome::Delivered { status: 202, provider_id: "sg-1".into() });
        assert_eq!(outcome(201, r#"{"sid":"SM1"}"#, None), Outcome::Delivered { status: 201, provider_id: "SM1".into() });
        assert!(matches!(outcome(503, "busy", None), Outcome::Retry { status: 503, .. }));
        assert!(matches!(outcome(429, "", None), Outcome::Retry { .. }));
        assert!(matches!(outcome(500, "", None), Outcome::Retry { .. }) && matches!(outcome(400, "", None), Outcome::Failed { .. }));
        assert!(matches!(unanswered(Channel::Sms, "no answer within 10 s".into()), Outcome::Retry { status: 0, .. }), "Twilio dedupes: retried");
        assert!(matches!(unanswered(Channel::Email, "no answer".into()), Outcome::Interrupted { .. }), "SendGrid does not: never twice");
        let p = Providers::from_vars(|k| (k == "PROVIDER_TIMEOUT_SECS").then(|| "2.5".to_string()));
        assert_eq!((p.timeout_ms, Providers::from_vars(|_| None).timeout_ms), (2500, 10_000));
        assert!(matches!(outcome(400, "bad To", None), Outcome::Failed { status: 400, .. }));
        let p = providers().retry;
        assert_eq!((1..=4).map(|a| p.delay(a)).collect::<Vec<_>>(), [2, 4, 8, 16]);
        assert_eq!(RetryPolicy::default().delay(30), 3600);
    }
}
