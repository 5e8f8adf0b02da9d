//! Templates: `{{path}}` inserts a value from a JSON-shaped context, HTML-escaped;
//! `{{path|fallback}}` uses the fallback when the value is missing or empty; `{{{path}}}`
//! inserts already-rendered HTML unescaped (only the engine's own fragments, like `items`).
//!
//! One renderer for slots, offers and messages, so a banner on the page and the email that
//! follows it say the same thing the same way.

use alloc::borrow::Cow;
use alloc::string::String;

use crate::text::{int_text, two_decimals};
use crate::value::{is_whole, Value};

/// Renders `template` against `ctx` (an object; paths are dotted, as in conditions).
pub fn render(template: &str, ctx: &Value) -> String {
    render_with(template, |path| ctx.path(path).map(|v| Cow::Owned(display(v))))
}

/// Renders `template` with each `{{path}}` looked up by `lookup` (`None`: missing).
pub fn render_with<'a>(template: &str, lookup: impl Fn(&str) -> Option<Cow<'a, str>>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = find(rest, "{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let (raw, open, close) = if after.starts_with("{{{") { (true, 3, "}}}") } else { (false, 2, "}}") };
        let Some(end) = find(&after[open..], close) else {
            // An unclosed tag is literal text, not an error: templates come from store staff.
            out.push_str(after);
            return out;
        };
        let expr = after[open..open + end].trim();
        let (path, fallback) = match expr.split_once('|') {
            Some((p, f)) => (p.trim(), Some(f.trim())),
            None => (expr, None),
        };
        let value = lookup(path).filter(|s| !s.is_empty());
        let text = value.as_deref().or(fallback).unwrap_or("");
        if raw {
            out.push_str(text);
        } else {
            escape_into(&mut out, text);
        }
        rest = &after[open + end + close.len()..];
    }
    out.push_str(rest);
    out
}

