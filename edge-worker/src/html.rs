//! Page bodies through workerd's built-in `HTMLRewriter` (lol_html compiled into the runtime).
//! The body streams natively from origin to visitor, with backpressure; wasm runs only when a
//! slot element goes by. Measured on the demo page against pumping every chunk through the
//! lol_html crate inside wasm: see BENCHMARKS.md ("Edge worker").

use worker::js_sys::{Object, Reflect};
use worker::wasm_bindgen::prelude::*;
use worker::web_sys;

use vitrine_edge::rewrite::{fill_slot, SlotElement, SlotOutcome, SLOT_SELECTOR};

#[wasm_bindgen]
extern "C" {
    /// The Workers runtime's streaming HTML rewriter.
    type HTMLRewriter;
    #[wasm_bindgen(constructor)]
    fn new() -> HTMLRewriter;
    #[wasm_bindgen(method)]
    fn on(this: &HTMLRewriter, selector: &str, handlers: &Object) -> HTMLRewriter;
    #[wasm_bindgen(method, js_name = onDocument)]
    fn on_document(this: &HTMLRewriter, handlers: &Object) -> HTMLRewriter;
    #[wasm_bindgen(method, catch)]
    fn transform(this: &HTMLRewriter, response: &web_sys::Response) -> Result<web_sys::Response, JsValue>;

    /// An element as `HTMLRewriter` hands it to a handler.
    type RuntimeElement;
    #[wasm_bindgen(method, js_name = getAttribute)]
    fn get_attribute(this: &RuntimeElement, name: &str) -> Option<String>;
    #[wasm_bindgen(method, catch, js_name = setAttribute)]
    fn set_attribute(this: &RuntimeElement, name: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = setInnerContent)]
    fn set_inner_content(this: &RuntimeElement, content: &str, options: &Object) -> Result<(), JsValue>;
}

struct Slot<'a> {
    el: &'a RuntimeElement,
    html_options: &'a Object,
}

impl SlotElement for Slot<'_> {
    fn attribute(&self, name: &str) -> Option<String> {
        self.el.get_attribute(name)
    }
    // Both setters only throw once the element has left the stream, which cannot happen
    // inside its own handler.
    fn set_attribute(&mut self, name: &str, value: &str) {
        let _ = self.el.set_attribute(name, value);
    }
    fn set_inner_html(&mut self, html: &str) {
        let _ = self.el.set_inner_content(html, self.html_options);
    }
}

/// `response` with every slot element decided by `decide` (called once per slot, in document
/// order) as its body streams by; `on_end` runs once the whole document went by.
pub fn rewritten(
    response: web_sys::Response,
    mut decide: impl FnMut(&str) -> Option<SlotOutcome> + 'static,
    on_end: Option<Box<dyn FnOnce()>>,
) -> Result<web_sys::Response, JsValue> {
    let html_options = Object::new();
    Reflect::set(&html_options, &"html".into(), &JsValue::TRUE)?;
    let on_slot = Closure::<dyn FnMut(RuntimeElement)>::new(move |el: RuntimeElement| {
        fill_slot(&mut Slot { el: &el, html_options: &html_options }, &mut decide);
    });
    let handlers = Object::new();
    // The runtime owns the handler from here; its Rust side is freed when the JS function is
    // garbage-collected (workerd has FinalizationRegistry).
    Reflect::set(&handlers, &"element".into(), &on_slot.into_js_value())?;
    let rewriter = HTMLRewriter::new().on(SLOT_SELECTOR, &handlers);
    let rewriter = match on_end {
        Some(f) => {
            let end = Closure::once_into_js(move |_: JsValue| f());
            let doc = Object::new();
            Reflect::set(&doc, &"end".into(), &end)?;
            rewriter.on_document(&doc)
        }
        None => rewriter,
    };
    rewriter.transform(&response)
}
