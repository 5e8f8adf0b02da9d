//! Filling `[data-vitrine-slot]` elements the edge did not fill.
//!
//! The loader hides unfilled slots (keeping their size) until the SDK marks them; a slot is
//! either filled before the loader's deadline or keeps the page's own content for good, so
//! nothing visibly swaps.

use alloc::string::String;
use alloc::vec::Vec;

use vitrine_engine::context::Visitor;
use vitrine_engine::engine::{Decision, Engine, Status};

use super::io::document;

/// Slots not yet handled by the edge (`data-vitrine-filled`) or by us (`data-vitrine-state`).
const PENDING: &str = "[data-vitrine-slot]:not([data-vitrine-filled]):not([data-vitrine-state])";

pub enum Outcome {
    Decided(Decision),
    /// The page names a placement the bundle does not know.
    Unknown(String),
    /// Decided too late: the original content was already shown.
    TooLate(String),
}

/// Decides and fills every pending slot; `in_time` says whether the loader's deadline holds.
pub fn fill(engine: &Engine, visitor: &Visitor, now: i64, in_time: impl Fn() -> bool) -> Vec<Outcome> {
    let mut out = Vec::new();
    let Ok(list) = document().query_selector_all(PENDING) else { return out };
    let input = engine.rule_input(visitor);
    for i in 0..list.length() {
        let Some(el) = list.item(i).and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok()) else { continue };
        let placement = el.get_attribute("data-vitrine-slot").unwrap_or_default();
        let state = match engine.decide_with(visitor, &input, &placement, now) {
            Ok(d) if d.status == Status::Filled && !in_time() => {
                out.push(Outcome::TooLate(placement));
                "original"
            }
            Ok(d) => {
                let filled = d.status == Status::Filled;
                if filled {
                    el.set_inner_html(&d.html);
                    let _ = el.set_attribute("data-vitrine-filled", "browser");
                }
                out.push(Outcome::Decided(d));
                if filled { "filled" } else { "original" }
            }
            Err(_) => {
                out.push(Outcome::Unknown(placement));
                "original"
            }
        };
        let _ = el.set_attribute("data-vitrine-state", state);
    }
    out
}
