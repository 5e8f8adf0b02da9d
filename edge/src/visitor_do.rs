//! The per-visitor Durable Object's rules (sans-IO): what an object keeps, how events, links,
//! alarms and inbound SMS change it, and which alarm it wants. The runtime
//! (edge-worker/src/object.rs) reads and writes storage, calls other objects and providers, and
//! sets the alarm — nothing more.
//!
//! Visitors are keyed `u:<userId>` when known, else `a:<anonymousId>` (`events::visitor_key`);
//! an identify that names both folds the anonymous visitor into the customer (their cart,
//! views, consent and running journeys) and leaves an alias behind, so the phone's cart is the
//! laptop's cart and an order on either ends the one cart journey. Phone numbers have an index
//! object (`p:<number>`) that aliases to their visitor, so an inbound STOP finds it.
//!
//! Internal API (the worker's stub calls, never exposed as such):
//!
//! ```text
//! POST /events   {"events":[…]}            -> {"accepted":n,"duplicates":d} (held when no
//!                                           bundle is loaded; 507 {"error","limit_bytes",
//!                                           "bytes"} when the record would be over its limit)
//! POST /link     {"to":"u:…"}              fold this visitor into `to`, then forward there
//! POST /absorb   {"from":"a:…","state":{…}} take another visitor's state in
//! POST /sms      {"messageId","body"}       an inbound SMS (STOP, START)
//! GET  /messages                            delivery log, outbox, state (dev mode)
//! POST /contact  {"visitor":"a:…"}         (a phone number's object) this visitor uses the
//!                                           number -> {"suppressed":bool}
//! POST /feedback {"id","reason","at","suppress"} (a contact's object) a provider's report:
//!                                           a bounce or complaint suppresses the contact for
//!                                           every visitor of it -> {"visitors":n,"suppressed":bool}
//! POST /measure {"records":[…]}            measurement records the page path could not queue:
//!                                           kept in the outbox until the queue takes them
//! POST /catalog {"published","changes":[…]} a publish changed products this visitor carted or
//!                                           watches: its catalog journeys start (watch.rs)
//! GET  /export                              the same, for a privacy export (admin)
//! POST /erase                               erase everything; -> the keys that hold more of it
//! ```
//!
//! Phone numbers: a visitor's number is kept in E.164 (`vitrine_contacts`, the worker's
//! `DEFAULT_COUNTRY` for numbers written without a country code; a number the library calls
//! invalid is not kept). Each number has its own object (`p:<E.164>`, a [`ContactRecord`]) that
//! knows every visitor using it and whether it said STOP: an inbound STOP silences every one of
//! them, and a visitor who enters a stopped number is silenced at once (the suppression list).
//!
//! Retention: a visitor with no activity for `RETENTION_DAYS` is erased by its own alarm.
//!
//! Durability: an event is acknowledged only after the state it produced is written; messages
//! enter the outbox (written with the state) before any provider request, so a restart resumes
//! delivery with the same idempotency keys instead of deciding again. Every change is made on a
//! copy ([`VisitorObject::stage`]), written, and only then taken in ([`VisitorObject::commit`]):
//! a write that fails leaves the object as storage has it, so the sender's retry is stored, not
//! called a duplicate. What is written is bounded in bytes ([`MAX_STORED_BYTES`]): a change that
//! would go over is refused whole and changes nothing.
//!
//! Faults: journeys run only against a bundle that truly loaded. Without one (a KV error in a
//! cold isolate, `bundle:current` missing or refused) events are accepted and held as received
//! ([`VisitorObject::hold`]), every run is left as it is, and the alarm retries with backoff
//! ([`VisitorObject::wait`], also without `LINK_SECRET`); once a bundle loads, the held events run
//! first, at the time they were received. A run ends as "journey removed" only when a loaded
//! bundle lacks its journey — a published bundle with no `[[journeys]]` at all is such a bundle
//! (it loaded: the store removed its journeys), an unreadable one never is.

pub mod outbox;

use serde::{Deserialize, Serialize};
use vitrine_engine::bundle::BundleBody;
use vitrine_engine::journey::{self, Channel, Effect, Event, EventKind, Message, Record, Runner, VisitorState, DAY};
use vitrine_engine::measure::Record as MeasureRecord;
use vitrine_engine::zones::Tzdb;
use vitrine_engine::Value;

use crate::live::{LiveOrder, Rescored};
use crate::messaging::{Outcome, RetryPolicy};
use crate::profile_line::ProfileLine;
use outbox::{Attempt, Outbox};
use vitrine_contacts::Country;

/// The backend's order ids a customer's object remembers as counted in their profile.
const RESCORED_ORDERS: usize = 20;

/// The Durable Object binding.
pub const BINDING: &str = "VISITORS";
/// Tells an object its own key (its name) on every internal call.
pub const KEY_HEADER: &str = "X-Vitrine-Visitor";
/// Everything an object keeps, under one storage key: one read to wake up, one atomic write.
pub const STORAGE_KEY: &str = "record";

pub const EVENTS: &str = "/events";
pub const LINK: &str = "/link";
pub const ABSORB: &str = "/absorb";
pub const SMS: &str = "/sms";
pub const MESSAGES: &str = "/messages";
pub const CONTACT: &str = "/contact";
/// A contact confirmed (its object, then each visitor of it): `{"channel","address"}`.
pub const CONFIRMED: &str = "/confirmed";
/// A visitor is about to message a contact: may it, under the daily cap counted across every
/// visitor of the contact? `ReserveBody` in, `{"ok": bool}` out.
pub const RESERVE: &str = "/reserve";
/// A provider reported on a contact (feedback.rs: SendGrid's events, Twilio's status
/// callbacks): [`FeedbackBody`] in; a suppressing report silences every visitor of it.
pub const FEEDBACK: &str = "/feedback";
const CONFIRM_JOURNEY: &str = "confirm";
pub const EXPORT: &str = "/export";
pub const ERASE: &str = "/erase";
/// Measurement records for this visitor's outbox ([`MeasureBody`]).
pub const MEASURE: &str = "/measure";

#[derive(Serialize, Deserialize)]
pub struct EventsBody {
    pub events: Vec<Value>,
    /// The batch carried the write key (the store's backend): its orders re-score the
    /// customer's profile (`Incoming::Server`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub server: bool,
    /// The measurement records of these events (`measure::event_record`): staged in the same
    /// write as the events, sent to the queue once written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<MeasureRecord>,
}

/// Records for the measurement outbox (`POST /measure`).
#[derive(Serialize, Deserialize)]
pub struct MeasureBody {
    pub records: Vec<MeasureRecord>,
}

#[derive(Serialize, Deserialize)]
pub struct LinkBody {
    pub to: String,
}

#[derive(Serialize, Deserialize)]
pub struct AbsorbBody {
    pub from: String,
    pub state: VisitorState,
}

#[derive(Serialize, Deserialize)]
pub struct ConfirmedBody {
    pub channel: Channel,
    pub address: String,
}

#[derive(Serialize, Deserialize)]
pub struct ContactBody {
    pub visitor: String,
    /// The store vouches for this visitor's number (a customer's identify with proof).
    #[serde(default)]
    pub verified: bool,
    /// The visitor wants texts and the number is not confirmed: ask it (double opt-in).
    #[serde(default)]
    pub confirm: bool,
}

#[derive(Serialize, Deserialize)]
pub struct ReserveBody {
    /// The message's idempotency key: a retried delivery reserves once.
    pub key: String,
    /// The bundle's `[messaging] max_per_day` (0: no cap).
    pub max_per_day: u32,
}

/// A provider's report on a contact (`feedback::Report`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedbackBody {
    /// The provider's event id (SendGrid `sg_event_id`, Twilio `MessageSid`): a retried post
    /// tells each visitor once.
    pub id: String,
    /// What the provider said, e.g. `sendgrid spamreport`, `twilio 21610: …`.
    pub reason: String,
    /// When (unix seconds).
    pub at: i64,
    /// A hard bounce, complaint, unsubscribe or dead number: nobody messages the contact again.
    /// Otherwise the report is only kept.
    pub suppress: bool,
    /// The channel it is about, when not the contact's own (a number's object hears about
    /// texts; `whatsapp` reports silence only WhatsApp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
}

/// What a number's object answers a visitor that uses it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactAnswer {
    pub suppressed: bool,
    pub verified: bool,
    /// A confirmation text goes to the number now (at most one a day, whoever asks).
    #[serde(skip)]
    pub send_confirmation: bool,
}

/// A phone number's object: who uses the number, and whether it asked for no more texts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactRecord {
    /// Visitor keys that gave this number, oldest first.
    pub visitors: Vec<String>,
    /// The number said STOP (and not START since): nobody texts it.
    pub suppressed: bool,
    /// The number answered YES to a confirmation, or the store vouched for it.
    pub verified: bool,
    /// When the last confirmation text went (unix seconds).
    pub confirmation_at: Option<i64>,
    /// When `suppressed` last changed (unix seconds).
    pub changed_at: i64,
    /// Why it is suppressed: a STOP, or a provider's report (a bounce, a spam complaint, a dead
    /// number); kept for the privacy export.
    pub reason: String,
    /// Providers' reports that suppressed nothing (soft bounces, unreachable handsets), oldest
    /// first, the last [`ContactRecord::MAX_REPORTS`]: (when, what).
    pub reports: Vec<(i64, String)>,
    /// Journey messages to the contact in the last 24 h, from any visitor: (when, message key).
    pub sent: Vec<(i64, String)>,
}

impl ContactRecord {
    /// More visitors than this on one number is someone typing it everywhere: the oldest stay.
    pub const MAX_VISITORS: usize = 200;
    pub const MAX_REPORTS: usize = 20;

