//! What the host persists per visitor (one Durable Object each): profile, consent, cart, recent
//! views, orders, running journeys and the bookkeeping for caps and deduplication.
//!
//! Products are held by SKU, never by `ProductIdx`: state outlives bundles, and a new bundle
//! may number products differently. Every list is bounded, so state stays small whatever a
//! visitor (or an attacker) sends. `#[serde(default)]` everywhere: state written by an older
//! version still loads.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::event::{ChurnRisk, Item};
use crate::body::BundleBody;
use crate::cart::{Cart, Line};
use crate::rules::Channel;
use crate::value::Value;

/// How many messageIds are remembered for deduplication (per visitor).
pub const SEEN_CAPACITY: usize = 512;
pub const MAX_VIEWED: usize = 20;
pub const MAX_LAST_ORDER_PRODUCTS: usize = 20;
/// Sends older than this are forgotten (caps look back 24 h).
const SENT_HORIZON: i64 = 2 * 86_400;
const MAX_MERGED: usize = 50;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VisitorState {
    /// The host's key for this visitor, e.g. `u:<userId>` or `a:<anonymousId>`.
    pub id: String,
    pub profile: Profile,
    pub consent: Consents,
    /// Minutes east of UTC, as last reported by the visitor's device.
    pub utc_offset_minutes: Option<i32>,
    /// The device's IANA time zone (`Europe/London`), as last reported: local times follow its
    /// daylight-saving changes, which a fixed offset cannot.
    pub time_zone: Option<String>,
    /// The one cart model ([`crate::cart`]), with what the events said about each product.
    pub cart: Cart,
    /// Recently viewed products, most recent last.
    pub viewed: Vec<String>,
    pub last_activity: i64,
    pub orders: Orders,
    /// When the visitor first consented to any channel (the welcome series' trigger).
    pub subscribed_at: Option<i64>,
    pub runs: Vec<Run>,
    /// Last start per journey id, for `reentry`.
    pub starts: Vec<(String, i64)>,
    pub next_run_id: u32,
    /// Recent sends, for frequency caps.
    pub sent: Vec<SentAt>,
    pub seen: Seen,
    /// When the engine next needs `on_alarm` (the host keeps its alarm at or before this).
    pub alarm: Option<i64>,
    /// Visitors already folded into this one (absorbing twice changes nothing).
    pub merged_from: Vec<String>,
    /// Products the visitor asked to be told about ("notify me": `Product Alert Requested`),
    /// oldest first, at most [`MAX_WATCHING`]; each forgotten [`WATCH_TTL`] after it was asked.
    /// The catalog triggers (`back_in_stock`, `price_drop`) read it with the cart.
    pub watching: Vec<Watch>,
}

/// Products one visitor may watch at once (the oldest goes first).
pub const MAX_WATCHING: usize = 20;
/// How long a "notify me" lasts: long enough for a restock, not forever.
pub const WATCH_TTL: i64 = 90 * 86_400;

/// A product a visitor asked to be told about, and when.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Watch {
    pub sku: String,
    pub at: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub user_id: String,
    pub first_name: String,
    pub email: String,
    pub phone: String,
    pub push_token: String,
    pub typical_gap_days: Option<f32>,
    /// The predicted churn risk of the latest profile (none: no fit, or an order since).
    pub churn_risk: Option<ChurnRisk>,
    /// The predicted next order, unix seconds (none: no fit, or an order since).
    pub expected_next_order_at: Option<i64>,
    /// The phone number is confirmed: the store vouched for it (an identify with proof of the
    /// customer) or the number itself answered YES. Texts and WhatsApp messages go only to
    /// confirmed numbers.
    pub phone_verified: bool,
    /// The email is confirmed: the store vouched for it, or its owner followed the
    /// confirmation link. Emails go only to confirmed addresses.
    pub email_verified: bool,
    /// The customer's RFM segment from their private profile (empty: not known).
    pub segment: String,
    /// The private profile's other traits (`recency`, `frequency`, `monetary`, …), contacts
    /// left out: what journey conditions read as `traits.*`.
    pub traits: Value,
}

