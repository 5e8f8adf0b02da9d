//! What a page view showed, as `track` events for the measurement records: the rules of
//! `vitrine_engine::measure` (`page_exposures`, `offer_exposure`), written straight to the
//! property names `measure::read_properties` reads back (`placement`, `variant`, `experiment`,
//! `arm`, `offer`, `items`, `page`). The engine's functions build `Record`s, whose fifteen
//! owned fields cost ~1.9 KB gzip of wasm to build, clone and drop; here the same events cost
//! a few hundred bytes. browser-sdk/tests/visit.rs reads every event back with
//! `measure::read_properties` and compares it with `measure::page_exposures` and
//! `measure::offer_exposure` for the same decisions.

use alloc::string::String;

use vitrine_engine::events::{EXPERIMENT_VIEWED, PRODUCT_LIST_VIEWED, PROMOTION_VIEWED};
use vitrine_engine::measure::HOLDOUT_EXPERIMENT;
use vitrine_engine::{DecidedItem, Decision, Explain, OfferDecision, Status};

use crate::json::{push_str_literal, Object};

/// `measure::page_exposures` as (event, properties) pairs, in its order, to `send`: per
/// decision the visitor saw ([`exposures`]), then, with a global holdout, the visitor's arm of
/// it ([`holdout_exposure`]) if anything was shown or held out. `page`: the page view's id.
pub fn page_exposures(decisions: &[Decision], holdout_arm: Option<&str>, page: &str, mut send: impl FnMut(&'static str, String)) {
    let mut seen = false;
    for d in decisions {
        seen |= exposures(d, page, &mut send);
    }
    if let Some(arm) = holdout_arm.filter(|_| seen) {
        send(EXPERIMENT_VIEWED, holdout_exposure(arm, page));
    }
}

/// One decision's exposures, if the visitor saw it (filled, or held out of an experiment):
/// `Experiment Viewed` when it was decided in an experiment, then `Product List Viewed` (no
/// variant: a carousel) or `Promotion Viewed` when the slot shows its html. True when it
/// counts towards the global holdout's exposure (it sent something, or it was held out).
pub fn exposures(d: &Decision, page: &str, mut send: impl FnMut(&'static str, String)) -> bool {
    if !matches!(d.status, Status::Filled | Status::Holdout) {
        return false;
    }
    let mut seen = d.status == Status::Holdout;
    let (experiment, arm) = arm_of(&d.explain);
    if d.explain.experiment.is_some() {
        send(EXPERIMENT_VIEWED, properties(&[("placement", &d.placement), ("experiment", experiment), ("arm", arm)], &[], page));
        seen = true;
    }
    if d.slot_html().is_some() {
        let variant = d.variant.as_deref();
        let fields = [("placement", d.placement.as_str()), ("variant", variant.unwrap_or_default()), ("experiment", experiment), ("arm", arm)];
        send(if variant.is_none() { PRODUCT_LIST_VIEWED } else { PROMOTION_VIEWED }, properties(&fields, &d.items, page));
        seen = true;
    }
    seen
}

/// The global holdout's `Experiment Viewed`: [`HOLDOUT_EXPERIMENT`] and the visitor's `arm`.
pub fn holdout_exposure(arm: &str, page: &str) -> String {
    properties(&[("experiment", HOLDOUT_EXPERIMENT), ("arm", arm)], &[], page)
}

/// `measure::offer_exposure`'s fields (`offer`, its experiment's arm) and `more` (the offer's
/// `name`, why it showed).
pub fn offer_properties(offer: &OfferDecision, more: [(&str, &str); 2], page: &str) -> String {
    let (experiment, arm) = arm_of(&offer.explain);
    properties(&[("offer", &offer.id), ("experiment", experiment), ("arm", arm), more[0], more[1]], &[], page)
}

fn arm_of(explain: &Explain) -> (&str, &str) {
    explain.experiment.as_ref().map_or(("", ""), |e| (e.key.as_str(), e.arm.as_str()))
}

/// A JSON object of `fields` (empty ones left out, as records leave them out), `items`' SKUs
/// (when there are any) and `page`.
pub fn properties(fields: &[(&str, &str)], items: &[DecidedItem], page: &str) -> String {
    let mut props = String::new();
    let mut o = Object::new(&mut props);
    for (key, value) in fields {
        if !value.is_empty() {
            o.str(key, value);
        }
    }
    if !items.is_empty() {
        let out = o.key("items");
        for (i, item) in items.iter().enumerate() {
            out.push(if i == 0 { '[' } else { ',' });
            push_str_literal(out, &item.sku);
        }
        out.push(']');
    }
    o.str("page", page);
    o.end();
    props
}
