//! Template rendering (engine `render.rs`) as the engine runs it: a placement's slot (its
//! template, the item template per recommended product, its title), a variant's HTML, and an
//! offer (`Engine::render_offer`), with hostile values everywhere a visitor or a store export
//! puts text: traits, page path, UTM, referrer, country; product titles, URLs and images; the
//! store's name and currency symbol.
//!
//! Input: parts cut at NUL bytes: [slot template, item template, offer headline, offer code,
//! values…]. Templates are the staff's (trusted): bytes 1 to 15 stand for the tags in `TAGS`,
//! braces are dropped, the rest is kept; the first part is also used as it is (no-panic only).
//!
//! Invariant: values never add markup. Each output is rendered twice, with the hostile values
//! and with the same values defanged (`<>"'` → `&`: same lengths, same paths through the
//! renderer), and both must hold the same count of each of `<>"'` and the same tags. An offer's
//! HTML holds exactly the engine's offer template's tags.
//! An `href`/`src` a browser would read as a script URL is a crash
//! too (`java\tscript:` and friends, fixed in `render::safe_url`: see RELIABILITY.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use vitrine_engine::bundle::{Bundle, Catalog, Product};
use vitrine_engine::rules::{Offer, Placement};
use vitrine_engine::{bundle, Engine, Explain, Value, Visitor};
use vitrine_fuzz::{defang, defanged, markup_counts, parts, tags, FIXTURE_BUNDLE, NOW};

/// What template bytes 1..=15 stand for.
const TAGS: [&str; 15] = [
    "{{title}}",
    "{{{items}}}",
    "{{traits.first_name|friend}}",
    "{{first_name}}",
    "{{segment}}",
    "{{page.path}}",
    "{{utm.source}}",
    "{{store.name}}",
    "{{referrer}}",
    "{{traits.nick|<b>you</b>}}",
    "{{url}}",
    "{{image}}",
    "{{price}}",
    "{{sku}}",
    "{{segments}}",
];

fn template(spec: &str) -> String {
    let mut out = String::with_capacity(spec.len() + 32);
    for c in spec.chars() {
        match c as u32 {
            1..=15 => out.push_str(TAGS[c as usize - 1]),
            _ if c == '{' || c == '}' => {}
            _ => out.push(c),
        }
    }
    out
}

/// The fixture bundle with three fuzz placements, its texts set by `text` (hostile or defanged).
fn engine(slot: &str, item: &str, raw: &str, text: &dyn Fn(usize) -> String) -> Option<Engine> {
    let Bundle { header, mut body } = bundle::decode(FIXTURE_BUNDLE).expect("the fixture decodes");
    let products: Vec<_> = body
        .catalog
        .iter()
        .enumerate()
        .map(|(i, p)| Product { title: text(3 * i), url: text(3 * i + 1), image: text(3 * i + 2), ..p.to_product() })
        .collect();
    let catalog = &body.catalog;
    body.catalog = Catalog::with_slugs(&products, catalog.categories.clone(), catalog.category_slugs.clone());
    body.store.name = text(100);
    body.store.currency_symbol = text(101);
    // A store's own item template must name its product (`Rules::check`): the fuzzed markup
    // goes inside an element that does, so the check still lets it reach the renderer.
    let named = |t: &str| if t.is_empty() { String::new() } else { format!("<li data-sku=\"{{{{sku}}}}\">{t}</li>") };
    let (item, raw_item) = (named(item), named(raw));
    let placements: Vec<Placement> = serde_json::from_value(json!([
        { "id": "fuzz-slot", "title": "For {{first_name|you}}", "max_items": 4, "sources": [{ "recommender": "popular" }],
          "template": slot, "item_template": item },
        { "id": "fuzz-variant", "variants": [{ "name": "v", "html": slot }] },
        { "id": "fuzz-raw", "variants": [{ "name": "v", "html": raw }], "template": raw, "item_template": raw_item },
    ]))
    .expect("fuzz placements");
    body.rules.placements.extend(placements);
    Engine::from_bundle(Bundle { header, body }).ok()
}

