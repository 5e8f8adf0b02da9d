//! Who a customer is, proven: identity tokens signed by the store's backend.
//!
//! A token is a JWT (HS256) any stock library makes: header `{"alg":"HS256","kid":…}`, claims
//! `sub` (the customer id), `exp` (unix seconds), and optionally `first_name`, `email`, `phone`.
//! The key is chosen by `kid` among `IDENTITY_SECRET` (the current key) and
//! `IDENTITY_SECRET_PREVIOUS` (keys still accepted while a rotation settles), each written
//! `<kid>:<secret>`, several previous keys separated by commas. The secret is used as its
//! UTF-8 bytes, as jsonwebtoken (Node) and PyJWT do.
//!
//! Two ways in: the origin's response header `Vitrine-Identity: <token>` (or `logout`), and
//! the token the SDK was given (`vitrine.identify(id, traits, { token })`), sent with its
//! events. The `jwt` crate parses and checks the signature; times are ours, against the `now`
//! the runtime passes in (no clock read here).

use hmac::{Hmac, Mac};
use jwt::{Header, Token, VerifyWithKey};
use serde::Deserialize;
use sha2::Sha256;

use crate::kv;

/// The origin's response header.
pub const ORIGIN_HEADER: &str = "Vitrine-Identity";
/// A token this much past `exp` is still good: clocks of two machines differ a little.
pub const LEEWAY_SECS: i64 = 60;
/// Longer tokens are refused unread.
pub const MAX_TOKEN_BYTES: usize = 4096;

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct IdentityClaims {
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum IdentityError {
    /// No `IDENTITY_SECRET`: identity tokens cannot be checked.
    NotConfigured,
    TooLong,
    /// Not a JWT, or not HS256.
    Malformed(String),
    /// No key has this `kid` (never issued, or rotated out).
    UnknownKey(String),
    BadSignature,
    Expired,
    /// `sub` is empty or cannot be a customer id.
    BadSubject,
}

impl core::fmt::Display for IdentityError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            IdentityError::NotConfigured => f.write_str("identity tokens are not configured (IDENTITY_SECRET)"),
            IdentityError::TooLong => write!(f, "identity token over {MAX_TOKEN_BYTES} bytes"),
            IdentityError::Malformed(why) => write!(f, "identity token is not an HS256 JWT: {why}"),
            IdentityError::UnknownKey(kid) => write!(f, "identity token signed with unknown key id {kid:?}"),
            IdentityError::BadSignature => f.write_str("identity token signature does not match"),
            IdentityError::Expired => f.write_str("identity token expired"),
            IdentityError::BadSubject => f.write_str("identity token names no usable customer id (sub)"),
        }
    }
}

/// The keys identity tokens may be signed with, by `kid`.
#[derive(Clone, Debug, Default)]
pub struct IdentityKeys {
    keys: Vec<(String, Vec<u8>)>,
}

