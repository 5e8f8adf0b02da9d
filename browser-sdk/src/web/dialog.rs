//! The exit-intent pop-up: an accessible modal dialog (role=dialog, aria-modal, labelled by
//! the offer's headline, focus kept inside, Esc and the backdrop close it, focus returns to
//! where it was), styled by the site through CSS custom properties.

use alloc::boxed::Box;
use alloc::string::String;
use core::cell::RefCell;

use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlElement, KeyboardEvent};

use super::io::{document, listen};
use super::PageLocal;

/// Every look is a custom property with a default, so a site restyles without overrides.
const CSS: &str = "\
.vitrine-exit{position:fixed;inset:0;z-index:var(--vitrine-z,2147483000);display:flex;align-items:center;justify-content:center;font:var(--vitrine-font,inherit)}\
.vitrine-exit-backdrop{position:absolute;inset:0;background:var(--vitrine-backdrop,rgba(0,0,0,.5))}\
.vitrine-exit-dialog{position:relative;box-sizing:border-box;width:min(var(--vitrine-dialog-width,28rem),calc(100vw - 2rem));max-height:calc(100vh - 2rem);overflow:auto;padding:var(--vitrine-dialog-padding,1.5rem);background:var(--vitrine-dialog-bg,#fff);color:var(--vitrine-dialog-fg,#111);border-radius:var(--vitrine-radius,12px);box-shadow:var(--vitrine-shadow,0 10px 40px rgba(0,0,0,.3))}\
.vitrine-exit-close{position:absolute;top:.5rem;right:.5rem;border:0;background:none;color:inherit;font-size:1.5rem;line-height:1;padding:.25rem .5rem;cursor:pointer}\
.vitrine-offer-headline{margin:0 2rem .5rem 0;font-size:var(--vitrine-headline-size,1.4rem)}\
.vitrine-offer-code strong{letter-spacing:.05em}\
.vitrine-offer-cta{display:inline-block;margin-top:1rem;padding:.75rem 1.25rem;border-radius:var(--vitrine-radius,12px);background:var(--vitrine-accent,#111);color:var(--vitrine-accent-fg,#fff);text-decoration:none}\
.vitrine-exit :focus-visible{outline:2px solid var(--vitrine-focus,#2563eb);outline-offset:2px}\
@media (prefers-reduced-motion:no-preference){.vitrine-exit-dialog{animation:vitrine-in .2s ease-out}}\
@keyframes vitrine-in{from{opacity:0;transform:translateY(8px)}}";

const FOCUSABLE: &str =
    "a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex='-1'])";

