//! Text without `core::fmt`: numbers, prices, the one `slug` and the percent codec (URLs, cookies).
//!
//! Everything the browser runs turns numbers into text here, by hand: `core::fmt`'s machinery
//! (and its float formatting above all) would weigh on the SDK's download. A leaf module: it
//! imports nothing of the engine, so every other module may use it.

use alloc::string::String;
use alloc::vec::Vec;

/// The one way names become URL and key words: lower case, letters and digits (any script),
/// apostrophes dropped, everything else a single `-`. "Candles & Lights" -> "candles-lights",
/// "Can't lose them" -> "cant-lose-them". Category URLs, product URL templates (`{slug}`) and
/// demo persona keys all use it.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().filter(|c| !matches!(c, '\'' | '\u{2019}')) {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Appends an integer in decimal. Numbers become text without `core::fmt` in everything the
/// browser runs: its machinery would weigh on the SDK's download.
pub fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut v = n.unsigned_abs();
    loop {
        digits[len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    digits[..len].iter().rev().for_each(|&d| out.push(char::from(d)));
}

/// Appends the low `digits` hex digits of `value`, lower case, zero-padded.
pub fn push_hex(out: &mut String, value: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..digits).rev() {
        out.push(char::from(HEX[((value >> (shift * 4)) & 0xf) as usize]));
    }
}

/// An integer in decimal, as a new string (see [`push_int`]).
pub fn int_text(n: i64) -> String {
    let mut out = String::new();
    push_int(&mut out, n);
    out
}

/// A number with two decimals, rounded half away from zero ("2.50"), from whole cents: no
/// float formatting, which would weigh on the browser's download.
pub fn two_decimals(n: f64) -> String {
    let cents = libm::round(n * 100.0) as i64; // saturates beyond ±9.2e16 units: no price is that large
    let mut out = String::new();
    if cents < 0 {
        out.push('-');
    }
    let c = cents.unsigned_abs();
    push_int(&mut out, (c / 100) as i64);
    out.push('.');
    out.push(char::from(b'0' + (c % 100 / 10) as u8));
    out.push(char::from(b'0' + (c % 10) as u8));
    out
}

/// A number as a person reads it, for messages: whole numbers plainly ("15"), others to at
/// most six decimals ("0.3", not the f32's "0.30000001192092896").
pub fn decimal_text(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let micros = libm::round(n * 1e6); // saturates beyond ±9.2e12: no weight or price is that large
    let mut out = String::new();
    if micros < 0.0 {
        out.push('-');
    }
    let m = (micros as i64).unsigned_abs();
    push_int(&mut out, (m / 1_000_000) as i64);
    let mut frac = m % 1_000_000;
    if frac != 0 {
        out.push('.');
        let mut digits = 6;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        let text = int_text(frac as i64);
        (text.len()..digits).for_each(|_| out.push('0'));
        out.push_str(&text);
    }
    out
}

/// A price for display: symbol and two decimals ("£2.55").
pub fn format_price(symbol: &str, amount: f32) -> String {
    let mut out = String::from(symbol);
    out.push_str(&two_decimals(f64::from(amount.max(0.0))));
    out
}

/// `s` cut to at most `max` bytes, at a character boundary (bounded copies of what clients send).
pub fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Percent-encodes everything but `A-Z a-z 0-9 - _ . ~` (as encodeURIComponent, stricter).
pub fn push_percent_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Decodes `%XX` escapes (in URL path segments and cookie names alike: `+` stays a plus);
/// bad escapes stay as they are, invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_numbers_without_core_fmt() {
        for n in [0, 7, -7, 1234567890123, i64::MIN, i64::MAX] {
            assert_eq!(int_text(n), alloc::format!("{n}"));
        }
        for (n, text) in [(2.5, "2.50"), (0.05, "0.05"), (-0.05, "-0.05"), (1234.567, "1234.57"), (-2.555, "-2.56"), (0.0, "0.00")] {
            assert_eq!(two_decimals(n), text, "{n}");
        }
        for (n, text) in [(15.0, "15"), (0.3f32 as f64, "0.3"), (-2.05, "-2.05"), (0.000001, "0.000001"), (1e-9, "0"), (f64::NAN, "NaN")] {
            assert_eq!(decimal_text(n), text, "{n}");
        }
        let mut hex = String::new();
        push_hex(&mut hex, 0xfeed_beef, 16);
        assert_eq!(hex, "00000000feedbeef");
    }

    #[test]
    fn slugs_are_one_rule_for_urls_and_keys() {
        assert_eq!(slug("Candles & Lights"), "candles-lights");
        assert_eq!(slug("Can't lose them"), "cant-lose-them");
        assert_eq!(slug("Children\u{2019}s  Toys!"), "childrens-toys");
        assert_eq!(slug("WHITE HANGING HEART T-LIGHT HOLDER "), "white-hanging-heart-t-light-holder");
        assert_eq!(slug("Crème Brûlée"), "crème-brûlée", "letters of any script stay");
        assert_eq!(slug("--"), "");
    }
}
