//! wasm tests in headless Chromium (wasm-bindgen-test-runner + chromedriver): the SDK on a
//! real DOM with its real page side (js/page.js) — slots, the exit-offer dialog, in-session
//! learning, consent and storage. The Playwright tests (tests/e2e) run the whole loader.
//! The tests share one page and one SDK, so they run as ordered steps of one test.

#![cfg(target_arch = "wasm32")]

mod common;

use js_sys::{Function, Object, Reflect};
use vitrine_browser_sdk::session::{Learn, SessionState};
use vitrine_browser_sdk::web;
use vitrine_engine::Engine;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn el(selector: &str) -> Option<Element> {
    document().query_selector(selector).unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

/// An object's own keys, sorted.
fn keys(v: &JsValue) -> Vec<String> {
    let mut k: Vec<String> = Object::keys(v.unchecked_ref::<Object>()).iter().map(|k| k.as_string().unwrap()).collect();
    k.sort();
    k
}

/// The engine's JSON field names (`FIELDS`), sorted, with any the SDK adds.
fn shape(fields: &[&str], extra: &[&str]) -> Vec<String> {
    let mut f: Vec<String> = fields.iter().chain(extra).map(|s| s.to_string()).collect();
    f.sort();
    f
}

fn storage(local: bool) -> web_sys::Storage {
    let w = web_sys::window().unwrap();
    if local { w.local_storage() } else { w.session_storage() }.unwrap().unwrap()
}

/// The page's visitor: "/" (home), three candles viewed earlier in the session.
fn seed_session(engine: &Engine) {
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let mut s = SessionState { page_views: 3, new_visitor: true, ..SessionState::default() };
    for (i, sku) in ["C1", "C2", "C3"].iter().enumerate() {
        s.learn(&engine.body().catalog, Learn::ProductViewed(sku.to_string()), now - 3 + i as i64);
    }
    storage(false).set_item("vitrine:session", &s.encode()).unwrap();
}

/// The real page side (js/page.js, as the loader makes it), calling back this module's
/// exports, with `vitrine.on` notifications recorded in `seen`.
fn page_side(seen: &js_sys::Array) -> JsValue {
    // The exit offer's dialog (js/dialog.js, which the loader imports on first use), handed in
    // already made, as the module's `dialog(sdk, api)` makes it: shown at once, as a test needs.
    let dialog_js = include_str!("../js/dialog.js").replace("export function dialog(", "function dialog(");
    let make_dialog = Function::new_with_args("sdk", &[dialog_js.as_str(), "\nreturn dialog(sdk, null);"].concat());
    let make = Function::new_with_args(
        "sdk, emit, dialog",
        &[include_str!("../js/page.js"), "\nreturn vitrinePage(sdk, emit, Infinity, undefined, dialog);"].concat(),
    );
    let sdk = Object::new();
    let export = |name: &str, f: JsValue| {
        Reflect::set(&sdk, &name.into(), &f).unwrap();
    };
    export("report", Closure::<dyn Fn(u8, String, String)>::new(|kind: u8, text: String, sku: String| web::report(kind, &text, &sku)).into_js_value());
    export("wake", Closure::<dyn Fn(u8)>::new(web::wake).into_js_value());
    export("sent", Closure::<dyn Fn(u32, bool, Option<String>)>::new(web::sent).into_js_value());
    export("observe", Closure::<dyn Fn(u8, f64)>::new(web::observe).into_js_value());
    export("flush", Closure::<dyn Fn()>::new(web::flush).into_js_value());
    export("resume", Closure::<dyn Fn()>::new(web::resume).into_js_value());
    export("back", Closure::<dyn Fn() -> bool>::new(web::back).into_js_value());
    let emit = Function::new_with_args("name, payload", "this.push([name, payload])").bind0(seen);
    let dialog = make_dialog.call1(&JsValue::NULL, &sdk).unwrap();
    make.call3(&JsValue::NULL, &sdk, &emit, &dialog).unwrap()
}

fn skus(decision: &JsValue) -> Vec<String> {
    js_sys::Array::from(&get(decision, "items")).iter().map(|i| get(&i, "sku").as_string().unwrap()).collect()
}

#[wasm_bindgen_test]
fn the_sdk_on_a_page() {
    let window = web_sys::window().unwrap();
    window.history().unwrap().replace_state_with_url(&JsValue::NULL, "", Some("/")).unwrap();
    storage(true).clear().unwrap();
    storage(false).clear().unwrap();
    el("body")
        .unwrap()
        .insert_adjacent_html(
            "beforeend",
            r#"<main><div data-vitrine-slot="hero"><h1>Original hero</h1></div>
           <section data-vitrine-slot="home-for-you"><p>Original picks</p></section>
           <section data-vitrine-slot="pdp-pair-with" data-vitrine-filled="edge"><p>Filled by the edge</p></section>
           <div data-vitrine-slot="no-such-placement"><p>Kept</p></div>
           <button id="outside">outside</button></main>"#,
        )
        .unwrap();

    let bundle = common::bundle_bytes();
    let engine = Engine::load(&bundle).unwrap();
    seed_session(&engine);

    // Notifications, as vitrine.on listeners get them.
    let seen = js_sys::Array::new();
    let opts = options(&[("endpoint", "http://127.0.0.1:9/nowhere".into()), ("exitDwellMs", 0.0.into())]);
    let page = page_side(&seen);
    let filled = web::start(opts, &bundle, page.clone().unchecked_into()).expect("starts");

    // --- Slots: unfilled ones filled, the edge's left alone, unknown ones keep their content.
    assert_eq!(filled, 2);
    let hero = el("[data-vitrine-slot=hero]").unwrap();
    assert_eq!(hero.get_attribute("data-vitrine-state").as_deref(), Some("filled"));
    assert_eq!(hero.inner_html(), "<h1>Light up the evenings</h1>", "the session's candle interest picks the hero");
    let for_you = el("[data-vitrine-slot=home-for-you]").unwrap();
    let decided = web::decide("home-for-you").unwrap();
    assert_eq!(for_you.inner_html(), get(&decided, "html").as_string().unwrap(), "slot shows what decide() says");
    assert!(skus(&decided)[..3].iter().all(|s| s.starts_with('C')), "{:?}", skus(&decided));
    // The engine's one JSON shape, as /v1/decide answers (edge/src/api.rs holds it there).
    use vitrine_engine::{DecidedItem, Decision, Explain, OfferDecision};
    assert_eq!(keys(&decided), shape(&Decision::FIELDS, &[]));
    assert_eq!(keys(&js_sys::Array::from(&get(&decided, "items")).get(0)), shape(&DecidedItem::FIELDS, &[]));
    assert_eq!(keys(&get(&decided, "explain")), shape(&Explain::FIELDS, &[]));
    assert_eq!(el("[data-vitrine-slot=pdp-pair-with]").unwrap().inner_html(), "<p>Filled by the edge</p>");
    let unknown = el("[data-vitrine-slot=no-such-placement]").unwrap();
    assert_eq!(unknown.get_attribute("data-vitrine-state").as_deref(), Some("original"));
    assert_eq!(unknown.inner_html(), "<p>Kept</p>");
    let names: Vec<String> = seen.iter().map(|e| js_sys::Array::from(&e).get(0).as_string().unwrap()).collect();
    assert!(names.iter().filter(|n| *n == "decision").count() == 2 && names.contains(&"error".to_string()), "{names:?}");

    // --- The SDK decides exactly as the engine does for the same visitor (same wasm, same
    // moment; the recorded native decisions are compared in the Node test).
    let hero_decision = web::decide("hero").unwrap();
    assert_eq!(get(&hero_decision, "variant").as_string().as_deref(), Some("candles"));
    assert!(web::decide("no-such-placement").is_err());

    // --- In-session learning: kitchen views and a cart change move "Just for You" at once.
    for sku in ["K1", "K2", "K3", "K4"] {
        web::track("Product Viewed", options(&[("product_id", sku.into())]));
    }
    web::track("Product Added", options(&[("product_id", "K4".into()), ("quantity", 1.0.into())]));
    let after = web::decide("home-for-you").unwrap();
    assert!(skus(&after).iter().take(2).all(|s| s.starts_with('K')), "kitchen first now: {:?}", skus(&after));
    assert!(!skus(&after).contains(&"K4".to_string()), "never what is in the cart");
    let stored = SessionState::decode(&storage(false).get_item("vitrine:session").unwrap().unwrap()).unwrap();
    assert_eq!(stored.cart[..], [vitrine_engine::cart::Line::new("K4", 1)], "the cart is kept for the next page");
    let cookies = document().dyn_into::<web_sys::HtmlDocument>().unwrap().cookie().unwrap();
    assert!(cookies.contains("vt_cart=K4:1"), "the edge sees the cart too: {cookies}");
    assert!(cookies.contains("vt_vid="), "and the same visitor id: {cookies}");
    let interests = cookies.split("; ").find_map(|c| c.strip_prefix("vt_int=")).expect("interests for the edge");
    let (categories, _, _) = vitrine_engine::cookies::parse_interests_cookie(interests).unwrap();
    assert_eq!(categories.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), ["Candles", "Kitchen"], "{interests}");

    // --- Events are queued (persisted for the next page while the endpoint is unreachable).
    let queued = storage(true).get_item("vitrine:outbox").unwrap().unwrap_or_default();
    assert!(queued.contains(r#""type":"page""#) && queued.contains(r#""event":"Product Added""#), "{queued}");
    assert!(queued.lines().all(|l| l.contains(r#""messageId":""#)));
    // What the page view showed, once: the slots we filled, not the edge's.
    let exposures: Vec<&str> =
        queued.lines().filter(|l| l.contains(r#""event":"Product List Viewed""#) || l.contains(r#""event":"Promotion Viewed""#)).collect();
    assert_eq!(exposures.len(), 2, "{exposures:?}");
    assert!(exposures.iter().any(|l| l.contains(r#""placement":"home-for-you""#) && l.contains(&[r#""items":[""#, &skus(&decided)[0]].concat())));
    assert!(exposures.iter().any(|l| l.contains(r#""placement":"hero","variant":"candles""#)));
    assert!(!queued.contains(r#""placement":"pdp-pair-with""#), "the edge records its own slots");

    // --- Exit offer: an accessible dialog, once per session; its call to action reports once.
    let focus = |id: &str| document().get_element_by_id(id).unwrap().dyn_into::<HtmlElement>().unwrap().focus().unwrap();
    focus("outside");
    assert!(web::show_exit_offer(), "the welcome offer for a new visitor");
    let dialog = el("[role=dialog]").expect("a dialog");
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    let title = dialog.get_attribute("aria-labelledby").expect("labelled");
    assert!(document().get_element_by_id(&title).unwrap().text_content().unwrap().contains("10% off"));
    assert_eq!(el("[data-vitrine-offer]").unwrap().get_attribute("data-vitrine-scenario").as_deref(), Some("welcome"));
    assert!(dialog.contains(document().active_element().as_ref().map(|e| e.unchecked_ref())), "focus moves into the dialog");
    focus("outside");
    assert!(dialog.contains(document().active_element().as_ref().map(|e| e.unchecked_ref())), "focus trapped");
    let events = |event: &str| seen.iter().filter(|e| js_sys::Array::from(e).get(1).as_string().as_deref() == Some(event)).count();
    assert_eq!(events("Promotion Viewed"), 2, "the hero's exposure, then the offer's");
    let offer = seen.iter().map(|e| js_sys::Array::from(&e)).find(|e| e.get(0).as_string().as_deref() == Some("offer")).expect("an offer notification").get(1);
    assert_eq!(keys(&offer), shape(&OfferDecision::FIELDS, &["trigger"]), "/v1/exit-offer's shape, plus what showed it");
    assert_eq!(get(&offer, "ctaUrl").as_string().as_deref(), Some("/"));
    // The call to action reports, once (its link navigates; stop that here).
    let cta = el(".vitrine-offer-cta").expect("a call to action").dyn_into::<HtmlElement>().unwrap();
    cta.set_attribute("href", "#offer").unwrap();
    cta.click();
    cta.click();
    assert_eq!(events("Promotion Clicked"), 1, "one click reported per offer");
    assert!(!web::show_exit_offer(), "not while it is open");
    let esc = KeyboardEventInit::new();
    esc.set_key("Escape");
    esc.set_bubbles(true);
    document().dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &esc).unwrap()).unwrap();
    assert!(el("[role=dialog]").is_none(), "Esc closes");
    assert_eq!(document().active_element().unwrap().id(), "outside", "focus returns where it was");
    let closed = js_sys::Array::from(&seen.iter().last().unwrap());
    assert_eq!(closed.get(0).as_string().as_deref(), Some("offer_closed"));
    assert_eq!(get(&closed.get(1), "reason").as_string().as_deref(), Some("escape"));
    assert!(!web::show_exit_offer(), "once per session");

    // --- A purchase: no offer afterwards, even in a new page of the session.
    web::track("Order Completed", options(&[("order_id", "o-1".into())]));
    let stored = SessionState::decode(&storage(false).get_item("vitrine:session").unwrap().unwrap()).unwrap();
    assert!(stored.purchased && stored.cart.is_empty());

    // --- A product followed from a slot (its link navigates; stop that here): Product Clicked.
    // The page's listeners, as the loader installs them after start().
    Reflect::get(&page, &"listen".into()).unwrap().unchecked_into::<Function>().call0(&page).unwrap();
    let item = el("[data-vitrine-slot=home-for-you] [data-sku] a").expect("an item link").dyn_into::<HtmlElement>().unwrap();
    item.set_attribute("href", "#item").unwrap();
    item.click();
    assert_eq!(events("Product Clicked"), 1);
}
