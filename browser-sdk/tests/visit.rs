//! The SDK's decisions, natively: a [`Visit`] on the fixture store, driven with page facts,
//! API calls and a virtual clock; the assertions read the effects the page side would carry
//! out (cookies, storage, the offer dialog, the events sent). What a shopper or the store
//! would notice: who the visitor is, which offer shows, which cart the edge sees, what the
//! events say.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use vitrine_browser_sdk::session::{EventFacts, Profile, SessionState};
use vitrine_browser_sdk::visit::{AutoTrack, Config, Effect, Env, PageFacts, Start, Store, Timer, Visit, OUTBOX_KEY, PROFILE_KEY, SESSION_KEY};
use vitrine_engine::cart::Line;
use vitrine_engine::measure::{self, Record};
use vitrine_engine::token;
use vitrine_engine::Engine;
use vitrine_engine::Status;
use vitrine_engine::Value;

/// The test clock: unix ms.
const T0: f64 = common::NOW as f64 * 1000.0;
const EDGE_ID: &str = "edge-visitor-0001";

fn env() -> Env {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    fn new_id() -> String {
        format!("00000000-0000-4000-8000-{:012}", NEXT.fetch_add(1, Ordering::Relaxed))
    }
    Env { parse_json: |t| serde_json::from_str(t).ok(), to_json: |v| serde_json::to_string(v).unwrap(), new_id }
}

fn home() -> PageFacts {
    PageFacts {
        path: "/".into(),
        url: "https://shop.example/".into(),
        title: "Fixture Store".into(),
        slots: vec!["hero".into(), "home-for-you".into()],
        ..PageFacts::default()
    }
}

fn product_page(sku: &str) -> PageFacts {
    let path = format!("/products/{sku}");
    PageFacts { url: format!("https://shop.example{path}"), title: sku.into(), path, ..PageFacts::default() }
}

fn start(s: Start, page: PageFacts) -> (Visit, Vec<Effect>) {
    let mut v = Visit::start(Engine::load(&common::bundle_bytes()).unwrap(), s, page, env(), T0);
    let fx = v.effects();
    (v, fx)
}

fn facts(product: &str, quantity: Option<u32>) -> EventFacts {
    EventFacts { product: Some(product.into()), quantity, ..EventFacts::default() }
}

fn track(v: &mut Visit, event: &str, facts: EventFacts) -> Vec<Effect> {
    v.track(event, &facts, "{}", T0 + 10.0);
    v.effects()
}

/// The cookies written, as (name, value, max-age).
fn cookies(fx: &[Effect]) -> Vec<(&str, &str, Option<i64>)> {
    fx.iter().filter_map(|e| if let Effect::SetCookie(n, v, age) = e { Some((*n, v.as_str(), *age)) } else { None }).collect()
}

/// The last value written under `key` in `store`.
fn stored<'a>(fx: &'a [Effect], store: Store, key: &str) -> Option<&'a str> {
    fx.iter().rev().find_map(|e| match e {
        Effect::Store(s, k, value) if *s == store && *k == key => Some(value.as_str()),
        _ => None,
    })
}

/// Offers shown, as (offer id, trigger, explain rule).
fn offers(fx: &[Effect]) -> Vec<(&str, &str, &str)> {
    fx.iter().filter_map(|e| if let Effect::ShowOffer(o, t, _) = e { Some((o.id.as_str(), *t, o.explain.rule.as_str())) } else { None }).collect()
}

/// The events queued and not yet sent, as the endpoint would receive them (a page-hide
/// flush whose beacons the browser refuses, so they stay queued).
fn queued(v: &mut Visit) -> Vec<serde_json::Value> {
    v.flush(T0 + 20.0);
    let bodies = match v.effects().pop() {
        Some(Effect::Beacon(bodies)) => bodies,
        other => panic!("a flush beacons: {other:?}"),
    };
    v.beaconed(0);
    v.effects();
    bodies.iter().flat_map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap()["batch"].as_array().unwrap().clone()).collect()
}

#[test]
fn the_identity_token_from_identify_goes_with_every_batch() {
    let (mut v, _) = start(Start::default(), home());
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjdXN0LTQyIn0.c2ln";
    v.identify(Some("cust-42".into()), Value::Null, "{}", token.into(), T0 + 1.0);
    v.effects();
    v.flush(T0 + 20.0);
    let bodies = match v.effects().pop() {
        Some(Effect::Beacon(bodies)) => bodies,
        other => panic!("a flush beacons: {other:?}"),
    };
    let batch: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(batch["identity"], token, "the edge stores events naming a customer only with proof");
    // Another customer without a token: the first one's token is not sent for them.
    v.beaconed(0);
    v.identify(Some("cust-7".into()), Value::Null, "{}", String::new(), T0 + 30.0);
    v.flush(T0 + 60.0);
    let bodies = match v.effects().into_iter().rev().find(|e| matches!(e, Effect::Beacon(_))) {
        Some(Effect::Beacon(bodies)) => bodies,
        other => panic!("a flush beacons: {other:?}"),
    };
    let batch: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert!(batch.get("identity").is_none(), "{batch}");
}

fn names(events: &[serde_json::Value]) -> Vec<String> {
    events.iter().map(|e| e["event"].as_str().or(e["type"].as_str()).unwrap().to_string()).collect()
}

fn hero_html(v: &Visit) -> String {
    v.decide("hero", T0).unwrap().html
}

