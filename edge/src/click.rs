//! The signed click redirect every message link goes through (`engine::journey::CLICK_PATH`):
//! `GET /v1/click?vt=<token>` records that the message was clicked and sends the visitor on
//! to the step's landing page with the same token (the page then hands over the promised
//! offer, `deep_link.rs`) and UTM tags, so the store's own analytics see where the visit came
//! from.
//!
//! Where it leads comes only from the signed claims, never from the query: no open redirect.
//! The location is a path on the store's own host (relative), and a landing that could leave
//! the host (`//evil.test`, `/\evil.test`) leads home instead. An expired link still leads to
//! its landing (a customer opening an old email lands in the store, without the offer); a
//! forged one leads home and records nothing.

use vitrine_engine::journey::LinkClaims;
use vitrine_engine::token;

/// `utm_source` of every message link.
pub const UTM_SOURCE: &str = "vitrine";

/// What following a message link does.
#[derive(Debug, PartialEq)]
pub struct Click {
    /// The `Location` of the redirect: a path on the store's host.
    pub location: String,
    /// The link's claims when it is ours (expired or not): the click to record, for its visitor.
    pub claims: Option<LinkClaims>,
}

impl Click {
    /// Where a link that is not ours leads: the store's home, nothing recorded.
    pub fn home() -> Click {
        Click { location: "/".into(), claims: None }
    }
}

/// Follows the link `vt` at `now`.
pub fn follow(link_secret: &[u8], vt: &str, now: i64) -> Click {
    let vt = vt.trim();
    let claims = token::verify(link_secret, vt).ok().and_then(|p| serde_json::from_slice::<LinkClaims>(&p).ok());
    let Some(claims) = claims.filter(|c| !c.journey.is_empty() && c.unsubscribe.is_empty()) else {
        return Click::home();
    };
    let landing = if stays_on_host(&claims.landing) { claims.landing.as_str() } else { "/" };
    let mut location = String::from(landing);
    location.push(if landing.contains('?') { '&' } else { '?' });
    let expired = claims.exp != 0 && now > claims.exp;
    if !expired {
        location.push_str("vt=");
        location.push_str(vt);
        location.push('&');
    }
    let pairs = [("utm_source", UTM_SOURCE), ("utm_medium", claims.channel.as_str()), ("utm_campaign", claims.journey.as_str())];
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            location.push('&');
        }
        location.push_str(k);
        location.push('=');
        vitrine_engine::push_percent_encoded(&mut location, v);
    }
    location.push_str("&utm_content=step-");
    location.push_str(&claims.step.to_string());
    Click { location, claims: Some(claims) }
}

/// A path that stays on the host it is resolved against: one leading `/`, and no second `/`
/// or `\` after it (browsers read both as the start of another host), no control characters.
fn stays_on_host(path: &str) -> bool {
    let b = path.as_bytes();
    b.first() == Some(&b'/') && !matches!(b.get(1), Some(b'/' | b'\\')) && !b.iter().any(|c| c.is_ascii_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"link-secret";

    fn link(landing: &str, exp: i64) -> String {
        let c = LinkClaims {
            visitor: "a:v1".into(),
            journey: "cart rescue".into(),
            step: 1,
            channel: "email".into(),
            landing: landing.into(),
            offer: "cart10".into(),
            exp,
            ..LinkClaims::default()
        };
        c.sign(KEY)
    }

    #[test]
    fn a_click_leads_to_its_landing_with_the_token_and_utm_tags() {
        let vt = link("/cart", 100);
        let c = follow(KEY, &vt, 50);
        assert_eq!(c.location, format!("/cart?vt={vt}&utm_source=vitrine&utm_medium=email&utm_campaign=cart%20rescue&utm_content=step-1"));
        assert_eq!(c.claims.unwrap().visitor, "a:v1");
        let q = follow(KEY, &link("/offer?x=1", 100), 50).location;
        assert!(q.starts_with("/offer?x=1&vt="), "{q}");
    }

    #[test]
    fn an_expired_link_still_lands_without_the_offer() {
        let c = follow(KEY, &link("/cart", 100), 101);
        assert_eq!(c.location, "/cart?utm_source=vitrine&utm_medium=email&utm_campaign=cart%20rescue&utm_content=step-1");
        assert!(c.claims.is_some(), "the click still counts");
    }

    #[test]
    fn forged_links_and_escaping_landings_lead_home() {
        let forged = LinkClaims { journey: "cart".into(), landing: "/x".into(), ..LinkClaims::default() }.sign(b"another key");
        assert_eq!(follow(KEY, &forged, 0), Click { location: "/".into(), claims: None });
        assert_eq!(follow(KEY, "not a token", 0).location, "/");
        let unsubscribe = LinkClaims { visitor: "a:v1".into(), unsubscribe: "email".into(), ..LinkClaims::default() }.sign(KEY);
        assert_eq!(follow(KEY, &unsubscribe, 0).claims, None, "an unsubscribe token is no message click");
        for landing in ["//evil.test/x", "/\\evil.test", "https://evil.test/", "evil.test", "", "/a\nLocation: x"] {
            let c = follow(KEY, &link(landing, 0), 0);
            assert!(c.location.starts_with("/?vt="), "{landing:?} led to {}", c.location);
        }
    }
}
