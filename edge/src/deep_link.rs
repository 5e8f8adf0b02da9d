//! Deep links: `?vt=<token>` on a page a message linked to (signed by the journeys with
//! `LINK_SECRET`, `engine::journey::LinkClaims`). The edge checks the signature and expiry and
//! hands the promised offer to the SDK in the `vt_offer` cookie (`engine::cookies::OFFER`);
//! a token nobody checked never shows an offer.

use vitrine_engine::journey::LinkClaims;
use vitrine_engine::token;

/// How long the SDK has to pick the offer up (it clears the cookie when it shows it).
pub const OFFER_COOKIE_SECS: i64 = 600;

#[derive(Debug, PartialEq)]
pub enum LinkRefusal {
    /// Not signed with our key (or not a token at all).
    Forged,
    Expired,
    /// A valid link that promises no offer (an unsubscribe link, a plain reminder).
    NoOffer,
}

/// The offer a deep link promises, if its token is ours and still valid at `now`.
pub fn verified_offer(link_secret: &[u8], vt: &str, now: i64) -> Result<String, LinkRefusal> {
    let payload = token::verify(link_secret, vt.trim()).map_err(|_| LinkRefusal::Forged)?;
    let claims: LinkClaims = serde_json::from_slice(&payload).map_err(|_| LinkRefusal::Forged)?;
    if claims.exp != 0 && now > claims.exp {
        return Err(LinkRefusal::Expired);
    }
    let ok = !claims.offer.is_empty() && claims.offer.len() <= 64 && claims.offer.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    ok.then_some(claims.offer).ok_or(LinkRefusal::NoOffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(secret: &[u8], offer: &str, exp: i64) -> String {
        let c = LinkClaims { visitor: "u:1".into(), journey: "cart".into(), step: 1, offer: offer.into(), exp, ..LinkClaims::default() };
        token::sign(secret, c.to_json().as_bytes())
    }

    #[test]
    fn only_our_unexpired_links_promise_an_offer() {
        assert_eq!(verified_offer(b"k", &link(b"k", "cart10", 100), 100), Ok("cart10".into()));
        assert_eq!(verified_offer(b"k", &link(b"someone-else", "cart10", 100), 0), Err(LinkRefusal::Forged));
        assert_eq!(verified_offer(b"k", &link(b"k", "cart10", 100), 101), Err(LinkRefusal::Expired));
        assert_eq!(verified_offer(b"k", &link(b"k", "", 100), 0), Err(LinkRefusal::NoOffer));
        assert_eq!(verified_offer(b"k", &link(b"k", "a;b=c", 100), 0), Err(LinkRefusal::NoOffer), "only an id goes in a cookie");
        assert_eq!(verified_offer(b"k", "not-a-token", 0), Err(LinkRefusal::Forged));
    }
}