#[test]
fn the_shared_visitor_cookie_and_the_edges_profile_win_over_what_is_stored() {
    let profile = Profile { visitor_id: "stored-visitor-1".into(), ..Profile::default() };
    let saved_before = profile.encode(r#"{"first_name":"Old","tier":"gold"}"#);
    let edge_profile = token::sign(b"edge-secret", br#"{"traits":{"segment":"Loyal","first_name":"Jane"}}"#);
    let jar = format!("other=1; vt_vid={EDGE_ID}; vt_profile={edge_profile}");
    let (v, fx) = start(Start { cookies: jar, stored_profile: Some(saved_before.clone()), ..Start::default() }, home());

    assert_eq!(v.profile().visitor_id, EDGE_ID, "the edge's id: experiments bucket alike on both");
    let traits = &v.profile().traits;
    assert_eq!(traits.path("first_name").and_then(Value::as_str), Some("Jane"), "the edge's word is fresher");
    assert_eq!(traits.path("tier").and_then(Value::as_str), Some("gold"), "stored traits the edge did not name stay");
    assert_eq!(hero_html(&v), "<h1>Early access for you, Jane</h1>", "a known Loyal customer sees the loyal hero");
    let (saved, _) = Profile::decode(stored_value(&fx, Store::Local, PROFILE_KEY)).expect("the profile is saved");
    assert_eq!(saved.visitor_id, EDGE_ID, "and remembered for the next page");
    assert!(!cookies(&fx).iter().any(|c| c.0 == "vt_vid"), "the edge's cookie already says it: {:?}", cookies(&fx));
    assert!(!v.session().new_visitor, "a profile was stored: not a new visitor");

    // A malformed id cookie is not trusted: the stored id stays and is shared with the edge.
    let (v, fx) = start(Start { cookies: "vt_vid=bad id!".into(), stored_profile: Some(saved_before), ..Start::default() }, home());
    assert_eq!(v.profile().visitor_id, "stored-visitor-1");
    assert_eq!(stored(&fx, Store::Local, PROFILE_KEY), None, "nothing changed, nothing rewritten");
    assert!(cookies(&fx).contains(&("vt_vid", "stored-visitor-1", Some(365 * 24 * 3600))), "{:?}", cookies(&fx));
    assert_eq!(hero_html(&v), "<h1>Welcome to Fixture Store</h1>");

    // Nothing stored, no cookies: a new visitor with a new id, saved and shared.
    let (mut v, fx) = start(Start::default(), home());
    let id = v.profile().visitor_id.clone();
    assert!(v.session().new_visitor);
    assert_eq!(Profile::decode(stored_value(&fx, Store::Local, PROFILE_KEY)).unwrap().0.visitor_id, id);
    assert!(cookies(&fx).iter().any(|c| c.0 == "vt_vid" && c.1 == id));
    assert!(v.exit_intent("api", T0));
    assert_eq!(offers(&v.effects()), [("welcome10", "api", "offers.welcome10")], "new visitors get the welcome offer");
}

fn stored_value<'a>(fx: &'a [Effect], store: Store, key: &str) -> &'a str {
    stored(fx, store, key).unwrap_or_else(|| panic!("{key} stored: {fx:?}"))
}

#[test]
fn with_consent_required_nothing_lasting_is_written_until_it_is_given() {
    let config = Config { require_consent: true, ..Config::default() };
    let (mut v, fx) = start(Start { config: config.clone(), ..Start::default() }, home());
    assert_eq!(cookies(&fx), [], "no cookie before consent");
    assert!(fx.iter().all(|e| !matches!(e, Effect::Store(Store::Local, _, value) if !value.is_empty())), "no localStorage: {fx:?}");
    assert!(stored(&fx, Store::Session, PROFILE_KEY).is_some(), "the tab still remembers the visitor");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Timer(Timer::Flush, _))), "nothing is sent either");

    v.consent(Some(true), "", T0 + 5.0);
    let fx = v.effects();
    let id = v.profile().visitor_id.clone();
    assert!(cookies(&fx).iter().any(|c| c.0 == "vt_vid" && c.1 == id), "the id goes to the edge now");
    assert!(cookies(&fx).contains(&("vt_consent", "1", Some(365 * 24 * 3600))), "the edge is told: {fx:?}");
    assert!(stored(&fx, Store::Local, PROFILE_KEY).is_some_and(|p| p.contains("\nco 1")));
    assert!(fx.contains(&Effect::Consent(true)));
    assert_eq!(names(&queued(&mut v)), ["page", "consent"], "what waited for consent goes out with it");

    // Refused before any consent: what was collected is dropped, and said so.
    let (mut v, _) = start(Start { config, ..Start::default() }, home());
    v.consent(Some(false), "", T0 + 5.0);
    let fx = v.effects();
    assert!(fx.contains(&Effect::Error("consent refused: 1 unsent events discarded".into())), "{fx:?}");
    assert_eq!(cookies(&fx), [("vt_consent", "0", Some(365 * 24 * 3600))], "only the refusal, for the edge to honour");
    assert_eq!(queued(&mut v), Vec::<serde_json::Value>::new(), "a refusal before consent sends nothing at all");
}

