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
    verified_link(link_secret, vt, now).map(|claims| claims.offer)
}

/// A deep link's claims (whose visitor, which offer, until when), if its token is ours, still
/// valid at `now`, and promises an offer whose id may go in a cookie.
pub fn verified_link(link_secret: &[u8], vt: &str, now: i64) -> Result<LinkClaims, LinkRefusal> {
    let payload = token::verify(link_secret, vt.trim()).map_err(|_| LinkRefusal::Forged)?;
    let claims: LinkClaims = serde_json::from_slice(&payload).map_err(|_| LinkRefusal::Forged)?;
    if claims.exp != 0 && now > claims.exp {
        return Err(LinkRefusal::Expired);
    }
    let ok = !claims.offer.is_empty() && claims.offer.len() <= 64 && claims.offer.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(claims)
    } else {
        Err(LinkRefusal::NoOffer)
    }
}

/// The longest `Referer` read for a deep link's token.
pub const MAX_REFERER_LEN: usize = 4096;

/// The `vt` token of the page a request came from (its `Referer`: the SDK's `/v1/slice` on a
/// deep link's landing), parsed as a URL, never searched as text.
pub fn vt_of_referer(referer: Option<&str>) -> Option<String> {
    let referer = referer.filter(|r| r.len() <= MAX_REFERER_LEN)?;
    let url = url::Url::parse(referer).ok()?;
    let vt = url.query_pairs().find(|(k, _)| k == "vt").map(|(_, v)| v.into_owned());
    vt
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
        let claims = verified_link(b"k", &link(b"k", "cart10", 100), 100).unwrap();
        assert_eq!((claims.visitor.as_str(), claims.offer.as_str(), claims.exp), ("u:1", "cart10", 100));
    }

    #[test]
    fn the_token_of_a_landing_is_read_from_its_url() {
        assert_eq!(vt_of_referer(Some("https://shop.example/cart?utm_source=x&vt=abc.def")), Some("abc.def".into()));
        assert_eq!(vt_of_referer(Some("https://shop.example/cart?avt=abc")), None, "a parameter, not a substring");
        assert_eq!(vt_of_referer(Some("/cart?vt=abc")), None, "not a URL");
        assert_eq!(vt_of_referer(None), None);
        let long = format!("https://shop.example/?vt={}", "a".repeat(MAX_REFERER_LEN));
        assert_eq!(vt_of_referer(Some(&long)), None);
    }
}