    pub fn add(&mut self, visitor: &str) {
        if !self.visitors.iter().any(|v| v == visitor) && self.visitors.len() < Self::MAX_VISITORS {
            self.visitors.push(visitor.into());
        }
    }

    /// A visitor uses this number. One confirmation text a day at most, however many visitors
    /// (or one visitor, again and again) give the number: the store's SMS account is no relay.
    pub fn register(&mut self, body: &ContactBody, now: i64) -> ContactAnswer {
        self.add(&body.visitor);
        self.verified |= body.verified;
        let due = self.confirmation_at.is_none_or(|at| now >= at + DAY);
        let send_confirmation = body.confirm && !self.verified && !self.suppressed && due;
        if send_confirmation {
            self.confirmation_at = Some(now);
        }
        ContactAnswer { suppressed: self.suppressed, verified: self.verified, send_confirmation }
    }

    /// The double opt-in message (one a day per contact: the idempotency key says so): a text
    /// asking for YES, or an email with a signed link to `/v1/confirm` (`confirm_link`).
    pub fn confirmation(channel: Channel, address: &str, store: &str, confirm_link: &str, now: i64) -> Message {
        let store = if store.is_empty() { "our shop" } else { store };
        let (subject, text) = match channel {
            Channel::Email => (
                format!("Confirm your email for {store}"),
                format!(
                    "Please confirm you want emails from {store} (offers, your cart): {confirm_link}\n\nNot you? Ignore this email: nothing more will come."
                ),
            ),
            _ => (String::new(), format!("{store}: reply YES to get our texts (offers, your cart). Reply STOP to opt out.")),
        };
        Message {
            visitor: crate::events::contact_key(channel, address),
            journey: "confirm".into(),
            step: 0,
            channel,
            to: address.into(),
            subject,
            text,
            link: confirm_link.into(),
            idempotency_key: format!("confirm-{}-{address}-{}", channel.as_str(), now.div_euclid(DAY)),
            created_at: now,
            ..Message::default()
        }
    }

    /// The signed link of a confirmation email: `LinkClaims` naming the contact's object, valid
    /// for a week.
    pub fn confirm_link(base_url: &str, email: &str, link_secret: &[u8], now: i64) -> String {
        let claims = journey::LinkClaims {
            visitor: crate::events::contact_key(Channel::Email, email),
            journey: CONFIRM_JOURNEY.into(),
            exp: now + 7 * DAY,
            ..Default::default()
        };
        format!("{}/v1/confirm?vt={}", base_url.trim_end_matches('/'), claims.sign(link_secret))
    }

    /// The contact object a confirmation link names, if the link is ours and still valid.
    pub fn confirmed_by(link_secret: &[u8], vt: &str, now: i64) -> Option<String> {
        let payload = vitrine_engine::token::verify(link_secret, vt.trim()).ok()?;
        let c: journey::LinkClaims = serde_json::from_slice(&payload).ok()?;
        (c.journey == CONFIRM_JOURNEY && c.visitor.starts_with("e:") && now <= c.exp).then_some(c.visitor)
    }

    /// A journey message to this contact is about to go (`key`, its idempotency key). The
    /// daily cap counts per contact across all its visitors and devices, as each visitor's own
    /// state counts per visitor: true if it may go (a key seen before is the same message).
    pub fn reserve(&mut self, key: &str, max_per_day: u32, now: i64) -> bool {
        self.sent.retain(|(at, _)| *at > now - DAY);
        if self.sent.iter().any(|(_, k)| k == key) {
            return true;
        }
        if max_per_day > 0 && self.sent.len() >= max_per_day as usize {
            return false;
        }
        self.sent.push((now, key.into()));
        true
    }

    /// An inbound message from this number: STOP suppresses it, START lifts that. Returns what
    /// every visitor of the number is to be told (`Some(granted)`), if anything. A WhatsApp
    /// reply speaks for WhatsApp only: the number's texts stay as they were.
    pub fn reply(&mut self, channel: Channel, body: &str, now: i64) -> Option<bool> {
        let granted = journey::sms_keyword(body)?;
        self.verified |= granted;
        if channel == Channel::Whatsapp {
            return Some(granted);
        }
        self.suppressed = !granted;
        self.changed_at = now;
        self.reason = if granted { String::new() } else { "STOP (a text from the number)".into() };
        Some(granted)
    }

    /// A provider's report on this contact (`channel`: its kind). A suppressing one silences it
    /// (the first reason stays) and returns what every visitor of it is told: the channel's
    /// consent withdrawn, under a message id the report's id fixes, so a retried report changes
    /// nothing twice. Any other report is only kept.
    /// A report naming another channel (WhatsApp, on a number's object) withdraws that channel
    /// only and leaves the contact's own state alone: a number off WhatsApp may still take texts.
    pub fn feedback(&mut self, channel: Channel, report: &FeedbackBody, now: i64) -> Option<EventsBody> {
        let channel = report.channel.unwrap_or(channel);
        if !report.suppress {
            self.reports.push((report.at, report.reason.clone()));
            let over = self.reports.len().saturating_sub(Self::MAX_REPORTS);
            self.reports.drain(..over);
            return None;
        }
        if channel == Channel::Whatsapp {
            self.reports.push((report.at, report.reason.clone()));
            let over = self.reports.len().saturating_sub(Self::MAX_REPORTS);
            self.reports.drain(..over);
        } else if !self.suppressed {
            self.suppressed = true;
            self.changed_at = now;
            self.reason.clone_from(&report.reason);
        }
        let id: String = report.id.chars().take(120).collect();
        let withdrawal = serde_json::json!({
            "type": "consent",
            "messageId": format!("suppressed-{}-{id}", channel.as_str()),
            "anonymousId": "provider-feedback",
            "channels": { channel.as_str(): false }
        });
        Some(EventsBody { events: vec![serde_json::from_value(withdrawal).expect("plain JSON")], records: Vec::new(), server: false })
    }
}

#[derive(Serialize, Deserialize)]
pub struct SmsBody {
    #[serde(rename = "messageId")]
    pub message_id: String,
    pub body: String,
    /// Where the reply came from: a text, or WhatsApp (`From=whatsapp:+…`).
    #[serde(default = "sms")]
    pub channel: Channel,
}

fn sms() -> Channel {
    Channel::Sms
}

/// When a visitor last asked its contacts for a confirmation (unix seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfirmAsked {
    pub sms: Option<i64>,
    pub email: Option<i64>,
}

/// The most a stored record may take, in bytes of JSON. Durable Object storage (SQLite-backed
/// classes, the KV API `storage().put` that workers-rs calls) takes at most 2 MB per key and
/// value combined (developers.cloudflare.com/durable-objects/platform/limits/); the record goes
/// in as a JS string, which V8 serializes with two bytes per UTF-16 unit as soon as one
/// character is outside Latin-1, so 960 KiB of UTF-8 stays under 2 MB whatever it holds.
pub const MAX_STORED_BYTES: usize = 960 * 1024;

/// Events held at most while no bundle is loaded (the bytes are bounded too): more are refused
/// (503), and the sender keeps them.
pub const MAX_HELD: usize = 1000;

/// The first wait, and the longest, of an object whose journeys cannot run (no bundle loaded,
/// no `LINK_SECRET`): 1 s, doubling, at most 5 minutes.
pub const WAIT_FIRST_SECS: i64 = 1;
pub const WAIT_MAX_SECS: i64 = 300;

/// Something for the journeys that came in while they could not run, as received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Incoming {
    /// An event of `/events`, as the worker checked it.
    Event(Value),
    /// An event of `/events` the store's backend sent (the write key): its orders are the
    /// customer's word and re-score their profile (`crate::live`).
    Server(Value),
    /// An inbound SMS or WhatsApp message (`/sms`).
    Sms {
        message_id: String,
        body: String,
        #[serde(default = "sms")]
        channel: Channel,
    },
}

impl Incoming {
    pub fn message_id(&self) -> &str {
        match self {
            Incoming::Event(v) | Incoming::Server(v) => v.path("messageId").and_then(Value::as_str).unwrap_or(""),
            Incoming::Sms { message_id, .. } => message_id,
        }
    }

    /// The event the journeys understand.
    pub fn parse(&self) -> Result<Event, String> {
        match self {
            Incoming::Event(v) | Incoming::Server(v) => journey::parse(v, 0).map_err(|r| format!("refused: {r}")),
            Incoming::Sms { message_id, body, channel } => {
                Ok(VisitorObject::sms_event(SmsBody { message_id: message_id.clone(), body: body.clone(), channel: *channel }))
            }
        }
    }
}

/// An event accepted while no bundle was loaded, and when (unix seconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub at: i64,
    pub incoming: Incoming,
}

/// What the sender hears about a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub accepted: usize,
    pub duplicates: usize,
}

/// A change would make the record larger than [`MAX_STORED_BYTES`]: nothing of it is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Oversize {
    pub bytes: usize,
}

impl Oversize {
    /// The sender's answer (507, Insufficient Storage): it names the limit.
    pub fn reason(&self) -> String {
        format!(
            "not stored: this visitor's record would take {} bytes, over the {MAX_STORED_BYTES}-byte limit (Durable Object storage takes at most 2 MB a value); what was stored before is kept",
            self.bytes
        )
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.reason(), "limit_bytes": MAX_STORED_BYTES, "bytes": self.bytes })
    }
}

/// A change made on a copy, serialized, not yet taken in: write [`Staged::json`], then
/// [`VisitorObject::commit`] it; after a failed write, drop it.
pub struct Staged<T> {
    next: VisitorObject,
    json: String,
    out: T,
}

