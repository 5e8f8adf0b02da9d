//! Catalog triggers on real workerd (#21): visitors cart a product or ask to be told about one
//! ("notify me"); a catalog patch made by `model-builder patch` is published (KV written as
//! `scripts/publish-bundle.sh` writes it, then its call to `POST /v1/admin/catalog/publish`);
//! the visitor who carted the product that got cheaper gets exactly one message (a webhook to
//! the capture server), the one who asked about the product back in stock gets theirs, one who
//! did neither gets nothing, and publishing the same patch again sends nothing more. Run:
//! `cargo test -p vitrine-tests --test catalog_e2e`.

#[path = "capture/mod.rs"]
mod capture;

use std::path::PathBuf;
use std::time::Duration;

use capture::{CaptureServer, Captured};
use serde_json::{json, Value as Json};
use vitrine_edge::kv;
use vitrine_engine::Engine;
use vitrine_tests::http::{self, HttpResponse};
use vitrine_tests::stack::{self, Stack, StackConfig};
use vitrine_tests::{cases, demo_store, fixture, harness};

const WRITE_KEY: &str = "e2e-write-key-0123456789";
const PUBLISH: &str = vitrine_edge::watch::PUBLISH_PATH;

struct Suite {
    stack: Stack,
    capture: CaptureServer,
    dir: PathBuf,
}

impl Drop for Suite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The fixture with only the catalog journeys: a price drop of 10 % or more, and back in
/// stock, each one webhook message showing the products.
fn bundle() -> Vec<u8> {
    fixture::bundle_bytes_with(1, |b| {
        b.rules.journeys = ["price_drop", "back_in_stock"]
            .iter()
            .map(|trigger| {
                serde_json::from_value(json!({
                    "id": trigger, "trigger": trigger, "min_drop_percent": 10,
                    "steps": [{ "after": "0s", "channel": "webhook", "body": "{{products}}" }],
                }))
                .unwrap()
            })
            .collect();
    })
}

