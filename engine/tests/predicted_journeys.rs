//! Journeys timed by the predicted traits (#20): `predicted_churn` starts when a known
//! customer's profile says their churn risk is high, once per churn episode, and an order ends
//! it; a `win_back` with `late_days` waits for the expected next order to be that many days
//! late, and customers without a prediction keep the typical gap. The profile reaches the
//! runner as the edge hands it over: an identify naming the customer, its traits filled from
//! the private profile line (`edge/src/profile_line.rs`).

use vitrine_engine::bundle::{BundleBody, Catalog, Product, Scored};
use vitrine_engine::journey::{self, ChurnRisk, Effect, EndReason, Message, Record, Runner, VisitorState, DAY};
use vitrine_engine::rules::{Rules, Store};
use vitrine_engine::Value;

const SECRET: &[u8] = b"link-secret";
/// 2026-11-23 12:00:00 UTC.
const T0: i64 = 1_795_435_200;
/// 2026-11-23 00:00 UTC: the day T0 falls on, as a profile's dates are read.
const DAY0: i64 = T0 - 12 * 3600;

fn rules(extra: &str) -> Rules {
    let json = format!(
        r#"{{"journeys": [
          {{"id": "churn", "trigger": "predicted_churn", "steps": [
            {{"after": "0s", "channel": "email", "subject": "We saved these for you", "body": "{{{{products}}}}"}},
            {{"after": "7d", "channel": "email", "subject": "Still here for you", "body": "{{{{products}}}}"}}
          ]}},
          {{"id": "winback", "trigger": "win_back" {extra}, "steps": [
            {{"after": "0s", "channel": "email", "subject": "We miss you", "body": "{{{{products}}}}"}}
          ]}}
        ]}}"#
    );
    let rules: Rules = serde_json::from_str(&json).unwrap();
    assert_eq!(journey::check(&rules), Vec::<String>::new());
    rules
}

fn bundle(rules: Rules) -> BundleBody {
    let product = |sku: &str| Product { sku: sku.into(), title: sku.into(), price: 5.0, in_stock: true, ..Default::default() };
    BundleBody {
        store: Store { name: "Gift Shop".into(), base_url: "https://shop.test".into(), ..Default::default() },
        catalog: Catalog::new(vec![product("A"), product("B")], vec![]),
        stats: Default::default(),
        recs: vitrine_engine::bundle::RecTables { popular: vec![Scored { item: 1, score: 2.0 }, Scored { item: 0, score: 1.0 }], ..Default::default() },
        rules,
    }
}

/// One customer's object, its clock and what it sent, as the edge's Durable Object runs it.
struct Customer<'a> {
    runner: Runner<'a>,
    state: VisitorState,
    now: i64,
    ids: u32,
    sent: Vec<Message>,
    records: Vec<Record>,
}

impl<'a> Customer<'a> {
    fn new(body: &'a BundleBody, key: &str) -> Self {
        Customer { runner: Runner::new(body, SECRET), state: VisitorState::new(key), now: T0, ids: 0, sent: vec![], records: vec![] }
    }

    /// One event, validated as `/v1/events` does; `user_id` empty for an anonymous one.
    fn send(&mut self, user_id: &str, json: &str) {
        let mut v: Value = serde_json::from_str(json).unwrap();
        self.ids += 1;
        v.set("messageId", format!("m{}", self.ids)).set("anonymousId", "device-1");
        if !user_id.is_empty() {
            v.set("userId", user_id);
        }
        let e = journey::parse(&v, json.len()).unwrap_or_else(|r| panic!("refused: {r}: {json}"));
        let fx = self.runner.handle(&mut self.state, &e, self.now);
        self.apply(fx);
    }

