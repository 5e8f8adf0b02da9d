//! Checks a `POST /v1/events` body: each event is validated on its own, so one bad event
//! refuses only itself; the valid ones go on to their visitors' Durable Objects.
//!
//! Who a customer is comes only with proof: the batch's identity token (`{"batch": […],
//! "identity": "<JWT>"}`, `identity.rs`; the SDK sends the one `identify` was given) names
//! them, the edge-signed `vt_profile` cookie is theirs, or a server source sent it with the
//! write key (`Authorization: Bearer <VITRINE_WRITE_KEY>`). What an event naming a `userId`
//! without proof gets is its `proof` column in the engine's event table
//! (`vitrine_engine::events`):
//! - `identify` and `consent` (`Customer`) are refused with a reason and the answer is 401:
//!   nothing of them is stored, no object is linked or woken;
//! - browsing and cart events (`Anonymous`) are kept as the anonymous visitor's, the `userId`
//!   dropped (counted in the answer's `anonymized`): they lose nothing, and reach a customer
//!   only through a link a proven identify made (the anonymous visitor's alias);
//! - an event marked `Server` is stored only with the write key.
//!
//! Anonymous events (`anonymousId` only) need no proof: they reach only their own visitor.

use serde::Serialize;
use vitrine_engine::events;
use vitrine_engine::journey::event::{self, Event, EventKind, MAX_BATCH_BYTES, MAX_BATCH_EVENTS};
use vitrine_engine::Value;

use crate::identity::IdentityKeys;

/// What the request proves about who sends it.
pub struct Proof<'a> {
    /// Checks the batch's identity token.
    pub identity: &'a IdentityKeys,
    pub now: i64,
    /// The customer of a valid `vt_profile` cookie on the request.
    pub cookie_customer: Option<&'a str>,
    /// The request carried the write key: a server source, trusted with any customer.
    pub server: bool,
    /// Which push subscriptions are taken (`http` endpoints in dev mode only; push.rs).
    pub push_schemes: crate::webpush::Schemes,
}

impl Proof<'_> {
    /// No proof at all: anonymous events only.
    pub fn none(identity: &IdentityKeys) -> Proof<'_> {
        Proof { identity, now: 0, cookie_customer: None, server: false, push_schemes: crate::webpush::Schemes::HttpsOnly }
    }
}

