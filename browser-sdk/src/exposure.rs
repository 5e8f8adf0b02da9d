//! What a page view showed, as `track` events' properties: the engine's exposures
//! (`vitrine_engine::measure`: `slot_exposures`, `holdout_exposure`, the offer's fields as
//! `offer_exposure` has them) written straight to the property names
//! `measure::read_properties` reads back (`placement`, `variant`, `experiment`, `arm`, `offer`,
//! `items`, `page`). The engine's `Record`s, fifteen owned fields each, would cost ~1.9 KB gzip
//! of wasm to build, clone and drop; the borrowed `Exposure` costs nothing.
//! browser-sdk/tests/visit.rs reads every event back with `read_properties` and compares it
//! with `measure::page_exposures` and `measure::offer_exposure`.

use alloc::string::String;

use vitrine_engine::measure::{self, Exposure};
use vitrine_engine::{DecidedItem, Decision, OfferDecision};

use crate::json::{push_str_literal, Object};

/// Every exposure of `decisions` and, with a global holdout, the visitor's arm of it if they
/// saw anything, as `measure::page_exposures` orders them, to `send`. `page`: the page view's id.
pub fn page_exposures(decisions: &[Decision], holdout_arm: Option<&str>, page: &str, mut send: impl FnMut(&'static str, String)) {
    let mut seen = false;
    for d in decisions {
        seen |= exposures(d, page, &mut send);
    }
    if let Some(arm) = holdout_arm.filter(|_| seen) {
        let e = measure::holdout_exposure(arm);
        send(e.event, exposure_properties(&e, page));
    }
}

/// One decision's exposures to `send`; true when the visitor saw it (it counts towards the
/// global holdout's exposure).
pub fn exposures(d: &Decision, page: &str, mut send: impl FnMut(&'static str, String)) -> bool {
    let (seen, list) = measure::slot_exposures(d);
    for e in list.iter().flatten() {
        send(e.event, exposure_properties(e, page));
    }
    seen
}

/// An exposure's fields as properties.
pub fn exposure_properties(e: &Exposure, page: &str) -> String {
    properties(&[("placement", e.placement), ("variant", e.variant), ("experiment", e.experiment), ("arm", e.arm)], e.items, page)
}

/// `measure::offer_exposure`'s fields (`offer`, its experiment's arm) and `more` (the offer's
/// `name`, why it showed).
pub fn offer_properties(offer: &OfferDecision, more: [(&str, &str); 2], page: &str) -> String {
    let (experiment, arm) = offer.explain.experiment.as_ref().map_or(("", ""), |e| (e.key.as_str(), e.arm.as_str()));
    properties(&[("offer", &offer.id), ("experiment", experiment), ("arm", arm), more[0], more[1]], &[], page)
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
