//! Journeys driven with a virtual clock, through a host that routes events the way the edge
//! worker's Durable Objects do: one state per visitor key, identify links the anonymous key to
//! the customer's and folds its state in.

use std::collections::BTreeMap;

use vitrine_engine::bundle::{BundleBody, Catalog, Neighbors, Product, Scored};
use vitrine_engine::journey::{self, Channel, Effect, EndReason, LinkClaims, Message, Record, Runner, SkipReason, VisitorState, DAY, HOUR};
use vitrine_engine::rules::{Arm, Experiment, Measurement, Rules, Store};
use vitrine_engine::zones::Tzdb;
use vitrine_engine::{token, Value};

const SECRET: &[u8] = b"link-secret";
/// 2026-11-23 12:00:00 UTC (a Monday).
const T0: i64 = 1_795_435_200;

/// The test config: the production shape with short, round delays.
fn rules(messaging: &str) -> Rules {
    let json = format!(
        r#"{{
        "offers": [{{"id": "cart10", "kind": "percent_off", "value": 10, "code": "CART10", "headline": "10% off your cart"}}],
        "messaging": {messaging},
        "journeys": [
          {{"id": "cart", "trigger": "cart_abandonment", "reentry": "1d", "steps": [
            {{"after": "1h", "channel": "push", "subject": "Still in your cart", "body": "{{{{product.title}}}} is waiting, {{{{first_name}}}}"}},
            {{"after": "24h", "channel": "sms", "body": "Your cart ({{{{cart.value}}}}) is saved: {{{{link}}}}", "landing": "/cart"}},
            {{"after": "48h", "channel": "email", "subject": "{{{{first_name}}}}, 10% off your cart", "body": "Hi {{{{first_name}}}},\n\n{{{{products}}}}\n\nCode {{{{offer.code}}}}", "offer": "cart10"}}
          ]}},
          {{"id": "browse", "trigger": "browse_abandonment", "reentry": "7d", "steps": [
            {{"after": "2h", "channel": "email", "subject": "Still thinking about these?", "body": "{{{{products}}}}"}}
          ]}},
          {{"id": "after_order", "trigger": "post_purchase", "steps": [
            {{"after": "3d", "channel": "email", "subject": "Goes well with your order", "body": "Care tips, and: {{{{products}}}}"}}
          ]}},
          {{"id": "welcome", "trigger": "welcome", "steps": [
            {{"after": "0s", "channel": "email", "subject": "Welcome to {{{{store.name}}}}", "body": "Hello {{{{first_name}}}}"}},
            {{"after": "3d", "channel": "email", "subject": "Our bestsellers", "body": "{{{{products}}}}"}}
          ]}},
          {{"id": "winback", "trigger": "win_back", "steps": [
            {{"after": "0s", "channel": "email", "subject": "We miss you", "body": "{{{{products}}}}"}}
          ]}}
        ]
    }}"#
    );
    let rules: Rules = serde_json::from_str(&json).unwrap();
    assert_eq!(journey::check(&rules), Vec::<String>::new());
    rules
}

fn bundle(rules: Rules) -> BundleBody {
    let product = |sku: &str, title: &str, price: f32| Product {
        sku: sku.into(),
        title: title.into(),
        url: format!("/products/{sku}"),
        image: format!("/img/{sku}.jpg"),
        price,
        in_stock: true,
        ..Default::default()
    };
    // Sorted by SKU, as the builder writes them.
    let products =
        vec![product("A", "Heart T-light holder", 2.55), product("B", "Tea lights (24)", 1.25), product("C", "Lantern", 3.75), product("D", "Doormat", 7.95)];
    let scored = |item, score| Scored { item, score };
    BundleBody {
        store: Store {
            name: "Gift Shop".into(),
            currency: "GBP".into(),
            currency_symbol: "£".into(),
            base_url: "https://shop.test".into(),
            ..Default::default()
        },
        catalog: Catalog::new(products, vec![]),
        stats: Default::default(),
        recs: vitrine_engine::bundle::RecTables {
            // A goes with B then C; D with A.
            bought_together: Neighbors::from_lists(vec![
                vec![scored(1, 0.9), scored(2, 0.5)],
                vec![scored(0, 0.9)],
                vec![scored(0, 0.5)],
                vec![scored(0, 0.2)],
            ]),
            popular: vec![scored(3, 10.0), scored(0, 8.0)],
            ..Default::default()
        },
        rules,
    }
}

/// A host with a virtual clock: routes events to per-visitor states like the Durable Objects.
struct Host {
    body: BundleBody,
    now: i64,
    states: BTreeMap<String, VisitorState>,
    /// Anonymous key -> customer key, set by identify.
    links: BTreeMap<String, String>,
    sent: Vec<Message>,
    records: Vec<Record>,
    next_id: u32,
}

impl Host {
    fn new(messaging: &str) -> Host {
        Host { body: bundle(rules(messaging)), now: T0, states: BTreeMap::new(), links: BTreeMap::new(), sent: vec![], records: vec![], next_id: 0 }
    }

    fn runner(&self) -> Runner<'_> {
        Runner::new(&self.body, SECRET).with_time_zones(&Tzdb)
    }

    fn key(&self, anonymous_id: &str, user_id: &str) -> String {
        if !user_id.is_empty() {
            return format!("u:{user_id}");
        }
        let anon = format!("a:{anonymous_id}");
        self.links.get(&anon).cloned().unwrap_or(anon)
    }

    fn apply(&mut self, fx: Vec<Effect>) {
        for e in fx {
            match e {
                Effect::Send(m) => self.sent.push(*m),
                Effect::Record(r) => self.records.push(r),
                Effect::SetAlarm(_) | Effect::ClearAlarm => {} // read back from state.alarm
            }
        }
    }

    /// Sends one event (JSON, validated as the endpoint does) with the given messageId.
    fn send_with_id(&mut self, message_id: &str, anonymous_id: &str, user_id: &str, body: &str) {
        let mut v: Value = serde_json::from_str(body).unwrap();
        v.set("messageId", message_id).set("anonymousId", anonymous_id);
        if !user_id.is_empty() {
            v.set("userId", user_id);
        }
        let event = journey::parse(&v, body.len()).unwrap_or_else(|r| panic!("refused: {r}: {body}"));
        let key = self.key(anonymous_id, user_id);
        // identify from an anonymous device: link it and fold its state into the customer's
        let anon = format!("a:{anonymous_id}");
        if key.starts_with("u:") && !anonymous_id.is_empty() && self.links.get(&anon) != Some(&key) {
            self.links.insert(anon.clone(), key.clone());
            if let Some(old) = self.states.remove(&anon) {
                let mut s = self.states.remove(&key).unwrap_or_else(|| VisitorState::new(key.clone()));
                let fx = self.runner().absorb(&mut s, &old, self.now);
                self.states.insert(key.clone(), s);
                self.apply(fx);
            }
        }
        let mut s = self.states.remove(&key).unwrap_or_else(|| VisitorState::new(key.clone()));
        let fx = self.runner().handle(&mut s, &event, self.now);
        self.states.insert(key, s);
        self.apply(fx);
    }

    fn send(&mut self, anonymous_id: &str, user_id: &str, body: &str) {
        self.next_id += 1;
        let id = format!("m{}", self.next_id);
        self.send_with_id(&id, anonymous_id, user_id, body);
    }

    /// Moves the clock to `t`, firing every alarm on the way at its own time.
    fn advance_to(&mut self, t: i64) {
        loop {
            let next = self.states.iter().filter_map(|(k, s)| s.alarm.map(|a| (a, k.clone()))).min();
            match next {
                Some((at, key)) if at <= t => {
                    self.now = self.now.max(at);
                    let mut s = self.states.remove(&key).unwrap();
                    let fx = self.runner().on_alarm(&mut s, self.now);
                    self.states.insert(key, s);
                    self.apply(fx);
                }
                _ => break,
            }
        }
        self.now = t;
    }

    fn advance(&mut self, secs: i64) {
        self.advance_to(self.now + secs);
    }

    fn sent_on(&self, journey: &str) -> Vec<&Message> {
        self.sent.iter().filter(|m| m.journey == journey).collect()
    }

    fn state(&self, key: &str) -> &VisitorState {
        &self.states[key]
    }
}

