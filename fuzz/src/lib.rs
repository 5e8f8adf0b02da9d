//! What the fuzz targets share: the fixture bundle (the end-to-end tests' own, written by
//! `fuzz/seed-bundle.sh`), an engine over it, the input split into parts, and a small HTML
//! scanner for the render invariants.

use std::sync::OnceLock;

use vitrine_edge::identity::IdentityKeys;
use vitrine_engine::base64::{self, Alphabet::UrlSafe};
use vitrine_engine::token;
use vitrine_engine::{Engine, Value};

/// The end-to-end tests' fixture bundle (`tests/src/fixture.rs`), also the bundle target's seed.
pub const FIXTURE_BUNDLE: &[u8] = include_bytes!("../corpus/bundle/fixture-bundle");

/// A fixed "now" (2023-11-14), a little after the fixture was built.
pub const NOW: i64 = 1_700_000_100;

/// The engine over [`FIXTURE_BUNDLE`], loaded once per process.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::load(FIXTURE_BUNDLE).expect("the fixture bundle loads"))
}

/// The identity key (`IDENTITY_SECRET` as `<kid>:<secret>`) the targets sign tokens with.
pub const IDENTITY_KID: &str = "fuzz-1";
pub const IDENTITY_SECRET: &str = "fuzz-identity-secret-of-32-bytes";
/// The profile cookie's and deep links' signing keys.
pub const PROFILE_SECRET: &[u8] = b"fuzz-profile-secret";
pub const LINK_SECRET: &[u8] = b"fuzz-link-secret";

pub fn identity_keys() -> IdentityKeys {
    IdentityKeys::parse(Some(&format!("{IDENTITY_KID}:{IDENTITY_SECRET}")), None).expect("a valid key")
}

/// An HS256 JWT over these header and claims texts (any text: the fuzzer's), signed with
/// [`IDENTITY_SECRET`], so that what is behind the signature check gets fuzzed too. The
/// engine's token signs `payload` with the same HMAC-SHA256 a JWT signs its signing input.
pub fn jwt(header: &str, claims: &str) -> String {
    let input = [base64::encode(header.as_bytes(), UrlSafe), base64::encode(claims.as_bytes(), UrlSafe)].join(".");
    let signed = token::sign(IDENTITY_SECRET.as_bytes(), input.as_bytes());
    let (_, tag) = signed.split_once('.').expect("payload.tag");
    [input.as_str(), tag].join(".")
}

/// The input cut at NUL bytes into at least `n` text parts (missing ones empty; invalid UTF-8
/// replaced), so that one flat input drives several arguments.
pub fn parts(data: &[u8], n: usize) -> Vec<String> {
    let mut out: Vec<String> = data.split(|&b| b == 0).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    while out.len() < n {
        out.push(String::new());
    }
    out
}

/// JSON text as the engine's [`Value`], if it is JSON.
pub fn json(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// The characters that open a tag or leave an attribute value in HTML: a value that reaches
/// the output with one of them unescaped can add elements or attributes.
pub const MARKUP: [char; 4] = ['<', '>', '"', '\''];

/// How many of each [`MARKUP`] character `html` holds.
pub fn markup_counts(html: &str) -> [usize; 4] {
    MARKUP.map(|m| html.matches(m).count())
}

/// The tags of `html` in order, as an HTML tokenizer in the data state sees them start: `<`
/// then a letter (start tag), `/` (end tag), `!` or `?` (comments, doctypes); each named by
/// that sign and the letters and digits after it, lower-cased. Small on purpose: it compares
/// two renders of one template, whose values differ only in [`defang`]ed characters.
pub fn tags(html: &str) -> Vec<String> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    for (i, _) in html.match_indices('<') {
        let rest = &b[i + 1..];
        match rest.first() {
            Some(c) if c.is_ascii_alphabetic() || matches!(c, b'/' | b'!' | b'?') => {
                let end = rest.iter().skip(1).position(|c| !c.is_ascii_alphanumeric()).map_or(rest.len(), |p| p + 1);
                out.push(String::from_utf8_lossy(&rest[..end]).to_ascii_lowercase());
            }
            _ => {}
        }
    }
    out
}

/// A value with every [`MARKUP`] character replaced by `&`: the same length, emptiness and
/// shape, so the renderer takes the same paths for it (fallbacks, lists) as for `v`; and as
/// escaped, the same first character as an escaped markup character (`&`), so a value right
/// after a template's `<` or inside a tag's name tokenizes alike.
pub fn defanged(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(defang(s)),
        Value::Array(items) => Value::Array(items.iter().map(defanged).collect()),
        Value::Object(map) => {
            let mut out = Value::object();
            for (k, v) in map {
                out.set(k, defanged(v));
            }
            out
        }
        other => other.clone(),
    }
}

/// `s` with every [`MARKUP`] character replaced by `&`.
pub fn defang(s: &str) -> String {
    s.chars().map(|c| if MARKUP.contains(&c) { '&' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_jwts_verify() {
        let t = jwt(&format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{IDENTITY_KID}"}}"#), r#"{"sub":"12346","exp":1700003600}"#);
        assert_eq!(identity_keys().verify(&t, NOW).unwrap().sub, "12346");
    }

    #[test]
    fn tags_are_found_as_a_tokenizer_starts_them() {
        assert_eq!(tags(r#"<h1 class="a">x < 3 &lt;b&gt;</h1><!-- c --><br/>"#), ["h1", "/h1", "!", "br"]);
    }
}
