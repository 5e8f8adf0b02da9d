//! Cookie headers, through every reader: `cookie_pairs`, the cart and interests codecs, the
//! profile cookie (`vitrine_edge::profile::read`: signature, then the claims), and the whole
//! request → visitor path the edge runs (`context::identify`, `context::visitor`) and a
//! decision per placement over it.
//!
//! A `vt_profile` value that starts with `{` is signed as it is before the edge reads it, so
//! the claims' reader (JSON, bounds) and hostile traits in decisions get fuzzed too.
//! Invariants: nothing panics; carts hold at most `MAX_LINES` lines of 1..=`MAX_QUANTITY`
//! with short SKUs, and re-read from their own cookie the same; interests are cut to their
//! bounds and re-read from their own cookie.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitrine_edge::context::{self, RequestInfo};
use vitrine_edge::profile;
use vitrine_engine::cart::{MAX_LINES, MAX_QUANTITY};
use vitrine_engine::cookies::{self, cart_cookie, cookie_pairs, interests_cookie, parse_cart_cookie, parse_interests_cookie};
use vitrine_engine::token;
use vitrine_fuzz::{engine, NOW, PROFILE_SECRET};

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = cookie_pairs(&header).collect();
    let mut signed = None;
    for &(name, value) in &pairs {
        assert!(!name.is_empty() && name.trim() == name);

        let cart = parse_cart_cookie(value);
        assert!(cart.len() <= MAX_LINES);
        for l in cart.iter() {
            assert!((1..=MAX_QUANTITY).contains(&l.quantity), "{l:?}");
            assert!(!l.sku.is_empty() && l.sku.len() <= 64, "{l:?}");
        }
        assert_eq!(parse_cart_cookie(&cart_cookie(&cart)), cart, "a cart re-read from its own cookie");

        if let Some((categories, products, at)) = parse_interests_cookie(value) {
            assert!(categories.len() <= 32 && products.len() <= 20);
            let again = parse_interests_cookie(&interests_cookie(at, &categories, &products));
            let (c2, p2, at2) = again.expect("interests re-read from their own cookie");
            assert_eq!((c2.len(), p2.len(), at2), (categories.len(), products.len(), at));
        }

        if let Err(e) = profile::read(PROFILE_SECRET, value) {
            assert!(!e.to_string().is_empty());
        }
        if name == cookies::PROFILE && value.starts_with('{') && signed.is_none() {
            signed = Some(token::sign(PROFILE_SECRET, value.as_bytes()));
        }
        let _ = cookies::is_valid_visitor_id(value);
    }
    // The claims behind a good signature: read, or refused with a reason.
    let header = match signed {
        Some(t) => {
            match profile::read(PROFILE_SECRET, &t) {
                Ok(c) => assert!(matches!(c.traits, vitrine_engine::Value::Object(_) | vitrine_engine::Value::Null)),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
            format!("vt_profile={t}; {header}")
        }
        None => header.into_owned(),
    };

    // The edge's whole read of a request's cookies, then decisions over what it read.
    let info = RequestInfo { path: "/".into(), cookie: Some(header), https: true, ..RequestInfo::default() };
    let facts = info.facts("/", "utm_source=fuzz");
    let id = context::identify(&facts, Some(PROFILE_SECRET), || "0f8fad5b-d9cb-469f-a165-70867728950e".into());
    let engine = engine();
    let visitor = context::visitor(engine, &facts, &id, NOW);
    assert!(visitor.cart.len() <= MAX_LINES);
    for p in &engine.body().rules.placements {
        let _ = engine.decide(&visitor, &p.id, NOW);
    }
    let _ = engine.exit_offer(&visitor, NOW);
});
