//! Slot filling: every element marked `data-vitrine-slot="<placement>"` gets the engine's
//! decision before the browser sees it. The rule for what a slot becomes is `fill_slot`, one
//! function for both hosts of lol_html:
//! - the worker streams pages through workerd's built-in `HTMLRewriter` (lol_html compiled into
//!   the runtime) from its JavaScript entry (`edge-worker/js/worker.mjs`): the page's slots are
//!   decided before the body streams (`pages::PageDecisions`) and each slot element gets
//!   `SlotOutcome::inner_html` and `marks` by a lookup, without a call into wasm;
//! - natively, `SlotRewriter` runs the lol_html crate (tests, benchmarks, tools).
//!
//! Marks, shared with the browser SDK (which skips slots the edge handled):
//! - filled: `data-vitrine-filled="edge"` and `data-vitrine-state="filled"`, content replaced;
//! - decided but kept (not targeted, holdout, nothing to show): `data-vitrine-state="original"`,
//!   the page's own fallback content stays;
//! - a placement the bundle does not know: untouched.
//!
//! Bytes outside filled slots come out exactly as they went in.

#[cfg(not(target_arch = "wasm32"))]
pub use native::{rewrite_all, SlotRewriter};

/// What to do with one slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotOutcome {
    /// Replace the slot's content with this (already escaped) HTML.
    Fill(String),
    /// Decided, keep the page's own content.
    Keep,
}

pub const SLOT_ATTR: &str = "data-vitrine-slot";
pub const SLOT_SELECTOR: &str = "[data-vitrine-slot]";

/// An element matched by `SLOT_SELECTOR`, as either lol_html host exposes it.
pub trait SlotElement {
    fn attribute(&self, name: &str) -> Option<String>;
    fn set_attribute(&mut self, name: &str, value: &str);
    fn set_inner_html(&mut self, html: &str);
}

impl SlotOutcome {
    /// The slot's new content, if it gets one.
    pub fn inner_html(&self) -> Option<&str> {
        match self {
            SlotOutcome::Fill(html) => Some(html),
            SlotOutcome::Keep => None,
        }
    }

    /// The attributes that mark the slot (see the top), set after its content.
    pub fn marks(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            SlotOutcome::Fill(_) => &[("data-vitrine-filled", "edge"), ("data-vitrine-state", "filled")],
            SlotOutcome::Keep => &[("data-vitrine-state", "original")],
        }
    }
}

/// Decides one slot element and marks it.
pub fn fill_slot(el: &mut impl SlotElement, decide: impl FnOnce(&str) -> Option<SlotOutcome>) {
    let Some(placement) = el.attribute(SLOT_ATTR) else { return };
    let Some(outcome) = decide(placement.trim()) else { return };
    if let Some(html) = outcome.inner_html() {
        el.set_inner_html(html);
    }
    for (name, value) in outcome.marks() {
        el.set_attribute(name, value);
    }
}

/// Whether a response with this `Content-Type` can be rewritten: HTML in UTF-8 (or with no
/// charset, where a `<meta charset>` is honoured). Other charsets pass through untouched.
pub fn is_rewritable_html(content_type: &str) -> bool {
    let mut parts = content_type.split(';').map(str::trim);
    let mime = parts.next().unwrap_or("").to_ascii_lowercase();
    if mime != "text/html" {
        return false;
    }
    parts.filter_map(|p| p.split_once('=')).filter(|(k, _)| k.trim().eq_ignore_ascii_case("charset")).all(|(_, v)| {
        let v = v.trim().trim_matches('"').to_ascii_lowercase();
        v == "utf-8" || v == "utf8"
    })
}

