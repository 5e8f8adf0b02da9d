//! Unique offer codes on real workerd (#21): the exit offer shows each visitor their own code,
//! which neither the public bundle nor another visitor's answers contain; the store's backend
//! verifies and redeems it with the write key, and of two concurrent redemptions exactly one
//! succeeds; a message's deep link shows its landing the message's code again. Run:
//! `cargo test -p vitrine-tests --test codes_e2e`.

#[path = "capture/mod.rs"]
mod capture;

use std::path::PathBuf;
use std::time::Duration;

use capture::CaptureServer;

use serde_json::Value as Json;
use vitrine_engine::journey::LinkClaims;
use vitrine_engine::rules::UniqueCode;
use vitrine_engine::{Engine, Visitor};
use vitrine_tests::fixture;
use vitrine_tests::http::{self, HttpResponse};
use vitrine_tests::stack::{Stack, StackConfig};
use vitrine_tests::{cases, demo_store, harness};

const WRITE_KEY: &str = "e2e-write-key-0123456789";
const LINK_SECRET: &str = "e2e-link-secret-0123456789";

struct Suite {
    stack: Stack,
    capture: CaptureServer,
    site: PathBuf,
}

impl Drop for Suite {
    fn drop(&mut self) {
        if let Some(root) = self.site.parent() {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

/// The fixture with `welcome10` (new visitors' exit offer) issuing unique codes instead of
/// its static `WELCOME10`, and a welcome journey whose webhook message shows it.
fn bundle() -> Vec<u8> {
    fixture::bundle_bytes_with(1, |b| {
        b.rules.offers.iter_mut().find(|o| o.id == "welcome10").unwrap().code.clear();
        b.rules.unique_codes = vec![UniqueCode { offer: "welcome10".into(), prefix: "WELCOME".into(), valid_days: 14 }];
        b.rules.journeys = vec![serde_json::from_value(serde_json::json!({
            "id": "welcome", "trigger": "welcome",
            "steps": [{ "after": "0s", "channel": "webhook", "body": "Your code: {{offer.code}}", "offer": "welcome10" }],
        }))
        .unwrap()];
    })
}

fn setup() -> Suite {
    let site = std::env::temp_dir().join(format!("vitrine-e2e-codes-{}/site", std::process::id()));
    let _ = std::fs::remove_dir_all(&site);
    demo_store::generate(&Engine::load(&bundle()).unwrap(), &site, &[]).expect("demo store");
    let capture = CaptureServer::start();
    let mut cfg = StackConfig::new(&site);
    cfg.bundles = vec![bundle()];
    cfg.vars = vec![
        ("VITRINE_WRITE_KEY".into(), WRITE_KEY.into()),
        ("LINK_SECRET".into(), LINK_SECRET.into()),
        ("WEBHOOK_URL".into(), format!("{}/hooks/vitrine", capture.base_url())),
        ("WEBHOOK_SECRET".into(), "e2e-webhook-secret".into()),
    ];
    Suite { stack: Stack::start("codes", cfg), capture, site }
}

fn main() -> std::process::ExitCode {
    harness::run(
        "codes_e2e",
        setup,
        cases![
            a_unique_code_is_shown_to_its_visitor_only_and_never_in_the_bundle,
            the_store_verifies_a_code_and_of_two_concurrent_redemptions_one_succeeds,
            forged_malformed_and_unauthenticated_requests_are_refused,
            a_code_past_its_validity_is_refused_as_expired,
            a_deep_link_restores_the_code_its_message_showed,
            a_message_shows_the_visitors_code_recorded_before_it_leaves,
        ],
    )
}

fn cookie(visitor: &str) -> String {
    format!("vt_vid={visitor}")
}

fn exit_offer(s: &Suite, visitor: &str) -> HttpResponse {
    let r = s.stack.get("/v1/exit-offer", &[("Cookie", &cookie(visitor))]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("private, no-store"), "a visitor's code is theirs: never cached");
    r
}

fn code_of(s: &Suite, visitor: &str) -> String {
    let offer = exit_offer(s, visitor).json();
    assert_eq!(offer["id"], "welcome10");
    offer["code"].as_str().unwrap().to_string()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn store(s: &Suite, path: &str, key: Option<&str>, body: &str) -> HttpResponse {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    http::request(&s.stack.url, "POST", path, &headers, body.as_bytes()).unwrap()
}

fn redeem(s: &Suite, code: &str) -> HttpResponse {
    store(s, "/v1/codes/redeem", Some(WRITE_KEY), &serde_json::json!({ "code": code }).to_string())
}

fn a_unique_code_is_shown_to_its_visitor_only_and_never_in_the_bundle(s: &Suite) {
    let (a, b) = ("e2e-codes-visitor-a", "e2e-codes-visitor-b");
    let offer = exit_offer(s, a).json();
    let code = offer["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("WELCOME-") && code.len() == "WELCOME-".len() + 12, "{offer}");
    assert!(offer["html"].as_str().unwrap().contains(&code), "the dialog shows it: {offer}");
    assert_eq!(code_of(s, a), code, "the same visitor keeps their code");

    let other = exit_offer(s, b).text();
    assert!(!other.contains(&code), "another visitor's exit offer: {other}");
    assert!(other.contains("WELCOME-"), "who gets their own code: {other}");

    let public = s.stack.get("/v1/bundle", &[]);
    assert_eq!(public.status, 200);
    assert!(!contains(&public.body, &code) && !contains(&public.body, "WELCOME-"), "the public bundle holds no code");

    // The SDK's download: A's slice decides A's offer with A's code in it; B's has B's.
    let slice = |visitor: &str| {
        let r = s.stack.get("/v1/slice?path=/", &[("Cookie", &cookie(visitor))]);
        assert_eq!((r.status, r.header("cache-control")), (200, Some("private, no-store")));
        r.body
    };
    let a_slice = slice(a);
    let sdk = Engine::load(&a_slice).expect("the slice loads");
    let visitor = Visitor { visitor_id: a.into(), ..Visitor::default() };
    assert_eq!(sdk.exit_offer(&visitor, 0).unwrap().code, code, "the SDK's dialog shows A's code");
    assert!(!contains(&slice(b), &code), "B's slice does not hold A's code");
}

fn the_store_verifies_a_code_and_of_two_concurrent_redemptions_one_succeeds(s: &Suite) {
    let visitor = "e2e-codes-visitor-redeem";
    let code = code_of(s, visitor);
    // As a customer types it at checkout: lower case.
    let typed = serde_json::json!({ "code": code.to_lowercase() }).to_string();
    let verified = store(s, "/v1/codes/verify", Some(WRITE_KEY), &typed);
    assert_eq!(verified.status, 200, "{}", verified.text());
    let v = verified.json();
    // The visitor as the journeys know them: `a:` and the SDK's anonymousId (vt_vid).
    let key = format!("a:{visitor}");
    assert_eq!(
        (v["code"].as_str(), v["offer"].as_str(), v["visitor"].as_str(), v["state"].as_str()),
        (Some(code.as_str()), Some("welcome10"), Some(key.as_str()), Some("valid"))
    );
    assert_eq!(verified.header("cache-control"), Some("private, no-store"));

    let answers: Vec<HttpResponse> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..2).map(|_| scope.spawn(|| redeem(s, &code))).collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 409], "exactly one redemption succeeds: {:?}", answers.iter().map(HttpResponse::text).collect::<Vec<_>>());
    let won = answers.iter().find(|r| r.status == 200).unwrap().json();
    let lost = answers.iter().find(|r| r.status == 409).unwrap().json();
    assert_eq!(won["redeemed"], true);
    assert_eq!((lost["redeemed"].as_bool(), &lost["redeemed_at"]), (Some(false), &won["redeemed_at"]), "the loser learns when it was redeemed");

    assert_eq!(redeem(s, &code).status, 409, "and never again");
    let after: Json = store(s, "/v1/codes/verify", Some(WRITE_KEY), &typed).json();
    assert_eq!(after["state"], "redeemed");
    assert_eq!(code_of(s, visitor), code, "the exit offer still shows the visitor's (used) code");
}

fn forged_malformed_and_unauthenticated_requests_are_refused(s: &Suite) {
    let code = code_of(s, "e2e-codes-visitor-forged");
    let body = serde_json::json!({ "code": code }).to_string();
    // A code of the right shape nobody issued: a forgery or a typo.
    let mut forged = code.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let forged_body = serde_json::json!({ "code": forged }).to_string();
    for path in ["/v1/codes/verify", "/v1/codes/redeem"] {
        let r = store(s, path, Some(WRITE_KEY), &forged_body);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert!(r.json()["error"].as_str().unwrap().contains("no code"));
        for key in [None, Some("wrong-write-key-0123456")] {
            let r = store(s, path, key, &body);
            assert_eq!(r.status, 401, "{path} with {key:?}: {}", r.text());
        }
        for bad in [r#"{"code": "WELCOME-0"}"#, r#"{"code": 7}"#, "not json"] {
            let r = store(s, path, Some(WRITE_KEY), bad);
            assert_eq!(r.status, 400, "{path} {bad}: {}", r.text());
        }
        let huge = format!(r#"{{"code": "{}"}}"#, "A".repeat(10_000));
        assert_eq!(store(s, path, Some(WRITE_KEY), &huge).status, 413, "{path}: over the body limit, unread");
        assert_eq!(s.stack.get(path, &[]).status, 405);
    }
    let still: Json = store(s, "/v1/codes/verify", Some(WRITE_KEY), &body).json();
    assert_eq!(still["state"], "valid", "nothing above redeemed it");
}

/// Dev mode's `now=` puts the exit offer 15 days back: the code issued then (valid 14 days)
/// is expired today.
fn a_code_past_its_validity_is_refused_as_expired(s: &Suite) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let then = now - 15 * 86_400;
    let r = s.stack.get(&format!("/v1/exit-offer?now={then}"), &[("Cookie", &cookie("e2e-codes-visitor-expired"))]);
    assert_eq!(r.status, 200, "{}", r.text());
    let code = r.json()["code"].as_str().unwrap().to_string();
    let answer = redeem(s, &code);
    assert_eq!(answer.status, 410, "{}", answer.text());
    assert_eq!(answer.json()["state"], "expired");
}

/// A message's link (signed as the journeys sign it) to another device: the landing's slice
/// (the SDK sends it with the landing's address as `Referer`) carries the code the message
/// showed, the one derived for the message's visitor when it was composed, not the device's
/// own; a link signed with another secret restores nothing.
fn a_deep_link_restores_the_code_its_message_showed(s: &Suite) {
    let engine = Engine::load(&bundle()).unwrap();
    let rules = &engine.body().rules;
    let unique = rules.unique_code("welcome10").unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let composed = now - 3 * 86_400;
    let link = |secret: &str| {
        let claims = LinkClaims {
            visitor: "u:e2e-codes-customer".into(),
            journey: "welcome".into(),
            step: 0,
            channel: "email".into(),
            landing: "/".into(),
            offer: "welcome10".into(),
            exp: composed + rules.messaging.link_ttl.0,
            ..LinkClaims::default()
        };
        format!("{}/?vt={}&utm_source=vitrine", s.stack.url, claims.sign(secret.as_bytes()))
    };
    let in_message = vitrine_engine::codes::code_for(&vitrine_engine::codes::code_key(LINK_SECRET.as_bytes()), unique, "u:e2e-codes-customer", composed);
    let device = "e2e-codes-other-device";
    let own = code_of(s, device);
    assert_ne!(own, in_message);

    let slice_code = |referer: &str| {
        let r = s.stack.get("/v1/slice?path=/", &[("Cookie", &cookie(device)), ("Referer", referer)]);
        assert_eq!(r.status, 200);
        let sdk = Engine::load(&r.body).unwrap();
        sdk.offer("welcome10").unwrap().code.clone()
    };
    assert_eq!(slice_code(&link(LINK_SECRET)), in_message, "the landing shows the message's code");
    let verified: Json = store(s, "/v1/codes/verify", Some(WRITE_KEY), &serde_json::json!({ "code": in_message }).to_string()).json();
    assert_eq!((verified["visitor"].as_str(), verified["state"].as_str()), (Some("u:e2e-codes-customer"), Some("valid")), "issued to the message's visitor");
    assert_eq!(slice_code(&link("someone-elses-secret-0123")), own, "a forged link restores nothing");
}

/// A visitor who subscribes gets the welcome message (a webhook to the capture server) showing
/// their own code: recorded by the time it left (verify finds it, issued to them), and the
/// same code their exit offer shows.
fn a_message_shows_the_visitors_code_recorded_before_it_leaves(s: &Suite) {
    let visitor = "e2e-codes-subscriber";
    let batch = serde_json::json!({ "batch": [{
        "type": "consent", "channels": { "all": true },
        "messageId": "e2e-codes-consent-1", "anonymousId": visitor,
    }] });
    let r = http::request(&s.stack.url, "POST", "/v1/events", &[("Content-Type", "application/json")], batch.to_string().as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let key = format!("a:{visitor}");
    let needle = format!("\"visitor\":\"{key}\"");
    let reqs = s
        .capture
        .wait_for(Duration::from_secs(30), "the welcome webhook", |reqs| reqs.iter().any(|r| r.path.starts_with("/hooks/") && r.body.contains(&needle)));
    let hook = reqs.iter().find(|r| r.path.starts_with("/hooks/") && r.body.contains(&needle)).unwrap();
    let message = &hook.json()["message"];
    let code = message["offer_code"].as_str().unwrap().to_string();
    assert!(code.starts_with("WELCOME-"), "{message}");
    assert_eq!(message["text"].as_str(), Some(format!("Your code: {code}").as_str()));

    let verified = store(s, "/v1/codes/verify", Some(WRITE_KEY), &serde_json::json!({ "code": code }).to_string());
    assert_eq!(verified.status, 200, "recorded before the message left: {}", verified.text());
    assert_eq!((verified.json()["visitor"].as_str(), verified.json()["offer"].as_str()), (Some(key.as_str()), Some("welcome10")));
    assert_eq!(code_of(s, visitor), code, "the exit offer shows the code the message did");
}
