//! XSS: the payloads of `tests/xss/payloads.txt` (written from the OWASP XSS filter-evasion
//! cheat sheet's categories) go into every place a store's data or a visitor's request reaches
//! a rendering: catalog titles, URLs and images, offer texts, the store's name, traits, UTM
//! values, the referrer, event properties of cart items. Every placement, the exit offer and
//! every journey email is rendered and parsed with an HTML5 parser (html5ever, via scraper):
//! no `<script>`, no element the benign render did not have, no `on*` attribute, and every
//! link http(s) or relative. Native, no stack: `cargo test -p vitrine-tests --test xss`.

use std::collections::BTreeSet;

use scraper::{Html, Node};
use serde_json::json;
use vitrine_engine::bundle::{self, BundleBody, Header};
use vitrine_engine::context::{CartLine, Request};
use vitrine_engine::journey::{self, Effect, Messaging, Runner, VisitorState};
use vitrine_engine::safe_url;
use vitrine_engine::{Engine, Value, Visitor};
use vitrine_tests::fixture;
use vitrine_tests::stack::repo_root;

const NOW: i64 = 1_700_000_000;
/// Attributes a browser follows or loads.
const URL_ATTRIBUTES: [&str; 9] = ["href", "src", "action", "formaction", "background", "poster", "data", "xlink:href", "lowsrc"];

fn payloads() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("tests/xss/payloads.txt")).expect("tests/xss/payloads.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| serde_json::from_str::<String>(l).unwrap_or_else(|e| panic!("payloads.txt: {l}: {e}")))
        .collect()
}

/// What a browser makes of a link in an attribute (http(s) links stay, anything else is unsafe).
fn browser_scheme(link: &str) -> Option<String> {
    url::Url::parse("https://shop.example/").unwrap().join(link).ok().map(|u| u.scheme().to_string())
}

/// The fixture store with `p` in every text field a store's export or config fills, plus the
/// journeys of tests/journeys/e2e.toml.
fn store_with(p: &str) -> Engine {
    let table: toml::Table = std::fs::read_to_string(repo_root().join("tests/journeys/e2e.toml")).unwrap().parse().unwrap();
    let journeys: Vec<journey::Journey> = table["journeys"].clone().try_into().unwrap();
    let messaging: Messaging = table["messaging"].clone().try_into().unwrap();
    let offers: Vec<vitrine_engine::rules::Offer> = table["offers"].clone().try_into().unwrap();
    let header = Header { format_version: bundle::FORMAT_VERSION, build_id: [9; 16], created_at: NOW };
    let mut body: BundleBody = fixture::body();
    body.store.name = format!("Shop {p}");
    let mut products: Vec<bundle::Product> = body.catalog.iter().map(|p| p.to_product()).collect();
    for (i, product) in products.iter_mut().enumerate() {
        if i % 2 == 0 {
            product.title = p.to_string();
            product.url = p.to_string();
            product.image = p.to_string();
        }
    }
    body.catalog = bundle::Catalog::with_slugs(&products, body.catalog.categories.clone(), body.catalog.category_slugs.clone());
    body.rules.offers.extend(offers);
    for o in &mut body.rules.offers {
        o.headline = format!("Offer {p}");
        o.body = p.to_string();
        o.code = p.to_string();
        o.cta_text = p.to_string();
        o.cta_url = "{{traits.first_name}}".into();
    }
    for placement in &mut body.rules.placements {
        placement.title = p.to_string();
    }
    body.rules.journeys = journeys;
    body.rules.messaging = messaging;
    Engine::load(&bundle::encode(&header, &body)).unwrap_or_else(|e| panic!("the store with {p:?} loads: {e}"))
}

fn visitor_with(engine: &Engine, p: &str, path: &str) -> Visitor {
    let mut traits = Value::object();
    traits.set("first_name", p).set("segment", "Champions").set("last_name", p);
    let first: vitrine_engine::ProductIdx = 0;
    Visitor {
        visitor_id: "xss-visitor".into(),
        traits,
        request: Request {
            country: Some("GB".into()),
            referrer: Some(p.to_string()),
            utm_source: Some(p.to_string()),
            utm_medium: Some(p.to_string()),
            utm_campaign: Some(p.to_string()),
            page: engine.page(path),
            ..Request::default()
        },
        cart: vec![CartLine { product: first, quantity: 2 }],
        ..Visitor::default()
    }
}

/// Every page-side rendering for `p`: each placement on a few pages, and the exit offer.
fn page_renders(engine: &Engine, p: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in ["/", "/cart", engine.body().catalog.get(0).unwrap().url(), &format!("/search?q={p}")] {
        let v = visitor_with(engine, p, path);
        for placement in &engine.body().rules.placements {
            if let Ok(d) = engine.decide(&v, &placement.id, NOW) {
                out.push((format!("{} on {path:?}", placement.id), d.html));
            }
        }
        if let Some(o) = engine.exit_offer(&v, NOW) {
            out.push((format!("exit offer on {path:?}"), o.html));
        }
    }
    out
}

