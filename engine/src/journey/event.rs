//! Incoming events: the events of the table in `crate::events` (Segment e-commerce spec v2
//! track events, plus `identify`, `page` and `consent`), validated into typed [`Event`]s. A
//! refused event gets a [`Refusal`] that says why; a name the table does not hold is refused.
//!
//! Shapes (unknown top-level fields such as `timestamp`, `sentAt`, `integrations` are ignored):
//!
//! ```text
//! {"type":"track", "event":"Product Added", "messageId":"m1", "anonymousId":"a1", "userId":"u1"?,
//!  "properties":{"sku":"85123A" | "product_id":…, "name", "price", "quantity", "image_url", "url"},
//!  "context":{"utcOffsetMinutes":60}?}
//! Cart Viewed / Checkout Started / Order Completed: "properties":{"products":[{…}], "order_id", "total"}
//! Product Alert Requested ("notify me"): "properties":{"sku":"85123A" | "product_id":…} (at most 200 bytes)
//! {"type":"identify", "messageId", "userId", "anonymousId"?,
//!  "traits":{"email", "phone", "first_name"|"firstName", "push_token", "typical_gap_days", "last_order_at",
//!            "churn_risk": "low"|"medium"|"high", "expected_next_order": "YYYY-MM-DD"}}
//!  (the predicted traits count only from an identify naming a userId: the store's word)
//! {"type":"page", "messageId", "anonymousId", "properties":{"path"}}
//! {"type":"consent", "messageId", "anonymousId", "channels":{"email":true, "sms":false, "push":true,
//!  "webhook":true, "all":false, "personalization":true}, "push_token"?}
//!  ("granted": bool instead of channels: every channel but SMS; "personalization" is the
//!  browser's own purpose, carried for the record and never a channel)
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::civil;
use crate::events::{
    self, CART_VIEWED, CHECKOUT_STARTED, CONSENT, IDENTIFY, ORDER_COMPLETED, PAGE, PRODUCT_ADDED, PRODUCT_ALERT_REQUESTED, PRODUCT_REMOVED, PRODUCT_VIEWED,
};
use crate::rules::Channel;
use crate::value::{is_whole, Value};

/// Largest event accepted, as JSON bytes (Segment's limit).
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// Largest batch body accepted (Segment's limit).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 100;
/// Longest id (messageId, anonymousId, userId, sku) accepted.
pub const MAX_ID_LEN: usize = 200;
/// A push address: an FCM registration token (about 160 bytes) or a Web Push subscription's
/// JSON (`PushSubscription.toJSON()`, up to the edge's `webpush::MAX_SUBSCRIPTION_BYTES`).
/// Every other text field stays at 2048 bytes.
pub const MAX_PUSH_TOKEN_BYTES: usize = 4096;
const MAX_PRODUCTS: usize = 100;

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub message_id: String,
    /// Empty when the event only names a user.
    pub anonymous_id: String,
    /// Empty for anonymous visitors.
    pub user_id: String,
    /// The visitor's UTC offset in minutes east of UTC, if the event said (`context.utcOffsetMinutes`).
    pub utc_offset_minutes: Option<i32>,
    /// The visitor's IANA time zone, if the event said (`context.timezone`, as Segment's).
    pub time_zone: Option<String>,
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    ProductViewed(Item),
    ProductAdded(Item),
    ProductRemoved(Item),
    /// The cart as the site shows it, when the event lists products (else `None`).
    CartViewed(Option<Vec<Item>>),
    CheckoutStarted(Option<Vec<Item>>),
    OrderCompleted {
        order_id: String,
        products: Vec<Item>,
    },
    /// "Notify me" about this SKU: it joins the visitor's watched products (`VisitorState::watch`),
    /// which the catalog triggers read.
    ProductAlertRequested {
        sku: String,
    },
    /// A track event of the table the journeys do not read (Products Searched, Promotion
    /// Viewed, …): activity only.
    Other(&'static str),
    Identify(Traits),
    Page {
        path: String,
    },
    Consent {
        changes: Vec<(Channel, bool)>,
        push_token: Option<String>,
    },
    /// An inbound SMS or WhatsApp message (the host builds it from Twilio's webhook): STOP
    /// and friends, for the channel it came on.
    SmsReply {
        body: String,
        channel: Channel,
    },
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::ProductViewed(_) => PRODUCT_VIEWED,
            EventKind::ProductAdded(_) => PRODUCT_ADDED,
            EventKind::ProductRemoved(_) => PRODUCT_REMOVED,
            EventKind::CartViewed(_) => CART_VIEWED,
            EventKind::CheckoutStarted(_) => CHECKOUT_STARTED,
            EventKind::OrderCompleted { .. } => ORDER_COMPLETED,
            EventKind::ProductAlertRequested { .. } => PRODUCT_ALERT_REQUESTED,
            EventKind::Other(name) => name,
            EventKind::Identify(_) => IDENTIFY,
            EventKind::Page { .. } => PAGE,
            EventKind::Consent { .. } => CONSENT,
            EventKind::SmsReply { .. } => "sms reply",
        }
    }

    /// The event's row in the table (`None` for the SMS reply, which is no Segment event).
    pub fn spec(&self) -> Option<&'static events::EventSpec> {
        let name = self.name();
        events::track(name).or_else(|| events::envelope_type(name))
    }
}

