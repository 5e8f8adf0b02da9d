//! The predicted traits (#20) at the edge, from a private profile line as model-builder writes
//! it (`profile:<id>` in KV) through the signed profile cookie to `/v1/decide?explain=1` and
//! `/v1/exit-offer?explain=1`: placements, variants, segments and offers target
//! `traits.churn_risk`, `traits.p_alive`, `traits.clv`; the explanation names the traits the
//! deciding conditions read, with their values. Natively, as the worker calls these.

use serde_json::{json, Value as Json};
use vitrine_edge::api::{decide, exit_offer, parse_decide_query};
use vitrine_edge::context::{identify, visitor, RequestInfo};
use vitrine_edge::profile::{cookie_traits, issue, ProfileClaims};
use vitrine_edge::profile_line::ProfileLine;
mod common;

use vitrine_engine::bundle::{BundleBody, Catalog, RecTables, Scored};
use vitrine_engine::rules::Rules;
use vitrine_engine::{cookies, Engine};

const NOW: i64 = 1_795_435_200;
const SECRET: &[u8] = b"profile-secret";

/// A win-back carousel for customers likely to churn, a hero whose variants speak to the
/// likely-lost and the valuable, a segment of high predicted value, an exit offer for those
/// likely to churn.
fn engine() -> Engine {
    let popular = vec![Scored { item: 0, score: 2.0 }, Scored { item: 1, score: 1.0 }];
    common::engine(
        &["A1", "A2"],
        RecTables { popular, ..Default::default() },
        json!({
            "pages": [{ "pattern": "/", "page": "home" }],
            "segments": [{ "name": "high-value", "when": { "traits.clv": { "$gte": 500 } } }],
            "placements": [
                { "id": "come-back", "when": { "traits.churn_risk": "high" }, "sources": [{ "recommender": "popular" }], "max_items": 2 },
                { "id": "hero", "variants": [
                    { "name": "miss-you", "when": { "$or": [{ "traits.p_alive": { "$lt": 0.3 } }, { "traits.expected_next_order": { "$lt": "2026-11-01" } }] }, "html": "<p>We miss you</p>" },
                    { "name": "vip", "when": { "segments": "high-value" }, "html": "<p>Thank you</p>" },
                    { "name": "default", "html": "<p>Hello</p>" }
                ]}
            ],
            "offers": [
                { "id": "stay10", "scenario": "exit_intent", "when": { "traits.churn_risk": { "$in": ["high", "medium"] } }, "kind": "percent_off", "value": 10, "code": "STAY10", "headline": "10% to stay" }
            ],
            "measurement": { "holdout": 0 },
        }),
    )
}

/// The profile line → the cookie the edge signs for it (what `/v1/identify` and the page
/// picker set) → the visitor of a request carrying it.
fn cookie_of(line: &str) -> String {
    let line = ProfileLine::parse(line).unwrap();
    let claims = ProfileClaims { cid: line.customer_id.clone(), traits: cookie_traits(line.traits), iat: NOW };
    format!("{}=visitor-0001; {}={}", cookies::VISITOR, cookies::PROFILE, issue(&claims, SECRET))
}

