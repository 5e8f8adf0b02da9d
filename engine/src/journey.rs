//! Journeys: per-visitor state machines that turn events into follow-up messages.
//!
//! Sans-IO, like the rest of the engine: the host (the edge worker's per-visitor Durable
//! Object, `model-builder simulate`, tests) owns a [`VisitorState`], feeds it validated events
//! with [`Runner::handle`] and alarms with [`Runner::on_alarm`], persists the state and carries
//! out the returned [`Effect`]s (send a message, set the alarm, log a record).
//!
//! ```text
//! POST /v1/events -> event::parse -> Runner::handle(state, event, now) -> [Record, SetAlarm]
//! alarm            -> Runner::on_alarm(state, now) -> [Send(message), Record(Held/Skipped/Ended), SetAlarm]
//! identify         -> Runner::absorb(customer, anonymous, now): one cart, one set of journeys
//! publish          -> catalog_changes(previous, new) -> Runner::catalog_changed(state, build, changes, now)
//! ```
//!
//! Config (`[[journeys]]`, `[messaging]`) is part of the rules (`rules/journeys.rs`), re-exported
//! here, and checked by `Rules::check`; what each trigger means is on
//! [`Trigger`]; rules at send time, in order: consent to the channel, an address for it, quiet
//! hours in the visitor's local time (hold until they end), the daily caps (skip).

use alloc::string::String;
use alloc::vec::Vec;

mod effect;
pub mod event;
mod message;
mod runner;
mod state;

pub use crate::rules::{Channel, Engagement, Journey, Messaging, QuietHours, Step, Trigger};
pub use crate::time::{ClockTime, Secs, DAY, HOUR, MINUTE};
pub use effect::{Effect, EndReason, Message, Record, SkipReason};
pub use event::{parse, ChurnRisk, Event, EventKind, Item, Refusal, Traits};
pub use message::{pick_products, LinkClaims, CLICK_PATH};
pub use runner::catalog::{catalog_changes, CatalogChange, Change};
pub use runner::{bucketing_unit, sms_keyword, Runner};
pub use state::{Consent, Consents, Engaged, Interaction, Orders, Profile, Run, Seen, SentAt, VisitorState, Watch, MAX_WATCHING, WATCH_TTL};

/// The journeys and messaging part of [`Rules::check`](crate::rules::Rules::check), as
/// `key: message` lines, e.g. `journeys[1].steps[2].offer: unknown offer "vip20"`.
pub fn check(rules: &crate::rules::Rules) -> Vec<String> {
    crate::rules::journey_problems(rules).into_iter().map(|p| [p.key, p.message].join(": ")).collect()
}
