//! Streaming slot filler: origin HTML goes through lol_html chunk by chunk, and every element
//! marked `data-vitrine-slot="<placement>"` gets the engine's decision before the browser sees
//! it. Nothing is buffered beyond what lol_html needs for one tag, so the first bytes of the
//! page leave as soon as they arrive.
//!
//! Marks, shared with the browser SDK (which skips slots the edge handled):
//! - filled: `data-vitrine-filled="edge"` and `data-vitrine-state="filled"`, content replaced;
//! - decided but kept (not targeted, holdout, nothing to show): `data-vitrine-state="original"`,
//!   the page's own fallback content stays;
//! - a placement the bundle does not know: untouched.
//!
//! Bytes outside filled slots come out exactly as they went in. If lol_html gives up (a tag
//! larger than the memory limit), it flushes what it holds and the rest streams through as is:
//! the visitor gets the unpersonalized remainder, never a truncated page.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{ContentType, Element};
use lol_html::{element, HtmlRewriter, MemorySettings, OutputSink, Settings};

/// What to do with one slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotOutcome {
    /// Replace the slot's content with this (already escaped) HTML.
    Fill(String),
    /// Decided, keep the page's own content.
    Keep,
}

pub const SLOT_ATTR: &str = "data-vitrine-slot";
const SLOT_SELECTOR: &str = "[data-vitrine-slot]";
/// lol_html buffers at most one tag; a tag this large is hostile, not a page.
const MEMORY_LIMIT: usize = 2 << 20;

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
    /// How many slots were filled so far.
    filled: Rc<RefCell<u32>>,
    /// Why rewriting stopped early, for the log.
    pub gave_up: Option<String>,
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

impl<'h> SlotRewriter<'h> {
    /// `decide` is called once per slot element, in document order, with its placement id;
    /// `None` leaves the element untouched.
    pub fn new(mut decide: impl FnMut(&str) -> Option<SlotOutcome> + 'h) -> Self {
        let out = SharedSink::default();
        let filled = Rc::new(RefCell::new(0u32));
        let counter = filled.clone();
        let settings = Settings::new()
            .with_strict(false)
            .with_adjust_charset_on_meta_tag(true)
            .with_graceful_bail_out_on_content_handler_error(true)
            .with_memory_settings(
                MemorySettings::new().with_max_allowed_memory_usage(MEMORY_LIMIT).with_graceful_bail_out_on_memory_limit_exceeded(true),
            )
            .append_element_content_handler(element!(SLOT_SELECTOR, move |el: &mut Element| {
                let Some(placement) = el.get_attribute(SLOT_ATTR) else { return Ok(()) };
                match decide(placement.trim()) {
                    Some(SlotOutcome::Fill(html)) => {
                        el.set_inner_content(&html, ContentType::Html);
                        el.set_attribute("data-vitrine-filled", "edge")?;
                        el.set_attribute("data-vitrine-state", "filled")?;
                        *counter.borrow_mut() += 1;
                    }
                    Some(SlotOutcome::Keep) => el.set_attribute("data-vitrine-state", "original")?,
                    None => {}
                }
                Ok(())
            }));
        SlotRewriter { rewriter: Some(HtmlRewriter::new(settings, out.clone())), out, filled, gave_up: None }
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

    pub fn filled(&self) -> u32 {
        *self.filled.borrow()
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut *self.out.0.borrow_mut())
    }
}

/// Rewrites a whole document at once (tests, benchmarks).
pub fn rewrite_all(html: &[u8], chunk_size: usize, decide: impl FnMut(&str) -> Option<SlotOutcome>) -> Vec<u8> {
    let mut r = SlotRewriter::new(decide);
    let mut out = Vec::new();
    for chunk in html.chunks(chunk_size.max(1)) {
        out.extend(r.write(chunk));
    }
    out.extend(r.finish());
    out
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