impl Profile {
    /// Whether `channel`'s address is confirmed (double opt-in), or needs no confirming (push
    /// tokens come from the browser's own subscription; webhooks go to the store).
    pub fn confirmed(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email_verified,
            Channel::Sms | Channel::Whatsapp => self.phone_verified,
            Channel::Push | Channel::Webhook => true,
        }
    }

    /// The owner of `address` on `channel` confirmed it (a YES text, a confirmation link).
    pub fn confirm(&mut self, channel: Channel, address: &str) {
        match channel {
            Channel::Email if self.email == address => self.email_verified = true,
            Channel::Sms | Channel::Whatsapp if self.phone == address => self.phone_verified = true,
            _ => {}
        }
    }

    /// Where a message on `channel` goes; `None` when we have no address for it. A webhook
    /// goes to the store's own endpoint: it needs no address and carries the email if known.
    /// WhatsApp goes to the same confirmed number as texts.
    pub fn address(&self, channel: Channel) -> Option<&str> {
        let a = match channel {
            Channel::Email => &self.email,
            Channel::Sms | Channel::Whatsapp => &self.phone,
            Channel::Push => &self.push_token,
            Channel::Webhook => return Some(&self.email),
        };
        (!a.is_empty()).then_some(a.as_str())
    }

    fn fill_from(&mut self, other: &Profile) {
        if self.phone.is_empty() || self.phone == other.phone {
            self.phone_verified |= other.phone_verified;
        }
        if self.email.is_empty() || self.email == other.email {
            self.email_verified |= other.email_verified;
        }
        for (mine, theirs) in [
            (&mut self.user_id, &other.user_id),
            (&mut self.first_name, &other.first_name),
            (&mut self.email, &other.email),
            (&mut self.phone, &other.phone),
            (&mut self.push_token, &other.push_token),
        ] {
            if mine.is_empty() {
                mine.clone_from(theirs);
            }
        }
        self.typical_gap_days = self.typical_gap_days.or(other.typical_gap_days);
    }
}

/// The latest answer per channel, with when it was given. No answer means no consent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Consents {
    pub email: Option<Consent>,
    pub sms: Option<Consent>,
    pub push: Option<Consent>,
    pub webhook: Option<Consent>,
    pub whatsapp: Option<Consent>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub granted: bool,
    pub at: i64,
}

impl Consents {
    fn slot(&mut self, c: Channel) -> &mut Option<Consent> {
        match c {
            Channel::Email => &mut self.email,
            Channel::Sms => &mut self.sms,
            Channel::Push => &mut self.push,
            Channel::Webhook => &mut self.webhook,
            Channel::Whatsapp => &mut self.whatsapp,
        }
    }

    pub fn get(&self, c: Channel) -> Option<Consent> {
        match c {
            Channel::Email => self.email,
            Channel::Sms => self.sms,
            Channel::Push => self.push,
            Channel::Webhook => self.webhook,
            Channel::Whatsapp => self.whatsapp,
        }
    }

    pub fn granted(&self, c: Channel) -> bool {
        self.get(c).is_some_and(|c| c.granted)
    }

    pub fn set(&mut self, c: Channel, granted: bool, at: i64) {
        *self.slot(c) = Some(Consent { granted, at });
    }

    /// Keeps, per channel, whichever answer was given last.
    fn merge(&mut self, other: &Consents) {
        for c in Channel::ALL {
            if let Some(theirs) = other.get(c) {
                let mine = self.slot(c);
                if mine.is_none_or(|m| theirs.at > m.at) {
                    *mine = Some(theirs);
                }
            }
        }
    }
}

/// A cart line as a Segment event describes it.
fn cart_line(i: &Item) -> Line {
    Line { sku: i.sku.clone(), quantity: i.quantity, name: i.name.clone(), price: i.price, image: i.image.clone(), url: i.url.clone() }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Orders {
    pub count: u32,
    pub last_at: Option<i64>,
    /// SKUs of the last order (post-purchase recommends what goes with them).
    pub last_products: Vec<String>,
    /// Order ids already counted: a re-sent Order Completed with a new messageId counts once.
    pub recent_ids: Vec<String>,
}

/// A journey in progress for this visitor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Run {
    /// Unique per visitor: part of each message's idempotency key.
    pub id: u32,
    pub journey: String,
    pub started_at: i64,
    /// Step delays count from here (see `Trigger` for what it is per journey).
    pub anchor: i64,
    /// Index of the next step to send.
    pub next_step: u32,
    /// Set when quiet hours hold the next step: it goes out then.
    pub held_until: Option<i64>,
    /// The catalog triggers: the SKUs this run is about (what came back, what got cheaper),
    /// at most [`MAX_RUN_ITEMS`]; its messages show them. Empty for the other triggers.
    pub items: Vec<String>,
    /// What the visitor did since this run's latest message (a step's `if` reads it).
    pub engaged: Engaged,
}

/// What a visitor did since a run's latest message. Cleared when the run sends another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Engaged {
    pub opened: bool,
    pub clicked: bool,
    pub purchased: bool,
}

/// What a visitor did with a message, as its channel reports it (see `rules::Engagement` for
/// what counts as an open on each channel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interaction {
    Opened,
    Clicked,
}

