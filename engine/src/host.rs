//! The services the engine borrows from where it runs: matching `$regex` patterns, reading and
//! writing numbers the way JavaScript's `Number(s)` and `String(n)` do, and lower-casing as
//! `toLowerCase()` does (GrowthBook's coercions and case-insensitive operators).
//!
//! Natively and in the edge worker: `regex-lite` and Rust's shortest round-trip float
//! formatting, laid out as JS does. In the browser SDK (feature `js` on wasm32): the page's own
//! `RegExp`, `Number`, `String` and `toLowerCase`, which are exactly what GrowthBook's JavaScript
//! SDK uses and keep regex-lite, float parsing and formatting and case tables out of the SDK's
//! download.

pub use imp::{js_lowercase, js_number_string, parse_js_number, Pattern};

#[cfg(not(any(feature = "regex-lite", all(feature = "js", target_arch = "wasm32"))))]
compile_error!("vitrine-engine needs its default `regex-lite` feature (or `js` when built for wasm32)");

#[cfg(all(feature = "js", target_arch = "wasm32"))]
mod imp {
    use alloc::string::String;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = RegExp)]
        #[derive(Clone, Debug)]
        type JsRegExp;
        #[wasm_bindgen(constructor, catch, js_class = "RegExp")]
        fn new(pattern: &str, flags: &str) -> Result<JsRegExp, JsValue>;
        #[wasm_bindgen(method)]
        fn test(this: &JsRegExp, text: &str) -> bool;
        #[wasm_bindgen(js_name = String)]
        fn number_string(n: f64) -> String;
        #[wasm_bindgen(js_name = String)]
        fn error_string(e: &JsValue) -> String;
        #[wasm_bindgen(js_name = Number)]
        fn number(s: &str) -> f64;
        #[wasm_bindgen(js_namespace = ["String", "prototype", "toLowerCase"], js_name = call)]
        fn to_lower_case(s: &str) -> String;
    }

    /// A compiled `$regex` (the browser's `RegExp`, with the `u` flag for code points).
    #[derive(Clone, Debug)]
    pub struct Pattern(JsRegExp);

    impl Pattern {
        pub fn new(pattern: &str, case_insensitive: bool) -> Result<Pattern, String> {
            JsRegExp::new(pattern, if case_insensitive { "iu" } else { "u" }).map(Pattern).map_err(|e| error_string(&e))
        }

        pub fn is_match(&self, text: &str) -> bool {
            self.0.test(text)
        }
    }

    pub fn js_number_string(n: f64) -> String {
        number_string(n)
    }

    pub fn parse_js_number(s: &str) -> f64 {
        number(s)
    }

    pub fn js_lowercase(s: &str) -> String {
        to_lower_case(s)
    }
}

#[cfg(not(all(feature = "js", target_arch = "wasm32")))]
mod imp {
    use alloc::format;
    use alloc::string::{String, ToString};

    /// A compiled `$regex` (regex-lite: no lookaround or backreferences; `\d`, `\s`, `\w` and
    /// case folding are ASCII-only).
    #[derive(Clone, Debug)]
    pub struct Pattern(regex_lite::Regex);

    impl Pattern {
        pub fn new(pattern: &str, case_insensitive: bool) -> Result<Pattern, String> {
            regex_lite::RegexBuilder::new(pattern).case_insensitive(case_insensitive).build().map(Pattern).map_err(|e| e.to_string())
        }

        pub fn is_match(&self, text: &str) -> bool {
            self.0.is_match(text)
        }
    }

    /// JS's `s.toLowerCase()`: both map by Unicode's default case mappings.
    pub fn js_lowercase(s: &str) -> String {
        s.to_lowercase()
    }

    /// JS's `String(n)` (`Number.prototype.toString()`): plain decimals from 1e-6 up to 1e21,
    /// exponent notation outside (`1e+21`, `1.5e-7`).
    pub fn js_number_string(n: f64) -> String {
        if n.is_nan() {
            return "NaN".into();
        }
        if n == 0.0 {
            return "0".into(); // -0 too
        }
        if n.is_infinite() {
            return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
        }
        // Rust's `{:e}` picks the shortest digits that round-trip, as JS does; only the layout
        // differs. With digits d1..dk and exponent e, the value is 0.d1..dk × 10^(e+1).
        let sci = format!("{:e}", n.abs());
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let k = digits.len() as i32;
        let point = exp.parse::<i32>().unwrap_or(0) + 1;
        let mut out = String::with_capacity(24);
        if n < 0.0 {
            out.push('-');
        }
        if k <= point && point <= 21 {
            out.push_str(&digits);
            out.extend((k..point).map(|_| '0'));
        } else if 0 < point && point <= 21 {
            let (int, frac) = digits.split_at(point as usize);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else if -6 < point && point <= 0 {
            out.push_str("0.");
            out.extend((point..0).map(|_| '0'));
            out.push_str(&digits);
        } else {
            let (first, rest) = digits.split_at(1);
            out.push_str(first);
            if !rest.is_empty() {
                out.push('.');
                out.push_str(rest);
            }
            out.push_str(if point > 0 { "e+" } else { "e-" });
            out.push_str(&format!("{}", (point - 1).abs()));
        }
        out
    }

    /// JS's white space and line terminators, which `Number("  5\n")` trims.
    fn is_js_space(c: char) -> bool {
        matches!(
            c,
            '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
                ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
        )
    }

    /// JS's `Number(string)`.
    pub fn parse_js_number(s: &str) -> f64 {
        let s = s.trim_matches(is_js_space);
        if s.is_empty() {
            return 0.0;
        }
        let radix = match s.get(..2) {
            Some("0x" | "0X") => 16,
            Some("0o" | "0O") => 8,
            Some("0b" | "0B") => 2,
            _ => 10,
        };
        if radix != 10 {
            let digits = &s[2..];
            if digits.is_empty() {
                return f64::NAN;
            }
            return digits.chars().try_fold(0.0, |acc, c| c.to_digit(radix).map(|d| acc * f64::from(radix) + f64::from(d))).unwrap_or(f64::NAN);
        }
        let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
        if unsigned == "Infinity" {
            return if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY };
        }
        // Rust also parses "inf" and "nan", which JS does not: only let through the characters of
        // a decimal literal.
        if !unsigned.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
            return f64::NAN;
        }
        s.parse().unwrap_or(f64::NAN)
    }
}
