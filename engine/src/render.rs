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

/// A link that is safe to put in `href`/`src`: script URLs become `#`.
pub fn safe_url(url: &str) -> &str {
    let lower = url.trim_start().get(..11).unwrap_or("").to_ascii_lowercase();
    if lower.starts_with("javascript:") || lower.starts_with("data:text/h") || lower.starts_with("vbscript:") {
        "#"
    } else {
        url
    }
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
    fn neutralises_script_urls() {
        assert_eq!(safe_url(" JavaScript:alert(1)"), "#");
        assert_eq!(safe_url("/products/85123A"), "/products/85123A");
    }
}