impl IdentityKeys {
    /// `current` and `previous` as set in the vars (`<kid>:<secret>`, previous comma-separated).
    pub fn parse(current: Option<&str>, previous: Option<&str>) -> Result<IdentityKeys, String> {
        let mut keys = Vec::new();
        let entries =
            current.into_iter().map(|c| ("IDENTITY_SECRET", c)).chain(previous.into_iter().flat_map(|p| p.split(',').map(|e| ("IDENTITY_SECRET_PREVIOUS", e))));
        for (var, entry) in entries {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let (kid, secret) = entry.split_once(':').ok_or_else(|| format!("{var}: write each key as <kid>:<secret>"))?;
            if kid.is_empty() || secret.len() < 16 {
                return Err(format!("{var}: key {kid:?} needs a key id and a secret of at least 16 bytes"));
            }
            keys.push((kid.to_string(), secret.as_bytes().to_vec()));
        }
        Ok(IdentityKeys { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The claims of a valid token at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<IdentityClaims, IdentityError> {
        if self.keys.is_empty() {
            return Err(IdentityError::NotConfigured);
        }
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(IdentityError::TooLong);
        }
        let unverified: Token<Header, serde_json::Value, _> = Token::parse_unverified(token).map_err(|e| IdentityError::Malformed(e.to_string()))?;
        let kid = unverified.header().key_id.clone().unwrap_or_default();
        let secret = self.keys.iter().find(|(k, _)| *k == kid).map(|(_, s)| s).ok_or(IdentityError::UnknownKey(kid))?;
        let key = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        // Checks that the header says HS256 (the key's algorithm) before the signature.
        let verified: Token<Header, IdentityClaims, _> = token.verify_with_key(&key).map_err(|e| match e {
            jwt::Error::InvalidSignature | jwt::Error::RustCryptoMac(_) => IdentityError::BadSignature,
            other => IdentityError::Malformed(other.to_string()),
        })?;
        let claims = verified.claims().clone();
        if now > claims.exp.saturating_add(LEEWAY_SECS) {
            return Err(IdentityError::Expired);
        }
        if !kv::is_customer_id(&claims.sub) {
            return Err(IdentityError::BadSubject);
        }
        Ok(claims)
    }
}

/// What the origin's `Vitrine-Identity` header asks for.
#[derive(Debug, PartialEq)]
pub enum OriginIdentity {
    SignIn(IdentityClaims),
    Logout,
    /// Logged, and the header is dropped all the same.
    Refused(String),
}

/// A response the browser or a CDN may keep and show another visitor must not sign anyone in.
pub fn is_private(cache_control: Option<&str>) -> bool {
    cache_control.is_some_and(|c| c.split(',').map(str::trim).any(|d| d.eq_ignore_ascii_case("private") || d.eq_ignore_ascii_case("no-store")))
}

pub fn from_origin(header: &str, cache_control: Option<&str>, keys: &IdentityKeys, now: i64) -> OriginIdentity {
    if header.trim().eq_ignore_ascii_case("logout") {
        return OriginIdentity::Logout;
    }
    if !is_private(cache_control) {
        return OriginIdentity::Refused(format!(
            "{ORIGIN_HEADER} on a cacheable response (Cache-Control: {}) is ignored: mark it private or no-store",
            cache_control.unwrap_or("none")
        ));
    }
    match keys.verify(header, now) {
        Ok(claims) => OriginIdentity::SignIn(claims),
        Err(e) => OriginIdentity::Refused(format!("{ORIGIN_HEADER} refused: {e}")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jwt::SignWithKey;

    pub const KID: &str = "2026-12";
    pub const SECRET: &str = "a-test-identity-secret-of-32-bytes";

    /// A token as a backend would make it (the e2e tests use an independent JWT library).
    pub fn token(kid: &str, secret: &str, claims: serde_json::Value) -> String {
        let key = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        let header = Header { algorithm: jwt::AlgorithmType::Hs256, key_id: Some(kid.into()), ..Default::default() };
        Token::new(header, claims).sign_with_key(&key).unwrap().as_str().to_string()
    }

    pub fn keys() -> IdentityKeys {
        IdentityKeys::parse(Some(&format!("{KID}:{SECRET}")), Some("2026-06:an-older-secret-still-listed, ")).unwrap()
    }

    #[test]
    fn a_valid_token_names_the_customer() {
        let t = token(KID, SECRET, serde_json::json!({ "sub": "17850", "exp": 1000, "first_name": "Jane" }));
        let c = keys().verify(&t, 1000).unwrap();
        assert_eq!((c.sub.as_str(), c.first_name.as_deref()), ("17850", Some("Jane")));
        assert!(keys().verify(&t, 1000 + LEEWAY_SECS).is_ok(), "leeway");
    }

    #[test]
    fn forged_expired_and_rotated_out_tokens_are_refused() {
        let claims = serde_json::json!({ "sub": "17850", "exp": 1000 });
        let forged = token(KID, "somebody-elses-secret-guessing", claims.clone());
        assert_eq!(keys().verify(&forged, 0), Err(IdentityError::BadSignature));
        assert_eq!(keys().verify(&token(KID, SECRET, claims.clone()), 1000 + LEEWAY_SECS + 1), Err(IdentityError::Expired));
        let rotated_out = token("2025-01", "an-old-secret-no-longer-listed", claims.clone());
        assert_eq!(keys().verify(&rotated_out, 0), Err(IdentityError::UnknownKey("2025-01".into())));
        let previous = token("2026-06", "an-older-secret-still-listed", claims.clone());
        assert_eq!(keys().verify(&previous, 0).unwrap().sub, "17850", "the previous key while it is listed");
        assert!(matches!(keys().verify("nope", 0), Err(IdentityError::Malformed(_))));
        assert_eq!(keys().verify(&"x".repeat(MAX_TOKEN_BYTES + 1), 0), Err(IdentityError::TooLong));
        assert_eq!(keys().verify(&token(KID, SECRET, serde_json::json!({ "sub": "", "exp": 1000 })), 0), Err(IdentityError::BadSubject));
        assert!(matches!(keys().verify(&token(KID, SECRET, serde_json::json!({ "sub": "1" })), 0), Err(IdentityError::Malformed(_))), "exp is required");
        assert_eq!(IdentityKeys::default().verify(&previous, 0), Err(IdentityError::NotConfigured));
    }

    #[test]
    fn alg_none_is_not_a_token() {
        // {"alg":"none","kid":"2026-12"} . {"sub":"17850","exp":9999999999} . (no signature)
        let none = "eyJhbGciOiJub25lIiwia2lkIjoiMjAyNi0xMiJ9.eyJzdWIiOiIxNzg1MCIsImV4cCI6OTk5OTk5OTk5OX0.";
        assert!(keys().verify(none, 0).is_err());
    }

    #[test]
    fn keys_are_written_kid_colon_secret() {
        assert!(IdentityKeys::parse(Some("no-kid-here"), None).unwrap_err().contains("<kid>:<secret>"));
        assert!(IdentityKeys::parse(Some("k:short"), None).unwrap_err().contains("at least 16 bytes"));
        assert!(IdentityKeys::parse(None, None).unwrap().is_empty());
    }

    #[test]
    fn the_origin_signs_in_only_on_private_responses() {
        let t = token(KID, SECRET, serde_json::json!({ "sub": "17850", "exp": 1000 }));
        assert!(matches!(from_origin(&t, Some("private, max-age=0"), &keys(), 0), OriginIdentity::SignIn(c) if c.sub == "17850"));
        assert!(matches!(from_origin(&t, Some("no-store"), &keys(), 0), OriginIdentity::SignIn(_)));
        assert!(matches!(from_origin(&t, Some("public, max-age=60"), &keys(), 0), OriginIdentity::Refused(r) if r.contains("cacheable")));
        assert!(matches!(from_origin(&t, None, &keys(), 0), OriginIdentity::Refused(_)));
        assert_eq!(from_origin(" Logout ", None, &keys(), 0), OriginIdentity::Logout);
        assert!(matches!(from_origin("junk", Some("private"), &keys(), 0), OriginIdentity::Refused(r) if r.contains("not an HS256 JWT")));
    }
}
