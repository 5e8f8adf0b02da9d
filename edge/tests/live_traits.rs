//! Live traits (#20): an `Order Completed` from the store's backend re-scores the customer's
//! profile line at once, as the build would (RFM against the bundle's quintile edges, the
//! predictions from the bundle's fits), and the customer's object hands the journeys the new
//! traits. Natively, as the worker calls these; the worker's own run is in
//! `tests/tests/journeys_e2e.rs`.

use serde_json::json;
use vitrine_edge::live::{after_orders, LiveOrder};
use vitrine_edge::profile_line::ProfileLine;
use vitrine_edge::visitor_do::{Incoming, VisitorObject};
use vitrine_engine::bundle::{BundleBody, Catalog};
use vitrine_engine::civil::{self, DAY_SECS};
use vitrine_engine::predict::{self, BgNbd, CustomerSummary, GammaGamma};
use vitrine_engine::rfm::CustomerModel;
use vitrine_engine::rules::Rules;
use vitrine_engine::Value;

fn model() -> CustomerModel {
    CustomerModel {
        recency_edges: [10.0, 30.0, 90.0, 180.0],
        frequency_edges: [1.0, 1.0, 2.0, 4.0],
        monetary_edges: [20.0, 50.0, 100.0, 400.0],
        bgnbd: Some(BgNbd { r: 0.82, alpha: 69.3, a: 0.08, b: 2.5 }),
        gamma_gamma: Some(GammaGamma { p: 2.1, q: 3.4, v: 95.0 }),
        ..CustomerModel::default()
    }
}

/// The data clock's "now": 2025-12-06 10:00 UTC.
const NOW: i64 = 1_765_015_200;

/// A customer last seen in May, as last night's build wrote them: at risk of churning.
fn at_risk() -> ProfileLine {
    ProfileLine::parse(
        &json!({
            "customer_id": "17850", "segment": "At risk", "email": "jo@example.com", "first_name": "Jo",
            "recency_days": 200, "frequency": 3, "monetary": 300.0, "r": 1, "f": 3, "m": 3,
            "first_order": "2025-01-10", "last_order": "2025-05-20", "typical_gap_days": 40.0,
            "purchase_days": 3, "repeat_spend": 180.0, "top_categories": ["Mugs"],
            "items": [["A1", 1_747_742_400, 2], ["B7", 1_736_500_000, 1]],
            "p_alive": 0.2, "expected_orders_30": 0.01, "expected_orders_90": 0.03, "expected_orders_365": 0.1, "clv": 12.0, "churn_risk": "high",
        })
        .to_string(),
    )
    .unwrap()
}

fn order(message_id: &str, order_id: &str, value: f64, skus: &[&str]) -> LiveOrder {
    LiveOrder { message_id: message_id.into(), order_id: order_id.into(), value, skus: skus.iter().map(|s| s.to_string()).collect() }
}

fn num(line: &ProfileLine, key: &str) -> f64 {
    line.traits.path(key).and_then(Value::as_f64).unwrap_or_else(|| panic!("{key} in {}", line.to_json()))
}

fn text<'a>(line: &'a ProfileLine, key: &str) -> Option<&'a str> {
    line.traits.path(key).and_then(Value::as_str)
}