/// The lol_html crate as a host (the worker uses the runtime's copy instead; see the top).
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::cell::RefCell;
    use std::rc::Rc;

    use lol_html::html_content::{ContentType, Element};
    use lol_html::{element, HtmlRewriter, MemorySettings, OutputSink, Settings};

    use super::{fill_slot, SlotElement, SlotOutcome, SLOT_SELECTOR};

    /// lol_html buffers at most one tag; a tag this large is hostile, not a page.
    const MEMORY_LIMIT: usize = 2 << 20;

    impl SlotElement for Element<'_, '_> {
        fn attribute(&self, name: &str) -> Option<String> {
            self.get_attribute(name)
        }
        fn set_attribute(&mut self, name: &str, value: &str) {
            // Only fails for invalid attribute names; ours are constants.
            let _ = Element::set_attribute(self, name, value);
        }
        fn set_inner_html(&mut self, html: &str) {
            self.set_inner_content(html, ContentType::Html);
        }
    }

    /// Collects the rewriter's output until the caller takes it.
    #[derive(Clone, Default)]
    struct SharedSink(Rc<RefCell<Vec<u8>>>);

    impl OutputSink for SharedSink {
        fn handle_chunk(&mut self, chunk: &[u8]) {
            self.0.borrow_mut().extend_from_slice(chunk);
        }
    }

    pub struct SlotRewriter<'h> {
        /// `None` once lol_html has given up: input then passes through untouched.
        rewriter: Option<HtmlRewriter<'h, SharedSink>>,
        out: SharedSink,
        /// Why rewriting stopped early, for the log.
        pub gave_up: Option<String>,
    }

    impl<'h> SlotRewriter<'h> {
        /// `decide` is called once per slot element, in document order, with its placement id;
        /// `None` leaves the element untouched.
        pub fn new(mut decide: impl FnMut(&str) -> Option<SlotOutcome> + 'h) -> Self {
            let out = SharedSink::default();
            let settings = Settings::new()
                .with_strict(false)
                .with_adjust_charset_on_meta_tag(true)
                .with_graceful_bail_out_on_content_handler_error(true)
                .with_memory_settings(MemorySettings::new().with_max_allowed_memory_usage(MEMORY_LIMIT).with_graceful_bail_out_on_memory_limit_exceeded(true))
                .append_element_content_handler(element!(SLOT_SELECTOR, move |el: &mut Element| {
                    fill_slot(el, &mut decide);
                    Ok(())
                }));
            SlotRewriter { rewriter: Some(HtmlRewriter::new(settings, out.clone())), out, gave_up: None }
        }

        /// Feeds one chunk of origin HTML; returns the output ready to send (possibly empty).
        pub fn write(&mut self, chunk: &[u8]) -> Vec<u8> {
            match self.rewriter.as_mut().map(|r| r.write(chunk)) {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    // lol_html flushed what it held (graceful bail-out); the rest goes through raw.
                    self.gave_up = Some(e.to_string());
                    self.rewriter = None;
                }
                None => self.out.0.borrow_mut().extend_from_slice(chunk),
            }
            self.take()
        }

        /// Ends the document; returns the last output.
        pub fn finish(mut self) -> Vec<u8> {
            if let Some(r) = self.rewriter.take() {
                if let Err(e) = r.end() {
                    self.gave_up = Some(e.to_string());
                }
            }
            self.take()
        }

        fn take(&mut self) -> Vec<u8> {
            std::mem::take(&mut *self.out.0.borrow_mut())
        }
    }

    /// Rewrites a whole document at once (tests).
    pub fn rewrite_all(html: &[u8], chunk_size: usize, decide: impl FnMut(&str) -> Option<SlotOutcome>) -> Vec<u8> {
        let mut r = SlotRewriter::new(decide);
        let mut out = Vec::new();
        for chunk in html.chunks(chunk_size.max(1)) {
            out.extend(r.write(chunk));
        }
        out.extend(r.finish());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head><title>Shop</title></head><body>
<div data-vitrine-slot="hero" class="hero"><h1>Welcome to the shop</h1></div>
<section data-vitrine-slot="home-for-you"><p>Our bestsellers</p></section>
<aside data-vitrine-slot="mystery">keep me</aside>
<p>caf&eacute; é ünïcödé</p></body></html>"#;

    fn decide(slot: &str) -> Option<SlotOutcome> {
        match slot {
            "hero" => Some(SlotOutcome::Fill("<h1>Welcome back, Jane &amp; co</h1>".into())),
            "home-for-you" => Some(SlotOutcome::Keep),
            _ => None,
        }
    }

    #[test]
    fn fills_keeps_and_ignores_slots_at_every_chunk_size() {
        let expected = rewrite_all(PAGE.as_bytes(), 1 << 20, decide);
        let text = String::from_utf8(expected.clone()).unwrap();
        assert!(text.contains(r#"<div data-vitrine-slot="hero" class="hero" data-vitrine-filled="edge" data-vitrine-state="filled"><h1>Welcome back, Jane &amp; co</h1></div>"#), "{text}");
        assert!(text.contains(r#"<section data-vitrine-slot="home-for-you" data-vitrine-state="original"><p>Our bestsellers</p></section>"#));
        assert!(text.contains(r#"<aside data-vitrine-slot="mystery">keep me</aside>"#));
        assert!(!text.contains("Welcome to the shop"));
        for size in [1, 2, 3, 7, 64] {
            assert_eq!(rewrite_all(PAGE.as_bytes(), size, decide), expected, "chunk size {size}");
        }
    }

    #[test]
    fn pages_without_slots_pass_through_byte_for_byte() {
        let page = "<!DOCTYPE html>\r\n<HTML><body class=x>  <p>unclosed <b>tags<i> &amp; entities &nbsp; <!-- c --> <script>if (a<b) {}</script>\u{1F600}";
        assert_eq!(rewrite_all(page.as_bytes(), 5, |_| panic!("no slots here")), page.as_bytes());
    }

    #[test]
    fn malformed_html_still_streams() {
        let page = r#"<div data-vitrine-slot="hero"><p>unclosed <select><xmp><script>"x"</script></select></div><div data-vitrine-slot=hero>"#;
        let out = String::from_utf8(rewrite_all(page.as_bytes(), 3, decide)).unwrap();
        assert!(out.contains("Welcome back"), "{out}");
    }

    #[test]
    fn a_giant_tag_gives_up_and_passes_the_rest_through() {
        let giant = format!(r#"<p>before</p><div data-vitrine-slot="hero" data-x="{}">old</div><p>after</p>"#, "x".repeat(3 << 20));
        let mut r = SlotRewriter::new(decide);
        let mut out = Vec::new();
        for chunk in giant.as_bytes().chunks(64 * 1024) {
            out.extend(r.write(chunk));
        }
        assert!(r.gave_up.is_some());
        out.extend(r.finish());
        assert_eq!(out, giant.as_bytes(), "unmodified, not truncated");
    }

    #[test]
    fn content_types() {
        assert!(is_rewritable_html("text/html"));
        assert!(is_rewritable_html("text/html; charset=UTF-8"));
        assert!(is_rewritable_html("TEXT/HTML;charset=\"utf-8\""));
        assert!(!is_rewritable_html("text/html; charset=iso-8859-1"));
        assert!(!is_rewritable_html("application/json"));
        assert!(!is_rewritable_html("text/htmlx"));
    }
}
