//! Tokens: the engine's signed tokens (`token::verify`, `unverified_payload`: the profile
//! cookie, deep links), deep links at the edge (`deep_link::verified_offer`), and identity
//! JWTs (`vitrine_edge::identity`, `IdentityKeys::verify` and the origin's header).
//!
//! Input: parts cut at NUL bytes: [token text, JWT header JSON, JWT claims JSON, link claims
//! JSON]. The texts are tried as they are (forgeries) and, signed with our keys, behind the
//! signature checks (the claims' readers). Invariants: nothing panics; only our signature
//! passes; what is signed verifies to itself; a verified identity has a usable `sub` and is
//! not expired; a verified deep link's offer is a short id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitrine_edge::deep_link;
use vitrine_edge::identity::{self, IdentityError};
use vitrine_engine::token::{self, TokenError};
use vitrine_fuzz::{identity_keys, jwt, parts, LINK_SECRET, NOW, PROFILE_SECRET};

fuzz_target!(|data: &[u8]| {
    let p = parts(data, 4);
    let (text, header, claims, link) = (&p[0], &p[1], &p[2], &p[3]);
    let keys = identity_keys();

    // As they come: refused unless ours (a fuzzer cannot find an HMAC-SHA256 tag).
    match token::verify(PROFILE_SECRET, text) {
        Ok(payload) => assert_eq!(token::unverified_payload(text).as_ref(), Ok(&payload)),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if text.len() > token::MAX_TOKEN_LEN {
        assert_eq!(token::unverified_payload(text), Err(TokenError::TooLong));
    }
    let _ = deep_link::verified_offer(LINK_SECRET, text, NOW);
    match keys.verify(text, NOW) {
        Ok(c) => panic!("an unsigned text verified as an identity: {c:?}"),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    let _ = identity::from_origin(text, Some("private"), &keys, NOW);

    // Signed by us: what each reader makes of the claims.
    let signed = token::sign(PROFILE_SECRET, data);
    assert_eq!(token::verify(PROFILE_SECRET, &signed).as_deref(), Ok(data), "a token verifies to its payload");
    assert_eq!(token::verify(LINK_SECRET, &signed), Err(TokenError::BadSignature));

    let link_token = token::sign(LINK_SECRET, link.as_bytes());
    if let Ok(offer) = deep_link::verified_offer(LINK_SECRET, &link_token, NOW) {
        assert!(!offer.is_empty() && offer.len() <= 64 && offer.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{offer:?}");
    }

    let t = jwt(header, claims);
    match keys.verify(&t, NOW) {
        Ok(c) => {
            assert!(!c.sub.is_empty(), "{c:?}");
            assert!(NOW <= c.exp.saturating_add(identity::LEEWAY_SECS), "expired: {c:?}");
        }
        Err(IdentityError::NotConfigured) => panic!("keys are configured"),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    let _ = identity::from_origin(&t, Some("private, no-store"), &keys, NOW);
});
