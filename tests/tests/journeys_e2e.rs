//! Journeys on real workerd (`wrangler dev`): events in over HTTP, Durable Object alarms firing,
//! provider requests out to a capture server on 127.0.0.1 with their real shapes, identify
//! stitching across devices, consent, retries, a crash of `wrangler dev` mid-stream, and
//! injected faults (KV `fault:*` switches, dev mode only; the capture server's failure modes).
//! Delays come from tests/journeys/e2e.toml (seconds). Run:
//! `cargo test -p vitrine-tests --test journeys_e2e`.

mod capture;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use capture::{CaptureServer, Captured, Fault, NO_ANSWER};
use serde_json::{json, Value};
use vitrine_engine::journey::{LinkClaims, Messaging};
use vitrine_engine::predict::{BgNbd, GammaGamma};
use vitrine_engine::rfm::CustomerModel;
use vitrine_engine::rules::Offer;
use vitrine_engine::{token, Engine};
use vitrine_tests::http::{self, HttpResponse};
use vitrine_tests::identity;
use vitrine_tests::stack::{repo_root, Stack, StackConfig};
use vitrine_tests::{cases, demo_store, fixture, harness};

const LINK_SECRET: &str = "e2e-link-secret";
const WEBHOOK_SECRET: &str = "e2e-webhook-secret";
const ADMIN_TOKEN: &str = "e2e-admin-token-0123456789";
/// The store's backend sends its events with this key (`VITRINE_WRITE_KEY`).
const WRITE_KEY: &str = "e2e-write-key-journeys-0123";
/// Long enough for the last step (6 s) plus alarm and delivery latency on a busy machine.
const JOURNEY_DONE: Duration = Duration::from_secs(30);

struct Suite {
    stack: RefCell<Stack>,
    capture: CaptureServer,
    site: PathBuf,
}

impl Drop for Suite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.site.parent().unwrap_or(&self.site));
    }
}

/// The fixture store with the journeys, messaging and offers of tests/journeys/e2e.toml.
fn bundle() -> Vec<u8> {
    let text = std::fs::read_to_string(repo_root().join("tests/journeys/e2e.toml")).expect("tests/journeys/e2e.toml");
    let table: toml::Table = text.parse().expect("e2e.toml parses");
    let journeys = table["journeys"].clone().try_into().expect("[[journeys]] parse");
    let messaging: Messaging = table["messaging"].clone().try_into().expect("[messaging] parses");
    let offers: Vec<Offer> = table["offers"].clone().try_into().expect("[[offers]] parse");
    fixture::bundle_bytes_with(7, |b| {
        b.rules.journeys = journeys;
        b.rules.messaging = messaging;
        b.rules.offers.extend(offers);
        assert_eq!(vitrine_engine::journey::check(&b.rules), Vec::<String>::new());
        // What the build scored its customers with: an order from the backend re-scores one.
        b.stats.customer_model = Some(Box::new(CustomerModel {
            recency_edges: [10.0, 30.0, 90.0, 180.0],
            frequency_edges: [1.0, 1.0, 2.0, 4.0],
            monetary_edges: [20.0, 50.0, 100.0, 400.0],
            bgnbd: Some(BgNbd { r: 0.82, alpha: 69.3, a: 0.08, b: 2.5 }),
            gamma_gamma: Some(GammaGamma { p: 2.1, q: 3.4, v: 95.0 }),
            ..CustomerModel::default()
        }));
    })
}

/// Two Champions (the escalation journey's segment) from the store's profiles.
const CHAMPIONS: &str = concat!(
    r#"{"customer_id":"c-esc-click","segment":"Champions","frequency":30,"typical_gap_days":10.0}"#,
    "\n",
    r#"{"customer_id":"c-esc-quiet","segment":"Champions","frequency":25,"typical_gap_days":12.0}"#,
    "\n"
);

const EXPORTED_CUSTOMER: &str = r#"{"customer_id":"c-export","first_name":"Ada","email":"ada.export@example.com","phone":"+447400900199","consent":{"email":true,"sms":false,"at":"2010-02-02T10:00:00Z","source":"checkout"}}"#;

fn setup() -> Suite {
    let capture = CaptureServer::start();
    let site = std::env::temp_dir().join(format!("vitrine-e2e-journeys-{}/site", std::process::id()));
    let _ = std::fs::remove_dir_all(&site);
    demo_store::generate(&Engine::load(&fixture::bundle_bytes(1)).unwrap(), &site, &[]).expect("demo store");
    // The store's login page for the exported customer: its backend signs them in (no first
    // name in the token: the greeting's comes from the customers export).
    std::fs::create_dir_all(site.join("account")).unwrap();
    std::fs::write(site.join("account/login-ada.html"), "<!doctype html><title>Signed in</title><p>Signed in").unwrap();
    std::fs::write(site.join("account/login-ada.html.headers"), format!("Vitrine-Identity: {}\nCache-Control: private", identity::token("c-export", None)))
        .unwrap();
    // Lee's login: a customer the last build did not know yet.
    std::fs::write(site.join("account/login-lee.html"), "<!doctype html><title>Signed in</title><p>Signed in").unwrap();
    std::fs::write(site.join("account/login-lee.html.headers"), format!("Vitrine-Identity: {}\nCache-Control: private", identity::token("c-live", None)))
        .unwrap();
    let mut cfg = StackConfig::new(&site);
    cfg.bundles = vec![bundle()];
    // Plus a customer of the store's customers export: contacts and consent, no orders.
    cfg.profiles_jsonl = Some(format!("{}{CHAMPIONS}{EXPORTED_CUSTOMER}\n", fixture::PROFILES_JSONL));
    let base = capture.base_url();
    for (k, v) in [
        ("LINK_SECRET", LINK_SECRET.to_string()),
        ("EMAIL_API_BASE", base.clone()),
        ("EMAIL_API_KEY", "SG.e2e".into()),
        ("EMAIL_FROM", "shop@fixture.example".into()),
        ("EMAIL_FROM_NAME", "Fixture & Co".into()),
        ("SMS_API_BASE", base.clone()),
        ("TWILIO_ACCOUNT_SID", "ACe2e".into()),
        ("TWILIO_AUTH_TOKEN", "twilio-token".into()),
        ("SMS_FROM", "+15005550006".into()),
        ("TWILIO_WHATSAPP_FROM", "+15005550007".into()),
        ("PUSH_API_BASE", base.clone()),
        ("PUSH_PROJECT_ID", "e2e".into()),
        ("PUSH_API_KEY", "push-key".into()),
        ("WEBHOOK_URL", format!("{base}/hooks/vitrine")),
        ("WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
        ("RETRY_BASE_SECS", "1".into()),
        ("RETRY_MAX_ATTEMPTS", "5".into()),
        // A provider that does not answer within 2 s is retried (capture::Fault::Hang).
        ("PROVIDER_TIMEOUT_SECS", "2".into()),
        ("ADMIN_TOKEN", ADMIN_TOKEN.into()),
        ("VITRINE_WRITE_KEY", WRITE_KEY.into()),
        ("SENDGRID_WEBHOOK_PUBLIC_KEY", sendgrid_public_key(&sendgrid_key())),
        // As a store would run it: no demo picker, and visitors asked before cookies.
        ("DEMO_PICKER", "0".into()),
        ("REQUIRE_CONSENT", "1".into()),
    ] {
        cfg.vars.push((k.into(), v));
    }
    Suite { stack: RefCell::new(Stack::start("journeys", cfg)), capture, site }
}

fn main() -> std::process::ExitCode {
    harness::run(
        "journeys_e2e",
        setup,
        cases![
            events_over_http_reach_the_providers_in_their_real_shapes,
            a_purchase_on_another_device_ends_the_cart_journey,
            bad_events_get_a_reason_each_and_the_good_ones_are_kept,
            a_duplicated_batch_sends_each_message_once,
            sms_stop_and_the_unsubscribe_link_are_honoured,
            a_failing_provider_is_retried_with_backoff,
            win_back_counts_from_the_customers_profile,
            nobody_can_claim_a_customer_without_proof,
            a_deleted_customer_is_gone_everywhere,
            a_messages_link_brings_its_offer_only_when_genuine,
            stop_from_a_number_silences_every_visitor_that_gave_it,
            fifty_visitors_on_one_number_get_one_confirmation_and_texts_only_after_yes,
            an_email_typed_by_a_visitor_gets_journeys_only_after_its_confirmation_link,
            a_crash_mid_stream_loses_no_accepted_event_and_sends_nothing_twice,
            where_consent_is_required_the_edge_sets_no_cookie_before_yes,
            a_signed_in_customer_is_messaged_as_the_stores_export_allows,
            a_bounce_or_spam_complaint_stops_email_to_the_address_from_every_visitor,
            a_text_the_number_refused_suppresses_it_for_every_visitor,
            a_text_twilio_refuses_at_send_time_suppresses_the_number,
            whatsapp_goes_as_a_template_and_its_callbacks_and_stop_speak_for_whatsapp_only,
            a_clicked_push_ends_the_escalation_and_an_ignored_one_escalates_to_whatsapp_then_email,
            providers_that_throttle_fail_or_hang_are_retried_and_deliver_once,
            a_failed_storage_write_is_stored_on_the_clients_retry,
            a_bundle_that_cannot_load_ends_no_journey_and_loses_no_event,
            a_backend_order_rescores_the_customers_profile_and_a_browsers_claim_moves_nothing,
        ],
    )
}

// ---- helpers ----

fn url(s: &Suite) -> String {
    s.stack.borrow().url.clone()
}

fn post(base: &str, path: &str, content_type: &str, body: &[u8]) -> std::io::Result<HttpResponse> {
    http::request(base, "POST", path, &[("Content-Type", content_type)], body)
}

fn post_events(s: &Suite, events: &[Value]) -> HttpResponse {
    post(&url(s), "/v1/events", "application/json", signed_batch(events).as_bytes()).expect("POST /v1/events")
}

/// A batch as the SDK sends it after `identify(id, traits, { token })`: with the identity token
/// its customer was given by the store's backend (none when the events name no customer).
fn signed_batch(events: &[Value]) -> String {
    let user = events.iter().find_map(|e| e["userId"].as_str());
    match user {
        Some(u) => json!({ "batch": events, "identity": identity::token(u, None) }).to_string(),
        None => json!({ "batch": events }).to_string(),
    }
}

/// A batch as the store's backend sends it: with the write key.
fn post_from_backend(s: &Suite, events: &[Value]) -> HttpResponse {
    let auth = format!("Bearer {WRITE_KEY}");
    let body = json!({ "batch": events }).to_string();
    http::request(&url(s), "POST", "/v1/events", &[("Content-Type", "application/json"), ("Authorization", &auth)], body.as_bytes()).expect("POST /v1/events")
}

fn post_unsigned(s: &Suite, events: &[Value]) -> HttpResponse {
    post(&url(s), "/v1/events", "application/json", json!({ "batch": events }).to_string().as_bytes()).expect("POST /v1/events")
}

/// An event with a fresh messageId (unique across the suite).
fn event(kind: Value, anonymous_id: &str, user_id: Option<&str>) -> Value {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut e = kind;
    e["messageId"] = json!(format!("e2e-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst)));
    e["anonymousId"] = json!(anonymous_id);
    if let Some(u) = user_id {
        e["userId"] = json!(u);
    }
    e
}

fn consent_all(push_token: &str) -> Value {
    // Every channel; SMS needs its own yes (a blanket yes never covers texts).
    json!({ "type": "consent", "channels": { "all": true, "sms": true }, "push_token": push_token })
}

fn identify(first_name: &str, email: &str, phone: &str) -> Value {
    json!({ "type": "identify", "traits": { "firstName": first_name, "email": email, "phone": phone } })
}

fn added(sku: &str, quantity: u32) -> Value {
    json!({ "type": "track", "event": "Product Added", "properties": { "sku": sku, "quantity": quantity } })
}

/// The captured requests that are a message to this visitor (by address, as a whole JSON
/// string so "token-1" is not "token-10").
fn messages_for<'a>(reqs: &'a [Captured], email: &str, phone: &str, push_token: &str) -> Vec<&'a Captured> {
    let (email, push_token) = (format!("\"{email}\""), format!("\"{push_token}\""));
    reqs.iter()
        .filter(|r| {
            (r.path.ends_with("/v3/mail/send") && r.body.contains(&email))
                || (r.path.ends_with("/Messages.json") && r.form().get("To").map(String::as_str) == Some(phone))
                || (r.path.contains("/messages:send") && r.body.contains(&push_token))
                || (r.path.starts_with("/hooks/") && r.body.contains(&email))
        })
        .collect()
}

fn kind(r: &Captured) -> &'static str {
    if r.path.ends_with("/v3/mail/send") {
        "email"
    } else if r.path.ends_with("/Messages.json") && r.form().get("To").is_some_and(|to| to.starts_with("whatsapp:")) {
        "whatsapp"
    } else if r.path.ends_with("/Messages.json") {
        "sms"
    } else if r.path.contains("/messages:send") {
        "push"
    } else {
        "webhook"
    }
}

