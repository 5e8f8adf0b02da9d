//! Composes a journey step into a [`Message`]: picks the products, fills the templates, signs
//! the deep link and the unsubscribe link.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::effect::Message;
use super::state::{Run, VisitorState};
use crate::body::{BundleBody, ProductIdx, Scored};
use crate::render;
use crate::rules::Offer;
use crate::rules::{Channel, Journey, Step, Trigger};
use crate::token;
use crate::value::Value;

/// Where every message link points: the edge's signed click redirect, which records the click
/// and sends the visitor on to the step's landing page with the same token and UTM tags
/// (`edge/src/click.rs`).
pub const CLICK_PATH: &str = "/v1/click";

/// What a `vt` token carries (JSON, signed with `token::sign`). Deep links set `journey`,
/// `step`, `channel`, `landing`, `offer` and `products`; unsubscribe links set `unsubscribe` (a
/// channel name). Hosts parse it with serde after `token::verify`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkClaims {
    pub visitor: String,
    pub journey: String,
    pub step: u32,
    /// The message's channel (`email`, `sms`, …): the click's `utm_medium`.
    pub channel: String,
    /// The path the click redirect leads to (the step's `landing`, else `[messaging] landing_path`).
    pub landing: String,
    pub offer: String,
    pub products: Vec<String>,
    /// Expiry (unix seconds); 0: never (unsubscribe links must keep working).
    pub exp: i64,
    pub unsubscribe: String,
}

