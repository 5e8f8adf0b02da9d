//! Generates the demo storefront (static HTML) from a bundle: the store's own pages, with every
//! placement marked as a slot (`data-vitrine-slot`) and unpersonalized fallback content, so the
//! edge worker has something real to personalize and the pass-through is a real store.
//!
//! Pages: home, one per product (at the catalog's URL), one per category (by the bundle's
//! `:category` page pattern), the cart, an about page with no slots at all, and the store's
//! login page (`/account/login`): one button per demo account, posted to the origin, which
//! answers with a signed `Vitrine-Identity` header as a real store's backend would
//! (`origin.rs`).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use vitrine_engine::bundle::{Product, Scored};
use vitrine_engine::slug;
use vitrine_engine::Engine;
use vitrine_engine::{escape, format_price};

const STYLE: &str = include_str!("../../demo/static/style.css");
const CART_JS: &str = include_str!("../../demo/static/cart.js");
/// Segments offered in the demo bar when the bundle has no segment sizes.
const DEFAULT_PERSONAS: &[&str] = &["Champions", "Loyal", "At risk", "Hibernating"];
const MAX_CATEGORY_ITEMS: usize = 48;

/// What was written, for the caller's summary.
#[derive(Debug, Default)]
pub struct Written {
    pub pages: usize,
    pub home: String,
    pub product: Option<String>,
    pub category: Option<String>,
    pub cart: String,
}

struct Site<'a> {
    engine: &'a Engine,
    out: &'a Path,
    cart_path: String,
    category_pattern: Option<String>,
    /// The catalog's rows as owned products (the engine reads them in place; the demo's pages
    /// are written from every one).
    products: Vec<Product>,
}

/// A customer the demo's login page offers.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoAccount {
    pub customer_id: String,
    pub name: String,
    pub segment: String,
}

/// One account per segment (its biggest spender, as the picker's personas), named as the
/// customers export names them, from model-builder's `--profiles` JSONL.
pub fn demo_accounts(profiles_jsonl: &str) -> Result<Vec<DemoAccount>, String> {
    let entries = vitrine_edge::kv::profile_entries(profiles_jsonl)?;
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e.key.starts_with(vitrine_edge::kv::PERSONA_PREFIX)) {
        let persona: vitrine_edge::profile::Persona = serde_json::from_str(&e.value).map_err(|err| format!("{}: {err}", e.key))?;
        let line = profiles_jsonl.lines().find(|l| l.contains(&format!("\"customer_id\":\"{}\"", persona.customer_id)));
        let last = line
            .and_then(|l| vitrine_edge::profile_line::ProfileLine::parse(l).ok())
            .and_then(|p| p.traits.path("last_name").and_then(vitrine_engine::Value::as_str).map(str::to_string));
        let name = [persona.first_name.as_str(), last.as_deref().unwrap_or("")].join(" ").trim().to_string();
        out.push(DemoAccount { customer_id: persona.customer_id, name, segment: persona.segment });
    }
    Ok(out)
}

pub fn generate(engine: &Engine, out: &Path, accounts: &[DemoAccount]) -> io::Result<Written> {
    let rules = &engine.body().rules;
    let pattern_for = |page: &str| rules.pages.iter().find(|p| p.page == page).map(|p| p.pattern.clone());
    let site = Site {
        engine,
        out,
        cart_path: pattern_for("cart").filter(|p| !p.contains(':') && !p.contains('*')).unwrap_or_else(|| "/cart".into()),
        category_pattern: rules.pages.iter().find(|p| p.pattern.contains(":category")).map(|p| p.pattern.clone()),
        products: engine.body().catalog.iter().map(|p| p.to_product()).collect(),
    };
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("style.css"), STYLE)?;
    std::fs::write(out.join("cart.js"), CART_JS)?;
    let mut written = Written { home: "/".into(), cart: site.cart_path.clone(), ..Written::default() };

    site.write_page("/", &site.home())?;
    written.pages += 1;
    for p in &site.products {
        let path = site.product_path(p);
        site.write_page(&path, &site.product_page(p))?;
        site.placeholder_image(p)?;
        written.product.get_or_insert(path);
        written.pages += 1;
    }
    for (i, name) in engine.body().catalog.categories.iter().enumerate() {
        if let Some(path) = site.category_path(name) {
            site.write_page(&path, &site.category_page(i as u16, name))?;
            written.category.get_or_insert(path);
            written.pages += 1;
        }
    }
    site.write_page(&site.cart_path, &site.cart_page())?;
    site.write_page("/about", &site.about_page())?;
    site.write_page("/account/login", &site.login_page(accounts))?;
    written.pages += 3;
    Ok(written)
}