/// Where `pat` (a tag delimiter) next occurs: a scan for its first byte, then a compare;
/// cheaper than a general substring search for these short, rare patterns.
fn find(s: &str, pat: &str) -> Option<usize> {
    let (bytes, pat) = (s.as_bytes(), pat.as_bytes());
    let mut from = 0;
    while let Some(i) = bytes[from..].iter().position(|&b| b == pat[0]) {
        let at = from + i;
        if bytes[at..].starts_with(pat) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Plain-text form of a value for a template.
pub(crate) fn display(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => {
            if *b {
                "true".into()
            } else {
                "false".into()
            }
        }
        Value::Number(n) => format_number(*n),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(display).collect::<alloc::vec::Vec<_>>().join(", "),
        Value::Object(_) => String::new(),
    }
}

fn format_number(n: f64) -> String {
    if is_whole(n) && n.abs() < 1e15 {
        int_text(n as i64)
    } else {
        two_decimals(n)
    }
}

/// Escapes text for HTML element content and quoted attribute values alike.
pub fn escape_into(out: &mut String, text: &str) {
    // Runs without special characters are copied whole; all five are ASCII, so every cut
    // falls on a char boundary.
    let mut clean = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[clean..i]);
        out.push_str(entity);
        clean = i + 1;
    }
    out.push_str(&text[clean..]);
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// A link that is safe to put in `href`/`src`: http(s) or relative, anything else (script,
/// data, file, any scheme) becomes `#`.
///
/// The scheme is read as the WHATWG URL parser reads it, so browsers and this check agree:
/// leading C0 controls and spaces are skipped, tabs and newlines are ignored anywhere, and a
/// scheme is a letter, then letters, digits, `+`, `-` or `.`, then `:`; otherwise the URL is
/// relative. Hand-written rather than the `url` crate, which would not fit the SDK's byte
/// budget; `tests/tests/xss.rs` checks it against the `url` crate on the XSS corpus.
pub fn safe_url(url: &str) -> &str {
    let mut scheme = [0u8; 6];
    for (n, b) in url.bytes().skip_while(|b| *b <= b' ').filter(|b| !matches!(b, b'\t' | b'\n' | b'\r')).enumerate() {
        if b == b':' && n > 0 {
            let s = &scheme[..n.min(6)];
            return if s == b"http" || s == b"https" { url } else { "#" };
        }
        if !(b.is_ascii_alphabetic() || n > 0 && (b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'))) {
            break;
        }
        if n < 6 {
            scheme[n] = b.to_ascii_lowercase();
        }
    }
    url
}

/// The paths whose values are links the engine made safe (`safe_url`, or built itself): the
/// only tokens a link attribute may start with.
pub const LINK_TOKENS: [&str; 5] = ["url", "image", "offer.cta_url", "link", "unsubscribe_url"];

/// Attributes a browser follows or loads.
const LINK_ATTRIBUTES: [&str; 9] = ["href", "src", "action", "formaction", "background", "poster", "data", "lowsrc", "xlink:href"];

/// Link attributes of a template whose scheme a value could choose: one that starts with a
/// token other than [`LINK_TOKENS`] (`href="{{title}}"`), or with static text that does not
/// settle the scheme before a token (`href="java{{x}}"`). Each as the attribute's text.
pub fn links_values_could_steer(template: &str) -> alloc::vec::Vec<String> {
    let lower = template.to_ascii_lowercase();
    let mut found = alloc::vec::Vec::new();
    for attr in LINK_ATTRIBUTES {
        let mut from = 0;
        while let Some(i) = lower[from..].find(attr).map(|i| from + i) {
            from = i + attr.len();
            let preceded = i == 0 || matches!(lower.as_bytes()[i - 1], b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'"' | b'\'');
            let rest = lower[from..].trim_start();
            let Some(value) = rest.strip_prefix('=').filter(|_| preceded) else { continue };
            let value = value.trim_start();
            let (value, end) = match value.as_bytes().first() {
                Some(q @ (b'"' | b'\'')) => (&value[1..], *q as char),
                _ => (value, ' '),
            };
            let value = &value[..value.find(|c: char| c == end || (end == ' ' && (c.is_whitespace() || c == '>'))).unwrap_or(value.len())];
            let settled = match value.find("{{") {
                // Static text: a link of the store's own, checked as a browser reads it.
                None => {
                    let decoded = decode_entities(value);
                    safe_url(&decoded) == decoded
                }
                // A link token, alone or followed by static text before any other token (an
                // empty `{{url}}` must not hand the scheme to the next value).
                Some(0) if !value.starts_with("{{{") => {
                    let inner = &value[2..];
                    let close = inner.find("}}").unwrap_or(inner.len());
                    let path = inner[..close].split('|').next().unwrap_or("").trim();
                    let after = inner.get(close + 2..).unwrap_or("");
                    LINK_TOKENS.contains(&path) && !after.starts_with("{{")
                }
                Some(0) => false,
                Some(at) => {
                    let prefix = decode_entities(&value[..at]);
                    safe_url(&prefix) == prefix && (prefix.contains(':') || prefix.trim_start().starts_with(['/', '#', '?', '.']))
                }
            };
            if !settled {
                found.push([attr, "=\"", value, "\""].concat());
            }
        }
    }
    found
}

/// Character references a browser decodes in an attribute before it reads the URL: numeric
/// ones and the named ones that spell a scheme's separators (`&colon;`, `&Tab;`, `&NewLine;`).
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        let name_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '#')).unwrap_or(rest.len());
        let name = &rest[..name_len];
        let code = if let Some(n) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
            u32::from_str_radix(n, 16).ok()
        } else if let Some(n) = name.strip_prefix('#') {
            n.parse::<u32>().ok()
        } else {
            match name.to_ascii_lowercase().as_str() {
                "colon" => Some(58),
                "tab" => Some(9),
                "newline" => Some(10),
                _ => None,
            }
        };
        match code.and_then(char::from_u32) {
            Some(c) => {
                out.push(c);
                rest = rest[name_len..].strip_prefix(';').unwrap_or(&rest[name_len..]);
            }
            None => out.push('&'),
        }
    }
    out.push_str(rest);
    out
}

/// The only paths a template may insert unescaped (`{{{path}}}`): HTML the engine made itself
/// from escaped values. `Rules::check` refuses any other triple tag.
pub const RAW_FRAGMENTS: [&str; 2] = ["items", "offer.code_html"];

