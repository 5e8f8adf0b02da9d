//! Journey configuration: `[[journeys]]` and `[messaging]` in `vitrine.toml`, stored in the
//! bundle in the layout listed in `wire.rs`. The journeys themselves run in `journey/`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::time::{ClockTime, Secs, DAY};
use crate::value::Value;

/// What starts a journey, and so what it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Items in the cart, then silence. Steps count from the visitor's last activity; ended by
    /// an order (on any device of the same customer) or an emptied cart.
    CartAbandonment,
    /// Products viewed, nothing added. Steps count from the last product view; ended by an
    /// add to cart or an order.
    BrowseAbandonment,
    /// An order. Steps count from the order; messages show what goes with what was bought.
    PostPurchase,
    /// The visitor's first consent to any channel. Steps count from that moment.
    Welcome,
    /// A known customer's typical gap between orders (trait `typical_gap_days`, times
    /// `gap_factor`) has passed since their last order; with `late_days`, their predicted next
    /// order (trait `expected_next_order`) is that many days late, where the profile has one.
    /// Steps count from that moment; any new order restarts the clock.
    WinBack,
    /// A product the visitor carted or asked to be told about is in stock again, as a newly
    /// published bundle or catalog patch says. Steps count from the publish; ended by an order.
    BackInStock,
    /// A product the visitor carted or asked to be told about costs at least
    /// `min_drop_percent` less, as a newly published bundle or catalog patch says. Steps count
    /// from the publish; ended by an order.
    PriceDrop,
    /// A known customer's predicted churn risk (profile trait `churn_risk`) is `high`, as
    /// their profile says when it arrives (an identify with proof, the profile loaded) or is
    /// updated. Steps count from that moment; ended by an order. Once per churn episode: it
    /// starts again only after an order.
    // Last: wire tags keep their order.
    PredictedChurn,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::CartAbandonment => "cart_abandonment",
            Trigger::BrowseAbandonment => "browse_abandonment",
            Trigger::PostPurchase => "post_purchase",
            Trigger::Welcome => "welcome",
            Trigger::WinBack => "win_back",
            Trigger::BackInStock => "back_in_stock",
            Trigger::PriceDrop => "price_drop",
            Trigger::PredictedChurn => "predicted_churn",
        }
    }
}

/// Where a message goes. Each needs the visitor's consent to that channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    #[default]
    Email,
    Sms,
    Push,
    /// The store's own endpoint (a CRM, an ESP it already uses), signed with HMAC.
    Webhook,
    /// WhatsApp through Twilio, to the visitor's confirmed phone number: business-initiated
    /// messages are approved templates (`template`, `variables`). Last: wire tags keep their order.
    Whatsapp,
}

impl Channel {
    pub const ALL: [Channel; 5] = [Channel::Email, Channel::Sms, Channel::Push, Channel::Webhook, Channel::Whatsapp];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Push => "push",
            Channel::Webhook => "webhook",
            Channel::Whatsapp => "whatsapp",
        }
    }

    pub fn from_name(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn three() -> u32 {
    3
}
fn one() -> f32 {
    1.0
}
/// The latest a `win_back` may wait after the expected next order (`late_days`): a year late is
/// a customer the prediction has already lost.
pub const MAX_LATE_DAYS: u32 = 365;
/// A `price_drop` journey's `min_drop_percent` when the config does not say.
pub const DEFAULT_MIN_DROP_PERCENT: f32 = 10.0;
fn ten() -> f32 {
    DEFAULT_MIN_DROP_PERCENT
}
fn always() -> Value {
    Value::object()
}

/// What a step can require of the visitor's engagement since the journey's previous message
/// (`if = "not_clicked"`); the step is skipped otherwise. "Opened" per channel: an email's
/// provider open event, a push notification the service worker displayed; texts and WhatsApp
/// report delivery only, so for them only a click says the message was seen. A click counts as
/// an open on every channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Engagement {
    NotOpened,
    NotClicked,
    NotPurchased,
}

impl Engagement {
    pub fn as_str(self) -> &'static str {
        match self {
            Engagement::NotOpened => "not_opened",
            Engagement::NotClicked => "not_clicked",
            Engagement::NotPurchased => "not_purchased",
        }
    }
}

