//! Journeys: per-visitor state machines, (state, event, now) -> (state, effects).
//! (Filled in by the journeys work; the types here are what the bundle stores.)

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// A follow-up journey declared in the config (`[[journeys]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journey {
    pub id: String,
    #[serde(default)]
    pub steps: Vec<String>,
}

/// Messaging rules shared by all journeys (`[messaging]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messaging {
    #[serde(default)]
    pub max_per_day: u32,
}