/// Each `{{{path}}}` of a template whose path is not one of `allowed`.
pub fn raw_tags_outside<'a>(template: &'a str, allowed: &[&str]) -> alloc::vec::Vec<&'a str> {
    let mut found = alloc::vec::Vec::new();
    let mut rest = template;
    while let Some(start) = find(rest, "{{{") {
        let after = &rest[start + 3..];
        let Some(end) = find(after, "}}}") else { break };
        let path = after[..end].split('|').next().unwrap_or("").trim();
        if !allowed.contains(&path) {
            found.push(path);
        }
        rest = &after[end + 3..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Value {
        let mut traits = Value::object();
        traits.set("first_name", "Jane <3");
        let mut c = Value::object();
        c.set("traits", traits).set("items", "<li>x</li>").set("n", 3.0).set("empty", "");
        c
    }

    #[test]
    fn fills_escapes_and_falls_back() {
        assert_eq!(render("Welcome back, {{traits.first_name}}!", &ctx()), "Welcome back, Jane &lt;3!");
        assert_eq!(render("Hi {{traits.last_name|there}}", &ctx()), "Hi there");
        assert_eq!(render("Hi {{empty|friend}}", &ctx()), "Hi friend");
        assert_eq!(render("<ul>{{{items}}}</ul>", &ctx()), "<ul><li>x</li></ul>");
        assert_eq!(render("{{n}} items", &ctx()), "3 items");
        assert_eq!(render("broken {{tag", &ctx()), "broken {{tag");
    }

    #[test]
    fn neutralises_script_urls_as_browsers_parse_them() {
        for bad in [
            " JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "java\rscript:alert(1)",
            "\x01javascript:alert(1)",
            "\x00 javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "data:image/svg+xml,<svg onload=alert(1)>",
            "file:///etc/passwd",
            "httpx:foo",
            "https+x:foo",
        ] {
            assert_eq!(safe_url(bad), "#", "{bad:?}");
        }
        for good in [
            "/products/85123A",
            "https://shop.example/p?q=1",
            "HTTP://shop.example/",
            "//cdn.example/img.png",
            "products/1",
            "?page=2",
            "#top",
            "java\0script:alert(1)",
            "1javascript:alert(1)",
            "./javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_url(good), good, "{good:?}");
        }
    }

    #[test]
    fn links_whose_scheme_a_value_could_choose_are_found() {
        for ok in [
            r#"<a href="{{url}}"><img src="{{ image }}" alt="{{title}}">"#,
            r#"<a href="/search?q={{title}}">"#,
            r#"<a href='https://x.example/{{sku}}'>"#,
            "<a href={{url}}>",
            r#"<p data-sku="{{sku}}">"#,
        ] {
            assert!(links_values_could_steer(ok).is_empty(), "{ok}: {:?}", links_values_could_steer(ok));
        }
        assert_eq!(links_values_could_steer(r#"<img src="{{title}}{{price}}">"#), [r#"src="{{title}}{{price}}""#]);
        assert_eq!(links_values_could_steer(r#"<a HREF = "java{{x}}">"#), [r#"href="java{{x}}""#]);
        assert_eq!(links_values_could_steer("<a href={{traits.site}}>"), ["href=\"{{traits.site}}\""]);
        assert_eq!(links_values_could_steer(r#"<img src="{{url}}{{{items}}}">"#).len(), 1, "an empty url would hand the scheme on");
        assert_eq!(links_values_could_steer(r#"<a href="java&#9;script:alert(1)">"#).len(), 1, "the store's own link, as a browser decodes it");
        assert_eq!(links_values_could_steer(r#"<a href="jav&#x61;script&colon;x">"#).len(), 1);
        assert!(links_values_could_steer(r#"<a href="{{url}}?utm={{utm.source}}">"#).is_empty());
    }

    #[test]
    fn only_the_engines_fragments_may_be_raw() {
        assert!(raw_tags_outside("<ul>{{{items}}}</ul>{{{ offer.code_html }}}", &RAW_FRAGMENTS).is_empty());
        assert_eq!(raw_tags_outside("{{{utm.source}}} {{page.path}} {{{page.path|x}}}", &RAW_FRAGMENTS), ["utm.source", "page.path"]);
    }
}