impl Site<'_> {
    fn store(&self) -> &str {
        let name = &self.engine.body().store.name;
        if name.is_empty() {
            "Vitrine demo store"
        } else {
            name
        }
    }

    /// A URL path -> the file the origin serves for it (`/a/b` -> `a/b.html`, `/` -> index).
    fn file_for(&self, path: &str) -> PathBuf {
        let rel = path.trim_matches('/');
        if rel.is_empty() {
            self.out.join("index.html")
        } else {
            self.out.join(format!("{rel}.html"))
        }
    }

    fn write_page(&self, path: &str, html: &str) -> io::Result<()> {
        let file = self.file_for(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(file, html)
    }

    fn product_path(&self, p: &Product) -> String {
        match p.url.strip_prefix('/') {
            Some(rest) if !rest.is_empty() && !rest.contains(['?', '#', '.']) => p.url.clone(),
            _ => format!("/products/{}", slug(&p.sku)),
        }
    }

    fn category_path(&self, name: &str) -> Option<String> {
        let pattern = self.category_pattern.as_deref().unwrap_or("/category/:category");
        let path = pattern.replace(":category", &slug(name));
        (!path.contains(':') && !path.contains('*')).then_some(path)
    }

    fn placeholder_image(&self, p: &Product) -> io::Result<()> {
        // Any local image path gets an SVG placeholder (the origin serves it by its content).
        let Some(rel) = p.image.strip_prefix('/').filter(|r| !r.is_empty() && !r.contains("..") && !r.contains(['?', '#'])) else { return Ok(()) };
        let file = self.out.join(rel);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let hue = p.sku.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)) % 360;
        let svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320" viewBox="0 0 320 320"><rect width="320" height="320" fill="hsl({hue},45%,85%)"/><text x="160" y="170" font-family="sans-serif" font-size="28" text-anchor="middle" fill="#333">{}</text></svg>"##,
            escape(&p.sku)
        );
        std::fs::write(file, svg)
    }

    fn products(&self, list: &[Scored], n: usize) -> Vec<&Product> {
        list.iter().filter_map(|s| self.products.get(s.item as usize)).filter(|p| p.in_stock).take(n).collect()
    }

    fn cards(&self, products: &[&Product]) -> String {
        let symbol = &self.engine.body().store.currency_symbol;
        let mut out = String::from(r#"<ul class="products">"#);
        for p in products {
            let _ = write!(
                out,
                r#"<li class="product-card" data-sku="{sku}"><a href="{url}"><img src="{img}" alt="" loading="lazy" width="160" height="160"><span class="title">{title}</span> <span class="price">{price}</span></a></li>"#,
                sku = escape(&p.sku),
                url = escape(&self.product_path(p)),
                img = escape(&p.image),
                title = escape(&p.title),
                price = escape(&format_price(symbol, p.price)),
            );
        }
        out.push_str("</ul>");
        out
    }

    fn personas(&self) -> Vec<String> {
        let sizes = &self.engine.body().stats.segments;
        let names: Vec<String> = sizes.iter().filter(|s| s.customers > 0).map(|s| s.name.clone()).collect();
        if names.is_empty() {
            DEFAULT_PERSONAS.iter().map(|s| s.to_string()).collect()
        } else {
            names
        }
    }

    /// Every placement as a slot: content placements (banners, greetings) and carousels.
    fn slots(&self, content: bool, fallback: impl Fn(usize, &str) -> String) -> String {
        let mut out = String::new();
        let mut n = 0;
        for p in &self.engine.body().rules.placements {
            let is_content = !p.variants.is_empty();
            if is_content != content || p.id.contains("greeting") {
                continue;
            }
            let class = if is_content { "hero" } else { "shelf" };
            let inner = fallback(n, &p.id);
            n += 1;
            let _ = write!(out, r#"<section class="{class}" data-vitrine-slot="{}">{inner}</section>"#, escape(&p.id));
        }
        out
    }

    fn layout(&self, title: &str, body: &str, slots: bool) -> String {
        let store = escape(self.store());
        let mut nav = String::new();
        for name in self.engine.body().catalog.categories.iter().take(8) {
            if let Some(path) = self.category_path(name) {
                let _ = write!(nav, r#"<a href="{}">{}</a>"#, escape(&path), escape(name));
            }
        }
        let _ = write!(nav, r#"<a href="{}">Cart</a><a href="/account/login">Sign in</a>"#, escape(&self.cart_path));
        let mut bar = String::from(r#"<div class="demo-bar">Demo — view the store as: <a href="?vitrine_as=new">a new visitor</a>"#);
        for name in self.personas() {
            let _ = write!(bar, r#" · <a href="?vitrine_as={}">{}</a>"#, escape(&vitrine_edge::kv::persona_slug(&name)), escape(&name));
        }
        bar.push_str(r#"<span class="now">personalized at the edge by Vitrine · <a href="/about">about</a></span></div>"#);
        let greeting = self
            .engine
            .body()
            .rules
            .placements
            .iter()
            .filter(|p| slots && p.id.contains("greeting"))
            .map(|p| format!(r#"<span class="greeting" data-vitrine-slot="{}"></span>"#, escape(&p.id)))
            .collect::<String>();
        let sdk = if slots { r#"<script src="/vitrine/sdk/vitrine.js" async></script>"# } else { "" };
        format!(
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {store}</title>
<link rel="stylesheet" href="/style.css">
{sdk}
</head>
<body>
{bar}
<header class="site"><a class="logo" href="/">{store}</a><nav>{nav}</nav>{greeting}</header>
<main>
{body}
</main>
<footer>{store} — a static demo storefront generated from the bundle. Slots are filled by the edge worker.</footer>
<script src="/cart.js" defer></script>
</body>
</html>
"#,
            title = escape(title),
        )
    }

    fn home(&self) -> String {
        let recs = &self.engine.body().recs;
        let popular = self.products(if recs.popular.is_empty() { &recs.trending } else { &recs.popular }, 8);
        let store = escape(self.store());
        let hero = self.slots(true, |i, _| if i == 0 { format!("<h1>Welcome to {store}</h1><p>Gifts and homeware, delivered.</p>") } else { String::new() });
        let shelves = self.slots(false, |_, _| String::new());
        let body = format!(
            r#"{hero}
<section class="shelf" id="bestsellers"><h2>Bestsellers</h2>{}</section>
{shelves}"#,
            self.cards(&popular)
        );
        self.layout("Home", &body, true)
    }

    fn product_page(&self, p: &Product) -> String {
        let body_data = self.engine.body();
        let category = p.category.and_then(|c| body_data.catalog.categories.get(c as usize));
        let stock = if p.in_stock {
            format!(r#"<button data-add-sku="{}" data-cart-url="{}">Add to cart</button>"#, escape(&p.sku), escape(&self.cart_path))
        } else {
            r#"<p class="out-of-stock">Out of stock</p>"#.to_string()
        };
        let category_link = match category.and_then(|c| Some((c, self.category_path(c)?))) {
            Some((name, path)) => format!(r#"<p><a href="{}">{}</a></p>"#, escape(&path), escape(name)),
            None => String::new(),
        };
        let body = format!(
            r#"{hero}
<article class="product" data-sku="{sku}"><img src="{img}" alt="" width="360" height="360"><div>
<h1>{title}</h1>{category_link}<p class="price">{price}</p>{stock}</div></article>
{shelves}"#,
            hero = self.slots(true, |_, _| String::new()),
            sku = escape(&p.sku),
            img = escape(&p.image),
            title = escape(&p.title),
            price = escape(&format_price(&body_data.store.currency_symbol, p.price)),
            shelves = self.slots(false, |_, _| String::new()),
        );
        self.layout(&p.title, &body, true)
    }

    fn category_page(&self, idx: u16, name: &str) -> String {
        let items: Vec<&Product> = self.products.iter().filter(|p| p.category == Some(idx)).take(MAX_CATEGORY_ITEMS).collect();
        let body =
            format!("{}\n<h1>{}</h1>{}\n{}", self.slots(true, |_, _| String::new()), escape(name), self.cards(&items), self.slots(false, |_, _| String::new()));
        self.layout(name, &body, true)
    }

    fn cart_page(&self) -> String {
        let symbol = &self.engine.body().store.currency_symbol;
        let data: serde_json::Map<String, serde_json::Value> =
            self.products.iter().map(|p| (p.sku.clone(), serde_json::json!([p.title, format_price(symbol, p.price), self.product_path(p)]))).collect();
        // `</` cannot appear inside the data island's script element.
        let data = serde_json::Value::Object(data).to_string().replace("</", "<\\/");
        let body = format!(
            r#"{hero}
<h1>Your cart</h1><ul class="cart-lines" id="cart-lines"><li>Loading…</li></ul><p><button data-clear-cart>Empty the cart</button></p>
<script type="application/json" id="catalog-data">{data}</script>
{shelves}"#,
            hero = self.slots(true, |_, _| String::new()),
            shelves = self.slots(false, |_, _| String::new()),
        );
        self.layout("Cart", &body, true)
    }

    /// The store's own login: a real store asks for a password; the demo signs in by button.
    fn login_page(&self, accounts: &[DemoAccount]) -> String {
        let mut body = String::from("<h1>Sign in</h1>");
        if accounts.is_empty() {
            body.push_str("<p>No demo accounts: build the demo with <code>--profiles</code>.</p>");
        } else {
            body.push_str("<p>Demo accounts (from the customers export). Signing in, the store tells the edge who you are with a signed <code>Vitrine-Identity</code> header.</p><ul class=\"accounts\">");
            for a in accounts {
                let _ = write!(
                    body,
                    r#"<li><form method="post" action="/account/login"><input type="hidden" name="customer" value="{}"><button type="submit">Sign in as {}</button> <small>{}</small></form></li>"#,
                    escape(&a.customer_id),
                    escape(&a.name),
                    escape(&a.segment)
                );
            }
            body.push_str("</ul>");
        }
        body.push_str(r#"<form method="post" action="/account/logout"><button type="submit">Sign out</button></form>"#);
        self.layout("Sign in", &body, false)
    }

    fn about_page(&self) -> String {
        let body = format!("<h1>About {}</h1><p>This page has no slots: the edge worker passes it through byte for byte.</p>", escape(self.store()));
        self.layout("About", &body, false)
    }
}
