//! Provider feedback: what SendGrid's Event Webhook and Twilio's status callbacks say about a
//! contact, checked and decided here (sans-IO); the runtime (edge-worker/src/feedback.rs) reads
//! the bounded body and the headers, and posts each [`Report`] to the contact's object
//! (`visitor_do::FEEDBACK`), which suppresses it for every visitor of it or only records it.
//!
//! | provider | suppresses the contact | recorded only | ignored (for now) |
//! |---|---|---|---|
//! | SendGrid | `bounce` (type `bounce`: a hard bounce), `dropped` for `Bounced Address`, `Invalid`, `Unsubscribed Address`, `Spam Reporting Address`, `spamreport`, `unsubscribe`, `group_unsubscribe` | `bounce` of type `blocked` (soft: the receiving server refused this once), `dropped` for other reasons | `processed`, `deferred`, `click` (clicks are counted by our own click redirect) |
//! | Twilio, WhatsApp (`To=whatsapp:+…`) | `failed`/`undelivered` with error 63024 (not a WhatsApp user): WhatsApp only, the number's texts untouched | other error codes (63016 and friends are about the message, not the number) | statuses without an error (`queued`, `sent`, `read`) |
//! | Twilio | `failed`/`undelivered` with error 21610 (the recipient texted STOP to the sender), 21614 (not a mobile number), 21211 (invalid `To`), 30005 (unknown destination), 30006 (landline or unreachable carrier) | other error codes, 30003 (unreachable handset) among them: phones are off, abroad or out of signal, and the next text may well arrive | statuses without an error (`queued`, `sent`) |
//!
//! A `delivered` event (SendGrid) or status (Twilio) is measured: a `Message Delivered` record
//! for the visitor the message went to ([`Delivered`]), named by the message's own ids (SendGrid's
//! `custom_args`, the query of the text's `StatusCallback`); SendGrid's `open` likewise as
//! `Message Opened`, which a journey's next step may ask about (`if = "not_opened"`).
//!
//! Signatures: SendGrid signs `timestamp + body` with ECDSA P-256 / SHA-256 (base64 DER in
//! `X-Twilio-Email-Event-Webhook-Signature`), checked with the public key the SendGrid console
//! shows (`SENDGRID_WEBHOOK_PUBLIC_KEY`, base64 DER SubjectPublicKeyInfo), and a timestamp more
//! than [`MAX_SKEW_SECS`] away is refused (a replay); Twilio signs as for inbound SMS
//! (`optout::twilio_form`). Without the key (or `TWILIO_AUTH_TOKEN`) an endpoint is off (503),
//! except in dev mode, where unsigned posts are taken.

use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::{json, Value};
use vitrine_contacts::Country;
use vitrine_engine::base64::{self, Alphabet::Standard};
use vitrine_engine::journey::Channel;

use crate::events::contact_key;
use crate::messaging;
use crate::optout::{self, SmsRefusal};
use crate::visitor_do::FeedbackBody;
use vitrine_engine::measure::Record;

/// A provider's post larger than this is refused (413) before it is read whole.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// A signed post whose timestamp is further than this from now (either way) is refused.
pub const MAX_SKEW_SECS: i64 = 600;
pub const SENDGRID_SIGNATURE: &str = "X-Twilio-Email-Event-Webhook-Signature";
pub const SENDGRID_TIMESTAMP: &str = "X-Twilio-Email-Event-Webhook-Timestamp";
/// A provider's reason, as kept in the contact's record: at most this many bytes.
const MAX_REASON: usize = 200;

/// SendGrid's Event Webhook verification key (`SENDGRID_WEBHOOK_PUBLIC_KEY`).
#[derive(Clone, Debug)]
pub struct SendgridKey(VerifyingKey);

impl SendgridKey {
    /// The key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo (a PEM block's
    /// armour and line breaks are tolerated).
    pub fn parse(text: &str) -> Result<SendgridKey, String> {
        let b64: String = text.lines().filter(|l| !l.starts_with("-----")).flat_map(|l| l.chars()).filter(|c| !c.is_whitespace()).collect();
        let der = base64::decode(&b64, Standard).ok_or("SENDGRID_WEBHOOK_PUBLIC_KEY is not base64")?;
        VerifyingKey::from_public_key_der(&der)
            .map(SendgridKey)
            .map_err(|_| "SENDGRID_WEBHOOK_PUBLIC_KEY is not a P-256 public key (base64 DER, as the SendGrid console shows it)".into())
    }
}

