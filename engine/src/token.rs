//! Signed tokens: the profile cookie the edge sets, and the `vt` deep-link token in email and
//! SMS links. Format: `base64url(payload) "." base64url(HMAC-SHA256(secret, payload))`.
//!
//! The payload is the caller's (JSON in practice). Verification is constant-time; a token that
//! is too long, malformed, or signed with another secret is refused with a [`TokenError`].

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, Mac};

use crate::base64::{self, Alphabet::UrlSafe};
use sha2::Sha256;

/// Longest token accepted: a forged multi-kilobyte cookie is refused before any work.
pub const MAX_TOKEN_LEN: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    TooLong,
    Malformed,
    BadSignature,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            TokenError::TooLong => "token too long",
            TokenError::Malformed => "token malformed",
            TokenError::BadSignature => "token signature invalid",
        })
    }
}

impl core::error::Error for TokenError {}

fn mac(secret: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(payload);
    m
}

pub fn sign(secret: &[u8], payload: &[u8]) -> String {
    let tag = mac(secret, payload).finalize().into_bytes();
    let mut out = base64::encode(payload, UrlSafe);
    out.push('.');
    out.push_str(&base64::encode(&tag, UrlSafe));
    out
}

/// Returns the payload of a token signed with `secret`.
pub fn verify(secret: &[u8], token: &str) -> Result<Vec<u8>, TokenError> {
    let payload = unverified_payload(token)?;
    let (_, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let tag = base64::decode(tag, UrlSafe).ok_or(TokenError::Malformed)?;
    mac(secret, &payload).verify_slice(&tag).map_err(|_| TokenError::BadSignature)?;
    Ok(payload)
}

/// The payload without checking the signature: for the browser, which has no secret and only
/// uses it to show what the link promised (the edge verifies before honouring it).
pub fn unverified_payload(token: &str) -> Result<Vec<u8>, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    let (payload, _) = token.split_once('.').ok_or(TokenError::Malformed)?;
    base64::decode(payload, UrlSafe).ok_or(TokenError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let t = sign(b"k1", br#"{"offer":"welcome10"}"#);
        assert_eq!(verify(b"k1", &t).unwrap(), br#"{"offer":"welcome10"}"#);
        assert_eq!(verify(b"k2", &t), Err(TokenError::BadSignature));
    }

    #[test]
    fn refuses_tampered_malformed_and_huge_tokens() {
        let t = sign(b"k", b"segment=Champions");
        let forged = alloc::format!("{}.{}", base64::encode(b"segment=Loyal", UrlSafe), t.split_once('.').unwrap().1);
        assert_eq!(verify(b"k", &forged), Err(TokenError::BadSignature));
        assert_eq!(verify(b"k", "no-dot"), Err(TokenError::Malformed));
        assert_eq!(verify(b"k", "!!!.???"), Err(TokenError::Malformed));
        assert_eq!(verify(b"k", &"a".repeat(MAX_TOKEN_LEN + 1)), Err(TokenError::TooLong));
    }
}
