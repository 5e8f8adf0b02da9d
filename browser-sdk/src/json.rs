//! Just enough JSON writing for event envelopes, without serde_json or `core::fmt` (both cost
//! kilobytes of wasm): string escaping, integers, an object builder, ISO-8601 times, UUIDs.
//! Parsing is left to the browser's `JSON.parse`.

use alloc::string::String;

/// Appends `s` as a JSON string literal (quoted, escaped).
pub fn push_str_literal(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // U+2028/2029 are valid JSON but break some JS parsers; control characters must go.
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str("\\u");
                push_hex(out, u64::from(c), 4);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Segment's `timestamp`: unix milliseconds as ISO 8601 UTC (the engine's one calendar).
pub use vitrine_engine::civil::push_iso8601;
use vitrine_engine::push_hex;
pub use vitrine_engine::push_int;

/// Writes a JSON object field by field: `{"a":…,"b":…}`.
pub struct Object<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Object<'a> {
    pub fn new(out: &'a mut String) -> Self {
        out.push('{');
        Object { out, empty: true }
    }

    /// Starts a field and returns the buffer to write its value into.
    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_str_literal(self.out, key);
        self.out.push(':');
        self.out
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        let out = self.key(key);
        push_str_literal(out, value);
        self
    }

    /// A string field, or nothing when there is no value.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.str(key, v);
        }
        self
    }

    pub fn int(&mut self, key: &str, value: i64) -> &mut Self {
        let out = self.key(key);
        push_int(out, value);
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key).push_str(if value { "true" } else { "false" });
        self
    }

    /// A time as an ISO 8601 string, from unix milliseconds.
    pub fn time(&mut self, key: &str, unix_ms: i64) -> &mut Self {
        let out = self.key(key);
        out.push('"');
        push_iso8601(out, unix_ms);
        out.push('"');
        self
    }

    /// A field whose value is already JSON (e.g. from `JSON.stringify`).
    pub fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key).push_str(json);
        self
    }

    pub fn end(self) {
        self.out.push('}');
    }
}

/// A random (version 4) UUID from 16 random bytes, e.g. for `messageId`.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        push_hex(&mut out, u64::from(*b), 2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(s: &str) -> String {
        let mut out = String::new();
        push_str_literal(&mut out, s);
        out
    }

    #[test]
    fn escapes_strings_as_json_does() {
        for s in ["plain", "quote \" and \\ backslash", "line\nbreak\ttab\r", "\u{1}\u{1f}", "£ é 😀", "\u{2028}"] {
            let ours = literal(s);
            let theirs = serde_json::to_string(s).unwrap();
            assert_eq!(serde_json::from_str::<String>(&ours).unwrap(), s, "{ours} round-trips");
            if !s.contains('\u{2028}') {
                assert_eq!(ours, theirs);
            }
        }
    }

    #[test]
    fn builds_objects() {
        let mut out = String::new();
        let mut o = Object::new(&mut out);
        o.str("a", "x").int("n", -3).bool("t", true).opt_str("missing", None).raw("p", r#"{"k":[1]}"#).time("at", 0);
        o.end();
        assert_eq!(out, r#"{"a":"x","n":-3,"t":true,"p":{"k":[1]},"at":"1970-01-01T00:00:00.000Z"}"#);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["p"]["k"][0], 1);
    }

    #[test]
    fn formats_version_4_uuids() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = uuid_v4([0; 16]);
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
    }
}