/// Why a provider's post is refused.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// 503: the endpoint's secret or key is not set (outside dev mode): it is off.
    NotConfigured(&'static str),
    /// 401: no signature (or no timestamp).
    Unsigned,
    /// 401: a signature that does not verify.
    BadSignature,
    /// 401: signed too long ago (or in the future): a replay.
    Stale,
    /// 400
    BadBody(&'static str),
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::NotConfigured(_) => 503,
            Refusal::Unsigned | Refusal::BadSignature | Refusal::Stale => 401,
            Refusal::BadBody(_) => 400,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::NotConfigured(what) => format!("this webhook is not configured ({what})"),
            Refusal::Unsigned => "unsigned: the provider's signature headers are missing".into(),
            Refusal::BadSignature => "the signature does not match this request".into(),
            Refusal::Stale => format!("the signature's timestamp is more than {MAX_SKEW_SECS} s away from now"),
            Refusal::BadBody(why) => (*why).into(),
        }
    }

    /// The answer's JSON body.
    pub fn json(&self) -> Value {
        json!({ "error": self.message() })
    }
}

/// Checks SendGrid's signature of `body` (the raw bytes, as received). `unsigned_ok`: no key
/// is set and this is dev mode (`Config::sendgrid_unsigned_ok`).
pub fn verify_sendgrid(
    key: Option<&SendgridKey>,
    unsigned_ok: bool,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), Refusal> {
    let Some(key) = key else {
        return if unsigned_ok { Ok(()) } else { Err(Refusal::NotConfigured("SENDGRID_WEBHOOK_PUBLIC_KEY")) };
    };
    let nonblank = |h: Option<&str>| h.map(str::trim).filter(|h| !h.is_empty()).map(str::to_string);
    let (Some(signature), Some(timestamp)) = (nonblank(signature), nonblank(timestamp)) else { return Err(Refusal::Unsigned) };
    let der = base64::decode(&signature, Standard).ok_or(Refusal::BadSignature)?;
    let signature = Signature::from_der(&der).map_err(|_| Refusal::BadSignature)?;
    // Either S is a valid signature; the library may insist on the low one.
    let signature = signature.normalize_s().unwrap_or(signature);
    let signed = [timestamp.as_bytes(), body].concat();
    key.0.verify(&signed, &signature).map_err(|_| Refusal::BadSignature)?;
    match timestamp.parse::<i64>() {
        Ok(at) if (now - at).abs() <= MAX_SKEW_SECS => Ok(()),
        _ => Err(Refusal::Stale),
    }
}

/// What one provider event means for its contact.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// No more messages to this contact, from any visitor of it. The reason is kept.
    Suppress(String),
    /// Kept in the contact's record; changes nothing.
    Record(String),
    /// Nothing to do (deliveries, opens, clicks: measurement is a later issue).
    Ignore,
}

/// A report for one contact's object (`e:<email>`, `p:<E.164>`).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub contact: String,
    pub body: FeedbackBody,
}

/// A message the provider delivered: its measurement record, for the visitor object it went to.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivered {
    pub visitor: String,
    pub record: Record,
}

impl Delivered {
    /// From the message's ids as the provider hands them back; `None` without a visitor or key
    /// (a message sent before deliveries were measured, or not ours).
    fn of(visitor: &str, key: &str, journey: &str, step: &str, channel: Channel, at: i64) -> Option<Delivered> {
        Delivered::with(crate::measure::delivered_record, visitor, key, journey, step, channel, at)
    }

    /// The same for an email's open (SendGrid's `open` event).
    fn opened(visitor: &str, key: &str, journey: &str, step: &str, at: i64) -> Option<Delivered> {
        Delivered::with(crate::measure::opened_record, visitor, key, journey, step, Channel::Email, at)
    }

    fn with(
        record: fn(&str, &str, Option<u32>, &str, i64) -> Record,
        visitor: &str,
        key: &str,
        journey: &str,
        step: &str,
        channel: Channel,
        at: i64,
    ) -> Option<Delivered> {
        let visitor = visitor.trim();
        let ours = (visitor.starts_with("a:") || visitor.starts_with("u:")) && visitor.len() <= 256 && !key.trim().is_empty();
        ours.then(|| Delivered { visitor: visitor.into(), record: record(key.trim(), journey, step.trim().parse().ok(), channel.as_str(), at) })
    }
}

