//! Vitrine's engine: the whole decision logic, pure.
//!
//! No I/O, no clock, no randomness, no threads: time and ids come in as arguments, effects go
//! out as values. Compiles for the host and for wasm32; the edge worker, the browser SDK and the
//! model builder all link it. See ARCHITECTURE.md for the map.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod base64;
pub mod bundle;
pub mod condition;
pub mod context;
pub mod engine;
pub mod hashing;
pub mod host;
pub mod journey;
pub mod recommend;
pub mod render;
pub mod rules;
pub mod sort;
pub mod token;
pub mod value;
pub mod wire;

pub use bundle::{Bundle, BundleBody, BundleError, ProductIdx};
pub use condition::{Condition, ConditionError};
pub use context::Visitor;
pub use engine::{Decision, Engine};
pub use value::Value;