/// Every journey email for a visitor whose events carry `p` (a cart item the catalog does not
/// know, with the visitor's own name, URL and image), as the runner composes them.
fn email_renders(engine: &Engine, p: &str) -> Vec<(String, String)> {
    let runner = Runner::new(engine.body(), b"xss-link-secret");
    let mut state = VisitorState::new("a:xss");
    let events = [
        json!({"type":"consent","messageId":"m1","anonymousId":"xss","channels":{"all":true,"sms":true}}),
        json!({"type":"identify","messageId":"m2","anonymousId":"xss","traits":{"first_name":p,"email":"xss@example.com","phone":"+447400900000"}}),
        json!({"type":"track","event":"Product Added","messageId":"m3","anonymousId":"xss","properties":{"sku":"UNKNOWN-1","name":p,"url":p,"image_url":p,"price":1.5,"quantity":1}}),
        json!({"type":"track","event":"Product Added","messageId":"m4","anonymousId":"xss","properties":{"sku":engine.body().catalog.get(0).unwrap().sku(),"quantity":1}}),
    ];
    let mut effects = Vec::new();
    for e in &events {
        let text = e.to_string();
        let event = journey::parse(&serde_json::from_str(&text).unwrap(), text.len()).unwrap_or_else(|r| panic!("{r}"));
        effects.extend(runner.handle(&mut state, &event, NOW));
    }
    // Through every step of every journey (profile: confirmed by the store, as with proof).
    state.profile.email_verified = true;
    state.profile.phone_verified = true;
    for hour in 1..=24 * 8 {
        effects.extend(runner.on_alarm(&mut state, NOW + hour * 3600));
    }
    let mut out = Vec::new();
    for fx in effects {
        if let Effect::Send(m) = fx {
            for link in [&m.link, &m.unsubscribe, &m.image] {
                assert!(link.is_empty() || matches!(browser_scheme(link).as_deref(), Some("http" | "https")), "{p:?}: message link {link:?}");
            }
            if !m.html.is_empty() {
                out.push((format!("{} step {} email", m.journey, m.step), m.html.clone()));
            }
        }
    }
    out
}

/// Element names, `on*` attributes and unsafe links in `html` (a fragment, or a document).
fn inspect(html: &str) -> (BTreeSet<String>, Vec<String>) {
    let doc = if html.starts_with("<!doctype") { Html::parse_document(html) } else { Html::parse_fragment(html) };
    let mut names = BTreeSet::new();
    let mut bad = Vec::new();
    for node in doc.tree.nodes() {
        let Node::Element(e) = node.value() else { continue };
        names.insert(e.name().to_string());
        for (attr, value) in e.attrs() {
            if attr.to_ascii_lowercase().starts_with("on") {
                bad.push(format!("<{} {attr}=…>", e.name()));
            }
            if URL_ATTRIBUTES.contains(&attr) && !matches!(browser_scheme(value).as_deref(), Some("http" | "https")) {
                bad.push(format!("<{} {attr}={value:?}>", e.name()));
            }
        }
    }
    (names, bad)
}

#[test]
fn hostile_text_anywhere_renders_as_text() {
    let payloads = payloads();
    assert!(payloads.len() >= 150, "the corpus has {} payloads", payloads.len());
    let benign_engine = store_with("benign");
    let benign: Vec<(String, String)> = page_renders(&benign_engine, "benign").into_iter().chain(email_renders(&benign_engine, "benign")).collect();
    assert!(benign.iter().any(|(what, _)| what.contains("email")), "the journeys send emails: {:?}", benign.iter().map(|b| &b.0).collect::<Vec<_>>());
    let allowed: BTreeSet<String> = benign.iter().flat_map(|(_, html)| inspect(html).0).collect();
    assert!(!allowed.contains("script"));

    let mut renders = 0;
    let mut failures = Vec::new();
    for p in &payloads {
        let engine = store_with(p);
        for (what, html) in page_renders(&engine, p).into_iter().chain(email_renders(&engine, p)) {
            renders += 1;
            let (names, bad) = inspect(&html);
            let new: Vec<&String> = names.iter().filter(|n| !allowed.contains(*n)).collect();
            if !new.is_empty() || !bad.is_empty() {
                failures.push(format!("{p:?} in {what}: new elements {new:?}, {bad:?}"));
            }
        }
    }
    println!("xss: {} payloads, {renders} renders parsed, {} failures", payloads.len(), failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The engine's `safe_url` (hand-written for the SDK's byte budget) agrees with the WHATWG
/// parser (the `url` crate) on every payload and its variants: what it keeps a browser would
/// open as http(s), what it drops a browser would not.
#[test]
fn safe_url_agrees_with_the_whatwg_parser() {
    let mut inputs = payloads();
    for p in payloads() {
        inputs.push(format!(" \t{p}"));
        inputs.push(p.replace(':', "\t:"));
        inputs.push(p.to_ascii_uppercase());
    }
    inputs
        .extend(["/p/1", "https://a.example/", "//b.example/x", "HtTpS://c.example", "ftp://d.example/", "mailto:x@example.com", "tel:+44"].map(String::from));
    let mut checked = 0;
    for s in &inputs {
        let Some(scheme) = browser_scheme(s) else { continue };
        checked += 1;
        let kept = safe_url(s) == s.as_str();
        assert_eq!(kept, matches!(scheme.as_str(), "http" | "https"), "{s:?}: the browser reads scheme {scheme:?}");
    }
    println!("safe_url: {checked} URLs agree with the url crate");
}