/// `Authorization: Bearer <key>` for `key` (the write key, the admin token), compared in
/// constant time. No key configured: nobody matches.
pub fn bearer_matches(authorization: Option<&str>, key: Option<&str>) -> bool {
    let (Some(header), Some(key)) = (authorization, key) else { return false };
    let Some(given) = header.trim().strip_prefix("Bearer ") else { return false };
    let (a, b) = (given.trim().as_bytes(), key.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An event that passed validation, with where it goes.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub index: usize,
    /// The Durable Object it belongs to: `u:<userId>`, else `a:<anonymousId>`.
    pub key: String,
    /// The event as JSON, forwarded to the Durable Object.
    pub json: String,
    /// An identify from an anonymous device: that device's key, to link and fold in.
    pub link_from: Option<String>,
    pub message_id: String,
    /// An identify: counted per client on the contact limiter (`limits::batch_checks`).
    pub identify: bool,
}

impl Accepted {
    /// The Durable Objects storing it reaches: its visitor's, and the device an identify links.
    pub fn objects(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key.as_str()).chain(self.link_from.as_deref())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Refused {
    pub index: usize,
    #[serde(rename = "messageId")]
    pub message_id: Option<String>,
    pub reason: String,
    /// Refused for want of proof of identity (answered 401).
    #[serde(skip)]
    pub unproven: bool,
    /// Over a rate limit: the same event may be sent again later (answered 429).
    #[serde(skip)]
    pub limited: bool,
}

#[derive(Debug, Default)]
pub struct Checked {
    pub accepted: Vec<Accepted>,
    pub refused: Vec<Refused>,
    /// Accepted as the anonymous visitor's: their `userId` came without proof.
    pub anonymized: usize,
}

/// The Durable Object name for a visitor.
pub fn visitor_key(user_id: &str, anonymous_id: &str) -> String {
    if user_id.is_empty() {
        format!("a:{anonymous_id}")
    } else {
        format!("u:{user_id}")
    }
}

/// The Durable Object name that indexes a phone number (inbound SMS find their visitor by it).
pub fn phone_key(phone: &str) -> String {
    format!("p:{phone}")
}

/// The Durable Object of a contact: `p:<E.164>` for a phone number, `e:<email>` for an email.
pub fn contact_key(channel: vitrine_engine::journey::Channel, address: &str) -> String {
    match channel {
        vitrine_engine::journey::Channel::Email => format!("e:{address}"),
        _ => phone_key(address),
    }
}

/// Refuses the whole body (too large, not JSON, not events); otherwise checks each event.
pub fn check(body: &[u8], proof: &Proof) -> Result<Checked, String> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(format!("body is {} bytes, over the {MAX_BATCH_BYTES}-byte limit", body.len()));
    }
    let parsed: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let mut token = None;
    let events: Vec<Value> = match parsed {
        Value::Array(list) => list,
        Value::Object(mut map) => match map.remove("batch") {
            Some(Value::Array(list)) => {
                token = map.remove("identity");
                list
            }
            Some(_) => return Err("\"batch\" must be an array of events".into()),
            None => vec![Value::Object(map)],
        },
        _ => return Err("body must be an event, an array of events or {\"batch\": [events]}".into()),
    };
    // The token's customer, or why there is none (named in each refusal it causes).
    let token_customer = match token.as_ref().map(|t| t.as_str().ok_or_else(|| "\"identity\" must be a string".to_string())) {
        None => Err("no identity token".to_string()),
        Some(Err(e)) => Err(e),
        Some(Ok(t)) => proof.identity.verify(t, proof.now).map(|c| c.sub).map_err(|e| e.to_string()),
    };
    let mut out = Checked::default();
    for (index, v) in events.into_iter().enumerate() {
        let message_id = v.path("messageId").and_then(Value::as_str).map(str::to_string);
        if index >= MAX_BATCH_EVENTS {
            out.refused.push(Refused {
                index,
                message_id,
                reason: format!("a batch holds at most {MAX_BATCH_EVENTS} events"),
                unproven: false,
                limited: false,
            });
            continue;
        }
        let json = serde_json::to_string(&v).expect("a Value always serializes");
        // A push address that is neither a subscription nor an FCM token is refused here, named.
        let parsed = event::parse(&v, json.len()).map_err(|r| r.to_string()).and_then(|e| crate::push::check_event(&e, proof.push_schemes).map(|()| e));
        match parsed {
            Ok(e) if proven(&e, proof, &token_customer) => out.accepted.push(accepted(index, e, json)),
            Ok(e) if e.kind.spec().is_some_and(|s| s.proof == events::Proof::Anonymous) && !e.anonymous_id.is_empty() => {
                let mut v = v;
                if let Value::Object(m) = &mut v {
                    m.remove("userId");
                }
                let json = serde_json::to_string(&v).expect("a Value always serializes");
                let e = event::parse(&v, json.len()).expect("the same event without its userId");
                out.anonymized += 1;
                out.accepted.push(accepted(index, e, json));
            }
            Ok(e) if e.kind.spec().is_none_or(|s| s.proof == events::Proof::Server) => {
                let reason = format!("{} is accepted from a server source only (the write key)", e.kind.name());
                out.refused.push(Refused { index, message_id, reason, unproven: true, limited: false })
            }
            Ok(e) => {
                let why = match &token_customer {
                    Ok(other) => format!("the identity token is for another customer ({other:?})"),
                    Err(e) => e.clone(),
                };
                let reason = format!("userId {:?} needs proof (an identity token for them, their vt_profile cookie, or the write key): {why}", e.user_id);
                out.refused.push(Refused { index, message_id, reason, unproven: true, limited: false })
            }
            Err(reason) => out.refused.push(Refused { index, message_id, reason, unproven: false, limited: false }),
        }
    }
    Ok(out)
}

/// Whether the request proves what the event's row in the event table asks for.
fn proven(e: &Event, proof: &Proof, token_customer: &Result<String, String>) -> bool {
    match e.kind.spec().map_or(events::Proof::Server, |s| s.proof) {
        events::Proof::Server => proof.server,
        events::Proof::Customer | events::Proof::Anonymous => {
            e.user_id.is_empty() || proof.server || proof.cookie_customer == Some(e.user_id.as_str()) || token_customer.as_deref() == Ok(e.user_id.as_str())
        }
    }
}

