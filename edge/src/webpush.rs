//! Web Push from the edge, straight to the browser's push service: the message encrypted for the
//! subscription (RFC 8291, `Content-Encoding: aes128gcm`, RFC 8188's record format, one record),
//! the request signed by the store (VAPID, RFC 8292), and how to read the service's answer.
//!
//! - A subscription is what the browser's `PushSubscription.toJSON()` gives the SDK:
//!   `{"endpoint": "https://…", "expirationTime": null, "keys": {"p256dh": "…", "auth": "…"}}`,
//!   keys in base64url. [`Subscription::parse`] refuses, naming what is wrong: more than
//!   [`MAX_SUBSCRIPTION_BYTES`], an endpoint that is not an absolute `https` URL (parsed, not
//!   prefix-matched; `http` only with [`Schemes::HttpAllowedForTests`]) or is longer than
//!   [`MAX_ENDPOINT_BYTES`], a `p256dh` that is not 65 bytes or not a point on P-256, an `auth`
//!   that is not 16 bytes.
//! - The body ([`encrypt`]): `salt (16) ‖ rs (u32 BE, 4096) ‖ idlen (1) = 65 ‖ as_public (65)`
//!   then one AES-128-GCM record of `plaintext ‖ 0x02`. The keys come from ECDH between the
//!   sender's ephemeral key and `p256dh`, HKDF-SHA-256 keyed by `auth` and the salt (RFC 8291
//!   §3.3–3.4). At most [`MAX_PLAINTEXT`] bytes of plaintext: 4096 bytes of body in all, the
//!   size every push service must take.
//! - VAPID ([`Vapid`]): an ES256 JWT `{"aud": <endpoint's origin>, "exp": now + 12 h, "sub":
//!   "mailto:…" | "https://…"}` signed with the store's key (`VAPID_PRIVATE_KEY`: base64url of the
//!   32-byte scalar, as `web-push generate-vapid-keys` prints it), sent as
//!   `Authorization: vapid t=<jwt>, k=<public key, base64url of the 65-byte point>`.
//! - The plaintext ([`payload`]): the JSON the service worker shows, `{"title", "body", "image"?,
//!   "link", "data": {"journey", "step", "vitrine_key"}}`, the same fields as the FCM message
//!   (messaging.rs); the service worker reports display and click with `vitrine_key`.
//! - The answer ([`answer`]): 201 sent; 404 and 410 the subscription is gone (drop it); 413 too
//!   large; 429 and 5xx retry; anything else refused (400 malformed, 401/403 the VAPID key).
//!
//! Pure: the ephemeral key and the salt are arguments ([`Randomness`]: the runtime fills them
//! from `crypto.getRandomValues`, fresh for every message: reusing them leaks the message), and
//! ECDSA signing is deterministic (RFC 6979), so nothing here needs a source of randomness.
//!
//! Costs, measured in Node 22's V8 on a wasm32 build (`opt-level = "s"`, LTO): about 1 ms for
//! the ECDH (with the ephemeral public key) and 0.7 ms for the VAPID signature, per message. In
//! the worker's wasm this file and its crates (hkdf, aes-gcm, p256's ECDH) add about 39 KB raw,
//! 17 KB gzip'd (`url` and p256's curve arithmetic were linked already).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use serde::Deserialize;
use sha2::Sha256;
use vitrine_engine::base64::{self, Alphabet::UrlSafe};

use vitrine_engine::journey::Message;

use crate::messaging::{HttpRequest, Outcome};

/// A subscription's JSON over this is refused unread.
pub const MAX_SUBSCRIPTION_BYTES: usize = 4096;
/// Endpoints seen in the wild are 100–500 bytes (FCM, Mozilla, Apple, Microsoft).
pub const MAX_ENDPOINT_BYTES: usize = 2048;
/// The record size written in the header: one record, and the body fits in it.
pub const RECORD_SIZE: u32 = 4096;
/// The header: salt, record size, key id length, the sender's public key.
pub const HEADER_BYTES: usize = 16 + 4 + 1 + 65;
/// RFC 8291 §4: 4096 bytes of body, less the header, the padding delimiter and the GCM tag.
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - HEADER_BYTES - 1 - 16;
/// RFC 8292 §2: `exp` at most 24 h ahead; 12 h leaves room for a slow clock either side.
pub const VAPID_LIFETIME_SECS: i64 = 12 * 3600;
/// The store's contact (`VAPID_SUBJECT`).
pub const MAX_SUBJECT_BYTES: usize = 256;
/// A `Topic` is at most 32 characters of the base64url alphabet (RFC 8030 §5.4).
pub const MAX_TOPIC_CHARS: usize = 32;
/// Push services keep a message at most about four weeks; longer asks are cut to this.
pub const MAX_TTL_SECS: u32 = 28 * 24 * 3600;

/// Which endpoint schemes a subscription may have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Schemes {
    /// Production: push services are `https` only.
    #[default]
    HttpsOnly,
    /// Tests, where the push service is a capture server on 127.0.0.1.
    HttpAllowedForTests,
}

