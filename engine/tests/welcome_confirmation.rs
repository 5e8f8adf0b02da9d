//! The welcome series and double opt-in (#21, lead capture): a visitor who typed an address
//! (the exit offer's form) and consented gets the welcome series, with the offer it promised,
//! only once the address is confirmed (its link followed, a YES text); a store's customer,
//! whose address the store vouched for, gets it on consent as before.

use vitrine_engine::bundle::{BundleBody, Catalog};
use vitrine_engine::journey::{self, Channel, Effect, Message, Record, Runner, VisitorState, DAY};
use vitrine_engine::rules::{Rules, Store, UniqueCode};
use vitrine_engine::Value;

const SECRET: &[u8] = b"link-secret";
/// 2026-11-23 12:00:00 UTC.
const T0: i64 = 1_795_435_200;

fn bundle() -> BundleBody {
    let rules: Rules = serde_json::from_str(
        r#"{
        "offers": [{"id": "join10", "kind": "percent_off", "value": 10, "headline": "10% off your first order", "capture": "email_and_sms"}],
        "journeys": [{"id": "welcome", "trigger": "welcome", "steps": [
            {"after": "0s", "channel": "email", "subject": "Welcome", "body": "Your code: {{offer.code}}", "offer": "join10"}
        ]}]
    }"#,
    )
    .unwrap();
    let rules = Rules { unique_codes: vec![UniqueCode { offer: "join10".into(), prefix: "JOIN".into(), valid_days: 30 }], ..rules };
    assert!(rules.check().is_empty(), "{:?}", rules.check());
    BundleBody {
        store: Store { name: "Gift Shop".into(), base_url: "https://shop.test".into(), ..Default::default() },
        catalog: Catalog::new(vec![], vec![]),
        stats: Default::default(),
        recs: Default::default(),
        rules,
    }
}

/// Applies one event (JSON, validated as `/v1/events` does) at `now`, then whatever is due.
fn send(runner: &Runner, s: &mut VisitorState, id: &str, user_id: &str, json: &str, now: i64) -> Vec<Effect> {
    let mut v: Value = serde_json::from_str(json).unwrap();
    v.set("messageId", id).set("anonymousId", "v1");
    if !user_id.is_empty() {
        v.set("userId", user_id);
    }
    let e = journey::parse(&v, json.len()).unwrap();
    let mut fx = runner.handle(s, &e, now);
    fx.extend(runner.on_alarm(s, now));
    fx
}

fn sent(fx: &[Effect]) -> Vec<&Message> {
    fx.iter().filter_map(|e| if let Effect::Send(m) = e { Some(&**m) } else { None }).collect()
}

fn started(fx: &[Effect]) -> bool {
    fx.iter().any(|e| matches!(e, Effect::Record(Record::Started { journey, .. }) if journey == "welcome"))
}

const LEAD: &str = r#"{"type":"identify","traits":{"email":"jo@example.com"}}"#;
const EMAIL_YES: &str = r#"{"type":"consent","channels":{"email":true}}"#;

#[test]
fn a_typed_email_gets_the_welcome_series_and_its_code_only_once_confirmed() {
    let body = bundle();
    let runner = Runner::new(&body, SECRET);
    let mut s = VisitorState { id: "a:v1".into(), ..Default::default() };
    let mut fx = send(&runner, &mut s, "m1", "", LEAD, T0);
    fx.extend(send(&runner, &mut s, "m2", "", EMAIL_YES, T0));
    assert!(!started(&fx) && sent(&fx).is_empty(), "nothing before the confirmation: {fx:?}");
    assert!(s.runs.is_empty() && s.subscribed_at.is_none());
    // Days later, still nothing (the series is not running unseen either).
    assert!(sent(&runner.on_alarm(&mut s, T0 + 3 * DAY)).is_empty());

    let at = T0 + 3 * DAY + 60;
    let mut fx = runner.confirmed(&mut s, Channel::Email, "jo@example.com", at);
    assert!(started(&fx), "the confirmation starts it: {fx:?}");
    assert_eq!(s.subscribed_at, Some(at));
    fx.extend(runner.on_alarm(&mut s, at));
    let m = sent(&fx);
    assert_eq!(m.len(), 1, "{fx:?}");
    assert_eq!((m[0].to.as_str(), m[0].offer_id.as_str()), ("jo@example.com", "join10"));
    assert!(m[0].offer_code.starts_with("JOIN-") && m[0].text.contains(&m[0].offer_code), "the visitor's own code: {:?}", m[0].text);

    // A second confirmation (the link followed again) starts nothing more.
    assert!(!started(&runner.confirmed(&mut s, Channel::Email, "jo@example.com", at + 10)));
}

#[test]
fn a_confirmation_of_another_address_or_without_consent_starts_nothing() {
    let body = bundle();
    let runner = Runner::new(&body, SECRET);
    let mut s = VisitorState { id: "a:v1".into(), ..Default::default() };
    send(&runner, &mut s, "m1", "", LEAD, T0);
    assert!(!started(&runner.confirmed(&mut s, Channel::Email, "jo@example.com", T0 + 1)), "no consent given: no welcome");
    assert!(s.profile.email_verified, "the address is confirmed all the same");

    let mut s = VisitorState { id: "a:v2".into(), ..Default::default() };
    send(&runner, &mut s, "m1", "", LEAD, T0);
    send(&runner, &mut s, "m2", "", EMAIL_YES, T0);
    assert!(!started(&runner.confirmed(&mut s, Channel::Email, "someone@else.example", T0 + 1)), "another address confirmed");
    assert!(!s.profile.email_verified && s.runs.is_empty());
}

#[test]
fn a_yes_text_confirms_the_number_and_starts_the_welcome_series() {
    let body = bundle();
    let runner = Runner::new(&body, SECRET);
    let mut s = VisitorState { id: "a:v1".into(), ..Default::default() };
    send(&runner, &mut s, "m1", "", r#"{"type":"identify","traits":{"phone":"+447400123456"}}"#, T0);
    let fx = send(&runner, &mut s, "m2", "", r#"{"type":"consent","channels":{"sms":true}}"#, T0);
    assert!(!started(&fx), "waits for the number's YES");
    let yes = journey::Event {
        message_id: "sms-1".into(),
        anonymous_id: String::new(),
        user_id: String::new(),
        utc_offset_minutes: None,
        time_zone: None,
        kind: journey::EventKind::SmsReply { body: "YES".into(), channel: Channel::Sms },
    };
    assert!(started(&runner.handle(&mut s, &yes, T0 + 600)), "the YES starts it");
}

#[test]
fn a_customers_vouched_address_or_a_consent_before_any_address_starts_it_at_once() {
    let body = bundle();
    let runner = Runner::new(&body, SECRET);
    // The store's customer: an identify with proof (a userId) vouches for the email.
    let mut s = VisitorState { id: "u:c1".into(), ..Default::default() };
    send(&runner, &mut s, "m1", "c1", LEAD, T0);
    let fx = send(&runner, &mut s, "m2", "c1", EMAIL_YES, T0);
    assert!(started(&fx) && sent(&fx).len() == 1, "{fx:?}");

    // No address known yet: as before, the series starts (its messages wait for an address).
    let mut s = VisitorState { id: "a:v3".into(), ..Default::default() };
    assert!(started(&send(&runner, &mut s, "m1", "", EMAIL_YES, T0)));
}