fn setup() -> Suite {
    let dir = std::env::temp_dir().join(format!("vitrine-e2e-catalog-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let site = dir.join("site");
    demo_store::generate(&Engine::load(&bundle()).unwrap(), &site, &[]).expect("demo store");
    let capture = CaptureServer::start();
    let mut cfg = StackConfig::new(&site);
    cfg.bundles = vec![bundle()];
    cfg.vars = vec![
        ("VITRINE_WRITE_KEY".into(), WRITE_KEY.into()),
        ("LINK_SECRET".into(), "e2e-link-secret-0123456789".into()),
        ("WEBHOOK_URL".into(), format!("{}/hooks/vitrine", capture.base_url())),
        ("WEBHOOK_SECRET".into(), "e2e-webhook-secret".into()),
    ];
    Suite { stack: Stack::start("catalog", cfg), capture, dir }
}

fn main() -> std::process::ExitCode {
    harness::run(
        "catalog_e2e",
        setup,
        cases![the_publish_trigger_needs_the_write_key, a_price_drop_published_as_a_catalog_patch_reaches_the_visitor_who_carted_it_once],
    )
}

/// `model-builder` as `cargo test --workspace` built it, beside this test's own binary (a
/// `cargo run` from inside the run resolves features for one package and rebuilds the
/// builder's dependencies: minutes in CI); run alone, the suite builds it with `cargo run`.
fn model_builder() -> std::process::Command {
    let built = std::env::current_exe().ok().and_then(|t| Some(t.parent()?.parent()?.join(format!("model-builder{}", std::env::consts::EXE_SUFFIX))));
    match built.filter(|p| p.is_file()) {
        Some(path) => std::process::Command::new(path),
        None => {
            let mut c = stack::tool("cargo");
            c.args(["run", "--quiet", "-p", "vitrine-model-builder", "--bin", "model-builder", "--"]);
            c
        }
    }
}

fn events(s: &Suite, events: &[Json]) {
    let r =
        http::request(&s.stack.url, "POST", "/v1/events", &[("Content-Type", "application/json")], json!({ "batch": events }).to_string().as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
}

fn publish(s: &Suite, key: Option<&str>) -> HttpResponse {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    http::request(&s.stack.url, "POST", PUBLISH, &headers, b"").unwrap()
}

/// The journey messages (webhooks) the capture server got for `visitor` (`a:<id>`).
fn messages_for(reqs: &[Captured], visitor: &str) -> Vec<Json> {
    reqs.iter().filter(|r| r.path.starts_with("/hooks/")).map(|r| r.json()["message"].clone()).filter(|m| m["visitor"] == visitor).collect()
}

fn the_publish_trigger_needs_the_write_key(s: &Suite) {
    assert_eq!(publish(s, None).status, 401);
    assert_eq!(publish(s, Some("e2e-write-key-0123456780")).status, 401, "a wrong key");
    let r = publish(s, Some(WRITE_KEY));
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("nothing to compare")), "one bundle published: {}", r.text());
}

fn a_price_drop_published_as_a_catalog_patch_reaches_the_visitor_who_carted_it_once(s: &Suite) {
    let (carted, watcher, other) = ("e2e-catalog-carted", "e2e-catalog-watcher", "e2e-catalog-other");
    let consent = |id: &str| json!({ "type": "consent", "messageId": format!("{id}-consent"), "anonymousId": id, "channels": { "webhook": true } });
    let track = |id: &str, n: u32, event: &str, sku: &str| json!({ "type": "track", "event": event, "messageId": format!("{id}-{n}"), "anonymousId": id, "properties": { "sku": sku } });
    events(s, &[consent(carted), track(carted, 1, "Product Added", "K300")]);
    // C103 (Tealight Set) is out of stock: "notify me".
    events(s, &[consent(watcher), track(watcher, 1, "Product Alert Requested", "C103")]);
    events(s, &[consent(other), track(other, 1, "Product Added", "C100")]);

    // The store's patch: K300 25.00 -> 20.00 (20 % off), C103 back in stock.
    let old = s.dir.join("bundle-1.bin");
    std::fs::write(&old, bundle()).unwrap();
    let changes = s.dir.join("changes.csv");
    std::fs::write(&changes, "sku,price,in_stock\nK300,20.00,\nC103,,yes\n").unwrap();
    let new = s.dir.join("bundle-2.bin");
    let out =
        model_builder().args(["patch", "--bundle"]).arg(&old).arg("--changes").arg(&changes).arg("-o").arg(&new).output().expect("model-builder patch runs");
    assert!(out.status.success(), "model-builder patch: {}", String::from_utf8_lossy(&out.stderr));
    let patched = std::fs::read(&new).unwrap();
    // Published as scripts/publish-bundle.sh does it: the bundle, bundle:previous, bundle:current.
    s.stack.kv_put("BUNDLES", &kv::bundle_entries(&patched, true, Some(&fixture::version(1))).unwrap());
    let current = kv::bundle_version(&patched).unwrap();
    s.stack.wait_health("the patch serving", |h| h["bundle"] == current.as_str());

    let r = publish(s, Some(WRITE_KEY));
    let answer = r.json();
    assert_eq!((r.status, answer["status"].as_str(), answer["changes"].as_u64()), (200, Some("started"), Some(2)), "{answer}");
    assert_eq!((answer["previous"].as_str(), answer["current"].as_str()), (Some(fixture::version(1).as_str()), Some(current.as_str())));

    let (carted_key, watcher_key, other_key) = (format!("a:{carted}"), format!("a:{watcher}"), format!("a:{other}"));
    let reqs = s.capture.wait_for(Duration::from_secs(30), "the price drop and back-in-stock messages", |reqs| {
        !messages_for(reqs, &carted_key).is_empty() && !messages_for(reqs, &watcher_key).is_empty()
    });
    let drop = messages_for(&reqs, &carted_key);
    assert_eq!(drop.len(), 1, "{drop:?}");
    assert_eq!((drop[0]["journey"].as_str(), &drop[0]["products"]), (Some("price_drop"), &json!(["K300"])), "{}", drop[0]);
    assert!(drop[0]["text"].as_str().unwrap().contains("Teapot (£20.00)"), "the new price: {}", drop[0]);
    let back = messages_for(&reqs, &watcher_key);
    assert_eq!((back.len(), back[0]["journey"].as_str(), &back[0]["products"]), (1, Some("back_in_stock"), &json!(["C103"])), "{back:?}");

    // The same patch published again: the pair is known, nothing more is sent.
    s.stack.kv_put("BUNDLES", &kv::bundle_entries(&patched, true, Some(&fixture::version(1))).unwrap());
    let again = publish(s, Some(WRITE_KEY)).json();
    assert_eq!(again["status"], "already", "{again}");
    std::thread::sleep(Duration::from_secs(4));
    let reqs = s.capture.requests();
    assert_eq!(messages_for(&reqs, &carted_key).len(), 1, "one message, whatever the publishes");
    assert_eq!(messages_for(&reqs, &watcher_key).len(), 1);
    assert_eq!(messages_for(&reqs, &other_key), Vec::<Json>::new(), "who carted nothing that changed gets nothing");
}