fn accepted(index: usize, e: Event, json: String) -> Accepted {
    let key = visitor_key(&e.user_id, &e.anonymous_id);
    let link_from = (matches!(e.kind, EventKind::Identify(_)) && !e.user_id.is_empty() && !e.anonymous_id.is_empty()).then(|| visitor_key("", &e.anonymous_id));
    let identify = matches!(e.kind, EventKind::Identify(_));
    Accepted { index, key, json, link_from, message_id: e.message_id, identify }
}

/// Keeps the batch within `max` Durable Objects (`limits::MAX_BATCH_OBJECTS`): events, in batch
/// order, whose objects would make more are refused with the reason (sent again in another
/// batch, they are stored then).
pub fn bound_fan_out(checked: &mut Checked, max: usize) {
    let mut reached: Vec<&str> = Vec::new();
    let mut over = Vec::new();
    for (i, a) in checked.accepted.iter().enumerate() {
        let new: Vec<&str> = a.objects().filter(|k| !reached.contains(k)).collect();
        if reached.len() + new.len() > max {
            over.push(i);
        } else {
            reached.extend(new);
        }
    }
    let reason = format!("not stored: this batch already reaches {max} visitors' objects, the most one batch may; send this event again in another batch");
    hold_back(checked, |i, _| over.contains(&i), &reason, false);
}

/// Moves the accepted events `which` picks (by position and event) to the refused ones with
/// `reason`; `limited`: over a rate limit (the answer is 429, to send again later).
pub fn hold_back(checked: &mut Checked, which: impl Fn(usize, &Accepted) -> bool, reason: &str, limited: bool) {
    let mut kept = Vec::with_capacity(checked.accepted.len());
    for (i, a) in std::mem::take(&mut checked.accepted).into_iter().enumerate() {
        if which(i, &a) {
            checked.refused.push(Refused { index: a.index, message_id: Some(a.message_id), reason: reason.to_string(), unproven: false, limited });
        } else {
            kept.push(a);
        }
    }
    checked.accepted = kept;
    checked.refused.sort_by_key(|r| r.index);
}

/// Consecutive events for the same visitor, in batch order: one Durable Object call each, and
/// a visitor's events stay in the order they were sent.
pub fn runs(accepted: &[Accepted]) -> Vec<&[Accepted]> {
    accepted.chunk_by(|a, b| a.key == b.key).collect()
}

/// What storing the accepted runs came to.
#[derive(Debug, Default)]
pub struct Stored {
    pub accepted: u64,
    pub duplicates: u64,
    /// Events whose visitor could not store them: the client sends them again.
    pub failed: Vec<Refused>,
    /// Events whose visitor's record is full (507 from its object): sending them again would
    /// not help, so they are refused, not failed.
    pub full: Vec<Refused>,
}

impl Stored {
    /// A run its visitor's object could not store.
    pub fn not_stored(&mut self, run: &[Accepted], error: &str) {
        self.failed.extend(run.iter().map(|a| Refused {
            index: a.index,
            message_id: Some(a.message_id.clone()),
            reason: format!("not stored, send again: {error}"),
            unproven: false,
            limited: false,
        }));
    }

    /// A run its visitor's object refused for good: its record is at its byte limit.
    pub fn record_full(&mut self, run: &[Accepted], reason: &str) {
        self.full.extend(run.iter().map(|a| Refused {
            index: a.index,
            message_id: Some(a.message_id.clone()),
            reason: reason.to_string(),
            unproven: false,
            limited: false,
        }));
    }

    /// The answer: 200 when every event was stored; 400 with a reason per refused event (the
    /// valid ones are stored all the same), 401 when one was refused for want of proof of
    /// identity, 429 when one was over a rate limit (send it again later; stored events are
    /// deduplicated by `messageId`); 503 when a visitor's storage failed (listed).
    pub fn reply(&self, refused: &[Refused], anonymized: usize) -> (u16, serde_json::Value) {
        let refused: Vec<&Refused> = refused.iter().chain(&self.full).collect();
        let status = if !self.failed.is_empty() {
            503
        } else if refused.iter().any(|r| r.limited) {
            429
        } else if refused.iter().any(|r| r.unproven) {
            401
        } else if !refused.is_empty() {
            400
        } else {
            200
        };
        (
            status,
            serde_json::json!({ "accepted": self.accepted, "duplicates": self.duplicates, "anonymized": anonymized, "refused": refused, "failed": self.failed }),
        )
    }
}

