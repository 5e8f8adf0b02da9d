//! Measurement records: what Vitrine stores about what visitors saw and did, so that a report
//! can add it up. The one contract between the edge, which writes records (from the slots it
//! filled, the events `/v1/events` accepted and what the journeys did) and `model-builder
//! report`, which reads them.
//!
//! A record is one JSON line of the files the queue consumer writes to R2
//! (`events/day=YYYY-MM-DD/<batch>.jsonl.gz`). Fields not used by an event are left out.
//!
//! ```text
//! {"messageId":"x1","event":"Product List Viewed","ts":1764633600,"unit":"3f…","source":"edge",
//!  "page":"p…","placement":"home_recs","variant":"control","items":["85123A","22423"]}
//! {"messageId":"x2","event":"Experiment Viewed","ts":…,"unit":"3f…","source":"edge",
//!  "experiment":"recs-v2","arm":"blend"}
//! {"messageId":"x3","event":"Order Completed","ts":…,"unit":"3f…","source":"server",
//!  "orderId":"o-1","revenue":42.5,"currency":"GBP","items":["85123A"]}
//! ```
//!
//! Records name no customer: `unit` is [`unit_key`], a keyed hash of the visitor id (the
//! bucketing unit of experiments), never a `userId`, an email or a phone number. What links a
//! unit to a customer lives only in the visitor objects, which erasure deletes.
//!
//! Counting rules the report applies (and the pipeline may rely on): a `messageId` counts once
//! (queues deliver at least once); an order counts once per `orderId`, its revenue from the
//! `server` copy where one exists (the browser's can be forged).

use alloc::string::String;
use alloc::vec::Vec;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::decide::{DecidedItem, Decision, OfferDecision, Status};
use crate::text::{push_hex, truncate};
use crate::value::Value;

// The visitor saw an experiment's arm (GrowthBook's and Segment's `Experiment Viewed`). The
// global holdout is the experiment [`HOLDOUT_EXPERIMENT`], arms [`HOLDOUT_ARM`] and
// [`PERSONALIZED_ARM`].
pub use crate::events::EXPERIMENT_VIEWED;
pub use crate::events::ORDER_COMPLETED;
/// A product of a recommendation slot was clicked (`placement` says which slot).
pub use crate::events::PRODUCT_CLICKED;
/// A recommendation slot was filled and shown (Segment: `Product List Viewed`, `list_id` = placement).
pub use crate::events::PRODUCT_LIST_VIEWED;
/// Its call to action was clicked.
pub use crate::events::PROMOTION_CLICKED;
/// An offer's pop-up was closed without its call to action (no Segment name for this).
pub use crate::events::PROMOTION_CLOSED;
/// A content slot (hero, greeting) or an offer was shown (Segment: `Promotion Viewed`).
pub use crate::events::PROMOTION_VIEWED;
/// A visitor's journey started.
pub const JOURNEY_ENTERED: &str = "Journey Entered";
/// A journey message left for its provider (`channel`, `journey`, `step`).
pub const MESSAGE_SENT: &str = "Message Sent";
/// The provider reported it delivered.
pub const MESSAGE_DELIVERED: &str = "Message Delivered";
/// A link in it was followed (the signed click redirect).
pub const MESSAGE_CLICKED: &str = "Message Clicked";
/// The provider reported it opened (SendGrid's `open` event).
pub const MESSAGE_OPENED: &str = "Message Opened";

pub use crate::rules::{HOLDOUT_ARM, HOLDOUT_EXPERIMENT, PERSONALIZED_ARM};

/// Where a record was observed.
pub const SOURCE_EDGE: &str = "edge";
pub const SOURCE_BROWSER: &str = "browser";
/// The store's backend, with the write key: trusted for revenue.
pub const SOURCE_SERVER: &str = "server";
/// The visitor's journeys (messages sent, delivered, clicked).
pub const SOURCE_JOURNEY: &str = "journey";

fn is_empty(s: &str) -> bool {
    s.is_empty()
}