/// A browser's push subscription, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The push resource the message is POSTed to (as the URL parser writes it).
    pub endpoint: String,
    /// `scheme://host[:port]` of the endpoint: the VAPID JWT's `aud`.
    pub origin: String,
    /// The browser's ECDH public key, an uncompressed P-256 point.
    pub p256dh: [u8; 65],
    /// The browser's authentication secret.
    pub auth: [u8; 16],
}

/// Why a subscription was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubscriptionError {
    TooLarge { what: &'static str, max: usize, got: usize },
    NotJson(String),
    Missing(&'static str),
    BadEndpoint(String),
    NotHttps(String),
    NotBase64url(&'static str),
    KeyLength { what: &'static str, expected: usize, got: usize },
    NotOnCurve,
}

impl std::fmt::Display for SubscriptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            SubscriptionError::TooLarge { what, max, got } => write!(f, "push subscription: {what} is {got} bytes, over the limit of {max}"),
            SubscriptionError::NotJson(e) => write!(f, "push subscription: not the JSON of PushSubscription.toJSON() ({e})"),
            SubscriptionError::Missing(what) => write!(f, "push subscription: {what} is missing or empty"),
            SubscriptionError::BadEndpoint(e) => write!(f, "push subscription: endpoint is not an absolute URL ({e})"),
            SubscriptionError::NotHttps(scheme) => write!(f, "push subscription: endpoint must be https, not {scheme}"),
            SubscriptionError::NotBase64url(what) => write!(f, "push subscription: {what} is not base64url"),
            SubscriptionError::KeyLength { what, expected, got } => write!(f, "push subscription: {what} must be {expected} bytes, not {got}"),
            SubscriptionError::NotOnCurve => f.write_str("push subscription: keys.p256dh is not an uncompressed point on P-256"),
        }
    }
}

#[derive(Deserialize)]
struct SubscriptionJson {
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    keys: KeysJson,
}

#[derive(Default, Deserialize)]
struct KeysJson {
    #[serde(default)]
    p256dh: String,
    #[serde(default)]
    auth: String,
}

impl Subscription {
    /// Reads `PushSubscription.toJSON()` (other fields, such as `expirationTime`, are ignored).
    pub fn parse(json: &str, schemes: Schemes) -> Result<Subscription, SubscriptionError> {
        if json.len() > MAX_SUBSCRIPTION_BYTES {
            return Err(SubscriptionError::TooLarge { what: "the subscription", max: MAX_SUBSCRIPTION_BYTES, got: json.len() });
        }
        let s: SubscriptionJson = serde_json::from_str(json).map_err(|e| SubscriptionError::NotJson(e.to_string()))?;
        Subscription::new(&s.endpoint, &s.keys.p256dh, &s.keys.auth, schemes)
    }

    /// A subscription from its three parts (keys in base64url, padded or not).
    pub fn new(endpoint: &str, p256dh: &str, auth: &str, schemes: Schemes) -> Result<Subscription, SubscriptionError> {
        let (endpoint, origin) = parse_endpoint(endpoint, schemes)?;
        let p256dh: [u8; 65] = key_bytes("keys.p256dh", p256dh)?;
        // Uncompressed form only (RFC 8291 §3.1); from_sec1_bytes checks the point is on the curve.
        if p256dh[0] != 0x04 || PublicKey::from_sec1_bytes(&p256dh).is_err() {
            return Err(SubscriptionError::NotOnCurve);
        }
        let auth: [u8; 16] = key_bytes("keys.auth", auth)?;
        Ok(Subscription { endpoint, origin, p256dh, auth })
    }
}

