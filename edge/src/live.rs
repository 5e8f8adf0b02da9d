//! Live traits: an `Order Completed` from the store's backend (the write key) scores its
//! customer again at once, as the build would have: RFM inputs, segment (against the bundle's
//! quintile edges) and predicted traits (the bundle's fits), into their profile line. The
//! visitor object writes the line back to KV `profile:<id>` and hands the journeys the new
//! traits; the next build's line replaces it.
//!
//! Only the backend's word counts: a browser's order (even a signed-in customer's) never moves
//! a segment, so nobody can buy themselves into "Champions" with a forged event.
//!
//! Dates in the line are on the data's clock, as the build writes them (`Engine::data_time`):
//! the caller passes that clock's "now". What the journeys get is relative (days to the next
//! order), put on the real clock by the caller.

use vitrine_engine::civil::{self, DAY_SECS};
use vitrine_engine::journey::{Event, EventKind, Traits};
use vitrine_engine::predict::PredictedTraits;
use vitrine_engine::recommend::{self, Owned, MAX_HISTORY_SEEDS};
use vitrine_engine::rfm::{CustomerModel, History, Scores};
use vitrine_engine::Value;

use crate::profile_line::ProfileLine;

/// Products of one order that reach the purchase history: a wholesale order of 500 lines
/// need not rewrite the whole history.
const MAX_ORDER_ITEMS: usize = 50;

/// The profile keys the predictive models write (`model-builder`'s `PredictedLine`).
const PREDICTED_KEYS: [&str; 7] = ["p_alive", "expected_orders_30", "expected_orders_90", "expected_orders_365", "expected_next_order", "clv", "churn_risk"];

/// One order as the customer's history takes it.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveOrder {
    pub message_id: String,
    pub order_id: String,
    /// The order's value: `revenue`, else `total`, else the products' price × quantity.
    pub value: f64,
    pub skus: Vec<String>,
}

impl LiveOrder {
    /// The order of a server event `e` (its JSON `raw`), if it is an `Order Completed`.
    pub fn of(raw: &Value, e: &Event) -> Option<LiveOrder> {
        let EventKind::OrderCompleted { order_id, products } = &e.kind else { return None };
        let props = raw.path("properties");
        let stated = ["revenue", "total"].iter().find_map(|k| props?.path(k)?.as_f64()).filter(|v| v.is_finite() && *v >= 0.0);
        let value = stated.unwrap_or_else(|| products.iter().map(|p| f64::from(p.price.unwrap_or(0.0)) * f64::from(p.quantity.max(1))).sum());
        let mut skus: Vec<String> = Vec::new();
        for p in products.iter().filter(|p| !p.sku.is_empty()) {
            if !skus.contains(&p.sku) && skus.len() < MAX_ORDER_ITEMS {
                skus.push(p.sku.clone());
            }
        }
        Some(LiveOrder { message_id: e.message_id.clone(), order_id: order_id.clone(), value, skus })
    }
}

/// A profile line scored again after new orders.
#[derive(Clone, Debug, PartialEq)]
pub struct Rescored {
    pub line: ProfileLine,
    pub scores: Scores,
    pub predicted: Option<PredictedTraits>,
}

impl Rescored {
    /// What the journeys learn, as an identify from the profile would tell them: the new
    /// churn risk and next order (days from now on the real clock, `real_now`), and the gap.
    pub fn journey_traits(&self, real_now: i64) -> Traits {
        let today = real_now.div_euclid(DAY_SECS);
        Traits {
            churn_risk: self.predicted.map(|p| p.churn_risk),
            expected_next_order_at: self.predicted.and_then(|p| p.next_order_day(today)).map(|d| d * DAY_SECS),
            // On the data's clock; the order itself told the journeys when it came.
            last_order_at: None,
            ..self.line.journey_traits()
        }
    }
}

