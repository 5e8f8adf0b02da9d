//! Event envelopes in Segment's shape (spec v2): `track`, `page`, `identify`, plus `consent`.
//! Every envelope carries a fresh `messageId`, so the endpoint can drop retried duplicates.

use alloc::string::String;

use vitrine_engine::events::{CONSENT, IDENTIFY, PAGE};

use crate::json::Object;

/// Named in every envelope's `context.library`.
pub const LIBRARY: &str = "vitrine-browser-sdk";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    /// `track` with the event name.
    Track(&'a str),
    /// `page`: its `name` is the page type; a name and category the site gave are in its
    /// properties, as Segment's analytics.js puts them there too.
    Page,
    Identify,
    /// The visitor's consent: the banner's yes or no (`granted`), or, when the second field is
    /// not empty, the JSON object of purposes `vitrine.consent({…})` was given (`channels`).
    Consent(bool, &'a str),
}

/// Who and where: what every envelope shares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context<'a> {
    pub anonymous_id: &'a str,
    pub user_id: Option<&'a str>,
    pub path: &'a str,
    pub url: &'a str,
    pub title: &'a str,
    pub referrer: &'a str,
    /// The page type from the config's URL patterns ("product", "home", …).
    pub page_type: &'a str,
    /// Minutes east of UTC (journeys hold messages in the visitor's quiet hours).
    pub utc_offset_minutes: i64,
    /// The browser's IANA time zone, as Segment's `context.timezone` (empty: unknown).
    pub timezone: &'a str,
}

/// Writes one envelope. `payload` is a JSON object: properties for track and page, traits for
/// identify; ignored for consent.
pub fn envelope(kind: Kind, payload: &str, ctx: &Context, message_id: &str, unix_ms: i64) -> String {
    let mut out = String::with_capacity(320 + payload.len());
    let mut o = Object::new(&mut out);
    o.str("messageId", message_id);
    match kind {
        Kind::Track(event) => o.str("type", "track").str("event", event).raw("properties", payload),
        Kind::Page => o.str("type", PAGE).str("name", ctx.page_type).raw("properties", payload),
        Kind::Identify => o.str("type", IDENTIFY).raw("traits", payload),
        Kind::Consent(_, purposes) if !purposes.is_empty() => o.str("type", CONSENT).raw("channels", purposes),
        Kind::Consent(granted, _) => o.str("type", CONSENT).bool("granted", granted),
    };
    o.str("anonymousId", ctx.anonymous_id).opt_str("userId", ctx.user_id).time("timestamp", unix_ms);
    let context = o.key("context");
    let mut c = Object::new(context);
    {
        let mut page = Object::new(c.key("page"));
        page.str("path", ctx.path).str("url", ctx.url).str("title", ctx.title).str("referrer", ctx.referrer);
        page.end();
    }
    c.int("utcOffsetMinutes", ctx.utc_offset_minutes);
    if !ctx.timezone.is_empty() {
        c.str("timezone", ctx.timezone);
    }
    {
        let mut library = Object::new(c.key("library"));
        library.str("name", LIBRARY).str("version", VERSION);
        library.end();
    }
    c.end();
    o.end();
    out
}

/// The properties of a `page` event: the page's own (path, url, title, referrer, type), then
/// `given`, the JSON object `vitrine.page()` was given (empty: none). A name in both is
/// written twice, the given value last: JSON parsers (the browser's, the edge's) keep the
/// last, so given properties override the defaults, as in Segment's analytics.js.
pub fn page_properties(ctx: &Context, given: &str) -> String {
    let mut out = String::with_capacity(128 + given.len());
    let mut o = Object::new(&mut out);
    o.str("path", ctx.path).str("url", ctx.url).str("title", ctx.title).str("referrer", ctx.referrer).str("type", ctx.page_type);
    o.end();
    if let Some(rest) = given.strip_prefix('{').filter(|rest| rest.len() > 1) {
        out.pop();
        out.push(',');
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            anonymous_id: "anon-1",
            user_id: None,
            path: "/products/85123A",
            url: "http://shop.test/products/85123A?utm_source=x",
            title: "Heart \"T-light\" holder",
            referrer: "",
            page_type: "product",
            utc_offset_minutes: 60,
            timezone: "Europe/London",
        }
    }

    fn parse(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
    }

    #[test]
    fn track_envelopes_follow_segment() {
        let e = parse(&envelope(Kind::Track("Product Viewed"), r#"{"product_id":"85123A","price":2.55}"#, &ctx(), "m-1", 1_795_426_867_123));
        assert_eq!(e["type"], "track");
        assert_eq!(e["event"], "Product Viewed");
        assert_eq!(e["messageId"], "m-1");
        assert_eq!(e["anonymousId"], "anon-1");
        assert!(e.get("userId").is_none());
        assert_eq!(e["properties"]["product_id"], "85123A");
        assert_eq!(e["timestamp"], "2026-11-23T09:41:07.123Z");
        assert_eq!(e["context"]["page"]["title"], "Heart \"T-light\" holder");
        assert_eq!(e["context"]["library"]["name"], LIBRARY);
        assert_eq!(e["context"]["utcOffsetMinutes"], 60);
        assert_eq!(e["context"]["timezone"], "Europe/London", "Segment's context.timezone");
    }

    #[test]
    fn page_identify_and_consent_envelopes() {
        let c = Context { user_id: Some("cust-9"), ..ctx() };
        let p = parse(&envelope(Kind::Page, &page_properties(&c, ""), &c, "m-2", 0));
        assert_eq!((p["type"].as_str(), p["name"].as_str()), (Some("page"), Some("product")));
        assert_eq!(p["properties"]["path"], "/products/85123A");
        // Segment's page(category, name, properties): given properties override the defaults.
        let given = r#"{"name":"Heart","category":"Shop","title":"Heart holder","product_id":"85123A"}"#;
        let p = parse(&envelope(Kind::Page, &page_properties(&c, given), &c, "m-2", 0));
        assert_eq!((p["properties"]["name"].as_str(), p["properties"]["category"].as_str()), (Some("Heart"), Some("Shop")));
        assert_eq!(p["properties"]["title"], "Heart holder");
        assert_eq!((p["properties"]["path"].as_str(), p["properties"]["product_id"].as_str()), (Some("/products/85123A"), Some("85123A")));
        assert_eq!(page_properties(&c, "{}"), page_properties(&c, ""));
        assert_eq!(p["userId"], "cust-9");
        let i = parse(&envelope(Kind::Identify, r#"{"email":"j@example.com"}"#, &c, "m-3", 0));
        assert_eq!(i["traits"]["email"], "j@example.com");
        let k = parse(&envelope(Kind::Consent(false, ""), "", &c, "m-4", 0));
        assert_eq!((k["type"].as_str(), k["granted"].as_bool()), (Some("consent"), Some(false)));
        let k = parse(&envelope(Kind::Consent(true, r#"{"personalization":true,"sms":true}"#), "", &c, "m-5", 0));
        assert_eq!((k["channels"]["sms"].as_bool(), k.get("granted")), (Some(true), None), "the purposes as given");
    }
}