impl<T> Staged<T> {
    /// What to write.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// The alarm's backoff while journeys cannot run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Backoff {
    /// Waits in a row.
    waits: u32,
    /// Nothing runs before this (unix seconds).
    until: Option<i64>,
}

/// What is stored. A JSON string (64-bit hashes stay exact; no JS number rounding).
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct Stored {
    visitor: VisitorState,
    outbox: Outbox,
    alias: String,
    contact: Option<ContactRecord>,
    confirm_asked: ConfirmAsked,
    held: Vec<Held>,
    measure: Vec<MeasureRecord>,
    measure_retry_at: Option<i64>,
    rescored_orders: Vec<String>,
}

#[derive(Serialize)]
struct StoredRef<'a> {
    visitor: &'a VisitorState,
    outbox: &'a Outbox,
    alias: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: &'a Option<ContactRecord>,
    confirm_asked: &'a ConfirmAsked,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    held: &'a [Held],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    measure: &'a [MeasureRecord],
    #[serde(skip_serializing_if = "Option::is_none")]
    measure_retry_at: Option<i64>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    rescored_orders: &'a [String],
}

/// The journeys of `journeys`, with local times from the IANA database (quiet hours and a
/// step's `at` follow the visitor's daylight-saving changes).
fn runner<'a>(journeys: &'a BundleBody, link_secret: &'a [u8]) -> Runner<'a> {
    Runner::new(journeys, link_secret).with_time_zones(&Tzdb)
}

/// One object's memory between requests.
#[derive(Clone, Default)]
pub struct VisitorObject {
    pub visitor: VisitorState,
    pub outbox: Outbox,
    /// Set once this visitor was folded into another (identify): requests go there.
    pub alias: String,
    /// A phone number's object (`p:<E.164>`) keeps its record here.
    pub contact: Option<ContactRecord>,
    /// When this visitor last asked its number and its email for a confirmation.
    pub confirm_asked: ConfirmAsked,
    /// The alarm as last set here (`None`: unknown since start-up).
    alarm: Option<Option<i64>>,
    /// The private profile was looked up (once per wake-up of a known customer's object).
    profile_read: bool,
    /// Events accepted while no bundle was loaded, oldest first: they run once one loads.
    pub held: Vec<Held>,
    /// The alarm's backoff while journeys cannot run.
    backoff: Backoff,
    /// Measurement records not yet taken by the queue, oldest first (written with the events
    /// they came with; erased with the visitor).
    pub measure: Vec<MeasureRecord>,
    /// When the alarm tries the measurement outbox again.
    measure_retry_at: Option<i64>,
    /// The backend's latest orders (ids) the customer's profile counted: a browser's report of
    /// the same order moves nothing, and the backend's, sent again, counts once.
    rescored_orders: Vec<String>,
}

/// What a batch of events did.
pub struct Applied {
    pub effects: Vec<Effect>,
    pub accepted: usize,
    pub duplicates: usize,
    /// Contacts (SMS number, email) this batch gave the visitor, or whose messages it just
    /// asked for: tell each contact's object (`events::contact_key`).
    pub contacts: Vec<(Channel, String)>,
}

/// What linking this visitor into another takes.
#[derive(Debug, PartialEq)]
pub enum LinkStep {
    Already,
    /// Send this state to the other object's `/absorb` first, then [`VisitorObject::linked`].
    Absorb(Box<VisitorState>),
    /// Nothing worth moving: just [`VisitorObject::linked`].
    AliasOnly,
}

impl VisitorObject {
    /// Wakes up from storage (`None`: a new visitor keyed `key`). Deliveries cut short by a
    /// restart are settled and returned, to log; the caller persists when there are any.
    pub fn load(stored: Option<&str>, key: &str, now: i64) -> Result<(VisitorObject, Vec<Attempt>), String> {
        let stored: Stored = match stored {
            Some(json) => serde_json::from_str(json).map_err(|e| format!("stored visitor does not load: {e}"))?,
            None => Stored { visitor: VisitorState::new(key), ..Stored::default() },
        };
        let mut o = VisitorObject {
            visitor: stored.visitor,
            outbox: stored.outbox,
            alias: stored.alias,
            contact: stored.contact,
            confirm_asked: stored.confirm_asked,
            held: stored.held,
            measure: stored.measure,
            measure_retry_at: stored.measure_retry_at,
            rescored_orders: stored.rescored_orders,
            ..VisitorObject::default()
        };
        if o.visitor.id.is_empty() {
            o.visitor.id = key.into();
        }
        // A number's object from before contact records pointed at its one visitor: that
        // visitor is its first.
        if key.starts_with("p:") && o.contact.is_none() && !o.alias.is_empty() {
            let mut c = ContactRecord::default();
            c.add(&core::mem::take(&mut o.alias));
            o.contact = Some(c);
        }
        let cut = o.outbox.interrupted(now);
        Ok((o, cut))
    }

