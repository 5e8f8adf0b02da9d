//! Base64 (RFC 4648), the two flavours Vitrine speaks: URL-safe without padding for its signed
//! tokens, standard with padding for providers (Twilio's signatures, HTTP Basic auth).
//!
//! Our own rather than a crate's: tokens are short, and a plain loop is a few hundred bytes in
//! the browser SDK where a general-purpose, unrolled decoder is kilobytes.

use alloc::string::String;
use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alphabet {
    /// `A–Z a–z 0–9 - _`, no `=` padding (tokens in URLs and cookies).
    UrlSafe,
    /// `A–Z a–z 0–9 + /`, padded with `=` to a multiple of four.
    Standard,
}

impl Alphabet {
    fn last_two(self) -> [u8; 2] {
        match self {
            Alphabet::UrlSafe => *b"-_",
            Alphabet::Standard => *b"+/",
        }
    }

    fn symbol(self, six_bits: u8) -> char {
        char::from(match six_bits {
            0..=25 => b'A' + six_bits,
            26..=51 => b'a' + six_bits - 26,
            52..=61 => b'0' + six_bits - 52,
            n => self.last_two()[usize::from(n - 62)],
        })
    }

    fn value(self, symbol: u8) -> Option<u32> {
        let [s62, s63] = self.last_two();
        Some(match symbol {
            b'A'..=b'Z' => symbol - b'A',
            b'a'..=b'z' => symbol - b'a' + 26,
            b'0'..=b'9' => symbol - b'0' + 52,
            _ if symbol == s62 => 62,
            _ if symbol == s63 => 63,
            _ => return None,
        } as u32)
    }
}

pub fn encode(bytes: &[u8], alphabet: Alphabet) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        let symbols = chunk.len() + 1;
        for i in 0..4 {
            if i < symbols {
                out.push(alphabet.symbol((n >> (18 - 6 * i)) as u8 & 63));
            } else if alphabet == Alphabet::Standard {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes `text` encodes; `None` for any symbol outside the alphabet, a length no encoder
/// writes, padding where the flavour has none (or missing where it needs it), or stray bits
/// in the last symbol (so each byte string has exactly one encoding).
pub fn decode(text: &str, alphabet: Alphabet) -> Option<Vec<u8>> {
    let mut symbols = text.as_bytes();
    if alphabet == Alphabet::Standard {
        if !symbols.len().is_multiple_of(4) {
            return None;
        }
        let padding = symbols.iter().rev().take(2).take_while(|&&b| b == b'=').count();
        symbols = &symbols[..symbols.len() - padding];
    }
    if symbols.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(symbols.len() * 3 / 4);
    for chunk in symbols.chunks(4) {
        let mut n = 0u32;
        for (i, &s) in chunk.iter().enumerate() {
            n |= alphabet.value(s)? << (18 - 6 * i);
        }
        let bytes = chunk.len() - 1;
        if n & (0xFF_FFFF >> (8 * bytes)) != 0 {
            return None;
        }
        out.extend((0..bytes).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn matches_the_rfc_4648_test_vectors() {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")];
        for (plain, coded) in vectors {
            assert_eq!(encode(plain.as_bytes(), Alphabet::Standard), coded);
            assert_eq!(decode(coded, Alphabet::Standard).as_deref(), Some(plain.as_bytes()));
            let unpadded = coded.trim_end_matches('=');
            assert_eq!(encode(plain.as_bytes(), Alphabet::UrlSafe), unpadded);
            assert_eq!(decode(unpadded, Alphabet::UrlSafe).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn the_flavours_differ_in_their_last_two_symbols() {
        let bytes = [0xfb, 0xff, 0xbf];
        assert_eq!(encode(&bytes, Alphabet::Standard), "+/+/");
        assert_eq!(encode(&bytes, Alphabet::UrlSafe), "-_-_");
        assert_eq!(decode("-_-_", Alphabet::Standard), None);
        assert_eq!(decode("+/+/", Alphabet::UrlSafe), None);
    }

    #[test]
    fn round_trips_every_byte_and_length() {
        let all: Vec<u8> = (0..=255).collect();
        for len in 0..all.len() {
            for alphabet in [Alphabet::UrlSafe, Alphabet::Standard] {
                assert_eq!(decode(&encode(&all[..len], alphabet), alphabet), Some(all[..len].to_vec()));
            }
        }
    }

    #[test]
    fn refuses_what_no_encoder_writes() {
        for bad in ["Zg", "Zg=", "Z===", "Zh==", "Zm9v=", "Zm 9", "Zm9v!A==", "===="] {
            assert_eq!(decode(bad, Alphabet::Standard), None, "{bad}");
        }
        for bad in ["Z", "Zg==", "Zh", "Zm9", "Zm9vY", "a.b", "Zm+v"] {
            assert_eq!(decode(bad, Alphabet::UrlSafe), None, "{bad}");
        }
        assert_eq!(decode("Zm8", Alphabet::UrlSafe), Some(vec![b'f', b'o']));
    }
}