/// The endpoint as parsed and its origin, after checking it is an absolute URL of an allowed
/// scheme with a host and no credentials.
fn parse_endpoint(endpoint: &str, schemes: Schemes) -> Result<(String, String), SubscriptionError> {
    if endpoint.is_empty() {
        return Err(SubscriptionError::Missing("endpoint"));
    }
    if endpoint.len() > MAX_ENDPOINT_BYTES {
        return Err(SubscriptionError::TooLarge { what: "endpoint", max: MAX_ENDPOINT_BYTES, got: endpoint.len() });
    }
    let url = url::Url::parse(endpoint).map_err(|e| SubscriptionError::BadEndpoint(e.to_string()))?;
    match (url.scheme(), schemes) {
        ("https", _) | ("http", Schemes::HttpAllowedForTests) => {}
        (other, _) => return Err(SubscriptionError::NotHttps(other.to_string())),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(SubscriptionError::BadEndpoint("no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SubscriptionError::BadEndpoint("credentials in the URL".into()));
    }
    // `ascii_serialization` drops a default port, as browsers and push services write origins.
    let origin = url.origin().ascii_serialization();
    Ok((url.into(), origin))
}

fn key_bytes<const N: usize>(what: &'static str, text: &str) -> Result<[u8; N], SubscriptionError> {
    let text = text.trim().trim_end_matches('=');
    if text.is_empty() {
        return Err(SubscriptionError::Missing(what));
    }
    // Four symbols per three bytes: anything longer than twice the key cannot be it.
    if text.len() > 2 * N + 4 {
        return Err(SubscriptionError::KeyLength { what, expected: N, got: text.len() * 3 / 4 });
    }
    let bytes = base64::decode(text, UrlSafe).ok_or(SubscriptionError::NotBase64url(what))?;
    let got = bytes.len();
    bytes.try_into().map_err(|_| SubscriptionError::KeyLength { what, expected: N, got })
}

/// The per-message random bytes, drawn by the runtime (`crypto.getRandomValues`).
#[derive(Clone)]
pub struct Randomness {
    /// The sender's ephemeral P-256 private key (a scalar in 1..n; any other value is refused).
    pub sender_secret: [u8; 32],
    pub salt: [u8; 16],
}

impl std::fmt::Debug for Randomness {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("Randomness(..)")
    }
}

/// Why a message could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushError {
    /// Over [`MAX_PLAINTEXT`] bytes.
    TooLarge {
        max: usize,
        got: usize,
    },
    /// The ephemeral key is zero or not below the curve's order (vanishingly rare from a real
    /// random source: draw again).
    BadEphemeralKey,
    /// `p256dh` is not a point on P-256 (only when calling [`encrypt`] with unchecked bytes:
    /// [`Subscription::new`] refuses such keys first).
    BadSubscriptionKey,
    BadTopic(String),
    Vapid(VapidError),
}

impl std::fmt::Display for PushError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            PushError::TooLarge { max, got } => write!(f, "web push message is {got} bytes, over the {max} a push service must accept"),
            PushError::BadEphemeralKey => f.write_str("web push: the ephemeral key is not a valid P-256 scalar (draw new random bytes)"),
            PushError::BadSubscriptionKey => f.write_str("web push: the subscription's p256dh is not a point on P-256"),
            PushError::BadTopic(t) => write!(f, "web push: Topic {t:?} must be 1 to {MAX_TOPIC_CHARS} characters of [A-Za-z0-9_-]"),
            PushError::Vapid(e) => e.fmt(f),
        }
    }
}

/// The encrypted body and the headers that describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encrypted {
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

/// RFC 8291: `plaintext` encrypted for the browser holding `p256dh` and `auth`.
pub fn encrypt(p256dh: &[u8; 65], auth: &[u8; 16], plaintext: &[u8], random: &Randomness) -> Result<Encrypted, PushError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(PushError::TooLarge { max: MAX_PLAINTEXT, got: plaintext.len() });
    }
    let sender = SecretKey::from_bytes(&random.sender_secret.into()).map_err(|_| PushError::BadEphemeralKey)?;
    let ua_public = PublicKey::from_sec1_bytes(p256dh).map_err(|_| PushError::BadSubscriptionKey)?;
    let as_public = sender.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), ua_public.as_affine());

    // §3.3: IKM = HKDF(salt = auth, ikm = ecdh_secret, info = "WebPush: info" ‖ 0 ‖ ua ‖ as, 32).
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(p256dh);
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes()).expand(&key_info, &mut ikm).expect("32 bytes is a valid HKDF-SHA-256 length");
    // §3.4 and RFC 8188 §2.2: the content key and nonce from the salt.
    let prk = Hkdf::<Sha256>::new(Some(&random.salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).expect("16 bytes is a valid HKDF-SHA-256 length");
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).expect("12 bytes is a valid HKDF-SHA-256 length");

    // One record, sequence number 0 (the nonce as is), the last-record delimiter 0x02, no padding.
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2);
    let sealed = Aes128Gcm::new(&cek.into()).encrypt(Nonce::from_slice(&nonce), record.as_slice()).expect("AES-GCM seals any record under 64 GiB");

    let mut body = Vec::with_capacity(HEADER_BYTES + sealed.len());
    body.extend_from_slice(&random.salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(Encrypted { body, headers: vec![("Content-Type", "application/octet-stream".into()), ("Content-Encoding", "aes128gcm".into())] })
}

/// The store's VAPID identity: its signing key and contact.
#[derive(Clone)]
pub struct Vapid {
    key: SigningKey,
    public_key: String,
    subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Vapid").field("public_key", &self.public_key).field("subject", &self.subject).finish_non_exhaustive()
    }
}

/// Why the VAPID settings were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VapidError {
    /// `VAPID_PRIVATE_KEY` is not base64url of a 32-byte P-256 scalar.
    BadPrivateKey(String),
    /// `VAPID_SUBJECT` is not `mailto:…` or `https://…`, or too long.
    BadSubject(String),
}

impl std::fmt::Display for VapidError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            VapidError::BadPrivateKey(why) => {
                write!(f, "VAPID_PRIVATE_KEY: {why} (expected base64url of a 32-byte P-256 private key, as `web-push generate-vapid-keys` prints it)")
            }
            VapidError::BadSubject(why) => {
                write!(f, "VAPID_SUBJECT: {why} (expected mailto:you@shop.example or https://shop.example, at most {MAX_SUBJECT_BYTES} bytes)")
            }
        }
    }
}