impl Interaction {
    /// What a journey's measurement record (`event` on `channel`) says the visitor did: the
    /// one definition of an open per channel. `Message Clicked` on any channel; `Message
    /// Opened` (an email provider's open event); `Message Delivered` of a push notification (the
    /// service worker reports it once displayed). A text's or WhatsApp message's delivery is no
    /// open: for them only a click says it was seen.
    pub fn of_record(event: &str, channel: &str) -> Option<Interaction> {
        match event {
            crate::measure::MESSAGE_CLICKED => Some(Interaction::Clicked),
            crate::measure::MESSAGE_OPENED => Some(Interaction::Opened),
            crate::measure::MESSAGE_DELIVERED if channel == Channel::Push.as_str() => Some(Interaction::Opened),
            _ => None,
        }
    }
}

/// Products one catalog run is about, at most.
pub const MAX_RUN_ITEMS: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SentAt {
    pub at: i64,
    pub journey: String,
}

/// The last [`SEEN_CAPACITY`] messageIds, as 64-bit hashes (a collision among a visitor's 512
/// most recent ids is about 1 in 10^14). Oldest forgotten first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seen(VecDeque<u64>);

impl Seen {
    /// Records `message_id`; false if it was already there.
    pub fn insert(&mut self, message_id: &str) -> bool {
        let h = crate::bundle::checksum(message_id.as_bytes());
        if self.0.contains(&h) {
            return false;
        }
        if self.0.len() >= SEEN_CAPACITY {
            self.0.pop_front();
        }
        self.0.push_back(h);
        true
    }

