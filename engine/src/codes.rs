//! Unique offer codes' derivation (`[[unique_codes]]`), one definition for every host that
//! shows one: the edge's exit offer and slice, a deep link's landing, and journey messages
//! (`journey/message.rs`), so a visitor sees one code for an offer wherever it appears.
//!
//! A code is `PREFIX-` and [`RANDOM_LEN`] characters of Crockford's base32: the first 60 bits of
//! HMAC-SHA256 over the offer id, the visitor's key (`a:<anonymous id>`, `u:<user id>`: the
//! journeys' keys) and the validity window, each field length-prefixed so no two inputs share
//! bytes. The key is [`code_key`], derived from the link secret (`LINK_SECRET`, which already
//! proves every message link): nobody without it can mint a code, and no code says anything
//! about a link's signature. Derived, not drawn: issuing twice is the same code, which is what
//! lets a message, its deep link and the exit offer agree without asking one another.

use alloc::string::String;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::rules::UniqueCode;

/// Characters after the prefix: 60 bits.
pub const RANDOM_LEN: usize = 12;
/// Crockford's base32: no I, L, O, U.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DAY_SECS: i64 = 86_400;
/// Separates the codes' key from the link signatures made with the same secret.
const KEY_LABEL: &[u8] = b"vitrine unique offer codes v1";

/// The key codes are derived with, from the link secret.
pub fn code_key(link_secret: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(link_secret).expect("HMAC takes any key length");
    mac.update(KEY_LABEL);
    mac.finalize().into_bytes().into()
}

/// The validity window `now` falls in: a visitor's code changes from one to the next.
pub fn window(unique: &UniqueCode, now: i64) -> i64 {
    now.div_euclid(i64::from(unique.valid_days.max(1)) * DAY_SECS)
}

/// Visitor `visitor`'s code for `unique`'s offer at `now`, with key `key` ([`code_key`]).
pub fn code_for(key: &[u8; 32], unique: &UniqueCode, visitor: &str, now: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for field in [unique.offer.as_bytes(), visitor.as_bytes(), &window(unique, now).to_be_bytes()] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field);
    }
    let digest = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let bits = u64::from_be_bytes(first) >> 4;
    let mut code = String::with_capacity(unique.prefix.len() + 1 + RANDOM_LEN);
    code.push_str(&unique.prefix);
    code.push('-');
    for i in (0..RANDOM_LEN).rev() {
        code.push(char::from(ALPHABET[(bits >> (5 * i) & 31) as usize]));
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_not_the_link_secret_and_codes_are_base32() {
        let key = code_key(b"link-secret-0123456789");
        assert_ne!(&key[..], &b"link-secret-0123456789"[..]);
        assert_ne!(key, code_key(b"another-link-secret-01"));
        let u = UniqueCode { offer: "o".into(), prefix: "P".into(), valid_days: 1 };
        let code = code_for(&key, &u, "a:1", 0);
        assert!(code.len() == 2 + RANDOM_LEN && code[2..].bytes().all(|b| ALPHABET.contains(&b)), "{code}");
        assert_eq!(code_for(&key, &u, "a:1", DAY_SECS - 1), code, "one window");
        assert_ne!(code_for(&key, &u, "a:1", DAY_SECS), code, "the next");
    }
}
