//! `/v1/decide?explain=1` names the merchandising rules that acted, from a request as the
//! worker reads it (cookies, query, page path), natively.

use serde_json::{json, Value as Json};
use vitrine_edge::api::{decide, parse_decide_query};
use vitrine_edge::context::{identify, visitor, RequestInfo};
mod common;

use vitrine_engine::bundle::{RecTables, Scored};
use vitrine_engine::Engine;

const NOW: i64 = 1_700_000_000;

/// Four products, all popular; carousel `for-you` of 3; a pin for visitors from the summer
/// newsletter and an exclude for everyone.
fn engine() -> Engine {
    let popular = (0..3).map(|i| Scored { item: i, score: 10.0 - i as f32 }).collect();
    common::engine(
        &["A1", "A2", "A3", "GIFT"],
        RecTables { popular, ..Default::default() },
        json!({
            "pages": [{ "pattern": "/", "page": "home" }],
            "placements": [{ "id": "for-you", "sources": [{ "recommender": "popular" }], "max_items": 3 }],
            "merchandising": [
                { "id": "gift-first-for-summer", "action": "pin", "skus": ["GIFT"], "position": 1, "when": { "utm.campaign": "summer" } },
                { "id": "no-a2", "action": "exclude", "skus": ["A2"] }
            ],
            "measurement": { "holdout": 0 },
        }),
    )
}

/// `GET /v1/decide?<query>` with `cookie`, as the edge answers it.
fn get(e: &Engine, query: &str, cookie: &str) -> Json {
    let q = parse_decide_query(query, true, false).unwrap();
    let info = RequestInfo { cookie: Some(cookie.into()), ..RequestInfo::default() };
    let facts = info.facts(&q.path, &q.page_query);
    let id = identify(&facts, None, || "fresh".into());
    let v = visitor(e, &facts, &id, NOW);
    let reply = decide(e, "v1", &v, &q, NOW);
    assert_eq!(reply.status, 200, "{}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

fn skus(d: &Json) -> Vec<&str> {
    d["items"].as_array().unwrap().iter().map(|i| i["sku"].as_str().unwrap()).collect()
}

#[test]
fn explain_names_the_merchandising_rules_and_what_they_did() {
    let e = engine();
    let d = get(&e, "placement=for-you&path=%2F&explain=1", "vt_vid=v-merch-1");
    assert_eq!(skus(&d), ["A1", "A3"], "A2 excluded; nothing else to show");
    assert_eq!(d["explain"]["merchandising"], json!([{ "rule": "no-a2", "action": "exclude", "sku": "A2", "score": 0.0, "position": 0 }]));

    // The newsletter's visitors (the page's UTM) get the pin too, on top.
    let d = get(&e, "placement=for-you&path=%2F%3Futm_campaign%3Dsummer&explain=1", "vt_vid=v-merch-1");
    assert_eq!(skus(&d), ["GIFT", "A1", "A3"]);
    let rules: Vec<(&str, &str, u64)> = d["explain"]["merchandising"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["rule"].as_str().unwrap(), m["sku"].as_str().unwrap(), m["position"].as_u64().unwrap()))
        .collect();
    assert_eq!(rules, [("gift-first-for-summer", "GIFT", 1), ("no-a2", "A2", 0)]);
    assert_eq!(d["items"][0]["source"], "merchandising", "no recommender offered it");

    // In the cart already: the pin obeys the placement and names why it is not shown.
    let d = get(&e, "placement=for-you&path=%2F%3Futm_campaign%3Dsummer&explain=1", "vt_vid=v-merch-1; vt_cart=GIFT:1");
    assert_eq!(skus(&d), ["A1", "A3"]);
    assert_eq!(d["explain"]["merchandising"][0]["position"], 0);

    // Without explain=1 the answer has no explain at all.
    assert!(get(&e, "placement=for-you&path=%2F", "vt_vid=v-merch-1").get("explain").is_none());
}