#[test]
fn an_order_moves_an_at_risk_customer_into_champions_with_new_predictions() {
    let r = after_orders(Some(&at_risk()), "17850", &model(), &[order("m1", "o1", 150.0, &["A2", "A1"])], NOW);
    let line = &r.line;
    assert_eq!((text(line, "segment"), num(line, "r"), num(line, "f"), num(line, "m")), (Some("Champions"), 5.0, 4.0, 5.0));
    assert_eq!((num(line, "frequency"), num(line, "monetary"), num(line, "recency_days")), (4.0, 450.0, 1.0));
    assert_eq!((text(line, "first_order"), text(line, "last_order")), (Some("2025-01-10"), Some("2025-12-06")));
    assert_eq!((num(line, "purchase_days"), num(line, "repeat_spend")), (4.0, 330.0));
    // The predictions are the models' for the new history, rounded as the build rounds them.
    let first = civil::parse_day_unix("2025-01-10").unwrap() / DAY_SECS;
    let age = (NOW / DAY_SECS - first) as f64;
    let s = CustomerSummary { frequency: 3.0, recency: age, age, mean_value: 110.0 };
    let m = model();
    let want = predict::traits(m.bgnbd.as_ref().unwrap(), m.gamma_gamma.as_ref(), &s, &m.predict).rounded();
    assert_eq!((num(line, "p_alive"), num(line, "expected_orders_90"), num(line, "clv")), (want.p_alive, want.expected_orders_90, want.clv.unwrap()));
    assert_eq!(text(line, "churn_risk"), Some("low"), "p_alive {}", want.p_alive);
    let next = want.next_order_day(NOW / DAY_SECS).map(|d| civil::day_string(d * DAY_SECS));
    assert_eq!(text(line, "expected_next_order"), next.as_deref());
    // The purchase history leads with what was just bought; A1 counts its third order.
    assert_eq!(line.traits.path("items").unwrap().as_array().unwrap()[..2], [json_value(json!(["A1", NOW, 3])), json_value(json!(["A2", NOW, 1]))]);
    // Everything the build knew besides the orders stays, and the line reads back as written.
    assert_eq!((text(line, "email"), text(line, "first_name"), num(line, "typical_gap_days")), (Some("jo@example.com"), Some("Jo"), 40.0));
    assert_eq!(line.traits.path("top_categories"), at_risk().traits.path("top_categories"));
    assert_eq!(&ProfileLine::parse(&line.to_json()).unwrap(), line);
}

