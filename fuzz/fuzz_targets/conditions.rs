//! GrowthBook conditions (engine `condition.rs`): compile a condition, then evaluate it
//! against attributes and saved groups.
//!
//! Input: parts cut at NUL bytes: [condition JSON, attributes JSON, saved groups JSON (an
//! object of arrays)]. Invariants: nothing panics (regexes included); a refusal names where;
//! evaluation is deterministic; `$not` of a condition is its negation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitrine_engine::{Condition, Groups, Value};
use vitrine_fuzz::{json, parts};

fuzz_target!(|data: &[u8]| {
    let p = parts(data, 3);
    let Some(cond) = json(&p[0]) else { return };
    let attributes = json(&p[1]).unwrap_or_else(Value::object);
    let mut groups = Groups::default();
    if let Some(Value::Object(map)) = json(&p[2]) {
        for (name, members) in &map {
            if let Value::Array(list) = members {
                groups.insert(name.clone(), list.clone());
            }
        }
    }

    let c = match Condition::compile(&cond) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let once = c.eval(&attributes, &groups);
    assert_eq!(once, c.eval(&attributes, &groups), "evaluation is deterministic");
    for w in c.warnings() {
        assert!(!w.to_string().is_empty());
    }

    // A condition object's negation, when it compiles as one.
    let mut not = Value::object();
    not.set("$not", cond);
    if let Ok(n) = Condition::compile(&not) {
        assert_eq!(n.eval(&attributes, &groups), !once, "$not is a negation");
    }
});