const NO_LIMITS: &str = "{}";
const ADD_A: &str = r#"{"type":"track","event":"Product Added","properties":{"sku":"A","quantity":2}}"#;
// Every channel, SMS by its own yes (a blanket yes never covers texts).
const ALL_CONSENT: &str = r#"{"type":"consent","channels":{"all":true,"sms":true},"push_token":"push-tok-1"}"#;
const JANE: &str = r#"{"type":"identify","traits":{"firstName":"Jane","email":"jane@example.com","phone":"+447700900123"}}"#;

fn ended(h: &Host, journey: &str) -> Vec<EndReason> {
    h.records
        .iter()
        .filter_map(|r| match r {
            Record::Ended { journey: j, reason, .. } if j == journey => Some(*reason),
            _ => None,
        })
        .collect()
}

fn skipped(h: &Host, journey: &str) -> Vec<SkipReason> {
    h.records
        .iter()
        .filter_map(|r| match r {
            Record::Skipped { journey: j, reason, .. } if j == journey => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn cart_abandonment_escalates_push_sms_email() {
    let mut h = Host::new(NO_LIMITS);
    h.send("phone", "u1", JANE);
    h.send("phone", "u1", ALL_CONSENT);
    h.send("phone", "u1", ADD_A);
    h.advance(0);
    assert_eq!(h.sent_on("welcome").len(), 1, "the welcome email goes out at once");
    let start = h.now;
    h.advance(3 * DAY);
    let cart: Vec<_> = h.sent_on("cart");
    assert_eq!(
        cart.iter().map(|m| (m.channel, m.created_at - start)).collect::<Vec<_>>(),
        [(Channel::Push, HOUR), (Channel::Sms, DAY), (Channel::Email, 2 * DAY)]
    );
    assert_eq!(cart[0].to, "push-tok-1");
    assert_eq!(cart[0].text, "Heart T-light holder is waiting, Jane");
    assert_eq!(cart[1].to, "+447700900123");
    assert!(cart[1].text.starts_with("Your cart (£5.10) is saved: https://shop.test/v1/click?vt="), "{}", cart[1].text);
    let vt = cart[1].link.split("vt=").nth(1).unwrap();
    let claims: LinkClaims = serde_json::from_slice(&token::verify(SECRET, vt).unwrap()).unwrap();
    assert_eq!((claims.channel.as_str(), claims.landing.as_str()), ("sms", "/cart"), "the click redirect leads to the step's landing");
    assert_eq!(ended(&h, "cart"), [EndReason::Completed]);
}

/// Double opt-in: a number an anonymous visitor typed gets no journey text until it answers
/// YES; a customer's number the store vouches for (identify with a userId) needs none.
#[test]
fn an_anonymous_visitors_number_gets_texts_only_after_its_yes() {
    let mut h = Host::new(NO_LIMITS);
    h.send("anon", "", JANE);
    h.send("anon", "", ALL_CONSENT);
    h.send("anon", "", ADD_A);
    h.advance(3 * DAY);
    assert!(h.sent_on("cart").iter().all(|m| m.channel != Channel::Sms), "no text before the YES");
    assert!(skipped(&h, "cart").contains(&SkipReason::Unconfirmed));
    assert!(!h.state("a:anon").profile.phone_verified);
    h.send("anon", "", r#"{"type":"track","event":"Product Removed","properties":{"sku":"A"}}"#);
    // The number answers the confirmation text (the edge routes it to every visitor of it).
    let mut state = h.states.remove("a:anon").unwrap();
    let fx = h.runner().handle(
        &mut state,
        &journey::Event {
            message_id: "sms-1".into(),
            anonymous_id: String::new(),
            user_id: String::new(),
            utc_offset_minutes: None,
            time_zone: None,
            kind: journey::EventKind::SmsReply { body: " Yes ".into(), channel: journey::Channel::Sms },
        },
        h.now,
    );
    h.states.insert("a:anon".into(), state);
    h.apply(fx);
    assert!(h.state("a:anon").profile.phone_verified, "the number answered YES");
    h.send("anon", "", ADD_A);
    h.advance(3 * DAY);
    assert!(h.sent_on("cart").iter().any(|m| m.channel == Channel::Sms && m.to == "+447700900123"), "texts after the YES");

    let mut known = Host::new(NO_LIMITS);
    known.send("phone", "u1", JANE);
    assert!(known.state("u:u1").profile.phone_verified, "the store vouches for its customer's number");
}

#[test]
fn the_email_shows_products_offer_and_a_signed_link_to_the_same_offer() {
    let mut h = Host::new(NO_LIMITS);
    h.send("phone", "u1", JANE);
    h.send("phone", "u1", ALL_CONSENT);
    h.send("phone", "u1", ADD_A);
    h.send(
        "phone",
        "u1",
        r#"{"type":"track","event":"Product Added","properties":{"sku":"ZZ","name":"Gift wrap","price":1.5,"image_url":"https://cdn.test/wrap.jpg"}}"#,
    );
    h.advance(3 * DAY);
    let email = h.sent_on("cart").into_iter().find(|m| m.channel == Channel::Email).unwrap().clone();
    assert_eq!(email.to, "jane@example.com");
    assert_eq!(email.subject, "Jane, 10% off your cart");
    assert_eq!(email.text, "Hi Jane,\n\n- Heart T-light holder (£2.55)\n- Gift wrap (£1.50)\n\nCode CART10");
    assert_eq!(email.offer_code, "CART10");
    for needle in ["https://shop.test/img/A.jpg", "£2.55", "https://cdn.test/wrap.jpg", "CART10", "10% off your cart", "Unsubscribe"] {
        assert!(email.html.contains(needle), "{needle} missing from {}", email.html);
    }
    let vt = email.link.strip_prefix("https://shop.test/v1/click?vt=").expect("message links go through the click redirect");
    let claims: LinkClaims = serde_json::from_slice(&token::verify(SECRET, vt).unwrap()).unwrap();
    assert_eq!((claims.visitor.as_str(), claims.journey.as_str(), claims.offer.as_str()), ("u:u1", "cart", "cart10"));
    assert_eq!((claims.channel.as_str(), claims.landing.as_str()), ("email", "/"), "the click's medium and where it leads");
    assert_eq!(claims.products, ["A", "ZZ"]);
    assert_eq!(claims.exp, email.created_at + 30 * DAY);
    let unsub = email.unsubscribe.strip_prefix("https://shop.test/v1/unsubscribe?vt=").unwrap();
    let claims: LinkClaims = serde_json::from_slice(&token::verify(SECRET, unsub).unwrap()).unwrap();
    assert_eq!((claims.visitor.as_str(), claims.unsubscribe.as_str(), claims.exp), ("u:u1", "email", 0));
}

#[test]
fn a_purchase_on_another_device_ends_the_cart_journey() {
    let mut h = Host::new(NO_LIMITS);
    // On the phone, anonymous: consent and a cart.
    h.send("phone", "", ALL_CONSENT);
    h.send("phone", "", ADD_A);
    // Then the phone logs in: its cart and journey become the customer's.
    h.send("phone", "u1", JANE);
    assert!(!h.states.contains_key("a:phone"));
    assert_eq!(h.state("u:u1").cart.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>(), ["A"]);
    h.advance(HOUR + 60);
    assert_eq!(h.sent_on("cart").len(), 1, "the push went out from the merged journey");
    // On the laptop: another anonymous id, logs in, sees the same cart, buys.
    h.send("laptop", "u1", JANE);
    h.send("laptop", "", r#"{"type":"track","event":"Cart Viewed"}"#);
    assert_eq!(h.key("laptop", ""), "u:u1", "the laptop's anonymous events reach the customer");
    h.send("laptop", "", r#"{"type":"track","event":"Order Completed","properties":{"order_id":"o1","products":[{"sku":"A","quantity":2}]}}"#);
    h.advance(5 * DAY);
    assert_eq!(h.sent_on("cart").len(), 1, "no SMS, no email after the order");
    assert_eq!(ended(&h, "cart"), [EndReason::OrderCompleted]);
    assert!(h.state("u:u1").cart.is_empty());
}

#[test]
fn absorbing_the_same_visitor_twice_changes_nothing() {
    let mut h = Host::new(NO_LIMITS);
    h.send("phone", "", ALL_CONSENT);
    h.send("phone", "", ADD_A);
    let phone = h.state("a:phone").clone();
    h.send("phone", "u1", JANE);
    let once = h.state("u:u1").clone();
    // A retried link (the anonymous object crashed before recording its alias) re-sends it.
    let mut s = once.clone();
    assert!(h.runner().absorb(&mut s, &phone, h.now).is_empty());
    assert_eq!(s, once);
    assert_eq!(s.cart[0].quantity, 2);
}

#[test]
fn a_duplicated_event_sends_one_message() {
    let mut h = Host::new(NO_LIMITS);
    h.send("p", "u1", JANE);
    h.send("p", "u1", ALL_CONSENT);
    let order = r#"{"type":"track","event":"Order Completed","properties":{"order_id":"o1","products":[{"sku":"A"}]}}"#;
    h.send_with_id("order-msg", "p", "u1", order);
    h.send_with_id("order-msg", "p", "u1", order);
    // A retry under a new messageId but the same order id counts once too.
    h.send_with_id("order-msg-retry", "p", "u1", order);
    h.advance(4 * DAY);
    assert_eq!(h.sent_on("after_order").len(), 1);
    assert_eq!(h.state("u:u1").orders.count, 1);
    assert_eq!(h.records.iter().filter(|r| matches!(r, Record::Duplicate { .. })).count(), 1);
    // Post-purchase shows what goes with A (B then C), not A itself.
    assert_eq!(h.sent_on("after_order")[0].products, ["B", "C"]);
}

#[test]
fn quiet_hours_hold_then_send() {
    let mut h = Host::new(r#"{"quiet_hours": {"start": "21:00", "end": "08:00"}}"#);
    h.send("p", "u1", JANE);
    h.send("p", "u1", r#"{"type":"consent","channels":{"push":true},"push_token":"t"}"#);
    // 19:30 UTC is 20:30 in the visitor's UTC+1: the push is due at 21:30 local.
    h.advance_to(T0 + 7 * HOUR + 30 * 60);
    h.send("p", "u1", r#"{"type":"track","event":"Product Added","properties":{"sku":"A"},"context":{"utcOffsetMinutes":60}}"#);
    h.advance(2 * HOUR);
    assert!(h.sent_on("cart").is_empty(), "held, not sent, during quiet hours");
    let held = h
        .records
        .iter()
        .find_map(|r| match r {
            Record::Held { journey, until, .. } if journey == "cart" => Some(*until),
            _ => None,
        })
        .unwrap();
    assert_eq!(held, T0 + DAY - 5 * HOUR, "until 08:00 local = 07:00 UTC the next day");
    h.advance_to(held);
    assert_eq!(h.sent_on("cart").iter().map(|m| m.created_at).collect::<Vec<_>>(), [held]);
}

#[test]
fn caps_stop_the_next_message() {
    let mut h = Host::new(r#"{"max_per_day": 1}"#);
    h.send("p", "u1", JANE);
    h.send("p", "u1", ALL_CONSENT); // welcome email: the one message of the day
    h.send("p", "u1", ADD_A);
    h.advance(2 * HOUR);
    assert_eq!(h.sent.len(), 1);
    assert_eq!(skipped(&h, "cart"), [SkipReason::DailyCap], "the push an hour later is capped");
    h.advance(DAY);
    assert_eq!(h.sent_on("cart").iter().map(|m| m.channel).collect::<Vec<_>>(), [Channel::Sms], "a day later the SMS may go");
}

#[test]
fn a_journey_cap_limits_that_journey_only() {
    let mut h = Host::new(NO_LIMITS);
    h.body.rules.journeys[0].max_per_day = 1;
    h.body.rules.journeys[0].steps[1].after = journey::Secs(2 * HOUR);
    h.send("p", "u1", JANE);
    h.send("p", "u1", ALL_CONSENT);
    h.send("p", "u1", ADD_A);
    h.advance(3 * DAY);
    assert_eq!(h.sent_on("cart").iter().map(|m| m.channel).collect::<Vec<_>>(), [Channel::Push, Channel::Email]);
    assert_eq!(skipped(&h, "cart"), [SkipReason::JourneyCap]);
    assert_eq!(h.sent_on("welcome").len(), 2, "other journeys are not capped by it");
}

#[test]
fn no_consent_no_message() {
    let mut h = Host::new(NO_LIMITS);
    h.send("p", "u1", JANE); // addresses, but no consent
    h.send("p", "u1", ADD_A);
    h.advance(3 * DAY);
    assert!(h.sent.is_empty());
    assert_eq!(skipped(&h, "cart"), [SkipReason::NoConsent; 3]);
    // Consent without an address is no message either.
    let mut h = Host::new(NO_LIMITS);
    h.send("p", "", r#"{"type":"consent","channels":{"sms":true}}"#);
    h.send("p", "", ADD_A);
    h.advance(3 * DAY);
    assert!(h.sent_on("cart").is_empty());
    assert_eq!(skipped(&h, "cart"), [SkipReason::NoConsent, SkipReason::NoAddress, SkipReason::NoConsent]);
}

#[test]
fn revoking_consent_stops_a_running_journey() {
    let mut h = Host::new(NO_LIMITS);
    h.send("p", "u1", JANE);
    h.send("p", "u1", ALL_CONSENT);
    h.send("p", "u1", ADD_A);
    h.advance(HOUR + 1);
    assert_eq!(h.sent_on("cart").len(), 1);
    h.send("p", "u1", r#"{"type":"consent","granted":false}"#);
    assert_eq!(ended(&h, "cart"), [EndReason::ConsentRevoked]);
    assert_eq!(h.state("u:u1").alarm, None, "nothing left to wake up for");
    h.advance(5 * DAY);
    assert_eq!(h.sent_on("cart").len(), 1);
}

#[test]
fn sms_stop_is_honoured_and_the_journey_goes_on_elsewhere() {
    let mut h = Host::new(NO_LIMITS);
    h.send("p", "u1", JANE);
    h.send("p", "u1", ALL_CONSENT);
    h.send("p", "u1", ADD_A);
    let event = journey::Event {
        message_id: "sms-1".into(),
        anonymous_id: String::new(),
        user_id: "u1".into(),
        utc_offset_minutes: None,
        time_zone: None,
        kind: journey::EventKind::SmsReply { body: " stop ".into(), channel: journey::Channel::Sms },
    };
    let mut s = h.states.remove("u:u1").unwrap();
    let fx = h.runner().handle(&mut s, &event, h.now);
    h.states.insert("u:u1".into(), s);
    h.apply(fx);
    assert!(!h.state("u:u1").consent.granted(Channel::Sms));
    h.advance(3 * DAY);
    assert_eq!(h.sent_on("cart").iter().map(|m| m.channel).collect::<Vec<_>>(), [Channel::Push, Channel::Email]);
    assert_eq!(skipped(&h, "cart"), [SkipReason::NoConsent]);
}

#[test]
fn browse_abandonment_then_cart_takes_over() {
    let mut h = Host::new(NO_LIMITS);
    h.send("p", "u1", JANE);
    h.send("p", "u1", r#"{"type":"consent","channels":{"email":true}}"#);
    for sku in ["A", "C", "A"] {
        h.send("p", "u1", &format!(r#"{{"type":"track","event":"Product Viewed","properties":{{"sku":"{sku}"}}}}"#));
        h.advance(30 * 60);
    }
    h.advance(2 * HOUR);
    let browse = h.sent_on("browse");
    assert_eq!(browse.len(), 1);
    assert_eq!(browse[0].products, ["A", "C"], "most recent first, once each");
    assert_eq!(browse[0].created_at, T0 + HOUR + 2 * HOUR, "two hours after the last view");
    // A week later: views, then an add to cart: the browse journey gives way.
    h.advance(7 * DAY);
    h.send("p", "u1", r#"{"type":"track","event":"Product Viewed","properties":{"sku":"D"}}"#);
    h.send("p", "u1", r#"{"type":"track","event":"Product Added","properties":{"sku":"D"}}"#);
    h.advance(3 * HOUR);
    assert_eq!(h.sent_on("browse").len(), 1);
    assert!(ended(&h, "browse").contains(&EndReason::AddedToCart));
}

#[test]
fn win_back_after_the_typical_gap_and_every_order_restarts_its_clock() {
    let mut h = Host::new(NO_LIMITS);
    h.send("p", "u1", r#"{"type":"identify","traits":{"email":"j@example.com","typical_gap_days":30}}"#);
    h.send("p", "u1", r#"{"type":"consent","channels":{"email":true}}"#);
    h.send("p", "u1", r#"{"type":"track","event":"Order Completed","properties":{"order_id":"o1","products":[{"sku":"A"}]}}"#);
    h.advance(20 * DAY);
    h.send("p", "u1", r#"{"type":"track","event":"Order Completed","properties":{"order_id":"o2","products":[{"sku":"A"}]}}"#);
    let second = h.now;
    h.advance(29 * DAY);
    assert!(h.sent_on("winback").is_empty());
    h.advance(2 * DAY);
    let w = h.sent_on("winback");
    assert_eq!(w.iter().map(|m| m.created_at).collect::<Vec<_>>(), [second + 30 * DAY]);
    assert_eq!(w[0].products, ["D"], "popular, minus what they just bought");
}

#[test]
fn win_back_counts_from_the_profiles_last_order_before_any_event_order() {
    let mut h = Host::new(NO_LIMITS);
    // The host fills these from the private profile store on identify.
    let last = T0 - 20 * DAY;
    h.send("p", "u1", &format!(r#"{{"type":"identify","traits":{{"email":"j@example.com","typical_gap_days":25,"last_order_at":{last}}}}}"#));
    h.send("p", "u1", r#"{"type":"consent","channels":{"email":true}}"#);
    h.advance(4 * DAY);
    assert!(h.sent_on("winback").is_empty());
    h.advance(2 * DAY);
    assert_eq!(h.sent_on("winback").iter().map(|m| m.created_at).collect::<Vec<_>>(), [last + 25 * DAY]);
}

#[test]
fn welcome_runs_once_per_subscriber() {
    let mut h = Host::new(NO_LIMITS);
    h.send("p", "u1", JANE);
    h.send("p", "u1", r#"{"type":"consent","channels":{"email":true}}"#);
    h.advance(4 * DAY);
    h.send("p", "u1", r#"{"type":"consent","channels":{"email":false}}"#);
    h.send("p", "u1", r#"{"type":"consent","channels":{"email":true}}"#);
    h.advance(4 * DAY);
    assert_eq!(h.sent_on("welcome").iter().map(|m| m.subject.as_str()).collect::<Vec<_>>(), ["Welcome to Gift Shop", "Our bestsellers"]);
}

#[test]
fn reentry_keeps_a_returning_cart_from_restarting_the_journey_at_once() {
    let mut h = Host::new(NO_LIMITS);
    h.send("p", "u1", JANE);
    h.send("p", "u1", ALL_CONSENT);
    h.send("p", "u1", ADD_A);
    h.send("p", "u1", r#"{"type":"track","event":"Product Removed","properties":{"sku":"A","quantity":2}}"#);
    assert_eq!(ended(&h, "cart"), [EndReason::CartEmptied]);
    h.send("p", "u1", ADD_A);
    h.advance(3 * DAY);
    assert!(h.sent_on("cart").is_empty(), "cart reentry is 1d");
}

#[test]
fn state_survives_a_json_round_trip() {
    let mut h = Host::new(r#"{"quiet_hours": {"start": "21:00", "end": "08:00"}}"#);
    h.send("p", "u1", JANE);
    h.send("p", "u1", ALL_CONSENT);
    h.send("p", "u1", ADD_A);
    h.advance(HOUR + 1);
    let s = h.state("u:u1");
    let back: VisitorState = serde_json::from_str(&serde_json::to_string(s).unwrap()).unwrap();
    assert_eq!(&back, s);
    // Older state without newer fields still loads.
    let old: VisitorState = serde_json::from_str(r#"{"id":"u:1","cart":[{"sku":"A","quantity":1}]}"#).unwrap();
    assert_eq!(old.cart[0].sku, "A");
}

#[test]
fn the_journey_config_survives_the_bundle_encoding() {
    let body = bundle(rules(r#"{"max_per_day": 2, "quiet_hours": {"start": "21:30", "end": "07:45"}}"#));
    let header = vitrine_engine::bundle::Header { format_version: vitrine_engine::bundle::FORMAT_VERSION, build_id: [1; 16], created_at: 0 };
    let bytes = vitrine_engine::bundle::encode(&header, &body);
    assert_eq!(vitrine_engine::bundle::decode(&bytes).unwrap().body.rules, body.rules);
}

#[test]
fn config_mistakes_name_their_place() {
    let mut r = rules(NO_LIMITS);
    r.journeys[0].steps[2].offer = "nope".into();
    r.journeys[0].steps[1].after = journey::Secs(0);
    r.journeys[1].id = "cart".into();
    assert_eq!(
        journey::check(&r),
        [
            "journeys[0].steps[1].after: 0s comes before the previous step's 1h",
            "journeys[0].steps[2].offer: unknown offer \"nope\"",
            "journeys[1].id: \"cart\" is used by an earlier journey",
        ]
    );
    let err =
        serde_json::from_str::<Rules>(r#"{"journeys":[{"id":"x","trigger":"cart_abandonment","steps":[{"after":"1 hour","channel":"email","body":"b"}]}]}"#)
            .unwrap_err();
    assert!(err.to_string().contains("invalid duration \"1 hour\""), "{err}");
    let err = serde_json::from_str::<Rules>(r#"{"journeys":[{"id":"x","trigger":"cart","steps":[]}]}"#).unwrap_err();
    assert!(err.to_string().contains("unknown variant `cart`"), "{err}");
}

/// Per-event engine time, natively: `cargo test --release -p vitrine-engine --test journeys -- --ignored --nocapture`.
/// Validation (JSON value -> event), `handle`, and the JSON round trip of the state a Durable
/// Object stores after each batch, over 1,000 visitors browsing and filling carts.
#[test]
#[ignore]
fn bench_per_event_engine_time() {
    use std::time::Instant;
    let body = bundle(rules(r#"{"max_per_day": 3, "quiet_hours": {"start": "21:00", "end": "08:00"}}"#));
    let runner = Runner::new(&body, SECRET);
    let kinds = [
        r#"{"type":"track","event":"Product Viewed","properties":{"sku":"A"}}"#,
        r#"{"type":"track","event":"Product Added","properties":{"sku":"B","quantity":1,"price":1.25}}"#,
        r#"{"type":"page","properties":{"path":"/"}}"#,
        r#"{"type":"track","event":"Product Viewed","properties":{"sku":"C"},"context":{"utcOffsetMinutes":60}}"#,
    ];
    const VISITORS: usize = 1000;
    const EVENTS: usize = 200_000;
    let values: Vec<(Value, usize)> = (0..EVENTS)
        .map(|i| {
            let mut v: Value = serde_json::from_str(kinds[i % kinds.len()]).unwrap();
            v.set("messageId", format!("m{i}")).set("anonymousId", format!("v{}", i % VISITORS));
            (v, 120)
        })
        .collect();
    let mut states: Vec<VisitorState> = (0..VISITORS).map(|i| VisitorState::new(format!("a:v{i}"))).collect();
    let t = Instant::now();
    let events: Vec<journey::Event> = values.iter().map(|(v, n)| journey::parse(v, *n).unwrap()).collect();
    let parse = t.elapsed();
    let t = Instant::now();
    let mut effects = 0;
    for (i, e) in events.iter().enumerate() {
        effects += runner.handle(&mut states[i % VISITORS], e, T0 + i as i64).len();
    }
    let handle = t.elapsed();
    let t = Instant::now();
    let mut bytes = 0;
    for s in states.iter().take(VISITORS) {
        let json = serde_json::to_string(s).unwrap();
        bytes += json.len();
        let back: VisitorState = serde_json::from_str(&json).unwrap();
        assert_eq!(back.seen.len(), s.seen.len());
    }
    let state_io = t.elapsed();
    println!(
        "per event: validate {:.2} µs, handle {:.2} µs ({effects} effects); state JSON round trip {:.1} µs for {} bytes (mean of {VISITORS} visitors with {} events each)",
        parse.as_secs_f64() * 1e6 / EVENTS as f64,
        handle.as_secs_f64() * 1e6 / EVENTS as f64,
        state_io.as_secs_f64() * 1e6 / VISITORS as f64,
        bytes / VISITORS,
        EVENTS / VISITORS
    );
}

/// A host whose rules are changed first (checked as `Engine::load` would).
fn host_with(change: impl FnOnce(&mut Rules)) -> Host {
    let mut h = Host::new(NO_LIMITS);
    change(&mut h.body.rules);
    assert_eq!(h.body.rules.check(), vec![]);
    h
}

fn started(h: &Host, journey: &str) -> usize {
    h.records.iter().filter(|r| matches!(r, Record::Started { journey: j, .. } if j == journey)).count()
}

/// An anonymous visitor with consent and a push token leaves a cart: the cart journey's push
/// is due an hour later.
fn abandon_cart(h: &mut Host, anonymous_id: &str) {
    h.send(anonymous_id, "", ALL_CONSENT);
    h.send(anonymous_id, "", ADD_A);
    h.advance(2 * HOUR);
}

#[test]
fn a_journey_experiments_quiet_arm_runs_the_journey_and_sends_nothing() {
    let mut h = host_with(|r| {
        r.measurement.holdout = 0.0;
        r.experiments.push(Experiment {
            key: "journey-test".into(),
            journey: "cart".into(),
            arms: vec![Arm { name: "control".into(), ..Arm::default() }, Arm { name: "quiet".into(), send: false, ..Arm::default() }],
            ..Experiment::default()
        });
    });
    // GrowthBook (Node), key "journey-test", 2 equal arms: visitor-0 arm 1, visitor-2 arm 0;
    // journeys bucket an anonymous visitor on the id pages are decided for.
    assert_eq!(journey::bucketing_unit("a:visitor-0"), "visitor-0");
    abandon_cart(&mut h, "visitor-0");
    assert_eq!((started(&h, "cart"), h.sent_on("cart").len()), (1, 0), "entered, nothing sent");
    assert_eq!(skipped(&h, "cart"), [SkipReason::ExperimentArm], "what would have gone is recorded, with why");
    assert!(h.state("a:visitor-0").runs.iter().any(|r| r.journey == "cart" && r.next_step == 1), "the run goes on to its next step");
    assert_eq!(SkipReason::ExperimentArm.to_string(), "the visitor's experiment arm sends nothing");

    assert_eq!(h.runner().journey_arm("a:visitor-0", "cart"), Some(("journey-test", "quiet")), "for the host's records");
    assert_eq!(h.runner().journey_arm("a:visitor-0", "browse"), None, "no experiment on it");
    abandon_cart(&mut h, "visitor-2");
    assert_eq!(h.runner().journey_arm("a:visitor-2", "cart"), Some(("journey-test", "control")));
    assert_eq!((started(&h, "cart"), h.sent_on("cart").len()), (2, 1), "the control arm's push goes");
    assert_eq!(h.sent_on("cart")[0].visitor, "a:visitor-2");
    assert_eq!(h.sent_on("welcome").len(), 0, "other journeys are not in the experiment (and welcome emails need an address)");
}

#[test]
fn the_global_holdout_gets_no_journey_messages() {
    // visitor-24 is in the default 5% holdout, visitor-0 is not (GrowthBook, as in tests/decide.rs).
    let mut h = host_with(|r| r.measurement = Measurement::default());
    abandon_cart(&mut h, "visitor-24");
    assert_eq!((started(&h, "cart"), h.sent_on("cart").len()), (1, 0));
    assert_eq!(skipped(&h, "cart"), [SkipReason::Holdout]);
    abandon_cart(&mut h, "visitor-0");
    assert_eq!(h.sent_on("cart").len(), 1, "personalized visitors get theirs");
    let arms = (h.runner().holdout_arm("a:visitor-24"), h.runner().holdout_arm("a:visitor-0"));
    assert_eq!(arms, (Some(vitrine_engine::measure::HOLDOUT_ARM), Some(vitrine_engine::measure::PERSONALIZED_ARM)));

    // `holdout_journeys = false`: the holdout is measured on pages only.
    let mut h = host_with(|r| r.measurement = Measurement { holdout_journeys: false, ..Measurement::default() });
    abandon_cart(&mut h, "visitor-24");
    assert_eq!(h.sent_on("cart").len(), 1);
}

/// 2027-03-28 01:00 UTC and 2027-10-31 01:00 UTC: London's clocks change; 2027-03-14 07:00 UTC
/// and 2027-11-07 06:00 UTC: New York's.
const LONDON_SPRING: i64 = 1_806_195_600;
const LONDON_AUTUMN: i64 = 1_824_944_400;
const NEW_YORK_SPRING: i64 = 1_805_007_600;
const NEW_YORK_AUTUMN: i64 = 1_825_567_200;

/// The held push's `until`, for a cart left at `t` by a visitor whose device says `zone`.
fn quiet_until(zone: &str, t: i64) -> i64 {
    let mut h = Host::new(r#"{"quiet_hours": {"start": "21:00", "end": "08:00"}}"#);
    h.advance_to(t);
    h.send("p", "", r#"{"type":"consent","channels":{"push":true},"push_token":"t"}"#);
    h.send("p", "", &format!(r#"{{"type":"track","event":"Product Added","properties":{{"sku":"A"}},"context":{{"timezone":"{zone}"}}}}"#));
    h.advance(3 * HOUR);
    assert!(h.sent_on("cart").is_empty(), "{zone}: the push, due at 21:00 local, is held");
    let until = h.records.iter().find_map(|r| match r {
        Record::Held { journey, until, .. } if journey == "cart" => Some(*until),
        _ => None,
    });
    h.advance_to(until.expect("held"));
    assert_eq!(h.sent_on("cart").iter().map(|m| m.created_at).collect::<Vec<_>>(), [until.unwrap()], "{zone}: sent when the hold ends");
    until.unwrap()
}

#[test]
fn quiet_hours_end_at_eight_local_across_daylight_saving_changes() {
    // The evening before each change, the cart is left an hour before quiet hours start; they
    // end at 08:00 local the next morning, on the other side of the change.
    let cases = [
        ("Europe/London", LONDON_SPRING - 5 * HOUR, LONDON_SPRING + 6 * HOUR, "20:00 GMT -> 08:00 BST, 07:00 UTC"),
        ("Europe/London", LONDON_AUTUMN - 6 * HOUR, LONDON_AUTUMN + 7 * HOUR, "20:00 BST -> 08:00 GMT, 08:00 UTC"),
        ("America/New_York", NEW_YORK_SPRING - 6 * HOUR, NEW_YORK_SPRING + 5 * HOUR, "20:00 EST -> 08:00 EDT, 12:00 UTC"),
        ("America/New_York", NEW_YORK_AUTUMN - 6 * HOUR, NEW_YORK_AUTUMN + 7 * HOUR, "20:00 EDT -> 08:00 EST, 13:00 UTC"),
    ];
    for (zone, left_at, until, what) in cases {
        assert_eq!(quiet_until(zone, left_at), until, "{zone}: {what}");
    }
}

#[test]
fn a_step_at_ten_goes_at_ten_local_after_its_delay() {
    let mut h = host_with(|r| r.journeys[0].steps[0].at = serde_json::from_str(r#""10:00""#).unwrap());
    // Left at 22:00 GMT the night before London's clocks go forward: the push is due at 23:00
    // and waits for 10:00 BST, which is 09:00 UTC.
    h.advance_to(LONDON_SPRING - 3 * HOUR);
    h.send("p", "", r#"{"type":"consent","channels":{"push":true},"push_token":"t"}"#);
    h.send("p", "", r#"{"type":"track","event":"Product Added","properties":{"sku":"A"},"context":{"timezone":"Europe/London"}}"#);
    h.advance(9 * HOUR);
    assert!(h.sent_on("cart").is_empty(), "not before 10:00 local");
    h.advance_to(LONDON_SPRING + 8 * HOUR);
    assert_eq!(h.sent_on("cart").iter().map(|m| m.created_at).collect::<Vec<_>>(), [LONDON_SPRING + 8 * HOUR]);
}

#[test]
fn the_stores_time_zone_serves_visitors_who_never_said_theirs() {
    let mut h = host_with(|r| {
        r.messaging.quiet_hours = serde_json::from_str(r#"{"start": "21:00", "end": "08:00"}"#).unwrap();
        r.messaging.default_time_zone = "America/New_York".into();
    });
    h.advance_to(NEW_YORK_SPRING - 6 * HOUR);
    h.send("p", "", r#"{"type":"consent","channels":{"push":true},"push_token":"t"}"#);
    h.send("p", "", ADD_A);
    h.advance(14 * HOUR);
    assert_eq!(h.sent_on("cart").iter().map(|m| m.created_at).collect::<Vec<_>>(), [NEW_YORK_SPRING + 5 * HOUR], "08:00 EDT");
    // A zone that does not exist is a config mistake, named.
    let mut r = rules(NO_LIMITS);
    r.messaging.default_time_zone = "Europe/Atlantis".into();
    assert_eq!(
        journey::check(&r),
        ["messaging.default_time_zone: \"Europe/Atlantis\" is not an IANA time zone (e.g. \"Europe/London\", \"America/New_York\")"]
    );
}

#[test]
fn a_time_zone_that_is_not_a_name_is_refused() {
    for bad in [r#""../../etc/passwd""#, "42", r#""Europe//London""#] {
        let body = format!(
            r#"{{"type":"track","event":"Product Added","messageId":"m","anonymousId":"a","properties":{{"sku":"A"}},"context":{{"timezone":{bad}}}}}"#
        );
        let err = journey::parse(&serde_json::from_str(&body).unwrap(), body.len()).unwrap_err();
        assert!(err.to_string().contains("context.timezone"), "{bad}: {err}");
    }
}

/// An offer with unique codes: the email shows the customer's own code, derived as every host
/// derives it (`codes::code_for` with the link secret's code key), never a code of the bundle.
#[test]
fn a_unique_code_offer_shows_the_visitors_own_code_in_the_message() {
    let mut h = Host::new(NO_LIMITS);
    h.body.rules.offers[0].code.clear();
    h.body.rules.unique_codes = vec![vitrine_engine::rules::UniqueCode { offer: "cart10".into(), prefix: "CART".into(), valid_days: 7 }];
    h.send("phone", "u1", JANE);
    h.send("phone", "u1", ALL_CONSENT);
    h.send("phone", "u1", ADD_A);
    h.advance(3 * DAY);
    let email = h.sent_on("cart").into_iter().find(|m| m.channel == Channel::Email).unwrap().clone();
    let unique = &h.body.rules.unique_codes[0];
    let own = vitrine_engine::codes::code_for(&vitrine_engine::codes::code_key(SECRET), unique, "u:u1", email.created_at);
    assert!(own.starts_with("CART-"));
    assert_eq!(email.offer_code, own);
    assert!(email.text.ends_with(&format!("Code {own}")), "{}", email.text);
    assert!(email.html.contains(&own));
    let someone_else = vitrine_engine::codes::code_for(&vitrine_engine::codes::code_key(SECRET), unique, "u:u2", email.created_at);
    assert_ne!(someone_else, own);
}

#[test]
fn a_whatsapp_step_goes_to_the_confirmed_number_as_its_template_with_the_variables_filled() {
    let mut h = Host::new(NO_LIMITS);
    let mut rules = rules(NO_LIMITS);
    let step = r#"{"after": "2h", "channel": "whatsapp", "template": "HXb5b62575e6e4ff6129ad7c8efe1f983e", "offer": "cart10",
        "body": "Hi {{1}}, your cart is saved. Code {{2}}: {{3}}", "variables": ["{{first_name}}", "{{offer.code}}", "{{link}}"]}"#;
    rules.journeys[0].steps.insert(1, serde_json::from_str(step).unwrap());
    assert_eq!(journey::check(&rules), Vec::<String>::new());
    h.body = bundle(rules);
    h.send("phone", "u1", JANE);
    // A blanket yes covers neither texts nor WhatsApp: each takes its own.
    h.send("phone", "u1", r#"{"type":"consent","channels":{"all":true},"push_token":"push-tok-1"}"#);
    assert!(!h.state("u:u1").consent.granted(Channel::Whatsapp), "no WhatsApp without its own yes");
    h.send("phone", "u1", r#"{"type":"consent","channels":{"whatsapp":true}}"#);
    h.send("phone", "u1", ADD_A);
    h.advance(3 * HOUR);
    let sent = h.sent_on("cart");
    let wa = sent.iter().find(|m| m.channel == Channel::Whatsapp).expect("sent once consented");
    assert_eq!((wa.to.as_str(), wa.template.as_str()), ("+447700900123", "HXb5b62575e6e4ff6129ad7c8efe1f983e"), "the number texts go to");
    assert_eq!(&wa.variables[..2], ["Jane", "CART10"]);
    assert!(wa.variables[2].starts_with("https://shop.test/v1/click?vt=") && wa.variables[2] == wa.link);
    assert_eq!(wa.text, format!("Hi Jane, your cart is saved. Code CART10: {}", wa.link), "what the visitor reads");
    let claims: LinkClaims = serde_json::from_slice(&token::verify(SECRET, wa.link.split("vt=").nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims.channel, "whatsapp", "clicks are counted for WhatsApp");

    // STOP on WhatsApp (the edge routes it from `From=whatsapp:+…`): WhatsApp only.
    h.send("phone", "u1", r#"{"type":"consent","channels":{"sms":true}}"#);
    let mut state = h.states.remove("u:u1").unwrap();
    let stop = journey::Event {
        message_id: "wa-stop".into(),
        anonymous_id: String::new(),
        user_id: String::new(),
        utc_offset_minutes: None,
        time_zone: None,
        kind: journey::EventKind::SmsReply { body: "STOP".into(), channel: Channel::Whatsapp },
    };
    h.runner().handle(&mut state, &stop, h.now);
    assert!(!state.consent.granted(Channel::Whatsapp) && state.consent.granted(Channel::Sms), "{:?}", state.consent);
}

/// The escalation the issue describes: push first, WhatsApp only to who did not click it,
/// email only to who clicked neither.
fn escalation(h: &mut Host) {
    let j: vitrine_engine::rules::Journey = serde_json::from_value(serde_json::json!({
        "id": "escalate", "trigger": "cart_abandonment", "reentry": "1d",
        "steps": [
            {"after": "1h", "channel": "push", "subject": "Still in your cart", "body": "{{product.title}}"},
            {"after": "4h", "channel": "whatsapp", "if": "not_clicked", "template": "HXb5b62575e6e4ff6129ad7c8efe1f983e",
             "body": "Your cart is waiting: {{1}}", "variables": ["{link}"]},
            {"after": "24h", "channel": "email", "if": "not_clicked", "subject": "Your cart", "body": "{{products}}"}
        ]
    }))
    .unwrap();
    h.body.rules.journeys = vec![j];
    assert_eq!(journey::check(&h.body.rules), Vec::<String>::new());
}

const WHATSAPP_TOO: &str = r#"{"type":"consent","channels":{"all":true,"whatsapp":true},"push_token":"push-tok-1"}"#;

#[test]
fn a_click_on_the_push_ends_the_escalation_and_silence_escalates_to_whatsapp_then_email() {
    let mut h = Host::new(NO_LIMITS);
    escalation(&mut h);
    for user in ["clicks", "ignores"] {
        h.send(user, user, JANE);
        h.send(user, user, WHATSAPP_TOO);
        h.send(user, user, ADD_A);
    }
    h.advance(HOUR + 1);
    assert_eq!(h.sent_on("escalate").iter().map(|m| m.channel).collect::<Vec<_>>(), [Channel::Push, Channel::Push]);
    // The service worker reports the first one clicked.
    h.states.get_mut("u:clicks").unwrap().engaged("escalate", journey::Interaction::Clicked);
    h.advance(2 * DAY);
    let to = |user: &str| h.sent.iter().filter(|m| m.visitor == format!("u:{user}")).map(|m| m.channel).collect::<Vec<_>>();
    assert_eq!(to("clicks"), [Channel::Push], "who clicked the push gets nothing more");
    assert_eq!(to("ignores"), [Channel::Push, Channel::Whatsapp, Channel::Email], "who ignored it gets WhatsApp, then email");
    assert_eq!(skipped(&h, "escalate"), [SkipReason::Clicked, SkipReason::Clicked]);
}

#[test]
fn a_click_on_the_whatsapp_message_still_spares_the_email_and_an_open_is_not_a_click() {
    let mut h = Host::new(NO_LIMITS);
    escalation(&mut h);
    h.send("u", "u", JANE);
    h.send("u", "u", WHATSAPP_TOO);
    h.send("u", "u", ADD_A);
    h.advance(HOUR + 1);
    // Displayed (an open), not clicked: the WhatsApp message still goes.
    h.states.get_mut("u:u").unwrap().engaged("escalate", journey::Interaction::Opened);
    h.advance(4 * HOUR);
    h.states.get_mut("u:u").unwrap().engaged("escalate", journey::Interaction::Clicked);
    h.advance(2 * DAY);
    assert_eq!(h.sent_on("escalate").iter().map(|m| m.channel).collect::<Vec<_>>(), [Channel::Push, Channel::Whatsapp]);
}

#[test]
fn not_opened_and_not_purchased_count_since_the_journeys_previous_message() {
    let mut h = host_with(|r| {
        r.journeys.retain(|j| j.id == "welcome");
        r.journeys[0].steps[1].only_if = Some(vitrine_engine::rules::Engagement::NotPurchased);
        let mut third = r.journeys[0].steps[1].clone();
        third.after = vitrine_engine::journey::Secs(5 * DAY);
        third.only_if = Some(vitrine_engine::rules::Engagement::NotOpened);
        r.journeys[0].steps.push(third);
    });
    // One subscriber buys after the welcome email: no "bestsellers" email; the next one asks
    // for no open, and nothing was sent since the welcome, which was opened: skipped too.
    h.send("buyer", "buyer", JANE);
    h.send("buyer", "buyer", ALL_CONSENT);
    h.advance(60);
    h.states.get_mut("u:buyer").unwrap().engaged("welcome", journey::Interaction::Opened);
    h.send("buyer", "buyer", r#"{"type":"track","event":"Order Completed","properties":{"order_id":"o1","products":[{"sku":"A"}]}}"#);
    // The other never opens and never buys: all three.
    h.send("quiet", "quiet", JANE);
    h.send("quiet", "quiet", ALL_CONSENT);
    h.advance(6 * DAY);
    let to = |user: &str| h.sent_on("welcome").iter().filter(|m| m.visitor == format!("u:{user}")).count();
    assert_eq!((to("buyer"), to("quiet")), (1, 3));
    assert_eq!(skipped(&h, "welcome"), [SkipReason::Purchased, SkipReason::Opened]);
}

#[test]
fn a_journeys_when_picks_who_enters_and_a_steps_when_who_gets_it() {
    let mut h = host_with(|r| {
        r.journeys.retain(|j| j.id == "cart");
        r.measurement.holdout = 0.0;
        r.journeys[0].when = serde_json::from_str(r#"{"known": true}"#).unwrap();
        r.journeys[0].steps[0].when = serde_json::from_str(r#"{"cart.value": {"$gt": 5}}"#).unwrap();
    });
    // Anonymous: never enters.
    h.send("anon", "", ALL_CONSENT);
    h.send("anon", "", ADD_A);
    // Known, with a £5.10 cart: the push goes; known with a £2.55 cart: skipped, the rest goes.
    for (user, quantity) in [("big", 2), ("small", 1)] {
        h.send(user, user, JANE);
        h.send(user, user, ALL_CONSENT);
        h.send(user, user, &format!(r#"{{"type":"track","event":"Product Added","properties":{{"sku":"A","quantity":{quantity}}}}}"#));
    }
    h.advance(3 * DAY);
    let to = |key: &str| h.sent_on("cart").iter().filter(|m| m.visitor == key).map(|m| m.channel).collect::<Vec<_>>();
    assert_eq!(to("a:anon"), []);
    assert_eq!(to("u:big"), [Channel::Push, Channel::Sms, Channel::Email]);
    assert_eq!(to("u:small"), [Channel::Sms, Channel::Email]);
    assert_eq!(skipped(&h, "cart"), [SkipReason::NotTargeted]);
    assert_eq!(started(&h, "cart"), 2);
}