impl LinkClaims {
    /// The JSON the token signs (the engine has no JSON library; this is the one shape it writes).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(128);
        out.push_str("{\"visitor\":");
        json_str(&mut out, &self.visitor);
        out.push_str(",\"journey\":");
        json_str(&mut out, &self.journey);
        out.push_str(&alloc::format!(",\"step\":{},\"channel\":", self.step));
        json_str(&mut out, &self.channel);
        out.push_str(",\"landing\":");
        json_str(&mut out, &self.landing);
        out.push_str(",\"offer\":");
        json_str(&mut out, &self.offer);
        out.push_str(",\"products\":[");
        for (i, p) in self.products.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_str(&mut out, p);
        }
        out.push_str(&alloc::format!("],\"exp\":{},\"unsubscribe\":", self.exp));
        json_str(&mut out, &self.unsubscribe);
        out.push('}');
        out
    }

    pub fn sign(&self, secret: &[u8]) -> String {
        token::sign(secret, self.to_json().as_bytes())
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&alloc::format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A product as a message shows it: the catalog's view when it knows the SKU (so the email
/// says what the site says), else what the event said.
struct Shown {
    sku: String,
    title: String,
    price: String,
    image: String,
    url: String,
}

/// A product link or image for a message: absolute on the store's base URL, and only if it is
/// http(s) or relative (cart events carry URLs from the browser): anything else is dropped.
fn absolute(base: &str, url: &str) -> String {
    if render::safe_url(url) != url {
        String::new()
    } else if url.starts_with('/') {
        alloc::format!("{}{url}", base.trim_end_matches('/'))
    } else {
        url.to_string()
    }
}

fn price_text(symbol: &str, p: f32) -> String {
    alloc::format!("{symbol}{:.2}", p.max(0.0))
}

fn show(body: &BundleBody, s: &VisitorState, sku: &str) -> Shown {
    let base = &body.store.base_url;
    let symbol = &body.store.currency_symbol;
    if let Some(p) = body.catalog.index_of(sku).and_then(|i| body.catalog.get(i)) {
        return Shown {
            sku: sku.into(),
            title: p.title().into(),
            price: price_text(symbol, p.price),
            image: absolute(base, p.image()),
            url: absolute(base, p.url()),
        };
    }
    let line = s.cart.iter().find(|l| l.sku == sku);
    Shown {
        sku: sku.into(),
        title: line.map(|l| l.name.clone()).filter(|n| !n.is_empty()).unwrap_or_else(|| sku.into()),
        price: line.and_then(|l| l.price).map(|p| price_text(symbol, p)).unwrap_or_default(),
        image: line.map(|l| absolute(base, &l.image)).unwrap_or_default(),
        url: line.map(|l| absolute(base, &l.url)).unwrap_or_default(),
    }
}

/// Products most often bought with any of `skus`, best first, excluding `skus` themselves.
fn bought_with(body: &BundleBody, skus: &[String]) -> Vec<ProductIdx> {
    let own: Vec<ProductIdx> = skus.iter().filter_map(|s| body.catalog.index_of(s)).collect();
    let mut all: Vec<Scored> = own.iter().flat_map(|&p| body.recs.bought_together.of(p)).filter(|n| !own.contains(&n.item)).collect();
    // Sum the scores of a product named by several of the order's items.
    crate::sort::sort_by(&mut all, |a, b| a.item.cmp(&b.item));
    let mut scores: Vec<Scored> = Vec::with_capacity(all.len());
    for s in all {
        match scores.last_mut() {
            Some(last) if last.item == s.item => last.score += s.score,
            _ => scores.push(s),
        }
    }
    // Ties break by product index, so every host picks the same products.
    crate::sort::sort_by(&mut scores, |a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    scores.into_iter().map(|s| s.item).collect()
}

/// The products a step shows, by SKU: what the journey is about.
pub fn pick_products(body: &BundleBody, s: &VisitorState, trigger: Trigger, n: usize) -> Vec<String> {
    let catalog = &body.catalog;
    let sku_in_stock = |sku: &String| catalog.index_of(sku).and_then(|i| catalog.get(i)).is_none_or(|p| p.in_stock);
    // Table entries are indices already: no SKU lookups on the way.
    let from_ranked = |ranked: &mut dyn Iterator<Item = ProductIdx>, exclude: &[String]| -> Vec<String> {
        ranked.filter_map(|i| catalog.get(i)).filter(|p| p.in_stock && !exclude.iter().any(|e| e == p.sku())).take(n).map(|p| p.sku().into()).collect()
    };
    match trigger {
        Trigger::CartAbandonment => s.cart.iter().map(|l| l.sku.clone()).take(n).collect(),
        Trigger::BrowseAbandonment => s.viewed.iter().rev().filter(|v| !s.cart.iter().any(|l| &l.sku == *v) && sku_in_stock(v)).take(n).cloned().collect(),
        Trigger::PostPurchase => from_ranked(&mut bought_with(body, &s.orders.last_products).into_iter(), &[]),
        Trigger::Welcome => from_ranked(&mut body.recs.popular.iter().map(|x| x.item), &[]),
        // What the visitor's runs of this trigger are about (`Run::items`, set when the catalog
        // changed); what came back must still be in stock.
        Trigger::BackInStock | Trigger::PriceDrop => {
            let mut items: Vec<String> = Vec::new();
            let runs = s.runs.iter().filter(|r| body.rules.journeys.iter().any(|j| j.id == r.journey && j.trigger == trigger));
            for sku in runs.flat_map(|r| &r.items) {
                if !items.contains(sku) && (trigger == Trigger::PriceDrop || sku_in_stock(sku)) {
                    items.push(sku.clone());
                }
            }
            items.truncate(n);
            items
        }
        // Win-back and predicted churn: what is selling now that they do not own.
        Trigger::WinBack | Trigger::PredictedChurn => {
            let trending = from_ranked(&mut body.recs.trending.iter().map(|x| x.item), &s.orders.last_products);
            if trending.is_empty() {
                from_ranked(&mut body.recs.popular.iter().map(|x| x.item), &s.orders.last_products)
            } else {
                trending
            }
        }
    }
}

/// Everything a host needs to compose a message.
pub struct Compose<'a> {
    pub body: &'a BundleBody,
    pub link_secret: &'a [u8],
    pub state: &'a VisitorState,
    pub journey: &'a Journey,
    pub step_index: u32,
    pub run: &'a Run,
    pub now: i64,
}

impl Compose<'_> {
    pub fn message(&self) -> Message {
        let Compose { body, state: s, journey: j, now, .. } = *self;
        let step: &Step = &j.steps[self.step_index as usize];
        let m = &body.rules.messaging;
        let offer: Option<&Offer> = body.rules.offers.iter().find(|o| !step.offer.is_empty() && o.id == step.offer);
        let skus = pick_products(body, s, j.trigger, step.products as usize);
        let shown: Vec<Shown> = skus.iter().map(|k| show(body, s, k)).collect();
        let base = body.store.base_url.trim_end_matches('/');

        let landing = if step.landing.is_empty() { &m.landing_path } else { &step.landing };
        let claims = LinkClaims {
            visitor: s.id.clone(),
            journey: j.id.clone(),
            step: self.step_index,
            channel: step.channel.as_str().into(),
            landing: landing.clone(),
            offer: step.offer.clone(),
            products: skus.clone(),
            exp: now + m.link_ttl.0,
            unsubscribe: String::new(),
        };
        let link = alloc::format!("{base}{CLICK_PATH}?vt={}", claims.sign(self.link_secret));
        let unsubscribe_claims = LinkClaims { visitor: s.id.clone(), unsubscribe: step.channel.as_str().into(), ..LinkClaims::default() };
        let unsubscribe = alloc::format!("{base}{}?vt={}", m.unsubscribe_path, unsubscribe_claims.sign(self.link_secret));

        let first_name = if s.profile.first_name.is_empty() { m.fallback_first_name.clone() } else { s.profile.first_name.clone() };
        let code = offer.map(|o| offer_code(body, o, self.link_secret, &s.id, now)).unwrap_or_default();
        let ctx = context(body, s, offer, &code, &shown, &first_name, &link, &unsubscribe);
        let variables: Vec<String> = step.variables.iter().map(|v| template::text(v, &ctx)).collect();
        let text = match step.channel {
            // The template's approved text, as the visitor reads it once WhatsApp fills it.
            Channel::Whatsapp => crate::rules::fill_placeholders(&step.body, &variables),
            _ => template::text(&step.body, &ctx),
        };
        let html = match step.channel {
            Channel::Email if step.html.is_empty() => default_html(&text, &ctx, offer.is_some()),
            Channel::Email => template::html(&step.html, &ctx),
            _ => String::new(),
        };
        Message {
            visitor: s.id.clone(),
            journey: j.id.clone(),
            step: self.step_index,
            channel: step.channel,
            to: s.profile.address(step.channel).unwrap_or("").into(),
            first_name: s.profile.first_name.clone(),
            subject: template::text(&step.subject, &ctx),
            text,
            html,
            link,
            unsubscribe,
            image: shown.first().map(|p| p.image.clone()).unwrap_or_default(),
            offer_id: step.offer.clone(),
            offer_code: code,
            products: skus,
            idempotency_key: alloc::format!("{:016x}-{}-{}-{}", crate::bundle::checksum(s.id.as_bytes()), j.id, self.run.id, self.step_index),
            created_at: now,
            template: step.template.clone(),
            variables,
        }
    }
}

