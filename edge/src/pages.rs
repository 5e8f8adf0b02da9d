//! Which origin responses get personalized, and what each slot gets.

use vitrine_engine::RuleInput;
use vitrine_engine::{Decision, Engine, Visitor};

use crate::rewrite::{is_rewritable_html, SlotOutcome};

/// Only complete HTML documents fetched with GET: everything else (assets, redirects, errors,
/// downloads, HEAD, form posts) streams through untouched.
pub fn should_personalize(method_is_get: bool, status: u16, content_type: Option<&str>, content_disposition: Option<&str>) -> bool {
    method_is_get
        && status == 200
        && content_type.is_some_and(is_rewritable_html)
        && !content_disposition.is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("attachment"))
}

/// A page view's slots, decided before its body streams: every placement of the bundle, for
/// this visitor and `now`, so that the rewrite only looks each slot element up (the worker's
/// element handlers then run in the runtime's own language, without a call into wasm per
/// element). A placement not on this page costs its decision and nothing else: most are
/// cheap (a `when` on `page.type` fails at once), and a decision is pure, so deciding one the
/// page turns out not to have changes nothing. What a slot gets is the engine's one rule,
/// `Decision::slot_html` (the SDK's too): its HTML when it fills the slot, the page's own
/// content when decided otherwise; a placement the bundle does not have is left alone.
pub struct PageDecisions {
    decided: Vec<(SlotOutcome, Decision)>,
}

impl PageDecisions {
    /// `input` is the visitor's `Engine::rule_input`, built once for the page.
    pub fn decide(engine: &Engine, visitor: &Visitor, input: &RuleInput, now: i64) -> PageDecisions {
        let decided = engine
            .body()
            .rules
            .placements
            .iter()
            .filter_map(|p| engine.decide_with(visitor, input, &p.id, now).ok())
            .map(|d| (d.slot_html().map_or(SlotOutcome::Keep, |html| SlotOutcome::Fill(html.into())), d))
            .collect();
        PageDecisions { decided }
    }

    /// What the slot of `placement` gets; `None` for a placement the bundle does not have.
    pub fn outcome(&self, placement: &str) -> Option<&SlotOutcome> {
        self.find(placement).map(|(outcome, _)| outcome)
    }

    /// Every placement and what its slots get.
    pub fn outcomes(&self) -> impl Iterator<Item = (&str, &SlotOutcome)> {
        self.decided.iter().map(|(outcome, d)| (d.placement.as_str(), outcome))
    }

    /// What each slot gets, for the worker's JavaScript entry (`slotMap` in
    /// edge-worker/js/worker.mjs): JSON entries `[[placement, [[attribute, value], …], fills],
    /// …]`, and apart from them the inner HTML of each slot that `fills`, in that order. Apart,
    /// because inside the JSON every byte of the HTML was escaped here and unescaped again by
    /// `JSON.parse`, a seventh of a page's work (BENCHMARKS.md, "Edge worker"); as strings they
    /// cross as they are.
    pub fn for_entry(&self) -> (String, Vec<String>) {
        let mut html = Vec::new();
        let entries: Vec<_> = self
            .outcomes()
            .map(|(placement, outcome)| {
                let fills = outcome.inner_html().inspect(|h| html.push(h.to_string())).is_some();
                (placement, outcome.marks(), fills)
            })
            .collect();
        // Serialized from the tuples, not through a `serde_json::Value` tree: no map per entry.
        (serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into()), html)
    }

    /// The decisions of the slots the page really had, in document order (a placement once per
    /// slot element), for its measurement records (`measure::page_records`). Unknown
    /// placements are skipped, as the rewrite skipped them.
    pub fn of_slots<'a>(&self, placements: impl IntoIterator<Item = &'a str>) -> Vec<Decision> {
        placements.into_iter().filter_map(|p| self.find(p.trim())).map(|(_, d)| d.clone()).collect()
    }

    fn find(&self, placement: &str) -> Option<&(SlotOutcome, Decision)> {
        self.decided.iter().find(|(_, d)| d.placement == placement)
    }
}

/// Whether a request is a browser loading a page (`Sec-Fetch-Dest: document` or `iframe`;
/// without that header, an `Accept` naming HTML), as opposed to the images, scripts and API
/// calls a store also serves through the worker. The worker's hot path decides such a page
/// while the origin answers; for anything else, decisions would mostly be thrown away.
pub fn is_page_load(accept: Option<&str>, fetch_dest: Option<&str>) -> bool {
    match fetch_dest {
        Some(dest) => dest.eq_ignore_ascii_case("document") || dest.eq_ignore_ascii_case("iframe"),
        None => accept.is_some_and(|a| a.to_ascii_lowercase().contains("text/html")),
    }
}