fn delivered_kinds(reqs: &[&Captured]) -> Vec<&'static str> {
    reqs.iter().filter(|r| r.status < 300).map(|r| kind(r)).collect()
}

fn visitor_log(s: &Suite, key: &str) -> Value {
    let r = http::get(&url(s), &format!("/v1/visitors/{key}/messages"), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn claims(link: &str) -> LinkClaims {
    let vt = link.split("vt=").nth(1).unwrap_or_else(|| panic!("no vt in {link}"));
    let payload = token::verify(LINK_SECRET.as_bytes(), vt).expect("the link's token verifies with the worker's secret");
    serde_json::from_slice(&payload).expect("claims parse")
}

// ---- cases ----

fn events_over_http_reach_the_providers_in_their_real_shapes(s: &Suite) {
    let (email, phone, token_) = ("jane.e1@example.com", "+447400900101", "push-token-e1");
    let accepted_at = Instant::now();
    let r = post_events(
        s,
        &[
            event(consent_all(token_), "e1-phone", None),
            event(added("K300", 2), "e1-phone", None),
            event(identify("Jane", email, phone), "e1-phone", Some("c-e1")),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["accepted"], 3);

    let reqs =
        s.capture.wait_for(JOURNEY_DONE, "push, SMS, email and webhook for Jane", |reqs| delivered_kinds(&messages_for(reqs, email, phone, token_)).len() >= 4);
    let mine = messages_for(&reqs, email, phone, token_);
    assert_eq!(delivered_kinds(&mine), ["webhook", "push", "sms", "email"], "welcome at once, then the cart escalation in order");
    // Alarms are set in whole seconds: the 6 s step may fire up to a second early.
    assert!(accepted_at.elapsed() >= Duration::from_secs(5), "the email waits for its 6 s delay");

    let push = mine[1];
    assert_eq!(push.path, "/v1/projects/e2e/messages:send");
    assert_eq!(push.header("authorization"), Some("Bearer push-key"));
    let p = push.json();
    assert_eq!(p["message"]["token"], token_);
    assert_eq!(p["message"]["notification"]["title"], "Still in your cart");
    assert_eq!(p["message"]["notification"]["body"], "Teapot is waiting, Jane");
    assert_eq!(p["message"]["notification"]["image"], "https://fixture.example/img/K300.svg");

    let sms = mine[2];
    assert_eq!(sms.path, "/2010-04-01/Accounts/ACe2e/Messages.json");
    let basic = base64::engine::general_purpose::STANDARD.encode("ACe2e:twilio-token");
    assert_eq!(sms.header("authorization"), Some(format!("Basic {basic}").as_str()));
    assert_eq!(sms.header("content-type"), Some("application/x-www-form-urlencoded"));
    let form = sms.form();
    assert_eq!((form["To"].as_str(), form["From"].as_str()), (phone, "+15005550006"));
    assert!(form["Body"].starts_with("Jane, your cart (£50.00) is saved: https://fixture.example/v1/click?vt="), "{}", form["Body"]);
    let sms_link = claims(form["Body"].split(' ').next_back().unwrap());
    assert_eq!((sms_link.channel.as_str(), sms_link.landing.as_str()), ("sms", "/cart"), "the click redirect leads to the cart");

    let mail = mine[3];
    assert_eq!(mail.path, "/v3/mail/send");
    assert_eq!(mail.header("authorization"), Some("Bearer SG.e2e"));
    let m = mail.json();
    assert_eq!(m["personalizations"][0]["to"][0], json!({ "email": email, "name": "Jane" }));
    assert_eq!(m["from"], json!({ "email": "shop@fixture.example", "name": "Fixture & Co" }));
    assert_eq!(m["subject"], "Jane, 10% off your cart");
    assert_eq!(m["content"][0]["value"], "Hi Jane,\n\n- Teapot (£25.00)\n\nCode CART10");
    let html = m["content"][1]["value"].as_str().unwrap();
    for needle in ["https://fixture.example/img/K300.svg", "£25.00", "CART10", "10% off your cart", "Unsubscribe"] {
        assert!(html.contains(needle), "{needle} missing from the email HTML");
    }
    assert!(m["headers"]["List-Unsubscribe"].as_str().unwrap().starts_with("<https://fixture.example/v1/unsubscribe?vt="));
    // The email's link goes through the click redirect, signed, to the same offer.
    let link = html.split("href=\"").find(|h| h.starts_with("https://fixture.example/v1/click?vt=")).unwrap().split('"').next().unwrap();
    let c = claims(&link.replace("&amp;", "&"));
    assert_eq!((c.visitor.as_str(), c.journey.as_str(), c.offer.as_str(), c.products.clone()), ("u:c-e1", "cart", "cart10", vec!["K300".to_string()]));

    let hook = mine[0];
    let ts: i64 = hook.header("x-vitrine-timestamp").unwrap().parse().unwrap();
    let expected = webhook_signature(WEBHOOK_SECRET.as_bytes(), ts, &hook.body);
    assert_eq!(hook.header("x-vitrine-signature"), Some(format!("v1={expected}").as_str()));
    assert_eq!(hook.json()["message"]["journey"], "welcome");

    // Every send is recorded with its outcome (dev mode endpoint), under the customer.
    let log = visitor_log(s, "u:c-e1");
    let outcomes: Vec<(String, String)> =
        log["messages"].as_array().unwrap().iter().map(|m| (m["channel"].as_str().unwrap().into(), m["outcome"].as_str().unwrap().into())).collect();
    assert_eq!(
        outcomes,
        [("webhook", "delivered"), ("push", "delivered"), ("sms", "delivered"), ("email", "delivered")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(s.stack.borrow().log_text().contains("vitrine delivery"), "delivery log lines for wrangler tail");
}

fn a_purchase_on_another_device_ends_the_cart_journey(s: &Suite) {
    let (email, phone, token_) = ("sam.e2@example.com", "+447400900102", "push-token-e2");
    // The phone: anonymous, consents, fills a cart, then logs in.
    let r = post_events(
        s,
        &[
            event(consent_all(token_), "e2-phone", None),
            event(added("C100", 1), "e2-phone", None),
            event(identify("Sam", email, phone), "e2-phone", Some("c-e2")),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    s.capture.wait_for(JOURNEY_DONE, "Sam's push", |reqs| delivered_kinds(&messages_for(reqs, email, phone, token_)).contains(&"push"));
    // The laptop: another anonymous id; logs in, then buys while anonymous events still flow.
    let r = post_events(
        s,
        &[event(identify("Sam", email, phone), "e2-laptop", Some("c-e2")), event(json!({ "type": "track", "event": "Cart Viewed" }), "e2-laptop", None)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let cart = visitor_log(s, "a:e2-laptop")["state"]["cart"].clone();
    assert_eq!(cart[0]["sku"], "C100", "the laptop sees the phone's cart");
    let r = post_events(
        s,
        &[event(
            json!({ "type": "track", "event": "Order Completed", "properties": { "order_id": "o-e2", "products": [{ "sku": "C100" }] } }),
            "e2-laptop",
            None,
        )],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    thread::sleep(Duration::from_secs(8)); // past the SMS (4 s) and email (6 s) steps
    let reqs = s.capture.requests();
    assert_eq!(delivered_kinds(&messages_for(&reqs, email, phone, token_)), ["webhook", "push"], "no SMS, no email after the order");
    let state = &visitor_log(s, "u:c-e2")["state"];
    assert_eq!(state["cart"], json!([]));
    assert_eq!(state["runs"].as_array().unwrap().iter().filter(|r| r["journey"] == "cart").count(), 0);
}

fn bad_events_get_a_reason_each_and_the_good_ones_are_kept(s: &Suite) {
    let viewed = event(json!({ "type": "track", "event": "Product Viewed", "properties": { "sku": "K301" } }), "e3", None);
    let page = event(json!({ "type": "page", "properties": { "path": "/" } }), "e3", None);
    let unknown = event(json!({ "type": "track", "event": "Product Teleported" }), "e3", None);
    let no_id = json!({ "type": "track", "event": "Product Viewed", "anonymousId": "e3", "properties": { "sku": "K301" } });
    let huge = event(json!({ "type": "track", "event": "Product Viewed", "properties": { "sku": "K301", "name": "x".repeat(40_000) } }), "e3", None);
    let r = post_events(s, &[viewed.clone(), unknown, no_id, huge, json!("not an event"), page.clone()]);
    assert_eq!(r.status, 400, "{}", r.text());
    let v = r.json();
    assert_eq!(v["accepted"], 2, "{v}");
    let refused: Vec<(u64, String)> =
        v["refused"].as_array().unwrap().iter().map(|x| (x["index"].as_u64().unwrap(), x["reason"].as_str().unwrap().to_string())).collect();
    assert_eq!(refused.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(refused[0].1.starts_with("unknown event \"Product Teleported\""), "{}", refused[0].1);
    assert_eq!(refused[1].1, "missing messageId");
    assert!(refused[2].1.contains("over the 32768-byte limit"), "{}", refused[2].1);
    assert_eq!(refused[3].1, "an event must be a JSON object");
    // The two good ones were stored: sent again, they are duplicates.
    let again = post_events(s, &[viewed, page]);
    assert_eq!((again.status, again.json()["duplicates"].as_u64()), (200, Some(2)));
    // Whole bodies: not JSON, over the batch limit.
    let r = post(&url(s), "/v1/events", "application/json", b"{not json").unwrap();
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().starts_with("body is not JSON"));
    let r = post(&url(s), "/v1/events", "application/json", &vec![b' '; 600 * 1024]).unwrap();
    assert_eq!(r.status, 413, "{}", r.text());
}

fn a_duplicated_batch_sends_each_message_once(s: &Suite) {
    let (email, phone, token_) = ("kim.e4@example.com", "+447400900104", "push-token-e4");
    let batch =
        [event(consent_all(token_), "e4", Some("c-e4")), event(identify("Kim", email, phone), "e4", Some("c-e4")), event(added("K301", 1), "e4", Some("c-e4"))];
    assert_eq!(post_events(s, &batch).json()["accepted"], 3);
    let again = post_events(s, &batch).json();
    assert_eq!((again["accepted"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(3)));
    s.capture.wait_for(JOURNEY_DONE, "Kim's email", |reqs| delivered_kinds(&messages_for(reqs, email, phone, token_)).contains(&"email"));
    thread::sleep(Duration::from_secs(2));
    let mut kinds = delivered_kinds(&messages_for(&s.capture.requests(), email, phone, token_));
    kinds.sort();
    assert_eq!(kinds, ["email", "push", "sms", "webhook"], "each once");
}

fn sms_stop_and_the_unsubscribe_link_are_honoured(s: &Suite) {
    let (email, phone, token_) = ("lee.e5@example.com", "+447400900105", "push-token-e5");
    let r = post_events(
        s,
        &[
            event(consent_all(token_), "e5", Some("c-e5")),
            event(identify("Lee", email, phone), "e5", Some("c-e5")),
            event(added("G200", 1), "e5", Some("c-e5")),
        ],
    );
    assert_eq!(r.status, 200);
    s.capture.wait_for(JOURNEY_DONE, "Lee's push", |reqs| delivered_kinds(&messages_for(reqs, email, phone, token_)).contains(&"push"));
    // Twilio posts the reply "STOP" to the inbound webhook, signed with the auth token.
    let form = format!("From={}&To=%2B15005550006&Body=STOP&MessageSid=SMe5", phone.replace('+', "%2B"));
    let params: Vec<(String, String)> =
        [("From", phone), ("To", "+15005550006"), ("Body", "STOP"), ("MessageSid", "SMe5")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let inbound = format!("{}/v1/sms/inbound", url(s));
    let sms = |signature: &str| {
        let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature)];
        http::request(&url(s), "POST", "/v1/sms/inbound", &headers, form.as_bytes()).unwrap()
    };
    // A forged or unsigned STOP changes nothing.
    let forged = twilio_signature("not-the-token", &inbound, &params);
    assert_eq!(sms(&forged).status, 403);
    assert_eq!(post(&url(s), "/v1/sms/inbound", "application/x-www-form-urlencoded", form.as_bytes()).unwrap().status, 403);
    assert_eq!(visitor_log(s, "u:c-e5")["state"]["consent"]["sms"]["granted"].as_bool(), Some(true), "still subscribed");
    let r = sms(&twilio_signature("twilio-token", &inbound, &params));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<Response>"), "TwiML");
    // The email's one-click unsubscribe link (the same token the email carries).
    let vt = LinkClaims { visitor: "u:c-e5".into(), unsubscribe: "email".into(), ..LinkClaims::default() }.sign(LINK_SECRET.as_bytes());
    let page = http::get(&url(s), &format!("/v1/unsubscribe?vt={vt}"), &[]);
    assert!(page.text().contains("<form method=post>"), "a GET (a link scanner) only shows the button");
    assert_eq!(visitor_log(s, "u:c-e5")["state"]["consent"]["email"]["granted"].as_bool(), Some(true));
    let r = post(&url(s), &format!("/v1/unsubscribe?vt={vt}"), "application/x-www-form-urlencoded", b"List-Unsubscribe=One-Click").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("no more emails"));
    let forged = http::get(&url(s), &format!("/v1/unsubscribe?vt={}x", &vt[..vt.len() - 1]), &[]);
    assert_eq!(forged.status, 400);
    thread::sleep(Duration::from_secs(8));
    assert_eq!(delivered_kinds(&messages_for(&s.capture.requests(), email, phone, token_)), ["webhook", "push"]);
    let state = &visitor_log(s, "u:c-e5")["state"];
    assert_eq!((state["consent"]["sms"]["granted"].as_bool(), state["consent"]["email"]["granted"].as_bool()), (Some(false), Some(false)));
}

fn a_failing_provider_is_retried_with_backoff(s: &Suite) {
    let token_ = "push-token-e6";
    let r = post_events(
        s,
        &[
            event(json!({ "type": "consent", "channels": { "push": true }, "push_token": token_ }), "e6", Some("c-e6")),
            event(added("K302", 1), "e6", Some("c-e6")),
        ],
    );
    assert_eq!(r.status, 200);
    s.capture.fail_next(2);
    let reqs = s.capture.wait_for(JOURNEY_DONE, "the push after two 503s", |reqs| reqs.iter().any(|r| r.body.contains(token_) && r.status == 200));
    let attempts: Vec<u16> = reqs.iter().filter(|r| r.body.contains(token_)).map(|r| r.status).collect();
    assert_eq!(attempts, [503, 503, 200]);
    let keys: Vec<&str> = reqs.iter().filter(|r| r.body.contains(token_)).map(|r| r.header("idempotency-key").unwrap()).collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "one idempotency key across retries: {keys:?}");
    let log = visitor_log(s, "u:c-e6");
    let outcomes: Vec<&str> = log["messages"].as_array().unwrap().iter().map(|m| m["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["retry", "retry", "delivered"]);
}

fn win_back_counts_from_the_customers_profile(s: &Suite) {
    // 17850's profile (KV PROFILES): last order 2011-05-20, typically every 30 days: long past.
    let email = "c17850@example.com";
    let r = post_events(
        s,
        &[
            event(identify("Ann", email, "+447400900107"), "e7", Some("17850")),
            event(json!({ "type": "consent", "channels": { "email": true } }), "e7", Some("17850")),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let reqs = s.capture.wait_for(JOURNEY_DONE, "Ann's win-back email", |reqs| {
        reqs.iter().any(|r| r.path.ends_with("/mail/send") && r.body.contains(email) && r.body.contains("We miss you"))
    });
    let mail = reqs.iter().find(|r| r.path.ends_with("/mail/send") && r.body.contains(email)).unwrap().json();
    assert_eq!(mail["subject"], "We miss you, Ann");
    let state = &visitor_log(s, "u:17850")["state"];
    assert_eq!((state["profile"]["typical_gap_days"].as_f64(), state["orders"]["last_at"].as_i64()), (Some(30.0), Some(1_305_849_600)));
}

/// The attack of issue #12: identify + consent as an existing customer, with the attacker's
/// contacts, without the store's proof. Refused; the customer's object is untouched and nothing
/// is sent to the attacker. With the customer's own token the same identify is accepted.
fn nobody_can_claim_a_customer_without_proof(s: &Suite) {
    let (email, token_) = ("victim@example.com", "push-token-victim");
    let r = post_events(s, &[event(consent_all(token_), "e8", Some("c-e8")), event(identify("Vic", email, "+447400900108"), "e8", Some("c-e8"))]);
    assert_eq!(r.status, 200, "{}", r.text());
    let before = visitor_log(s, "u:c-e8")["state"].clone();
    let attacker = "attacker@evil.example";
    let claim = [
        event(identify("Mallory", attacker, "+447400900666"), "evil", Some("c-e8")),
        event(consent_all("push-token-evil"), "evil", Some("c-e8")),
        event(added("K300", 1), "evil", None),
    ];
    let r = post_unsigned(s, &claim);
    assert_eq!(r.status, 401, "{}", r.text());
    let reply = r.json();
    assert_eq!(reply["refused"].as_array().unwrap().len(), 2, "{reply}");
    assert!(reply["refused"][0]["reason"].as_str().unwrap().contains("needs proof"));
    assert_eq!(reply["accepted"], 1, "the anonymous event is kept, as the attacker's own");
    let forged = identity::token_with(identity::KID, "a-secret-the-attacker-guessed", "c-e8", None, identity::now() + 600);
    let body = json!({ "batch": claim, "identity": forged }).to_string();
    assert_eq!(post(&url(s), "/v1/events", "application/json", body.as_bytes()).unwrap().status, 401);
    let after = visitor_log(s, "u:c-e8")["state"].clone();
    assert_eq!(after["profile"], before["profile"], "contacts and consent unchanged");
    assert!(!after.to_string().contains(attacker));
    let evil = visitor_log(s, "a:evil");
    assert!(!evil["state"].to_string().contains("c-e8") && evil["alias"].as_str().unwrap_or("").is_empty(), "not linked: {evil}");
    thread::sleep(Duration::from_secs(3));
    assert!(s.capture.requests().iter().all(|r| !r.body.contains(attacker) && !r.body.contains("push-token-evil")), "nothing reaches the attacker");
    // The customer's own token: accepted.
    let mine = [event(identify("Vic", email, "+447400900108"), "e8-laptop", Some("c-e8"))];
    assert_eq!(post_events(s, &mine).status, 200);
}

/// Three visitors typed one number three ways; one STOP from it silences all of them, and a
/// fourth who types it afterwards is silenced at once. (Before, STOP reached only the last
/// visitor to use the number, and `07…` never matched `+44…`.)
fn stop_from_a_number_silences_every_visitor_that_gave_it(s: &Suite) {
    let phone = "+447400123456";
    let sms_consent = |key: &str| visitor_log(s, key)["state"]["consent"]["sms"]["granted"].as_bool();
    for (visitor, typed) in [("stop-a", "07400 123456"), ("stop-b", "+44 7400 123456"), ("stop-c", "+447400123456")] {
        let consent = json!({ "type": "consent", "channels": { "sms": true } });
        let r = post_events(s, &[event(consent, visitor, None), event(json!({ "type": "identify", "traits": { "phone": typed } }), visitor, None)]);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(visitor_log(s, &format!("a:{visitor}"))["state"]["profile"]["phone"], phone, "kept in E.164");
    }
    let r = signed_sms(s, phone, "Stop", "SMstop");
    assert_eq!(r.status, 200, "{}", r.text());
    for v in ["a:stop-a", "a:stop-b", "a:stop-c"] {
        assert_eq!(sms_consent(v), Some(false), "{v} silenced");
    }
    // The number is on the suppression list: a new visitor giving it is silenced at once.
    let r = post_events(
        s,
        &[
            event(json!({ "type": "consent", "channels": { "sms": true } }), "stop-d", None),
            event(json!({ "type": "identify", "traits": { "phone": "07400123456" } }), "stop-d", None),
        ],
    );
    assert_eq!(r.status, 200);
    assert_eq!(sms_consent("a:stop-d"), Some(false), "a stopped number stays stopped");
    // A number the phone library refuses is never kept (so never texted).
    let r = post_events(s, &[event(json!({ "type": "identify", "traits": { "phone": "12345", "first_name": "Bo" } }), "stop-e", None)]);
    assert_eq!(r.status, 200);
    let state = &visitor_log(s, "a:stop-e")["state"];
    assert_eq!((state["profile"]["phone"].as_str(), state["profile"]["first_name"].as_str()), (Some(""), Some("Bo")));
}

/// Double opt-in against an SMS-pumping relay: 50 anonymous visitors give one number and ask
/// for texts. The number gets exactly one confirmation and no journey text; once it answers
/// YES, the journeys text it.
fn fifty_visitors_on_one_number_get_one_confirmation_and_texts_only_after_yes(s: &Suite) {
    let phone = "+447400555000";
    let texts = || {
        s.capture
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/Messages.json") && r.form().get("To").map(String::as_str) == Some(phone))
            .collect::<Vec<_>>()
    };
    for i in 0..50 {
        let visitor = format!("pump-{i}");
        let mut batch = vec![
            event(json!({ "type": "consent", "channels": { "sms": true } }), &visitor, None),
            event(json!({ "type": "identify", "traits": { "phone": "07400 555000" } }), &visitor, None),
        ];
        if i == 0 {
            batch.push(event(added("K300", 1), &visitor, None));
        }
        let r = post_events(s, &batch);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    thread::sleep(Duration::from_secs(8)); // past the cart journey's text step (4 s)
    let sent = texts();
    assert_eq!(sent.len(), 1, "exactly one text: {:?}", sent.iter().map(|r| r.form().get("Body").cloned()).collect::<Vec<_>>());
    assert!(sent[0].form()["Body"].contains("reply YES"), "the confirmation");
    assert!(visitor_log(s, "a:pump-0")["state"]["profile"]["phone_verified"] == json!(false));

    let r = signed_sms(s, phone, "YES", "SMyes");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(visitor_log(s, "a:pump-17")["state"]["profile"]["phone_verified"], json!(true), "every visitor of the number");
    // Carts filled after the YES: the journey's texts now go (pump-0's run skipped its text
    // before, unconfirmed). Eleven visitors of the number the same day: the daily cap
    // ([messaging] max_per_day = 10) counts for the number across them all, not per visitor.
    let cart_texts = || texts().into_iter().filter(|r| r.form()["Body"].contains("is saved")).count();
    assert_eq!(cart_texts(), 0, "no journey text before the YES");
    let more: Vec<String> = (1..=11).map(|i| format!("pump-{i}")).collect();
    for v in &more {
        assert_eq!(post_events(s, &[event(added("K302", 1), v, None)]).status, 200);
    }
    let refused = |v: &str| visitor_log(s, &format!("a:{v}"))["messages"].to_string().contains("daily cap (10) for this contact");
    s.capture.wait_for(JOURNEY_DONE, "the carts' texts, sent or refused", |_| cart_texts() == 10 && more.iter().filter(|v| refused(v)).count() == 1);
    thread::sleep(Duration::from_secs(2));
    assert_eq!(cart_texts(), 10, "ten texts to the number that day, whichever visitors asked");
    assert_eq!(texts().iter().filter(|r| r.form()["Body"].contains("reply YES")).count(), 1, "still one confirmation");
}

/// Email double opt-in: an address an anonymous visitor typed gets one confirmation email with
/// a signed link and no journey email; once the link is followed (POST: link scanners only GET),
/// every visitor of the address is confirmed and the journeys email it.
fn an_email_typed_by_a_visitor_gets_journeys_only_after_its_confirmation_link(s: &Suite) {
    let mails = |to: &str| s.capture.requests().into_iter().filter(|r| r.path.ends_with("/v3/mail/send") && r.body.contains(to)).collect::<Vec<_>>();
    let link_in = |r: &Captured| {
        let text = r.json().to_string();
        let vt = text.split("/v1/confirm?vt=").nth(1).expect("a confirmation link");
        vt.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')).next().unwrap().to_string()
    };
    let signup = |visitor: &str, typed: &str, cart: bool| {
        let mut batch = vec![
            event(json!({ "type": "consent", "channels": { "email": true } }), visitor, None),
            event(json!({ "type": "identify", "traits": { "email": typed } }), visitor, None),
        ];
        if cart {
            batch.push(event(added("K300", 1), visitor, None));
        }
        assert_eq!(post_events(s, &batch).status, 200);
    };
    // A never follows the link: after the cart journey's email step (6 s), only the confirmation.
    let slow = "doi.slow@example.com";
    signup("doi-slow", "DOI.Slow@Example.com ", true);
    signup("doi-slow-2", slow, false);
    // B follows it at once: the journey's email then goes.
    let fast = "doi.fast@example.com";
    signup("doi-fast", fast, true);
    let confirmation = s.capture.wait_for(JOURNEY_DONE, "B's confirmation", |_| !mails(fast).is_empty());
    let vt = link_in(confirmation.iter().find(|r| r.path.ends_with("/v3/mail/send") && r.body.contains(fast)).unwrap());
    assert!(http::get(&url(s), &format!("/v1/confirm?vt={vt}"), &[]).text().contains("<form method=post>"), "a GET only shows the button");
    assert_eq!(visitor_log(s, "a:doi-fast")["state"]["profile"]["email_verified"], json!(false));
    assert_eq!(http::get(&url(s), &format!("/v1/confirm?vt={}x", &vt[..vt.len() - 1]), &[]).status, 400, "a tampered link");
    let r = post(&url(s), &format!("/v1/confirm?vt={vt}"), "application/x-www-form-urlencoded", b"").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    s.capture.wait_for(JOURNEY_DONE, "B's cart email", |_| mails(fast).iter().any(|r| r.json()["subject"].as_str().is_some_and(|t| t.contains("10% off"))));

    thread::sleep(Duration::from_secs(3));
    let sent = mails(slow);
    assert_eq!(sent.len(), 1, "A: one confirmation, no journey email: {:?}", sent.iter().map(|r| r.json()["subject"].clone()).collect::<Vec<_>>());
    assert!(sent[0].json()["subject"].as_str().unwrap().starts_with("Confirm your email"));
    let r = post(&url(s), &format!("/v1/confirm?vt={}", link_in(&sent[0])), "application/x-www-form-urlencoded", b"").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    for v in ["a:doi-slow", "a:doi-slow-2"] {
        assert_eq!(visitor_log(s, v)["state"]["profile"]["email_verified"], json!(true), "{v}: every visitor of the address");
    }
}

/// Landing from a message: the edge checks the `vt` token and hands the offer to the SDK in
/// the `vt_offer` cookie; a forged, expired or tampered link hands over nothing.
fn a_messages_link_brings_its_offer_only_when_genuine(s: &Suite) {
    let link = |secret: &[u8], offer: &str, exp: i64| {
        let c = LinkClaims {
            visitor: "a:landing".into(),
            journey: "cart_abandonment".into(),
            step: 3,
            channel: "email".into(),
            landing: "/".into(),
            offer: offer.into(),
            exp,
            ..LinkClaims::default()
        };
        token::sign(secret, c.to_json().as_bytes())
    };
    let offer_cookie_for = |vt: &str, cookie: &str| {
        let r = http::get(&url(s), &format!("/?vt={vt}&utm_source=email"), &[("Cookie", cookie)]);
        assert_eq!(r.status, 200);
        r.cookies().into_iter().find(|(k, _)| k == "vt_offer").map(|(_, v)| v)
    };
    let offer_cookie = |vt: &str| offer_cookie_for(vt, "vt_vid=e2e-landing-visitor; vt_consent=1");
    let now = identity::now();
    assert_eq!(offer_cookie_for(&link(LINK_SECRET.as_bytes(), "cart10", now + 3600), "vt_vid=e2e-landing-visitor"), None, "no cookie before consent");
    assert_eq!(offer_cookie(&link(LINK_SECRET.as_bytes(), "cart10", now + 3600)).as_deref(), Some("cart10"), "a genuine link");
    assert_eq!(offer_cookie(&link(b"a-guessed-secret", "cart10", now + 3600)), None, "forged");
    assert_eq!(offer_cookie(&link(LINK_SECRET.as_bytes(), "cart10", now - 60)), None, "expired");
    let genuine = link(LINK_SECRET.as_bytes(), "cart10", now + 3600);
    let (payload, sig) = genuine.split_once('.').expect("payload.signature");
    let tampered = format!("{}.{sig}", &payload[..payload.len() - 2]);
    assert_eq!(offer_cookie(&tampered), None, "tampered");
}

/// An inbound SMS as Twilio posts it: form-encoded, signed with the account's auth token.
fn signed_sms(s: &Suite, from: &str, body: &str, sid: &str) -> HttpResponse {
    let params: Vec<(String, String)> =
        [("From", from), ("To", "+15005550006"), ("Body", body), ("MessageSid", sid)].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let form = params.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B"))).collect::<Vec<_>>().join("&");
    let signature = twilio_signature("twilio-token", &format!("{}/v1/sms/inbound", url(s)), &params);
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature.as_str())];
    http::request(&url(s), "POST", "/v1/sms/inbound", &headers, form.as_bytes()).expect("POST /v1/sms/inbound")
}

/// `scripts/privacy.sh` against the stack, as an operator runs it.
fn privacy_sh(s: &Suite, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("bash")
        .arg(repo_root().join("scripts/privacy.sh"))
        .args(args)
        .env("VITRINE_URL", url(s))
        .env("ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .expect("bash runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A privacy request: export shows everything stored about the customer; delete erases it in
/// every place (their object, the device folded into it, their phone's index, their KV
/// profile); an old profile cookie of theirs stops personalizing at its refresh; and nothing
/// is sent to them afterwards.
fn a_deleted_customer_is_gone_everywhere(s: &Suite) {
    use vitrine_edge::kv::Entry;
    use vitrine_edge::profile::ProfileClaims;
    s.stack.borrow().kv_put("PROFILES", &[Entry::text("profile:c-priv", r#"{"customer_id":"c-priv","segment":"Champions","first_name":"Pat"}"#)]);
    let (email, phone, token_) = ("pat.priv@example.com", "+447400100999", "push-token-priv");
    let r = post_events(
        s,
        &[
            event(consent_all(token_), "priv-phone", None),
            event(added("K300", 1), "priv-phone", None),
            event(identify("Pat", email, phone), "priv-phone", Some("c-priv")),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());

    assert_eq!(http::get(&url(s), "/v1/admin/customers/c-priv", &[("Authorization", "Bearer a-guess-at-the-token")]).status, 401);
    let (ok, export) = privacy_sh(s, &["export", "c-priv"]);
    assert!(ok, "{export}");
    let export: Value = serde_json::from_str(export.trim()).expect("export is JSON");
    let text = export.to_string();
    assert!(text.contains(email) && text.contains(phone) && text.contains("a:priv-phone"), "everything, from every place: {export}");
    assert_eq!(export["profile"]["segment"], "Champions");

    // A profile cookie issued two days ago (due for its refresh).
    let stale = ProfileClaims {
        cid: "c-priv".into(),
        traits: serde_json::from_str(r#"{"first_name":"Pat","segment":"Champions"}"#).unwrap(),
        iat: identity::now() - 2 * 86_400,
    };
    let cookie = format!("vt_vid=e2e-priv-visitor; vt_profile={}", vitrine_edge::profile::issue(&stale, vitrine_tests::stack::PROFILE_SECRET.as_bytes()));
    let before = http::get(&url(s), "/", &[("Cookie", &cookie)]);
    assert!(before.text().contains("Welcome back, Pat"), "personalized before");

    // The number said STOP before the customer asked to be erased.
    let r = signed_sms(s, phone, "STOP", "SMpriv");
    assert_eq!(r.status, 200, "{}", r.text());

    let (ok, deleted) = privacy_sh(s, &["delete", "c-priv"]);
    assert!(ok, "{deleted}");
    let sent_at_delete = s
        .capture
        .requests()
        .iter()
        .filter(|r| {
            r.body.contains(email) || r.body.contains(token_) || (r.path.ends_with("/Messages.json") && r.form().get("To").map(String::as_str) == Some(phone))
        })
        .count();
    let (_, export) = privacy_sh(s, &["export", "c-priv"]);
    assert!(export.contains("nothing is stored about customer c-priv"), "{export}");
    let after = http::get(&url(s), "/", &[("Cookie", &cookie)]);
    assert!(!after.text().contains("Pat"), "the old cookie personalizes no more");
    assert!(after.cookies().iter().any(|(k, v)| k == "vt_profile" && v.is_empty()), "and is cleared: {:?}", after.headers);
    for key in ["u:c-priv", "a:priv-phone", &format!("p:{phone}")] {
        let log = visitor_log(s, key);
        assert!(!log.to_string().contains(email) && log["state"]["cart"].as_array().is_none_or(|c| c.is_empty()), "{key} still holds data: {log}");
    }
    // A later import of the same number (here: a visitor typing it) finds it still stopped:
    // the erasure left a hashed tombstone, not the number.
    let again = [
        event(json!({ "type": "consent", "channels": { "sms": true } }), "priv-later", None),
        event(json!({ "type": "identify", "traits": { "phone": "07400 100999" } }), "priv-later", None),
    ];
    assert_eq!(post_events(s, &again).status, 200);
    assert_eq!(visitor_log(s, "a:priv-later")["state"]["consent"]["sms"]["granted"].as_bool(), Some(false), "still stopped");
    thread::sleep(Duration::from_secs(8)); // past every step of the cart journey
    let to_number = |r: &Captured| r.path.ends_with("/Messages.json") && r.form().get("To").map(String::as_str) == Some(phone);
    let sent_after = s.capture.requests().iter().filter(|r| r.body.contains(email) || r.body.contains(token_) || to_number(r)).count();
    assert_eq!(sent_after, sent_at_delete, "no alarm of theirs sends anything, and the stopped number gets no confirmation");
}

/// Visitors stream events while `wrangler dev` is killed (SIGKILL) and restarted on the same
/// state; the sender retries what did not get a 200, as the SDK does.
fn a_crash_mid_stream_loses_no_accepted_event_and_sends_nothing_twice(s: &Suite) {
    const VISITORS: usize = 12;
    let people: Vec<(String, String, String, String)> = (0..VISITORS)
        .map(|i| (format!("c-crash-{i}"), format!("p{i}.crash@example.com"), format!("+4474009002{i:02}"), format!("push-token-crash-{i}")))
        .collect();
    // Per visitor: consent + identify, then a cart, then browsing. Half start anonymous.
    let mut batches: Vec<Vec<Value>> = Vec::new();
    for round in 0..3 {
        for (i, (user, email, phone, token_)) in people.iter().enumerate() {
            let anon = format!("crash-anon-{i}");
            let uid = (i % 2 == 0 || round > 0).then_some(user.as_str());
            batches.push(match round {
                0 => vec![event(consent_all(token_), &anon, uid), event(identify(&format!("P{i}"), email, phone), &anon, Some(user))],
                1 => vec![event(added("K300", 1), &anon, uid), event(added("C100", 2), &anon, uid)],
                _ => vec![
                    event(json!({ "type": "page", "properties": { "path": "/cart" } }), &anon, uid),
                    event(json!({ "type": "track", "event": "Cart Viewed" }), &anon, uid),
                ],
            });
        }
    }
    let base = url(s);
    let crashed = Arc::new(AtomicBool::new(false));
    let sender = {
        let (batches, base, crashed) = (batches.clone(), base.clone(), crashed.clone());
        thread::spawn(move || {
            let mut retried = 0;
            for (n, batch) in batches.iter().enumerate() {
                let body = signed_batch(batch);
                loop {
                    match post(&base, "/v1/events", "application/json", body.as_bytes()) {
                        Ok(r) if r.status == 200 => break,
                        _ => {
                            retried += 1;
                            thread::sleep(Duration::from_millis(200));
                        }
                    }
                }
                if n + 1 == batches.len() * 2 / 3 {
                    // Let the main thread crash the server while the rest is in flight.
                    while !crashed.load(Ordering::SeqCst) {
                        thread::sleep(Duration::from_millis(20));
                    }
                } else {
                    thread::sleep(Duration::from_millis(150));
                }
            }
            retried
        })
    };
    // Crash once the carts are in and the first pushes are going out, with more due.
    let out = |reqs: &[Captured]| people.iter().map(|(_, e, p, t)| messages_for(reqs, e, p, t).len()).sum::<usize>();
    let crash_after = Instant::now();
    while out(&s.capture.requests()) < VISITORS + 3 && crash_after.elapsed() < Duration::from_secs(20) {
        thread::sleep(Duration::from_millis(20));
    }
    let sent_before = out(&s.capture.requests());
    crashed.store(true, Ordering::SeqCst);
    let restart = Instant::now();
    s.stack.borrow_mut().crash_and_restart();
    let restart_secs = restart.elapsed().as_secs_f32();
    let retried = sender.join().expect("sender");

    // Every visitor's four messages settle after the restart (alarms kept in the persisted
    // state): delivered, or, if the crash cut the request off, recorded as interrupted and not
    // sent again (at most once: the provider may or may not have it).
    let interrupted = |user: &str| -> Vec<String> {
        let log = visitor_log(s, &format!("u:{user}"));
        log["messages"].as_array().unwrap().iter().filter(|m| m["outcome"] == "interrupted").map(|m| m["channel"].as_str().unwrap().to_string()).collect()
    };
    let settled = |reqs: &[Captured]| {
        people.iter().all(|(u, e, p, t)| {
            let mut kinds: Vec<String> = delivered_kinds(&messages_for(reqs, e, p, t)).iter().map(|k| k.to_string()).collect();
            kinds.extend(interrupted(u));
            kinds.len() >= 4
        })
    };
    s.capture.wait_for(JOURNEY_DONE, "every crash visitor's four messages settled", settled);
    thread::sleep(Duration::from_secs(2)); // anything late and doubled would show now
    let reqs = &s.capture.requests();

    // No message twice: each idempotency key delivered at most once; per visitor, each step
    // delivered or interrupted, once.
    let mut delivered: BTreeMap<String, usize> = BTreeMap::new();
    for (_, e, p, t) in &people {
        for r in messages_for(reqs, e, p, t).into_iter().filter(|r| r.status < 300) {
            *delivered.entry(r.header("idempotency-key").unwrap().to_string()).or_default() += 1;
        }
    }
    let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    let mut cut = 0;
    for (u, e, p, t) in &people {
        let lost = interrupted(u);
        cut += lost.len();
        let mut kinds: Vec<String> = delivered_kinds(&messages_for(reqs, e, p, t)).iter().map(|k| k.to_string()).collect();
        for k in lost {
            if !kinds.contains(&k) {
                kinds.push(k); // cut off before the provider had it
            }
        }
        kinds.sort();
        assert_eq!(kinds, ["email", "push", "sms", "webhook"], "{e}");
    }
    // No accepted event lost: sent again, every one is a duplicate.
    let total: usize = batches.iter().map(Vec::len).sum();
    let mut duplicates = 0;
    for batch in &batches {
        let r = post_events(s, batch);
        assert_eq!(r.status, 200, "{}", r.text());
        duplicates += r.json()["duplicates"].as_u64().unwrap() as usize;
    }
    assert_eq!(duplicates, total, "every event accepted before, during or after the crash is stored");
    println!(
        "    crash: {} batches ({total} events), {sent_before} messages out before the kill, restart in {restart_secs:.1} s, {retried} sends retried by the client, {} messages delivered once each, {cut} cut off by the kill (recorded as interrupted, not resent)",
        batches.len(),
        delivered.len()
    );
}

/// What a webhook receiver checks (README, "Webhooks"): hex HMAC-SHA256 of `timestamp.body`.
/// Written here from the spec, not taken from the worker, so the test checks the worker.
fn webhook_signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// How Twilio signs a webhook (`X-Twilio-Signature`, twilio.com/docs/usage/security): base64 of
/// HMAC-SHA1 keyed by the auth token over the URL, then each POST parameter's name and value
/// in name order.
fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    use hmac::{Hmac, Mac};
    let mut sorted = params.to_vec();
    sorted.sort();
    let signed: String = std::iter::once(url.to_string()).chain(sorted.iter().map(|(k, v)| format!("{k}{v}"))).collect();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `REQUIRE_CONSENT=1` (this stack): the edge personalizes from the request alone and sets no
/// cookie until the SDK's `vt_consent=1`; a `0` keeps it that way, and clearing still works.
fn where_consent_is_required_the_edge_sets_no_cookie_before_yes(s: &Suite) {
    let first = http::get(&url(s), "/?utm_source=email", &[]);
    assert_eq!(first.status, 200);
    assert_eq!(first.headers_named("set-cookie"), Vec::<&str>::new(), "nothing remembered before consent");
    assert!(first.header("x-vitrine-bundle").is_some(), "the page is personalized all the same");
    let refused = http::get(&url(s), "/", &[("Cookie", "vt_consent=0")]);
    assert_eq!(refused.headers_named("set-cookie"), Vec::<&str>::new(), "a no stays a no");
    let api = http::get(&url(s), "/v1/decide?placement=hero&path=/", &[]);
    assert_eq!((api.status, api.headers_named("set-cookie")), (200, Vec::<&str>::new()), "nor does the API set any");
    let yes = http::get(&url(s), "/", &[("Cookie", "vt_consent=1")]);
    assert!(yes.cookies().iter().any(|(k, v)| k == "vt_vid" && !v.is_empty()), "after yes the visitor is remembered: {:?}", yes.headers);
}

/// The customers export reaches the customer: signing in on the store (the origin's signed
/// header, no demo picker) greets them by the export's first name; a proven identify naming no
/// contact and a cart left behind get the cart email at the export's address, which said yes
/// to email, and no text, which it said no to.
fn a_signed_in_customer_is_messaged_as_the_stores_export_allows(s: &Suite) {
    // Signing in on the store: greeted by the export's first name (with the visitor's consent:
    // this stack requires it, and before it the edge keeps no profile cookie).
    let login = |cookie: &str| http::get(&url(s), "/account/login-ada", &[("Cookie", cookie)]).cookies();
    assert!(!login("vt_vid=ada-laptop").iter().any(|(k, _)| k == "vt_profile"), "no cookie before consent");
    let mut jar = vec![("vt_vid".to_string(), "ada-laptop".to_string()), ("vt_consent".to_string(), "1".to_string())];
    jar.extend(login("vt_vid=ada-laptop; vt_consent=1"));
    assert!(jar.iter().any(|(k, v)| k == "vt_profile" && !v.is_empty()), "signed in: {jar:?}");
    let cookie = jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let home = http::get(&url(s), "/", &[("Cookie", &cookie)]).text();
    assert!(home.contains("Welcome back, Ada"), "greeted by the export's first name");

    let r = post_events(
        s,
        &[event(json!({ "type": "identify", "traits": {} }), "ada-laptop", Some("c-export")), event(added("K300", 1), "ada-laptop", Some("c-export"))],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let reqs = s
        .capture
        .wait_for(JOURNEY_DONE, "Ada's cart email", |reqs| reqs.iter().any(|r| r.path.ends_with("/mail/send") && r.body.contains("ada.export@example.com")));
    let mail = reqs.iter().find(|r| r.path.ends_with("/mail/send") && r.body.contains("ada.export@example.com")).unwrap().json();
    assert!(mail["subject"].as_str().unwrap_or("").starts_with("Ada"), "the export's first name: {}", mail["subject"]);
    assert!(
        !s.capture.requests().iter().any(|r| r.path.ends_with("/Messages.json") && r.form().get("To").map(String::as_str) == Some("+447400900199")),
        "no text: the export said no to SMS"
    );
}

/// SendGrid's signing key for this stack: a test key pair from a fixed scalar, never a real
/// SendGrid key. The worker gets the public half as the SendGrid console shows it.
fn sendgrid_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_bytes(&[0x5a; 32].into()).expect("a valid scalar")
}

fn sendgrid_public_key(k: &p256::ecdsa::SigningKey) -> String {
    use p256::pkcs8::EncodePublicKey;
    base64::engine::general_purpose::STANDARD.encode(k.verifying_key().to_public_key_der().unwrap().as_bytes())
}

/// SendGrid's Event Webhook post, signed as SendGrid signs it (docs: "Getting Started with the
/// Event Webhook Security Features"): base64 DER ECDSA P-256 / SHA-256 over timestamp + body.
fn sendgrid_events(s: &Suite, events: &Value, key: Option<&p256::ecdsa::SigningKey>) -> HttpResponse {
    use p256::ecdsa::signature::Signer;
    let body = events.to_string();
    let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let signature = key.map(|k| {
        let sig: p256::ecdsa::Signature = k.sign([ts.as_bytes(), body.as_bytes()].concat().as_slice());
        base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())
    });
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(sig) = &signature {
        headers.extend([("X-Twilio-Email-Event-Webhook-Signature", sig.as_str()), ("X-Twilio-Email-Event-Webhook-Timestamp", ts.as_str())]);
    }
    http::request(&url(s), "POST", "/v1/providers/sendgrid/events", &headers, body.as_bytes()).expect("POST SendGrid events")
}

/// A spam complaint for an address two customers gave, while both have a cart journey heading
/// for its email step: no email reaches the address from either. A soft bounce in the same
/// post is only recorded: that address still gets its email. Unsigned or wrongly signed posts
/// change nothing.
fn a_bounce_or_spam_complaint_stops_email_to_the_address_from_every_visitor(s: &Suite) {
    let (spam, soft) = ("sg.spam@example.com", "sg.soft@example.com");
    for (customer, email) in [("c-sg1", spam), ("c-sg2", spam), ("c-sg3", soft)] {
        let consent = json!({ "type": "consent", "channels": { "email": true } });
        let r = post_events(
            s,
            &[
                event(consent, customer, Some(customer)),
                event(identify("Sam", email, ""), customer, Some(customer)),
                event(added("K300", 1), customer, Some(customer)),
            ],
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let email_consent = |key: &str| visitor_log(s, key)["state"]["consent"]["email"]["granted"].as_bool();
    let events = json!([
        { "email": spam, "timestamp": 1_700_000_000, "event": "spamreport", "sg_event_id": format!("sg-spam-{}", std::process::id()), "sg_message_id": "m1" },
        { "email": soft, "timestamp": 1_700_000_000, "event": "bounce", "type": "blocked", "reason": "421 try later", "sg_event_id": "sg-soft" },
        { "email": soft, "timestamp": 1_700_000_000, "event": "delivered", "sg_event_id": "sg-delivered" }
    ]);
    assert_eq!(sendgrid_events(s, &events, None).status, 401, "unsigned");
    let forged = p256::ecdsa::SigningKey::from_bytes(&[0x17; 32].into()).unwrap();
    assert_eq!(sendgrid_events(s, &events, Some(&forged)).status, 401, "another key");
    assert_eq!(email_consent("u:c-sg1"), Some(true), "nothing changed");
    let r = sendgrid_events(s, &events, Some(&sendgrid_key()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "received": 3, "suppressed": 1, "recorded": 1, "delivered": 0, "ignored": 1 }));
    assert_eq!((email_consent("u:c-sg1"), email_consent("u:c-sg2"), email_consent("u:c-sg3")), (Some(false), Some(false), Some(true)));
    let contact = &visitor_log(s, &format!("e:{spam}"))["contact"];
    assert_eq!((contact["suppressed"].as_bool(), contact["reason"].as_str()), (Some(true), Some("sendgrid spamreport")), "{contact}");
    assert_eq!(visitor_log(s, &format!("e:{soft}"))["contact"]["reports"][0][1], "sendgrid blocked: 421 try later");
    // The soft-bounced address gets its cart email (6 s); the complained one none, from either.
    let mails = |to: &str| s.capture.requests().into_iter().filter(|r| r.path.ends_with("/v3/mail/send") && r.body.contains(&format!("\"{to}\""))).count();
    s.capture.wait_for(JOURNEY_DONE, "the soft-bounced address's cart email", |_| mails(soft) == 1);
    thread::sleep(Duration::from_secs(2));
    assert_eq!(mails(spam), 0, "no email to an address that complained");
}

/// Twilio reports a text as undelivered with 21610 (the number texted STOP to our sender):
/// every visitor of the number stops texting it. Our texts ask for these callbacks.
fn a_text_the_number_refused_suppresses_it_for_every_visitor(s: &Suite) {
    let phone = "+447400900777";
    for visitor in ["tw-a", "tw-b"] {
        let r = post_events(
            s,
            &[
                event(json!({ "type": "consent", "channels": { "sms": true } }), visitor, None),
                event(json!({ "type": "identify", "traits": { "phone": "07400 900777" } }), visitor, None),
            ],
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // The confirmation text (the number is not confirmed) asks Twilio for status callbacks.
    let to_phone = |r: &Captured| r.path.ends_with("/Messages.json") && r.form().get("To").map(String::as_str) == Some(phone);
    let reqs = s.capture.wait_for(JOURNEY_DONE, "the confirmation text", |reqs| reqs.iter().any(to_phone));
    let text = reqs.iter().find(|r| to_phone(r)).unwrap();
    let callback = text.form().get("StatusCallback").cloned().unwrap_or_default();
    assert!(callback.starts_with("https://fixture.example/v1/providers/twilio/status?"), "at the bundle's store.base_url: {callback}");
    assert!(callback.contains("&key=confirm-sms-"), "naming the message, for its delivery: {callback}");
    let params: Vec<(String, String)> =
        [("MessageSid", "SMdead"), ("MessageStatus", "undelivered"), ("To", phone), ("ErrorCode", "21610"), ("AccountSid", "ACe2e")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let form = params.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B"))).collect::<Vec<_>>().join("&");
    let callback = |signature: &str| {
        let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature)];
        http::request(&url(s), "POST", "/v1/providers/twilio/status", &headers, form.as_bytes()).unwrap()
    };
    let endpoint = format!("{}/v1/providers/twilio/status", url(s));
    assert_eq!(callback(&twilio_signature("not-the-token", &endpoint, &params)).status, 401);
    let sms_consent = |key: &str| visitor_log(s, key)["state"]["consent"]["sms"]["granted"].as_bool();
    assert_eq!(sms_consent("a:tw-a"), Some(true), "a forged callback changes nothing");
    let r = callback(&twilio_signature("twilio-token", &endpoint, &params));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["suppressed"], true);
    assert_eq!((sms_consent("a:tw-a"), sms_consent("a:tw-b")), (Some(false), Some(false)), "every visitor of the number");
    let contact = &visitor_log(s, &format!("p:{phone}"))["contact"];
    assert_eq!((contact["suppressed"].as_bool(), contact["reason"].as_str()), (Some(true), Some("twilio 21610: unsubscribed recipient (STOP)")));
}

/// A visitor who said yes to WhatsApp gets the welcome journey's WhatsApp step at their
/// confirmed number, in Twilio's shape: `whatsapp:`-prefixed To and From, the approved template
/// (`ContentSid`) and its variables as JSON (`ContentVariables`), never free text. Twilio's
/// callbacks and replies carry `whatsapp:` numbers: a delivery is recorded as WhatsApp's, a
/// STOP or a "not on WhatsApp" failure withdraws WhatsApp and leaves the number's texts alone.
fn whatsapp_goes_as_a_template_and_its_callbacks_and_stop_speak_for_whatsapp_only(s: &Suite) {
    let phone = "+447400900321";
    let r = post_events(
        s,
        &[
            event(json!({ "type": "consent", "channels": { "whatsapp": true, "sms": true } }), "wa-1", Some("c-wa1")),
            event(identify("Wes", "wes.wa@example.com", phone), "wa-1", Some("c-wa1")),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let to = format!("whatsapp:{phone}");
    let is_mine = |r: &Captured| r.path.ends_with("/Messages.json") && r.form().get("To") == Some(&to);
    let reqs = s.capture.wait_for(JOURNEY_DONE, "Wes's WhatsApp welcome", |reqs| reqs.iter().any(is_mine));
    let wa = reqs.iter().find(|r| is_mine(r)).unwrap();
    assert_eq!(wa.path, "/2010-04-01/Accounts/ACe2e/Messages.json");
    let basic = base64::engine::general_purpose::STANDARD.encode("ACe2e:twilio-token");
    assert_eq!(wa.header("authorization"), Some(format!("Basic {basic}").as_str()));
    let form = wa.form();
    assert_eq!(form.get("From").map(String::as_str), Some("whatsapp:+15005550007"));
    assert_eq!(form.get("ContentSid").map(String::as_str), Some("HX0123456789abcdef0123456789abcdef"));
    assert_eq!(form.get("Body"), None, "a template, never free text");
    let variables: Value = serde_json::from_str(form.get("ContentVariables").expect("ContentVariables")).expect("ContentVariables is JSON");
    assert_eq!(variables.as_object().map(|o| o.len()), Some(2), "{variables}");
    assert_eq!(variables["1"], "Wes");
    let link = variables["2"].as_str().unwrap();
    assert!(link.starts_with("https://fixture.example/v1/click?vt="), "{link}");
    let c = claims(link);
    assert_eq!((c.visitor.as_str(), c.journey.as_str(), c.channel.as_str()), ("u:c-wa1", "welcome", "whatsapp"));
    assert!(
        !s.capture.requests().iter().any(|r| r.path.ends_with("/Messages.json") && r.form().get("To").map(String::as_str) == Some(phone)),
        "WhatsApp is not a text"
    );

    // Twilio reports the delivery at the callback the message named (ids in its query).
    let callback = form.get("StatusCallback").expect("StatusCallback");
    let (_, query) = callback.split_once('?').unwrap();
    assert!(query.ends_with("&channel=whatsapp"), "{query}");
    let twilio_post = |path_and_query: &str, params: &[(&str, &str)]| {
        let params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let body = params.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B").replace(':', "%3A"))).collect::<Vec<_>>().join("&");
        let signature = twilio_signature("twilio-token", &format!("{}{path_and_query}", url(s)), &params);
        let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature.as_str())];
        http::request(&url(s), "POST", path_and_query, &headers, body.as_bytes()).unwrap()
    };
    let status = format!("/v1/providers/twilio/status?{query}");
    let r = twilio_post(&status, &[("MessageSid", "SMwa1"), ("MessageStatus", "delivered"), ("To", &to), ("AccountSid", "ACe2e")]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["delivered"], true, "recorded for Wes: {}", r.text());

    // "STOP" on WhatsApp: WhatsApp stops, texts stay as the visitor left them.
    let consent = |channel: &str| visitor_log(s, "u:c-wa1")["state"]["consent"][channel]["granted"].as_bool();
    let inbound =
        |body: &str, sid: &str| twilio_post("/v1/sms/inbound", &[("From", &to), ("To", "whatsapp:+15005550007"), ("Body", body), ("MessageSid", sid)]);
    let r = inbound("STOP", "SMwa2");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((consent("whatsapp"), consent("sms")), (Some(false), Some(true)));
    let contact = &visitor_log(s, &format!("p:{phone}"))["contact"];
    assert_eq!(contact["suppressed"].as_bool(), Some(false), "the number still takes texts");
    assert_eq!(inbound("START", "SMwa3").status, 200);
    assert_eq!(consent("whatsapp"), Some(true));
    // A From that is no number is refused before any object is named by it.
    assert_eq!(twilio_post("/v1/sms/inbound", &[("From", "whatsapp:e:wes.wa@example.com"), ("Body", "STOP")]).status, 400);

    // Twilio says the number is not on WhatsApp (63024): WhatsApp is withdrawn, texts are not.
    let r = twilio_post(
        "/v1/providers/twilio/status",
        &[("MessageSid", "SMwa4"), ("MessageStatus", "failed"), ("To", &to), ("ErrorCode", "63024"), ("AccountSid", "ACe2e")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["suppressed"], true);
    assert_eq!((consent("whatsapp"), consent("sms")), (Some(false), Some(true)));
    assert_eq!(visitor_log(s, &format!("p:{phone}"))["contact"]["suppressed"].as_bool(), Some(false));
}

/// The issue's escalation end to end: two Champions leave a cart; one clicks the push (its link,
/// through the click redirect, from a browser) and gets nothing more; the other ignores it and
/// gets the WhatsApp template, then the email.
fn a_clicked_push_ends_the_escalation_and_an_ignored_one_escalates_to_whatsapp_then_email(s: &Suite) {
    let people = [("c-esc-click", "Cleo", "cleo.esc@example.com", "+447400900331"), ("c-esc-quiet", "Quinn", "quinn.esc@example.com", "+447400900332")];
    for (id, name, email, phone) in people {
        let consent = json!({ "type": "consent", "channels": { "all": true, "whatsapp": true }, "push_token": format!("push-{id}") });
        let r = post_events(s, &[event(consent, id, Some(id)), event(identify(name, email, phone), id, Some(id)), event(added("K300", 1), id, Some(id))]);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let escalation = |reqs: &[Captured], (id, _, email, phone): (&str, &str, &str, &str)| -> Vec<&'static str> {
        let whatsapp = format!("whatsapp:{phone}");
        let escalation_whatsapp = |r: &&Captured| {
            kind(r) == "whatsapp"
                && r.form().get("To") == Some(&whatsapp)
                && r.form().get("ContentSid").map(String::as_str) == Some("HXfedcba9876543210fedcba9876543210")
        };
        // Not the welcome series' webhook and WhatsApp template.
        let mine = messages_for(reqs, email, phone, &format!("push-{id}"));
        let push_or_email = |r: &&Captured| matches!(kind(r), "push" | "email") && mine.iter().any(|m| std::ptr::eq(*m, *r));
        reqs.iter().filter(|r| push_or_email(r) || escalation_whatsapp(r)).map(kind).collect()
    };
    let reqs = s.capture.wait_for(JOURNEY_DONE, "both pushes", |reqs| people.iter().all(|p| escalation(reqs, *p) == ["push"]));
    // Cleo opens the notification: its link, followed by her browser.
    let push = messages_for(&reqs, people[0].2, people[0].3, "push-c-esc-click").into_iter().find(|r| kind(r) == "push").unwrap().json();
    let link = push["message"]["data"]["link"].as_str().unwrap().to_string();
    let path = link.strip_prefix("https://fixture.example").unwrap();
    let browser = [("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")];
    let r = http::request(&url(s), "GET", path, &browser, b"").unwrap();
    assert_eq!(r.status, 302, "{}", r.text());
    let reqs = s.capture.wait_for(JOURNEY_DONE, "Quinn's WhatsApp and email", |reqs| escalation(reqs, people[1]) == ["push", "whatsapp", "email"]);
    assert_eq!(escalation(&reqs, people[1]), ["push", "whatsapp", "email"], "who ignored the push gets WhatsApp, then email");
    // Cleo's steps were due with Quinn's: skipped, not late.
    thread::sleep(Duration::from_secs(2));
    assert_eq!(escalation(&s.capture.requests(), people[0]), ["push"], "who clicked gets nothing more");
    // Neither got the plain cart journey: its `when` leaves Champions out.
    let cart = |id: &str| visitor_log(s, &format!("u:{id}"))["messages"].as_array().unwrap().iter().filter(|m| m["journey"] == "cart").count();
    assert_eq!((cart("c-esc-click"), cart("c-esc-quiet")), (0, 0));
}

/// Twilio refuses a text at send time with 21610 (the number texted STOP to our sender, and
/// that STOP never reached us): the number is suppressed for every visitor, as the status
/// callback would have it, and the journey's later texts do not go.
fn a_text_twilio_refuses_at_send_time_suppresses_the_number(s: &Suite) {
    let (phone, email) = ("+447400900778", "tw.send@example.com");
    s.capture.fault_matching(
        "/Messages.json",
        "447400900778",
        &[Fault::Reply(400, r#"{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}"#)],
    );
    let r = post_events(
        s,
        &[
            event(consent_all("push-token-tws"), "tws", Some("c-tw-send")),
            event(identify("Tws", email, phone), "tws", Some("c-tw-send")),
            event(added("K300", 1), "tws", Some("c-tw-send")),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Another visitor of the number (the store vouched for it: no confirmation text first).
    let other = [
        event(json!({ "type": "consent", "channels": { "sms": true } }), "tws-other", None),
        event(json!({ "type": "identify", "traits": { "phone": phone } }), "tws-other", None),
    ];
    assert_eq!(post_events(s, &other).status, 200);
    let sms_consent = |key: &str| visitor_log(s, key)["state"]["consent"]["sms"]["granted"].as_bool();
    let start = Instant::now();
    while sms_consent("u:c-tw-send") != Some(false) {
        assert!(start.elapsed() < JOURNEY_DONE, "the refused number was never suppressed: {}", visitor_log(s, &format!("p:{phone}")));
        thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(sms_consent("a:tws-other"), Some(false), "every visitor of the number");

    // A number a visitor typed: Twilio refuses the confirmation text itself. The number's
    // object takes that as the report and silences it for its visitors.
    let typed = "+447400900779";
    s.capture.fault_matching(
        "/Messages.json",
        "447400900779",
        &[Fault::Reply(400, r#"{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}"#)],
    );
    let typer = [
        event(json!({ "type": "consent", "channels": { "sms": true } }), "tws-typer", None),
        event(json!({ "type": "identify", "traits": { "phone": typed } }), "tws-typer", None),
    ];
    assert_eq!(post_events(s, &typer).status, 200);
    let start = Instant::now();
    while sms_consent("a:tws-typer") != Some(false) {
        assert!(start.elapsed() < JOURNEY_DONE, "the refused confirmation suppressed nothing: {}", visitor_log(s, &format!("p:{typed}")));
        thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(visitor_log(s, &format!("p:{typed}"))["contact"]["suppressed"].as_bool(), Some(true));
    let contact = &visitor_log(s, &format!("p:{phone}"))["contact"];
    assert_eq!((contact["suppressed"].as_bool(), contact["reason"].as_str()), (Some(true), Some("twilio 21610: unsubscribed recipient (STOP)")));
}

// ---- faults (RELIABILITY.md, "Faults") ----

/// Switches dev-mode faults (KV `fault:*` in BUNDLES, read by each isolate at most once a
/// second) on or off, and waits until every isolate has read them.
fn set_faults(s: &Suite, switches: &[(&str, bool)]) {
    use vitrine_edge::kv::Entry;
    let entries: Vec<Entry> = switches.iter().map(|(k, on)| Entry::text(*k, if *on { "1" } else { "0" })).collect();
    s.stack.borrow().kv_put("BUNDLES", &entries);
    thread::sleep(Duration::from_millis(1200));
}

/// Lifts every fault switch when a case ends, also when it fails: a failed case must not leave
/// the next one without a bundle or storage (a second, misleading failure).
struct LiftFaults<'a>(&'a Suite);

impl Drop for LiftFaults<'_> {
    fn drop(&mut self) {
        let off: Vec<(&str, bool)> = vitrine_edge::config::FAULT_KEYS.iter().map(|k| (*k, false)).collect();
        // Not a second panic while the case's own unwinds (that would abort the whole suite).
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| set_faults(self.0, &off)));
    }
}

/// Waits until a visitor's object (not only the worker answering `/v1/health`) holds events for
/// want of a bundle: each isolate reads the switches on its own.
fn wait_until_objects_hold(s: &Suite) {
    let start = Instant::now();
    for n in 0.. {
        let probe = format!("c-fault-probe-{n}");
        assert_eq!(post_events(s, &[event(json!({ "type": "page", "properties": { "path": "/" } }), &probe, Some(&probe))]).status, 200);
        if visitor_log(s, &format!("u:{probe}"))["held"].as_u64().unwrap_or(0) > 0 {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "visitors' objects never lost the bundle");
        thread::sleep(Duration::from_millis(200));
    }
}

/// Per idempotency key of these requests: how many the provider accepted (2xx).
fn delivered_per_key(reqs: &[&Captured]) -> BTreeMap<String, usize> {
    let mut keys = BTreeMap::new();
    for r in reqs.iter().filter(|r| r.status < 300) {
        *keys.entry(r.header("idempotency-key").unwrap_or_default().to_string()).or_default() += 1;
    }
    keys
}

/// Email, SMS and push providers answer 429, 5xx, or nothing at all (the worker's timeout):
/// each message is retried with backoff under its one idempotency key and accepted once.
fn providers_that_throttle_fail_or_hang_are_retried_and_deliver_once(s: &Suite) {
    let (email, phone, token_) = ("fp.fault@example.com", "+447400900304", "push-token-fault-p");
    s.capture.fault_matching("/messages:send", token_, &[Fault::Status(429)]);
    s.capture.fault_matching("/Messages.json", "447400900304", &[Fault::Hang(Duration::from_secs(4))]);
    s.capture.fault_matching("/v3/mail/send", email, &[Fault::Status(500), Fault::Status(502)]);
    let r = post_events(
        s,
        &[
            event(consent_all(token_), "fp", Some("c-fault-p")),
            event(identify("Fp", email, phone), "fp", Some("c-fault-p")),
            event(added("K300", 1), "fp", Some("c-fault-p")),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    s.capture.wait_for(JOURNEY_DONE, "every message after its provider's faults", |reqs| delivered_kinds(&messages_for(reqs, email, phone, token_)).len() >= 4);
    thread::sleep(Duration::from_secs(2)); // anything late and doubled would show now
    let reqs = s.capture.requests();
    let mine = messages_for(&reqs, email, phone, token_);
    let attempts = |k: &str| mine.iter().filter(|r| kind(r) == k).map(|r| r.status).collect::<Vec<u16>>();
    // The unanswered text is retried: Twilio drops a repeat of its idempotency token.
    assert_eq!((attempts("push"), attempts("sms"), attempts("email")), (vec![429, 200], vec![NO_ANSWER, 201], vec![500, 502, 202]));
    let tokens: Vec<&str> = mine.iter().filter(|r| kind(r) == "sms").map(|r| r.header("i-twilio-idempotency-token").unwrap_or("")).collect();
    assert!(tokens.iter().all(|t| !t.is_empty()) && tokens.windows(2).all(|w| w[0] == w[1]), "one Twilio token across retries: {tokens:?}");
    for k in ["push", "sms", "email"] {
        let keys: Vec<&str> = mine.iter().filter(|r| kind(r) == k).map(|r| r.header("idempotency-key").unwrap()).collect();
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "{k}: one idempotency key across retries: {keys:?}");
    }
    let once = delivered_per_key(&mine);
    assert!(once.values().all(|n| *n == 1) && once.len() == 4, "each message accepted once: {once:?}");
    let log = visitor_log(s, "u:c-fault-p");
    let timed_out = log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["channel"] == "sms" && m["outcome"] == "retry" && m["error"].as_str().unwrap_or("").contains("no answer within"));
    assert!(timed_out, "the timeout is recorded as a retry: {}", log["messages"]);
    println!(
        "    provider faults: {} requests (429 once, 500 + 502, one text unanswered past the 2 s timeout), {} messages accepted once each, 0 twice",
        mine.len(),
        once.len()
    );
}

/// Storage writes fail while a batch comes in: the sender is told to send again, and what it
/// sends again is stored (not answered "duplicate" with nothing saved).
fn a_failed_storage_write_is_stored_on_the_clients_retry(s: &Suite) {
    use vitrine_edge::config::FAULT_STORAGE_WRITE;
    let (email, phone, token_) = ("fw.fault@example.com", "+447400900303", "push-token-fault-w");
    let batch = [
        event(consent_all(token_), "fw", Some("c-fault-w")),
        event(identify("Fw", email, phone), "fw", Some("c-fault-w")),
        event(added("K301", 1), "fw", Some("c-fault-w")),
    ];
    let probe = |want: u16| {
        let start = Instant::now();
        while post_events(s, &[event(json!({ "type": "page", "properties": { "path": "/" } }), "fw-probe", None)]).status != want {
            assert!(start.elapsed() < Duration::from_secs(15), "the storage fault never became {want}");
            thread::sleep(Duration::from_millis(200));
        }
    };
    let _lift = LiftFaults(s);
    set_faults(s, &[(FAULT_STORAGE_WRITE, true)]);
    probe(503);
    let refused = post_events(s, &batch);
    assert_eq!(refused.status, 503, "{}", refused.text());
    let failed = refused.json()["failed"].as_array().unwrap().len();
    assert_eq!(failed, 3, "{}", refused.text());
    set_faults(s, &[(FAULT_STORAGE_WRITE, false)]);
    probe(200);
    let retry = post_events(s, &batch);
    assert_eq!(retry.status, 200, "{}", retry.text());
    assert_eq!((retry.json()["accepted"].as_u64(), retry.json()["duplicates"].as_u64()), (Some(3), Some(0)), "the retry is stored, not a duplicate");
    let again = post_events(s, &batch).json();
    assert_eq!(again["duplicates"].as_u64(), Some(3), "stored once");
    let state = &visitor_log(s, "u:c-fault-w")["state"];
    assert_eq!(state["cart"][0]["sku"], "K301");
    assert!(state["runs"].as_array().unwrap().iter().any(|r| r["journey"] == "cart"), "its cart journey runs: {state}");
    println!("    storage write fault: 3 events sent, refused with 503 ({failed} listed to send again), the retry stored 3 (0 duplicates), sent once more: 3 duplicates");
}

/// The bundle cannot be loaded (KV read errors, then `bundle:current` missing, as in a cold
/// isolate) while journeys run and events come in: no run ends, the events are held, and once
/// the fault is lifted every run continues and every message goes out once.
fn a_bundle_that_cannot_load_ends_no_journey_and_loses_no_event(s: &Suite) {
    use vitrine_edge::config::{FAULT_BUNDLE_MISSING, FAULT_KV_READ};
    let people = [
        ("c-fault-1", "fa1.fault@example.com", "+447400900301", "push-token-fault-1"),
        ("c-fault-2", "fa2.fault@example.com", "+447400900302", "push-token-fault-2"),
    ];
    let batch = |(user, email, phone, token_): (&str, &str, &str, &str), anon: &str| {
        vec![event(consent_all(token_), anon, Some(user)), event(identify("Fa", email, phone), anon, Some(user)), event(added("K300", 1), anon, Some(user))]
    };
    // The first visitor's cart journey runs (push at 2 s, SMS at 4 s, email at 6 s) …
    let batches = [batch(people[0], "fa1"), batch(people[1], "fa2")];
    let r = post_events(s, &batches[0]);
    assert_eq!(r.status, 200, "{}", r.text());
    let posted = Instant::now();
    // … when reading the bundle starts failing.
    let _lift = LiftFaults(s);
    set_faults(s, &[(FAULT_KV_READ, true)]);
    s.stack.borrow().wait_health("no bundle loaded", |h| h["bundle"].is_null());
    wait_until_objects_hold(s);
    let fault_at = posted.elapsed();
    // The second visitor's events come in meanwhile: accepted and held.
    let r = post_events(s, &batches[1]);
    assert_eq!(r.status, 200, "{}", r.text());
    let sent = 3 + 3;
    let acked = 3 + r.json()["accepted"].as_u64().unwrap_or(0) as usize;
    // Then `bundle:current` goes missing instead.
    set_faults(s, &[(FAULT_KV_READ, false), (FAULT_BUNDLE_MISSING, true)]);
    thread::sleep(Duration::from_secs(7).saturating_sub(posted.elapsed())); // past every step of the first
    let first = visitor_log(s, "u:c-fault-1");
    let second = visitor_log(s, "u:c-fault-2");
    let running = |log: &Value| log["state"]["runs"].as_array().map_or(0, Vec::len);
    let held = second["held"].as_u64().unwrap_or(0);
    assert_eq!(held, 3, "the second visitor's events are held: {second}");
    assert!(messages_for(&s.capture.requests(), people[1].1, people[1].2, people[1].3).is_empty(), "nothing goes without a bundle");
    if fault_at < Duration::from_secs(6) {
        // The email step fell in the fault: its run is kept, not ended as "journey removed".
        assert!(first["state"]["runs"].as_array().unwrap().iter().any(|r| r["journey"] == "cart"), "the cart run is kept: {first}");
    }
    let running_during = running(&first);
    set_faults(s, &[(FAULT_BUNDLE_MISSING, false)]);
    let lifted = Instant::now();
    let all_out = |reqs: &[Captured]| people.iter().all(|(_, e, p, t)| delivered_kinds(&messages_for(reqs, e, p, t)).len() >= 4);
    s.capture.wait_for(JOURNEY_DONE, "every message of both visitors after the fault", all_out);
    let resumed_in = lifted.elapsed();
    thread::sleep(Duration::from_secs(2)); // anything late and doubled would show now
    let reqs = s.capture.requests();
    let mut once = 0;
    for (user, e, p, t) in people {
        let mine = messages_for(&reqs, e, p, t);
        let mut kinds = delivered_kinds(&mine);
        kinds.sort();
        assert_eq!(kinds, ["email", "push", "sms", "webhook"], "{user}: each once");
        let keys = delivered_per_key(&mine);
        assert!(keys.values().all(|n| *n == 1), "{user}: {keys:?}");
        once += keys.len();
        let log = visitor_log(s, &format!("u:{user}"));
        assert_eq!(log["held"].as_u64(), Some(0), "{user}: held events ran");
        assert_eq!(log["state"]["cart"][0]["sku"], "K300", "{user}: the cart is there");
    }
    // Every event acked before or during the fault is stored: sent again, each is a duplicate.
    let stored: usize = batches.iter().map(|b| post_events(s, b).json()["duplicates"].as_u64().unwrap_or(0) as usize).sum();
    assert_eq!(stored, sent);
    let waits = s.stack.borrow().log_text().matches("journeys wait").count();
    assert!(!s.stack.borrow().log_text().contains("journey removed from the config"), "no run ended as removed");
    println!(
        "    bundle faults: fault on {:.1} s after the first cart; {sent} events sent, {acked} acked, {stored} stored ({} held during the fault); {running_during} journey runs kept through it; resumed {:.1} s after the lift; {once} messages sent once each, 0 twice; {waits} backoff log lines",
        fault_at.as_secs_f32(),
        held,
        resumed_in.as_secs_f32()
    );
}

/// #20, live traits. A customer the last build did not know orders: their own browser's report
/// (signed in, with their token) moves nothing; the backend's (the write key) makes their
/// profile in KV at once: segment against the bundle's quintile edges, predicted traits from its
/// fits. Their next sign-in's cookie and their object's journeys carry it. An order for an
/// erased customer does not bring their profile back.
fn a_backend_order_rescores_the_customers_profile_and_a_browsers_claim_moves_nothing(s: &Suite) {
    let completed = |id: &str, order: &str, user: &str, revenue: f64| {
        event(
            json!({ "type": "track", "event": "Order Completed", "properties": { "order_id": order, "revenue": revenue, "products": [{ "product_id": "K300", "quantity": 1 }] } }),
            id,
            Some(user),
        )
    };
    let profile = |id: &str| s.stack.borrow().kv_get("PROFILES", &format!("profile:{id}"));
    // The browser (with the customer's own token) claims a big order: kept for the journeys, but
    // it is not the store's word: no profile.
    assert_eq!(post_events(s, &[completed("lee-phone", "L-1", "c-live", 99_999.0)]).status, 200);
    thread::sleep(Duration::from_secs(1));
    assert_eq!(profile("c-live"), None, "a browser's order makes no profile");
    // The backend reports the same order: it counts, once.
    for _ in 0..2 {
        let r = post_from_backend(s, &[completed("lee-phone", "L-1", "c-live", 120.0)]);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let line: Value = serde_json::from_str(&profile("c-live").expect("the backend's order wrote the profile")).unwrap();
    assert_eq!(
        (line["customer_id"].as_str(), line["segment"].as_str(), line["frequency"].as_u64(), line["monetary"].as_f64()),
        (Some("c-live"), Some("New"), Some(1), Some(120.0)),
        "{line}"
    );
    assert_eq!((line["p_alive"].as_f64(), line["churn_risk"].as_str(), line["items"][0][0].as_str()), (Some(1.0), Some("low"), Some("K300")), "{line}");
    // The object's journeys see the profile now.
    let state = &visitor_log(s, "u:c-live")["state"];
    assert_eq!((state["profile"]["segment"].as_str(), state["profile"]["churn_risk"].as_str()), (Some("New"), Some("low")), "{state}");
    // A second order a moment later: a repeat customer on the same day (one purchase day).
    assert_eq!(post_from_backend(s, &[completed("lee-phone", "L-2", "c-live", 30.0)]).status, 200);
    let line: Value = serde_json::from_str(&profile("c-live").unwrap()).unwrap();
    assert_eq!((line["frequency"].as_u64(), line["monetary"].as_f64(), line["purchase_days"].as_u64()), (Some(2), Some(150.0), Some(1)), "{line}");
    // Signing in on the store: the cookie carries the new segment.
    let cookies = http::get(&url(s), "/account/login-lee", &[("Cookie", "vt_vid=lee-phone; vt_consent=1")]).cookies();
    let signed = cookies.iter().find(|(k, _)| k == "vt_profile").map(|(_, v)| v.clone()).expect("signed in");
    let claims = vitrine_edge::profile::read(vitrine_tests::stack::PROFILE_SECRET.as_bytes(), &signed).unwrap();
    assert_eq!((claims.cid.as_str(), claims.traits.path("segment").and_then(vitrine_engine::Value::as_str)), ("c-live", Some("Potential loyalist")));
    // An erased customer's late order: their profile stays erased.
    s.stack.borrow().kv_put("PROFILES", &[vitrine_edge::kv::Entry::text("profile:c-gone", r#"{"customer_id":"c-gone","segment":"Loyal"}"#)]);
    let (ok, out) = privacy_sh(s, &["delete", "c-gone"]);
    assert!(ok, "{out}");
    assert_eq!(post_from_backend(s, &[completed("gone-phone", "G-1", "c-gone", 50.0)]).status, 200);
    assert_eq!(profile("c-gone"), None, "not brought back");
}