/// A follow-up journey declared in the config (`[[journeys]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Journey {
    pub id: String,
    pub trigger: Trigger,
    /// Least time between two starts of this journey for one visitor ("0s": no limit).
    /// Not used by `win_back`, whose clock restarts with every order.
    #[serde(default)]
    pub reentry: Secs,
    /// At most this many messages from this journey per visitor per rolling 24 h (0: no
    /// journey-specific cap; `[messaging] max_per_day` still applies).
    #[serde(default)]
    pub max_per_day: u32,
    /// `win_back` only: the customer's typical gap is multiplied by this.
    #[serde(default = "one")]
    pub gap_factor: f32,
    /// `win_back` only: time it from the prediction instead, this many days after the
    /// customer's expected next order (profile trait `expected_next_order`). Customers without
    /// a prediction keep the typical gap × `gap_factor`. Unset: the typical gap for everyone.
    #[serde(default)]
    pub late_days: Option<u32>,
    pub steps: Vec<Step>,
    /// Who may enter: a GrowthBook condition on the visitor's journey attributes (`segment`,
    /// `known`, `customer`, `orders.count`, `cart.count`, `cart.value`, `traits.*`; the README
    /// lists them), checked when the journey would start. Empty: everyone.
    #[serde(default = "always")]
    pub when: Value,
    /// `price_drop` only: the least drop that starts it, in percent of the old price.
    #[serde(default = "ten")]
    pub min_drop_percent: f32,
}

/// One message of a journey (`[[journeys.steps]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Delay from the journey's anchor (see [`Trigger`]), not from the previous step, so
    /// "push 1h, SMS 24h, email 48h" reads as written.
    pub after: Secs,
    pub channel: Channel,
    /// Email subject, push title. Tokens allowed.
    #[serde(default)]
    pub subject: String,
    /// Plain text: the SMS, the push body, the email's text part. Tokens allowed. WhatsApp: what
    /// the template's text (what `simulate` and `inspect` show); the template is what is sent.
    pub body: String,
    /// Email HTML. Empty: built from `body` with product cards (image, title, price).
    #[serde(default)]
    pub html: String,
    /// An offer id from `[[offers]]`: its code goes in the message, its landing page behind the
    /// link. Empty: no offer.
    #[serde(default)]
    pub offer: String,
    /// How many products the message shows.
    #[serde(default = "three")]
    pub products: u32,
    /// Path the deep link opens (`?vt=<signed token>` is appended), e.g. "/cart". Empty:
    /// `[messaging] landing_path`. Any page of the store shows the promised offer.
    #[serde(default)]
    pub landing: String,
    /// A local time of day the message waits for once it is due (`"10:00"`: the first 10:00 in
    /// the visitor's time zone after `after`). Unset: it goes when due.
    #[serde(default)]
    pub at: Option<ClockTime>,
    /// WhatsApp only: the approved template's Content SID (`HX` and 32 hex digits, from
    /// Twilio's Content Template Builder). Business-initiated WhatsApp messages must be templates.
    #[serde(default)]
    pub template: String,
    /// WhatsApp only: the template's variables `{{1}}`, `{{2}}`, … in order, tokens allowed
    /// (`"{first_name}"`, `"{offer_code}"`, `"{link}"`), rendered as the SMS text's are.
    #[serde(default)]
    pub variables: Vec<String>,
    /// Sent only if the visitor did not engage since the journey's previous message
    /// (`"not_opened"`, `"not_clicked"`, `"not_purchased"`); skipped otherwise. Unset: always.
    #[serde(default, rename = "if")]
    pub only_if: Option<Engagement>,
    /// Sent only to visitors matching this GrowthBook condition (the journey attributes, as
    /// the journey's `when`) when the step is due; skipped otherwise. Empty: everyone.
    #[serde(default = "always")]
    pub when: Value,
}

/// A WhatsApp template's Content SID: `HX` and 32 lowercase hex digits.
pub fn is_content_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("HX") && sid[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The numbered placeholders (`{{1}}`, `{{2}}`, …) of a WhatsApp template's text, in order of
/// appearance (repeats kept). Named tags (`{{first_name}}`) are not placeholders.
pub fn template_placeholders(text: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find("}}") else { break };
        let inner = rest[..end].trim();
        if !inner.is_empty() && inner.len() <= 3 && inner.bytes().all(|b| b.is_ascii_digit()) {
            found.push(inner.parse().unwrap_or(0));
            rest = &rest[end + 2..];
        }
    }
    found
}

