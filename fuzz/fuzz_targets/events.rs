//! `POST /v1/events` bodies: `vitrine_edge::events::check` (the batch, its identity token, the
//! proof each event needs) and the engine's event parse (`journey::event::parse`) on each
//! event alone.
//!
//! Input: one flags byte (bit 0: the write key came; bit 1: a `vt_profile` cookie of customer
//! 12346 came; bit 2: `"$TOKEN"` in the body becomes a valid identity token for 12346; bit 3:
//! dev mode, push subscriptions to http endpoints allowed), then
//! the body. Invariants: nothing panics; every event of a batch is accepted or refused once,
//! with a reason; accepted events go to `u:` or `a:` objects and carry their message id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitrine_edge::events::{self, Proof};
use vitrine_edge::webpush::Schemes;
use vitrine_engine::journey::event;
use vitrine_engine::Value;
use vitrine_fuzz::{identity_keys, jwt, IDENTITY_KID, NOW};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else { return };
    let body = if flags & 4 != 0 {
        let token = jwt(&format!(r#"{{"alg":"HS256","kid":"{IDENTITY_KID}"}}"#), r#"{"sub":"12346","exp":1700003600,"first_name":"Jane"}"#);
        String::from_utf8_lossy(body).replace("$TOKEN", &token).into_bytes()
    } else {
        body.to_vec()
    };
    let keys = identity_keys();
    // Bit 3: dev mode's push subscriptions (http endpoints allowed), so both rules are explored.
    let push_schemes = if flags & 8 != 0 { Schemes::HttpAllowedForTests } else { Schemes::HttpsOnly };
    let proof = Proof { identity: &keys, now: NOW, cookie_customer: (flags & 2 != 0).then_some("12346"), server: flags & 1 != 0, push_schemes };

    match events::check(&body, &proof) {
        Err(reason) => assert!(!reason.is_empty()),
        Ok(checked) => {
            let mut seen: Vec<usize> = checked.accepted.iter().map(|a| a.index).chain(checked.refused.iter().map(|r| r.index)).collect();
            seen.sort_unstable();
            assert!(seen.iter().enumerate().all(|(i, &at)| i == at), "each event is answered once: {seen:?}");
            assert!(checked.anonymized <= checked.accepted.len());
            for a in &checked.accepted {
                assert!(a.key.starts_with("u:") || a.key.starts_with("a:"), "{}", a.key);
                assert!(!a.message_id.is_empty());
                // What goes to the Durable Object parses there again, the same.
                let v: Value = serde_json::from_str(&a.json).expect("accepted JSON is JSON");
                let again = event::parse(&v, a.json.len()).expect("an accepted event parses again");
                assert_eq!(again.message_id, a.message_id);
            }
            assert!(checked.refused.iter().all(|r| !r.reason.is_empty()));
            let (status, _) = events::Stored::default().reply(&checked.refused, checked.anonymized);
            assert!((200..500).contains(&status));
        }
    }

    // The engine's parse alone, on each event of an array (or the one object).
    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
        let list = match v {
            Value::Array(list) => list,
            other => vec![other],
        };
        for v in list.iter().take(100) {
            let len = serde_json::to_string(v).map_or(0, |j| j.len());
            if let Err(r) = event::parse(v, len) {
                assert!(!r.to_string().is_empty());
            }
        }
    }
});