    /// State, outbox and alias, written together.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&StoredRef {
            visitor: &self.visitor,
            outbox: &self.outbox,
            alias: &self.alias,
            contact: &self.contact,
            confirm_asked: &self.confirm_asked,
            held: &self.held,
            measure: &self.measure,
            measure_retry_at: self.measure_retry_at,
            rescored_orders: &self.rescored_orders,
        })
        .expect("visitor state is plain JSON")
    }

    /// Makes a change on a copy and serializes the result, leaving this object as it is; the
    /// runtime writes [`Staged::json`] and, once that succeeded, [`commit`](Self::commit)s it.
    /// A result over [`MAX_STORED_BYTES`] is refused (nothing to write, nothing changed).
    pub fn stage<T>(&self, change: impl FnOnce(&mut VisitorObject) -> T) -> Result<Staged<T>, Oversize> {
        let mut next = self.clone();
        let out = change(&mut next);
        let json = next.to_json();
        if json.len() > MAX_STORED_BYTES {
            return Err(Oversize { bytes: json.len() });
        }
        Ok(Staged { next, json, out })
    }

    /// The staged change was written: it is this object's state now.
    pub fn commit<T>(&mut self, staged: Staged<T>) -> T {
        *self = staged.next;
        staged.out
    }

    /// No bundle is loaded: `incoming` is kept as received (at `now`) to run once one loads,
    /// and no run changes. Events already run or held are duplicates. Refused (nothing kept)
    /// when it would hold more than [`MAX_HELD`].
    pub fn hold(&mut self, incoming: Vec<Incoming>, now: i64) -> Result<Tally, String> {
        let mut tally = Tally::default();
        let mut new: Vec<Held> = Vec::new();
        for i in incoming {
            let id = i.message_id();
            let known = self.visitor.seen.contains(id) || self.held.iter().chain(&new).any(|h| h.incoming.message_id() == id);
            if known {
                tally.duplicates += 1;
            } else {
                tally.accepted += 1;
                new.push(Held { at: now, incoming: i });
            }
        }
        if self.held.len() + new.len() > MAX_HELD {
            return Err(format!("no bundle is loaded and {} events are held for this visitor already: send again later", self.held.len()));
        }
        self.held.extend(new);
        Ok(tally)
    }

    /// Journeys cannot run now (`why`: no bundle loaded, no `LINK_SECRET`): the alarm waits,
    /// 1 s then doubling up to 5 minutes, and runs stay as they are. Returns the one log line
    /// of this wait.
    pub fn wait(&mut self, why: &str, now: i64) -> String {
        let secs = WAIT_FIRST_SECS.saturating_mul(1 << self.backoff.waits.min(20)).min(WAIT_MAX_SECS);
        self.backoff = Backoff { waits: self.backoff.waits.saturating_add(1), until: Some(now + secs) };
        let held = if self.held.is_empty() { String::new() } else { format!(", {} events held", self.held.len()) };
        format!("vitrine: {}: {why}; journeys wait (runs kept{held}), next try in {secs} s", self.visitor.id)
    }

    /// What the journeys just did (`effects` of a run, an alarm, an absorb) into the measurement
    /// outbox, in the same change (`measure::journey_records`). No key: nothing is recorded.
    pub fn record_journeys(&mut self, journeys: &BundleBody, effects: &[Effect], key: &[u8], now: i64) {
        if key.is_empty() {
            return;
        }
        let records = crate::measure::journey_records(&Runner::new(journeys, b""), &self.visitor.id, effects, now);
        self.add_records(records, key, now);
    }

    /// A delivery attempt settled (`Outbox::settle`); a message the provider took is recorded
    /// as sent in the same change (`measure::sent_record`).
    pub fn settle(&mut self, message_key: &str, outcome: Outcome, now: i64, policy: RetryPolicy, key: &[u8]) -> Option<Attempt> {
        let attempt = self.outbox.settle(message_key, outcome, now, policy)?;
        self.add_records(crate::measure::sent_record(&attempt).into_iter().collect(), key, now);
        Some(attempt)
    }

    /// Measurement records into the outbox (in the change that stores their events): units the
    /// worker could not know (a server event naming only the customer) are filled from this
    /// object (`measure::fill_units`); beyond [`crate::measure::MAX_PENDING`] the oldest go. The
    /// alarm tries again at `now + RETRY_SECS` unless the send after the write empties it.
    /// No key (`MEASUREMENT_KEY` unset): nothing is recorded.
    pub fn add_records(&mut self, mut records: Vec<MeasureRecord>, key: &[u8], now: i64) {
        if records.is_empty() || key.is_empty() {
            return;
        }
        crate::measure::fill_units(&mut records, key, &self.visitor.id, &self.visitor.merged_from);
        self.measure.extend(records);
        let over = self.measure.len().saturating_sub(crate::measure::MAX_PENDING);
        self.measure.drain(..over);
        self.measure_retry_at.get_or_insert(now + crate::measure::RETRY_SECS);
    }

    /// Notes on the journeys' runs what the records say the visitor did with their messages
    /// (clicks, opens: `Interaction::of_record`), for the steps' `if`; whether measurement is
    /// on or not. Returns how many records were engagement.
    pub fn note_engagement(&mut self, records: &[MeasureRecord]) -> usize {
        let mut n = 0;
        for r in records.iter().filter(|r| r.source == vitrine_engine::measure::SOURCE_JOURNEY && !r.journey.is_empty()) {
            if let Some(what) = vitrine_engine::journey::Interaction::of_record(&r.event, &r.channel) {
                self.visitor.engaged(&r.journey, what);
                n += 1;
            }
        }
        n
    }

    /// The queue took these records (by message id): out of the outbox.
    pub fn records_sent(&mut self, sent: &[String]) {
        self.measure.retain(|r| !sent.contains(&r.message_id));
        if self.measure.is_empty() {
            self.measure_retry_at = None;
        }
    }

    /// The queue refused the outbox: the alarm tries again in `RETRY_SECS`.
    pub fn records_failed(&mut self, now: i64) {
        self.measure_retry_at = Some(now + crate::measure::RETRY_SECS);
    }

    /// Journeys ran: the backoff is over.
    pub fn ran(&mut self) {
        self.backoff = Backoff::default();
    }

    /// Whether the alarm is backing off (`wait`) as of `now`.
    pub fn waiting(&self, now: i64) -> bool {
        self.backoff.until.is_some_and(|t| now < t)
    }

    /// A bundle loaded: runs the held events first, each at the time it came in (`replay`: the
    /// first `taken` of [`held`](Self::held), parsed by [`Incoming::parse`], which they leave),
    /// then `fresh` at `now`. The tally counts `fresh` only: the held ones were answered when
    /// they came.
    pub fn run(&mut self, journeys: &BundleBody, link_secret: &[u8], taken: usize, replay: &[(i64, Event)], fresh: &[Event], now: i64) -> Applied {
        self.held.drain(..taken.min(self.held.len()));
        let mut effects = Vec::new();
        let mut contacts: Vec<(Channel, String)> = Vec::new();
        for (at, e) in replay {
            let a = self.apply(journeys, link_secret, core::slice::from_ref(e), *at);
            effects.extend(a.effects);
            contacts.extend(a.contacts);
        }
        let mut applied = self.apply(journeys, link_secret, fresh, now);
        effects.append(&mut applied.effects);
        contacts.append(&mut applied.contacts);
        let mut unique = Vec::new();
        for c in contacts {
            if !unique.contains(&c) {
                unique.push(c);
            }
        }
        Applied { effects, contacts: unique, ..applied }
    }

    /// What this visitor tells its contact's object (`channel`: SMS or email): whether the store
    /// vouched for the contact and whether to ask it for messages (the visitor wants them, the
    /// contact is not confirmed, and this visitor did not ask within the hour).
    pub fn contact_body(&mut self, channel: Channel, now: i64) -> ContactBody {
        let verified = self.visitor.profile.confirmed(channel);
        let wants = self.visitor.consent.granted(channel) && !verified;
        let asked = match channel {
            Channel::Email => &mut self.confirm_asked.email,
            _ => &mut self.confirm_asked.sms,
        };
        let confirm = wants && asked.is_none_or(|at| now >= at + journey::HOUR);
        if confirm {
            *asked = Some(now);
        }
        ContactBody { visitor: self.visitor.id.clone(), verified, confirm }
    }

    /// The contact's object's answer: confirmed elsewhere counts here too (and starts a welcome
    /// series that waited for it, as [`confirmed`](Self::confirmed)).
    pub fn contact_answered(&mut self, journeys: &BundleBody, link_secret: &[u8], channel: Channel, address: &str, a: ContactAnswer, now: i64) -> Vec<Effect> {
        if a.verified && !self.visitor.profile.confirmed(channel) {
            return self.confirmed(journeys, link_secret, channel, address, now);
        }
        Vec::new()
    }

    /// The owner of `address` confirmed it (`POST /confirmed`: the email's signed link; a
    /// number's YES comes as an inbound SMS instead): the visitor's contact is confirmed and a
    /// welcome series waiting for it starts (the exit offer's promised code goes out in it).
    pub fn confirmed(&mut self, journeys: &BundleBody, link_secret: &[u8], channel: Channel, address: &str, now: i64) -> Vec<Effect> {
        runner(journeys, link_secret).confirmed(&mut self.visitor, channel, address, now)
    }

    /// Where a request to this object goes instead, once it was folded into another (what it
    /// still holds itself, it exports and erases itself).
    pub fn forward_to(&self, path: &str) -> Option<&str> {
        (!self.alias.is_empty() && ![LINK, EXPORT, ERASE].contains(&path)).then_some(self.alias.as_str())
    }

    /// The other objects that hold this customer's data: the visitors folded into it and the
    /// objects of their phone number and email.
    pub fn related_keys(&self) -> Vec<String> {
        let mut keys = self.visitor.merged_from.clone();
        for c in [Channel::Sms, Channel::Email] {
            if let Some(a) = self.visitor.profile.address(c) {
                keys.push(crate::events::contact_key(c, a));
            }
        }
        keys
    }

    /// Nothing happened for `retention_secs`: time to erase (never a visitor with nothing in it).
    pub fn is_expired(&self, now: i64, retention_secs: i64) -> bool {
        self.visitor.last_activity > 0 && now >= self.visitor.last_activity.saturating_add(retention_secs)
    }

    /// Events the worker checked already; a refusal here means a caller skipped the check.
    pub fn parse_events(raw: &[Value]) -> Result<Vec<Event>, String> {
        raw.iter().map(|v| journey::parse(v, 0).map_err(|r| format!("refused: {r}"))).collect()
    }

    /// An inbound SMS as the event the journeys understand.
    pub fn sms_event(body: SmsBody) -> Event {
        Event {
            message_id: body.message_id,
            anonymous_id: String::new(),
            user_id: String::new(),
            utc_offset_minutes: None,
            time_zone: None,
            kind: EventKind::SmsReply { body: body.body, channel: body.channel },
        }
    }

    /// A known customer's identify gets what their private profile knows: the customer id to
    /// read (`profile:<id>`), once per wake-up, when this batch has such an identify. Read
    /// again on a later wake-up (not only while the gap is unknown): a newer build's segment
    /// and predicted traits (`churn_risk` starting `predicted_churn`) must reach the journeys.
    pub fn profile_to_read(&mut self, events: &[Event]) -> Option<String> {
        if self.profile_read {
            return None;
        }
        let user = self.customer_id()?.to_string();
        events.iter().any(|e| matches!(e.kind, EventKind::Identify(_))).then(|| {
            self.profile_read = true;
            user
        })
    }

    /// The customer this object is (`u:<id>`), if it is a known customer's.
    pub fn customer_id(&self) -> Option<&str> {
        self.visitor.id.strip_prefix("u:").filter(|u| !u.is_empty())
    }

    /// The orders of the store's backend among `incoming` (held first, then new) that this
    /// customer's profile has yet to count: not seen before (by message id or order id), each
    /// once. None for an anonymous visitor's object, nor for a browser's order.
    pub fn live_orders<'a>(&self, incoming: impl IntoIterator<Item = &'a Incoming>) -> Vec<LiveOrder> {
        if self.customer_id().is_none() {
            return Vec::new();
        }
        let orders = &self.rescored_orders;
        let mut out: Vec<LiveOrder> = Vec::new();
        for raw in incoming {
            let Incoming::Server(v) = raw else { continue };
            let Some(order) = raw.parse().ok().and_then(|e| LiveOrder::of(v, &e)) else { continue };
            let counted = |id: &str| !id.is_empty() && (orders.iter().any(|o| o == id) || out.iter().any(|o| o.order_id == id));
            if !self.visitor.seen.contains(&order.message_id) && !counted(&order.order_id) && !out.iter().any(|o| o.message_id == order.message_id) {
                out.push(order);
            }
        }
        out
    }

    /// After the backend's orders: the identify that tells the journeys what the customer's
    /// re-scored profile says, run after the orders (its id derives from the first order's, so
    /// a retried batch, whose orders are duplicates, brings none).
    pub fn rescored_identify(&self, rescored: &Rescored, orders: &[LiveOrder], now: i64) -> Option<Event> {
        let first = orders.first()?;
        Some(Event {
            message_id: format!("profile-after-{}", first.message_id),
            anonymous_id: String::new(),
            user_id: self.customer_id()?.to_string(),
            utc_offset_minutes: None,
            time_zone: None,
            kind: EventKind::Identify(rescored.journey_traits(now)),
        })
    }

    /// What conditions read of the customer's profile (`segment`, `traits.*`) from `line`.
    pub fn adopt_profile(&mut self, line: &ProfileLine) {
        self.visitor.profile.segment = line.segment().unwrap_or_default().into();
        self.visitor.profile.traits = line.condition_traits();
    }

    /// The profile `rescored` counted `orders`: it is the customer's profile now, and those
    /// orders count no more.
    pub fn rescored(&mut self, rescored: &Rescored, orders: &[LiveOrder]) {
        self.adopt_profile(&rescored.line);
        for o in orders.iter().filter(|o| !o.order_id.is_empty()) {
            self.rescored_orders.push(o.order_id.clone());
        }
        let over = self.rescored_orders.len().saturating_sub(RESCORED_ORDERS);
        self.rescored_orders.drain(..over);
    }

    /// Fills what the identify did not say from the customer's private profile, and takes the
    /// store's own consent record (the customers export) for each channel the visitor has not
    /// answered since: the later answer wins, as between devices.
    pub fn enrich(&mut self, events: &mut [Event], line: &ProfileLine) {
        let profile = line.journey_traits();
        self.adopt_profile(line);
        if let Some(t) = events.iter_mut().find_map(|e| match &mut e.kind {
            EventKind::Identify(t) => Some(t),
            _ => None,
        }) {
            t.fill_from(profile);
        }
        let (answers, at) = line.store_consent();
        for (channel, granted) in answers {
            if self.visitor.consent.get(channel).is_none_or(|given| given.at < at) {
                self.visitor.consent.set(channel, granted, at);
            }
        }
    }

    /// Contacts as kept: phones in E.164 (`country` for numbers without a country code), emails
    /// lower-cased; one the libraries refuse is dropped from the event (never sent to) and named.
    pub fn normalize_contacts(events: &mut [Event], country: Country) -> Vec<String> {
        let mut dropped = Vec::new();
        for e in events {
            if let EventKind::Identify(t) = &mut e.kind {
                if let Some(raw) = t.phone.take().filter(|p| !p.trim().is_empty()) {
                    t.phone = vitrine_contacts::e164(&raw, country);
                    if t.phone.is_none() {
                        dropped.push(format!("phone {raw:?} is not a valid number"));
                    }
                }
                if let Some(raw) = t.email.take().filter(|m| !m.trim().is_empty()) {
                    t.email = vitrine_contacts::email(&raw);
                    if t.email.is_none() {
                        dropped.push(format!("email {raw:?} is not an email address"));
                    }
                }
            }
        }
        dropped
    }

    pub fn apply(&mut self, journeys: &BundleBody, link_secret: &[u8], events: &[Event], now: i64) -> Applied {
        let runner = runner(journeys, link_secret);
        const CONTACTS: [Channel; 2] = [Channel::Sms, Channel::Email];
        let before: Vec<(Option<String>, bool)> =
            CONTACTS.map(|c| (self.visitor.profile.address(c).map(str::to_string), self.visitor.consent.granted(c))).to_vec();
        let mut effects = Vec::new();
        for e in events {
            effects.extend(runner.handle(&mut self.visitor, e, now));
        }
        let duplicates = effects.iter().filter(|e| matches!(e, Effect::Record(Record::Duplicate { .. }))).count();
        let mut contacts = Vec::new();
        for (c, (address_before, granted_before)) in CONTACTS.into_iter().zip(before) {
            let Some(address) = self.visitor.profile.address(c) else { continue };
            let asked = !granted_before && self.visitor.consent.granted(c);
            if address_before.as_deref() != Some(address) || asked {
                contacts.push((c, address.to_string()));
            }
        }
        Applied { effects, accepted: events.len() - duplicates, duplicates, contacts }
    }

    /// The alarm fired: journeys move on; messages due go to the outbox.
    pub fn on_alarm(&mut self, journeys: &BundleBody, link_secret: &[u8], now: i64) -> Vec<Effect> {
        self.alarm = Some(None); // it fired
        let fx = runner(journeys, link_secret).on_alarm(&mut self.visitor, now);
        for e in &fx {
            if let Effect::Send(msg) = e {
                self.outbox.push((**msg).clone(), now);
            }
        }
        fx
    }

    /// Identify: fold this (anonymous) visitor into `to` — state first, then the alias, so a
    /// crash in between re-sends the state (absorbing is idempotent) rather than losing it.
    pub fn link_step(&self, own: &str, to: &str) -> LinkStep {
        if self.alias == to || own == to {
            return LinkStep::Already;
        }
        if self.visitor.seen.is_empty() && self.visitor.cart.is_empty() {
            return LinkStep::AliasOnly;
        }
        LinkStep::Absorb(Box::new(self.visitor.clone()))
    }

    pub fn linked(&mut self, to: String) {
        self.alias = to;
        self.visitor.runs.clear();
        self.visitor.alarm = None;
    }

    /// Takes another visitor's state in (the engine dedupes on the absorbed state's id).
    pub fn absorb(&mut self, journeys: &BundleBody, link_secret: &[u8], state: &VisitorState, now: i64) -> Vec<Effect> {
        runner(journeys, link_secret).absorb(&mut self.visitor, state, now)
    }

    /// The alarm to set, given the one set now (`current`, unix seconds), or `None` to keep it:
    /// the earliest of the engine's wake-up and the next delivery. An alarm at or before the
    /// wanted time stays: waking early is harmless (`on_alarm` finds nothing due and sets the
    /// next one), and most events only move the wake-up later (the cart clock restarts), so
    /// this saves a storage write per event.
    pub fn alarm_change(&self, current: Option<i64>, retention_secs: i64) -> Option<i64> {
        let retention = (self.visitor.last_activity > 0).then(|| self.visitor.last_activity.saturating_add(retention_secs));
        let held = (!self.held.is_empty()).then_some(0);
        let measure = self.measure_retry_at.filter(|_| !self.measure.is_empty());
        let want = [self.visitor.alarm, self.outbox.next_wake(), retention, held, measure].into_iter().flatten().min()?;
        // While journeys cannot run, nothing is due before the backoff ends: an alarm set in
        // the past would fire again at once, forever.
        let want = want.max(self.backoff.until.unwrap_or(i64::MIN));
        match current {
            Some(c) if c <= want => None,
            _ => Some(want),
        }
    }

    /// The alarm as last known here, if known since start-up.
    pub fn known_alarm(&self) -> Option<Option<i64>> {
        self.alarm
    }

    pub fn alarm_is(&mut self, at: Option<i64>) {
        self.alarm = Some(at);
    }

    /// One log line per journey record worth logging (not duplicates).
    pub fn record_lines(&self, fx: &[Effect]) -> Vec<String> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Record(r) if !matches!(r, Record::Duplicate { .. }) => Some(format!("vitrine journey {}: {r}", self.visitor.id)),
                _ => None,
            })
            .collect()
    }

    /// `GET /export` (privacy): what `/messages` shows, and the other keys holding more.
    pub fn export_json(&self) -> serde_json::Value {
        let mut v = self.messages_json();
        v["related"] = serde_json::json!(self.related_keys());
        v
    }

    /// A push service answered 404/410 for the subscription `to`: it expired or the browser
    /// revoked it, so the visitor no longer has a push address (the attempt's outcome says why).
    /// A newer address given since is kept. Whether it was dropped.
    pub fn push_subscription_gone(&mut self, to: &str) -> bool {
        let dropped = !to.is_empty() && self.visitor.profile.push_token == to;
        if dropped {
            self.visitor.profile.push_token.clear();
        }
        dropped
    }

    /// `GET /messages` (dev mode): delivery log, outbox and state.
    /// Whether a queued message may still go now: consent to its channel can have been withdrawn
    /// (an unsubscribe, a STOP, a provider's bounce) or the address changed since it was
    /// decided, while it waited for a retry or quiet hours. `Err`: why it is dropped.
    pub fn still_wanted(&self, m: &Message) -> Result<(), &'static str> {
        if !self.visitor.consent.granted(m.channel) {
            return Err("consent to the channel withdrawn before delivery: not sent");
        }
        if m.channel != Channel::Webhook && self.visitor.profile.address(m.channel) != Some(m.to.as_str()) {
            return Err("the address changed before delivery: not sent");
        }
        Ok(())
    }

    pub fn messages_json(&self) -> serde_json::Value {
        serde_json::json!({
            "visitor": self.visitor.id,
            "alias": self.alias,
            "messages": self.outbox.log,
            "pending": self.outbox.pending,
            "held": self.held.len(),
            "measure_pending": self.measure.len(),
            "state": self.visitor,
            "contact": self.contact,
        })
    }
}

