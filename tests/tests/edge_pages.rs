//! End to end on real workerd (`wrangler dev --local`): the demo origin behind the edge worker,
//! requested as different visitors. Run: `cargo test -p vitrine-tests --test edge_pages`.

use std::path::PathBuf;

use serde_json::{json, Value as Json};
use vitrine_engine::context::{CartLine, Device, Interests, Request, Session, Signal};
use vitrine_engine::{Engine, Value, Visitor};
use vitrine_tests::fixture::{self, idx, OUT_OF_STOCK};
use vitrine_tests::http::{self, HttpResponse};
use vitrine_tests::identity;
use vitrine_tests::stack::{Stack, StackConfig, PROFILE_SECRET};
use vitrine_tests::{cases, demo_store, harness};

struct Suite {
    stack: Stack,
    site: PathBuf,
    engine: Engine,
}

impl Drop for Suite {
    fn drop(&mut self) {
        if let Some(root) = self.site.parent() {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

const SDK_LOADER: &str = "/* loader */ console.log('vitrine');";
const SDK_WASM: &[u8] = b"\0asm\x01\0\0\0";
const SDK_HASHED: &str = "/vitrine/sdk/vitrine-0123456789ab.wasm";
const NOW: i64 = 1_700_000_000;
const CLIENT_LIMIT: u32 = 100;
const VISITOR_LIMIT: u32 = 60;

fn setup() -> Suite {
    let root = std::env::temp_dir().join(format!("vitrine-e2e-pages-{}", std::process::id()));
    let site = root.join("site");
    let _ = std::fs::remove_dir_all(&root);
    let engine = Engine::load(&fixture::bundle_bytes(1)).expect("fixture loads");
    demo_store::generate(&engine, &site, &[]).expect("demo store");
    // Pages the store would not have but a hostile or broken origin could serve.
    std::fs::write(
        site.join("malformed.html"),
        "<html><body><div data-vitrine-slot=\"hero\"><p>unclosed <b>bold <table><td>cell</div>\n<div data-vitrine-slot='hero'>second <!-- comment",
    )
    .unwrap();
    std::fs::write(site.join("data.json"), br#"{"data-vitrine-slot":"hero"}"#).unwrap();
    std::fs::write(site.join("old-home.redirect"), "/?from=old").unwrap();
    // The store's own login and logout pages: the origin says who is logged in, signed.
    std::fs::create_dir_all(site.join("account")).unwrap();
    let jane = identity::token("14646", Some("Jane"));
    for (page, headers) in [
        ("login", format!("Vitrine-Identity: {jane}\nCache-Control: private, no-store")),
        ("login-cacheable", format!("Vitrine-Identity: {jane}")),
        (
            "login-forged",
            format!(
                "Vitrine-Identity: {}\nCache-Control: private",
                identity::token_with(identity::KID, "not-the-stores-secret-at-all", "14646", Some("Jane"), identity::now() + 600)
            ),
        ),
        ("logout", "Vitrine-Identity: logout\nCache-Control: no-store".to_string()),
    ] {
        std::fs::write(site.join(format!("account/{page}.html")), format!("<!doctype html><title>{page}</title><p>{page}")).unwrap();
        std::fs::write(site.join(format!("account/{page}.html.headers")), headers).unwrap();
    }
    let assets = root.join("assets");
    std::fs::create_dir_all(assets.join("vitrine/sdk")).unwrap();
    std::fs::write(assets.join("vitrine/sdk/vitrine.js"), SDK_LOADER).unwrap();
    std::fs::write(assets.join(SDK_HASHED.trim_start_matches('/')), SDK_WASM).unwrap();

    let mut cfg = StackConfig::new(&site);
    cfg.bundles = vec![fixture::bundle_bytes(1)];
    cfg.profiles_jsonl = Some(fixture::PROFILES_JSONL.into());
    cfg.assets = Some(assets);
    // The bundle is read once a minute, as in production, so that pages take the entry's hot
    // path (`Edge.hot`); a read due (this, or dev mode's fault switches each second) takes the
    // async path, which the other suites exercise (their bundles are read at every request).
    cfg.vars = vec![("CORS_ORIGINS".into(), "https://headless.example".into()), ("BUNDLE_CHECK_SECS".into(), "60".into())];
    // Small enough for a burst to pass in a second or two; the other cases (all 127.0.0.1, one
    // parity visitor) stay well under them.
    cfg.rate_limits = vec![("LIMIT_CLIENT".into(), CLIENT_LIMIT), ("LIMIT_VISITOR".into(), VISITOR_LIMIT)];
    Suite { stack: Stack::start("pages", cfg), site, engine }
}

fn main() -> std::process::ExitCode {
    harness::run(
        "edge_pages",
        setup,
        cases![
            a_new_visitor_gets_the_welcome_banner_and_trending_products,
            what_the_sdk_learned_this_session_steers_just_for_you,
            a_returning_champion_is_greeted_by_name_with_kitchen_favourites,
            the_stores_login_signs_the_customer_in_and_logout_out,
            an_unsigned_or_cacheable_login_signs_nobody_in,
            an_at_risk_customer_gets_the_win_back_banner,
            a_visitor_from_another_country_gets_that_country,
            the_cart_suggests_cheap_add_ons_never_in_cart_or_out_of_stock,
            a_product_page_pairs_it_with_what_is_bought_together,
            pages_without_slots_and_other_files_pass_through_byte_for_byte,
            a_browsers_page_load_is_decided_while_the_origin_answers_and_comes_out_the_same,
            only_store_pages_reach_the_origin_once_each_with_the_workers_host,
            hostile_cookies_are_dropped_not_errors,
            malformed_html_is_personalized_not_broken,
            decide_api_answers_json_with_explain,
            edge_decisions_equal_the_native_engine,
            exit_offer_depends_on_the_visitor,
            bundle_and_sdk_files_have_types_etags_and_caching,
            health_names_the_worker_version_and_the_serving_bundle,
            the_sdk_downloads_a_slice_cut_for_its_visitor_and_page,
            the_picker_explains_unknown_personas,
            events_are_routed_to_the_sync_endpoint,
            bodies_over_the_limit_are_refused_before_they_are_read,
            a_burst_past_the_client_limit_gets_429_and_another_client_is_unaffected,
            a_visitors_burst_of_events_gets_429_and_a_batch_reaches_ten_objects_at_most,
            the_openapi_document_is_served_and_its_examples_are_true,
            origin_down_gives_a_502_page_and_the_api_keeps_working,
        ],
    )
}

// ---------- helpers ----------

fn cookie_header(cookies: &[(String, String)]) -> String {
    cookies.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

/// Picks a persona with the demo picker; returns the cookies a browser would now send.
fn become_persona(s: &Suite, persona: &str) -> String {
    let r = s.stack.get(&format!("/?vitrine_as={persona}"), &[("Cookie", "vt_vid=e2e-visitor-0001")]);
    assert_eq!(r.status, 302, "picker for {persona}: {}", r.text());
    assert_eq!(r.header("location"), Some("/"));
    let mut cookies = vec![("vt_vid".to_string(), "e2e-visitor-0001".to_string())];
    cookies.extend(r.cookies());
    assert!(cookies.iter().any(|(k, v)| k == "vt_profile" && !v.is_empty()), "no profile cookie: {:?}", r.headers);
    cookie_header(&cookies)
}

/// The inner HTML of the element carrying `data-vitrine-slot="<slot>"` (first one).
fn slot(html: &str, slot: &str) -> (String, String) {
    let marker = format!("data-vitrine-slot=\"{slot}\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no slot {slot} in:\n{html}"));
    let open_start = html[..at].rfind('<').unwrap();
    let tag: String = html[open_start + 1..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let open_end = at + html[at..].find('>').unwrap() + 1;
    let close = format!("</{tag}>");
    let inner_end = open_end + html[open_end..].find(&close).unwrap_or(0);
    (html[open_start..open_end].to_string(), html[open_end..inner_end].to_string())
}

fn skus(fragment: &str) -> Vec<String> {
    fragment.split("data-sku=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

fn page(s: &Suite, path: &str, headers: &[(&str, &str)]) -> String {
    let r = s.stack.get(path, headers);
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    assert_eq!(r.header("cache-control"), Some("private, no-cache"), "personalized pages are private");
    r.text()
}

fn assert_no_trace(r: &HttpResponse) {
    let t = r.text().to_lowercase();
    for leak in ["panicked", "stack backtrace", "runtimeerror", "unreachable", "at wasm"] {
        assert!(!t.contains(leak), "response leaks {leak:?}: {t}");
    }
}

// ---------- visitors ----------

fn a_new_visitor_gets_the_welcome_banner_and_trending_products(s: &Suite) {
    // A country with no table of its own (the local `cf` says US unless told otherwise).
    let r = s.stack.get("/", &[("X-Vitrine-Debug-Country", "US")]);
    assert_eq!(r.status, 200);
    let vid = r.cookies().into_iter().find(|(k, _)| k == "vt_vid").expect("a visitor id cookie").1;
    assert!(vid.len() >= 32, "{vid}");
    let html = r.text();
    let (open, hero) = slot(&html, "hero");
    assert!(open.contains("data-vitrine-filled=\"edge\""), "{open}");
    assert!(hero.contains("New here? 10% off your first order"), "{hero}");
    let (open, greeting) = slot(&html, "greeting");
    assert!(open.contains("data-vitrine-state=\"original\"") && greeting.is_empty(), "unknown visitors are not greeted: {open}{greeting}");
    let (_, for_you) = slot(&html, "home-for-you");
    assert!(for_you.contains("Just for You"));
    // No segment, no country table for the local `cf`: trending, minus what is out of stock.
    assert_eq!(skus(&for_you), ["K300", "C100", "G200", "K301"]);
    assert!(!for_you.contains(OUT_OF_STOCK));
    // The same browser next time is no longer new.
    let again = page(s, "/", &[("Cookie", &format!("vt_vid={vid}"))]);
    assert!(!slot(&again, "hero").1.contains("New here?"), "returning anonymous visitor");
}

fn what_the_sdk_learned_this_session_steers_just_for_you(s: &Suite) {
    let for_you = |cookie: &str| {
        let html = page(s, "/", &[("Cookie", cookie), ("X-Vitrine-Debug-Country", "US")]);
        skus(&slot(&html, "home-for-you").1)
    };
    let plain = for_you("vt_vid=e2e-session-0001");
    assert_eq!(plain, ["K300", "C100", "G200", "K301"], "no session interests: trending");
    // The SDK's cookie just after a visitor looked at Garden products (interests decay with
    // an hour's half-life, on the worker's clock).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let learned = vitrine_engine::cookies::interests_cookie(now, &[("Garden".into(), 3.0)], &[("G201".into(), 1.0)]);
    let picks = for_you(&format!("vt_vid=e2e-session-0001; vt_int={learned}"));
    assert_eq!(&picks[..2], ["G200", "G201"], "Garden first: {picks:?}");
    // A cookie that does not parse, or names nothing the catalog knows, changes nothing.
    for junk in ["garbage", "1|Nowhere:5000|X999:1000", "1|%FF%FE:9|", &format!("1|Garden:{}|", "9".repeat(40))] {
        assert_eq!(for_you(&format!("vt_vid=e2e-session-0001; vt_int={junk}")), plain, "vt_int={junk}");
    }
}

fn a_returning_champion_is_greeted_by_name_with_kitchen_favourites(s: &Suite) {
    let cookies = become_persona(s, "champions");
    let html = page(s, "/", &[("Cookie", &cookies)]);
    assert!(slot(&html, "hero").1.contains("Early access for you, Jane"), "{}", slot(&html, "hero").1);
    assert_eq!(slot(&html, "greeting").1, "Welcome back, Jane");
    let picks = skus(&slot(&html, "home-for-you").1);
    assert_eq!(&picks[..2], ["K300", "K301"], "favourite category (Kitchen) first: {picks:?}");
    // `champion` (singular) finds the same persona.
    let r = s.stack.get("/?vitrine_as=champion&utm_source=x", &[]);
    assert_eq!((r.status, r.header("location")), (302, Some("/?utm_source=x")));
}

fn the_stores_login_signs_the_customer_in_and_logout_out(s: &Suite) {
    let visitor = ("vt_vid".to_string(), "e2e-visitor-login".to_string());
    let r = s.stack.get("/account/login", &[("Cookie", "vt_vid=e2e-visitor-login")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("vitrine-identity"), None, "the token never reaches the browser");
    let mut cookies = vec![visitor.clone()];
    cookies.extend(r.cookies());
    assert!(cookies.iter().any(|(k, v)| k == "vt_profile" && !v.is_empty()), "signed in: {:?}", r.headers);
    let html = page(s, "/", &[("Cookie", &cookie_header(&cookies))]);
    assert_eq!(slot(&html, "greeting").1, "Welcome back, Jane");
    assert!(slot(&html, "hero").1.contains("Early access for you, Jane"), "their segment's banner");
    let out = s.stack.get("/account/logout", &[("Cookie", &cookie_header(&cookies))]);
    assert!(out.cookies().iter().any(|(k, v)| k == "vt_profile" && v.is_empty()), "logout clears the profile: {:?}", out.headers);
    assert_eq!(out.header("vitrine-identity"), None);
}

fn an_unsigned_or_cacheable_login_signs_nobody_in(s: &Suite) {
    for page in ["/account/login-cacheable", "/account/login-forged"] {
        let r = s.stack.get(page, &[("Cookie", "vt_vid=e2e-visitor-forger")]);
        assert_eq!(r.status, 200, "{page}");
        assert!(!r.cookies().iter().any(|(k, _)| k == "vt_profile"), "{page} signed someone in: {:?}", r.headers);
        assert_eq!(r.header("vitrine-identity"), None, "{page}: the header is dropped all the same");
    }
}

fn an_at_risk_customer_gets_the_win_back_banner(s: &Suite) {
    let cookies = become_persona(s, "at-risk");
    let html = page(s, "/", &[("Cookie", &cookies)]);
    assert!(slot(&html, "hero").1.contains("We miss you: 15% off with COMEBACK15"));
    assert_eq!(slot(&html, "greeting").1, "Welcome back, Priya");
    let picks = skus(&slot(&html, "home-for-you").1);
    assert_eq!(&picks[..3], ["C100", "C102", "C101"], "Candles first: {picks:?}");
    assert!(!picks.iter().any(|p| p == OUT_OF_STOCK));
}

fn a_visitor_from_another_country_gets_that_country(s: &Suite) {
    let html = page(s, "/", &[("Cookie", "vt_vid=e2e-visitor-de01"), ("X-Vitrine-Debug-Country", "de")]);
    assert!(slot(&html, "hero").1.contains("Willkommen! Free shipping to Germany"));
    let picks = skus(&slot(&html, "home-for-you").1);
    assert_eq!(&picks[..3], ["G200", "G201", "K303"], "German bestsellers lead: {picks:?}");
    // The country overrides nothing for a Champion: their banner comes first in the rules.
    let cookies = become_persona(s, "champions");
    let html = page(s, "/", &[("Cookie", &cookies), ("X-Vitrine-Debug-Country", "DE")]);
    assert!(slot(&html, "hero").1.contains("Early access"));
}

fn the_cart_suggests_cheap_add_ons_never_in_cart_or_out_of_stock(s: &Suite) {
    let html = page(s, "/cart", &[("Cookie", "vt_vid=e2e-visitor-cart1; vt_cart=C100:1,K301:2")]);
    let (open, inner) = slot(&html, "cart-dont-forget");
    assert!(open.contains("data-vitrine-filled"), "{open}");
    assert!(inner.contains("Don&#39;t forget these") || inner.contains("Don't forget these"), "{inner}");
    let picks = skus(&inner);
    assert_eq!(picks, ["C102", "K302", "C101", "K303"]);
    for never in ["C100", "K301", OUT_OF_STOCK, "K300", "G200"] {
        assert!(!picks.iter().any(|p| p == never), "{never} in {picks:?}");
    }
    // An empty cart: the placement is not targeted and the page keeps its own content.
    let html = page(s, "/cart", &[("Cookie", "vt_vid=e2e-visitor-cart2")]);
    assert!(slot(&html, "cart-dont-forget").0.contains("data-vitrine-state=\"original\""));
}

fn a_product_page_pairs_it_with_what_is_bought_together(s: &Suite) {
    let html = page(s, "/products/C100", &[("Cookie", "vt_vid=e2e-visitor-pdp1")]);
    let (_, inner) = slot(&html, "pdp-pair-with");
    assert!(inner.contains("Pair With It"));
    assert_eq!(skus(&inner), ["C102", "C101"], "C103 is out of stock, C100 is this page");
    assert!(html.contains("<h1>Vanilla Candle</h1>"), "the origin's own content stays");
    // In the cart already: not suggested again.
    let html = page(s, "/products/C100", &[("Cookie", "vt_vid=e2e-visitor-pdp1; vt_cart=C102:1")]);
    assert_eq!(skus(&slot(&html, "pdp-pair-with").1), ["C101"]);
    // The edge remembers the product page itself (no SDK ran here), most recent first.
    let r = s.stack.get("/products/C101", &[("Cookie", "vt_vid=e2e-visitor-pdp1; vt_seen=C100")]);
    let seen = r.cookies().into_iter().find(|(k, _)| k == "vt_seen").map(|c| c.1);
    assert_eq!(seen.as_deref(), Some("C101,C100"));
}

fn pages_without_slots_and_other_files_pass_through_byte_for_byte(s: &Suite) {
    for (path, file) in [("/about", "about.html"), ("/style.css", "style.css"), ("/img/C100.svg", "img/C100.svg"), ("/data.json", "data.json")] {
        let r = s.stack.get(path, &[("Cookie", "vt_vid=e2e-visitor-pass1")]);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body, std::fs::read(s.site.join(file)).unwrap(), "{path} changed on the way");
        assert_eq!(r.header("content-type"), Some(vitrine_tests::origin::content_type(std::path::Path::new(file))), "{path}");
    }
    // Non-HTML responses keep the origin's headers (no personalization markers).
    let css = s.stack.get("/style.css", &[]);
    assert_eq!(css.header("cache-control"), Some("public, max-age=60"));
    assert!(css.header("set-cookie").is_none());
    // The origin redirecting to its own address sends the visitor back through the worker.
    let moved = s.stack.get("/old-home", &[]);
    assert_eq!(moved.status, 302);
    assert_eq!(moved.header("location"), Some(format!("{}/?from=old", s.stack.url).as_str()));
    let missing = s.stack.get("/no/such/page", &[]);
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("Not found"));
}

/// A browser's page load (`pages::is_page_load`) is decided while the origin answers, anything
/// else once it answered: the page, its cookies and headers come out the same either way, and
/// what the origin answers that is no page to personalize still passes through untouched.
fn a_browsers_page_load_is_decided_while_the_origin_answers_and_comes_out_the_same(s: &Suite) {
    let browser = [("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), ("Sec-Fetch-Dest", "document")];
    let older_browser = [("Accept", "text/html,*/*;q=0.8")]; // no Sec-Fetch-Dest
    let champion = become_persona(s, "champions");
    let cases = [
        ("/", champion.as_str()),
        ("/", "vt_vid=e2e-visitor-early1"),
        ("/cart", "vt_vid=e2e-visitor-early1; vt_cart=C100:1,K301:2"),
        ("/products/C100", "vt_vid=e2e-visitor-early1; vt_seen=C101"),
    ];
    for (path, cookie) in cases {
        let after = s.stack.get(path, &[("Cookie", cookie)]);
        for load in [&browser[..], &older_browser[..]] {
            let early = s.stack.get(path, &[&[("Cookie", cookie)], load].concat());
            assert_eq!((early.status, after.status), (200, 200), "{path}");
            assert!(early.text().contains("data-vitrine-filled=\"edge\""), "{path} personalized");
            assert_eq!(early.text(), after.text(), "{path} for {cookie}: the same page");
            for header in ["set-cookie", "cache-control", "vary", "x-vitrine-bundle", "content-type"] {
                let all = |r: &HttpResponse| r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(header)).map(|(_, v)| v.clone()).collect::<Vec<_>>();
                assert_eq!(all(&early), all(&after), "{path}: {header}");
            }
        }
    }
    // What a browser asked for as a page but is not one to personalize.
    for (path, file) in [("/style.css", "style.css"), ("/data.json", "data.json"), ("/about", "about.html")] {
        let r = s.stack.get(path, &[&[("Cookie", "vt_vid=e2e-visitor-early2")], &browser[..]].concat());
        assert_eq!((r.status, r.body.as_slice()), (200, std::fs::read(s.site.join(file)).unwrap().as_slice()), "{path} changed on the way");
    }
    // A HEAD, even with a document's headers, is passed through as before: nothing decided.
    let head = http::request(&s.stack.url, "HEAD", "/", &[&[("Cookie", "vt_vid=e2e-visitor-early2")], &browser[..]].concat(), b"").unwrap();
    assert_eq!((head.status, head.header("set-cookie"), head.header("x-vitrine-bundle")), (200, None, None), "{:?}", head.headers);
    let moved = s.stack.get("/old-home", &browser);
    assert_eq!((moved.status, moved.header("location")), (302, Some(format!("{}/?from=old", s.stack.url).as_str())));
    assert_eq!(s.stack.get("/no/such/page", &browser).status, 404);
    // A profile cookie due for its refresh on a page load: read from KV while the origin
    // answers (the async path, given the origin's answer), and the page as after the answer.
    let stale = vitrine_edge::profile::ProfileClaims {
        cid: "14646".into(),
        traits: serde_json::from_str(r#"{"first_name":"Jo","segment":"Hibernating"}"#).unwrap(),
        iat: identity::now() - 2 * 86_400,
    };
    let cookie = format!("vt_vid=e2e-visitor-early4; vt_profile={}", vitrine_edge::profile::issue(&stale, PROFILE_SECRET.as_bytes()));
    let after = s.stack.get("/", &[("Cookie", &cookie)]);
    let early = s.stack.get("/", &[&[("Cookie", cookie.as_str())], &browser[..]].concat());
    for r in [&after, &early] {
        assert_eq!(r.status, 200);
        assert!(slot(&r.text(), "hero").1.contains("Early access for you, Jo"), "refreshed from KV: a Champion");
        assert!(r.cookies().iter().any(|(k, v)| k == "vt_profile" && !v.is_empty()), "a fresh cookie: {:?}", r.headers);
    }
    assert_eq!(early.text(), after.text());
    // Signing in on a page load: the origin's identity header still takes the KV path.
    let login = s.stack.get("/account/login", &[&[("Cookie", "vt_vid=e2e-visitor-early3")], &browser[..]].concat());
    assert_eq!((login.status, login.header("vitrine-identity")), (200, None));
    assert!(login.cookies().iter().any(|(k, v)| k == "vt_profile" && !v.is_empty()), "signed in: {:?}", login.headers);
}

/// The entry sends a store page's origin request itself, before anything else: every store page
/// (any method, any headers) reaches the origin exactly once, told the worker's host and scheme;
/// the worker's own paths never do, whatever they are asked as, nor does the demo picker. The
/// attack: a message's signed link (`/v1/click?vt=…`) opened as a page load must not hand its
/// token to the origin.
fn only_store_pages_reach_the_origin_once_each_with_the_workers_host(s: &Suite) {
    let probe = format!("probe-{}", std::process::id());
    let browser = [("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), ("Sec-Fetch-Dest", "document")];
    // Its own client for the rate limits: the other cases' budget is 127.0.0.1's.
    let cookie = [("Cookie", "vt_vid=e2e-visitor-origin1"), ("X-Vitrine-Client", "origin-probe")];
    // (Not `/v1/confirm` or `/v1/unsubscribe`: their limiters are the other cases' too.)
    let own = [
        format!("/v1/click?vt={probe}"),
        format!("/v1/decide?placement=hero&{probe}"),
        format!("/v1/no-such-endpoint?{probe}"),
        format!("/vitrine/sdk/vitrine.js?{probe}"),
        format!("/staff/report?{probe}"),
    ];
    // The demo picker (DEMO_PICKER=1) answers a page's GET or HEAD itself.
    let picker = format!("/?vitrine_as=reset&{probe}");
    let own = own.iter().flat_map(|path| [("GET", path), ("HEAD", path), ("POST", path)]).chain([("GET", &picker), ("HEAD", &picker)]);
    for (method, path) in own {
        let r = http::request(&s.stack.url, method, path, &[&cookie[..], &browser[..]].concat(), b"").unwrap();
        assert_ne!(r.status, 0, "{method} {path}");
    }
    let pages = [
        ("GET", format!("/?{probe}=home"), &browser[..]),
        ("GET", format!("/products/C100?{probe}=product"), &[][..]),
        // A GET's body (said empty, or not) is not the origin's: a body on a GET is refused.
        ("GET", format!("/?{probe}=empty-body"), &[("Content-Length", "0")][..]),
        ("GET", format!("/products/C100?{probe}=body"), &[][..]),
        ("GET", format!("/style.css?{probe}=css"), &[][..]),
        ("GET", format!("/v1?{probe}=not-ours"), &browser[..]),
        ("GET", format!("/old-home?{probe}=moved"), &browser[..]),
        ("HEAD", format!("/?{probe}=head"), &browser[..]),
        ("POST", format!("/contact?{probe}=post"), &browser[..]),
    ];
    for (method, path, headers) in &pages {
        let body: &[u8] = if path.ends_with("=body") { b"ignored" } else { b"" };
        let r = http::request(&s.stack.url, method, path, &[&cookie[..], headers].concat(), body).unwrap();
        assert!((200..500).contains(&r.status), "{method} {path}: {} {}", r.status, r.text());
        assert_no_trace(&r);
    }
    let asked: Vec<_> = s.stack.origin.asked().into_iter().filter(|a| a.target.contains(&probe)).collect();
    let worker_host = s.stack.url.trim_start_matches("http://").rsplit_once(':').map_or("", |(host, _)| host);
    for (method, path, _) in &pages {
        let at: Vec<_> = asked.iter().filter(|a| &a.target == path).collect();
        assert_eq!(at.len(), 1, "{method} {path} reached the origin once: {asked:#?}");
        let a = at[0];
        assert_eq!(a.method, *method, "{path}");
        assert_eq!(a.host, s.stack.origin.addr.to_string(), "{path}: the origin's own Host");
        assert_eq!((a.forwarded_host.as_deref(), a.forwarded_proto.as_deref()), (Some(worker_host), Some("http")), "{path}");
    }
    assert_eq!(asked.len(), pages.len(), "nothing else reached the origin: {asked:#?}");
}

fn hostile_cookies_are_dropped_not_errors(s: &Suite) {
    // A forged profile claiming to be a Champion, signed with the wrong key.
    let forged = vitrine_engine::token::sign(b"not-the-secret", br#"{"cid":"1","traits":{"segment":"Champions","first_name":"Mallory"},"iat":1}"#);
    let r = s.stack.get("/", &[("Cookie", &format!("vt_vid=e2e-visitor-evil1; vt_profile={forged}"))]);
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("Mallory") && !r.text().contains("Early access"));
    assert!(r.headers_named("set-cookie").iter().any(|c| c.starts_with("vt_profile=;") && c.contains("Max-Age=0")), "the forged cookie is cleared");
    // Huge, junk-filled cookie headers and a junk visitor id.
    let junk = format!("vt_vid=<script>; a={}; vt_profile={}; vt_cart={}", "x".repeat(6000), "y.".repeat(3000), "%ZZ:9,".repeat(500));
    let r = s.stack.get("/", &[("Cookie", &junk)]);
    assert!(r.status == 200 || (400..500).contains(&r.status), "status {}", r.status);
    assert_no_trace(&r);
    if r.status == 200 {
        assert!(r.cookies().iter().any(|(k, v)| k == "vt_vid" && v != "<script>"), "a fresh visitor id replaces junk");
    }
    let r = s.stack.get("/v1/decide?placement=hero", &[("Cookie", &junk)]);
    assert!(r.status == 200 || (400..500).contains(&r.status), "status {}", r.status);
    assert_no_trace(&r);
}

fn malformed_html_is_personalized_not_broken(s: &Suite) {
    let r = s.stack.get("/malformed", &[("Cookie", "vt_vid=e2e-visitor-mal1")]);
    assert_eq!(r.status, 200);
    let html = r.text();
    // `page.type` is "other" here: the hero is not targeted, so both slots keep their content.
    assert!(html.contains("unclosed <b>bold <table><td>cell"), "{html}");
    assert!(html.contains("second <!-- comment"), "the tail is not lost: {html}");
    assert_eq!(html.matches("data-vitrine-state=\"original\"").count(), 2, "{html}");
}

// ---------- API ----------

fn decide_api_answers_json_with_explain(s: &Suite) {
    let r = s.stack.get("/v1/decide?placement=nope", &[]);
    assert_eq!(r.status, 404);
    let body = r.json();
    assert_eq!(body["error"], "unknown placement \"nope\"");
    assert!(body["placements"].as_array().unwrap().contains(&json!("hero")));
    assert_eq!(s.stack.get("/v1/decide", &[]).status, 400);
    assert_eq!(http::request(&s.stack.url, "POST", "/v1/decide?placement=hero", &[], b"{}").unwrap().status, 405);
    assert_eq!(s.stack.get("/v1/nothing-here", &[]).status, 404);

    let plain = s.stack.get("/v1/decide?placement=home-for-you&path=/", &[("Cookie", "vt_vid=e2e-visitor-api1")]).json();
    assert_eq!(plain["status"], "filled");
    assert!(plain.get("explain").is_none(), "explain only on request");
    assert_eq!(plain["items"][0]["sku"], "K300");
    let explained = s.stack.get("/v1/decide?placement=home-for-you&path=/&explain=1", &[("Cookie", "vt_vid=e2e-visitor-api1")]).json();
    assert_eq!(explained["explain"]["rule"], "placements.home-for-you.sources");
    assert_eq!(explained["explain"]["segment"], "New");
    assert_eq!(explained["items"][0]["source"], "trending");
    assert_eq!(explained["bundle"], fixture::version(1));
    assert_eq!(explained["context"]["visitor_id"], "e2e-visitor-api1");
    let cf_country = explained["context"]["request"]["country"].as_str().expect("country from request.cf");
    assert_eq!(cf_country.len(), 2, "{cf_country}");
    let hero = s.stack.get("/v1/decide?placement=hero&path=/", &[("Cookie", "vt_vid=e2e-visitor-api1"), ("X-Vitrine-Debug-Country", "DE")]).json();
    assert_eq!((hero["status"].as_str(), hero["variant"].as_str()), (Some("filled"), Some("germany")));

    // CORS: any page may read decisions; the configured headless storefront with cookies.
    let any = s.stack.get("/v1/decide?placement=hero&path=/", &[("Origin", "https://elsewhere.example")]);
    assert_eq!((any.header("access-control-allow-origin"), any.header("access-control-allow-credentials")), (Some("*"), None));
    let listed = s.stack.get("/v1/exit-offer?path=/", &[("Origin", "https://headless.example"), ("Cookie", "vt_vid=e2e-visitor-api1")]);
    assert_eq!(listed.header("access-control-allow-origin"), Some("https://headless.example"));
    assert_eq!(listed.header("access-control-allow-credentials"), Some("true"));
    let preflight = http::request(&s.stack.url, "OPTIONS", "/v1/decide?placement=hero", &[("Origin", "https://headless.example")], b"").unwrap();
    assert_eq!((preflight.status, preflight.header("access-control-allow-origin")), (204, Some("https://headless.example")));
}

/// The visitor the edge should build for the parity requests, written out by hand.
fn native_visitor(e: &Engine, traits: &Value, cart: &[(&str, u32)], country: Option<&str>, path: &str, utm_source: Option<&str>) -> Visitor {
    let page = e.page(path);
    // The page's own product, as the SDK on it has added it (`cookies::remember_viewed`).
    let recently_viewed = page.product.into_iter().collect();
    let mut interests = Interests::default();
    if page.product.is_some() {
        interests.record(&e.body().catalog, Signal::ProductView, page.product, None, NOW);
    } else if page.category.is_some() {
        interests.record(&e.body().catalog, Signal::CategoryView, None, page.category, NOW);
    }
    Visitor {
        visitor_id: "e2e-parity-0001".into(),
        traits: traits.clone(),
        request: Request {
            country: country.map(str::to_string),
            device: Device::from_user_agent("vitrine-tests"),
            referrer: None,
            utm_source: utm_source.map(str::to_string),
            utm_medium: None,
            utm_campaign: None,
            page,
        },
        cart: cart.iter().map(|&(sku, quantity)| CartLine { product: idx(sku), quantity }).collect(),
        interests,
        session: Session { page_views: 0, purchased: false, new_visitor: false },
        recently_viewed,
    }
}

fn edge_decisions_equal_the_native_engine(s: &Suite) {
    let champion: Value = serde_json::from_str(r#"{"segment":"Champions","first_name":"Jane","top_categories":["Kitchen"],"frequency":40}"#).unwrap();
    let at_risk: Value = serde_json::from_str(r#"{"segment":"At risk","top_categories":["Candles"],"frequency":6}"#).unwrap();
    let claims = |traits: &Value| {
        let payload = serde_json::to_vec(&json!({ "cid": "p1", "traits": traits, "iat": NOW })).unwrap();
        vitrine_engine::token::sign(PROFILE_SECRET.as_bytes(), &payload)
    };
    // (traits, cart, country, page path, utm_source)
    type Scenario<'a> = (Value, Vec<(&'a str, u32)>, Option<&'a str>, &'a str, Option<&'a str>);
    let scenarios: Vec<Scenario> = vec![
        (Value::Null, vec![], Some("US"), "/", None),
        (champion.clone(), vec![], Some("GB"), "/", Some("mail")),
        (at_risk.clone(), vec![("C100", 1)], Some("DE"), "/products/C100", None),
        (Value::Null, vec![("C100", 1), ("K301", 2)], Some("GB"), "/cart", None),
        (champion, vec![("K300", 1)], Some("FR"), "/category/kitchen", None),
    ];
    let mut compared = 0;
    for (traits, cart, country, path, utm) in scenarios {
        let visitor = native_visitor(&s.engine, &traits, &cart, country, path, utm);
        let mut cookie = "vt_vid=e2e-parity-0001".to_string();
        if traits != Value::Null {
            cookie.push_str(&format!("; vt_profile={}", claims(&traits)));
        }
        if !cart.is_empty() {
            cookie.push_str(&format!("; vt_cart={}", cart.iter().map(|(s, q)| format!("{s}:{q}")).collect::<Vec<_>>().join(",")));
        }
        let full_path = match utm {
            Some(u) => format!("{path}?utm_source={u}"),
            None => path.to_string(),
        };
        let mut headers = vec![("Cookie", cookie.as_str())];
        if let Some(c) = country {
            headers.push(("X-Vitrine-Debug-Country", c));
        }
        for placement in s.engine.body().rules.placements.iter().map(|p| p.id.clone()) {
            let url = format!("/v1/decide?placement={placement}&path={}&explain=1&now={NOW}", vitrine_edge_query(&full_path));
            let mut edge = s.stack.get(&url, &headers).json();
            let context = edge.as_object_mut().unwrap().remove("context").unwrap();
            edge.as_object_mut().unwrap().remove("bundle");
            edge.as_object_mut().unwrap().remove("now");
            assert_eq!(context, serde_json::to_value(&visitor).unwrap(), "context for {path} {placement}");
            let mut native = serde_json::to_value(s.engine.decide(&visitor, &placement, NOW).unwrap()).unwrap();
            // Scores are f32; serde_json's default float parsing may miss the f64 by one ulp.
            as_f32_numbers(&mut edge);
            as_f32_numbers(&mut native);
            assert_eq!(edge, native, "decision for {path} {placement}");
            compared += 1;
        }
    }
    assert_eq!(compared, 25);
}

fn as_f32_numbers(v: &mut Json) {
    match v {
        Json::Number(n) if n.is_f64() => *v = json!(n.as_f64().unwrap() as f32),
        Json::Array(a) => a.iter_mut().for_each(as_f32_numbers),
        Json::Object(o) => o.values_mut().for_each(as_f32_numbers),
        _ => {}
    }
}

fn vitrine_edge_query(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn exit_offer_depends_on_the_visitor(s: &Suite) {
    let offer = s.stack.get("/v1/exit-offer", &[("Cookie", "vt_vid=e2e-visitor-exit1")]).json();
    assert_eq!((offer["id"].as_str(), offer["code"].as_str()), (Some("welcome10"), Some("WELCOME10")));
    // The engine's one offer shape, as the SDK's `offer` listeners get it (camelCase ctaText, ctaUrl).
    let mut keys: Vec<&str> = offer.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    let mut fields: Vec<&str> = vitrine_engine::OfferDecision::FIELDS.into_iter().filter(|f| *f != "explain").collect();
    fields.sort();
    assert_eq!(keys, fields, "explain only on request");
    let cookies = become_persona(s, "at-risk");
    let offer = s.stack.get("/v1/exit-offer", &[("Cookie", &cookies)]).json();
    assert_eq!(offer["id"], "comeback15");
    let none = s.stack.get("/v1/exit-offer", &[("Cookie", &become_persona(s, "loyal"))]);
    assert_eq!(none.status, 204, "{}", none.text());
}

/// `/v1/slice`: what the SDK downloads: the bundle cut for this visitor (cookies) and page
/// (`path`): it loads as a bundle, decides this page's slot as the edge did, and is private.
fn the_sdk_downloads_a_slice_cut_for_its_visitor_and_page(s: &Suite) {
    let cookie = "vt_vid=e2e-visitor-slice1; vt_cart=C102:1";
    let r = s.stack.get("/v1/slice?path=%2Fproducts%2FC100", &[("Cookie", cookie)]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/vnd.vitrine.bundle"));
    assert_eq!(r.header("cache-control"), Some("private, no-store"), "cut for one visitor: never shared");
    assert_eq!(r.header("x-vitrine-bundle"), Some(fixture::version(1).as_str()));
    let slice = vitrine_engine::Engine::load(&r.body).expect("a slice is a bundle");
    let full = vitrine_engine::Engine::load(&fixture::bundle_bytes(1)).unwrap();
    let catalog = &slice.body().catalog;
    assert!(catalog.len() < full.body().catalog.len(), "only what this visitor's decisions read");
    for sku in ["C100", "C102"] {
        let p = catalog.get(catalog.index_of(sku).unwrap_or(u32::MAX)).unwrap_or_else(|| panic!("{sku}: the page's and the cart's products are in it"));
        assert!(!p.title().is_empty(), "{sku} keeps its full row");
    }
    let html = page(s, "/products/C100", &[("Cookie", cookie)]);
    let v = vitrine_engine::Visitor {
        visitor_id: "e2e-visitor-slice1".into(),
        request: vitrine_engine::context::Request { page: slice.page("/products/C100"), ..Default::default() },
        cart: vitrine_engine::cookies::parse_cart_cookie("C102:1").resolve(catalog),
        ..Default::default()
    };
    let d = slice.decide(&v, "pdp-pair-with", 1_700_000_000).unwrap();
    assert_eq!(d.items.iter().map(|i| i.sku.as_str()).collect::<Vec<_>>(), skus(&slot(&html, "pdp-pair-with").1), "the SDK decides as the edge did");
    assert_eq!(s.stack.get("/v1/slice?path=products", &[]).status, 400, "a path must start with /");
}

/// What a probe or an operator reads after a deploy: the worker's version (the workspace's, as
/// every binary's `--version` prints it) and the bundle that serves, never from a cache.
fn health_names_the_worker_version_and_the_serving_bundle(s: &Suite) {
    let r = s.stack.get("/v1/health", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    assert!(r.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{:?}", r.header("content-type"));
    let h = r.json();
    assert_eq!(h["ok"], true, "{h}");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"), "{h}");
    assert_eq!(h["bundle"], fixture::version(1), "{h}");
}

fn bundle_and_sdk_files_have_types_etags_and_caching(s: &Suite) {
    let v = fixture::version(1);
    let r = s.stack.get("/v1/bundle", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, fixture::bundle_bytes(1));
    assert_eq!(r.header("content-type"), Some("application/vnd.vitrine.bundle"));
    assert_eq!(r.header("etag"), Some(format!("\"{v}\"").as_str()));
    assert_eq!(r.header("cache-control"), Some("public, max-age=60, must-revalidate"));
    let r304 = s.stack.get("/v1/bundle", &[("If-None-Match", &format!("\"{v}\""))]);
    assert_eq!((r304.status, r304.body.len()), (304, 0));
    let pinned = s.stack.get(&format!("/v1/bundle/{v}"), &[]);
    assert_eq!(pinned.body, fixture::bundle_bytes(1));
    assert_eq!(pinned.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(s.stack.get(&format!("/v1/bundle/{}", "ff".repeat(16)), &[]).status, 404);
    assert_eq!(s.stack.get("/v1/bundle/..%2F..%2Fetc", &[]).status, 404);

    let loader = s.stack.get("/vitrine/sdk/vitrine.js", &[]);
    assert_eq!((loader.status, loader.text().as_str()), (200, SDK_LOADER));
    assert!(
        loader.header("content-type").unwrap().starts_with("application/javascript") || loader.header("content-type").unwrap().starts_with("text/javascript"),
        "{:?}",
        loader.header("content-type")
    );
    assert_eq!(loader.header("cache-control"), Some("public, max-age=300, must-revalidate"));
    let etag = loader.header("etag").expect("assets have ETags").to_string();
    assert_eq!(s.stack.get("/vitrine/sdk/vitrine.js", &[("If-None-Match", &etag)]).status, 304);
    let wasm = s.stack.get(SDK_HASHED, &[]);
    assert_eq!((wasm.status, wasm.body.as_slice()), (200, SDK_WASM));
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(s.stack.get("/vitrine/sdk/missing.js", &[]).status, 404);
}

fn the_picker_explains_unknown_personas(s: &Suite) {
    let r = s.stack.get("/?vitrine_as=nobody-at-all", &[]);
    assert_eq!(r.status, 404);
    assert!(r.text().contains("champions") && r.text().contains("at-risk"), "{}", r.text());
    let r = s.stack.get("/?vitrine_as=%21%21%21", &[]);
    assert_eq!(r.status, 400);
    let r = s.stack.get("/?vitrine_as=customer:12347", &[]);
    assert_eq!(r.status, 302, "{}", r.text());
    let r = s.stack.get("/?vitrine_as=new", &[("Cookie", "vt_vid=e2e-visitor-reset")]);
    assert_eq!(r.status, 302);
    assert_eq!(r.cookies().iter().filter(|(_, v)| v.is_empty()).count(), 3, "profile, visitor and cart cleared");
}

fn events_are_routed_to_the_sync_endpoint(s: &Suite) {
    let r = http::request(&s.stack.url, "POST", "/v1/events", &[("Content-Type", "application/json")], b"not json").unwrap();
    assert!((400..500).contains(&r.status), "a bad batch is refused with a reason, status {}: {}", r.status, r.text());
    assert_no_trace(&r);
}

/// A 10 MB and a 100 MB upload (declared) and a chunked one with no length, streamed slowly as
/// an attacker on a slow link would: each is refused with 413 before 1 MB has been sent, and
/// workerd's memory does not grow with what the client meant to send.
fn bodies_over_the_limit_are_refused_before_they_are_read(s: &Suite) {
    const MB: u64 = 1024 * 1024;
    let page_event = |message_id: &str| {
        let body = format!(r#"{{"type":"page","messageId":"{message_id}","anonymousId":"e2e-bodies-0001"}}"#);
        http::request(&s.stack.url, "POST", "/v1/events", &[("X-Vitrine-Client", "bodies")], body.as_bytes()).unwrap()
    };
    let warm = page_event("w");
    assert_eq!(warm.status, 200, "{}", warm.text());
    let rss_before = s.stack.workerd_rss_kib();
    let headers = [("Content-Type", "application/json"), ("X-Vitrine-Client", "bodies")];
    let cases = [
        ("10 MB declared", http::Framing::Declared(10 * MB), 10 * MB),
        ("100 MB declared", http::Framing::Declared(100 * MB), 100 * MB),
        ("10 MB chunked, no length", http::Framing::Chunked, 10 * MB),
        ("100 MB chunked, no length", http::Framing::Chunked, 100 * MB),
    ];
    let mut rss = vec![rss_before];
    for (what, framing, total) in cases {
        let up = http::slow_upload(&s.stack.url, "/v1/events", &headers, framing, total, 16 * 1024, std::time::Duration::from_millis(5))
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert_eq!(up.response.status, 413, "{what}: {}", up.response.text());
        assert!(up.sent_at_answer < MB, "{what}: {} bytes were sent before the 413", up.sent_at_answer);
        let reason = up.response.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(reason.contains("/v1/events") && reason.contains("512000-byte limit"), "{what}: {reason}");
        assert_eq!(up.response.header("access-control-allow-origin"), Some("*"), "the SDK can read why");
        assert_no_trace(&up.response);
        rss.push(s.stack.workerd_rss_kib());
        println!(
            "    {what}: {} after {:?}, {} bytes sent before it; workerd RSS {} KiB",
            up.response.status,
            up.answer_after,
            up.sent_at_answer,
            rss[rss.len() - 1]
        );
    }
    // Ten times the body costs nothing more: it is refused at the same point.
    for (small, large) in [(1, 2), (3, 4)] {
        assert!(rss[large] < rss[small] + 16 * 1024, "RSS {} KiB after {}, {} KiB after ten times more", rss[small], cases[small - 1].0, rss[large]);
    }
    // Every other body-reading route has its own, smaller limit.
    for (path, declared) in
        [("/v1/sms/inbound", MB), ("/v1/confirm?vt=x", 64 * 1024), ("/v1/unsubscribe?vt=x", 64 * 1024), ("/v1/admin/customers/17850", 64 * 1024)]
    {
        let up = http::slow_upload(&s.stack.url, path, &headers, http::Framing::Declared(declared), declared, 16 * 1024, std::time::Duration::from_millis(5))
            .unwrap();
        assert_eq!(up.response.status, 413, "{path}: {}", up.response.text());
        assert!(up.response.json()["error"].as_str().unwrap().contains("-byte limit"), "{path}");
    }
    let sms =
        http::slow_upload(&s.stack.url, "/v1/sms/inbound", &headers, http::Framing::Chunked, 10 * MB, 16 * 1024, std::time::Duration::from_millis(5)).unwrap();
    assert_eq!((sms.response.status, sms.sent_at_answer < MB), (413, true), "{} after {} bytes", sms.response.text(), sms.sent_at_answer);
    // A route that reads no body answers without waiting for one.
    let unread =
        http::slow_upload(&s.stack.url, "/v1/confirm?vt=x", &headers, http::Framing::Chunked, 10 * MB, 16 * 1024, std::time::Duration::from_millis(5)).unwrap();
    assert_eq!((unread.response.status, unread.sent_at_answer < MB), (400, true), "{} after {} bytes", unread.response.text(), unread.sent_at_answer);
    let rss_after = s.stack.workerd_rss_kib();
    println!("    workerd RSS: {rss_before} KiB before, {rss_after} KiB after (+{} KiB)", rss_after.saturating_sub(rss_before));
    assert!(rss_before > 0, "workerd's processes are found in the stack's process group");
    assert!(rss_after < rss_before + 64 * 1024, "workerd grew by {} KiB", rss_after - rss_before);
    let ok = page_event("w2");
    assert_eq!(ok.status, 200, "a batch within the limit is still taken: {}", ok.text());
}

/// Decisions from one client past `LIMIT_CLIENT` get 429 with Retry-After and the reason;
/// another client is served as before. (Every local client is 127.0.0.1: in dev mode the
/// X-Vitrine-Client header names the client.)
fn a_burst_past_the_client_limit_gets_429_and_another_client_is_unaffected(s: &Suite) {
    let decide = |client: &str| s.stack.get("/v1/decide?placement=hero&path=/", &[("X-Vitrine-Client", client)]);
    let started = std::time::Instant::now();
    // The binding counts per fixed minute: a burst that straddles one needs up to twice the limit.
    let mut served = 0;
    let refused = loop {
        let r = decide("burst-a");
        if r.status == 429 {
            break r;
        }
        assert_eq!(r.status, 200, "{}", r.text());
        served += 1;
        assert!(served <= 2 * CLIENT_LIMIT, "no 429 after {served} requests");
    };
    println!("    429 after {served} decisions in {:?}", started.elapsed());
    assert!(served >= CLIENT_LIMIT / 2, "the limit is {CLIENT_LIMIT}, refused after {served}");
    assert_eq!(refused.header("retry-after"), Some("60"));
    let reason = refused.json()["error"].as_str().unwrap().to_string();
    assert!(reason.contains("test:burst-a") && reason.contains("/v1/decide") && reason.contains("LIMIT_CLIENT"), "{reason}");
    assert_no_trace(&refused);
    assert_eq!(decide("burst-b").status, 200, "another client is unaffected");
    assert_eq!(s.stack.get("/v1/decide?placement=hero&path=/", &[]).status, 200, "and so is 127.0.0.1");
}

/// One visitor's events past `LIMIT_VISITOR`: 429 with the reason per event (the SDK sends them
/// again later); another visitor's are stored. One batch for twelve visitors stores ten.
fn a_visitors_burst_of_events_gets_429_and_a_batch_reaches_ten_objects_at_most(s: &Suite) {
    let post = |body: &str| {
        http::request(&s.stack.url, "POST", "/v1/events", &[("Content-Type", "application/json"), ("X-Vitrine-Client", "burst-events")], body.as_bytes())
            .unwrap()
    };
    let page = |visitor: &str, id: &str| format!(r#"{{"type":"page","messageId":"{id}","anonymousId":"{visitor}"}}"#);
    let mut sent = 0;
    let refused = loop {
        let r = post(&page("e2e-burst-visitor-a", &format!("m{sent}")));
        if r.status == 429 {
            break r;
        }
        assert_eq!(r.status, 200, "{}", r.text());
        sent += 1;
        assert!(sent <= 2 * VISITOR_LIMIT, "no 429 after {sent} batches");
    };
    assert_eq!(refused.header("retry-after"), Some("60"));
    let body = refused.json();
    assert_eq!(body["accepted"], 0);
    let reason = body["refused"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("a:e2e-burst-visitor-a") && reason.contains("LIMIT_VISITOR"), "{reason}");
    assert_eq!(post(&page("e2e-burst-visitor-b", "b1")).status, 200, "another visitor is unaffected");

    let batch: Vec<String> = (0..12).map(|i| page(&format!("e2e-fanout-{i:04}"), &format!("f{i}"))).collect();
    let r = post(&format!("[{}]", batch.join(",")));
    let body = r.json();
    assert_eq!((r.status, body["accepted"].as_u64()), (400, Some(10)), "{body}");
    assert_eq!(body["refused"].as_array().unwrap().iter().map(|e| e["index"].as_u64().unwrap()).collect::<Vec<_>>(), [10, 11]);
    assert!(body["refused"][0]["reason"].as_str().unwrap().contains("send this event again in another batch"), "{body}");
}

/// `openapi.json`, served as it is in the repository, says what the worker does: each
/// documented response example fits its schema, and each operation's request example, sent to
/// this worker, gets a documented status with a body that fits that status's schema. The
/// public API's examples must succeed (the other routes answer this stack, which has no admin
/// token, link secret or provider keys, with their documented refusals).
fn the_openapi_document_is_served_and_its_examples_are_true(s: &Suite) {
    let r = s.stack.get(vitrine_edge::openapi::PATH, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), vitrine_edge::openapi::DOCUMENT);
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=300, must-revalidate"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let doc = r.json();
    let resolve = |v: &Json| -> Json {
        match v["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
            Some(pointer) => doc.pointer(&format!("/{pointer}")).unwrap_or_else(|| panic!("no {pointer}")).clone(),
            None => v.clone(),
        }
    };
    // A schema of the document, with its components beside it so `$ref`s resolve.
    let validator = |schema: &Json| {
        let mut root = schema.clone();
        if let Some(o) = root.as_object_mut() {
            o.insert("components".into(), doc["components"].clone());
        } else {
            root = json!({ "allOf": [schema], "components": doc["components"] });
        }
        jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("schema {schema}: {e}"))
    };
    let fits = |schema: &Json, value: &Json| -> Vec<String> { validator(schema).iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect() };
    let must_succeed = [
        "decide",
        "decidePreflight",
        "exitOffer",
        "exitOfferPreflight",
        "slice",
        "bundle",
        "health",
        "openapi",
        "events",
        "eventsPreflight",
        "visitorMessages",
        "click",
        "sendgridEvents",
    ];
    let mut sent = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "options"] {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"].as_str().unwrap();
            let responses: Vec<(String, Json)> = op["responses"].as_object().unwrap().iter().map(|(status, r)| (status.clone(), resolve(r))).collect();
            for (status, response) in &responses {
                if let Some(json) = response["content"].get("application/json") {
                    if let Some(example) = json.get("example") {
                        assert_eq!(fits(&json["schema"], example), Vec::<String>::new(), "{id} {status}: the documented example");
                    }
                }
            }
            // The request its examples make.
            let mut path = template.clone();
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            let mut headers: Vec<(String, String)> = vec![("X-Vitrine-Client".into(), "openapi-examples".into())];
            for p in op["parameters"].as_array().into_iter().flatten() {
                let (name, example) = (p["name"].as_str().unwrap(), p["example"].as_str());
                match (p["in"].as_str().unwrap(), example) {
                    ("path", Some(e)) => path = path.replace(&format!("{{{name}}}"), e),
                    ("query", Some(e)) => {
                        query.append_pair(name, e);
                    }
                    ("header", Some(e)) => headers.push((name.into(), e.into())),
                    ("path", None) => panic!("{id}: path parameter {name} without an example"),
                    _ => {}
                }
            }
            let query = query.finish();
            let target = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
            let mut body = Vec::new();
            if let Some((media, content)) = op["requestBody"]["content"].as_object().and_then(|c| c.iter().next()) {
                let example = content.get("example").unwrap_or_else(|| panic!("{id}: a request body without an example"));
                body = match media.as_str() {
                    "application/json" => serde_json::to_vec(example).unwrap(),
                    "application/x-www-form-urlencoded" => {
                        let mut form = url::form_urlencoded::Serializer::new(String::new());
                        for (k, v) in example.as_object().unwrap() {
                            form.append_pair(k, v.as_str().unwrap());
                        }
                        form.finish().into_bytes()
                    }
                    _ => example.as_str().unwrap().as_bytes().to_vec(),
                };
                headers.push(("Content-Type".into(), media.clone()));
            }
            let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let r = http::request(&s.stack.url, &method.to_uppercase(), &target, &header_refs, &body).unwrap();
            let documented = responses.iter().find(|(status, _)| status.as_str() == r.status.to_string()).map(|(_, d)| d);
            let Some(documented) = documented else { panic!("{id}: {} {target} answered {}, not documented: {}", method.to_uppercase(), r.status, r.text()) };
            if must_succeed.contains(&id) {
                assert!((200..400).contains(&r.status), "{id}: {} {target} answered {}: {}", method.to_uppercase(), r.status, r.text());
            }
            match documented["content"].as_object().and_then(|c| c.iter().next()) {
                Some((media, content)) if media == "application/json" => {
                    assert!(r.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{id}: {:?}", r.header("content-type"));
                    assert_eq!(fits(&content["schema"], &r.json()), Vec::<String>::new(), "{id} {}: {}", r.status, r.text());
                }
                Some((media, _)) => {
                    let got = r.header("content-type").unwrap_or("").to_ascii_lowercase();
                    assert!(got.starts_with(media.as_str()), "{id} {}: content-type {got:?}, documented {media}", r.status);
                }
                None => {}
            }
            sent.push(id.to_string());
        }
    }
    assert!(must_succeed.iter().all(|id| sent.iter().any(|s| s == id)), "{sent:?}");
}

fn origin_down_gives_a_502_page_and_the_api_keeps_working(s: &Suite) {
    s.stack.origin.stop();
    let r = s.stack.get("/", &[("Cookie", "vt_vid=e2e-visitor-down1")]);
    assert_eq!(r.status, 502);
    assert!(r.text().contains("Store unavailable"), "{}", r.text());
    assert_no_trace(&r);
    let d = s.stack.get("/v1/decide?placement=hero", &[]);
    assert_eq!(d.status, 200, "decisions do not need the origin");
    let _: Json = d.json();
}