impl Vapid {
    /// `private_key`: base64url of the 32-byte scalar; `subject`: the store's contact.
    pub fn new(private_key: &str, subject: &str) -> Result<Vapid, VapidError> {
        let text = private_key.trim().trim_end_matches('=');
        if text.len() > 64 {
            return Err(VapidError::BadPrivateKey(format!("{} characters, a 32-byte key is 43", text.len())));
        }
        let bytes = base64::decode(text, UrlSafe).ok_or_else(|| VapidError::BadPrivateKey("not base64url".into()))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| VapidError::BadPrivateKey(format!("{} bytes, not 32", b.len())))?;
        let key = SigningKey::from_bytes(&bytes.into()).map_err(|_| VapidError::BadPrivateKey("not a valid P-256 scalar".into()))?;
        let subject = subject.trim();
        let subject_ok = match subject.split_once(':') {
            Some(("mailto", rest)) => rest.contains('@') && !rest.contains(char::is_whitespace),
            Some(("https", _)) => url::Url::parse(subject).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty())),
            _ => false,
        };
        if subject.len() > MAX_SUBJECT_BYTES || !subject_ok {
            return Err(VapidError::BadSubject(format!("{:?}", subject.chars().take(64).collect::<String>())));
        }
        let public_key = base64::encode(key.verifying_key().to_encoded_point(false).as_bytes(), UrlSafe);
        Ok(Vapid { key, public_key, subject: subject.to_string() })
    }

    /// From the worker's secrets and vars (`get`: the worker's `env`, or a map in tests):
    /// `VAPID_PRIVATE_KEY` and `VAPID_SUBJECT`. Neither set: web push is not configured
    /// (`Ok(None)`); one without the other, or either malformed: an error naming it.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Option<Vapid>, VapidError> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        match (var("VAPID_PRIVATE_KEY"), var("VAPID_SUBJECT")) {
            (None, None) => Ok(None),
            (Some(key), Some(subject)) => Vapid::new(&key, &subject).map(Some),
            (Some(_), None) => Err(VapidError::BadSubject("not set, while VAPID_PRIVATE_KEY is".into())),
            (None, Some(_)) => Err(VapidError::BadPrivateKey("not set, while VAPID_SUBJECT is".into())),
        }
    }

    /// The application server key the browser subscribes with (`applicationServerKey`):
    /// base64url of the uncompressed public point, as `web-push` prints it.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The ES256 JWT for a push service at `audience` (its origin), valid until `expires`.
    pub fn jwt(&self, audience: &str, expires: i64) -> String {
        let header = base64::encode(br#"{"typ":"JWT","alg":"ES256"}"#, UrlSafe);
        let claims = serde_json::json!({ "aud": audience, "exp": expires, "sub": self.subject }).to_string();
        let signing_input = format!("{header}.{}", base64::encode(claims.as_bytes(), UrlSafe));
        // JWS ES256: the raw 64-byte r ‖ s, not DER (RFC 7518 §3.4).
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", base64::encode(&signature.to_bytes(), UrlSafe))
    }

    /// `Authorization: vapid t=…, k=…` for a push service at `audience`, at `now` (unix seconds).
    pub fn authorization(&self, audience: &str, now: i64) -> String {
        format!("vapid t={}, k={}", self.jwt(audience, now.saturating_add(VAPID_LIFETIME_SECS)), self.public_key)
    }
}

/// RFC 8030 §5.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    VeryLow,
    Low,
    Normal,
    High,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::VeryLow => "very-low",
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// The notification a journey's push message becomes: what the service worker shows (title,
/// body, image), opens on click (the signed deep link), and reports back (`data.vitrine_key`:
/// the message's report key, push.rs `report_key`).
pub fn payload(m: &Message, vitrine_key: &str) -> Vec<u8> {
    let mut p = serde_json::json!({
        "title": m.subject,
        "body": m.text,
        "link": m.link,
        "data": { "journey": m.journey, "step": m.step, "vitrine_key": vitrine_key },
    });
    if !m.image.is_empty() {
        p["image"] = m.image.clone().into();
    }
    p.to_string().into_bytes()
}

/// How the push service should hold the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushOptions {
    /// Seconds the push service keeps the message for a browser that is offline (0: deliver now
    /// or drop). Cut to [`MAX_TTL_SECS`].
    pub ttl_secs: u32,
    pub urgency: Option<Urgency>,
    /// A message with the same topic replaces one still waiting (RFC 8030 §5.4).
    pub topic: Option<String>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions { ttl_secs: 24 * 3600, urgency: None, topic: None }
    }
}