/// The request headers [`is_page_load`] reads, in its order.
pub const PAGE_LOAD_HEADERS: [&str; 2] = ["accept", "sec-fetch-dest"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_loads_are_told_from_images_and_api_calls() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
        assert!(is_page_load(Some(browser), Some("document")));
        assert!(is_page_load(Some(browser), None), "an older browser: no Sec-Fetch-Dest");
        assert!(is_page_load(Some("TEXT/HTML"), None));
        assert!(!is_page_load(Some("image/avif,image/webp,*/*"), Some("image")));
        assert!(!is_page_load(Some(browser), Some("script")), "the header says what the request is for");
        assert!(!is_page_load(Some("*/*"), None), "curl, fetch(): not a page load");
        assert!(!is_page_load(None, None));
    }

    #[test]
    fn only_full_html_gets_rewritten() {
        assert!(should_personalize(true, 200, Some("text/html; charset=utf-8"), None));
        assert!(!should_personalize(false, 200, Some("text/html"), None));
        assert!(!should_personalize(true, 404, Some("text/html"), None));
        assert!(!should_personalize(true, 200, Some("image/png"), None));
        assert!(!should_personalize(true, 200, None, None));
        assert!(!should_personalize(true, 200, Some("text/html"), Some("attachment; filename=x.html")));
    }

    use crate::rewrite::rewrite_all;
    use serde_json::json;
    use vitrine_engine::Value;

    /// Deciding the whole page first rewrites it byte for byte as deciding each slot element as
    /// it streamed by did, and records the same decisions in the same order.
    #[test]
    fn a_page_decided_before_it_streams_is_rewritten_and_recorded_as_slot_by_slot() {
        let engine = crate::test_bundle::engine(json!({
            "pages": [{ "pattern": "/p/*", "page": "product" }],
            "placements": [
                { "id": "hero", "variants": [
                    { "name": "known", "when": { "known": true }, "html": "<h1>Welcome back, {{first_name|friend}}</h1>" },
                    { "name": "default", "html": "<h1>Hello</h1>" } ] },
                { "id": "greeting", "variants": [{ "name": "known", "when": { "known": true }, "html": "<p>Hi {{first_name}}</p>" }] },
                { "id": "for-you", "title": "For you", "sources": [{ "recommender": "popular" }] },
                { "id": "pdp", "when": { "page.type": "product" }, "sources": [{ "recommender": "popular" }] },
            ],
        }));
        let page = r#"<body><div data-vitrine-slot="hero">x</div><p data-vitrine-slot="greeting">g</p>
<section data-vitrine-slot=" for-you ">f</section><aside data-vitrine-slot="pdp">p</aside>
<i data-vitrine-slot="not-in-bundle">mine</i><div data-vitrine-slot="hero">again</div></body>"#;
        let mut traits = Value::object();
        traits.set("first_name", "Ann").set("segment", "Champions");
        let known = Visitor { traits, ..Visitor::default() };
        for (path, visitor) in [("/", Visitor::default()), ("/p/A1", known.clone()), ("/", known)] {
            let mut v = visitor;
            v.request.page = engine.page(path);
            let input = engine.rule_input(&v);
            let mut slot_by_slot = Vec::new();
            let expected = rewrite_all(page.as_bytes(), 9, |p| {
                let d = engine.decide_with(&v, &input, p, 7).ok()?;
                slot_by_slot.push(d.clone());
                Some(d.slot_html().map_or(SlotOutcome::Keep, |html| SlotOutcome::Fill(html.into())))
            });
            let decided = PageDecisions::decide(&engine, &v, &input, 7);
            let mut seen = Vec::new();
            let rewritten = rewrite_all(page.as_bytes(), 9, |p| {
                seen.push(p.to_string());
                decided.outcome(p).cloned()
            });
            let text = String::from_utf8(rewritten).unwrap();
            assert_eq!(text, String::from_utf8(expected).unwrap(), "{path}");
            if path == "/p/A1" {
                // Not vacuous: a variant, a recommendation and a page-type placement filled,
                // a slot kept, an unknown placement untouched.
                assert!(
                    text.contains("Welcome back, Ann") && text.contains("/p/A1") && text.contains(r#"<i data-vitrine-slot="not-in-bundle">mine</i>"#),
                    "{text}"
                );
                assert_eq!(text.matches(r#"data-vitrine-state="filled""#).count(), 5, "{text}");
            } else if !v.is_known() {
                assert!(text.contains(r#"<p data-vitrine-slot="greeting" data-vitrine-state="original">g</p>"#), "{text}");
            }
            assert_eq!(decided.of_slots(seen.iter().map(String::as_str)), slot_by_slot, "{path}: the records");
            assert_eq!(decided.outcomes().count(), 4, "every placement of the bundle");
        }
    }
}