/// The status for a body refused whole: 413 over the size limit, else 400.
pub fn refusal_status(body_len: usize) -> u16 {
    if body_len > MAX_BATCH_BYTES {
        413
    } else {
        400
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::tests::{keys, token, KID, SECRET};

    #[test]
    fn texts_and_whatsapp_to_a_number_share_its_object() {
        use vitrine_engine::journey::Channel;
        // One object, one daily cap (`ContactRecord::reserve`) and one STOP list per number.
        assert_eq!(contact_key(Channel::Whatsapp, "+447400123456"), contact_key(Channel::Sms, "+447400123456"));
        assert_eq!(contact_key(Channel::Whatsapp, "+447400123456"), "p:+447400123456");
    }

    #[test]
    fn a_full_record_refuses_its_events_for_good_not_send_again() {
        let accepted = [Accepted { index: 3, key: "a:v".into(), message_id: "m3".into(), json: "{}".into(), link_from: None, identify: false }];
        let mut stored = Stored::default();
        stored.record_full(&accepted, "not stored: this visitor's record would take 2000000 bytes");
        let (status, body) = stored.reply(&[], 0);
        assert_eq!((status, body["refused"][0]["index"].as_u64(), body["failed"].as_array().map(Vec::len)), (400, Some(3), Some(0)));
    }

    fn check(body: &[u8]) -> Result<Checked, String> {
        super::check(body, &Proof { identity: &keys(), now: 100, cookie_customer: None, server: true, push_schemes: crate::webpush::Schemes::HttpsOnly })
    }

    fn anonymous(body: &str) -> Checked {
        super::check(body.as_bytes(), &Proof::none(&keys())).unwrap()
    }

    const CLAIM_JANE: &str = r#"[
      {"type":"identify","messageId":"m1","anonymousId":"attacker","userId":"17850","traits":{"email":"attacker@evil.test"}},
      {"type":"consent","messageId":"m2","anonymousId":"attacker","userId":"17850","channels":{"all":true}},
      {"type":"track","event":"Product Added","messageId":"m3","anonymousId":"attacker","properties":{"sku":"A"}}
    ]"#;

    #[test]
    fn claiming_a_customer_without_proof_is_refused_and_anonymous_events_are_kept() {
        let c = anonymous(CLAIM_JANE);
        assert_eq!(c.accepted.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["a:attacker"]);
        assert!(c.accepted.iter().all(|a| a.link_from.is_none()), "no object is linked");
        assert_eq!(c.refused.len(), 2);
        assert!(c.refused[0].reason.contains("userId \"17850\" needs proof") && c.refused[0].reason.contains("no identity token"), "{}", c.refused[0].reason);
        assert_eq!(Stored::default().reply(&c.refused, c.anonymized).0, 401);
    }

    #[test]
    fn browsing_that_names_a_customer_without_proof_is_kept_as_the_anonymous_visitors() {
        let c = anonymous(
            r#"[{"type":"track","event":"Product Added","messageId":"m1","anonymousId":"dev","userId":"17850","properties":{"sku":"A"}},
                            {"type":"page","messageId":"m2","anonymousId":"dev","userId":"17850"},
                            {"type":"track","event":"Product Viewed","messageId":"m3","userId":"17850","properties":{"sku":"A"}}]"#,
        );
        assert_eq!(c.accepted.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["a:dev", "a:dev"]);
        assert!(c.accepted.iter().all(|a| !a.json.contains("17850")), "the userId is dropped");
        assert_eq!(c.anonymized, 2);
        assert_eq!(c.refused.len(), 1, "no anonymousId to keep it under: refused");
        assert!(c.refused[0].reason.contains("needs proof"));
    }

    #[test]
    fn a_token_proves_only_its_own_customer() {
        let jane = token(KID, SECRET, serde_json::json!({ "sub": "17850", "exp": 1000 }));
        let body = format!(r#"{{"identity":"{jane}","batch":{CLAIM_JANE}}}"#);
        let c = anonymous(&body);
        assert!(c.refused.is_empty(), "{:?}", c.refused);
        assert_eq!(c.accepted[0].link_from.as_deref(), Some("a:attacker"));
        let other = token(KID, SECRET, serde_json::json!({ "sub": "12346", "exp": 1000 }));
        let c = anonymous(&format!(r#"{{"identity":"{other}","batch":{CLAIM_JANE}}}"#));
        assert!(c.refused[0].reason.contains("for another customer (\"12346\")"));
        let late = super::check(
            body.as_bytes(),
            &Proof { identity: &keys(), now: 5000, cookie_customer: None, server: false, push_schemes: crate::webpush::Schemes::HttpsOnly },
        )
        .unwrap();
        assert!(late.refused[0].reason.contains("expired"));
    }

    #[test]
    fn the_profile_cookie_and_the_write_key_prove_too() {
        let cookie = super::check(
            CLAIM_JANE.as_bytes(),
            &Proof { identity: &keys(), now: 0, cookie_customer: Some("17850"), server: false, push_schemes: crate::webpush::Schemes::HttpsOnly },
        )
        .unwrap();
        assert!(cookie.refused.is_empty());
        let wrong = super::check(
            CLAIM_JANE.as_bytes(),
            &Proof { identity: &keys(), now: 0, cookie_customer: Some("12346"), server: false, push_schemes: crate::webpush::Schemes::HttpsOnly },
        )
        .unwrap();
        assert_eq!(wrong.refused.len(), 2);
        assert!(bearer_matches(Some("Bearer 0123456789abcdef"), Some("0123456789abcdef")));
        assert!(!bearer_matches(Some("Bearer 0123456789abcdeX"), Some("0123456789abcdef")));
        assert!(!bearer_matches(Some("0123456789abcdef"), Some("0123456789abcdef")));
        assert!(!bearer_matches(Some("Bearer x"), None));
    }

    #[test]
    fn keeps_the_valid_events_and_says_why_for_the_others() {
        let big = "x".repeat(event::MAX_EVENT_BYTES);
        let body = format!(
            r#"{{"batch":[
              {{"type":"track","event":"Product Added","messageId":"m1","anonymousId":"a1","properties":{{"sku":"A"}}}},
              {{"type":"track","event":"Product Exploded","messageId":"m2","anonymousId":"a1"}},
              {{"type":"track","event":"Product Viewed","messageId":"m3","anonymousId":"a1","properties":{{"sku":"{big}"}}}},
              "not an event",
              {{"type":"identify","messageId":"m5","anonymousId":"a1","userId":"u1","traits":{{"email":"j@x.test"}}}},
              {{"type":"track","event":"Order Completed","messageId":"m6","userId":"u1"}}
            ]}}"#
        );
        let c = check(body.as_bytes()).unwrap();
        assert_eq!(c.accepted.iter().map(|a| a.index).collect::<Vec<_>>(), [0, 4, 5]);
        assert_eq!(c.refused.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(c.refused[0].reason.starts_with("unknown event \"Product Exploded\""));
        assert!(c.refused[1].reason.contains("over the 32768-byte limit"), "{}", c.refused[1].reason);
        assert_eq!(c.refused[2].reason, "an event must be a JSON object");
        assert_eq!(c.refused[0].message_id.as_deref(), Some("m2"));
        assert_eq!(c.accepted[0].key, "a:a1");
        assert_eq!((c.accepted[1].key.as_str(), c.accepted[1].link_from.as_deref()), ("u:u1", Some("a:a1")));
        assert_eq!(runs(&c.accepted).iter().map(|r| r.len()).collect::<Vec<_>>(), [1, 2]);
        let mut stored = Stored { accepted: 1, ..Stored::default() };
        assert_eq!(stored.reply(&c.refused, 0).0, 400);
        assert_eq!(stored.reply(&[], 0).0, 200);
        stored.not_stored(runs(&c.accepted)[1], "storage down");
        let (status, body) = stored.reply(&c.refused, 0);
        assert_eq!(status, 503);
        assert_eq!(body["failed"][1]["messageId"], "m6");
        assert!(body["failed"][0]["reason"].as_str().unwrap().contains("send again: storage down"));
    }

    #[test]
    fn accepts_every_event_of_the_table_anonymously() {
        let batch: Vec<String> = events::EVENTS
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let head = if e.track { format!(r#""type":"track","event":"{}""#, e.name) } else { format!(r#""type":"{}""#, e.name) };
                format!(r#"{{{head},"messageId":"m{i}","anonymousId":"a1","properties":{{"sku":"A"}},"granted":true}}"#)
            })
            .collect();
        let c = anonymous(&format!("[{}]", batch.join(",")));
        assert!(c.refused.is_empty(), "{:?}", c.refused);
        assert_eq!(c.accepted.len(), events::EVENTS.len());
        for name in ["Product Clicked", "Product List Viewed"] {
            let one = anonymous(&format!(r#"{{"type":"track","event":"{name}","messageId":"m","anonymousId":"a1","properties":{{"category":"Kitchen"}}}}"#));
            assert_eq!(one.accepted.len(), 1, "{name}: the SDK learns from it, the edge takes it");
        }
    }

    #[test]
    fn segment_events_nothing_reads_are_stored_and_counted_not_refused() {
        // As a store's Segment source sends them: the rest of the e-commerce spec v2, with
        // their own properties (no product needed), one naming a customer without proof.
        let kept = events::KEPT.iter().enumerate().map(|(i, e)| {
            format!(r#"{{"type":"track","event":"{}","messageId":"k{i}","anonymousId":"a1","properties":{{"order_id":"o-1","coupon_id":"SPRING","query":"candles","step":2}}}}"#, e.name)
        });
        let c = anonymous(&format!("[{}]", kept.collect::<Vec<_>>().join(",")));
        assert!(c.refused.is_empty(), "{:?}", c.refused);
        assert_eq!(c.accepted.len(), events::KEPT.len(), "each counted in the answer");
        assert!(c.accepted.iter().all(|a| a.key == "a:a1"), "stored in the visitor's object");
        let unproven =
            anonymous(r#"{"type":"track","event":"Order Refunded","messageId":"r","anonymousId":"a1","userId":"cust-9","properties":{"order_id":"o-1"}}"#);
        assert_eq!((unproven.accepted.len(), unproven.anonymized), (1, 1), "kept as the anonymous visitor's, the userId dropped");
        assert!(!unproven.accepted[0].json.contains("cust-9"));
        let unknown = anonymous(r#"{"type":"track","event":"Order Exploded","messageId":"x","anonymousId":"a1"}"#);
        assert!(unknown.refused[0].reason.contains("Product Reviewed"), "refusals list every known name: {:?}", unknown.refused);
    }

    #[test]
    fn one_batch_reaches_at_most_max_objects_and_says_so_per_event() {
        // 100 events for 100 visitors: 100 Durable Objects woken by one request, unbounded.
        let many: Vec<String> = (0..MAX_BATCH_EVENTS).map(|i| format!(r#"{{"type":"page","messageId":"m{i}","anonymousId":"v{i}"}}"#)).collect();
        let mut c = check(format!("[{}]", many.join(",")).as_bytes()).unwrap();
        bound_fan_out(&mut c, 10);
        let reached: std::collections::BTreeSet<&str> = c.accepted.iter().flat_map(|a| a.objects()).collect();
        assert_eq!(reached.len(), 10);
        assert_eq!(c.accepted.iter().map(|a| a.index).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>(), "the first ten, in batch order");
        assert_eq!(c.refused.len(), 90);
        assert_eq!((c.refused[0].index, c.refused[0].message_id.as_deref()), (10, Some("m10")));
        assert!(
            c.refused[0].reason.contains("already reaches 10 visitors' objects") && c.refused[0].reason.contains("send this event again in another batch"),
            "{}",
            c.refused[0].reason
        );
        assert_eq!(Stored::default().reply(&c.refused, 0).0, 400);
    }

    #[test]
    fn fan_out_counts_objects_not_events_and_an_identify_counts_the_device_it_links() {
        let body = r#"[
          {"type":"page","messageId":"m0","anonymousId":"v0"},
          {"type":"page","messageId":"m1","anonymousId":"v1"},
          {"type":"identify","messageId":"m2","anonymousId":"v2","userId":"u2"},
          {"type":"page","messageId":"m3","anonymousId":"v0"},
          {"type":"page","messageId":"m4","anonymousId":"v3"}
        ]"#;
        let mut c = check(body.as_bytes()).unwrap();
        assert!(c.accepted[2].identify && !c.accepted[0].identify);
        bound_fan_out(&mut c, 3);
        // The identify needs u:u2 and a:v2 (two more than three); v0's later event and v3 fit.
        assert_eq!(c.accepted.iter().map(|a| a.index).collect::<Vec<_>>(), [0, 1, 3, 4]);
        assert_eq!(c.refused.iter().map(|r| r.index).collect::<Vec<_>>(), [2]);
        let mut same: Checked = check(
            format!(
                "[{}]",
                (0..MAX_BATCH_EVENTS).map(|i| format!(r#"{{"type":"page","messageId":"m{i}","anonymousId":"v{}"}}"#, i % 3)).collect::<Vec<_>>().join(",")
            )
            .as_bytes(),
        )
        .unwrap();
        bound_fan_out(&mut same, 10);
        assert_eq!((same.accepted.len(), same.refused.len()), (MAX_BATCH_EVENTS, 0), "a full batch for three visitors is fine");
    }

    #[test]
    fn events_over_a_rate_limit_are_answered_429_to_send_again() {
        let mut c = anonymous(r#"[{"type":"page","messageId":"m0","anonymousId":"v0"},{"type":"page","messageId":"m1","anonymousId":"v1"}]"#);
        hold_back(&mut c, |_, a| a.key == "a:v1", "rate limited: too many requests for visitor a:v1", true);
        assert_eq!(c.accepted.len(), 1);
        let (status, body) = Stored { accepted: 1, ..Stored::default() }.reply(&c.refused, 0);
        assert_eq!(status, 429);
        assert_eq!(body["refused"][0]["messageId"], "m1");
        assert!(body["refused"][0]["reason"].as_str().unwrap().starts_with("rate limited"));
    }

    #[test]
    fn a_push_address_that_is_no_subscription_nor_token_is_refused_by_field() {
        let body = r#"[{"type":"consent","messageId":"c1","anonymousId":"dev","channels":{"push":true},"push_token":"{\"endpoint\":\"http://127.0.0.1:9/p\",\"keys\":{}}"},
                       {"type":"identify","messageId":"i1","anonymousId":"dev","traits":{"push_token":"fcm-token_1"}}]"#;
        let c = anonymous(body);
        assert_eq!(c.accepted.iter().map(|a| a.message_id.as_str()).collect::<Vec<_>>(), ["i1"]);
        assert_eq!(c.refused[0].reason, "push_token: push subscription: endpoint must be https, not http");
        // In dev mode (tests' capture server) an http endpoint passes that check, and the keys are next.
        let keys = keys();
        let dev = Proof { push_schemes: crate::webpush::Schemes::HttpAllowedForTests, ..Proof::none(&keys) };
        let c = super::check(body.as_bytes(), &dev).unwrap();
        assert_eq!(c.refused[0].reason, "push_token: push subscription: keys.p256dh is missing or empty");
    }

    #[test]
    fn refuses_whole_bodies_that_are_not_batches() {
        assert!(check(b"{nope").unwrap_err().starts_with("body is not JSON"));
        assert!(check(b"42").is_err());
        assert!(check(&vec![b' '; MAX_BATCH_BYTES + 1]).unwrap_err().contains("over the"));
        assert_eq!((refusal_status(MAX_BATCH_BYTES + 1), refusal_status(3)), (413, 400));
        let many: Vec<String> = (0..MAX_BATCH_EVENTS + 2).map(|i| format!(r#"{{"type":"page","messageId":"m{i}","anonymousId":"a"}}"#)).collect();
        let c = check(format!("[{}]", many.join(",")).as_bytes()).unwrap();
        assert_eq!((c.accepted.len(), c.refused.len()), (MAX_BATCH_EVENTS, 2));
        let single = check(br#"{"type":"page","messageId":"m","anonymousId":"a"}"#).unwrap();
        assert_eq!(single.accepted.len(), 1);
    }
}