/// Why the dialog closed, for `vitrine.on('offer_closed')`.
pub type OnClose = Box<dyn FnOnce(&'static str)>;

struct Open {
    root: Element,
    panel: HtmlElement,
    return_focus: Option<HtmlElement>,
    on_cta: Option<Box<dyn FnOnce()>>,
    on_close: Option<OnClose>,
}

static OPEN: PageLocal<RefCell<Option<Open>>> = PageLocal::new(RefCell::new(None));
static INSTALLED: PageLocal<core::cell::Cell<bool>> = PageLocal::new(core::cell::Cell::new(false));

pub fn is_open() -> bool {
    OPEN.with(|o| o.borrow().is_some())
}

/// Shows `inner_html` (the engine's escaped offer markup) in a modal dialog.
/// `on_cta` runs when the call to action is followed; `on_close` when the dialog closes.
pub fn show(inner_html: &str, offer_id: &str, scenario: &str, on_cta: impl FnOnce() + 'static, on_close: OnClose) {
    if is_open() {
        return;
    }
    let doc = document();
    install_once();
    let Some(body) = doc.body() else { return };
    let Ok(root) = doc.create_element("div") else { return };
    root.set_class_name("vitrine-exit");
    let _ = root.set_attribute("data-vitrine-offer", offer_id);
    let _ = root.set_attribute("data-vitrine-scenario", scenario);
    let mut html = String::with_capacity(inner_html.len() + 300);
    html.push_str(
        "<div class=\"vitrine-exit-backdrop\" data-vitrine-close></div>\
         <div class=\"vitrine-exit-dialog\" role=\"dialog\" aria-modal=\"true\" tabindex=\"-1\">\
         <button type=\"button\" class=\"vitrine-exit-close\" aria-label=\"Close\" data-vitrine-close>&times;</button>",
    );
    html.push_str(inner_html);
    html.push_str("</div>");
    root.set_inner_html(&html);
    let Some(panel) = root.query_selector(".vitrine-exit-dialog").ok().flatten().and_then(|e| e.dyn_into::<HtmlElement>().ok()) else {
        return;
    };
    label(&panel, ".vitrine-offer-headline", "vitrine-exit-title", "aria-labelledby");
    label(&panel, ".vitrine-offer-body", "vitrine-exit-body", "aria-describedby");
    if panel.get_attribute("aria-labelledby").is_none() {
        let _ = panel.set_attribute("aria-label", "Special offer");
    }

    let return_focus = doc.active_element().and_then(|e| e.dyn_into::<HtmlElement>().ok());
    let _ = body.append_child(&root);
    let _ = panel.focus();
    let on_cta: Box<dyn FnOnce()> = Box::new(on_cta);
    OPEN.with(|o| *o.borrow_mut() = Some(Open { root, panel, return_focus, on_cta: Some(on_cta), on_close: Some(on_close) }));
}

/// Gives the first `selector` match an id and points the dialog's `aria` attribute at it.
fn label(panel: &HtmlElement, selector: &str, id: &str, aria: &str) {
    if let Some(el) = panel.query_selector(selector).ok().flatten() {
        el.set_id(id);
        let _ = panel.set_attribute(aria, id);
    }
}

pub fn close(reason: &'static str) {
    let Some(mut open) = OPEN.with(|o| o.borrow_mut().take()) else { return };
    open.root.remove();
    if let Some(el) = open.return_focus.take() {
        let _ = el.focus();
    }
    if let Some(f) = open.on_close.take() {
        f(reason);
    }
}

/// Keyboard and focus handling for whichever dialog is open (installed on first use).
fn install_once() {
    if INSTALLED.with(|i| i.replace(true)) {
        return;
    }
    let doc = document();
    if let Ok(style) = doc.create_element("style") {
        style.set_text_content(Some(CSS));
        let _ = style.set_attribute("data-vitrine", "dialog");
        if let Some(head) = doc.head() {
            // First in <head>, so the site's own rules (and custom properties) win.
            let _ = head.insert_before(&style, head.first_child().as_ref());
        }
    }
    listen(&doc, "keydown", false, on_keydown);
    listen(&doc, "focusin", false, on_focusin);
    listen(&doc, "click", false, on_click);
}

fn on_keydown(e: &Event) {
    let Some(key) = e.dyn_ref::<KeyboardEvent>() else { return };
    if !is_open() {
        return;
    }
    match key.key().as_str() {
        "Escape" | "Esc" => {
            e.prevent_default();
            close("escape");
        }
        "Tab" => trap_tab(key),
        _ => {}
    }
}

/// Focus that escapes anyway (a click elsewhere, assistive tech) is brought back.
fn on_focusin(e: &Event) {
    let target = e.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
    let open = OPEN.with(|o| o.borrow().as_ref().map(|o| (o.root.clone(), o.panel.clone())));
    if let (Some((root, panel)), Some(target)) = (open, target) {
        if !root.contains(Some(&target)) {
            let _ = panel.focus();
        }
    }
}

/// The close button and the backdrop close; the call to action reports, then navigates.
fn on_click(e: &Event) {
    let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
    let inside = OPEN.with(|o| o.borrow().as_ref().is_some_and(|o| o.root.contains(Some(&target))));
    if !inside {
        return;
    }
    if target.closest("[data-vitrine-close]").ok().flatten().is_some() {
        close("dismissed");
    } else if target.closest(".vitrine-offer-cta").ok().flatten().is_some() {
        if let Some(f) = OPEN.with(|o| o.borrow_mut().as_mut().and_then(|o| o.on_cta.take())) {
            f();
        }
    }
}

/// Tab and Shift+Tab cycle through the dialog's focusable elements only.
fn trap_tab(key: &KeyboardEvent) {
    let Some(panel) = OPEN.with(|o| o.borrow().as_ref().map(|o| o.panel.clone())) else { return };
    let Ok(list) = panel.query_selector_all(FOCUSABLE) else { return };
    let items: alloc::vec::Vec<HtmlElement> = (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        key.prevent_default();
        let _ = panel.focus();
        return;
    };
    let active = document().active_element();
    let at = |el: &HtmlElement| active.as_ref().is_some_and(|a| a == el.unchecked_ref::<Element>());
    let on_panel = active.as_ref().is_some_and(|a| a == panel.unchecked_ref::<Element>());
    if key.shift_key() && (at(first) || on_panel) {
        key.prevent_default();
        let _ = last.focus();
    } else if !key.shift_key() && at(last) {
        key.prevent_default();
        let _ = first.focus();
    }
}
