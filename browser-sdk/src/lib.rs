//! Vitrine browser SDK: a thin host around the engine for sites that add one script tag.
//!
//! The pure parts — exit-intent detection, the event outbox, event envelopes, the session's
//! learning — are plain Rust tested natively; `web` wires them to the DOM with web-sys.

extern crate alloc;

pub mod exit_intent;
pub mod json;
pub mod message;
pub mod outbox;
pub mod session;
pub mod web;