/// What a batch of provider events came to.
#[derive(Debug, Default, PartialEq)]
pub struct Batch {
    /// At most one per contact: a suppression wins over records of the same contact.
    pub reports: Vec<Report>,
    pub delivered: Vec<Delivered>,
    pub received: usize,
    pub ignored: usize,
}

impl Batch {
    /// The answer once every report was taken.
    pub fn reply(&self) -> Value {
        let suppressed = self.reports.iter().filter(|r| r.body.suppress).count();
        json!({ "received": self.received, "suppressed": suppressed, "recorded": self.reports.len() - suppressed, "delivered": self.delivered.len(), "ignored": self.ignored })
    }

    fn add(&mut self, contact: String, body: FeedbackBody) {
        match self.reports.iter_mut().find(|r| r.contact == contact) {
            Some(r) if r.body.suppress => {}
            Some(r) => r.body = body,
            None => self.reports.push(Report { contact, body }),
        }
    }
}

fn clip(s: &str) -> String {
    vitrine_engine::truncate(s.trim(), MAX_REASON).to_string()
}

/// The reasons SendGrid drops a message for that are about the address itself.
const DROPPED_FOR_THE_ADDRESS: [&str; 4] = ["Bounced Address", "Invalid", "Unsubscribed Address", "Spam Reporting Address"];

/// One SendGrid event's verdict.
pub fn sendgrid_verdict(e: &Value) -> Verdict {
    let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
    let with_reason = |what: &str| match clip(text("reason")) {
        r if r.is_empty() => format!("sendgrid {what}"),
        r => format!("sendgrid {what}: {r}"),
    };
    match text("event") {
        "bounce" if text("type") == "blocked" => Verdict::Record(with_reason("blocked")),
        "bounce" => Verdict::Suppress(with_reason("bounce")),
        "dropped" if DROPPED_FOR_THE_ADDRESS.iter().any(|r| text("reason").trim().eq_ignore_ascii_case(r)) => Verdict::Suppress(with_reason("dropped")),
        "dropped" => Verdict::Record(with_reason("dropped")),
        "spamreport" => Verdict::Suppress("sendgrid spamreport".into()),
        what @ ("unsubscribe" | "group_unsubscribe") => Verdict::Suppress(format!("sendgrid {what}")),
        _ => Verdict::Ignore,
    }
}

/// SendGrid's post (a JSON array of events), as reports for the contacts' objects.
pub fn sendgrid_events(body: &[u8], now: i64) -> Result<Batch, Refusal> {
    let events: Vec<Value> = match serde_json::from_slice(body) {
        Ok(Value::Array(events)) => events,
        _ => return Err(Refusal::BadBody("expected a JSON array of SendGrid events")),
    };
    let mut batch = Batch { received: events.len(), ..Batch::default() };
    for e in &events {
        let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
        if matches!(text("event"), "delivered" | "open") {
            let at = e.get("timestamp").and_then(Value::as_i64).unwrap_or(now);
            let (visitor, key, journey, step) = (text("visitor"), text("vitrine_key"), text("journey"), text("step"));
            let record = match text("event") {
                "open" => Delivered::opened(visitor, key, journey, step, at),
                _ => Delivered::of(visitor, key, journey, step, Channel::Email, at),
            };
            match record {
                Some(d) => batch.delivered.push(d),
                None => batch.ignored += 1,
            }
            continue;
        }
        let (suppress, reason) = match sendgrid_verdict(e) {
            Verdict::Suppress(r) => (true, r),
            Verdict::Record(r) => (false, r),
            Verdict::Ignore => {
                batch.ignored += 1;
                continue;
            }
        };
        let Some(email) = e.get("email").and_then(Value::as_str).and_then(vitrine_contacts::email) else {
            batch.ignored += 1;
            continue;
        };
        let at = e.get("timestamp").and_then(Value::as_i64).unwrap_or(now);
        let id = match e.get("sg_event_id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => clip(id),
            _ => format!("sg-{at}-{}", batch.received),
        };
        batch.add(contact_key(Channel::Email, &email), FeedbackBody { id, reason, at, suppress, channel: None });
    }
    Ok(batch)
}

/// Twilio error codes that mean the number will not take texts from us.
const TWILIO_SUPPRESSING: [(&str, &str); 5] = [
    ("21610", "unsubscribed recipient (STOP)"),
    ("21614", "not a mobile number"),
    ("21211", "invalid 'To' number"),
    ("30005", "unknown destination handset"),
    ("30006", "landline or unreachable carrier"),
];