/// `GET <route>?<query>` with the profile line's cookie, as the edge answers it.
fn get(e: &Engine, query: &str, line: &str) -> Json {
    let q = parse_decide_query(query, query.contains("placement="), false).unwrap();
    let info = RequestInfo { cookie: Some(cookie_of(line)), ..RequestInfo::default() };
    let facts = info.facts(&q.path, &q.page_query);
    let id = identify(&facts, Some(SECRET), || unreachable!("the cookie names the visitor"));
    assert_eq!(id.problem, None);
    let v = visitor(e, &facts, &id, NOW);
    let reply = if q.placement.is_empty() { exit_offer(e, &v, &q, NOW).expect("an offer") } else { decide(e, "v1", &v, &q, NOW) };
    assert_eq!(reply.status, 200, "{}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

const HIGH: &str = r#"{"customer_id":"17850","segment":"At risk","email":"jo@example.com","p_alive":0.18,"expected_orders_30":0.04,"expected_orders_90":0.12,"expected_orders_365":0.41,"expected_next_order":"2026-09-14","clv":820.5,"churn_risk":"high"}"#;
const LOW: &str = r#"{"customer_id":"12346","segment":"Loyal","p_alive":0.97,"expected_orders_30":1.2,"expected_orders_90":3.4,"expected_orders_365":12.9,"expected_next_order":"2026-12-02","clv":95.0,"churn_risk":"low"}"#;
/// A customer the builder could not fit (one order): no predicted trait at all.
const NO_FIT: &str = r#"{"customer_id":"13000","segment":"New","frequency":1}"#;

#[test]
fn a_placement_for_likely_churners_fills_for_a_high_risk_customer_only() {
    let e = engine();
    let d = get(&e, "placement=come-back&path=%2F&explain=1", HIGH);
    assert_eq!(d["status"], "filled", "{d}");
    // Its `when` read the churn risk; the segment the customer is in, their predicted value.
    assert_eq!(d["explain"]["traits"], json!({ "churn_risk": "high", "clv": 820.5 }));
    for (line, value) in [(LOW, json!("low")), (NO_FIT, Json::Null)] {
        let d = get(&e, "placement=come-back&path=%2F&explain=1", line);
        assert_eq!((d["status"].as_str(), &d["explain"]["rule"]), (Some("not_targeted"), &json!("placements.come-back.when")));
        assert_eq!(d["explain"]["traits"], json!({ "churn_risk": value }), "what it read, and that the visitor had {value}");
    }
    // Without `explain`, nothing of it shows.
    assert!(get(&e, "placement=come-back&path=%2F", HIGH).get("explain").is_none());
}

#[test]
fn explain_names_the_traits_of_the_variants_asked_and_of_the_segments_the_visitor_is_in() {
    let e = engine();
    let d = get(&e, "placement=hero&path=%2F&explain=1", HIGH);
    assert_eq!((d["variant"].as_str(), d["explain"]["segments"].clone()), (Some("miss-you"), json!(["high-value"])));
    assert_eq!(d["explain"]["traits"], json!({ "clv": 820.5, "expected_next_order": "2026-09-14", "p_alive": 0.18 }));
    // The loyal customer: no variant before the default matched; every one asked is named.
    let d = get(&e, "placement=hero&path=%2F&explain=1", LOW);
    assert_eq!((d["variant"].as_str(), d["explain"]["segments"].clone()), (Some("default"), json!([])));
    assert_eq!(d["explain"]["traits"], json!({ "expected_next_order": "2026-12-02", "p_alive": 0.97 }));
}

#[test]
fn the_exit_offer_for_likely_churners_says_what_it_read() {
    let e = engine();
    let o = get(&e, "path=%2F&explain=1", HIGH);
    assert_eq!((o["id"].as_str(), &o["explain"]["traits"]), (Some("stay10"), &json!({ "churn_risk": "high", "clv": 820.5 })));
}

/// The customer's object as the worker wakes it: stored JSON in, a batch of events, the
/// profile read from KV when the batch has their identify, the journeys run, stored JSON out.
/// Also the journeys that started and those that ended, by id.
fn wake(stored: Option<&str>, body: &BundleBody, events: &[&str], line: &str, now: i64) -> (String, Vec<String>, Vec<String>) {
    use vitrine_edge::visitor_do::VisitorObject;
    use vitrine_engine::journey::{Effect, Record};
    let (mut o, _) = VisitorObject::load(stored, "u:17850", now).unwrap();
    let raw: Vec<vitrine_engine::Value> = events.iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    let mut events = VisitorObject::parse_events(&raw).unwrap();
    if o.profile_to_read(&events).is_some() {
        o.enrich(&mut events, &ProfileLine::parse(line).unwrap());
    }
    let applied = o.apply(body, b"link-secret", &events, now);
    let (mut started, mut ended) = (vec![], vec![]);
    for e in &applied.effects {
        match e {
            Effect::Record(Record::Started { journey, .. }) => started.push(journey.clone()),
            Effect::Record(Record::Ended { journey, .. }) => ended.push(journey.clone()),
            _ => {}
        }
    }
    (o.to_json(), started, ended)
}

#[test]
fn the_visitor_object_starts_predicted_churn_from_the_profile_and_a_newer_build_reaches_it() {
    let rules: Rules = serde_json::from_value(json!({
        "journeys": [{ "id": "churn", "trigger": "predicted_churn", "steps": [
            { "after": "0s", "channel": "email", "subject": "We kept these for you", "body": "{{products}}" },
            { "after": "7d", "channel": "email", "subject": "Still here for you", "body": "{{products}}" }
        ]}]
    }))
    .unwrap();
    let body = BundleBody { store: Default::default(), catalog: Catalog::new(vec![], vec![]), stats: Default::default(), recs: Default::default(), rules };
    let identify = |id: &str| format!(r#"{{"type":"identify","messageId":"{id}","userId":"17850","traits":{{}}}}"#);
    // Last night's build: medium risk, with a typical gap known. Nothing starts.
    let medium = HIGH.replace(r#""churn_risk":"high""#, r#""churn_risk":"medium","typical_gap_days":30"#);
    let (stored, started, _) = wake(None, &body, &[&identify("m1")], &medium, NOW);
    assert_eq!(started, Vec::<String>::new());
    // Tonight's build says high: the next wake-up with an identify reads it and starts the journey.
    let (stored, started, _) = wake(Some(&stored), &body, &[&identify("m2")], &HIGH.replace(r#""clv""#, r#""typical_gap_days":30,"clv""#), NOW + 86_400);
    assert_eq!(started, ["churn"]);
    // A later build says medium again, with no order in between: the run under way ends before
    // its second step (and the object keeps no run of it).
    let (stored, started, ended) = wake(Some(&stored), &body, &[&identify("m3")], &medium, NOW + 2 * 86_400);
    assert_eq!((started, ended), (vec![], vec!["churn".to_string()]));
    assert!(!stored.contains(r#""journey":"churn""#), "{stored}");
}