/// The log line of one delivery attempt.
pub fn attempt_line(visitor: &str, a: &Attempt) -> String {
    format!(
        "vitrine delivery {}",
        serde_json::json!({ "visitor": visitor, "journey": a.journey, "step": a.step, "channel": a.channel, "key": a.key, "attempt": a.attempt, "result": a.outcome })
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_queued_message_is_dropped_once_consent_is_withdrawn() {
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        o.visitor.consent.set(Channel::Email, true, 0);
        o.visitor.profile.email = "jo@example.com".into();
        let m = Message { channel: Channel::Email, to: "jo@example.com".into(), ..Message::default() };
        assert_eq!(o.still_wanted(&m), Ok(()));
        o.visitor.profile.email = "new@example.com".into();
        assert!(o.still_wanted(&m).unwrap_err().contains("address changed"));
        o.visitor.consent.set(Channel::Email, false, 5);
        assert!(o.still_wanted(&m).unwrap_err().contains("withdrawn"));
    }

    #[test]
    fn measurement_records_wait_in_the_outbox_until_the_queue_took_them() {
        let (mut o, _) = VisitorObject::load(None, "u:17850", 0).unwrap();
        o.visitor.merged_from = vec!["a:phone".into()];
        let rec = |id: &str, unit: &str| MeasureRecord { message_id: id.into(), unit: unit.into(), ..MeasureRecord::default() };
        let staged = o.stage(|o| o.add_records(vec![rec("m1", ""), rec("m2", "given")], b"key", 100)).unwrap();
        o.commit(staged);
        assert_eq!(o.measure[0].unit, vitrine_engine::measure::unit_key(b"key", "phone"), "the customer's first linked visitor");
        assert_eq!(o.measure[1].unit, "given");
        assert_eq!(o.alarm_change(None, 1000), Some(100 + crate::measure::RETRY_SECS), "the alarm retries what the send does not take");
        let (mut back, _) = VisitorObject::load(Some(&o.to_json()), "u:17850", 100).unwrap();
        assert_eq!(back.measure.len(), 2, "stored with the visitor");
        back.records_sent(&["m1".into()]);
        assert_eq!(back.measure.len(), 1);
        back.records_sent(&["m2".into()]);
        assert!(back.measure.is_empty() && back.alarm_change(None, 1000) == Some(1000 + back.visitor.last_activity).filter(|_| back.visitor.last_activity > 0));
        assert!(!back.to_json().contains("measure"), "an empty outbox is not written");
    }

    #[test]
    fn the_daily_cap_counts_per_contact_across_visitors() {
        let mut c = ContactRecord::default();
        assert!(c.reserve("a:phone/cart/1", 2, 100) && c.reserve("a:laptop/cart/1", 2, 200));
        assert!(!c.reserve("a:tablet/cart/1", 2, 300), "a third device's message that day stays unsent");
        assert!(c.reserve("a:phone/cart/1", 2, 400), "a retry of one that went is the same message");
        assert!(c.reserve("a:tablet/cart/2", 2, 100 + DAY + 1), "a day after the first, room again");
        assert!(ContactRecord::default().reserve("k", 0, 0), "0: no cap");
    }

    use super::*;

    fn empty_bundle() -> BundleBody {
        BundleBody { store: Default::default(), catalog: Default::default(), stats: Default::default(), recs: Default::default(), rules: Default::default() }
    }

    fn event(json: &str) -> Event {
        let v: Value = serde_json::from_str(json).unwrap();
        journey::parse(&v, 0).unwrap()
    }

    #[test]
    fn a_new_object_knows_its_key_and_survives_a_round_trip() {
        let (mut o, cut) = VisitorObject::load(None, "a:1", 100).unwrap();
        assert!(cut.is_empty());
        assert_eq!(o.visitor.id, "a:1");
        let events = [event(r#"{"type":"track","event":"Product Added","messageId":"m1","anonymousId":"1","properties":{"sku":"A"}}"#)];
        let applied = o.apply(&empty_bundle(), b"k", &events, 100);
        assert_eq!((applied.accepted, applied.duplicates), (1, 0));
        let again = o.apply(&empty_bundle(), b"k", &events, 101);
        assert_eq!((again.accepted, again.duplicates), (0, 1), "messageId dedupes");
        let (back, _) = VisitorObject::load(Some(&o.to_json()), "ignored", 102).unwrap();
        assert_eq!(back.visitor.cart.len(), 1);
        assert!(VisitorObject::load(Some("{nope"), "a:1", 0).err().unwrap().contains("does not load"));
    }

    #[test]
    fn a_new_phone_is_reported_once_for_indexing() {
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        let consent = event(r#"{"type":"identify","messageId":"m1","anonymousId":"1","traits":{"phone":"+447700900123"}}"#);
        assert_eq!(o.apply(&empty_bundle(), b"k", &[consent], 0).contacts, [(Channel::Sms, "+447700900123".to_string())]);
        let page = event(r#"{"type":"page","messageId":"m2","anonymousId":"1"}"#);
        assert_eq!(o.apply(&empty_bundle(), b"k", &[page], 1).contacts, []);
    }

    #[test]
    fn linking_moves_state_only_when_there_is_some_and_then_forwards() {
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        assert_eq!(o.link_step("a:1", "u:9"), LinkStep::AliasOnly);
        o.apply(&empty_bundle(), b"k", &[event(r#"{"type":"track","event":"Product Added","messageId":"m1","anonymousId":"1","properties":{"sku":"A"}}"#)], 0);
        assert!(matches!(o.link_step("a:1", "u:9"), LinkStep::Absorb(s) if s.cart.len() == 1));
        assert_eq!(o.link_step("a:1", "a:1"), LinkStep::Already);
        assert_eq!(o.forward_to(EVENTS), None);
        o.linked("u:9".into());
        assert_eq!(o.link_step("a:1", "u:9"), LinkStep::Already);
        assert_eq!((o.forward_to(EVENTS), o.forward_to(LINK)), (Some("u:9"), None));
    }

    #[test]
    fn the_profile_is_read_once_for_a_known_customers_identify() {
        let (mut anon, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        let identify = [event(r#"{"type":"identify","messageId":"m1","userId":"9","traits":{}}"#)];
        assert_eq!(anon.profile_to_read(&identify), None);
        let (mut known, _) = VisitorObject::load(None, "u:9", 0).unwrap();
        assert_eq!(known.profile_to_read(&[event(r#"{"type":"page","messageId":"m0","userId":"9"}"#)]), None);
        assert_eq!(known.profile_to_read(&identify).as_deref(), Some("9"));
        assert_eq!(known.profile_to_read(&identify), None, "once per wake-up");
        let mut events = identify.to_vec();
        let line = ProfileLine::parse(r#"{"customer_id":"9","typical_gap_days":30.0,"first_name":"Jane","email":"jane@example.com","consent":{"email":true,"sms":true,"at":"2010-01-01"}}"#).unwrap();
        known.visitor.consent.set(Channel::Sms, false, 1_500_000_000); // said no here, later
        known.enrich(&mut events, &line);
        match &events[0].kind {
            EventKind::Identify(t) => {
                assert_eq!((t.typical_gap_days, t.first_name.as_deref(), t.email.as_deref()), (Some(30.0), Some("Jane"), Some("jane@example.com")))
            }
            _ => unreachable!(),
        }
        assert!(known.visitor.consent.granted(Channel::Email), "the store's record, where the visitor never answered");
        assert!(!known.visitor.consent.granted(Channel::Sms), "the visitor's later no wins over the export's yes");
    }

    #[test]
    fn the_alarm_moves_only_earlier() {
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        const YEAR: i64 = 365 * 86_400;
        assert_eq!(o.alarm_change(None, YEAR), None, "nothing to wake for");
        o.visitor.alarm = Some(500);
        assert_eq!(o.alarm_change(None, YEAR), Some(500));
        assert_eq!(o.alarm_change(Some(400), YEAR), None, "an earlier alarm stays");
        assert_eq!(o.alarm_change(Some(600), YEAR), Some(500));
    }

    #[test]
    fn contacts_are_kept_in_one_form_and_invalid_ones_are_dropped() {
        let gb = Country::parse("GB").unwrap();
        let mut events = [event(r#"{"type":"identify","messageId":"m1","anonymousId":"1","traits":{"phone":"07400 123456","email":" Jane@Example.com"}}"#)];
        assert!(VisitorObject::normalize_contacts(&mut events, gb).is_empty());
        let EventKind::Identify(t) = &events[0].kind else { unreachable!() };
        assert_eq!((t.phone.as_deref(), t.email.as_deref()), (Some("+447400123456"), Some("jane@example.com")));
        let mut bad = [event(r#"{"type":"identify","messageId":"m2","anonymousId":"1","traits":{"phone":"12345","email":"nope","first_name":"Jo"}}"#)];
        let dropped = VisitorObject::normalize_contacts(&mut bad, gb);
        assert_eq!(dropped.len(), 2, "{dropped:?}");
        let EventKind::Identify(t) = &bad[0].kind else { unreachable!() };
        assert_eq!((t.phone.as_deref(), t.email.as_deref(), t.first_name.as_deref()), (None, None, Some("Jo")), "the rest of the identify is kept");
    }

    #[test]
    fn a_number_stops_for_every_visitor_that_gave_it() {
        let mut c = ContactRecord::default();
        c.add("a:phone");
        c.add("a:laptop");
        c.add("a:phone");
        assert_eq!(c.visitors, ["a:phone", "a:laptop"]);
        assert_eq!(c.reply(Channel::Sms, "hello", 1), None);
        assert_eq!((c.reply(Channel::Sms, " stop ", 2), c.suppressed), (Some(false), true));
        assert_eq!((c.reply(Channel::Sms, "START", 3), c.suppressed), (Some(true), false));
        // WhatsApp speaks for WhatsApp: its STOP reaches the visitors, the number still takes texts.
        assert_eq!((c.reply(Channel::Whatsapp, "STOP", 4), c.suppressed), (Some(false), false));
        let not_on_whatsapp = FeedbackBody { id: "SM1".into(), reason: "twilio 63024".into(), at: 5, suppress: true, channel: Some(Channel::Whatsapp) };
        let told = c.feedback(Channel::Sms, &not_on_whatsapp, 5).expect("its visitors are told");
        assert!(!c.suppressed, "texts still go");
        let events = VisitorObject::parse_events(&told.events).unwrap();
        assert!(matches!(&events[0].kind, EventKind::Consent { changes, .. } if changes == &[(Channel::Whatsapp, false)]));
        // A number's object from before contact records: its one visitor comes along.
        let (legacy, _) = VisitorObject::load(Some(r#"{"visitor":{},"alias":"a:old"}"#), "p:+447400123456", 0).unwrap();
        assert_eq!(legacy.contact.map(|c| c.visitors), Some(vec!["a:old".to_string()]));
        assert!(legacy.alias.is_empty());
    }

    #[test]
    fn a_bounce_or_complaint_suppresses_the_contact_for_every_visitor_and_soft_ones_are_kept() {
        let mut c = ContactRecord::default();
        c.add("a:phone");
        c.add("u:9");
        let report = |id: &str, reason: &str, suppress: bool| FeedbackBody { id: id.into(), reason: reason.into(), at: 50, suppress, channel: None };
        assert!(c.feedback(Channel::Email, &report("ev1", "sendgrid blocked: 421", false), 100).is_none());
        assert!(!c.suppressed && c.reports == [(50, "sendgrid blocked: 421".to_string())]);
        let told = c.feedback(Channel::Email, &report("ev2", "sendgrid spamreport", true), 200).expect("every visitor is told");
        assert!(c.suppressed && c.reason == "sendgrid spamreport" && c.changed_at == 200);
        let events = VisitorObject::parse_events(&told.events).unwrap();
        assert_eq!(events[0].message_id, "suppressed-email-ev2");
        assert!(matches!(&events[0].kind, EventKind::Consent { changes, .. } if changes == &[(Channel::Email, false)]));
        let again = c.feedback(Channel::Email, &report("ev3", "sendgrid bounce: 550", true), 300).unwrap();
        assert!(c.reason == "sendgrid spamreport" && c.changed_at == 200, "the first reason stays");
        assert_ne!(VisitorObject::parse_events(&again.events).unwrap()[0].message_id, events[0].message_id);
        for i in 0..30 {
            c.feedback(Channel::Email, &report("x", &format!("soft {i}"), false), 400);
        }
        assert_eq!((c.reports.len(), c.reports[0].1.as_str()), (ContactRecord::MAX_REPORTS, "soft 10"), "the last ones");
        // A visitor told applies it as any consent event: the channel is withdrawn.
        let (mut o, _) = VisitorObject::load(None, "a:phone", 0).unwrap();
        o.visitor.consent.set(Channel::Email, true, 0);
        o.apply(&empty_bundle(), b"k", &events, 500);
        assert!(!o.visitor.consent.granted(Channel::Email));
        assert_eq!(o.apply(&empty_bundle(), b"k", &events, 501).duplicates, 1, "a retried report changes nothing twice");
        // The reason reaches the contact object's export; a STOP has one too.
        let mut number = ContactRecord::default();
        number.reply(Channel::Sms, "STOP", 7);
        assert_eq!(number.reason, "STOP (a text from the number)");
        let (mut contact, _) = VisitorObject::load(None, "e:jo@example.com", 0).unwrap();
        contact.contact = Some(c);
        assert_eq!(contact.export_json()["contact"]["reason"], "sendgrid spamreport");
    }

    #[test]
    fn one_confirmation_a_day_per_number_however_many_visitors_ask() {
        let mut c = ContactRecord::default();
        let ask = |v: &str| ContactBody { visitor: v.into(), verified: false, confirm: true };
        assert!(c.register(&ask("a:1"), 1000).send_confirmation, "the first asks the number");
        for i in 2..=50 {
            assert!(!c.register(&ask(&format!("a:{i}")), 1000 + i).send_confirmation, "visitor {i}: not again today");
        }
        assert_eq!(c.visitors.len(), 50);
        assert!(c.register(&ask("a:1"), 1000 + DAY).send_confirmation, "a day later, again");
        assert_eq!(c.reply(Channel::Sms, "YES", 1000 + DAY + 5), Some(true));
        let a = c.register(&ask("a:51"), 1000 + DAY + 6);
        assert!(a.verified && !a.send_confirmation, "a confirmed number needs no second YES");
        let mut stopped = ContactRecord::default();
        stopped.reply(Channel::Sms, "STOP", 1);
        assert!(!stopped.register(&ask("a:1"), 2).send_confirmation, "a stopped number is never asked");
        let m = ContactRecord::confirmation(Channel::Sms, "+447400123456", "Gift shop", "", 5);
        assert!(m.text.starts_with("Gift shop: reply YES") && m.to == "+447400123456" && m.channel == Channel::Sms);
        let link = ContactRecord::confirm_link("https://shop.example/", "jo@example.com", b"k", 5);
        let m = ContactRecord::confirmation(Channel::Email, "jo@example.com", "Gift shop", &link, 5);
        assert!(m.text.contains("https://shop.example/v1/confirm?vt=") && m.subject.contains("Confirm"));
        let vt = link.split("vt=").nth(1).unwrap();
        assert_eq!(ContactRecord::confirmed_by(b"k", vt, 6).as_deref(), Some("e:jo@example.com"));
        assert_eq!(ContactRecord::confirmed_by(b"other", vt, 6), None, "forged");
        assert_eq!(ContactRecord::confirmed_by(b"k", vt, 5 + 8 * DAY), None, "expired");
    }

    #[test]
    fn a_visitor_asks_its_number_at_most_hourly_and_only_when_it_wants_texts() {
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        o.visitor.profile.phone = "+447400123456".into();
        assert!(!o.contact_body(Channel::Sms, 0).confirm, "no consent to texts: nothing to ask");
        o.visitor.consent.set(Channel::Sms, true, 0);
        assert!(o.contact_body(Channel::Sms, 10).confirm);
        assert!(!o.contact_body(Channel::Sms, 20).confirm, "within the hour");
        assert!(o.contact_body(Channel::Sms, 10 + journey::HOUR).confirm);
        o.contact_answered(&empty_bundle(), b"k", Channel::Sms, "+447400123456", ContactAnswer { verified: true, ..ContactAnswer::default() }, 0);
        assert!(!o.contact_body(Channel::Sms, 10 * journey::HOUR).confirm, "confirmed: nothing to ask");
    }

    #[test]
    fn a_visitor_is_erased_after_the_retention_period_by_its_own_alarm() {
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        assert!(!o.is_expired(i64::MAX, 10), "an empty visitor has nothing to erase");
        o.apply(&empty_bundle(), b"k", &[event(r#"{"type":"page","messageId":"m1","anonymousId":"1"}"#)], 1000);
        assert_eq!(o.alarm_change(None, 100), Some(1100), "the alarm waits for the retention deadline");
        assert!(!o.is_expired(1099, 100) && o.is_expired(1100, 100));
    }

    /// A bundle whose one journey, "cart", pushes 60 s after a cart is left.
    fn cart_bundle() -> BundleBody {
        let mut b = empty_bundle();
        b.rules.journeys = vec![serde_json::from_value(serde_json::json!({
            "id": "cart", "trigger": "cart_abandonment",
            "steps": [{ "after": "60s", "channel": "push", "subject": "Still in your cart", "body": "x" }]
        }))
        .unwrap()];
        b
    }

    /// A visitor typed their email into the exit offer's form and consented: the welcome
    /// series waits for the confirmation, which comes either by their own link (`/confirmed`)
    /// or by the contact's object saying another visitor confirmed it already.
    #[test]
    fn a_typed_email_starts_the_welcome_series_once_confirmed_here_or_elsewhere() {
        let mut b = empty_bundle();
        b.rules.journeys = vec![serde_json::from_value(serde_json::json!({
            "id": "welcome", "trigger": "welcome",
            "steps": [{ "after": "0s", "channel": "email", "subject": "Welcome", "body": "x" }]
        }))
        .unwrap()];
        let lead = |o: &mut VisitorObject| {
            let identify = event(r#"{"type":"identify","messageId":"i1","anonymousId":"1","traits":{"email":"jo@example.com"}}"#);
            let consent = event(r#"{"type":"consent","messageId":"c1","anonymousId":"1","channels":{"email":true}}"#);
            let applied = o.apply(&b, b"k", &[identify, consent], 1000);
            assert_eq!(applied.contacts, [(Channel::Email, "jo@example.com".to_string())], "its object is asked for a confirmation");
            assert!(o.visitor.runs.is_empty(), "not before the confirmation");
        };
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        lead(&mut o);
        assert!(o.contact_body(Channel::Email, 1000).confirm, "the object sends the confirmation email");
        let fx = o.confirmed(&b, b"k", Channel::Email, "jo@example.com", 2000);
        assert!(fx.iter().any(|e| matches!(e, Effect::Record(Record::Started { .. }))) && o.visitor.runs.len() == 1);
        assert_eq!(o.visitor.alarm, Some(2000), "its first email is due now");

        let (mut other, _) = VisitorObject::load(None, "a:2", 0).unwrap();
        lead(&mut other);
        let unconfirmed = ContactAnswer { suppressed: false, verified: false, send_confirmation: true };
        assert!(other.contact_answered(&b, b"k", Channel::Email, "jo@example.com", unconfirmed, 1000).is_empty());
        let elsewhere = ContactAnswer { verified: true, ..unconfirmed };
        assert!(!other.contact_answered(&b, b"k", Channel::Email, "jo@example.com", elsewhere, 1000).is_empty());
        assert_eq!(other.visitor.runs.len(), 1, "confirmed by another visitor of the address");
    }

    fn raw(json: &str) -> Incoming {
        Incoming::Event(serde_json::from_str(json).unwrap())
    }

    /// A visitor with push consent and a cart: the cart journey runs.
    fn with_a_running_cart() -> VisitorObject {
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        let consent = event(r#"{"type":"consent","messageId":"c1","anonymousId":"1","channels":{"push":true},"push_token":"t"}"#);
        let added = event(r#"{"type":"track","event":"Product Added","messageId":"m1","anonymousId":"1","properties":{"sku":"A"}}"#);
        o.apply(&cart_bundle(), b"k", &[consent, added], 1000);
        assert_eq!(o.visitor.runs.len(), 1, "the cart journey runs");
        o
    }

    /// Only the journey's own records (built by the edge from a signed link, push report or
    /// provider webhook) mark a message clicked; a record that came from the browser naming the
    /// same event and journey changes nothing.
    #[test]
    fn only_the_journeys_own_records_mark_a_message_clicked() {
        let mut o = with_a_running_cart();
        let claimed = MeasureRecord {
            event: vitrine_engine::measure::MESSAGE_CLICKED.into(),
            source: vitrine_engine::measure::SOURCE_BROWSER.into(),
            journey: "cart".into(),
            channel: "push".into(),
            ..MeasureRecord::default()
        };
        assert_eq!(o.note_engagement(std::slice::from_ref(&claimed)), 0);
        assert!(!o.visitor.runs[0].engaged.clicked);
        let proven = MeasureRecord { source: vitrine_engine::measure::SOURCE_JOURNEY.into(), ..claimed };
        assert_eq!(o.note_engagement(&[proven]), 1);
        assert!(o.visitor.runs[0].engaged.clicked && o.visitor.runs[0].engaged.opened, "a click is an open too");
    }

    /// A journey's funnel as records: entered when the run starts (with the arms the visitor
    /// is in), sent once the provider took the message, under the visitor's own unit.
    #[test]
    fn what_a_journey_did_is_recorded_under_the_visitors_unit() {
        let mut bundle = cart_bundle();
        bundle.rules.measurement.holdout = 0.5;
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        let consent = event(r#"{"type":"consent","messageId":"c1","anonymousId":"1","channels":{"push":true},"push_token":"t"}"#);
        let added = event(r#"{"type":"track","event":"Product Added","messageId":"m1","anonymousId":"1","properties":{"sku":"A"}}"#);
        let applied = o.apply(&bundle, b"k", &[consent, added], 1000);
        o.record_journeys(&bundle, &applied.effects, b"mk", 1000);
        let unit = vitrine_engine::measure::unit_key(b"mk", "1");
        let got: Vec<(&str, &str, &str, &str)> =
            o.measure.iter().map(|r| (r.event.as_str(), r.journey.as_str(), r.experiment.as_str(), r.unit.as_str())).collect();
        let arm = Runner::new(&bundle, b"").holdout_arm("a:1").unwrap();
        assert_eq!(got, [("Journey Entered", "cart", "", unit.as_str()), ("Experiment Viewed", "cart", "vitrine-holdout", unit.as_str())]);
        assert_eq!(o.measure[1].arm, arm);
        // Replaying the same run records nothing new: its message ids are the run's.
        let ids: Vec<String> = o.measure.iter().map(|r| r.message_id.clone()).collect();
        assert!(ids[0].starts_with("a:1:cart:"), "{ids:?}");
        o.measure.clear();
        o.record_journeys(&bundle, &applied.effects, b"", 1000);
        assert!(o.measure.is_empty(), "no measurement key: nothing recorded");
        // Delivered: sent, once per message; a retry is no send.
        let message = Message { idempotency_key: "k1".into(), journey: "cart".into(), step: 0, channel: Channel::Push, ..Message::default() };
        o.outbox.push(message.clone(), 1060);
        let policy = RetryPolicy { base_secs: 10, max_attempts: 3 };
        o.settle("k1", crate::messaging::Outcome::Retry { status: 503, error: "busy".into() }, 1061, policy, b"mk");
        assert!(o.measure.is_empty(), "a retry is not a send");
        o.settle("k1", crate::messaging::Outcome::Delivered { status: 200, provider_id: "p1".into() }, 1071, policy, b"mk");
        let sent: Vec<(&str, &str, Option<u32>, &str, &str)> =
            o.measure.iter().map(|r| (r.event.as_str(), r.channel.as_str(), r.step, r.message_id.as_str(), r.unit.as_str())).collect();
        assert_eq!(sent, [("Message Sent", "push", Some(0), "k1:sent", unit.as_str())]);
    }

    #[test]
    fn without_a_loaded_bundle_events_are_held_and_every_run_is_kept() {
        let mut o = with_a_running_cart();
        let runs = o.visitor.runs.clone();
        // The bundle cannot be read: the alarm waits, the next event is held, runs stay.
        let line = o.wait("no bundle loaded", 1070);
        assert!(line.contains("runs kept") && line.contains("next try in 1 s"), "{line}");
        let viewed = r#"{"type":"track","event":"Product Viewed","messageId":"m2","anonymousId":"1","properties":{"sku":"B"}}"#;
        assert_eq!(o.hold(vec![raw(viewed)], 1071), Ok(Tally { accepted: 1, duplicates: 0 }));
        let again = o.hold(vec![raw(viewed), raw(r#"{"type":"page","messageId":"m1","anonymousId":"1"}"#)], 1072);
        assert_eq!(again, Ok(Tally { accepted: 0, duplicates: 2 }), "held or run before: duplicates");
        assert_eq!(o.visitor.runs, runs);
        // It survives a restart, and once a bundle loads the held event runs, at its time.
        let (mut o, _) = VisitorObject::load(Some(&o.to_json()), "a:1", 1080).unwrap();
        let replay: Vec<(i64, Event)> = o.held.iter().map(|h| (h.at, h.incoming.parse().unwrap())).collect();
        let applied = o.run(&cart_bundle(), b"k", o.held.len(), &replay, &[], 1080);
        assert_eq!((applied.accepted, o.held.len()), (0, 0));
        assert!(o.visitor.viewed.contains(&"B".to_string()) && o.visitor.last_activity == 1071);
        assert_eq!(o.visitor.runs.len(), 1, "still running");
        let fx = o.on_alarm(&cart_bundle(), b"k", 1071 + 60);
        assert!(fx.iter().any(|e| matches!(e, Effect::Send(m) if m.journey == "cart")), "and its message goes: {fx:?}");
    }

    #[test]
    fn only_a_loaded_bundle_without_the_journey_ends_its_runs() {
        let mut o = with_a_running_cart();
        // A published bundle with no [[journeys]] loaded: the store removed them.
        let fx = o.on_alarm(&empty_bundle(), b"k", 1100);
        assert!(o.visitor.runs.is_empty());
        assert!(o.record_lines(&fx).iter().any(|l| l.contains("journey removed")), "logged: {fx:?}");
    }

    #[test]
    fn an_object_that_cannot_run_journeys_backs_off_instead_of_firing_at_once() {
        let mut o = with_a_running_cart();
        const YEAR: i64 = 365 * 86_400;
        assert_eq!(o.alarm_change(None, YEAR), Some(1060));
        // The alarm fired at 1060 but there is no LINK_SECRET (or no bundle): not at once again.
        let waits: Vec<i64> = (0..12)
            .map(|_| {
                let now = o.backoff.until.unwrap_or(1060);
                o.wait("LINK_SECRET is not set", now);
                o.alarm_change(None, YEAR).unwrap() - now
            })
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert!(o.waiting(o.backoff.until.unwrap() - 1));
        o.ran();
        assert_eq!(o.alarm_change(None, YEAR), Some(1060), "once journeys run, the engine's wake-up again");
        // Events held with nothing else to wake for still wake the object.
        let (mut quiet, _) = VisitorObject::load(None, "a:2", 0).unwrap();
        quiet.hold(vec![raw(r#"{"type":"page","messageId":"p1","anonymousId":"2"}"#)], 50).unwrap();
        quiet.wait("no bundle loaded", 50);
        assert_eq!(quiet.alarm_change(None, YEAR), Some(51));
    }

    #[test]
    fn a_change_is_taken_in_only_after_its_write() {
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        let events = [event(r#"{"type":"track","event":"Product Added","messageId":"m1","anonymousId":"1","properties":{"sku":"A"}}"#)];
        let staged = o.stage(|o| o.apply(&empty_bundle(), b"k", &events, 100)).unwrap();
        assert!(staged.json().contains("\"sku\":\"A\"") && o.visitor.cart.is_empty(), "staged, not taken in");
        drop(staged); // the write failed
        let retry = o.stage(|o| o.apply(&empty_bundle(), b"k", &events, 101)).unwrap();
        assert_eq!((retry.out.accepted, retry.out.duplicates), (1, 0), "the retry is stored, not a duplicate");
        let json = retry.json().to_string();
        let applied = o.commit(retry);
        assert_eq!((applied.accepted, o.visitor.cart.len(), o.to_json()), (1, 1, json));
        assert_eq!(o.stage(|o| o.apply(&empty_bundle(), b"k", &events, 102)).unwrap().out.duplicates, 1, "written once: now a duplicate");
    }

    #[test]
    fn a_change_over_the_byte_limit_is_refused_whole() {
        let (mut o, _) = VisitorObject::load(None, "a:1", 0).unwrap();
        let before = o.to_json();
        let long = "x".repeat(2000);
        let refused = o.stage(|o| o.visitor.viewed.extend((0..600).map(|_| long.clone()))).err().unwrap();
        assert!(refused.bytes > MAX_STORED_BYTES);
        assert!(refused.reason().contains(&format!("over the {MAX_STORED_BYTES}-byte limit")), "{}", refused.reason());
        assert_eq!(o.to_json(), before, "what was stored is kept");
        assert!(o.stage(|o| o.visitor.viewed.push(long.clone())).is_ok(), "a change under the limit goes");
        // Held events count: the bound covers them too.
        let many: Vec<Incoming> = (0..=MAX_HELD).map(|i| raw(&format!(r#"{{"type":"page","messageId":"h{i}","anonymousId":"1"}}"#))).collect();
        assert!(o.hold(many, 5).unwrap_err().contains("send again later"));
        assert!(o.held.is_empty());
    }

    #[test]
    fn exports_and_erasures_reach_the_folded_visitors_and_the_phone_index() {
        let (mut o, _) = VisitorObject::load(None, "u:9", 0).unwrap();
        o.visitor.merged_from = vec!["a:phone".into(), "a:laptop".into()];
        o.visitor.profile.phone = "+447400123456".into();
        o.visitor.profile.email = "jo@example.com".into();
        assert_eq!(o.related_keys(), ["a:phone", "a:laptop", "p:+447400123456", "e:jo@example.com"]);
        o.linked("u:other".into());
        assert_eq!((o.forward_to(EXPORT), o.forward_to(ERASE)), (None, None), "an alias exports and erases what it holds itself");
    }
}
