//! Vitrine's engine: the whole decision logic, pure.
//!
//! No I/O, no clock, no randomness, no threads: time and ids come in as arguments, effects go
//! out as values. Compiles for the host and for wasm32; the edge worker, the browser SDK and the
//! model builder all link it. See ARCHITECTURE.md for the map.
//!
//! # What hosts use
//!
//! What every host needs is named at the crate root: [`Engine`] and what it answers
//! ([`Decision`], [`OfferDecision`], [`Status`], [`Explain`], …), the [`Visitor`] it decides
//! for, [`Value`] and its [`Map`], [`Condition`], and the text helpers hosts share so that
//! every host writes the same words ([`slug`], [`escape`], [`format_price`], [`two_decimals`],
//! [`push_int`], [`push_hex`], [`percent_decode`]: no `core::fmt` in the browser).
//!
//! A few modules are public because each is a namespace hosts work in, not a helper:
//! - [`bundle`]: the bundle file, its header and what its body holds (the builder writes it,
//!   hosts decode and inspect it, tests build fixtures of it).
//! - [`rules`]: the config's rules sections as types, and [`rules::Rules::check`], which the
//!   builder and [`Engine::load`] both run.
//! - [`context`]: the visitor's context, as hosts build it for a decision.
//! - [`cart`]: the one cart model (SKU and quantity lines, their add/remove rules and bounds)
//!   the edge, the SDK's session and the journeys all keep.
//! - [`cookies`]: the cookies edge and SDK share (names, the Cookie-header reader, the cart and
//!   interests codecs, the profile's claims), one definition for both.
//! - [`events`]: the event table, which events exist and per event who uses them and what
//!   proof of identity they need; every host takes event names from it.
//! - [`journey`]: the sans-IO journey runner the edge's Durable Object and the builder's
//!   `simulate` drive, with its events and effects.
//! - [`recommend`]: the one blend of weighted sources, which the builder's offline eval runs
//!   on its own shoppers so that it measures what visitors are served.
//! - [`token`]: signed cookies and deep-link tokens (the edge signs, the SDK reads).
//! - [`base64`]: the codec tokens use, shared with the edge's provider requests.
//! - [`civil`]: civil dates (days ↔ year-month-day, `YYYY-MM-DD`, ISO 8601 timestamps), one
//!   calendar for the SDK's events, the edge's profile traits and the builder's reports.
//! - [`measure`]: the measurement records the edge stores and `model-builder report` reads.
//! - [`hashing`]: GrowthBook's bucketing, tested from outside against GrowthBook's own cases
//!   like any other SDK's.
//!
//! Everything else (`decide`, `pages`, `condition`, `render`, `text`, `value`, `wire`, `host`,
//! `sort`, `time`, `body`) is private: its host-facing items are re-exported here or in a
//! namespace above.
//!
//! Modules import one another in one direction only, bottom up: `text`, `value`, `host`,
//! `sort`, `base64`, `hashing`, `events`, `civil` (leaves); `time`, `condition`, `render`, `token`;
//! `rules`; `body`; `wire`, `bundle`, `context`, `recommend`; `cart`, `cookies`; `pages`, `journey`;
//! `merchandise`; `decide`; `measure` (exposures from decisions).

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod base64;
mod body;
pub mod bundle;
pub mod cart;
pub mod civil;
pub mod codes;
mod condition;
pub mod context;
pub mod cookies;
mod decide;
pub mod events;
pub mod hashing;
mod host;
pub mod journey;
pub mod measure;
mod merchandise;
mod pages;
pub mod predict;
pub mod recommend;
mod render;
pub mod rfm;
pub mod rules;
#[cfg(feature = "schema")]
mod schema;
mod slice;
mod sort;
mod text;
mod time;
pub mod token;
mod value;
mod wire;
pub mod zones;

pub use bundle::{Bundle, BundleBody, BundleError, CategoryIdx, ProductIdx};
pub use condition::{Condition, ConditionError, Groups};
pub use context::Visitor;
pub use decide::{DecideError, DecidedItem, Decision, Engine, ExperimentArm, Explain, LoadError, OfferDecision, RuleInput, SourceUse, Status};
pub use host::js_number_string;
pub use merchandise::MerchandisingUse;
pub use render::{escape, safe_url};
pub use text::{format_price, percent_decode, push_hex, push_int, push_percent_encoded, slug, truncate, two_decimals};
pub use value::{is_whole, Map, Value};