/// Twilio error codes that mean the number takes no WhatsApp messages (texts may still go).
const WHATSAPP_SUPPRESSING: [(&str, &str); 1] = [("63024", "invalid WhatsApp recipient (not a WhatsApp user)")];

/// Twilio's status callback for a message we sent (form-encoded `MessageSid`, `MessageStatus`,
/// `To`, `ErrorCode`; the message's ids in the URL's query): a report for the number's object,
/// if it says anything about the number, or the delivery to record. `To` is a number for a text,
/// `whatsapp:+E164` for WhatsApp (`messaging::twilio_address`): the channel comes from it.
pub fn twilio_status(
    form_body: &str,
    url: &str,
    signature: Option<&str>,
    auth_token: Option<&str>,
    dev_mode: bool,
    country: Country,
    now: i64,
) -> Result<Status, Refusal> {
    let form = optout::twilio_form(form_body, url, signature, auth_token, dev_mode).map_err(|r| match r {
        SmsRefusal::NotConfigured => Refusal::NotConfigured("TWILIO_AUTH_TOKEN"),
        SmsRefusal::BadSignature if signature.is_none_or(|s| s.trim().is_empty()) => Refusal::Unsigned,
        _ => Refusal::BadSignature,
    })?;
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).unwrap_or("");
    let code = get("ErrorCode");
    let to = messaging::twilio_address(get("To"), country);
    if get("MessageStatus") == "delivered" {
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let id = |k: &str| crate::query::get(query, k).unwrap_or_default();
        let channel = to.as_ref().map_or(Channel::Sms, |(c, _)| *c);
        return Ok(Status::Delivered(Delivered::of(&id("visitor"), &id("key"), &id("journey"), &id("step"), channel, now).map(Box::new)));
    }
    if !matches!(get("MessageStatus"), "failed" | "undelivered") || code.is_empty() || code == "0" {
        return Ok(Status::Nothing);
    }
    let Some((channel, number)) = to else { return Ok(Status::Nothing) };
    let suppressing: &[(&str, &str)] = if channel == Channel::Whatsapp { &WHATSAPP_SUPPRESSING } else { &TWILIO_SUPPRESSING };
    let (suppress, reason) = match suppressing.iter().find(|(c, _)| *c == code) {
        Some((c, what)) => (true, format!("twilio {c}: {what}")),
        None => (false, format!("twilio {}: {}", clip(code), get("MessageStatus"))),
    };
    let sid = get("MessageSid");
    let id = if sid.is_empty() { format!("tw-{now}") } else { clip(sid) };
    let channel = (channel == Channel::Whatsapp).then_some(channel);
    Ok(Status::Report(Report { contact: contact_key(Channel::Sms, &number), body: FeedbackBody { id, reason, at: now, suppress, channel } }))
}

/// What one Twilio status callback comes to.
#[derive(Debug, PartialEq)]
pub enum Status {
    /// About the number: for its object.
    Report(Report),
    /// Delivered: to record (`None`: not a message of ours to measure).
    Delivered(Option<Box<Delivered>>),
    Nothing,
}

