//! The edge remembers product pages in `vt_seen` itself, by the rule the SDK uses
//! (`cookies::remember_viewed`): the next page's recently viewed carousel is right also where
//! the SDK never ran.

use serde_json::json;
use vitrine_edge::context::{identify, seen_cookie, visitor, RequestInfo};
mod common;

use vitrine_engine::Engine;

const NOW: i64 = 1_700_000_000;

fn engine() -> Engine {
    let rules = json!({
        "pages": [{ "pattern": "/", "page": "home" }, { "pattern": "/p/:sku", "page": "product" }],
        "placements": [{ "id": "recently-viewed", "sources": [{ "recommender": "recently_viewed" }], "max_items": 6 }],
        "measurement": { "holdout": 0 },
    });
    common::engine(&["A 2", "A1", "B3"], Default::default(), rules)
}

/// What a request for `path` with `cookie` sets as `vt_seen`, if anything.
fn set_seen(e: &Engine, path: &str, cookie: &str) -> Option<String> {
    let info = RequestInfo { cookie: Some(cookie.into()), ..RequestInfo::default() };
    let facts = info.facts(path, "");
    seen_cookie(e, &facts).map(|c| c.to_string())
}

#[test]
fn product_pages_are_remembered_most_recent_first_and_read_back_on_the_next_page() {
    let e = engine();
    assert_eq!(set_seen(&e, "/p/A1", "vt_vid=v-1").as_deref(), Some("vt_seen=A1; Path=/; Max-Age=31536000; SameSite=Lax"));
    let second = set_seen(&e, "/p/A%202", "vt_vid=v-1; vt_seen=A1").unwrap();
    assert!(second.starts_with("vt_seen=A%202,A1;"), "{second}");
    // Viewed again: first once more; already first: nothing to write.
    assert!(set_seen(&e, "/p/A1", "vt_seen=A%202,A1").unwrap().starts_with("vt_seen=A1,A%202;"));
    assert_eq!(set_seen(&e, "/p/A1", "vt_seen=A1,A%202"), None);
    // Not a product page, or a product the catalog does not have: nothing.
    assert_eq!(set_seen(&e, "/", "vt_seen=A1"), None);
    assert_eq!(set_seen(&e, "/p/NOPE", "vt_seen=A1"), None);

    // The next page reads what this one wrote.
    let info = RequestInfo { cookie: Some("vt_vid=v-1; vt_seen=A%202,A1".into()), ..RequestInfo::default() };
    let facts = info.facts("/", "");
    let v = visitor(&e, &facts, &identify(&facts, None, || "fresh".into()), NOW);
    let d = e.decide(&v, "recently-viewed", NOW).unwrap();
    assert_eq!(d.items.iter().map(|i| i.sku.as_str()).collect::<Vec<_>>(), ["A 2", "A1"]);
}

#[test]
fn no_cookie_without_consent_where_the_site_requires_it() {
    let e = engine();
    let info = RequestInfo { cookie: Some("vt_vid=v-2".into()), require_consent: true, ..RequestInfo::default() };
    let facts = info.facts("/p/A1", "");
    let mut id = identify(&facts, None, || "fresh".into());
    id.set_cookie(seen_cookie(&e, &facts).expect("the list changed"));
    assert!(id.set_cookies.iter().all(|c| !c.to_string().starts_with("vt_seen=")), "{:?}", id.set_cookies);
}