/// The tokens templates can use (dotted paths, as in placement templates):
/// `first_name`, `store.name`, `link`, `unsubscribe_url`, `offer.code|headline|body|cta_text`,
/// `product.title|price|image|url` (the first product), `products` (a text list, one per line),
/// `items` (HTML product cards: `{{{items}}}`), `product_count`, `cart.value`.
/// The code a message shows for `offer`: its static code, or the visitor's own when the offer
/// has unique codes (`crate::codes`; the host records it before the message leaves).
fn offer_code(body: &BundleBody, offer: &Offer, link_secret: &[u8], visitor: &str, now: i64) -> String {
    match body.rules.unique_code(&offer.id) {
        None => offer.code.clone(),
        Some(unique) => crate::codes::code_for(&crate::codes::code_key(link_secret), unique, visitor, now),
    }
}

#[allow(clippy::too_many_arguments)]
fn context(body: &BundleBody, s: &VisitorState, offer: Option<&Offer>, code: &str, shown: &[Shown], first_name: &str, link: &str, unsubscribe: &str) -> Value {
    let mut store = Value::object();
    store.set("name", body.store.name.as_str()).set("url", body.store.base_url.as_str());
    let mut o = Value::object();
    if let Some(offer) = offer {
        o.set("id", offer.id.as_str())
            .set("code", code)
            .set("headline", offer.headline.as_str())
            .set("body", offer.body.as_str())
            .set("cta_text", offer.cta_text.as_str());
    }
    let mut first = Value::object();
    if let Some(p) = shown.first() {
        first
            .set("sku", p.sku.as_str())
            .set("title", p.title.as_str())
            .set("price", p.price.as_str())
            .set("image", p.image.as_str())
            .set("url", p.url.as_str());
    }
    let list: Vec<String> =
        shown.iter().map(|p| if p.price.is_empty() { alloc::format!("- {}", p.title) } else { alloc::format!("- {} ({})", p.title, p.price) }).collect();
    let cart_value: f32 = s
        .cart
        .iter()
        .map(|l| {
            let price = body.catalog.index_of(&l.sku).and_then(|i| body.catalog.get(i)).map(|p| p.price).or(l.price).unwrap_or(0.0);
            price * l.quantity as f32
        })
        .sum();
    let mut cart = Value::object();
    cart.set("value", price_text(&body.store.currency_symbol, cart_value)).set("count", s.cart.iter().map(|l| l.quantity).sum::<u32>());
    let mut traits = Value::object();
    traits.set("first_name", first_name);

    let mut ctx = Value::object();
    ctx.set("first_name", first_name)
        .set("traits", traits)
        .set("store", store)
        .set("offer", o)
        .set("product", first)
        .set("products", list.join("\n"))
        .set("items", items_html(shown))
        .set("product_count", shown.len() as u32)
        .set("cart", cart)
        .set("link", link)
        .set("unsubscribe_url", unsubscribe);
    ctx
}