/// A product as an event describes it. The catalog wins for display when it knows the SKU.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Item {
    pub sku: String,
    pub name: String,
    pub price: Option<f32>,
    pub quantity: u32,
    pub image: String,
    pub url: String,
}

/// Identify traits the journeys use; other traits are ignored (they belong to the CDP).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traits {
    pub first_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub push_token: Option<String>,
    pub typical_gap_days: Option<f32>,
    /// The customer's last order (unix seconds) as the private profile store knows it: win-back
    /// counts from it before any order is seen through events.
    pub last_order_at: Option<i64>,
    /// The predicted churn risk (profile trait `churn_risk`): `predicted_churn` starts on `high`.
    pub churn_risk: Option<ChurnRisk>,
    /// The predicted next order (profile trait `expected_next_order`, that day's midnight UTC
    /// in unix seconds): a `win_back` with `late_days` counts from it.
    pub expected_next_order_at: Option<i64>,
}

impl Traits {
    /// Fills every trait this identify did not say from `other` (the customer's private
    /// profile): what the event says wins.
    pub fn fill_from(&mut self, other: Traits) {
        let Traits { first_name, email, phone, push_token, typical_gap_days, last_order_at, churn_risk, expected_next_order_at } = other;
        self.first_name = self.first_name.take().or(first_name);
        self.email = self.email.take().or(email);
        self.phone = self.phone.take().or(phone);
        self.push_token = self.push_token.take().or(push_token);
        self.typical_gap_days = self.typical_gap_days.or(typical_gap_days);
        self.last_order_at = self.last_order_at.or(last_order_at);
        self.churn_risk = self.churn_risk.or(churn_risk);
        self.expected_next_order_at = self.expected_next_order_at.or(expected_next_order_at);
    }
}

pub use crate::predict::ChurnRisk;

/// Why an event was refused. Shown to the sender next to the event's index.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    NotJson(String),
    NotAnObject,
    TooLarge {
        bytes: usize,
    },
    Missing(&'static str),
    /// `field` holds the wrong kind of value, or an out-of-range one.
    Invalid {
        field: String,
        expected: &'static str,
    },
    UnknownType(String),
    UnknownEvent(String),
    UnknownChannel(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Refusal::NotJson(e) => write!(f, "not JSON: {e}"),
            Refusal::NotAnObject => f.write_str("an event must be a JSON object"),
            Refusal::TooLarge { bytes } => write!(f, "event is {bytes} bytes, over the {MAX_EVENT_BYTES}-byte limit"),
            Refusal::Missing(field) => write!(f, "missing {field}"),
            Refusal::Invalid { field, expected } => write!(f, "{field} must be {expected}"),
            Refusal::UnknownType(t) => write!(f, "unknown type {t:?} (expected track, {})", events::names(false).collect::<Vec<_>>().join(", ")),
            Refusal::UnknownEvent(e) => write!(f, "unknown event {e:?} (expected one of: {})", events::names(true).collect::<Vec<_>>().join(", ")),
            Refusal::UnknownChannel(c) => write!(f, "unknown consent channel {c:?} (expected email, sms, whatsapp, push, webhook, all or personalization)"),
        }
    }
}