/// The template's text with `{{n}}` replaced by `values[n - 1]` (what the visitor reads; a
/// placeholder without a value is left as written).
pub fn fill_placeholders(text: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find("}}").and_then(|end| {
            let n: usize = after[..end].trim().parse().ok()?;
            Some((values.get(n.checked_sub(1)?)?, end))
        });
        match value {
            Some((v, end)) => {
                out.push_str(v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The most variables a WhatsApp step may fill (Twilio's ContentVariables are `"1"`…; templates
/// with more are rare and each one is a field the visitor reads).
pub const MAX_TEMPLATE_VARIABLES: usize = 10;

/// Quiet hours in the visitor's local time: a message due inside is held until `end`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub start: ClockTime,
    pub end: ClockTime,
}

impl QuietHours {
    /// Seconds until quiet hours end, if `local_second` (seconds after local midnight) is inside.
    pub fn remaining(&self, local_second: i64) -> Option<i64> {
        let (s, e, minute) = (self.start.minutes(), self.end.minutes(), local_second / 60);
        let inside = if s <= e { (s..e).contains(&minute) } else { minute >= s || minute < e };
        inside.then(|| (e * 60 - local_second).rem_euclid(DAY))
    }
}

/// Messaging rules shared by all journeys (`[messaging]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Messaging {
    /// At most this many messages per visitor per rolling 24 h, all journeys (0: no cap).
    #[serde(default)]
    pub max_per_day: u32,
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// The store's IANA time zone (`"Europe/London"`), for visitors whose events never said
    /// theirs (Segment's `context.timezone`) nor their UTC offset. Empty: `default_utc_offset_minutes`.
    #[serde(default)]
    pub default_time_zone: String,
    /// For visitors whose events never said their time zone or UTC offset, when
    /// `default_time_zone` is empty (minutes east of UTC).
    #[serde(default)]
    pub default_utc_offset_minutes: i32,
    /// Default path deep links open (`?vt=<signed token>` is appended); steps may override.
    #[serde(default = "landing_path")]
    pub landing_path: String,
    /// Path of the one-click unsubscribe link in emails.
    #[serde(default = "unsubscribe_path")]
    pub unsubscribe_path: String,
    /// How long a deep link's offer stays valid.
    #[serde(default = "link_ttl")]
    pub link_ttl: Secs,
    /// The name used when a visitor's first name is unknown ("Hi there").
    #[serde(default = "there")]
    pub fallback_first_name: String,
}

fn landing_path() -> String {
    "/".into()
}
fn unsubscribe_path() -> String {
    "/v1/unsubscribe".into()
}
fn link_ttl() -> Secs {
    Secs(30 * DAY)
}
fn there() -> String {
    "there".into()
}

impl Default for Messaging {
    fn default() -> Self {
        Messaging {
            max_per_day: 0,
            quiet_hours: None,
            default_time_zone: String::new(),
            default_utc_offset_minutes: 0,
            landing_path: landing_path(),
            unsubscribe_path: unsubscribe_path(),
            link_ttl: link_ttl(),
            fallback_first_name: there(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_templates_number_their_placeholders() {
        assert!(is_content_sid("HXb5b62575e6e4ff6129ad7c8efe1f983e"));
        for bad in ["", "HX123", "MGb5b62575e6e4ff6129ad7c8efe1f983e", "HXB5B62575E6E4FF6129AD7C8EFE1F983E", "HXb5b62575e6e4ff6129ad7c8efe1f983e0"] {
            assert!(!is_content_sid(bad), "{bad}");
        }
        let text = "Hi {{1}}, your cart waits: {{ 2 }} ({{first_name}}) {{2}} {{3";
        assert_eq!(template_placeholders(text), [1, 2, 2]);
        let values = [String::from("Jane"), String::from("CART10")];
        assert_eq!(fill_placeholders(text, &values), "Hi Jane, your cart waits: CART10 ({{first_name}}) CART10 {{3");
        assert_eq!(fill_placeholders("{{4}} {{0}}", &values), "{{4}} {{0}}");
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let q = QuietHours { start: ClockTime(21 * 60), end: ClockTime(8 * 60) };
        let at = |h: i64, m: i64| (h * 60 + m) * 60;
        assert_eq!(q.remaining(at(22, 0)), Some(10 * 3600));
        assert_eq!(q.remaining(at(7, 30) + 15), Some(30 * 60 - 15));
        assert_eq!(q.remaining(at(8, 0)), None);
        assert_eq!(q.remaining(at(12, 0)), None);
        let day = QuietHours { start: ClockTime(12 * 60), end: ClockTime(14 * 60) };
        assert_eq!(day.remaining(at(13, 0)), Some(3600));
        assert_eq!(day.remaining(at(14, 0)), None);
    }
}
