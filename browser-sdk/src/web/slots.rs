//! Filling `[data-vitrine-slot]` elements the edge did not fill.
//!
//! The loader hides unfilled slots (keeping their size) until the SDK marks them; a slot is
//! either filled before the loader's deadline or keeps the page's own content for good, so
//! nothing visibly swaps.

use alloc::string::String;
use alloc::vec::Vec;

use vitrine_engine::context::Visitor;
use vitrine_engine::{Decision, Engine, Status};

use super::io;

pub enum Outcome {
    Decided(Decision),
    /// The page names a placement the bundle does not know.
    Unknown(String),
    /// Decided too late: the original content was already shown.
    TooLate(String),
}

/// Decides and fills every slot the edge did not fill (the page side finds them and enforces
/// the loader's anti-flicker deadline).
pub fn fill(engine: &Engine, visitor: &Visitor, now: i64) -> Vec<Outcome> {
    let input = engine.rule_input(visitor);
    let mut out = Vec::new();
    for (i, placement) in io::slots().into_iter().enumerate() {
        match engine.decide_with(visitor, &input, &placement, now) {
            Ok(d) => {
                let html = (d.status == Status::Filled).then_some(d.html.as_str());
                out.push(if io::fill(i, html) { Outcome::Decided(d) } else { Outcome::TooLate(placement) });
            }
            Err(_) => {
                io::fill(i, None);
                out.push(Outcome::Unknown(placement));
            }
        }
    }
    out
}