fn json_value(v: serde_json::Value) -> Value {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_first_order_makes_a_new_customer_with_a_profile() {
    for line in [None, Some(ProfileLine::parse(r#"{"customer_id":"99","email":"new@example.com"}"#).unwrap())] {
        let r = after_orders(line.as_ref(), "99", &model(), &[order("m1", "o1", 35.0, &["A1"])], NOW);
        let l = &r.line;
        assert_eq!((text(l, "segment"), num(l, "frequency"), num(l, "purchase_days"), num(l, "repeat_spend")), (Some("New"), 1.0, 1.0, 0.0));
        // One purchase day: cannot have dropped out yet; no repeat spend to value.
        assert_eq!((num(l, "p_alive"), text(l, "churn_risk"), l.traits.path("clv")), (1.0, Some("low"), None));
        assert!(l.traits.path("typical_gap_days").is_none(), "no gap from one day");
        assert_eq!(l.customer_id, "99");
        assert_eq!(text(l, "email"), line.as_ref().and(Some("new@example.com")));
    }
}

#[test]
fn two_orders_the_same_day_count_once_as_a_purchase_day_and_a_second_day_gives_a_gap() {
    let orders = [order("m1", "o1", 10.0, &[]), order("m2", "o2", 15.0, &[])];
    let r = after_orders(None, "99", &model(), &orders, NOW);
    assert_eq!((num(&r.line, "frequency"), num(&r.line, "purchase_days"), num(&r.line, "monetary")), (2.0, 1.0, 25.0));
    let later = after_orders(Some(&r.line), "99", &model(), &[order("m3", "o3", 5.0, &[])], NOW + 12 * DAY_SECS);
    assert_eq!((num(&later.line, "purchase_days"), num(&later.line, "typical_gap_days"), num(&later.line, "repeat_spend")), (2.0, 12.0, 5.0));
}

#[test]
fn a_profile_built_without_purchase_days_is_rescored_and_loses_its_old_predictions() {
    // A profile without purchase days (from an older customers aggregate): RFM moves, predictions cannot.
    let mut line = at_risk();
    for key in ["purchase_days", "repeat_spend"] {
        if let Value::Object(m) = &mut line.traits {
            m.remove(key);
        }
    }
    let r = after_orders(Some(&line), "17850", &model(), &[order("m1", "o1", 150.0, &[])], NOW);
    assert_eq!(text(&r.line, "segment"), Some("Champions"));
    for key in ["p_alive", "churn_risk", "expected_next_order", "clv", "purchase_days"] {
        assert!(r.line.traits.path(key).is_none(), "{key}: predicted before this order, it no longer holds");
    }
}

fn server(json: serde_json::Value) -> Incoming {
    Incoming::Server(serde_json::from_value(json).unwrap())
}

fn completed(message_id: &str, order_id: &str) -> serde_json::Value {
    json!({ "type": "track", "event": "Order Completed", "messageId": message_id, "userId": "17850",
            "properties": { "order_id": order_id, "revenue": 42.5, "products": [{ "product_id": "A1", "price": 40, "quantity": 2 }] } })
}

#[test]
fn only_the_backends_orders_count_and_each_once() {
    // The customer's own browser reports order o1 first (the SDK on the thank-you page): only
    // the backend's report of it counts, once.
    let (mut o, _) = VisitorObject::load(None, "u:17850", NOW).unwrap();
    let browser = Incoming::Event(serde_json::from_value(completed("m0", "o1")).unwrap());
    let body = BundleBody {
        store: Default::default(),
        catalog: Catalog::new(vec![], vec![]),
        stats: Default::default(),
        recs: Default::default(),
        rules: Rules::default(),
    };
    o.apply(&body, b"k", &[browser.parse().unwrap()], NOW);
    assert!(o.live_orders([&browser]).is_empty());
    let batch = [browser, server(completed("m1", "o1")), server(completed("m2", "o1")), server(completed("m1", "o9")), server(completed("m3", "o3"))];
    let orders = o.live_orders(&batch);
    assert_eq!(orders.iter().map(|o| (o.message_id.as_str(), o.order_id.as_str(), o.value)).collect::<Vec<_>>(), [("m1", "o1", 42.5), ("m3", "o3", 42.5)]);
    assert_eq!(orders[0].skus, ["A1"]);
    // Without revenue or total, the products' price × quantity.
    let mut no_revenue = completed("m4", "o4");
    no_revenue["properties"].as_object_mut().unwrap().remove("revenue");
    assert_eq!(o.live_orders(&[server(no_revenue)])[0].value, 80.0);
    // An anonymous visitor's object has no profile to move.
    let (anon, _) = VisitorObject::load(None, "a:v1", NOW).unwrap();
    assert!(anon.live_orders(&[server(completed("m1", "o1"))]).is_empty());
}

#[test]
fn the_journeys_take_the_new_traits_after_the_order() {
    let rules: Rules = serde_json::from_value(json!({
        "journeys": [
            { "id": "churn", "trigger": "predicted_churn", "steps": [{ "after": "0s", "channel": "email", "subject": "Miss you", "body": "x" }] },
            { "id": "winback", "trigger": "win_back", "late_days": 7, "steps": [{ "after": "0s", "channel": "email", "subject": "Back?", "body": "x" }] }
        ]
    }))
    .unwrap();
    let body = BundleBody { store: Default::default(), catalog: Catalog::new(vec![], vec![]), stats: Default::default(), recs: Default::default(), rules };
    let real_now = NOW + 400 * DAY_SECS; // the edge's clock runs ahead of the data's
    let (mut o, _) = VisitorObject::load(None, "u:17850", real_now).unwrap();
    let incoming = [server(completed("m1", "o1"))];
    let orders = o.live_orders(&incoming);
    let rescored = after_orders(Some(&at_risk()), "17850", &model(), &orders, NOW);
    let mut events: Vec<_> = incoming.iter().map(|i| i.parse().unwrap()).collect();
    events.push(o.rescored_identify(&rescored, &orders, real_now).unwrap());
    o.rescored(&rescored, &orders);
    o.apply(&body, b"link-secret", &events, real_now);
    let s = &o.visitor;
    assert_eq!((s.profile.segment.as_str(), s.profile.churn_risk), ("Champions", Some(vitrine_engine::journey::ChurnRisk::Low)));
    assert!(s.run("churn").is_none(), "low risk after the order: no churn journey");
    // Win-back waits for the next order the models expect, counted from the real clock.
    let days = rescored.predicted.unwrap().next_order_day(0).unwrap();
    let run = s.run("winback").expect("armed");
    assert_eq!(run.anchor, (real_now / DAY_SECS + days) * DAY_SECS + 7 * DAY_SECS);
    // A retried batch, or the same order under a new message id: counted once.
    assert!(o.live_orders(&incoming).is_empty());
    assert!(o.live_orders(&[server(completed("m9", "o1"))]).is_empty());
    // It survives the object's sleep.
    let (woken, _) = VisitorObject::load(Some(&o.to_json()), "u:17850", real_now).unwrap();
    assert!(woken.live_orders(&[server(completed("m9", "o1"))]).is_empty());
    assert_eq!(woken.live_orders(&[server(completed("m10", "o2"))]).len(), 1);
}
