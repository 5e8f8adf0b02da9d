//! Measurement on real parts (`wrangler dev`: workerd, its local queue and R2): page views and
//! events in over HTTP, records out of R2 through the export route, gunzipped and parsed as the
//! report reads them (`vitrine_engine::measure::Record`). Run:
//! `cargo test -p vitrine-tests --test measure_e2e`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vitrine_edge::kv::Entry;
use vitrine_engine::measure::{unit_key, Record};
use vitrine_engine::Engine;
use vitrine_tests::http::{self, HttpResponse};
use vitrine_tests::stack::{Stack, StackConfig};
use vitrine_tests::{cases, demo_store, fixture, harness};

const ADMIN_TOKEN: &str = "e2e-admin-token-0123456789";
const WRITE_KEY: &str = "e2e-write-key-0123456789";
const MEASUREMENT_KEY: &str = "e2e-measurement-key-0123";
const LINK_SECRET: &str = "e2e-link-secret-measure";
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";
const STORED: Duration = Duration::from_secs(40);

struct Suite {
    stack: Stack,
    site: PathBuf,
}

impl Drop for Suite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.site.parent().unwrap_or(&self.site));
    }
}

fn setup() -> Suite {
    let site = std::env::temp_dir().join(format!("vitrine-e2e-measure-{}/site", std::process::id()));
    let _ = std::fs::remove_dir_all(&site);
    demo_store::generate(&Engine::load(&fixture::bundle_bytes(1)).unwrap(), &site, &[]).expect("demo store");
    let mut cfg = StackConfig::new(&site);
    cfg.bundles = vec![fixture::bundle_bytes(1)];
    cfg.profiles_jsonl = Some(fixture::PROFILES_JSONL.into());
    for (k, v) in [
        ("ADMIN_TOKEN", ADMIN_TOKEN),
        ("VITRINE_WRITE_KEY", WRITE_KEY),
        ("MEASUREMENT_KEY", MEASUREMENT_KEY),
        ("LINK_SECRET", LINK_SECRET),
        // As a store that asks first would run it: consent decides whether anything is recorded.
        ("REQUIRE_CONSENT", "1"),
        // The bundle read once a minute, as in production: pages take the entry's hot path.
        ("BUNDLE_CHECK_SECS", "60"),
    ] {
        cfg.vars.push((k.into(), v.into()));
    }
    Suite { stack: Stack::start("measure", cfg), site }
}

fn main() -> std::process::ExitCode {
    harness::run(
        "measure_e2e",
        setup,
        cases![
            a_personalized_page_view_stores_its_exposures,
            the_export_needs_the_admin_token,
            track_events_and_server_orders_are_stored_without_the_customer,
            a_batch_sent_twice_loses_nothing,
            bots_and_visitors_without_consent_record_nothing,
            records_the_queue_refuses_wait_in_the_visitors_object,
            a_consumer_that_fails_mid_batch_loses_nothing,
            batches_that_keep_failing_are_stored_by_the_dead_letter_queue,
            a_messages_click_is_recorded_and_lands_with_utm_tags,
            the_staff_report_is_uploaded_then_served_behind_basic_auth,
        ],
    )
}

fn unit(visitor: &str) -> String {
    unit_key(MEASUREMENT_KEY.as_bytes(), visitor)
}

fn admin(s: &Suite, path: &str) -> HttpResponse {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    s.stack.get(path, &[("Authorization", &auth)])
}

/// Every stored file under `prefix` (through the export route, page by page): key → records.
fn stored(s: &Suite, prefix: &str) -> BTreeMap<String, (String, Vec<Record>)> {
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/admin/measure?prefix={prefix}&limit=50");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = admin(s, &path);
        assert_eq!(r.status, 200, "{}", r.text());
        let list = r.json();
        for f in list["files"].as_array().unwrap() {
            let key = f["key"].as_str().unwrap().to_string();
            let file = admin(s, &format!("/v1/admin/measure/{key}"));
            assert_eq!((file.status, file.header("content-type")), (200, Some("application/gzip")), "{key}");
            let mut text = String::new();
            flate2::read::GzDecoder::new(&file.body[..]).read_to_string(&mut text).unwrap_or_else(|e| panic!("{key} is gzip: {e}"));
            let day = key.split("day=").nth(1).and_then(|d| d.get(..10)).unwrap().to_string();
            let records: Vec<Record> = text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{key}: {l}: {e}"))).collect();
            for r in &records {
                assert_eq!(vitrine_engine::civil::day_string(r.ts), day, "{key}: each record in the file of its day");
            }
            out.insert(key, (text, records));
        }
        cursor = list["cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            return out;
        }
    }
}