    /// The customer's profile arriving: an identify with proof naming them, its traits the
    /// profile line's (what the edge's visitor object fills in).
    fn profile(&mut self, traits: &str) {
        self.send("c1", &format!(r#"{{"type":"identify","traits":{{"email":"jo@example.com",{traits}}}}}"#));
    }

    fn order(&mut self, id: &str) {
        self.send("c1", &format!(r#"{{"type":"track","event":"Order Completed","properties":{{"order_id":"{id}","products":[{{"sku":"A"}}]}}}}"#));
    }

    /// Moves the clock to `t`, firing the object's alarm on the way at its own time.
    fn advance_to(&mut self, t: i64) {
        while let Some(at) = self.state.alarm.filter(|&a| a <= t) {
            self.now = self.now.max(at);
            let fx = self.runner.on_alarm(&mut self.state, self.now);
            self.apply(fx);
        }
        self.now = t;
    }

    fn apply(&mut self, fx: Vec<Effect>) {
        for e in fx {
            match e {
                Effect::Send(m) => self.sent.push(*m),
                Effect::Record(r) => self.records.push(r),
                Effect::SetAlarm(_) | Effect::ClearAlarm => {}
            }
        }
    }

    /// When journey `journey`'s messages went.
    fn sent_at(&self, journey: &str) -> Vec<i64> {
        self.sent.iter().filter(|m| m.journey == journey).map(|m| m.created_at).collect()
    }

    fn ended(&self, journey: &str) -> Vec<EndReason> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::Ended { journey: j, reason, .. } if j == journey => Some(*reason),
                _ => None,
            })
            .collect()
    }
}

const EMAIL_YES: &str = r#"{"type":"consent","channels":{"email":true}}"#;

fn day(unix: i64) -> String {
    vitrine_engine::civil::day_string(unix)
}

#[test]
fn a_high_churn_risk_starts_the_journey_once_an_order_ends_it_and_rearms_it() {
    let body = bundle(rules(""));
    let mut c = Customer::new(&body, "u:c1");
    c.send("c1", EMAIL_YES);
    let last = day(T0 - 200 * DAY);
    c.profile(&format!(r#""churn_risk":"high","last_order_at":{}"#, DAY0 - 200 * DAY));
    assert_eq!(c.state.profile.churn_risk, Some(ChurnRisk::High));
    // Steps count from the moment the profile said it: the first at once, the second a week on.
    c.advance_to(T0 + 10 * DAY);
    assert_eq!(c.sent_at("churn"), [T0, T0 + 7 * DAY]);
    assert_eq!(c.ended("churn"), [EndReason::Completed]);

    // The same profile again (every wake-up re-reads it): the episode already had its journey.
    c.profile(r#""churn_risk":"high""#);
    c.advance_to(T0 + 20 * DAY);
    assert_eq!(c.sent_at("churn").len(), 2, "once per churn episode ({last})");

    // An order ends the episode; the next build's profile says high again: a new episode.
    c.order("o1");
    let ordered = c.now;
    c.advance_to(T0 + 100 * DAY);
    c.profile(&format!(r#""churn_risk":"high","last_order_at":{}"#, ordered - ordered.rem_euclid(DAY)));
    c.advance_to(T0 + 101 * DAY);
    assert_eq!(c.sent_at("churn"), [T0, T0 + 7 * DAY, T0 + 100 * DAY]);
    // And an order in the middle of a run ends it.
    c.order("o2");
    c.advance_to(T0 + 120 * DAY);
    assert_eq!(c.sent_at("churn").len(), 3, "the second step never went");
    assert_eq!(c.ended("churn"), [EndReason::Completed, EndReason::OrderCompleted]);
}

#[test]
fn a_risk_that_becomes_high_starts_it_and_low_medium_or_no_fit_do_not() {
    let body = bundle(rules(""));
    let mut c = Customer::new(&body, "u:c1");
    c.send("c1", EMAIL_YES);
    c.profile(r#""typical_gap_days":30"#); // no fit: no churn_risk at all
    c.profile(r#""churn_risk":"low""#);
    c.advance_to(T0 + DAY);
    c.profile(r#""churn_risk":"medium""#);
    c.advance_to(T0 + 2 * DAY);
    assert_eq!(c.sent_at("churn"), Vec::<i64>::new());
    c.profile(r#""churn_risk":"high""#);
    c.advance_to(T0 + 3 * DAY);
    assert_eq!(c.sent_at("churn"), [T0 + 2 * DAY], "from the moment it became high");
}

#[test]
fn a_newer_prediction_that_the_risk_is_no_longer_high_ends_the_run_without_an_order() {
    let body = bundle(rules(""));
    let mut c = Customer::new(&body, "u:c1");
    c.send("c1", EMAIL_YES);
    c.profile(r#""churn_risk":"high""#);
    c.advance_to(T0 + DAY);
    assert_eq!(c.sent_at("churn"), [T0]);
    // The next build's model no longer sees the risk (they came back to browse, say): the
    // second step, "Still here for you", must not go to a customer it no longer fits.
    c.profile(r#""churn_risk":"medium""#);
    c.advance_to(T0 + 30 * DAY);
    assert_eq!(c.sent_at("churn"), [T0], "the run under way ended");
    assert_eq!(c.ended("churn"), [EndReason::RiskLowered]);
    assert!(c.state.run("churn").is_none());

    // A profile saying nothing of the risk (no fit this build) leaves a run as it is.
    let mut c = Customer::new(&body, "u:c1");
    c.send("c1", EMAIL_YES);
    c.profile(r#""churn_risk":"high""#);
    c.profile(r#""typical_gap_days":30"#);
    c.advance_to(T0 + 8 * DAY);
    assert_eq!(c.sent_at("churn"), [T0, T0 + 7 * DAY]);

    // Only the store's word counts: an anonymous identify on the same device cannot end it
    // (so no one stops a customer's messages by claiming a low risk for them).
    let mut c = Customer::new(&body, "u:c1");
    c.send("c1", EMAIL_YES);
    c.profile(r#""churn_risk":"high""#);
    c.send("", r#"{"type":"identify","traits":{"churn_risk":"low"}}"#);
    c.advance_to(T0 + 8 * DAY);
    assert_eq!(c.sent_at("churn"), [T0, T0 + 7 * DAY]);
    assert_eq!(c.ended("churn"), [EndReason::Completed]);

    // Back to high in the same episode (no order since): once per episode, so not again.
    let mut c = Customer::new(&body, "u:c1");
    c.send("c1", EMAIL_YES);
    c.profile(r#""churn_risk":"high""#);
    c.advance_to(T0);
    c.profile(r#""churn_risk":"low""#);
    c.advance_to(T0 + DAY);
    c.profile(r#""churn_risk":"high""#);
    c.advance_to(T0 + 30 * DAY);
    assert_eq!(c.sent_at("churn"), [T0], "a model's wavering near the line is not a new episode");
}

#[test]
fn only_the_stores_word_about_a_known_customer_counts() {
    let body = bundle(rules(""));
    // An anonymous visitor cannot say their own churn risk (nor their next order).
    let mut anon = Customer::new(&body, "a:device-1");
    anon.send("", EMAIL_YES);
    anon.send("", r#"{"type":"identify","traits":{"email":"jo@example.com","churn_risk":"high","expected_next_order":"2026-12-01"}}"#);
    anon.advance_to(T0 + 10 * DAY);
    assert!(anon.sent.is_empty() && anon.state.runs.is_empty());
    assert_eq!((anon.state.profile.churn_risk, anon.state.profile.expected_next_order_at), (None, None));

    // A profile made before the customer's latest order is about that order: ignored.
    let mut c = Customer::new(&body, "u:c1");
    c.send("c1", EMAIL_YES);
    c.order("o1");
    c.advance_to(T0 + DAY);
    c.profile(&format!(r#""churn_risk":"high","last_order_at":{}"#, DAY0 - 40 * DAY));
    c.advance_to(T0 + 10 * DAY);
    assert_eq!(c.sent_at("churn"), Vec::<i64>::new());
    assert_eq!(c.state.profile.churn_risk, None);
}

#[test]
fn the_journeys_when_reads_the_predicted_traits() {
    let mut r = rules("");
    r.journeys[0].when = serde_json::from_str(r#"{"traits.clv": {"$gte": 100}}"#).unwrap();
    let body = bundle(r);
    for (clv, starts) in [(Some(250.0), true), (Some(40.0), false), (None, false)] {
        let mut c = Customer::new(&body, "u:c1");
        // The edge's object keeps the profile line's traits for conditions (`traits.*`).
        if let Some(clv) = clv {
            c.state.profile.traits = serde_json::from_str(&format!(r#"{{"clv":{clv},"churn_risk":"high"}}"#)).unwrap();
        }
        c.send("c1", EMAIL_YES);
        c.profile(r#""churn_risk":"high""#);
        assert_eq!(c.state.run("churn").is_some(), starts, "clv {clv:?}");
    }
}

#[test]
fn win_back_waits_for_the_expected_next_order_to_be_late_days_late() {
    let body = bundle(rules(r#", "late_days": 10"#));
    let mut c = Customer::new(&body, "u:c1");
    c.send("c1", EMAIL_YES);
    let expected = DAY0 + 5 * DAY;
    c.profile(&format!(r#""typical_gap_days":30,"last_order_at":{},"expected_next_order":"{}""#, DAY0 - 20 * DAY, day(expected)));
    c.advance_to(T0 + 60 * DAY);
    assert_eq!(c.sent_at("winback"), [expected + 10 * DAY], "not the typical gap's {}", day(DAY0 + 10 * DAY));

    // After an order, the prediction is about the order that came: the typical gap again.
    c.order("o1");
    let ordered = c.now;
    c.advance_to(ordered + 40 * DAY);
    assert_eq!(c.sent_at("winback")[1..], [ordered + 30 * DAY]);
}

#[test]
fn a_newer_prediction_moves_a_win_back_that_has_not_sent_yet() {
    let body = bundle(rules(r#", "late_days": 3"#));
    let mut c = Customer::new(&body, "u:c1");
    c.send("c1", EMAIL_YES);
    c.profile(&format!(r#""last_order_at":{},"expected_next_order":"{}""#, DAY0 - 20 * DAY, day(DAY0 + 10 * DAY)));
    c.advance_to(T0 + DAY);
    c.profile(&format!(r#""expected_next_order":"{}""#, day(DAY0 + 30 * DAY)));
    c.advance_to(T0 + 60 * DAY);
    assert_eq!(c.sent_at("winback"), [DAY0 + 33 * DAY]);
}

#[test]
fn without_a_prediction_or_without_late_days_win_back_keeps_the_typical_gap() {
    let last = DAY0 - 20 * DAY;
    let profile = format!(r#""typical_gap_days":30,"last_order_at":{last}"#);
    let with_prediction = format!(r#"{profile},"expected_next_order":"{}""#, day(DAY0 + 2 * DAY));
    for (late_days, traits) in [(r#", "late_days": 10"#, &profile), ("", &with_prediction)] {
        let body = bundle(rules(late_days));
        let mut c = Customer::new(&body, "u:c1");
        c.send("c1", EMAIL_YES);
        c.profile(traits);
        c.advance_to(T0 + 60 * DAY);
        assert_eq!(c.sent_at("winback"), [last + 30 * DAY], "{late_days:?} {traits}");
    }
}

#[test]
fn config_and_event_mistakes_name_their_place() {
    let mut r = rules(r#", "late_days": 10"#);
    r.journeys[0].late_days = Some(5);
    r.journeys[1].late_days = Some(400);
    assert_eq!(
        journey::check(&r),
        [
            "journeys[0].late_days: only a win_back journey is timed from the expected next order, not predicted_churn",
            "journeys[1].late_days: 400 must be at most 365 days",
        ]
    );
    let refuse = |traits: &str| {
        let v: Value = serde_json::from_str(&format!(r#"{{"type":"identify","messageId":"m","userId":"c1","traits":{{{traits}}}}}"#)).unwrap();
        journey::parse(&v, 0).unwrap_err().to_string()
    };
    assert_eq!(refuse(r#""churn_risk":"extreme""#), r#"traits.churn_risk must be "low", "medium" or "high""#);
    assert_eq!(refuse(r#""expected_next_order":"2026-02-30""#), r#"traits.expected_next_order must be a day, "YYYY-MM-DD""#);
    assert_eq!(refuse(r#""churn_risk":7"#), "churn_risk must be a string of at most 2048 bytes");
}

#[test]
fn the_new_trigger_and_late_days_survive_the_bundle_encoding_and_old_state_loads() {
    let body = bundle(rules(r#", "late_days": 0"#));
    let header = vitrine_engine::bundle::Header { format_version: vitrine_engine::bundle::FORMAT_VERSION, build_id: [1; 16], created_at: 0 };
    let back = vitrine_engine::bundle::decode(&vitrine_engine::bundle::encode(&header, &body)).unwrap().body.rules;
    assert_eq!(back, body.rules);
    assert_eq!((back.journeys[0].trigger.as_str(), back.journeys[1].late_days), ("predicted_churn", Some(0)));
    // State written before the predicted traits existed still loads, with none.
    let old: VisitorState = serde_json::from_str(r#"{"id":"u:1","profile":{"user_id":"1","typical_gap_days":30}}"#).unwrap();
    assert_eq!((old.profile.churn_risk, old.profile.expected_next_order_at), (None, None));
}
