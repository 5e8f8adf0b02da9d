//! Which origin responses get personalized, and what each slot gets.

use vitrine_engine::RuleInput;
use vitrine_engine::{Decision, Engine, Visitor};

use crate::rewrite::{is_rewritable_html, SlotOutcome};

/// Only complete HTML documents fetched with GET: everything else (assets, redirects, errors,
/// downloads, HEAD, form posts) streams through untouched.
pub fn should_personalize(method_is_get: bool, status: u16, content_type: Option<&str>, content_disposition: Option<&str>) -> bool {
    method_is_get
        && status == 200
        && content_type.is_some_and(is_rewritable_html)
        && !content_disposition.is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("attachment"))
}

/// The engine's decision for one slot: its HTML when it fills the slot (the engine's one rule,
/// `Decision::slot_html`, the SDK's too), keep the page's content when decided otherwise,
/// leave it alone when the bundle has no such placement. `input` is the visitor's
/// `Engine::rule_input`, built once for all slots of the page.
pub fn slot_outcome(engine: &Engine, visitor: &Visitor, input: &RuleInput, placement: &str, now: i64) -> Option<SlotOutcome> {
    decided_slot(engine, visitor, input, placement, now).map(|(outcome, _)| outcome)
}

/// [`slot_outcome`] with the decision itself, for the page's measurement records
/// (`measure::page_records`: what the slots the page really had were filled with).
pub fn decided_slot(engine: &Engine, visitor: &Visitor, input: &RuleInput, placement: &str, now: i64) -> Option<(SlotOutcome, Decision)> {
    match engine.decide_with(visitor, input, placement, now) {
        Ok(d) => Some((d.slot_html().map_or(SlotOutcome::Keep, |html| SlotOutcome::Fill(html.into())), d)),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_html_gets_rewritten() {
        assert!(should_personalize(true, 200, Some("text/html; charset=utf-8"), None));
        assert!(!should_personalize(false, 200, Some("text/html"), None));
        assert!(!should_personalize(true, 404, Some("text/html"), None));
        assert!(!should_personalize(true, 200, Some("image/png"), None));
        assert!(!should_personalize(true, 200, None, None));
        assert!(!should_personalize(true, 200, Some("text/html"), Some("attachment; filename=x.html")));
    }
}