#[test]
fn consent_per_purpose_changes_what_it_names() {
    // Channel answers alone: sent as they are, storage and the edge's cookie untouched.
    let (mut v, _) = start(Start::default(), home());
    v.consent(None, r#"{"email":true}"#, T0 + 5.0);
    assert!(!cookies(&v.effects()).iter().any(|c| c.0 == "vt_consent"), "no personalization answer: no consent cookie");
    let sent = queued(&mut v);
    let consent = sent.iter().find(|e| e["type"] == "consent").expect("sent");
    assert_eq!((consent["channels"]["email"].as_bool(), consent.get("granted")), (Some(true), None));

    // A site that requires consent: channel answers wait for the personalization yes.
    let config = Config { require_consent: true, ..Config::default() };
    let (mut v, _) = start(Start { config, ..Start::default() }, home());
    v.consent(None, r#"{"sms":true}"#, T0 + 5.0);
    assert_eq!(queued(&mut v), Vec::<serde_json::Value>::new(), "held, not sent");
    v.consent(Some(true), r#"{"personalization":true}"#, T0 + 6.0);
    let sent = queued(&mut v);
    let answers: Vec<_> = sent.iter().filter(|e| e["type"] == "consent").map(|e| e["channels"].clone()).collect();
    assert_eq!(answers, [serde_json::json!({"sms": true}), serde_json::json!({"personalization": true})], "both, in order");
}

#[test]
fn a_deep_link_the_edge_checked_shows_its_offer_and_exit_intent_repeats_it() {
    // The edge checked the link's signature and expiry and names the offer in `vt_offer`.
    // free-ship's scenario wants a known customer: only the link can bring it to this visitor.
    let link = token::sign(b"journey-secret", br#"{"offer":"free-ship","journey":"abandoned-cart"}"#);
    let checked = || Start { cookies: "vt_offer=free-ship".into(), ..Start::default() };
    let (mut v, fx) = start(checked(), PageFacts { deep_link: Some(link.clone()), ..home() });
    assert_eq!(offers(&fx), [("free-ship", "deep_link", "deep_link.offers.free-ship")]);
    assert!(fx.contains(&Effect::SetCookie(vitrine_engine::cookies::OFFER, String::new(), Some(0))), "shown once: the cookie goes");
    let viewed = queued(&mut v).into_iter().find(|e| e["event"] == "Promotion Viewed").expect("reported");
    assert_eq!(viewed["properties"]["position"], "deep_link");
    assert_eq!(v.session().promised_offer.as_deref(), Some("free-ship"), "kept for the session");
    v.offer_closed("dismissed", T0 + 5.0);
    assert!(v.effects().contains(&Effect::OfferClosed("free-ship".into(), "dismissed".into())));
    assert!(v.exit_intent("top_edge", T0 + 9_000.0), "exit intent repeats the promise");
    assert_eq!(offers(&v.effects()), [("free-ship", "top_edge", "exit_intent.offers.free-ship")]);

    // Behind the edge the offer may already be on the page: not twice, but still promised.
    let (mut v, fx) = start(checked(), PageFacts { deep_link: Some(link), offer_on_page: true, ..home() });
    assert_eq!(offers(&fx), []);
    assert!(v.exit_intent("api", T0));
    assert_eq!(offers(&v.effects())[0].0, "free-ship");

    // A token nobody checked (a forged one, or any on a page the edge did not serve) shows
    // nothing; neither does a checked offer this bundle lacks: the engine's own pick.
    let forged = token::sign(b"guessed", br#"{"offer":"free-ship"}"#);
    for (jar, token) in [("", forged), ("vt_offer=gone", "x".to_string())] {
        let (mut v, fx) = start(Start { cookies: jar.into(), ..Start::default() }, PageFacts { deep_link: Some(token), ..home() });
        assert_eq!((offers(&fx), v.session().promised_offer.as_deref()), (vec![], None));
        assert!(v.exit_intent("api", T0));
        assert_eq!(offers(&v.effects())[0].0, "welcome10");
    }
}

#[test]
fn an_explicit_product_viewed_on_its_own_page_counts_once() {
    let (mut v, _) = start(Start::default(), product_page("C1"));
    let learned = v.session().clone();
    assert_eq!(learned.products.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["C1"], "the page taught it by itself");

    // The site also tracks the view it is on: reported, but not learned twice.
    let fx = track(&mut v, "Product Viewed", facts("C1", None));
    assert_eq!(v.session(), &learned, "C1's weight is unchanged");
    assert_eq!(stored(&fx, Store::Session, SESSION_KEY), None);
    assert!(fx.contains(&Effect::Event("Product Viewed".into())), "the event still goes out");

    // Another product is learned, and the edge hears of it (interests cookie).
    let fx = track(&mut v, "Product Viewed", facts("C2", None));
    assert_eq!(v.session().products.len(), 2);
    assert!(cookies(&fx).iter().any(|c| c.0 == "vt_int" && c.1.contains("|C1:") && c.1.contains("C2:") && c.2.is_none()), "{:?}", cookies(&fx));

    // On the next page, viewing C1 again counts again: it is the freshest interest again.
    let order = |v: &Visit| v.session().products.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
    assert_eq!(order(&v), ["C1", "C2"], "most recent last");
    v.page(home(), T0 + 60_000.0);
    v.effects();
    track(&mut v, "Product Viewed", facts("C1", None));
    assert_eq!(order(&v), ["C2", "C1"]);
}

#[test]
fn the_cart_cookie_follows_the_cart() {
    let mut earlier = SessionState { page_views: 2, ..SessionState::default() };
    earlier.cart.add(Line::new("K1", 1));
    let s = Start { cookies: "vt_cart=C1:2".into(), stored_session: Some(earlier.encode()), ..Start::default() };
    let (mut v, fx) = start(s, home());
    assert_eq!(v.session().cart[..], [Line::new("C1", 2)], "the store's cookie wins over the session's");
    assert!(!cookies(&fx).iter().any(|c| c.0 == "vt_cart"), "nothing changed, nothing written");
    assert_eq!(v.session().page_views, 3);

    let month = Some(30 * 24 * 3600);
    let fx = track(&mut v, "Product Added", facts("K4", Some(1)));
    assert_eq!(cookies(&fx).iter().find(|c| c.0 == "vt_cart"), Some(&("vt_cart", "C1:2,K4:1", month)));
    assert!(!v.decide("home-for-you", T0).unwrap().items.iter().any(|i| i.sku == "K4"), "never what is in the cart");
    let fx = track(&mut v, "Product Viewed", facts("K2", None));
    assert!(!cookies(&fx).iter().any(|c| c.0 == "vt_cart"), "a view leaves the cart alone");
    let fx = track(&mut v, "Product Removed", facts("C1", Some(1)));
    assert_eq!(cookies(&fx).iter().find(|c| c.0 == "vt_cart"), Some(&("vt_cart", "C1:1,K4:1", month)));

    let fx = track(&mut v, "Order Completed", EventFacts::default());
    assert_eq!(cookies(&fx).iter().find(|c| c.0 == "vt_cart"), Some(&("vt_cart", "", Some(0))), "an empty cart deletes the cookie");
    assert!(!v.exit_intent("api", T0 + 20.0), "no offer after a purchase");
    assert_eq!(offers(&v.effects()), []);
}

#[test]
fn automatic_page_events_say_where_the_visitor_is() {
    let page = PageFacts { referrer: "https://mail.example/".into(), utc_offset_minutes: 60, ..product_page("C1") };
    let (mut v, _) = start(Start::default(), page.clone());
    let events = queued(&mut v);
    let events = &events[events.len() - 2..]; // after the first page's
    assert_eq!(names(events), ["page", "Product Viewed"]);
    let p = &events[0];
    assert_eq!((p["name"].as_str(), p["properties"]["type"].as_str()), (Some("product"), Some("product")));
    assert_eq!(p["properties"]["path"], "/products/C1");
    assert_eq!(p["properties"]["referrer"], "https://mail.example/");
    assert_eq!(p["anonymousId"].as_str(), Some(v.profile().visitor_id.as_str()));
    assert_eq!(p["context"]["utcOffsetMinutes"], 60);
    let viewed = &events[1]["properties"];
    assert_eq!(viewed["product_id"], "C1");
    assert_eq!(viewed["name"], "Heart T-light holder");
    assert_eq!(viewed["category"], "Candles");
    assert_eq!(viewed["currency"], "GBP");
    assert_eq!(viewed["url"], "/products/C1");
    assert_eq!(viewed["image_url"], "/img/C1.jpg");
    assert_eq!(viewed["price"].to_string(), "2.95", "two decimals, as the store shows it");

    let config = Config { auto_track: AutoTrack::Page, ..Config::default() };
    let (mut v, _) = start(Start { config, ..Start::default() }, page.clone());
    assert_eq!(names(&queued(&mut v)), ["page"], "the site tracks its own e-commerce events");
    let config = Config { auto_track: AutoTrack::Off, ..Config::default() };
    let (mut v, _) = start(Start { config, ..Start::default() }, page);
    assert_eq!(names(&queued(&mut v)), Vec::<String>::new());
}

fn posted(fx: &[Effect]) -> Option<(u32, &str)> {
    fx.iter().find_map(|e| if let Effect::Post(id, body) = e { Some((*id, body.as_str())) } else { None })
}

#[test]
fn events_go_out_in_batches_on_a_timer_and_are_retried() {
    let (mut v, fx) = start(Start::default(), home());
    assert!(fx.contains(&Effect::Timer(Timer::Flush, 1_000.0)), "a batch waits a second for company: {fx:?}");
    v.wake(Timer::Flush, T0 + 1_000.0, true);
    let fx = v.effects();
    let (batch, body) = posted(&fx).expect("the batch goes when its timer fires");
    assert!(body.contains(r#""type":"page""#), "{body}");

    v.sent(batch, true, None, 0.5, T0 + 1_100.0, true);
    let fx = v.effects();
    assert!(fx.contains(&Effect::Sent(false)));
    let retry = fx.iter().find_map(|e| if let Effect::Timer(Timer::Flush, ms) = e { Some(*ms) } else { None });
    assert_eq!(retry, Some(750.0), "retried after a backoff (1 s, jittered): {fx:?}");
    assert!(stored(&fx, Store::Local, OUTBOX_KEY).is_some_and(|o| o.contains(r#""type":"page""#)), "kept for the next page");

    v.wake(Timer::Flush, T0 + 1_850.0, false);
    assert_eq!(posted(&v.effects()), None, "offline: nothing posted");
    v.resume(T0 + 5_000.0, true);
    let (batch, _) = posted(&v.effects()).expect("back online: the batch goes");
    v.sent(batch, false, Some(r#"{"errors":["bad"]}"#), 0.0, T0 + 5_100.0, true);
    let fx = v.effects();
    assert!(fx.contains(&Effect::Error(r#"events refused by the endpoint: {"errors":["bad"]}"#.into())), "never silent");
    assert_eq!(stored(&fx, Store::Local, OUTBOX_KEY), Some(""), "done with");
}

#[test]
fn the_exit_offer_shows_once_a_session_and_its_click_is_reported_once() {
    let (mut v, _) = start(Start::default(), home());
    assert!(v.exit_intent("api", T0));
    v.effects();
    v.offer_clicked(T0 + 1.0);
    v.offer_clicked(T0 + 2.0);
    let fx = v.effects();
    assert_eq!(fx.iter().filter(|e| **e == Effect::Event("Promotion Clicked".into())).count(), 1);
    assert!(matches!(fx.last(), Some(Effect::Beacon(b)) if b.iter().any(|b| b.contains("Promotion Clicked"))), "sent at once, before the page navigates");
    v.beaconed(1);
    v.offer_closed("escape", T0 + 2.5);
    assert!(!v.exit_intent("api", T0 + 3.0), "once per session");
    v.page(home(), T0 + 60_000.0);
    assert!(!v.exit_intent("api", T0 + 60_001.0), "not on the next page either");
    assert_eq!(offers(&v.effects()), []);
}

#[test]
fn identify_merges_traits_and_names_the_customer_on_later_events() {
    let (mut v, _) = start(Start::default(), home());
    let traits: Value = serde_json::from_str(r#"{"segment":"Loyal","first_name":"Ann"}"#).unwrap();
    v.identify(Some("cust-42".into()), traits, r#"{"segment":"Loyal","first_name":"Ann"}"#, String::new(), T0 + 1.0);
    let fx = v.effects();
    assert_eq!(hero_html(&v), "<h1>Early access for you, Ann</h1>", "the next decision knows the customer");
    let (saved, traits) = Profile::decode(stored_value(&fx, Store::Local, PROFILE_KEY)).unwrap();
    assert_eq!((saved.user_id.as_deref(), traits), (Some("cust-42"), Some(r#"{"first_name":"Ann","segment":"Loyal"}"#)));
    // A later identify without a user id keeps it, and adds to the traits.
    v.identify(None, serde_json::from_str(r#"{"first_name":"Annie"}"#).unwrap(), "{}", String::new(), T0 + 2.0);
    assert_eq!(v.profile().user_id.as_deref(), Some("cust-42"));
    assert_eq!(hero_html(&v), "<h1>Early access for you, Annie</h1>");
    let events = queued(&mut v);
    assert_eq!(names(&events), ["page", "identify", "identify"]);
    assert_eq!(events[1]["traits"]["segment"], "Loyal");
    assert!(events[0].get("userId").is_none() && events[1]["userId"] == "cust-42", "from identify on, events name the customer");
}

#[test]
fn the_session_learns_from_the_event_tables_names() {
    use vitrine_browser_sdk::session::Learn;
    use vitrine_browser_sdk::visit::lesson;
    use vitrine_engine::events::{self, Learns};
    let p = EventFacts { product: Some("A1".into()), category: Some("Kitchen".into()), quantity: Some(2), products: Some(vec![("A1".into(), 3)]) };
    assert_eq!(lesson("Product Clicked", &p), Some(Learn::ProductViewed("A1".into())));
    assert_eq!(lesson("Product List Viewed", &p), Some(Learn::CategoryViewed("Kitchen".into())));
    assert_eq!(lesson("Checkout Started", &p), Some(Learn::CartReplaced(vec![("A1".into(), 3)])));
    assert_eq!(lesson("Product Category Viewed", &p), None, "not in the table (not a Segment v2 name): /v1/events refuses it");
    for e in events::EVENTS.iter().filter(|e| e.track) {
        assert_eq!(lesson(e.name, &p).is_some(), e.learns != Learns::Nothing, "{}", e.name);
    }
}

/// What the host does with a page view's slots: shows the decisions that came in time (all
/// here), then reports the page decided (`Effect::Filled`).
fn show(v: &mut Visit, fx: Vec<Effect>, now: f64) {
    for e in fx {
        match e {
            Effect::Fill(_, _, Some(d)) => v.shown(&d, now),
            Effect::Filled => v.exposed(now),
            _ => {}
        }
    }
}

/// The measurement events among `events`, as the edge reads them into records
/// (`measure::read_properties`).
fn measured(events: &[serde_json::Value]) -> Vec<Record> {
    events
        .iter()
        .filter(|e| vitrine_engine::events::track(e["event"].as_str().unwrap_or_default()).is_some_and(|s| s.measured))
        .filter(|e| !["Product Viewed", "Product Added", "Order Completed", "Checkout Started"].contains(&e["event"].as_str().unwrap()))
        .map(|e| {
            let mut r = Record { event: e["event"].as_str().unwrap().into(), ..Record::default() };
            let props: Value = serde_json::from_value(e["properties"].clone()).unwrap();
            measure::read_properties(&mut r, &props, 200, 100);
            r
        })
        .collect()
}

#[test]
fn a_page_view_sends_what_it_showed_once() {
    let (mut v, fx) = start(Start::default(), home());
    let decisions: Vec<vitrine_engine::Decision> =
        fx.iter().filter_map(|e| if let Effect::Fill(_, _, Some(d)) = e { Some((**d).clone()) } else { None }).collect();
    assert_eq!(decisions.len(), 2);
    show(&mut v, fx, T0 + 5.0);
    let events = queued(&mut v);
    let got = measured(&events);
    let page = got[0].page.clone();
    assert_eq!(page.len(), 36, "a page view id: {page}");
    // Exactly the engine's exposures, each with this page view's id.
    let want: Vec<Record> = measure::page_exposures(&decisions, None).into_iter().map(|r| Record { page: page.clone(), ..r }).collect();
    assert_eq!(got, want);
    let names: Vec<&str> = got.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(names, ["Promotion Viewed", "Product List Viewed"], "the hero (content) and Just for You (a carousel)");
    assert_eq!((got[1].placement.as_str(), got[1].items.len()), ("home-for-you", decisions[1].items.len()));
    assert!(!got[1].items.is_empty());
    let props = &events.iter().find(|e| e["event"] == "Product List Viewed").unwrap()["properties"];
    assert_eq!(props["items"][0], got[1].items[0].as_str(), "items: the SKUs, in order");

    // Once: the page view is over when its slots are decided.
    v.exposed(T0 + 6.0);
    assert_eq!(measured(&queued(&mut v)), got, "not twice (still queued: the beacons were refused)");

    // The next page view (a single-page app's route change) has its own id; slots the edge
    // filled are not among the page's slots to decide (the page side leaves them out), so
    // only the one left to us is reported; a decision that came too late was not shown.
    v.page(PageFacts { slots: vec!["home-for-you".into()], ..home() }, T0 + 60_000.0);
    let fx = v.effects();
    show(&mut v, fx, T0 + 60_001.0);
    let next: Vec<Record> = measured(&queued(&mut v)).into_iter().filter(|r| r.page != page).collect();
    assert_eq!(next.iter().map(|r| (r.event.as_str(), r.placement.as_str())).collect::<Vec<_>>(), [("Product List Viewed", "home-for-you")]);
    assert_ne!(next[0].page, page);
    v.page(home(), T0 + 120_000.0);
    v.effects();
    v.exposed(T0 + 120_001.0);
    assert_eq!(measured(&queued(&mut v)).len(), got.len() + next.len(), "nothing shown in time, nothing exposed");
}

fn decision(placement: &str, status: Status, variant: Option<&str>, experiment: Option<(&str, &str)>, skus: &[&str]) -> vitrine_engine::Decision {
    vitrine_engine::Decision {
        placement: placement.into(),
        status,
        title: String::new(),
        variant: variant.map(Into::into),
        items: skus
            .iter()
            .map(|s| vitrine_engine::DecidedItem {
                sku: (*s).into(),
                title: String::new(),
                url: String::new(),
                image: String::new(),
                price: 1.0,
                source: "popular",
                score: 1.0,
            })
            .collect(),
        html: if status == Status::Filled { "<p>x</p>".into() } else { String::new() },
        explain: vitrine_engine::Explain {
            experiment: experiment.map(|(key, arm)| vitrine_engine::ExperimentArm { key: key.into(), arm: arm.into() }),
            ..Default::default()
        },
    }
}

/// The SDK writes exposures itself (crate::exposure: the engine's `Record`s cost too much of
/// the download): read back, they are the engine's, for every kind of slot and the holdout.
#[test]
fn the_sdks_exposures_are_the_engines() {
    let page = [
        decision("recs", Status::Filled, None, Some(("recs-v2", "blend")), &["A", "B\"q"]),
        decision("hero", Status::Filled, Some("returning"), None, &[]),
        decision("hero2", Status::Filled, Some("v"), Some(("hero-test", "b")), &[]),
        decision("cart", Status::Holdout, None, Some(("cart-test", "off")), &[]),
        decision("side", Status::NotTargeted, None, None, &[]),
        decision("empty", Status::Empty, None, None, &[]),
    ];
    let held = [decision("hero", Status::Holdout, None, None, &[])];
    let nothing = [decision("side", Status::NotTargeted, None, None, &[])];
    for (decisions, arm) in
        [(&page[..], None), (&page[..], Some("personalized")), (&held[..], Some("holdout")), (&nothing[..], Some("holdout")), (&[][..], None)]
    {
        let mut sent = Vec::new();
        vitrine_browser_sdk::exposure::page_exposures(decisions, arm, "pv-1", |event, props| sent.push((event, props)));
        let got: Vec<Record> = sent
            .into_iter()
            .map(|(event, props)| {
                let mut r = Record { event: event.into(), ..Record::default() };
                measure::read_properties(&mut r, &serde_json::from_str(&props).unwrap(), 200, 100);
                r
            })
            .collect();
        let want: Vec<Record> = measure::page_exposures(decisions, arm).into_iter().map(|r| Record { page: "pv-1".into(), ..r }).collect();
        assert_eq!(got, want, "{arm:?}");
    }
    // An exit offer in an experiment.
    let offer = vitrine_engine::OfferDecision {
        id: "welcome".into(),
        scenario: "first_visit".into(),
        kind: "percent".into(),
        value: 10.0,
        code: "HELLO10".into(),
        headline: "10% off".into(),
        body: String::new(),
        cta_text: String::new(),
        cta_url: "/".into(),
        html: "<p>x</p>".into(),
        explain: vitrine_engine::Explain { experiment: Some(vitrine_engine::ExperimentArm { key: "offers".into(), arm: "b".into() }), ..Default::default() },
    };
    let props = vitrine_browser_sdk::exposure::offer_properties(&offer, [("name", "10% off"), ("position", "top_edge")], "pv-2");
    let mut got = Record { event: "Promotion Viewed".into(), ..Record::default() };
    measure::read_properties(&mut got, &serde_json::from_str(&props).unwrap(), 200, 100);
    assert_eq!(got, Record { page: "pv-2".into(), ..measure::offer_exposure(&offer) });
}

#[test]
fn the_exit_offer_reports_its_exposure_its_click_or_its_closing() {
    let (mut v, _) = start(Start::default(), home());
    assert!(v.exit_intent("api", T0));
    let offer = v.effects().into_iter().find_map(|e| if let Effect::ShowOffer(o, _, _) = e { Some(o) } else { None }).expect("shown");
    let shown = queued(&mut v);
    let viewed = shown.iter().find(|e| e["event"] == "Promotion Viewed" && e["properties"].get("offer").is_some()).expect("reported");
    let mut r = Record { event: "Promotion Viewed".into(), ..Record::default() };
    measure::read_properties(&mut r, &serde_json::from_value(viewed["properties"].clone()).unwrap(), 200, 100);
    assert_eq!(r.page.len(), 36, "the page view");
    assert_eq!(r, Record { page: r.page.clone(), ..measure::offer_exposure(&offer) }, "the engine's offer exposure, no placement");
    assert_eq!(viewed["properties"]["position"], "api");
    v.offer_closed("dismissed", T0 + 1.0);
    let closed = queued(&mut v);
    let closed: Vec<_> = closed.iter().filter(|e| e["event"] == "Promotion Closed").collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["properties"], viewed["properties"]);

    // Followed, then closed by the navigation: clicked, not closed.
    let (mut v, _) = start(Start::default(), home());
    assert!(v.exit_intent("api", T0));
    v.effects();
    v.offer_clicked(T0 + 1.0);
    v.offer_closed("dismissed", T0 + 2.0);
    let names = names(&queued(&mut v));
    assert!(names.contains(&"Promotion Clicked".to_string()) && !names.contains(&"Promotion Closed".to_string()), "{names:?}");
}

#[test]
fn a_click_on_a_slots_product_is_sent_at_once() {
    let (mut v, fx) = start(Start::default(), home());
    show(&mut v, fx, T0 + 5.0);
    v.product_clicked("home-for-you", "C2", T0 + 7.0);
    let fx = v.effects();
    let Some(Effect::Beacon(bodies)) = fx.last() else { panic!("sent at once, before the page navigates: {fx:?}") };
    let events: Vec<serde_json::Value> =
        bodies.iter().flat_map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap()["batch"].as_array().unwrap().clone()).collect();
    let clicked = events.iter().find(|e| e["event"] == "Product Clicked").expect("sent");
    let exposed = events.iter().find(|e| e["event"] == "Product List Viewed").expect("queued before it");
    assert_eq!(clicked["properties"]["placement"], "home-for-you");
    assert_eq!(clicked["properties"]["product_id"], "C2");
    assert_eq!(clicked["properties"]["page"], exposed["properties"]["page"], "the page view it was shown in");
    let mut r = Record::default();
    measure::read_properties(&mut r, &serde_json::from_value(clicked["properties"].clone()).unwrap(), 200, 100);
    assert_eq!((r.placement.as_str(), &r.items[..]), ("home-for-you", &["C2".to_string()][..]));
    // An item whose template names no SKU: the slot only.
    v.beaconed(0);
    v.product_clicked("hero", "", T0 + 8.0);
    let events = queued(&mut v);
    let hero = events.iter().find(|e| e["event"] == "Product Clicked" && e["properties"]["placement"] == "hero").unwrap();
    assert!(hero["properties"].get("product_id").is_none());
}

#[test]
fn without_consent_no_exposure_or_click_is_sent() {
    let required = || Start { config: Config { require_consent: true, ..Config::default() }, ..Start::default() };
    // Not answered yet: held in memory like every event (nothing posted or stored), sent once
    // consent comes.
    let (mut v, fx) = start(required(), home());
    show(&mut v, fx, T0 + 5.0);
    v.product_clicked("home-for-you", "C2", T0 + 6.0);
    let fx = v.effects();
    assert!(!fx.iter().any(|e| matches!(e, Effect::Post(..)) || matches!(e, Effect::Store(_, OUTBOX_KEY, s) if !s.is_empty())), "{fx:?}");
    assert!(fx.iter().all(|e| !matches!(e, Effect::Beacon(b) if !b.is_empty())), "nothing leaves: {fx:?}");
    v.consent(Some(true), "", T0 + 7.0);
    v.effects();
    let names = names(&queued(&mut v));
    for name in ["Promotion Viewed", "Product List Viewed", "Product Clicked"] {
        assert!(names.contains(&name.to_string()), "{name} after consent: {names:?}");
    }

    // Refused: nothing queued, and no error for events the visitor never asked for.
    let refused = Start { stored_profile: Some(Profile { visitor_id: "v-1".into(), consent: Some(false), ..Profile::default() }.encode("")), ..required() };
    let (mut v, fx) = start(refused, home());
    show(&mut v, fx, T0 + 5.0);
    v.product_clicked("home-for-you", "C2", T0 + 6.0);
    let fx = v.effects();
    assert!(!fx.iter().any(|e| matches!(e, Effect::Error(_) | Effect::Event(_))), "{fx:?}");
}

#[test]
fn identify_null_forgets_the_customer_and_their_token() {
    let (mut v, _) = start(Start::default(), home());
    let id = v.profile().visitor_id.clone();
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjdXN0LTQyIn0.c2ln";
    v.identify(Some("cust-42".into()), serde_json::from_str(r#"{"segment":"Loyal","first_name":"Ann"}"#).unwrap(), "{}", token.into(), T0 + 1.0);
    assert_eq!(hero_html(&v), "<h1>Early access for you, Ann</h1>");
    v.effects();
    v.identify(Some(String::new()), Value::Null, "{}", String::new(), T0 + 2.0);
    let fx = v.effects();
    // What was queued as the customer went first, with their token.
    let Some(Effect::Beacon(bodies)) = fx.iter().find(|e| matches!(e, Effect::Beacon(_))) else { panic!("a flush first: {fx:?}") };
    assert_eq!(serde_json::from_str::<serde_json::Value>(&bodies[0]).unwrap()["identity"], token);
    v.beaconed(0);
    assert_eq!((v.profile().user_id.as_deref(), &v.profile().traits, v.profile().visitor_id.as_str()), (None, &Value::Null, id.as_str()));
    assert_eq!(hero_html(&v), "<h1>Welcome to Fixture Store</h1>", "the next decision is an anonymous visitor's");
    let (saved, traits) = Profile::decode(stored_value(&fx, Store::Local, PROFILE_KEY)).unwrap();
    assert_eq!((saved.user_id, traits), (None, Some("null")), "forgotten on this device too");
    v.track("Products Searched", &EventFacts::default(), r#"{"query":"mugs"}"#, T0 + 3.0);
    let later = queued(&mut v);
    let searched = later.iter().find(|e| e["event"] == "Products Searched").unwrap();
    assert!(searched.get("userId").is_none(), "{searched}");
}

#[test]
fn reset_makes_someone_new_and_clears_what_the_sdk_keeps() {
    let (mut v, _) = start(Start { cookies: format!("vt_vid={EDGE_ID}"), ..Start::default() }, product_page("C1"));
    v.identify(Some("cust-42".into()), serde_json::from_str(r#"{"first_name":"Ann"}"#).unwrap(), "{}", "tok".into(), T0 + 1.0);
    track(&mut v, "Product Added", facts("C1", Some(2)));
    v.effects();
    v.reset(T0 + 5.0);
    let fx = v.effects();
    assert!(matches!(fx.first(), Some(Effect::Beacon(b)) if !b.is_empty()), "what happened before goes first: {fx:?}");
    v.beaconed(0);
    let id = v.profile().visitor_id.clone();
    assert_ne!(id, EDGE_ID, "a new anonymous id");
    assert_eq!((v.profile().user_id.as_deref(), &v.profile().traits), (None, &Value::Null));
    assert_eq!(v.session(), &SessionState::default(), "no cart, no interests, no offer shown");
    let set = cookies(&fx);
    assert!(set.contains(&("vt_vid", id.as_str(), Some(365 * 24 * 3600))), "the edge learns the new id: {set:?}");
    assert!(set.contains(&("vt_cart", "", Some(0))) && set.contains(&("vt_int", "", Some(0))), "{set:?}");
    let (saved, _) = Profile::decode(stored_value(&fx, Store::Local, PROFILE_KEY)).unwrap();
    assert_eq!((saved.visitor_id.as_str(), saved.user_id), (id.as_str(), None));
    assert_eq!(SessionState::decode(stored_value(&fx, Store::Session, SESSION_KEY)), Some(SessionState::default()));
    // Later events are the new visitor's, with no token.
    v.track("Product Viewed", &facts("C2", None), r#"{"product_id":"C2"}"#, T0 + 10.0);
    v.flush(T0 + 20.0);
    let bodies = match v.effects().pop() {
        Some(Effect::Beacon(bodies)) => bodies,
        other => panic!("a flush beacons: {other:?}"),
    };
    let last: serde_json::Value = serde_json::from_str(bodies.last().unwrap()).unwrap();
    assert!(last.get("identity").is_none(), "{last}");
    let viewed = last["batch"].as_array().unwrap().iter().find(|e| e["event"] == "Product Viewed" && e["properties"]["product_id"] == "C2").unwrap().clone();
    assert_eq!((viewed["anonymousId"].as_str(), viewed.get("userId")), (Some(id.as_str()), None));
}

#[test]
fn anonymous_id_sets_a_valid_id_and_refuses_others_by_name() {
    let (mut v, _) = start(Start::default(), home());
    let id = v.profile().visitor_id.clone();
    assert_eq!(v.anonymous_id(None), id);
    assert_eq!(v.anonymous_id(Some("site-visitor-0042".into())), "site-visitor-0042");
    let fx = v.effects();
    assert!(cookies(&fx).contains(&("vt_vid", "site-visitor-0042", Some(365 * 24 * 3600))), "{fx:?}");
    assert_eq!(Profile::decode(stored_value(&fx, Store::Local, PROFILE_KEY)).unwrap().0.visitor_id, "site-visitor-0042");
    assert_eq!(v.anonymous_id(Some("<script>".into())), "site-visitor-0042", "kept");
    assert!(v.effects().iter().any(|e| matches!(e, Effect::Error(r) if r.starts_with("anonymousId:"))));
}

#[test]
fn an_id_the_site_gives_is_the_visitors_over_the_shared_cookie_and_the_stored_one() {
    // The loader's `anonymousId` (with data-ajs-anonymous-id: Segment's ajs_anonymous_id, read
    // and unquoted by the loader; tests/e2e/npm.mjs).
    let stored = Profile { visitor_id: "stored-visitor-1".into(), ..Profile::default() }.encode("null");
    let given =
        Start { anonymous_id: Some("seg-1234abcd".into()), cookies: format!("vt_vid={EDGE_ID}"), stored_profile: Some(stored.clone()), ..Start::default() };
    let (v, fx) = start(given.clone(), home());
    assert_eq!(v.profile().visitor_id, "seg-1234abcd", "the site's id wins: both tools' events join on it");
    assert!(cookies(&fx).contains(&("vt_vid", "seg-1234abcd", Some(365 * 24 * 3600))), "and the edge uses it too");
    assert_eq!(Profile::decode(stored_value(&fx, Store::Local, PROFILE_KEY)).unwrap().0.visitor_id, "seg-1234abcd");
    let (v, _) = start(Start { anonymous_id: Some("bad id!".into()), ..given }, home());
    assert_eq!(v.profile().visitor_id, EDGE_ID, "an id the edge would refuse is not taken");
}

#[test]
fn page_with_segments_arguments_names_the_product_of_a_single_page_app() {
    let (mut v, _) = start(Start::default(), home());
    queued(&mut v);
    let spa = PageFacts {
        properties: r#"{"product_id":"C1","name":"Product detail","category":"Shop","title":"Heart"}"#.into(),
        product: Some("C1".into()),
        timezone: "Europe/London".into(),
        ..home()
    };
    v.page(spa, T0 + 1_000.0);
    assert!(v.session().products.iter().any(|(sku, _)| sku == "C1"), "learned as on the product's own page");
    assert_eq!(v.visitor().request.page.kind, "product");
    let events = queued(&mut v);
    let events = &events[events.len() - 2..]; // after the first page's
    assert_eq!(names(events), ["page", "Product Viewed"]);
    let p = &events[0];
    assert_eq!(p["name"], "product", "the page type, now the product's page");
    assert_eq!((p["properties"]["name"].as_str(), p["properties"]["category"].as_str()), (Some("Product detail"), Some("Shop")));
    assert_eq!((p["properties"]["path"].as_str(), p["properties"]["title"].as_str()), (Some("/"), Some("Heart")), "given properties override");
    assert_eq!(p["context"]["timezone"], "Europe/London", "Segment's context.timezone");
    assert_eq!(events[1]["properties"]["name"], "Heart T-light holder", "the catalog's product");
    // A product the catalog does not hold: the URL's page, as before.
    v.page(PageFacts { product: Some("NOPE".into()), ..home() }, T0 + 2_000.0);
    assert_eq!(v.visitor().request.page.kind, "home");
}

/// A host that fills the page first and settles after (web/mod.rs: `start_fill`, the slots,
/// then `settle` and what the fill showed) queues what `start` and the same reports give, in
/// the same order; before the fill it queues nothing but the fill (no storage, no cookie, no
/// event). The same for a later page view (`page_fill`), and with a deep link's offer.
#[test]
fn filling_first_then_settling_queues_what_a_whole_page_view_does() {
    thread_local!(static NEXT_ID: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    fn new_id() -> String {
        NEXT_ID.with(|n| {
            n.set(n.get() + 1);
            format!("00000000-0000-4000-8000-{:012}", n.get())
        })
    }
    let env = || Env { new_id, ..env() };
    /// What the host reports once the visit settled: the decisions it showed, then the page done.
    fn report(v: &mut Visit, fills: &[Effect]) -> Vec<Effect> {
        show(v, fills.to_vec(), T0 + 5.0);
        v.effects()
    }
    let is_fill = |e: &Effect| matches!(e, Effect::Fill(..) | Effect::Filled);
    for jar in ["", "vt_offer=free-ship"] {
        let s = || Start { cookies: jar.into(), ..Start::default() };
        // All at once.
        NEXT_ID.with(|n| n.set(0));
        let mut whole = Visit::start(Engine::load(&common::bundle_bytes()).unwrap(), s(), home(), env(), T0);
        let mut want = whole.effects();
        let fills: Vec<Effect> = want.iter().filter(|e| is_fill(e)).cloned().collect();
        want.extend(report(&mut whole, &fills));
        whole.page(product_page("C1"), T0 + 60_000.0);
        let next = whole.effects();
        let next_fills: Vec<Effect> = next.iter().filter(|e| is_fill(e)).cloned().collect();
        want.extend(next);
        want.extend(report(&mut whole, &next_fills));

        // The fill first.
        NEXT_ID.with(|n| n.set(0));
        let mut split = Visit::start_fill(Engine::load(&common::bundle_bytes()).unwrap(), s(), home(), env(), T0);
        let mut got = split.effects();
        assert_eq!(got, fills, "before the fill, only the fill ({jar:?})");
        split.settle();
        got.extend(split.effects());
        got.extend(report(&mut split, &fills));
        split.page_fill(product_page("C1"), T0 + 60_000.0);
        let first = split.effects();
        assert!(first.iter().all(is_fill), "{first:?}");
        got.extend(first);
        split.settle();
        got.extend(split.effects());
        got.extend(report(&mut split, &next_fills));
        assert_eq!(got, want, "{jar:?}");
        assert!(want.iter().any(|e| matches!(e, Effect::Post(..) | Effect::Timer(..))) && want.iter().any(|e| matches!(e, Effect::Store(..))));
    }
}

/// An exit offer that captures a contact (`[[offers]] capture`) shows the lead form, not a
/// code; the same offer promised by a deep link (its visitor came from the welcome message,
/// confirmed) shows as any offer.
#[test]
fn a_capturing_exit_offer_asks_for_the_form_but_not_when_a_link_promised_it() {
    use vitrine_engine::rules::Capture;
    let mut body = common::body();
    let welcome = body.rules.offers.iter_mut().find(|o| o.id == "welcome10").unwrap();
    welcome.capture = Capture::EmailAndSms;
    welcome.code.clear(); // a capturing offer's codes are unique, issued by the edge
    body.rules.unique_codes = vec![vitrine_engine::rules::UniqueCode { offer: "welcome10".into(), prefix: "WELCOME".into(), valid_days: 30 }];
    body.rules.journeys = vec![serde_json::from_value(serde_json::json!({
        "id": "welcome", "trigger": "welcome",
        "steps": [{ "after": "0s", "channel": "email", "subject": "Your code", "body": "{{offer.code}}", "offer": "welcome10" }]
    }))
    .unwrap()];
    let header = vitrine_engine::bundle::Header { format_version: vitrine_engine::bundle::FORMAT_VERSION, build_id: [7; 16], created_at: 1_790_000_000 };
    let bytes = vitrine_engine::bundle::encode(&header, &body);
    let visit = |s: Start, page: PageFacts| Visit::start(Engine::load(&bytes).unwrap(), s, page, env(), T0);
    let captures =
        |fx: &[Effect]| fx.iter().filter_map(|e| if let Effect::ShowOffer(o, _, c) = e { Some((o.id.clone(), *c)) } else { None }).collect::<Vec<_>>();

    let mut v = visit(Start::default(), home());
    assert!(v.exit_intent("top_edge", T0));
    assert_eq!(captures(&v.effects()), [("welcome10".to_string(), Capture::EmailAndSms)]);
    assert_eq!(v.store_name(), "Fixture Store", "the SMS consent text names the store");

    let link = token::sign(b"journey-secret", br#"{"offer":"welcome10","journey":"welcome"}"#);
    let checked = Start { cookies: "vt_offer=welcome10".into(), ..Start::default() };
    let mut v = visit(checked, PageFacts { deep_link: Some(link), ..home() });
    assert_eq!(captures(&v.effects()), [("welcome10".to_string(), Capture::None)], "the link's landing shows the offer");
    v.offer_closed("dismissed", T0 + 5.0);
    v.effects();
    assert!(v.exit_intent("top_edge", T0 + 9_000.0));
    assert_eq!(captures(&v.effects()), [("welcome10".to_string(), Capture::None)], "and so does its exit intent");
}

/// The `vt_seen` cookies written.
fn seen(fx: &[Effect]) -> Vec<(&str, &str, Option<i64>)> {
    cookies(fx).into_iter().filter(|c| c.0 == "vt_seen").collect()
}

#[test]
fn recently_viewed_products_are_remembered_across_visits_and_shared_with_the_edge() {
    let year = Some(365 * 24 * 3600);
    let (mut v, fx) = start(Start::default(), product_page("K2"));
    assert_eq!(v.profile().viewed, "K2");
    assert_eq!(seen(&fx), [("vt_seen", "K2", year)]);
    v.page(product_page("C1"), T0 + 1000.0);
    let fx = v.effects();
    assert_eq!(seen(&fx), [("vt_seen", "C1,K2", year)], "most recent first");
    let kept = stored(&fx, Store::Local, PROFILE_KEY).expect("kept with the profile").to_string();
    v.page(product_page("K2"), T0 + 1500.0);
    assert_eq!(seen(&v.effects()), [("vt_seen", "K2,C1", year)], "seen again: first, once");
    v.page(home(), T0 + 2000.0);
    assert!(seen(&v.effects()).is_empty(), "nothing new viewed, nothing written");

    // The next visit (a reload, another day): local storage kept the list.
    let (mut v, _) = start(Start { stored_profile: Some(kept), ..Start::default() }, home());
    assert_eq!(v.profile().viewed, "C1,K2");
    // A sign-out on a shared device forgets them, the cookie too.
    v.reset(T0 + 3000.0);
    assert!(v.profile().viewed.is_empty());
    assert_eq!(seen(&v.effects()), [("vt_seen", "", year)]);
}