fn invalid(field: impl Into<String>, expected: &'static str) -> Refusal {
    Refusal::Invalid { field: field.into(), expected }
}

/// An id-like field: a non-empty string (numbers are accepted and printed, as Segment does for
/// `product_id`), at most [`MAX_ID_LEN`] bytes.
fn id_at(v: &Value, path: &str) -> Result<Option<String>, Refusal> {
    match v.path(path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_ID_LEN => Ok(Some(s.clone())),
        Some(Value::Number(n)) if is_whole(*n) && n.abs() < 1e15 => Ok(Some((*n as i64).to_string())),
        Some(_) => Err(invalid(path, "a string of at most 200 bytes")),
    }
}

/// The push address of a consent event or an identify's traits: a string, empty for none.
fn push_token_at(v: &Value, path: &str) -> Result<Option<String>, Refusal> {
    match v.path(path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_PUSH_TOKEN_BYTES => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
        Some(_) => Err(invalid(path, "a string of at most 4096 bytes (an FCM token or a push subscription's JSON)")),
    }
}

fn text_at(v: &Value, path: &str) -> Result<String, Refusal> {
    match v.path(path) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.len() <= 2048 => Ok(s.clone()),
        Some(_) => Err(invalid(path, "a string of at most 2048 bytes")),
    }
}

fn number_at(v: &Value, path: &str) -> Result<Option<f64>, Refusal> {
    match v.path(path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_finite() => Ok(Some(*n)),
        Some(_) => Err(invalid(path, "a number")),
    }
}

fn item(v: &Value, at: &str) -> Result<Item, Refusal> {
    let sku = match id_at(v, "sku")? {
        Some(s) => s,
        None => {
            id_at(v, "product_id")?.ok_or(Refusal::Missing(if at.is_empty() { "properties.sku (or product_id)" } else { "products[].sku (or product_id)" }))?
        }
    };
    let field = |f: &str| if at.is_empty() { alloc::format!("properties.{f}") } else { alloc::format!("{at}.{f}") };
    let price = match number_at(v, "price").map_err(|_| invalid(field("price"), "a number"))? {
        Some(p) if !(0.0..1e9).contains(&p) => return Err(invalid(field("price"), "a price of 0 or more")),
        p => p.map(|p| p as f32),
    };
    let quantity = match number_at(v, "quantity").map_err(|_| invalid(field("quantity"), "a number"))? {
        None => 1,
        Some(q) if is_whole(q) && (1.0..=10_000.0).contains(&q) => q as u32,
        Some(_) => return Err(invalid(field("quantity"), "a whole number from 1 to 10000")),
    };
    Ok(Item { sku, name: text_at(v, "name")?, price, quantity, image: text_at(v, "image_url")?, url: text_at(v, "url")? })
}

fn products(props: &Value) -> Result<Option<Vec<Item>>, Refusal> {
    match props.path("products") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(list)) if list.len() <= MAX_PRODUCTS => {
            list.iter().enumerate().map(|(i, p)| item(p, &alloc::format!("properties.products[{i}]"))).collect::<Result<_, _>>().map(Some)
        }
        Some(_) => Err(invalid("properties.products", "an array of at most 100 products")),
    }
}