/// Twilio's answer to sending a text (`POST …/Messages.json`): a 4xx whose JSON `code` says
/// the number will not take texts (21610: it texted STOP to our sender, which Twilio enforces
/// even when its STOP never reached us) is a report for the number's object, as a status
/// callback would be. `key`: the message's idempotency key (a retried report counts once).
/// `channel`: the message's (a WhatsApp refusal is about WhatsApp only).
pub fn twilio_send_refusal(channel: Channel, status: u16, body: &str, to: &str, key: &str, now: i64) -> Option<Report> {
    if !(400..500).contains(&status) {
        return None;
    }
    let code = serde_json::from_str::<Value>(body).ok()?.get("code")?.as_u64()?.to_string();
    let whatsapp = channel == Channel::Whatsapp;
    let suppressing: &[(&str, &str)] = if whatsapp { &WHATSAPP_SUPPRESSING } else { &TWILIO_SUPPRESSING };
    let (c, what) = suppressing.iter().find(|(c, _)| *c == code)?;
    let body = FeedbackBody {
        id: format!("send-{}", clip(key)),
        reason: format!("twilio {c}: {what}"),
        at: now,
        suppress: true,
        channel: whatsapp.then_some(Channel::Whatsapp),
    };
    Some(Report { contact: contact_key(Channel::Sms, to), body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::SigningKey;
    use p256::pkcs8::EncodePublicKey;

    /// A test key pair from a fixed secret scalar (never a real SendGrid key).
    fn keys(seed: u8) -> (SigningKey, String) {
        let signing = SigningKey::from_bytes(&[seed; 32].into()).unwrap();
        let spki = signing.verifying_key().to_public_key_der().unwrap();
        (signing, base64::encode(spki.as_bytes(), Standard))
    }

    /// What SendGrid sends: base64 DER ECDSA over timestamp + body.
    fn sign(k: &SigningKey, timestamp: &str, body: &[u8]) -> String {
        let sig: Signature = k.sign(&[timestamp.as_bytes(), body].concat());
        base64::encode(sig.to_der().as_bytes(), Standard)
    }

    const NOW: i64 = 1_700_000_000;

    /// The shape of SendGrid's documented batch (docs: "Event Webhook Reference").
    fn batch() -> String {
        json!([
            { "email": "Jo@Example.com", "timestamp": NOW - 5, "event": "processed", "sg_event_id": "ev-p", "sg_message_id": "m1.filter0001" },
            { "email": "jo@example.com", "timestamp": NOW - 4, "event": "delivered", "response": "250 OK", "sg_event_id": "ev-d", "sg_message_id": "m1" },
            { "email": "jo@example.com", "timestamp": NOW - 3, "event": "open", "sg_event_id": "ev-o", "useragent": "Mozilla/5.0", "ip": "255.255.255.255" },
            { "email": "soft@example.com", "timestamp": NOW - 2, "event": "bounce", "type": "blocked", "status": "4.0.0", "reason": "421 try later", "sg_event_id": "ev-b1" },
            { "email": "hard@example.com", "timestamp": NOW - 2, "event": "bounce", "type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 unknown user", "sg_event_id": "ev-b2", "bounce_classification": "Invalid Address" },
            { "email": "hard@example.com", "timestamp": NOW - 1, "event": "deferred", "response": "400 try again later", "attempt": "5", "sg_event_id": "ev-df" },
            { "email": "spam@example.com", "timestamp": NOW - 1, "event": "spamreport", "sg_event_id": "ev-s" },
            { "email": "gone@example.com", "timestamp": NOW, "event": "dropped", "reason": "Bounced Address", "sg_event_id": "ev-x" },
            { "email": "header@example.com", "timestamp": NOW, "event": "dropped", "reason": "Invalid SMTPAPI header", "sg_event_id": "ev-h" },
            { "email": "unsub@example.com", "timestamp": NOW, "event": "group_unsubscribe", "asm_group_id": 1, "sg_event_id": "ev-g" },
            { "email": "jo@example.com", "timestamp": NOW, "event": "click", "url": "https://shop.example/cart", "sg_event_id": "ev-c" }
        ])
        .to_string()
    }

    #[test]
    fn sendgrid_signatures_are_checked_over_timestamp_and_raw_body() {
        let (signing, public) = keys(7);
        let key = SendgridKey::parse(&public).unwrap();
        let body = batch();
        let ts = NOW.to_string();
        let good = sign(&signing, &ts, body.as_bytes());
        let check = |sig: Option<&str>, ts: Option<&str>, body: &[u8], now: i64| verify_sendgrid(Some(&key), false, sig, ts, body, now);
        assert_eq!(check(Some(&good), Some(&ts), body.as_bytes(), NOW + 30), Ok(()));
        assert_eq!(check(Some(&good), Some(&ts), format!("{body} ").as_bytes(), NOW), Err(Refusal::BadSignature), "one byte more");
        assert_eq!(check(Some(&good), Some("1700000001"), body.as_bytes(), NOW), Err(Refusal::BadSignature), "another timestamp");
        assert_eq!(check(None, Some(&ts), body.as_bytes(), NOW), Err(Refusal::Unsigned));
        assert_eq!(check(Some(&good), None, body.as_bytes(), NOW), Err(Refusal::Unsigned));
        assert_eq!(check(Some("not base64!"), Some(&ts), body.as_bytes(), NOW), Err(Refusal::BadSignature));
        let (other, _) = keys(9);
        assert_eq!(check(Some(&sign(&other, &ts, body.as_bytes())), Some(&ts), body.as_bytes(), NOW), Err(Refusal::BadSignature), "another key");
        assert_eq!(check(Some(&good), Some(&ts), body.as_bytes(), NOW + MAX_SKEW_SECS + 1), Err(Refusal::Stale), "a replay");
        assert_eq!(check(Some(&good), Some(&ts), body.as_bytes(), NOW - MAX_SKEW_SECS - 1), Err(Refusal::Stale), "from the future");
        assert_eq!(Refusal::Stale.status(), 401);
        // The key as the console shows it, or as a PEM block.
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n", &public[..64], &public[64..]);
        assert!(SendgridKey::parse(&pem).is_ok());
        assert!(SendgridKey::parse("bm90IGEga2V5").unwrap_err().contains("P-256"));
    }

    #[test]
    fn production_refuses_unsigned_posts_and_dev_mode_takes_them_without_a_key() {
        let body = batch();
        let refused = verify_sendgrid(None, false, None, None, body.as_bytes(), NOW);
        assert_eq!(refused, Err(Refusal::NotConfigured("SENDGRID_WEBHOOK_PUBLIC_KEY")));
        assert_eq!(refused.unwrap_err().status(), 503);
        assert_eq!(verify_sendgrid(None, true, None, None, body.as_bytes(), NOW), Ok(()), "dev mode, no key");
        let (_, public) = keys(7);
        let key = SendgridKey::parse(&public).unwrap();
        assert_eq!(verify_sendgrid(Some(&key), true, None, None, body.as_bytes(), NOW), Err(Refusal::Unsigned), "a key set is always checked");
    }

    #[test]
    fn hard_bounces_complaints_and_unsubscribes_suppress_soft_bounces_are_recorded() {
        let b = sendgrid_events(batch().as_bytes(), NOW).unwrap();
        assert_eq!((b.received, b.ignored), (11, 5));
        let got: Vec<(&str, bool, &str)> = b.reports.iter().map(|r| (r.contact.as_str(), r.body.suppress, r.body.reason.as_str())).collect();
        assert_eq!(
            got,
            [
                ("e:soft@example.com", false, "sendgrid blocked: 421 try later"),
                ("e:hard@example.com", true, "sendgrid bounce: 550 5.1.1 unknown user"),
                ("e:spam@example.com", true, "sendgrid spamreport"),
                ("e:gone@example.com", true, "sendgrid dropped: Bounced Address"),
                ("e:header@example.com", false, "sendgrid dropped: Invalid SMTPAPI header"),
                ("e:unsub@example.com", true, "sendgrid group_unsubscribe"),
            ]
        );
        assert_eq!((b.reports[1].body.id.as_str(), b.reports[1].body.at), ("ev-b2", NOW - 2));
        assert_eq!(
            b.reply(),
            json!({ "received": 11, "suppressed": 4, "recorded": 2, "delivered": 0, "ignored": 5 }),
            "a delivered event without our ids: ignored"
        );
        // One report per contact: a suppression wins, whatever the order.
        let twice = json!([
            { "email": "a@example.com", "event": "spamreport", "sg_event_id": "1" },
            { "email": "A@example.com ", "event": "bounce", "type": "blocked", "sg_event_id": "2" },
            { "email": "b@example.com", "event": "bounce", "type": "blocked", "sg_event_id": "3" },
            { "email": "b@example.com", "event": "dropped", "reason": "Spam Reporting Address", "sg_event_id": "4" },
            { "email": "not an email address", "event": "dropped", "reason": "Invalid" }
        ]);
        let b = sendgrid_events(twice.to_string().as_bytes(), NOW).unwrap();
        let got: Vec<(&str, bool, &str)> = b.reports.iter().map(|r| (r.contact.as_str(), r.body.suppress, r.body.id.as_str())).collect();
        assert_eq!(got, [("e:a@example.com", true, "1"), ("e:b@example.com", true, "4")]);
        assert_eq!(b.ignored, 1, "no address to suppress");
        assert_eq!(sendgrid_events(b"{\"event\":\"bounce\"}", NOW).unwrap_err().status(), 400);
        assert_eq!(sendgrid_events(b"[]", NOW).unwrap().reply()["received"], 0);
    }

    #[test]
    fn a_delivered_email_is_recorded_for_the_visitor_it_went_to() {
        // SendGrid puts the send's custom_args (messaging::sendgrid_body) on each event.
        let delivered = json!([
            { "email": "jane@example.com", "event": "delivered", "timestamp": NOW - 5, "vitrine_key": "k-1", "visitor": "u:17850", "journey": "cart", "step": "2" },
            { "email": "old@example.com", "event": "delivered", "timestamp": NOW, "vitrine_key": "k-2" },
            { "email": "x@example.com", "event": "delivered", "vitrine_key": "k-3", "visitor": "not-an-object-key" }
        ]);
        let b = sendgrid_events(delivered.to_string().as_bytes(), NOW).unwrap();
        assert!(b.reports.is_empty(), "a delivery says nothing about the contact");
        assert_eq!(b.delivered.len(), 1);
        let d = &b.delivered[0];
        assert_eq!((d.visitor.as_str(), d.record.message_id.as_str(), d.record.journey.as_str()), ("u:17850", "k-1:delivered", "cart"));
        assert_eq!((d.record.step, d.record.channel.as_str(), d.record.ts), (Some(2), "email", NOW - 5));
        assert_eq!(b.reply()["delivered"], 1);
        assert_eq!(b.ignored, 2, "sent before deliveries were measured, or not ours");
    }

    #[test]
    fn an_opened_email_is_recorded_as_an_open_for_the_journeys_next_step() {
        let opened = json!([{ "email": "jane@example.com", "event": "open", "timestamp": NOW - 5, "vitrine_key": "k-1", "visitor": "u:17850", "journey": "cart", "step": "0" }]);
        let b = sendgrid_events(opened.to_string().as_bytes(), NOW).unwrap();
        let r = &b.delivered[0].record;
        assert_eq!((r.event.as_str(), r.message_id.as_str(), r.channel.as_str()), ("Message Opened", "k-1:opened", "email"));
        assert_eq!(vitrine_engine::journey::Interaction::of_record(&r.event, &r.channel), Some(vitrine_engine::journey::Interaction::Opened));
        // A text's delivery is no open; a push notification's (displayed) is.
        assert_eq!(vitrine_engine::journey::Interaction::of_record("Message Delivered", "sms"), None);
        assert_eq!(vitrine_engine::journey::Interaction::of_record("Message Delivered", "push"), Some(vitrine_engine::journey::Interaction::Opened));
    }

    #[test]
    fn twilio_status_callbacks_suppress_numbers_that_cannot_take_texts() {
        let gb = Country::parse("GB").unwrap();
        let url = "https://shop.example/v1/providers/twilio/status";
        let status = |form: &str| twilio_status(form, url, None, None, true, gb, NOW).unwrap();
        let report = |form: &str| match status(form) {
            Status::Report(r) => Some(r),
            _ => None,
        };
        let refused = twilio_send_refusal(
            Channel::Sms,
            400,
            r#"{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}"#,
            "+447400123456",
            "k1",
            NOW,
        );
        assert_eq!(refused.map(|r| (r.contact, r.body.suppress)), Some(("p:+447400123456".to_string(), true)), "refused at send time: the same");
        assert!(twilio_send_refusal(Channel::Sms, 400, r#"{"code": 21211}"#, "+447400123456", "k1", NOW).is_some());
        assert!(twilio_send_refusal(Channel::Sms, 400, r#"{"code": 30003}"#, "+447400123456", "k1", NOW).is_none(), "not a suppressing code");
        assert!(twilio_send_refusal(Channel::Sms, 503, r#"{"code": 21610}"#, "+447400123456", "k1", NOW).is_none(), "not a refusal");
        let stopped = report("MessageSid=SM1&MessageStatus=undelivered&To=%2B447400123456&ErrorCode=21610&AccountSid=AC1").unwrap();
        assert_eq!(stopped.contact, "p:+447400123456");
        assert_eq!(
            stopped.body,
            FeedbackBody { id: "SM1".into(), reason: "twilio 21610: unsubscribed recipient (STOP)".into(), at: NOW, suppress: true, channel: None }
        );
        for code in ["21614", "21211", "30005", "30006"] {
            assert!(report(&format!("MessageSid=SM2&MessageStatus=failed&To=%2B447400123456&ErrorCode={code}")).unwrap().body.suppress, "{code}");
        }
        let unreachable = report("MessageSid=SM3&MessageStatus=undelivered&To=%2B447400123456&ErrorCode=30003").unwrap();
        assert!(!unreachable.body.suppress && unreachable.body.reason == "twilio 30003: undelivered", "often temporary: recorded only");
        assert_eq!(status("MessageSid=SM4&MessageStatus=delivered&To=%2B447400123456"), Status::Delivered(None), "no ids of ours: nothing to record");
        assert_eq!(status("MessageSid=SM5&MessageStatus=sent&To=%2B447400123456&ErrorCode="), Status::Nothing);
        assert_eq!(status("MessageSid=SM6&MessageStatus=failed&To=nope&ErrorCode=21211"), Status::Nothing, "no number to suppress");
        // A delivery of ours: recorded for the visitor the text went to (ids in the callback's query).
        let ours = format!("{url}?visitor=a%3Av1&key=k-7&journey=cart&step=1");
        let delivered = twilio_status("MessageSid=SM7&MessageStatus=delivered&To=%2B447400123456", &ours, None, None, true, gb, NOW).unwrap();
        let Status::Delivered(Some(d)) = delivered else { panic!("{delivered:?}") };
        assert_eq!((d.visitor.as_str(), d.record.event.as_str(), d.record.message_id.as_str()), ("a:v1", "Message Delivered", "k-7:delivered"));
        assert_eq!((d.record.journey.as_str(), d.record.step, d.record.channel.as_str(), d.record.ts), ("cart", Some(1), "sms", NOW));

        // WhatsApp: `To` is the channel-prefixed number, parsed; a report names WhatsApp only.
        let not_on_whatsapp = report("MessageSid=SM8&MessageStatus=failed&To=whatsapp%3A%2B447400123456&ErrorCode=63024").unwrap();
        assert_eq!((not_on_whatsapp.contact.as_str(), not_on_whatsapp.body.suppress), ("p:+447400123456", true));
        assert_eq!(not_on_whatsapp.body.channel, Some(Channel::Whatsapp), "the number's texts are not silenced by it");
        let r = report("MessageSid=SM9&MessageStatus=undelivered&To=whatsapp%3A%2B447400123456&ErrorCode=21610").unwrap();
        assert!(!r.body.suppress, "an SMS code on WhatsApp suppresses nothing: {r:?}");
        for forged in ["whatsapp%3A447400123456", "whatsapp%3A%2B4474", "sms%3A%2B447400123456", "whatsapp%3A%2B447400123456%3Ax", "WHATSAPP%3Ajunk"] {
            assert_eq!(status(&format!("MessageSid=S&MessageStatus=failed&To={forged}&ErrorCode=63024")), Status::Nothing, "{forged}");
        }
        let refused = twilio_send_refusal(Channel::Whatsapp, 400, r#"{"code": 63024}"#, "+447400123456", "k1", NOW).unwrap();
        assert_eq!((refused.contact.as_str(), refused.body.channel), ("p:+447400123456", Some(Channel::Whatsapp)));
        assert!(twilio_send_refusal(Channel::Whatsapp, 400, r#"{"code": 21610}"#, "+447400123456", "k1", NOW).is_none());
        let wa = format!("{url}?visitor=a%3Av1&key=k-8&journey=cart&step=2&channel=whatsapp");
        let delivered = twilio_status("MessageSid=SM10&MessageStatus=delivered&To=whatsapp%3A%2B447400123456", &wa, None, None, true, gb, NOW).unwrap();
        let Status::Delivered(Some(d)) = delivered else { panic!("{delivered:?}") };
        assert_eq!((d.visitor.as_str(), d.record.step, d.record.channel.as_str()), ("a:v1", Some(2), "whatsapp"));

        // Signed as Twilio signs inbound SMS; refused otherwise.
        let form = "MessageSid=SM1&MessageStatus=undelivered&To=%2B447400123456&ErrorCode=21610";
        let production = |sig: Option<&str>, token: Option<&str>| twilio_status(form, url, sig, token, false, gb, NOW).unwrap_err();
        assert_eq!(production(None, None), Refusal::NotConfigured("TWILIO_AUTH_TOKEN"));
        assert_eq!(production(None, Some("token")), Refusal::Unsigned);
        assert_eq!(production(Some("forged"), Some("token")), Refusal::BadSignature);
        let signed = {
            use hmac::{Hmac, Mac};
            // Twilio's scheme: the URL, then each parameter's name and value, sorted by name.
            let mut params: Vec<(String, String)> = crate::query::pairs(form).collect();
            params.sort();
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"token").unwrap();
            mac.update(url.as_bytes());
            params.iter().for_each(|(k, v)| mac.update(format!("{k}{v}").as_bytes()));
            base64::encode(&mac.finalize().into_bytes(), Standard)
        };
        assert!(matches!(twilio_status(form, url, Some(&signed), Some("token"), false, gb, NOW).unwrap(), Status::Report(r) if r.body.suppress));
    }
}
