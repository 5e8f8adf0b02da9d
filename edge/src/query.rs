//! `application/x-www-form-urlencoded` query strings, decoded leniently: a malformed escape is
//! kept as literal text rather than failing the request.

use vitrine_engine::percent_decode;

/// Decodes `%XX` escapes and `+` (space). Invalid UTF-8 is replaced, never an error.
pub fn decode(s: &str) -> String {
    // A literal plus arrives escaped (`%2B`), so turning `+` into a space first is exact.
    percent_decode(&s.replace('+', " "))
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
    query.split('&').filter(|p| !p.is_empty() && decode(p.split_once('=').map_or(*p, |(k, _)| k)) != name).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_like_queries() {
        let form: Vec<(String, String)> = pairs("From=%2B447700900123&Body=Stop+it&Empty=&Bad=%zz%4%C3%A9").collect();
        assert_eq!(
            form,
            [("From".into(), "+447700900123".into()), ("Body".into(), "Stop it".into()), ("Empty".into(), String::new()), ("Bad".into(), "%zz%4é".into())]
        );
    }

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
        assert_eq!(decode("Candles%20%26+Lights%2F%C3%A4%2B1"), "Candles & Lights/ä+1");
        assert_eq!(get("placement=hero&explain=1", "explain").as_deref(), Some("1"));
        assert_eq!(get("a&b=2", "a").as_deref(), Some(""));
        assert_eq!(without("x=1&vitrine_as=champion&y=%20", "vitrine_as"), "x=1&y=%20");
        assert_eq!(without("vitrine_as=new", "vitrine_as"), "");
    }
}