fn traits(t: &Value) -> Result<Traits, Refusal> {
    if !matches!(t, Value::Object(_) | Value::Null) {
        return Err(invalid("traits", "an object"));
    }
    let opt = |path: &str| -> Result<Option<String>, Refusal> { Ok(Some(text_at(t, path)?).filter(|s| !s.is_empty())) };
    let gap = match number_at(t, "typical_gap_days").map_err(|_| invalid("traits.typical_gap_days", "a number of days"))? {
        Some(d) if !(d > 0.0 && d < 3650.0) => return Err(invalid("traits.typical_gap_days", "a number of days between 0 and 3650")),
        d => d.map(|d| d as f32),
    };
    let last_order_at = match number_at(t, "last_order_at").map_err(|_| invalid("traits.last_order_at", "unix seconds"))? {
        Some(x) if is_whole(x) && (0.0..1e11).contains(&x) => Some(x as i64),
        Some(_) => return Err(invalid("traits.last_order_at", "whole unix seconds")),
        None => None,
    };
    let churn_risk = match opt("churn_risk")? {
        Some(r) => Some(ChurnRisk::from_name(&r).ok_or_else(|| invalid("traits.churn_risk", "\"low\", \"medium\" or \"high\""))?),
        None => None,
    };
    let expected_next_order_at = match opt("expected_next_order")? {
        Some(d) => Some(civil::parse_day_unix(&d).ok_or_else(|| invalid("traits.expected_next_order", "a day, \"YYYY-MM-DD\""))?),
        None => None,
    };
    Ok(Traits {
        first_name: opt("first_name")?.or(opt("firstName")?),
        email: opt("email")?,
        phone: opt("phone")?,
        push_token: push_token_at(t, "push_token")
            .map_err(|_| invalid("traits.push_token", "a string of at most 4096 bytes (an FCM token or a push subscription's JSON)"))?,
        typical_gap_days: gap,
        last_order_at,
        churn_risk,
        expected_next_order_at,
    })
}

/// The channels a blanket answer (`"all"`, or the SDK's banner `"granted"`) covers. A yes never
/// covers SMS or WhatsApp: messages to a phone cost the store per message and need their own
/// explicit yes (`"sms": true`, `"whatsapp": true`); a no withdraws everything.
fn blanket(granted: bool) -> impl Iterator<Item = (Channel, bool)> {
    Channel::ALL.into_iter().filter(move |c| !granted || !matches!(c, Channel::Sms | Channel::Whatsapp)).map(move |c| (c, granted))
}

/// The consent purpose that is no channel: may the site remember and personalize (the SDK's
/// `vitrine.consent({ personalization })`). The browser acts on it; journeys ignore it.
const PERSONALIZATION: &str = "personalization";

fn consent(v: &Value) -> Result<EventKind, Refusal> {
    let push_token = push_token_at(v, "push_token")?;
    // The browser SDK's banner answer (`"granted": bool`).
    if let (None, Some(granted)) = (v.path("channels"), v.path("granted")) {
        let granted = granted.as_bool().ok_or_else(|| invalid("granted", "true or false"))?;
        return Ok(EventKind::Consent { changes: blanket(granted).collect(), push_token });
    }
    let channels = v.path("channels").ok_or(Refusal::Missing("channels (or granted)"))?;
    let map = channels.as_object().ok_or_else(|| invalid("channels", "an object of channel: true/false"))?;
    let mut changes = Vec::new();
    for (name, granted) in map {
        let granted = granted.as_bool().ok_or_else(|| invalid(alloc::format!("channels.{name}"), "true or false"))?;
        if name == PERSONALIZATION {
            continue;
        } else if name == "all" {
            changes.extend(blanket(granted));
        } else {
            let c = Channel::from_name(name).ok_or_else(|| Refusal::UnknownChannel(name.clone()))?;
            changes.push((c, granted));
        }
    }
    if changes.is_empty() && !map.contains_key(PERSONALIZATION) {
        return Err(invalid("channels", "an object naming at least one channel"));
    }
    Ok(EventKind::Consent { changes, push_token })
}

fn track(name: &str, props: &Value) -> Result<EventKind, Refusal> {
    let spec = events::track(name).ok_or_else(|| Refusal::UnknownEvent(name.into()))?;
    Ok(match spec.name {
        PRODUCT_VIEWED => EventKind::ProductViewed(item(props, "")?),
        PRODUCT_ADDED => EventKind::ProductAdded(item(props, "")?),
        PRODUCT_REMOVED => EventKind::ProductRemoved(item(props, "")?),
        CART_VIEWED => EventKind::CartViewed(products(props)?),
        CHECKOUT_STARTED => EventKind::CheckoutStarted(products(props)?),
        ORDER_COMPLETED => {
            EventKind::OrderCompleted { order_id: id_at(props, "order_id")?.unwrap_or_default(), products: products(props)?.unwrap_or_default() }
        }
        PRODUCT_ALERT_REQUESTED => EventKind::ProductAlertRequested { sku: item(props, "")?.sku },
        other => EventKind::Other(other),
    })
}