    pub fn contains(&self, message_id: &str) -> bool {
        self.0.contains(&crate::bundle::checksum(message_id.as_bytes()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn merge(&mut self, other: &Seen) {
        for &h in &other.0 {
            if !self.0.contains(&h) {
                if self.0.len() >= SEEN_CAPACITY {
                    self.0.pop_front();
                }
                self.0.push_back(h);
            }
        }
    }
}

impl VisitorState {
    /// What journey and step conditions (`when`) read: the visitor as this object knows them.
    /// The names mean what they mean on pages (`known`, `customer`, `segment`, `traits.*`,
    /// `cart.count`, `cart.value`, `cart.items`), plus `orders.count` and `consent.<channel>`;
    /// a page's request (`page`, `utm`, `device`) has no meaning for a message and is absent.
    pub fn attributes(&self, body: &BundleBody) -> Value {
        let catalog = &body.catalog;
        let price = |l: &Line| catalog.index_of(&l.sku).and_then(|i| catalog.get(i)).map(|p| p.price).or(l.price).unwrap_or(0.0);
        let value: f32 = self.cart.iter().map(|l| price(l) * l.quantity as f32).sum();
        let mut cart = Value::object();
        cart.set("count", self.cart.iter().map(|l| l.quantity).sum::<u32>())
            .set("value", libm::round(f64::from(value) * 100.0) / 100.0)
            .set("items", Value::Array(self.cart.iter().map(|l| Value::from(l.sku.as_str())).collect()));
        let mut orders = Value::object();
        orders.set("count", self.orders.count);
        let mut consent = Value::object();
        for c in Channel::ALL {
            consent.set(c.as_str(), self.consent.granted(c));
        }
        let p = &self.profile;
        let known = !p.user_id.is_empty();
        let mut a = Value::object();
        a.set("known", known)
            .set("customer", self.orders.count > 0 || self.orders.last_at.is_some())
            .set("segment", if p.segment.is_empty() { "New" } else { p.segment.as_str() })
            .set("traits", if matches!(p.traits, Value::Object(_)) { p.traits.clone() } else { Value::object() })
            .set("first_name", p.first_name.as_str())
            .set("cart", cart)
            .set("orders", orders)
            .set("consent", consent);
        a
    }

    /// Notes what the visitor did with a message of journey `journey`'s current run.
    pub fn engaged(&mut self, journey: &str, what: Interaction) {
        if let Some(run) = self.runs.iter_mut().find(|r| r.journey == journey) {
            run.engaged.opened = true; // a click opened it
            run.engaged.clicked |= what == Interaction::Clicked;
        }
    }
}

impl VisitorState {
    pub fn new(id: impl Into<String>) -> Self {
        VisitorState { id: id.into(), ..Default::default() }
    }

    pub fn run(&self, journey: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.journey == journey)
    }

    pub fn last_start(&self, journey: &str) -> Option<i64> {
        self.starts.iter().find(|(j, _)| j == journey).map(|&(_, t)| t)
    }

    pub(crate) fn note_start(&mut self, journey: &str, at: i64) {
        match self.starts.iter_mut().find(|(j, _)| j == journey) {
            Some(s) => s.1 = at,
            None => self.starts.push((journey.into(), at)),
        }
    }

    pub fn sent_since(&self, since: i64, journey: Option<&str>) -> usize {
        self.sent.iter().filter(|s| s.at > since && journey.is_none_or(|j| s.journey == j)).count()
    }

    pub(crate) fn note_sent(&mut self, journey: &str, at: i64) {
        self.sent.retain(|s| s.at > at - SENT_HORIZON);
        self.sent.push(SentAt { at, journey: journey.into() });
    }

    pub fn cart_add(&mut self, item: &Item) {
        self.cart.add(cart_line(item));
    }

    pub fn cart_remove(&mut self, item: &Item) {
        self.cart.remove(&item.sku, Some(item.quantity));
    }

    pub fn cart_replace(&mut self, items: &[Item]) {
        self.cart.replace(items.iter().map(cart_line));
    }

    /// "Notify me" about `sku` at `now`: watched (again, from now) until [`WATCH_TTL`] passes.
    pub fn watch(&mut self, sku: &str, now: i64) {
        self.watching.retain(|w| w.sku != sku && now - w.at < WATCH_TTL);
        self.watching.push(Watch { sku: sku.into(), at: now });
        let over = self.watching.len().saturating_sub(MAX_WATCHING);
        self.watching.drain(..over);
    }

    /// Whether the visitor watches `sku` at `now` (asked within [`WATCH_TTL`]).
    pub fn watches(&self, sku: &str, now: i64) -> bool {
        self.watching.iter().any(|w| w.sku == sku && now - w.at < WATCH_TTL)
    }

    pub fn viewed(&mut self, sku: &str) {
        self.viewed.retain(|s| s != sku);
        self.viewed.push(sku.into());
        if self.viewed.len() > MAX_VIEWED {
            self.viewed.remove(0);
        }
    }

    /// Folds another visitor's state into this one (identify: the anonymous phone visitor
    /// becomes the known customer). Facts merge; journeys are left to the runner to reconcile.
    /// False if `other` was absorbed before (then nothing changes).
    pub(crate) fn absorb_facts(&mut self, other: &VisitorState) -> bool {
        if !other.id.is_empty() {
            if self.merged_from.contains(&other.id) {
                return false;
            }
            if self.merged_from.len() >= MAX_MERGED {
                self.merged_from.remove(0);
            }
            self.merged_from.push(other.id.clone());
        }
        self.profile.fill_from(&other.profile);
        self.consent.merge(&other.consent);
        if self.utc_offset_minutes.is_none() || other.last_activity > self.last_activity {
            self.utc_offset_minutes = other.utc_offset_minutes.or(self.utc_offset_minutes);
            self.time_zone = other.time_zone.clone().or(self.time_zone.take());
        }
        self.cart.absorb(&other.cart);
        for sku in &other.viewed {
            if !self.viewed.contains(sku) {
                self.viewed.insert(0, sku.clone());
            }
        }
        self.viewed.truncate(MAX_VIEWED);
        for w in &other.watching {
            if !self.watching.iter().any(|m| m.sku == w.sku && m.at >= w.at) {
                self.watching.retain(|m| m.sku != w.sku);
                self.watching.push(w.clone());
            }
        }
        crate::sort::sort_by(&mut self.watching, |a, b| a.at.cmp(&b.at));
        let over = self.watching.len().saturating_sub(MAX_WATCHING);
        self.watching.drain(..over);
        self.last_activity = self.last_activity.max(other.last_activity);
        if other.orders.last_at > self.orders.last_at {
            self.orders.last_at = other.orders.last_at;
            self.orders.last_products.clone_from(&other.orders.last_products);
        }
        self.orders.count += other.orders.count;
        self.subscribed_at = match (self.subscribed_at, other.subscribed_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for (j, t) in &other.starts {
            if self.last_start(j).is_none_or(|mine| *t > mine) {
                self.note_start(j, *t);
            }
        }
        self.sent.extend(other.sent.iter().cloned());
        self.seen.merge(&other.seen);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_is_bounded_and_forgets_the_oldest() {
        let mut s = Seen::default();
        assert!(s.insert("m0"));
        assert!(!s.insert("m0"));
        for i in 1..=SEEN_CAPACITY {
            s.insert(&alloc::format!("m{i}"));
        }
        assert_eq!(s.len(), SEEN_CAPACITY);
        assert!(!s.contains("m0"));
        assert!(s.contains(&alloc::format!("m{SEEN_CAPACITY}")));
    }

    #[test]
    fn latest_consent_wins_on_merge() {
        let mut a = Consents::default();
        a.set(Channel::Email, true, 10);
        let mut b = Consents::default();
        b.set(Channel::Email, false, 20);
        b.set(Channel::Sms, true, 5);
        a.merge(&b);
        assert!(!a.granted(Channel::Email));
        assert!(a.granted(Channel::Sms));
    }
}