/// One stored measurement event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// Unique per event; a record seen twice counts once.
    pub message_id: String,
    pub event: String,
    /// Unix seconds.
    pub ts: i64,
    /// [`unit_key`] of the visitor id.
    pub unit: String,
    /// [`SOURCE_EDGE`], [`SOURCE_BROWSER`], [`SOURCE_SERVER`] or [`SOURCE_JOURNEY`].
    pub source: String,
    /// The page view it belongs to (exposures: one per placement per page view).
    #[serde(default, skip_serializing_if = "is_empty")]
    pub page: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub placement: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub variant: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub experiment: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub arm: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub offer: String,
    /// SKUs shown (exposures), clicked, or bought.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue: Option<f64>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub currency: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub journey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub channel: String,
}

/// The pseudonymous unit of a visitor id: hex of the first 16 bytes of
/// HMAC-SHA256(`key`, `visitor_id`). The key is the worker's `MEASUREMENT_KEY` secret; without
/// it nobody can tell which visitor id a unit is, and rotating it starts new units.
pub fn unit_key(key: &[u8], visitor_id: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(visitor_id.as_bytes());
    let digest = m.finalize().into_bytes();
    let mut out = String::with_capacity(32);
    for b in &digest[..16] {
        push_hex(&mut out, u64::from(*b), 2);
    }
    out
}

/// One exposure, borrowed from the decision it came from: hosts make a [`Record`] of it
/// ([`Exposure::record`]) or, in the browser, a `track` event's properties.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exposure<'a> {
    pub event: &'static str,
    pub placement: &'a str,
    pub variant: &'a str,
    pub experiment: &'a str,
    pub arm: &'a str,
    pub items: &'a [DecidedItem],
}

impl Exposure<'_> {
    /// The record, without its envelope (`message_id`, `ts`, `unit`, `source`, `page`: the host's).
    pub fn record(&self) -> Record {
        Record {
            event: self.event.into(),
            placement: self.placement.into(),
            variant: self.variant.into(),
            experiment: self.experiment.into(),
            arm: self.arm.into(),
            items: self.items.iter().map(|i| i.sku.clone()).collect(),
            ..Record::default()
        }
    }
}

/// What the visitor saw of one decision, in order: `Experiment Viewed` when it was decided in
/// an experiment (its holdout arm too: the slot kept the page's own content, and that is the
/// control), then `Product List Viewed` (a carousel) or `Promotion Viewed` (content) when the
/// slot shows its html. The global holdout is not an exposure of each slot it held but of the
/// page view ([`holdout_exposure`]). Not targeted or empty: nothing. The flag says whether the
/// visitor saw the decision (filled, or held out): a page view with one is exposed to the
/// global holdout.
pub fn slot_exposures(d: &Decision) -> (bool, [Option<Exposure<'_>>; 2]) {
    if !matches!(d.status, Status::Filled | Status::Holdout) {
        return (false, [None, None]);
    }
    let (experiment, arm) = d.explain.experiment.as_ref().map_or(("", ""), |e| (e.key.as_str(), e.arm.as_str()));
    let base = Exposure { event: EXPERIMENT_VIEWED, placement: &d.placement, variant: "", experiment, arm, items: &[] };
    let in_experiment = (!experiment.is_empty() && experiment != HOLDOUT_EXPERIMENT).then_some(base);
    let shown = d.slot_html().map(|_| {
        let variant = d.variant.as_deref();
        Exposure {
            event: if variant.is_none() { PRODUCT_LIST_VIEWED } else { PROMOTION_VIEWED },
            variant: variant.unwrap_or_default(),
            items: &d.items,
            ..base
        }
    });
    (d.status == Status::Holdout || in_experiment.is_some() || shown.is_some(), [in_experiment, shown])
}

/// The page view's exposure to the global holdout: `Experiment Viewed` of
/// [`HOLDOUT_EXPERIMENT`] with the visitor's arm (`Engine::holdout_arm`).
pub fn holdout_exposure(arm: &str) -> Exposure<'_> {
    Exposure { event: EXPERIMENT_VIEWED, placement: "", variant: "", experiment: HOLDOUT_EXPERIMENT, arm, items: &[] }
}

/// What one page view exposed, as records without their envelope: every decision's
/// [`slot_exposures`], then, when the store has a global holdout and the visitor saw anything,
/// the [`holdout_exposure`] of their arm (`holdout_arm`). Hosts pass only the decisions of
/// slots the page really has, as they were filled.
pub fn page_exposures(decisions: &[Decision], holdout_arm: Option<&str>) -> Vec<Record> {
    let mut out = Vec::new();
    let mut seen = false;
    for d in decisions {
        let (saw, exposures) = slot_exposures(d);
        seen |= saw;
        out.extend(exposures.iter().flatten().map(Exposure::record));
    }
    if let Some(arm) = holdout_arm.filter(|_| seen) {
        out.push(holdout_exposure(arm).record());
    }
    out
}