fn visitor(engine: &Engine, text: &dyn Fn(usize) -> String) -> Visitor {
    let mut traits = Value::object();
    traits.set("first_name", text(200)).set("segment", text(201)).set("nick", text(202));
    let mut v = Visitor { visitor_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(), traits, ..Visitor::default() };
    v.request.page = engine.page("/");
    v.request.page.path = text(203);
    v.request.utm_source = Some(text(204));
    v.request.referrer = Some(text(205));
    v.request.country = Some(text(206));
    v
}

/// Script URLs as a browser reads an attribute: entities decoded, tabs and newlines dropped,
/// leading controls and spaces skipped, case folded.
fn script_urls(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let value = &rest[..rest.find('"').unwrap_or(rest.len())];
            let decoded = value.replace("&#9;", "\t").replace("&#10;", "\n").replace("&#13;", "\r").replace("&amp;", "&");
            let url: String = decoded.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
            let url = url.trim_start_matches(|c: char| c <= ' ').to_ascii_lowercase();
            if ["javascript:", "vbscript:", "data:text/html"].iter().any(|s| url.starts_with(s)) {
                out.push(value.to_string());
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let p = parts(data, 5);
    let values: Vec<&str> = p[4..].iter().map(String::as_str).collect();
    let hostile = |i: usize| values[i % values.len()].to_string();
    let benign = |i: usize| defang(&hostile(i));
    let (slot, item) = (template(&p[0]), template(&p[1]));

    let (Some(he), Some(be)) = (engine(&slot, &item, &p[0], &hostile), engine(&slot, &item, &p[0], &benign)) else { return };
    let (hv, bv) = (visitor(&he, &hostile), visitor(&be, &benign));
    for id in ["fuzz-slot", "fuzz-variant", "fuzz-raw"] {
        let (Ok(h), Ok(b)) = (he.decide(&hv, id, NOW), be.decide(&bv, id, NOW)) else { continue };
        if id == "fuzz-raw" {
            continue; // raw templates: rendering must only not panic
        }
        assert_eq!((h.status, h.items.len()), (b.status, b.items.len()), "{id}: hostile values changed the decision");
        assert_eq!(markup_counts(&h.html), markup_counts(&b.html), "{id}: values added markup\nhostile: {}\nbenign:  {}", h.html, b.html);
        assert_eq!(tags(&h.html), tags(&b.html), "{id}: values added tags\nhostile: {}", h.html);
        assert_eq!(markup_counts(&h.title), markup_counts(&b.title), "{id}: values added markup to the title: {}", h.title);
        assert!(script_urls(&h.html).is_empty(), "{id}: a script URL in {}", h.html);
    }

    // An offer: the staff's texts and the visitor's values are all escaped into its template.
    let offer = |text: &dyn Fn(usize) -> String| Offer {
        id: "fuzz".into(),
        scenario: String::new(),
        when: Value::object(),
        kind: "percent_off".into(),
        value: 10.0,
        code: p[3].clone(),
        headline: template(&p[2]),
        body: slot.clone(),
        cta_text: text(300),
        cta_url: text(301),
        capture: Default::default(),
    };
    let h = he.render_offer(&offer(&hostile), he.attributes(&hv), Explain::default());
    let b = be.render_offer(&offer(&benign), defanged(&he.attributes(&hv)), Explain::default());
    assert_eq!(markup_counts(&h.html), markup_counts(&b.html), "offer: values added markup\n{}", h.html);
    let want: &[&str] =
        if p[3].is_empty() { &["h2", "/h2", "p", "/p", "a", "/a"] } else { &["h2", "/h2", "p", "/p", "p", "strong", "/strong", "/p", "a", "/a"] };
    assert_eq!(tags(&h.html), want, "offer: the template's tags only\n{}", h.html);
    assert!(script_urls(&h.html).is_empty(), "offer: a script URL in {}", h.html);
});