fn items_html(shown: &[Shown]) -> String {
    let mut out = String::new();
    for p in shown {
        let (url, image, title, price) = (template::escape(&p.url), template::escape(&p.image), template::escape(&p.title), template::escape(&p.price));
        out.push_str(&alloc::format!(
            r#"<tr><td style="padding:8px"><a href="{url}"><img src="{image}" alt="{title}" width="120" style="display:block;border:0"></a></td><td style="padding:8px"><a href="{url}">{title}</a><br><strong>{price}</strong></td></tr>"#
        ));
    }
    if out.is_empty() {
        out
    } else {
        alloc::format!(r#"<table role="presentation" cellspacing="0" cellpadding="0">{out}</table>"#)
    }
}

/// The email HTML when a step has no `html`: the text, the product cards, the offer, the link.
fn default_html(text: &str, ctx: &Value, has_offer: bool) -> String {
    let paragraphs: String = text.split("\n\n").map(|p| alloc::format!("<p>{}</p>", template::escape(p).replace('\n', "<br>"))).collect();
    let offer = if has_offer { "<p><strong>{{offer.headline}}</strong><br>{{offer.body}}<br>Code: <strong>{{offer.code}}</strong></p>" } else { "" };
    let tail = alloc::format!(
        r#"{{{{{{items}}}}}}{offer}<p><a href="{{{{link}}}}" style="display:inline-block;padding:12px 20px;background:#222;color:#fff;text-decoration:none">{{{{offer.cta_text|Take me there}}}}</a></p><p style="font-size:12px;color:#777">{{{{store.name}}}} · <a href="{{{{unsubscribe_url}}}}">Unsubscribe</a></p>"#
    );
    alloc::format!(
        r#"<!doctype html><html><body style="font-family:Helvetica,Arial,sans-serif;color:#222">{paragraphs}{}</body></html>"#,
        template::html(&tail, ctx)
    )
}

/// The one place templates are filled, with the engine's renderer (`render.rs`).
mod template {
    use alloc::string::String;

    use crate::render;
    use crate::value::Value;

    pub use crate::render::escape;

    pub fn html(template: &str, ctx: &Value) -> String {
        render::render(template, ctx)
    }

    /// Text channels (SMS, push, the email's text part) are not HTML: every tag is filled raw,
    /// so "Jo & Al" stays "Jo & Al".
    pub fn text(template: &str, ctx: &Value) -> String {
        render::render(&raw_tags(template), ctx)
    }

    /// `{{x}}` -> `{{{x}}}`; triple tags and unclosed tags are left as they are.
    fn raw_tags(template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            let (open, close) = if after.starts_with("{{{") { (3, "}}}") } else { (2, "}}") };
            match after[open..].find(close) {
                Some(end) => {
                    out.push_str("{{{");
                    out.push_str(&after[open..open + end]);
                    out.push_str("}}}");
                    rest = &after[open + end + close.len()..];
                }
                None => {
                    out.push_str(after);
                    return out;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_json_is_what_serde_reads() {
        let c = LinkClaims {
            visitor: "u:\"x\"".into(),
            journey: "cart".into(),
            step: 2,
            channel: "email".into(),
            landing: "/cart?from=mail".into(),
            offer: "cart10".into(),
            products: alloc::vec!["A".into(), "B\n".into()],
            exp: 9,
            unsubscribe: String::new(),
        };
        let back: LinkClaims = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn text_keeps_values_html_escapes_them() {
        let mut ctx = Value::object();
        ctx.set("first_name", "Jo & Al");
        assert_eq!(template::text("Hi {{first_name}}, {{last|friend}}", &ctx), "Hi Jo & Al, friend");
        assert_eq!(template::html("Hi {{first_name}}", &ctx), "Hi Jo &amp; Al");
        assert_eq!(template::text("{{{first_name}}} {{broken", &ctx), "Jo & Al {{broken");
    }
}