/// The customer's line after `orders`, placed at `now` (unix seconds on the data's clock):
/// a customer the line does not know as a buyer (no line, or a contact without orders) starts
/// with their first order. Everything else in the line (names, contacts, consent, favourite
/// categories and brands) is kept.
pub fn after_orders(line: Option<&ProfileLine>, customer_id: &str, model: &CustomerModel, orders: &[LiveOrder], now: i64) -> Rescored {
    let mut traits = line.map_or_else(Value::object, |l| l.traits.clone());
    if !matches!(traits, Value::Object(_)) {
        traits = Value::object();
    }
    let day = now.div_euclid(DAY_SECS);
    let mut history = history(&traits);
    for o in orders {
        match &mut history {
            Some(h) => h.add_order(day, o.value),
            None => history = Some(History::first(day, o.value)),
        }
    }
    let Some(h) = history else {
        let (scores, predicted) = model.rescore(&History::default(), day);
        return Rescored { line: ProfileLine { customer_id: customer_id.into(), traits }, scores, predicted };
    };
    let (scores, predicted) = model.rescore(&h, day);
    let gap_known = traits.path("typical_gap_days").and_then(Value::as_f64).is_some();
    // The build's gap is a median over every order day; a second purchase day is the first gap.
    if !gap_known && h.last_day > h.first_day {
        traits.set("typical_gap_days", (h.last_day - h.first_day) as f64);
    }
    traits
        .set("segment", scores.segment.name())
        .set("recency_days", (day + 1 - h.last_day).max(1) as f64)
        .set("frequency", h.orders)
        .set("monetary", round2(h.monetary))
        .set("r", u32::from(scores.r))
        .set("f", u32::from(scores.f))
        .set("m", u32::from(scores.m))
        .set("first_order", civil::day_string(h.first_day * DAY_SECS))
        .set("last_order", civil::day_string(h.last_day * DAY_SECS));
    if let Some(days) = h.purchase_days {
        traits.set("purchase_days", days).set("repeat_spend", round2(h.repeat_spend));
    }
    let items = purchase_history(traits.path("items"), orders, now);
    traits.set("items", items);
    let predicted = predicted.filter(PredictedTraits::is_finite).map(|p| p.rounded());
    if let Value::Object(m) = &mut traits {
        for key in PREDICTED_KEYS {
            m.remove(key);
        }
    }
    if let Some(p) = &predicted {
        traits
            .set("p_alive", p.p_alive)
            .set("expected_orders_30", p.expected_orders_30)
            .set("expected_orders_90", p.expected_orders_90)
            .set("expected_orders_365", p.expected_orders_365)
            .set("churn_risk", p.churn_risk.name());
        if let Some(d) = p.next_order_day(day) {
            traits.set("expected_next_order", civil::day_string(d * DAY_SECS));
        }
        if let Some(clv) = p.clv {
            traits.set("clv", clv);
        }
    }
    Rescored { line: ProfileLine { customer_id: customer_id.into(), traits }, scores, predicted }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// What the line knows of the customer's orders; None without any (`frequency` and both order
/// days are needed).
fn history(t: &Value) -> Option<History> {
    let orders = t.path("frequency").and_then(Value::as_f64).filter(|n| *n >= 1.0 && *n <= f64::from(u32::MAX))? as u32;
    let day = |key: &str| t.path(key).and_then(Value::as_str).and_then(|d| civil::parse_day_unix(d.get(..10)?)).map(|s| s.div_euclid(DAY_SECS));
    let (first_day, last_day) = (day("first_order")?, day("last_order")?);
    let purchase_days = t.path("purchase_days").and_then(Value::as_f64).filter(|n| *n >= 1.0 && *n <= f64::from(u32::MAX)).map(|n| n as u32);
    Some(History {
        orders,
        monetary: t.path("monetary").and_then(Value::as_f64).filter(|v| v.is_finite()).unwrap_or(0.0),
        first_day,
        last_day: last_day.max(first_day),
        purchase_days,
        repeat_spend: t.path("repeat_spend").and_then(Value::as_f64).filter(|v| v.is_finite()).unwrap_or(0.0),
    })
}

/// The profile's purchase history (`[sku, last bought, orders]`, strongest first by the
/// engine's own measure, at most as many as it seeds from) with the orders' products bought
/// at `now`.
fn purchase_history(items: Option<&Value>, orders: &[LiveOrder], now: i64) -> Value {
    let mut owned: Vec<(String, i64, u32)> = items
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| {
            let i = i.as_array()?;
            let sku = i.first()?.as_str()?.to_string();
            Some((sku, i.get(1)?.as_f64()? as i64, i.get(2)?.as_f64()? as u32))
        })
        .collect();
    for sku in orders.iter().flat_map(|o| &o.skus) {
        match owned.iter_mut().find(|o| o.0 == *sku) {
            Some(o) => {
                o.1 = o.1.max(now);
                o.2 = o.2.saturating_add(1);
            }
            None => owned.push((sku.clone(), now, 1)),
        }
    }
    let pull = |o: &(String, i64, u32)| recommend::pull(&Owned { item: 0, last_time: o.1, orders: o.2 }, now);
    owned.sort_by(|x, y| pull(y).total_cmp(&pull(x)).then_with(|| x.0.cmp(&y.0)));
    owned.truncate(MAX_HISTORY_SEEDS);
    Value::Array(owned.into_iter().map(|(sku, last, n)| Value::Array(vec![sku.into(), (last as f64).into(), n.into()])).collect())
}