/// The whole request for one message: encrypted, signed, ready to POST. The body is bytes
/// (`HttpRequest<Vec<u8>>`): the runtime must send it as an `ArrayBuffer`/`Uint8Array`, not text.
pub fn request(
    sub: &Subscription,
    plaintext: &[u8],
    vapid: &Vapid,
    options: &PushOptions,
    now: i64,
    random: &Randomness,
) -> Result<HttpRequest<Vec<u8>>, PushError> {
    if let Some(topic) = &options.topic {
        let ok = !topic.is_empty() && topic.len() <= MAX_TOPIC_CHARS && topic.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(PushError::BadTopic(topic.chars().take(40).collect()));
        }
    }
    let Encrypted { body, headers: content } = encrypt(&sub.p256dh, &sub.auth, plaintext, random)?;
    let mut headers = vec![("Authorization", vapid.authorization(&sub.origin, now)), ("TTL", options.ttl_secs.min(MAX_TTL_SECS).to_string())];
    headers.extend(content);
    if let Some(u) = options.urgency {
        headers.push(("Urgency", u.as_str().into()));
    }
    if let Some(t) = &options.topic {
        headers.push(("Topic", t.clone()));
    }
    Ok(HttpRequest { url: sub.endpoint.clone(), headers, body })
}

/// What a push service's answer means for the message and the subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 201 (any 2xx): the service holds the message.
    Sent,
    /// 404 or 410: the subscription expired or was revoked; drop it and never send to it again.
    Gone,
    /// 413: the body is over what this service takes; resending cannot help.
    TooLarge,
    /// 429 or 5xx (and 408): try later (`Retry-After` when the service gives one).
    Retry,
    /// Any other status: refused for good (400 malformed; 401/403 the VAPID key or JWT).
    Refused,
}

/// Reads a push service's status.
pub fn answer(status: u16) -> Answer {
    match status {
        200..=299 => Answer::Sent,
        404 | 410 => Answer::Gone,
        413 => Answer::TooLarge,
        408 | 429 | 500..=599 => Answer::Retry,
        _ => Answer::Refused,
    }
}

