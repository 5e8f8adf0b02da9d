//! wasm tests that need no DOM, run in Node by wasm-bindgen-test-runner: the engine inside the
//! SDK's wasm build decides exactly as the native engine did, and the pure modules behave the
//! same compiled to wasm.

#![cfg(target_arch = "wasm32")]

mod common;

use vitrine_browser_sdk::exit_intent::{ExitConfig, ExitIntent, Input, Surface, Trigger};
use vitrine_browser_sdk::outbox::{Gate, Outbox, OutboxConfig};
use vitrine_engine::Engine;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn wasm_decisions_equal_the_native_engine() {
    let engine = Engine::load(&common::bundle_bytes()).expect("fixture bundle loads in wasm");
    let got = common::decide_all(&engine);
    let expected: serde_json::Value = serde_json::from_str(include_str!("expected/decisions.json")).unwrap();
    assert_eq!(got, expected);
}

#[wasm_bindgen_test]
fn exit_intent_and_outbox_run_in_wasm() {
    let mut d = ExitIntent::new(ExitConfig::default(), Surface::Pointer, 0.0);
    assert_eq!(d.observe(Input::PointerLeft { y: 0.0 }, 6_000.0), Some(Trigger::TopEdge));
    let mut o = Outbox::new(OutboxConfig::default(), Gate::Open);
    o.push(r#"{"messageId":"a"}"#.into(), 0.0).unwrap();
    let batch = o.poll(1_000.0, true).expect("due");
    assert!(batch.body.starts_with(r#"{"batch":[{"messageId":"a"}],"sentAt":"1970-01-01T00:00:01.000Z"#));
}

/// In the browser the engine borrows JavaScript's RegExp, Number(), String() and toLowerCase()
/// (engine/src/host.rs): GrowthBook's own semantics, checked against cases where regex-lite
/// and Rust differ.
#[wasm_bindgen_test]
fn conditions_use_javascripts_regexp_and_numbers() {
    use vitrine_engine::{Condition, Value};
    let eval = |cond: &str, attrs: &str| {
        let c = Condition::compile(&serde_json::from_str::<Value>(cond).unwrap()).unwrap();
        c.eval(&serde_json::from_str::<Value>(attrs).unwrap(), &Default::default())
    };
    // Lookahead: regex-lite refuses it; JavaScript supports it.
    assert!(eval(r#"{"s": {"$regex": "^foo(?=bar)"}}"#, r#"{"s": "foobar"}"#));
    assert!(!eval(r#"{"s": {"$regex": "^foo(?=bar)"}}"#, r#"{"s": "foobaz"}"#));
    // `$regexi` folds case beyond ASCII, as JavaScript's `iu` does.
    assert!(eval(r#"{"s": {"$regexi": "^ÉTÉ$"}}"#, r#"{"s": "été"}"#));
    // Numbers compare as their JavaScript strings.
    assert!(eval(r#"{"n": {"$regex": "^1e\\+21$"}}"#, r#"{"n": 1e21}"#));
    assert!(eval(r#"{"n": {"$regex": "^1e-7$"}}"#, r#"{"n": 1e-7}"#));
    assert!(eval(r#"{"n": {"$regex": "^0\\.5$"}}"#, r#"{"n": 0.5}"#));
    // `$ini` lower-cases as JavaScript's toLowerCase() does, beyond ASCII too.
    assert!(eval(r#"{"s": {"$ini": ["ÉTÉ", "x"]}}"#, r#"{"s": "été"}"#));
    assert!(!eval(r#"{"s": {"$nini": ["ÉTÉ"]}}"#, r#"{"s": "Été"}"#));
    // Strings compare with numbers as JavaScript's Number() reads them.
    assert!(eval(r#"{"n": {"$gt": 15}}"#, r#"{"n": " 0x10\n"}"#));
    assert!(eval(r#"{"n": {"$lt": 0.01}}"#, r#"{"n": "1e-3"}"#));
    assert!(eval(r#"{"n": {"$gt": 1e300}}"#, r#"{"n": "Infinity"}"#));
    assert!(!eval(r#"{"n": {"$gt": 0}}"#, r#"{"n": "5abc"}"#));
    assert!(!eval(r#"{"n": {"$gt": 0}}"#, r#"{"n": "inf"}"#));
    // An invalid pattern never matches and is reported, as natively.
    let bad = Condition::compile(&serde_json::from_str::<Value>(r#"{"s": {"$regex": "("}}"#).unwrap()).unwrap();
    assert_eq!(bad.warnings().len(), 1, "{:?}", bad.warnings());
    assert!(!bad.eval(&serde_json::from_str::<Value>(r#"{"s": "("}"#).unwrap(), &Default::default()));
}
