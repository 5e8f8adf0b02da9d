//! `application/x-www-form-urlencoded` query strings, decoded leniently: a malformed escape is
//! kept as literal text rather than failing the request.

/// Decodes `%XX` escapes and `+` (space). Invalid UTF-8 is replaced, never an error.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Percent-encodes everything but unreserved characters (RFC 3986), like `encodeURIComponent`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The decoded `(name, value)` pairs of a query string (without the leading `?`).
pub fn pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(k), decode(v))
    })
}

/// The first value of `name`.
pub fn get(query: &str, name: &str) -> Option<String> {
    pairs(query).find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The query without parameter `name` (order and encoding of the others kept).
pub fn without(query: &str, name: &str) -> String {
    query
        .split('&')
        .filter(|p| !p.is_empty() && decode(p.split_once('=').map_or(*p, |(k, _)| k)) != name)
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_leniently() {
        assert_eq!(decode("a+b%20c%2Fd"), "a b c/d");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn round_trips_and_filters() {
        assert_eq!(decode(&encode("Candles & Lights/ä")), "Candles & Lights/ä");
        assert_eq!(get("placement=hero&explain=1", "explain").as_deref(), Some("1"));
        assert_eq!(get("a&b=2", "a").as_deref(), Some(""));
        assert_eq!(without("x=1&vitrine_as=champion&y=%20", "vitrine_as"), "x=1&y=%20");
        assert_eq!(without("vitrine_as=new", "vitrine_as"), "");
    }
}