impl Answer {
    /// The attempt's outcome, as the outbox records every channel's. `location` is the push
    /// service's `Location` header (the message's resource), kept as the provider id.
    pub fn outcome(self, status: u16, body: &str, location: Option<&str>) -> Outcome {
        let error = |what: &str| {
            let detail: String = body.chars().take(300).collect();
            if detail.is_empty() {
                what.to_string()
            } else {
                format!("{what}: {detail}")
            }
        };
        match self {
            Answer::Sent => Outcome::Delivered { status, provider_id: location.unwrap_or_default().to_string() },
            Answer::Gone => Outcome::Failed { status, error: error("push subscription gone (drop it)") },
            Answer::TooLarge => Outcome::Failed { status, error: error("push message too large for this push service") },
            Answer::Retry => Outcome::Retry { status, error: error("push service busy") },
            Answer::Refused => Outcome::Failed { status, error: error("push service refused the message") },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;

    fn b64(s: &str) -> Vec<u8> {
        base64::decode(s, UrlSafe).unwrap()
    }

    // RFC 8291 Appendix A.
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const AS_PUBLIC: &str = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    fn rfc_random() -> Randomness {
        Randomness { sender_secret: b64(AS_PRIVATE).try_into().unwrap(), salt: b64(SALT).try_into().unwrap() }
    }

    fn rfc_subscription() -> Subscription {
        let json = format!(
            r#"{{"endpoint":"https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV","expirationTime":null,"keys":{{"p256dh":"{UA_PUBLIC}","auth":"{AUTH}"}}}}"#
        );
        Subscription::parse(&json, Schemes::HttpsOnly).unwrap()
    }

    /// The browser's side (RFC 8291 §3.4 from the user agent's keys), to read our own messages.
    fn decrypt(ua_private: &[u8], auth: &[u8; 16], body: &[u8]) -> Vec<u8> {
        let (salt, rest) = body.split_at(16);
        assert_eq!(rest[..4], RECORD_SIZE.to_be_bytes());
        assert_eq!(rest[4], 65);
        let as_public = PublicKey::from_sec1_bytes(&rest[5..70]).unwrap();
        let ua = SecretKey::from_slice(ua_private).unwrap();
        let shared = p256::ecdh::diffie_hellman(ua.to_nonzero_scalar(), as_public.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(ua.public_key().to_encoded_point(false).as_bytes());
        info.extend_from_slice(&rest[5..70]);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes()).expand(&info, &mut ikm).unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce).unwrap();
        let mut plain = Aes128Gcm::new(&cek.into()).decrypt(Nonce::from_slice(&nonce), &rest[70..]).unwrap();
        assert_eq!(plain.pop(), Some(2), "one record, the last");
        plain
    }

    #[test]
    fn rfc_8291_appendix_a_gives_exactly_the_rfcs_body() {
        let sub = rfc_subscription();
        let out = encrypt(&sub.p256dh, &sub.auth, PLAINTEXT.as_bytes(), &rfc_random()).unwrap();
        assert_eq!(base64::encode(&out.body, UrlSafe), BODY);
        assert_eq!(out.body[21..86], b64(AS_PUBLIC)[..], "the sender's public key is the key id");
        assert_eq!(out.headers, vec![("Content-Type", "application/octet-stream".to_string()), ("Content-Encoding", "aes128gcm".to_string())]);
        // And the browser's side of the same example reads it back.
        assert_eq!(decrypt(&b64(UA_PRIVATE), &sub.auth, &out.body), PLAINTEXT.as_bytes());
    }

    #[test]
    fn messages_up_to_the_limit_round_trip_and_larger_ones_are_refused() {
        let sub = rfc_subscription();
        let max = vec![b'x'; MAX_PLAINTEXT];
        let out = encrypt(&sub.p256dh, &sub.auth, &max, &rfc_random()).unwrap();
        assert_eq!(out.body.len(), RECORD_SIZE as usize, "the largest message fills the 4096 bytes every push service takes");
        assert_eq!(decrypt(&b64(UA_PRIVATE), &sub.auth, &out.body), max);
        let over = vec![b'x'; MAX_PLAINTEXT + 1];
        let err = encrypt(&sub.p256dh, &sub.auth, &over, &rfc_random()).unwrap_err();
        assert_eq!(err, PushError::TooLarge { max: 3993, got: 3994 });
        assert!(err.to_string().contains("3994 bytes"), "{err}");
        assert_eq!(encrypt(&[4; 65], &sub.auth, b"hi", &rfc_random()), Err(PushError::BadSubscriptionKey));
        // A zero or out-of-range ephemeral key is refused, not used.
        for bad in [[0u8; 32], [0xff; 32]] {
            let random = Randomness { sender_secret: bad, ..rfc_random() };
            assert_eq!(encrypt(&sub.p256dh, &sub.auth, b"hi", &random), Err(PushError::BadEphemeralKey));
        }
    }

    const VAPID_PRIVATE: &str = "IQ9Ur0ykXoHS9gzfYX0aBjy9lvdrjx_PFUXmie9YRcY";

    fn vapid() -> Vapid {
        Vapid::new(VAPID_PRIVATE, "mailto:ops@shop.example").unwrap()
    }

    /// Checks an ES256 JWT with `public_key` (base64url point); its claims.
    fn verify_jwt(jwt: &str, public_key: &str) -> serde_json::Value {
        let (signing_input, signature) = jwt.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&b64(public_key)).unwrap();
        let signature = Signature::from_slice(&b64(signature)).unwrap();
        key.verify(signing_input.as_bytes(), &signature).expect("signature verifies with the public key");
        let (header, claims) = signing_input.split_once('.').unwrap();
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&b64(header)).unwrap(), serde_json::json!({"typ": "JWT", "alg": "ES256"}));
        serde_json::from_slice(&b64(claims)).unwrap()
    }

    #[test]
    fn vapid_jwts_verify_with_the_public_key_and_name_the_push_services_origin() {
        let v = vapid();
        assert_eq!(b64(v.public_key()).len(), 65);
        let now = 1_700_000_000;
        let auth = v.authorization("https://fcm.googleapis.com", now);
        let (t, k) = auth.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, v.public_key());
        let claims = verify_jwt(t, k);
        assert_eq!(claims, serde_json::json!({"aud": "https://fcm.googleapis.com", "exp": now + 12 * 3600, "sub": "mailto:ops@shop.example"}));
        assert!(claims["exp"].as_i64().unwrap() - now <= 24 * 3600, "RFC 8292: at most 24 h");
        // Another key's public half does not verify it.
        let other = Vapid::new("AQ9Ur0ykXoHS9gzfYX0aBjy9lvdrjx_PFUXmie9YRcY", "https://shop.example").unwrap();
        let (signing_input, signature) = t.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&b64(other.public_key())).unwrap();
        assert!(key.verify(signing_input.as_bytes(), &Signature::from_slice(&b64(signature)).unwrap()).is_err());
    }

    #[test]
    fn bad_vapid_settings_are_refused_by_name() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        assert!(Vapid::from_vars(vars(&[])).unwrap().is_none(), "not configured");
        let v = Vapid::from_vars(vars(&[("VAPID_PRIVATE_KEY", VAPID_PRIVATE), ("VAPID_SUBJECT", "mailto:ops@shop.example")])).unwrap().unwrap();
        assert_eq!(v.public_key(), vapid().public_key());
        let half = Vapid::from_vars(vars(&[("VAPID_PRIVATE_KEY", VAPID_PRIVATE)])).unwrap_err().to_string();
        assert!(half.starts_with("VAPID_SUBJECT: not set, while VAPID_PRIVATE_KEY is"), "{half}");
        let err = |k: &str, s: &str| Vapid::new(k, s).unwrap_err().to_string();
        assert!(err("", "mailto:a@b.c").contains("VAPID_PRIVATE_KEY: 0 bytes, not 32"), "{}", err("", "mailto:a@b.c"));
        assert!(err("not base64!", "mailto:a@b.c").contains("not base64url"));
        assert!(err(&"A".repeat(100), "mailto:a@b.c").contains("100 characters"));
        assert!(err("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "mailto:a@b.c").contains("not a valid P-256 scalar"));
        for subject in ["", "ops@shop.example", "mailto:nobody", "http://shop.example", "https://", &format!("mailto:{}@x.y", "a".repeat(300))] {
            assert!(err(VAPID_PRIVATE, subject).starts_with("VAPID_SUBJECT"), "{subject}");
        }
    }

    #[test]
    fn the_request_is_encrypted_signed_and_addressed_to_the_endpoint() {
        let sub = rfc_subscription();
        let options = PushOptions { ttl_secs: 3600, urgency: Some(Urgency::High), topic: Some("cart-1".into()) };
        let r = request(&sub, PLAINTEXT.as_bytes(), &vapid(), &options, 1_700_000_000, &rfc_random()).unwrap();
        assert_eq!(r.url, sub.endpoint);
        assert_eq!(base64::encode(&r.body, UrlSafe), BODY);
        let header = |name: &str| r.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap();
        assert_eq!(header("TTL"), "3600");
        assert_eq!(header("Urgency"), "high");
        assert_eq!(header("Topic"), "cart-1");
        assert_eq!(header("Content-Type"), "application/octet-stream");
        assert_eq!(header("Content-Encoding"), "aes128gcm");
        let (t, k) = header("Authorization").strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(verify_jwt(t, k)["aud"], "https://push.example.net");
        // Defaults: no Urgency, no Topic; a TTL past four weeks is cut.
        let r = request(&sub, b"{}", &vapid(), &PushOptions { ttl_secs: u32::MAX, ..Default::default() }, 0, &rfc_random()).unwrap();
        assert!(!r.headers.iter().any(|(k, _)| *k == "Urgency" || *k == "Topic"));
        assert_eq!(r.headers.iter().find(|(k, _)| *k == "TTL").unwrap().1, MAX_TTL_SECS.to_string());
        for bad in ["", "has space", &"t".repeat(33), "é"] {
            let options = PushOptions { topic: Some(bad.into()), ..Default::default() };
            assert!(matches!(request(&sub, b"{}", &vapid(), &options, 0, &rfc_random()), Err(PushError::BadTopic(_))), "{bad:?}");
        }
    }

    #[test]
    fn the_audience_is_the_parsed_origin_not_a_prefix() {
        let origin = |endpoint: &str| Subscription::new(endpoint, UA_PUBLIC, AUTH, Schemes::HttpsOnly).map(|s| s.origin);
        assert_eq!(origin("https://fcm.googleapis.com/fcm/send/abc:def").unwrap(), "https://fcm.googleapis.com");
        assert_eq!(origin("https://updates.push.services.mozilla.com:443/wpush/v2/gAAA").unwrap(), "https://updates.push.services.mozilla.com");
        assert_eq!(origin("https://web.push.apple.com:8443/QGuQ").unwrap(), "https://web.push.apple.com:8443");
        assert_eq!(origin("HTTPS://Push.Example.NET/x").unwrap(), "https://push.example.net");
        // The request goes to the endpoint as parsed, not to the raw text.
        let sub = Subscription::new(" HTTPS://Push.Example.NET:443/a b", UA_PUBLIC, AUTH, Schemes::HttpsOnly).unwrap();
        assert_eq!(sub.endpoint, "https://push.example.net/a%20b");
        // Userinfo is not a host: `https://fcm.googleapis.com@evil.test/` is evil.test's, and refused.
        assert!(matches!(origin("https://fcm.googleapis.com@evil.test/x"), Err(SubscriptionError::BadEndpoint(_))));
    }

    #[test]
    fn bad_subscriptions_are_refused_with_clear_errors() {
        let json = |endpoint: &str, p256dh: &str, auth: &str| format!(r#"{{"endpoint":"{endpoint}","keys":{{"p256dh":"{p256dh}","auth":"{auth}"}}}}"#);
        let parse = |j: &str| Subscription::parse(j, Schemes::HttpsOnly).unwrap_err();
        let ok_endpoint = "https://push.example.net/p/1";

        // Not an https endpoint, or not a URL at all.
        assert_eq!(parse(&json("http://push.example.net/p/1", UA_PUBLIC, AUTH)), SubscriptionError::NotHttps("http".into()));
        assert_eq!(parse(&json("ftp://push.example.net/p/1", UA_PUBLIC, AUTH)), SubscriptionError::NotHttps("ftp".into()));
        assert!(matches!(parse(&json("/relative/path", UA_PUBLIC, AUTH)), SubscriptionError::BadEndpoint(_)));
        assert!(matches!(parse(&json("https://", UA_PUBLIC, AUTH)), SubscriptionError::BadEndpoint(_)));
        assert_eq!(parse(&json("", UA_PUBLIC, AUTH)), SubscriptionError::Missing("endpoint"));
        // http only behind the explicit test flag.
        let local = json("http://127.0.0.1:9999/push/1", UA_PUBLIC, AUTH);
        assert_eq!(Subscription::parse(&local, Schemes::HttpAllowedForTests).unwrap().origin, "http://127.0.0.1:9999");

        // Wrong key lengths, not base64url, not on the curve.
        let short_point = base64::encode(&b64(UA_PUBLIC)[..33], UrlSafe);
        assert_eq!(parse(&json(ok_endpoint, &short_point, AUTH)), SubscriptionError::KeyLength { what: "keys.p256dh", expected: 65, got: 33 });
        assert_eq!(parse(&json(ok_endpoint, UA_PUBLIC, "AAAA")), SubscriptionError::KeyLength { what: "keys.auth", expected: 16, got: 3 });
        assert_eq!(parse(&json(ok_endpoint, UA_PUBLIC, "BTBZMqHH6r4Tts7J+aSIgg")), SubscriptionError::NotBase64url("keys.auth"));
        let mut off_curve = b64(UA_PUBLIC);
        off_curve[64] ^= 1;
        assert_eq!(parse(&json(ok_endpoint, &base64::encode(&off_curve, UrlSafe), AUTH)), SubscriptionError::NotOnCurve);
        let mut compressed = b64(UA_PUBLIC);
        compressed[0] = 0x02;
        assert_eq!(parse(&json(ok_endpoint, &base64::encode(&compressed, UrlSafe), AUTH)), SubscriptionError::NotOnCurve);
        assert_eq!(parse(&json(ok_endpoint, "", AUTH)), SubscriptionError::Missing("keys.p256dh"));
        assert_eq!(parse(&format!(r#"{{"endpoint":"{ok_endpoint}"}}"#)), SubscriptionError::Missing("keys.p256dh"));

        // Oversized input, refused before it is read.
        let long_endpoint = format!("https://push.example.net/{}", "a".repeat(MAX_ENDPOINT_BYTES));
        assert!(matches!(parse(&json(&long_endpoint, UA_PUBLIC, AUTH)), SubscriptionError::TooLarge { what: "endpoint", .. }));
        let huge = json(ok_endpoint, UA_PUBLIC, AUTH) + &" ".repeat(MAX_SUBSCRIPTION_BYTES);
        assert!(matches!(parse(&huge), SubscriptionError::TooLarge { what: "the subscription", .. }));
        assert!(matches!(parse(&json(ok_endpoint, &"A".repeat(1000), AUTH)), SubscriptionError::KeyLength { what: "keys.p256dh", .. }));
        assert!(matches!(parse("not json"), SubscriptionError::NotJson(_)));

        // Each says what is wrong.
        let msg = parse(&json("http://push.example.net/p/1", UA_PUBLIC, AUTH)).to_string();
        assert_eq!(msg, "push subscription: endpoint must be https, not http");
        let msg = parse(&json(ok_endpoint, &short_point, AUTH)).to_string();
        assert_eq!(msg, "push subscription: keys.p256dh must be 65 bytes, not 33");
        // Padded base64url (some libraries write it) is read the same.
        let padded = json(ok_endpoint, UA_PUBLIC, &format!("{AUTH}=="));
        assert_eq!(Subscription::parse(&padded, Schemes::HttpsOnly).unwrap().auth[..], b64(AUTH)[..]);
    }

    #[test]
    fn a_journey_message_becomes_the_notification_the_service_worker_shows() {
        let m = Message {
            journey: "cart".into(),
            step: 1,
            subject: "Still thinking?".into(),
            text: "Your lamp is waiting".into(),
            link: "https://shop.test/offer?vt=a.b".into(),
            image: "https://shop.test/img/A.jpg".into(),
            idempotency_key: "k-7".into(),
            ..Message::default()
        };
        let p: serde_json::Value = serde_json::from_slice(&payload(&m, "k-7")).unwrap();
        assert_eq!(
            p,
            serde_json::json!({
                "title": "Still thinking?", "body": "Your lamp is waiting", "link": "https://shop.test/offer?vt=a.b",
                "image": "https://shop.test/img/A.jpg", "data": {"journey": "cart", "step": 1, "vitrine_key": "k-7"}
            })
        );
        let p: serde_json::Value = serde_json::from_slice(&payload(&Message { image: String::new(), ..m }, "k-7")).unwrap();
        assert!(p.get("image").is_none());
    }

    #[test]
    fn push_services_answers_are_read() {
        assert_eq!(answer(201), Answer::Sent);
        assert_eq!((answer(404), answer(410)), (Answer::Gone, Answer::Gone));
        assert_eq!(answer(413), Answer::TooLarge);
        assert_eq!((answer(429), answer(500), answer(503)), (Answer::Retry, Answer::Retry, Answer::Retry));
        assert_eq!((answer(400), answer(401), answer(403)), (Answer::Refused, Answer::Refused, Answer::Refused));
        let loc = "https://push.example.net/m/123";
        assert_eq!(answer(201).outcome(201, "", Some(loc)), Outcome::Delivered { status: 201, provider_id: loc.into() });
        assert_eq!(answer(410).outcome(410, "", None), Outcome::Failed { status: 410, error: "push subscription gone (drop it)".into() });
        assert!(matches!(answer(503).outcome(503, "later", None), Outcome::Retry { status: 503, error } if error == "push service busy: later"));
    }
}