fn all_records(s: &Suite) -> Vec<Record> {
    stored(s, "events/").into_values().flat_map(|(_, r)| r).collect()
}

fn dead_records(s: &Suite) -> Vec<Record> {
    stored(s, "dead/").into_values().flat_map(|(_, r)| r).collect()
}

/// Waits until the stored records satisfy `done`; returns them.
fn wait_for(s: &Suite, what: &str, done: impl Fn(&[Record]) -> bool) -> Vec<Record> {
    let start = Instant::now();
    loop {
        let records = all_records(s);
        if done(&records) {
            return records;
        }
        assert!(start.elapsed() < STORED, "timed out waiting for {what}; stored: {records:#?}\n{}", s.stack.log_tail(40));
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn page(s: &Suite, visitor: &str, consent: bool, user_agent: &str) -> HttpResponse {
    let cookie = if consent { format!("vt_consent=1; vt_vid={visitor}") } else { format!("vt_vid={visitor}") };
    // As a browser loads a page (so it is decided while the origin answers: `pages::is_page_load`).
    let r = s.stack.get("/", &[("Cookie", &cookie), ("User-Agent", user_agent), ("Accept", "text/html,*/*;q=0.8"), ("Sec-Fetch-Dest", "document")]);
    assert_eq!(r.status, 200);
    r
}

fn events(s: &Suite, body: &Value, headers: &[(&str, &str)]) -> Value {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    let r = http::request(&s.stack.url, "POST", "/v1/events", &h, body.to_string().as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn track(id: &str, visitor: &str, event: &str, properties: Value) -> Value {
    json!({ "type": "track", "event": event, "messageId": id, "anonymousId": visitor, "properties": properties })
}

// ---------- cases ----------

fn a_personalized_page_view_stores_its_exposures(s: &Suite) {
    let visitor = "page-visitor-0001";
    let html = page(s, visitor, true, BROWSER).text();
    assert!(html.contains("data-vitrine-filled=\"edge\""), "the page was personalized");
    let u = unit(visitor);
    let records = wait_for(s, "the page's exposures", |r| r.iter().any(|r| r.unit == u && r.event == "Product List Viewed"));
    let mine: Vec<&Record> = records.iter().filter(|r| r.unit == u).collect();
    assert!(mine.iter().all(|r| r.source == "edge" && !r.page.is_empty() && r.page == mine[0].page), "one page view, from the edge: {mine:#?}");
    let list = mine.iter().find(|r| r.event == "Product List Viewed" && r.placement == "home-for-you").expect("the carousel's exposure");
    assert_eq!(list.items, ["K300", "C100", "G200", "K301"], "the products the slot really showed");
    // Exactly the slots the page shows filled, each once (carousels as lists, content as
    // promotions).
    let mut filled: Vec<String> = html
        .split('<')
        .filter(|tag| tag.contains("data-vitrine-filled=\"edge\""))
        .filter_map(|tag| tag.split("data-vitrine-slot=\"").nth(1).and_then(|v| v.split('"').next()).map(str::to_string))
        .collect();
    filled.sort();
    let mut shown: Vec<String> =
        mine.iter().filter(|r| r.event == "Product List Viewed" || r.event == "Promotion Viewed").map(|r| r.placement.clone()).collect();
    shown.sort();
    assert_eq!(shown, filled, "{mine:#?}");
    let now = vitrine_tests::identity::now();
    assert!(mine.iter().all(|r| (now - 120..=now + 5).contains(&r.ts)));
    let mut ids: Vec<&str> = mine.iter().map(|r| r.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), mine.len(), "one record per exposure, once");
    // A second view is another page view; asked without a page load's headers, so it is
    // decided once the origin answered, and recorded as well.
    let cookie = format!("vt_consent=1; vt_vid={visitor}");
    assert_eq!(s.stack.get("/", &[("Cookie", &cookie), ("User-Agent", BROWSER)]).status, 200);
    let again = wait_for(s, "the second page view", |r| {
        let pages: std::collections::BTreeSet<&str> = r.iter().filter(|r| r.unit == u).map(|r| r.page.as_str()).collect();
        pages.len() == 2
    });
    assert_eq!(again.iter().filter(|r| r.unit == u).count(), 2 * mine.len());
}

fn the_export_needs_the_admin_token(s: &Suite) {
    assert_eq!(s.stack.get("/v1/admin/measure", &[]).status, 401);
    assert_eq!(s.stack.get("/v1/admin/measure", &[("Authorization", "Bearer wrong-token-0123456789")]).status, 401);
    assert_eq!(admin(s, "/v1/admin/measure?prefix=bundle:").status, 400);
    assert_eq!(admin(s, "/v1/admin/measure/events/day=2020-01-01/none.jsonl.gz").status, 404);
    assert_eq!(admin(s, "/v1/admin/measure/bundle:current").status, 404, "only stored files are served");
}

fn track_events_and_server_orders_are_stored_without_the_customer(s: &Suite) {
    let v = "track-visitor-0001";
    let browser = json!([
        track("t-click", v, "Product Clicked", json!({ "product_id": "K300", "list_id": "home-for-you" })),
        track("t-promo", v, "Promotion Clicked", json!({ "promotion_id": "hero", "creative": "welcome" })),
        track("t-search", v, "Products Searched", json!({ "query": "candles" })),
        track("t-exp", v, "Experiment Viewed", json!({ "experiment_id": "recs-v2", "variation_id": "blend" })),
    ]);
    events(s, &browser, &[("Cookie", "vt_consent=1")]);
    let server = json!([
        { "type": "track", "event": "Order Completed", "messageId": "s-order-1", "userId": "17850", "anonymousId": v,
          "properties": { "order_id": "o-1", "revenue": 42.5, "currency": "GBP", "products": [{ "product_id": "K300" }], "email": "jane.doe@example.com", "phone": "+447700900123" } },
        { "type": "track", "event": "Order Completed", "messageId": "s-order-2", "userId": "17850",
          "properties": { "order_id": "o-2", "total": 10, "currency": "GBP", "user_id": "17850" } },
    ]);
    let auth = format!("Bearer {WRITE_KEY}");
    events(s, &server, &[("Authorization", &auth)]);
    let want = ["t-click", "t-promo", "t-exp", "s-order-1", "s-order-2"];
    let records = wait_for(s, "the events' records", |r| want.iter().all(|id| r.iter().any(|r| r.message_id == *id)));
    let by_id = |id: &str| records.iter().find(|r| r.message_id == id).unwrap();
    let click = by_id("t-click");
    assert_eq!(
        (click.source.as_str(), click.unit.clone(), click.placement.as_str(), click.items.clone()),
        ("browser", unit(v), "home-for-you", vec!["K300".to_string()])
    );
    assert_eq!((by_id("t-promo").placement.as_str(), by_id("t-promo").variant.as_str()), ("hero", "welcome"));
    assert_eq!((by_id("t-exp").experiment.as_str(), by_id("t-exp").arm.as_str()), ("recs-v2", "blend"));
    assert!(!records.iter().any(|r| r.message_id == "t-search"), "not a measured event");
    let order = by_id("s-order-1");
    assert_eq!(
        (order.source.as_str(), order.unit.clone(), order.order_id.as_str(), order.revenue, order.currency.as_str()),
        ("server", unit(v), "o-1", Some(42.5), "GBP")
    );
    let only_user = by_id("s-order-2");
    assert_eq!((only_user.source.as_str(), only_user.revenue), ("server", Some(10.0)));
    assert_eq!(only_user.unit, unit("u:17850"), "a customer with no linked visitor: the keyed unit of their object");
    // Nothing stored names the customer: no userId, email, phone, nor the raw visitor id.
    for (key, (text, _)) in stored(s, "events/") {
        for leak in ["17850", "jane.doe", "example.com", "+447700900123", v, "userId", "email"] {
            assert!(!text.contains(leak), "{key} holds {leak:?}:\n{text}");
        }
    }
}

fn a_batch_sent_twice_loses_nothing(s: &Suite) {
    let v = "twice-visitor-0001";
    let batch = json!((0..3).map(|i| track(&format!("d-{i}"), v, "Product Clicked", json!({ "product_id": "C100" }))).collect::<Vec<_>>());
    let first = events(s, &batch, &[("Cookie", "vt_consent=1")]);
    let second = events(s, &batch, &[("Cookie", "vt_consent=1")]);
    assert_eq!((first["accepted"].as_u64(), second["duplicates"].as_u64()), (Some(3), Some(3)), "{first} {second}");
    let records = wait_for(s, "the twice-sent batch", |r| (0..3).all(|i| r.iter().any(|r| r.message_id == format!("d-{i}"))));
    for i in 0..3 {
        let copies = records.iter().filter(|r| r.message_id == format!("d-{i}")).count();
        assert!((1..=2).contains(&copies), "d-{i} stored {copies} times: at least once; the report counts a messageId once");
    }
}

fn bots_and_visitors_without_consent_record_nothing(s: &Suite) {
    page(s, "bot-visitor-0001", true, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
    page(s, "quiet-visitor-0001", false, BROWSER);
    events(s, &json!([track("q-click", "quiet-visitor-0001", "Product Clicked", json!({ "product_id": "K300" }))]), &[]);
    // A visitor who said yes, after them: once theirs is stored, the others would have been too.
    page(s, "control-visitor-0001", true, BROWSER);
    let control = unit("control-visitor-0001");
    let records = wait_for(s, "the control visitor's page view", |r| r.iter().any(|r| r.unit == control));
    std::thread::sleep(Duration::from_secs(2));
    let records = [records, all_records(s)].concat();
    for quiet in ["bot-visitor-0001", "quiet-visitor-0001"] {
        let u = unit(quiet);
        assert!(!records.iter().any(|r| r.unit == u), "{quiet} recorded: {:#?}", records.iter().filter(|r| r.unit == u).collect::<Vec<_>>());
    }
    assert!(!records.iter().any(|r| r.message_id == "q-click"));
}

fn a_consumer_that_fails_mid_batch_loses_nothing(s: &Suite) {
    s.stack.kv_put("BUNDLES", &[Entry::text("fault:consumer-throw", "1".to_string())]);
    let v = "fault-visitor-0001";
    let batch = json!((0..20).map(|i| track(&format!("f-{i}"), v, "Product Clicked", json!({ "product_id": "G200" }))).collect::<Vec<_>>());
    events(s, &batch, &[("Cookie", "vt_consent=1")]);
    let records = wait_for(s, "every record of the failed batch", |r| (0..20).all(|i| r.iter().any(|r| r.message_id == format!("f-{i}"))));
    assert!(s.stack.log_text().contains("fault:consumer-throw (dev mode)"), "the consumer did fail once:\n{}", s.stack.log_tail(40));
    for i in 0..20 {
        assert!(records.iter().filter(|r| r.message_id == format!("f-{i}")).count() >= 1);
    }
}

fn batches_that_keep_failing_are_stored_by_the_dead_letter_queue(s: &Suite) {
    s.stack.kv_put("BUNDLES", &[Entry::text("fault:consumer-throw", "always".to_string())]);
    let v = "dead-visitor-0001";
    events(s, &json!([track("x-1", v, "Product Clicked", json!({ "product_id": "K300" }))]), &[("Cookie", "vt_consent=1")]);
    let start = Instant::now();
    while !dead_records(s).iter().any(|r| r.message_id == "x-1") {
        assert!(start.elapsed() < Duration::from_secs(60), "x-1 never reached dead/:\n{}", s.stack.log_tail(40));
        std::thread::sleep(Duration::from_millis(500));
    }
    s.stack.kv_put("BUNDLES", &[Entry::text("fault:consumer-throw", "0".to_string())]);
    let dead = stored(s, "dead/");
    assert!(dead.keys().all(|k| k.starts_with("dead/day=") && k.ends_with(".jsonl.gz")), "{:?}", dead.keys());
    assert!(dead_records(s).iter().all(|r| r.unit == unit(v) || !r.unit.is_empty()));
}

fn records_the_queue_refuses_wait_in_the_visitors_object(s: &Suite) {
    s.stack.kv_put("BUNDLES", &[Entry::text("fault:queue-send", "1".to_string())]);
    std::thread::sleep(Duration::from_millis(1500)); // isolates read the switches once a second
    let v = "outbox-visitor-0001";
    page(s, v, true, BROWSER);
    events(s, &json!([track("o-click", v, "Product Clicked", json!({ "product_id": "K300" }))]), &[("Cookie", "vt_consent=1")]);
    // The page's exposures (posted there when the queue refused them) and the event's record
    // wait in the visitor's object.
    let start = Instant::now();
    let pending = loop {
        let m = s.stack.get(&format!("/v1/visitors/a:{v}/messages"), &[]).json();
        let n = m["measure_pending"].as_u64().unwrap_or(0);
        if n >= 2 {
            break n;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "nothing waits in the object: {m}\n{}", s.stack.log_tail(30));
        std::thread::sleep(Duration::from_millis(300));
    };
    let u = unit(v);
    assert!(!all_records(s).iter().any(|r| r.unit == u), "nothing reached R2 while the queue refused");
    s.stack.kv_put("BUNDLES", &[Entry::text("fault:queue-send", "0".to_string())]);
    // The object's alarm sends them once the queue takes them again.
    let records = wait_for(s, "the waiting records", |r| r.iter().filter(|r| r.unit == u).count() as u64 >= pending);
    assert!(records.iter().any(|r| r.message_id == "o-click") && records.iter().any(|r| r.unit == u && r.source == "edge"));
    let start = Instant::now();
    while s.stack.get(&format!("/v1/visitors/a:{v}/messages"), &[]).json()["measure_pending"].as_u64() != Some(0) {
        assert!(start.elapsed() < Duration::from_secs(20), "the outbox empties once sent");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A message's link: the click is recorded for the visitor the message went to (their unit),
/// and the visitor lands on the step's page with the same token and UTM tags. A forged link
/// leads home and records nothing; a link scanner (a bot) is redirected but not counted.
fn a_messages_click_is_recorded_and_lands_with_utm_tags(s: &Suite) {
    use vitrine_engine::journey::{LinkClaims, CLICK_PATH};
    let visitor = "clicking-visitor-0001";
    let claims = LinkClaims {
        visitor: format!("a:{visitor}"),
        journey: "cart".into(),
        step: 2,
        channel: "sms".into(),
        landing: "/cart".into(),
        offer: "welcome10".into(),
        exp: vitrine_tests::identity::now() + 3600,
        ..LinkClaims::default()
    };
    let vt = claims.sign(LINK_SECRET.as_bytes());
    let follow = |vt: &str, ua: &str| s.stack.get(&format!("{CLICK_PATH}?vt={vt}"), &[("User-Agent", ua)]);
    let r = follow(&vt, BROWSER);
    assert_eq!(r.status, 302, "{}", r.text());
    assert_eq!(r.header("location"), Some(format!("/cart?vt={vt}&utm_source=vitrine&utm_medium=sms&utm_campaign=cart&utm_content=step-2").as_str()));
    // The landing hands the offer over, as any deep link does.
    let landed = s.stack.get(r.header("location").unwrap(), &[("Cookie", &format!("vt_consent=1; vt_vid={visitor}")), ("User-Agent", BROWSER)]);
    assert!(landed.cookies().iter().any(|(k, v)| k == "vt_offer" && v == "welcome10"), "the landing page hands the offer over");
    assert_eq!(follow(&vt, "Mozilla/5.0 (compatible; Googlebot/2.1)").status, 302, "a scanner follows, uncounted");
    let forged = LinkClaims { landing: "/x".into(), ..claims.clone() }.sign(b"not our secret");
    assert_eq!(follow(&forged, BROWSER).header("location"), Some("/"));
    let u = unit(visitor);
    let records = wait_for(s, "the click", |r| r.iter().any(|r| r.unit == u && r.event == "Message Clicked"));
    let clicks: Vec<&Record> = records.iter().filter(|r| r.event == "Message Clicked").collect();
    assert_eq!(clicks.len(), 1, "one click counted (not the scanner's, not the forged one): {clicks:#?}");
    let c = clicks[0];
    assert_eq!((c.journey.as_str(), c.step, c.channel.as_str(), c.offer.as_str(), c.source.as_str()), ("cart", Some(2), "sms", "welcome10", "journey"));
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", vitrine_engine::base64::encode(format!("{user}:{password}").as_bytes(), vitrine_engine::base64::Alphabet::Standard))
}

fn put_report(s: &Suite, auth: &str, body: &[u8]) -> std::io::Result<HttpResponse> {
    http::request(&s.stack.url, "PUT", "/v1/admin/report", &[("Authorization", auth), ("Content-Type", "text/html; charset=utf-8")], body)
}

/// `GET /staff/report` (Basic auth, password ADMIN_TOKEN) serves what `PUT /v1/admin/report`
/// (bearer ADMIN_TOKEN) stored, as a page that may load nothing; 404 before any upload.
fn the_staff_report_is_uploaded_then_served_behind_basic_auth(s: &Suite) {
    let staff = basic("staff", ADMIN_TOKEN);
    // Refused: no credentials, a wrong password, the bearer form. A browser prompts.
    for headers in [vec![], vec![("Authorization", basic("staff", "wrong-token-0123456789"))], vec![("Authorization", format!("Bearer {ADMIN_TOKEN}"))]] {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = s.stack.get("/staff/report", &h);
        assert_eq!(r.status, 401, "{:?}: {}", headers, r.text());
        assert_eq!(r.header("www-authenticate"), Some(vitrine_edge::staff::CHALLENGE));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    let none = s.stack.get("/staff/report", &[("Authorization", &staff)]);
    assert_eq!(none.status, 404, "{}", none.text());
    assert!(none.text().contains("No report yet"), "{}", none.text());

    // The upload needs the bearer admin token (Basic is for the page only).
    let html = "<!doctype html><html><head><style>h1{color:#222}</style></head><body><h1>Vitrine report</h1><svg><circle r=\"2\"/></svg></body></html>\n";
    assert_eq!(put_report(s, "", html.as_bytes()).unwrap().status, 401);
    assert_eq!(put_report(s, &staff, html.as_bytes()).unwrap().status, 401);
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let stored = put_report(s, &auth, html.as_bytes()).unwrap();
    assert_eq!(stored.status, 200, "{}", stored.text());
    assert_eq!(stored.json()["bytes"], html.len());
    assert_eq!(s.stack.get("/v1/admin/report", &[("Authorization", &auth)]).status, 405, "PUT only");

    let page = s.stack.get("/staff/report", &[("Authorization", &basic("anyone", ADMIN_TOKEN))]);
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.text(), html, "served as uploaded");
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.starts_with("default-src 'none'; style-src 'unsafe-inline'; img-src data:"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));

    // Over the limit: refused before it is read; the stored report stays.
    // (the gate checks the declared length whatever the method; a chunked body meets the same
    // limit as it is read, limits::read_body, as every route's does: tests/tests/edge_pages.rs).
    let over = vitrine_edge::staff::REPORT_BODY as u64 + 1;
    let up = http::slow_upload(
        &s.stack.url,
        "/v1/admin/report",
        &[("Authorization", &auth)],
        http::Framing::Declared(over),
        over,
        16 * 1024,
        Duration::from_millis(5),
    )
    .unwrap();
    assert_eq!(up.response.status, 413, "{}", up.response.text());
    assert_eq!(up.response.json()["limit"], vitrine_edge::staff::REPORT_BODY);
    assert_eq!(put_report(s, &auth, b"").unwrap().status, 400, "an empty report");
    assert_eq!(s.stack.get("/staff/report", &[("Authorization", &staff)]).text(), html, "the refused uploads changed nothing");
}