/// The exit offer shown: `Promotion Viewed` with the offer's id (and its experiment's arm).
pub fn offer_exposure(offer: &OfferDecision) -> Record {
    let e = offer.explain.experiment.as_ref();
    Record {
        event: PROMOTION_VIEWED.into(),
        offer: offer.id.clone(),
        experiment: e.map(|e| e.key.clone()).unwrap_or_default(),
        arm: e.map(|e| e.arm.clone()).unwrap_or_default(),
        ..Record::default()
    }
}

/// Reads a `track` event's properties into a record's fields, the one reading of what hosts
/// and stores send: Vitrine's own names (`placement`, `variant`, `experiment`, `arm`, `offer`,
/// `page`, `items`) or Segment's where the spec has one (`list_id` / `promotion_id` for the
/// placement, `creative` for the variant, `experiment_id` / `variation_id`, `products[]` with
/// `product_id` or `sku`, `order_id`, `revenue` else `total`, `currency`). Strings are cut to
/// `max_len` bytes, lists to `max_items`: a record stays small whatever a client sends.
pub fn read_properties(r: &mut Record, props: &Value, max_len: usize, max_items: usize) {
    let text = |keys: &[&str]| -> String {
        let v = keys.iter().find_map(|k| props.path(k).and_then(Value::as_str)).unwrap_or_default();
        truncate(v, max_len).into()
    };
    r.placement = text(&["placement", "list_id", "promotion_id"]);
    r.variant = text(&["variant", "creative"]);
    r.experiment = text(&["experiment", "experiment_id"]);
    r.arm = text(&["arm", "variation_id"]);
    r.offer = text(&["offer"]);
    r.page = text(&["page"]);
    r.order_id = text(&["order_id"]);
    r.currency = text(&["currency"]);
    r.revenue = props.path("revenue").or_else(|| props.path("total")).and_then(Value::as_f64).filter(|v| v.is_finite());
    let one = [props.clone()];
    let products = match props.path("products").and_then(Value::as_array) {
        Some(list) => list,
        // A single-product event (Product Clicked) carries the product at the top level.
        None if props.path("product_id").or_else(|| props.path("sku")).is_some() => &one[..],
        None => &[],
    };
    let skus = props.path("items").and_then(Value::as_array).map(|l| l.iter().filter_map(Value::as_str).collect::<Vec<_>>()).unwrap_or_default();
    r.items = skus
        .into_iter()
        .chain(products.iter().filter_map(|p| p.path("product_id").or_else(|| p.path("sku")).and_then(Value::as_str)))
        .take(max_items)
        .map(|s| truncate(s, max_len).into())
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_keyed_and_stable() {
        let a = unit_key(b"k1", "visitor-1");
        assert_eq!(a.len(), 32);
        assert_eq!(a, unit_key(b"k1", "visitor-1"));
        assert_ne!(a, unit_key(b"k2", "visitor-1"), "another key, another unit");
        assert_ne!(a, unit_key(b"k1", "visitor-2"));
        assert!(!a.contains("visitor"));
    }

    #[test]
    fn records_leave_out_what_they_do_not_use() {
        let r = Record {
            message_id: "m".into(),
            event: ORDER_COMPLETED.into(),
            ts: 5,
            unit: "u".into(),
            source: SOURCE_SERVER.into(),
            order_id: "o1".into(),
            revenue: Some(12.5),
            ..Record::default()
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"messageId":"m","event":"Order Completed","ts":5,"unit":"u","source":"server","orderId":"o1","revenue":12.5}"#);
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), r);
    }

    fn decision(placement: &str, status: Status, variant: Option<&str>, arm: Option<&str>, skus: &[&str]) -> Decision {
        use crate::decide::{DecidedItem, ExperimentArm, Explain};
        Decision {
            placement: placement.into(),
            status,
            title: String::new(),
            variant: variant.map(Into::into),
            items: skus
                .iter()
                .map(|s| DecidedItem {
                    sku: (*s).into(),
                    title: String::new(),
                    url: String::new(),
                    image: String::new(),
                    price: 1.0,
                    source: "popular",
                    score: 1.0,
                })
                .collect(),
            html: if status == Status::Filled { "<p>x</p>".into() } else { String::new() },
            explain: Explain { experiment: arm.map(|a| ExperimentArm { key: "exp".into(), arm: a.into() }), ..Explain::default() },
        }
    }

    #[test]
    fn a_page_exposes_what_it_showed_and_held_out() {
        let page = [
            decision("recs", Status::Filled, None, Some("blend"), &["A", "B"]),
            decision("hero", Status::Filled, Some("returning"), None, &[]),
            decision("cart", Status::Holdout, None, Some("off"), &[]),
            decision("side", Status::NotTargeted, None, None, &[]),
            decision("empty", Status::Empty, None, None, &[]),
        ];
        let got: Vec<(String, String, String, Vec<String>)> =
            page_exposures(&page, Some(PERSONALIZED_ARM)).into_iter().map(|r| (r.event, r.placement, r.arm, r.items)).collect();
        let want = [
            (EXPERIMENT_VIEWED, "recs", "blend", &["A", "B"][..0]),
            (PRODUCT_LIST_VIEWED, "recs", "blend", &["A", "B"][..]),
            (PROMOTION_VIEWED, "hero", "", &[][..]),
            (EXPERIMENT_VIEWED, "cart", "off", &[][..]),
            (EXPERIMENT_VIEWED, "", PERSONALIZED_ARM, &[][..]),
        ];
        let want: Vec<(String, String, String, Vec<String>)> =
            want.iter().map(|(e, p, a, i)| ((*e).into(), (*p).into(), (*a).into(), i.iter().map(|s| (*s).into()).collect())).collect();
        assert_eq!(got, want);
        let nothing = [decision("side", Status::NotTargeted, None, None, &[])];
        assert!(page_exposures(&nothing, Some(HOLDOUT_ARM)).is_empty(), "nothing seen, no holdout exposure");
        let mut held = [decision("hero", Status::Holdout, None, Some(HOLDOUT_ARM), &[]), decision("recs", Status::Holdout, None, Some(HOLDOUT_ARM), &[])];
        for d in &mut held {
            d.explain.experiment.as_mut().unwrap().key = HOLDOUT_EXPERIMENT.into();
        }
        let once: Vec<(String, String)> = page_exposures(&held, Some(HOLDOUT_ARM)).into_iter().map(|r| (r.experiment, r.arm)).collect();
        assert_eq!(once, [(String::from(HOLDOUT_EXPERIMENT), String::from(HOLDOUT_ARM))], "the global holdout once per page view, not per slot it held");
    }

    fn props(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn segment_and_own_names_read_alike() {
        let mut a = Record::default();
        read_properties(
            &mut a,
            &props(r#"{"list_id":"recs","creative":"v1","experiment_id":"e","variation_id":"b","products":[{"product_id":"A"},{"sku":"B"}]}"#),
            64,
            10,
        );
        let mut b = Record::default();
        read_properties(&mut b, &props(r#"{"placement":"recs","variant":"v1","experiment":"e","arm":"b","items":["A","B"]}"#), 64, 10);
        assert_eq!(a, b);
        assert_eq!(a.items, ["A", "B"]);
        let mut o = Record::default();
        read_properties(&mut o, &props(r#"{"order_id":"o1","total":20,"revenue":18.5,"currency":"GBP"}"#), 64, 10);
        assert_eq!((o.order_id.as_str(), o.revenue, o.currency.as_str()), ("o1", Some(18.5), "GBP"));
        let mut c = Record::default();
        read_properties(&mut c, &props(r#"{"product_id":"A","list_id":"recs"}"#), 64, 10);
        assert_eq!(c.items, ["A"], "a single product at the top level");
    }

    #[test]
    fn what_a_client_sends_is_bounded() {
        let mut r = Record::default();
        let long = "é".repeat(100);
        let many: Vec<String> = (0..50).map(|i| alloc::format!("\"s{i}\"")).collect();
        read_properties(&mut r, &props(&alloc::format!(r#"{{"placement":"{long}","items":[{}]}}"#, many.join(","))), 9, 5);
        assert_eq!(r.placement, "éééé", "cut at a character boundary");
        assert_eq!(r.items.len(), 5);
    }
}
