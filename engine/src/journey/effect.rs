//! What the runner asks the host to do: effects are values, carried out by the host.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::rules::Channel;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// Deliver this message (through the channel's provider), once: dedupe on its key.
    Send(Box<Message>),
    /// Call `on_alarm` at this time (unix seconds). Replaces any earlier alarm.
    SetAlarm(i64),
    /// Nothing is scheduled any more.
    ClearAlarm,
    /// Something worth logging happened (a journey started, ended, a message was held…).
    Record(Record),
}

/// A rendered message, ready for a delivery adapter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Message {
    /// The visitor's host key (`u:…` / `a:…`).
    pub visitor: String,
    pub journey: String,
    /// Index of the step in the journey's `steps`.
    pub step: u32,
    pub channel: Channel,
    /// Email address, phone number (E.164) or push token; for webhooks the email, if known.
    pub to: String,
    pub first_name: String,
    /// Email subject / push title.
    pub subject: String,
    /// Plain text: SMS, push body, the email's text part.
    pub text: String,
    /// The email's HTML part (empty for other channels).
    pub html: String,
    /// Deep link to the landing page showing the same offer and products (signed `vt` token).
    pub link: String,
    /// One-click unsubscribe for this channel (signed too).
    pub unsubscribe: String,
    /// First product's image, for push notifications.
    pub image: String,
    pub offer_id: String,
    pub offer_code: String,
    pub products: Vec<String>,
    /// Stable across retries and restarts: providers and receivers dedupe on it.
    pub idempotency_key: String,
    /// When the engine decided to send it (unix seconds).
    pub created_at: i64,
    /// WhatsApp: the approved template's Content SID (empty for other channels).
    pub template: String,
    /// WhatsApp: the template's variables `{{1}}`, `{{2}}`, …, rendered for this visitor.
    pub variables: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Record {
    /// The event's messageId was seen before: nothing changed.
    Duplicate {
        message_id: String,
    },
    Started {
        journey: String,
        run: u32,
    },
    Ended {
        journey: String,
        run: u32,
        reason: EndReason,
    },
    /// Quiet hours: the step goes out at `until` instead.
    Held {
        journey: String,
        step: u32,
        until: i64,
    },
    /// The step was not sent and the journey moved on.
    Skipped {
        journey: String,
        step: u32,
        channel: Channel,
        reason: SkipReason,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndReason {
    /// Every step is done.
    Completed,
    OrderCompleted,
    CartEmptied,
    AddedToCart,
    /// The visitor withdrew consent from every channel the remaining steps use.
    ConsentRevoked,
    /// A newer run of the same journey replaced it (a new order for post-purchase).
    Replaced,
    /// The journey is no longer in the config.
    JourneyRemoved,
    /// A `predicted_churn` run: a newer profile says the customer's churn risk is no longer high.
    RiskLowered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkipReason {
    NoConsent,
    NoAddress,
    /// The address has not confirmed yet (double opt-in: a YES text, a confirmation link).
    Unconfirmed,
    DailyCap,
    JourneyCap,
    /// The visitor is in the global holdout (`[measurement] holdout_journeys`): measured as
    /// entered, never sent.
    Holdout,
    /// The visitor's arm of the journey's experiment sends nothing (`send = false`).
    ExperimentArm,
    /// The step is for visitors who did not open (`if = "not_opened"`), and they did.
    Opened,
    /// The step is for visitors who did not click (`if = "not_clicked"`), and they did.
    Clicked,
    /// The step is for visitors who did not buy (`if = "not_purchased"`), and they did.
    Purchased,
    /// The visitor does not match the step's `when`.
    NotTargeted,
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            EndReason::Completed => "all steps done",
            EndReason::OrderCompleted => "order completed",
            EndReason::CartEmptied => "cart emptied",
            EndReason::AddedToCart => "added to cart",
            EndReason::ConsentRevoked => "consent revoked",
            EndReason::Replaced => "replaced by a new run",
            EndReason::JourneyRemoved => "journey removed from the config",
            EndReason::RiskLowered => "churn risk no longer high",
        })
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            SkipReason::NoConsent => "no consent for the channel",
            SkipReason::NoAddress => "no address for the channel",
            SkipReason::Unconfirmed => "the address has not confirmed yet",
            SkipReason::DailyCap => "daily message cap reached",
            SkipReason::JourneyCap => "journey's daily cap reached",
            SkipReason::Holdout => "the visitor is in the holdout: nothing is sent",
            SkipReason::ExperimentArm => "the visitor's experiment arm sends nothing",
            SkipReason::Opened => "the visitor opened the journey's previous message",
            SkipReason::Clicked => "the visitor clicked the journey's previous message",
            SkipReason::Purchased => "the visitor ordered since the journey's previous message",
            SkipReason::NotTargeted => "the visitor does not match the step's when",
        })
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Record::Duplicate { message_id } => write!(f, "duplicate event {message_id:?} ignored"),
            Record::Started { journey, run } => write!(f, "journey {journey} started (run {run})"),
            Record::Ended { journey, run, reason } => write!(f, "journey {journey} ended (run {run}): {reason}"),
            Record::Held { journey, step, until } => write!(f, "journey {journey} step {step} held for quiet hours until {until}"),
            Record::Skipped { journey, step, channel, reason } => write!(f, "journey {journey} step {step} ({channel}) skipped: {reason}"),
        }
    }
}