/// Validates one event. `raw_len` is its size as received (JSON bytes).
pub fn parse(v: &Value, raw_len: usize) -> Result<Event, Refusal> {
    if raw_len > MAX_EVENT_BYTES {
        return Err(Refusal::TooLarge { bytes: raw_len });
    }
    if !matches!(v, Value::Object(_)) {
        return Err(Refusal::NotAnObject);
    }
    let kind_name = match v.path("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err(invalid("type", "a string")),
        None => return Err(Refusal::Missing("type")),
    };
    let message_id = id_at(v, "messageId")?.ok_or(Refusal::Missing("messageId"))?;
    let anonymous_id = id_at(v, "anonymousId")?.unwrap_or_default();
    let user_id = id_at(v, "userId")?.unwrap_or_default();
    if anonymous_id.is_empty() && user_id.is_empty() {
        return Err(Refusal::Missing("anonymousId or userId"));
    }
    let utc_offset_minutes = match number_at(v, "context.utcOffsetMinutes").map_err(|_| invalid("context.utcOffsetMinutes", "a number"))? {
        None => None,
        Some(m) if is_whole(m) && (-720.0..=840.0).contains(&m) => Some(m as i32),
        Some(_) => return Err(invalid("context.utcOffsetMinutes", "whole minutes east of UTC, -720 to 840")),
    };
    let time_zone = match v.path("context.timezone") {
        None | Some(Value::Null) => None,
        Some(Value::String(z)) if crate::zones::is_zone_name(z) => Some(z.clone()),
        Some(_) => return Err(invalid("context.timezone", "an IANA time zone name, e.g. \"Europe/London\"")),
    };
    let props = v.path("properties").cloned().unwrap_or_else(Value::object);
    if !matches!(props, Value::Object(_)) {
        return Err(invalid("properties", "an object"));
    }
    let kind = match kind_name {
        "track" => match v.path("event") {
            Some(Value::String(name)) => track(name, &props)?,
            Some(_) => return Err(invalid("event", "a string")),
            None => return Err(Refusal::Missing("event")),
        },
        IDENTIFY => EventKind::Identify(traits(v.path("traits").unwrap_or(&Value::Null))?),
        PAGE => {
            let path = text_at(&props, "path")?;
            EventKind::Page { path: if path.is_empty() { text_at(v, "context.page.path")? } else { path } }
        }
        CONSENT => consent(v)?,
        other => return Err(Refusal::UnknownType(other.into())),
    };
    Ok(Event { message_id, anonymous_id, user_id, utc_offset_minutes, time_zone, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn parses_a_product_added() {
        let e = parse(&json(r#"{"type":"track","event":"Product Added","messageId":"m1","anonymousId":"a1","properties":{"product_id":85123,"price":2.55,"quantity":2},"context":{"utcOffsetMinutes":60}}"#), 10).unwrap();
        assert_eq!(e.utc_offset_minutes, Some(60));
        assert_eq!(e.kind, EventKind::ProductAdded(Item { sku: "85123".into(), price: Some(2.55), quantity: 2, ..Item::default() }));
    }

    #[test]
    fn a_blanket_yes_never_grants_sms_and_a_blanket_no_withdraws_it() {
        let changes = |text: &str| match parse(&json(text), 0).unwrap().kind {
            EventKind::Consent { changes, .. } => changes,
            other => panic!("{other:?}"),
        };
        let all_yes = changes(r#"{"type":"consent","messageId":"m","anonymousId":"a","channels":{"all":true}}"#);
        let phone = |c: &Channel| matches!(c, Channel::Sms | Channel::Whatsapp);
        assert!(all_yes.iter().all(|(c, g)| *g && !phone(c)) && all_yes.len() == Channel::ALL.len() - 2, "{all_yes:?}");
        assert!(!changes(r#"{"type":"consent","messageId":"m","anonymousId":"a","granted":true}"#).iter().any(|(c, _)| phone(c)));
        assert_eq!(
            changes(r#"{"type":"consent","messageId":"m","anonymousId":"a","channels":{"whatsapp":true}}"#),
            [(Channel::Whatsapp, true)],
            "WhatsApp takes its own yes, and only it"
        );
        assert!(changes(r#"{"type":"consent","messageId":"m","anonymousId":"a","granted":false}"#).contains(&(Channel::Whatsapp, false)), "a no covers it");
        assert!(
            changes(r#"{"type":"consent","messageId":"m","anonymousId":"a","channels":{"all":true,"sms":true}}"#).contains(&(Channel::Sms, true)),
            "its own yes"
        );
        assert!(changes(r#"{"type":"consent","messageId":"m","anonymousId":"a","granted":false}"#).contains(&(Channel::Sms, false)), "a no covers SMS");
    }

    #[test]
    fn consent_per_purpose_changes_only_the_channels_it_names() {
        let changes = |text: &str| match parse(&json(text), 0).unwrap().kind {
            EventKind::Consent { changes, .. } => changes,
            other => panic!("{other:?}"),
        };
        let given = r#"{"type":"consent","messageId":"m","anonymousId":"a","channels":{"personalization":true,"email":true,"sms":false}}"#;
        assert_eq!(changes(given), [(Channel::Email, true), (Channel::Sms, false)]);
        assert_eq!(changes(r#"{"type":"consent","messageId":"m","anonymousId":"a","channels":{"personalization":false}}"#), [], "no channel changes");
    }

    #[test]
    fn accepts_every_event_of_the_table_and_only_those() {
        for spec in events::EVENTS {
            let json_text = if spec.track {
                alloc::format!(
                    r#"{{"type":"track","event":"{}","messageId":"m","anonymousId":"a","properties":{{"sku":"S1"}},"channels":{{"all":true}}}}"#,
                    spec.name
                )
            } else {
                alloc::format!(r#"{{"type":"{}","messageId":"m","anonymousId":"a","properties":{{"sku":"S1"}},"channels":{{"all":true}}}}"#, spec.name)
            };
            let e = parse(&json(&json_text), json_text.len()).unwrap_or_else(|r| panic!("{}: {r}", spec.name));
            assert_eq!(e.kind.name(), spec.name);
            assert_eq!(spec.journeys, !matches!(e.kind, EventKind::Other(_) | EventKind::Page { .. }), "{}: journeys column", spec.name);
        }
        let refused = parse(&json(r#"{"type":"track","event":"Product Category Viewed","messageId":"m","anonymousId":"a"}"#), 10).unwrap_err().to_string();
        assert!(refused.contains("Product Clicked, Product List Viewed"), "{refused}");
        let refused = parse(&json(r#"{"type":"screen","messageId":"m","anonymousId":"a"}"#), 10).unwrap_err().to_string();
        assert_eq!(refused, r#"unknown type "screen" (expected track, page, identify, consent)"#);
    }

    #[test]
    fn a_push_token_may_be_a_subscriptions_json_up_to_4096_bytes_and_no_other_field_grows() {
        let subscription = alloc::format!(r#"{{"endpoint":"https://push.example.net/{}","keys":{{"p256dh":"B","auth":"A"}}}}"#, "e".repeat(2500));
        let quoted = serde_json::to_string(&subscription).unwrap();
        let consent = alloc::format!(r#"{{"type":"consent","messageId":"m","anonymousId":"a","channels":{{"push":true}},"push_token":{quoted}}}"#);
        let EventKind::Consent { push_token, .. } = parse(&json(&consent), consent.len()).unwrap().kind else { panic!("a consent") };
        assert_eq!(push_token.as_deref(), Some(subscription.as_str()));
        let identify = alloc::format!(r#"{{"type":"identify","messageId":"m","anonymousId":"a","traits":{{"push_token":{quoted}}}}}"#);
        let EventKind::Identify(t) = parse(&json(&identify), identify.len()).unwrap().kind else { panic!("an identify") };
        assert_eq!(t.push_token.as_deref(), Some(subscription.as_str()));

        let long = serde_json::to_string(&"t".repeat(MAX_PUSH_TOKEN_BYTES + 1)).unwrap();
        let refuse = |s: &str| parse(&json(s), s.len()).unwrap_err().to_string();
        let over = alloc::format!(r#"{{"type":"identify","messageId":"m","anonymousId":"a","traits":{{"push_token":{long}}}}}"#);
        assert!(refuse(&over).starts_with("traits.push_token must be a string of at most 4096 bytes"), "{}", refuse(&over));
        let over = alloc::format!(r#"{{"type":"consent","messageId":"m","anonymousId":"a","channels":{{"push":true}},"push_token":{long}}}"#);
        assert!(refuse(&over).starts_with("push_token must be a string of at most 4096 bytes"), "{}", refuse(&over));
        // Other text fields keep their 2048 bytes.
        let name = serde_json::to_string(&"n".repeat(2049)).unwrap();
        let over = alloc::format!(r#"{{"type":"identify","messageId":"m","anonymousId":"a","traits":{{"first_name":{name}}}}}"#);
        assert!(refuse(&over).starts_with("first_name must be a string of at most 2048 bytes"), "{}", refuse(&over));
    }

    #[test]
    fn a_product_alert_names_one_bounded_sku() {
        let alert = |props: &str| {
            let text = alloc::format!(r#"{{"type":"track","event":"Product Alert Requested","messageId":"m","anonymousId":"a","properties":{props}}}"#);
            parse(&json(&text), text.len()).map(|e| e.kind).map_err(|r| r.to_string())
        };
        assert_eq!(alert(r#"{"sku":"85123A"}"#), Ok(EventKind::ProductAlertRequested { sku: "85123A".into() }));
        assert_eq!(alert(r#"{"product_id":22423}"#), Ok(EventKind::ProductAlertRequested { sku: "22423".into() }));
        assert_eq!(alert("{}"), Err("missing properties.sku (or product_id)".into()));
        let long = alloc::format!(r#"{{"sku":"{}"}}"#, "s".repeat(MAX_ID_LEN + 1));
        assert_eq!(alert(&long), Err("sku must be a string of at most 200 bytes".into()));
        assert_eq!(alert(r#"{"sku":["a"]}"#), Err("sku must be a string of at most 200 bytes".into()));
    }

    #[test]
    fn refuses_with_a_reason() {
        let refuse = |s: &str| parse(&json(s), s.len()).unwrap_err().to_string();
        assert_eq!(refuse(r#"{"type":"track","event":"Foo","messageId":"m","anonymousId":"a"}"#).split(" (").next().unwrap(), r#"unknown event "Foo""#);
        assert_eq!(refuse(r#"{"type":"track","event":"Product Added","anonymousId":"a"}"#), "missing messageId");
        assert_eq!(refuse(r#"{"type":"track","event":"Product Added","messageId":"m"}"#), "missing anonymousId or userId");
        assert_eq!(
            refuse(r#"{"type":"track","event":"Product Added","messageId":"m","anonymousId":"a","properties":{}}"#),
            "missing properties.sku (or product_id)"
        );
        assert_eq!(
            refuse(r#"{"type":"track","event":"Product Added","messageId":"m","anonymousId":"a","properties":{"sku":"x","quantity":-1}}"#),
            "properties.quantity must be a whole number from 1 to 10000"
        );
        assert_eq!(
            refuse(r#"{"type":"consent","messageId":"m","anonymousId":"a","channels":{"fax":true}}"#).split(" (").next().unwrap(),
            r#"unknown consent channel "fax""#
        );
        assert_eq!(refuse(r#"[1]"#), "an event must be a JSON object");
        assert_eq!(parse(&Value::object(), MAX_EVENT_BYTES + 1).unwrap_err(), Refusal::TooLarge { bytes: MAX_EVENT_BYTES + 1 });
    }
}
