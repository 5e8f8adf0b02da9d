//! Recently viewed across hosts: the SDK's visit remembers the product pages it sees (its
//! stored profile) and writes them to `vt_seen`; the edge, reading the cookies the SDK wrote,
//! decides the next page's `recently_viewed` and `viewed_together` / `bought_after_viewing`
//! placements as the SDK on that page does, and its explain names the recommenders. The page's
//! own product is never recommended back to it.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use vitrine_browser_sdk::visit::{Effect, Env, PageFacts, Start, Visit};
use vitrine_edge::context::{self, RequestInfo};
use vitrine_engine::{Decision, Engine};

const NOW: i64 = common::NOW;

fn env() -> Env {
    fn new_id() -> String {
        "00000000-0000-4000-8000-000000000001".into()
    }
    Env { parse_json: |t| serde_json::from_str(t).ok(), to_json: |v| serde_json::to_string(v).unwrap(), new_id }
}

fn page(path: &str) -> PageFacts {
    PageFacts { path: path.into(), url: format!("https://shop.example{path}"), ..PageFacts::default() }
}

/// The browser's cookie jar: what the SDK's effects set (max-age 0 deletes).
#[derive(Default)]
struct Jar(BTreeMap<&'static str, String>);

impl Jar {
    fn take(&mut self, fx: &[Effect]) {
        for e in fx {
            if let Effect::SetCookie(name, value, age) = e {
                if *age == Some(0) {
                    self.0.remove(name);
                } else {
                    self.0.insert(name, value.clone());
                }
            }
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// The edge's decision for a request to `path` with this Cookie header.
fn at_edge(engine: &Engine, cookie: &str, path: &str, placement: &str) -> Decision {
    let info = RequestInfo { path: path.into(), cookie: Some(cookie.into()), ..RequestInfo::default() };
    let facts = info.facts(path, "");
    let id = context::identify(&facts, None, || "fresh-visitor-0001".into());
    let visitor = context::visitor(engine, &facts, &id, NOW);
    engine.decide(&visitor, placement, NOW).unwrap()
}

fn skus(d: &Decision) -> Vec<&str> {
    d.items.iter().map(|i| i.sku.as_str()).collect()
}

#[test]
fn the_edge_decides_the_sdks_recently_viewed_and_viewed_together_alike() {
    let engine = || Engine::load(&common::bundle_bytes()).unwrap();
    let edge = engine();
    let mut jar = Jar::default();
    let mut visit: Option<Visit> = None;
    let mut recent_on = BTreeMap::new();
    for (n, path) in ["/products/K2", "/products/C1", "/products/G1", "/products/K2", "/"].into_iter().enumerate() {
        let now = (NOW + 60 * n as i64) as f64 * 1000.0;
        // The edge first: it serves the page with the cookies the SDK wrote on earlier pages.
        let cookie = jar.header();
        let edge_decisions: Vec<Decision> = ["recently-viewed", "viewed-together"].iter().map(|p| at_edge(&edge, &cookie, path, p)).collect();
        // Then the SDK on that page, from its own storage.
        let v = match visit.as_mut() {
            None => visit.insert(Visit::start(engine(), Start { cookies: cookie.clone(), ..Start::default() }, page(path), env(), now)),
            Some(v) => {
                v.page(page(path), now);
                v
            }
        };
        jar.take(&v.effects());
        for (placement, at_edge) in ["recently-viewed", "viewed-together"].into_iter().zip(&edge_decisions) {
            let in_browser = v.decide(placement, now).unwrap();
            assert_eq!(skus(&in_browser), skus(at_edge), "{placement} on {path}: the SDK decides as the edge");
            assert_eq!(in_browser.explain, at_edge.explain, "{placement} on {path}: explained alike");
            if let Some(sku) = path.strip_prefix("/products/") {
                assert!(!skus(at_edge).contains(&sku), "{placement} on {path}: never the page's own product");
            }
        }
        recent_on.insert(path, edge_decisions.into_iter().next().unwrap());
    }
    let recent = |path: &str| skus(&recent_on[path]).join(",");
    assert_eq!(recent("/products/K2"), "G1,C1", "the second visit to K2: the others, most recent first");
    assert_eq!(recent("/products/G1"), "C1,K2");
    assert_eq!(recent("/"), "K2,G1,C1", "at home: every product seen, the latest first");
    let home = &recent_on["/"];
    assert!(home.items.iter().all(|i| i.source == "recently_viewed"));
    assert_eq!(home.explain.sources.iter().map(|s| (s.recommender, s.candidates)).collect::<Vec<_>>(), [("recently_viewed", 3)]);

    // viewed together at home: seeded by the recently viewed (no page product), explained.
    let together = at_edge(&edge, &jar.header(), "/", "viewed-together");
    let offered: Vec<(&str, u32)> = together.explain.sources.iter().map(|s| (s.recommender, s.candidates)).collect();
    // K2, C1, G1 viewed: their co-viewed K4, G1, C3, G4, G3 (distinct), and bought after K2, C1, G1.
    assert_eq!(offered, [("viewed_together", 5), ("bought_after_viewing", 3)]);
    assert!(together.items.iter().any(|i| i.source == "viewed_together"), "{:?}", skus(&together));
    // Without the cookie the edge knows nothing of them: the list is what the SDK shared.
    assert!(at_edge(&edge, "vt_vid=fresh-visitor-0001", "/", "recently-viewed").items.is_empty());
}
