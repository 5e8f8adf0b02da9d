//! Writes the SDK's test fixture bundle, and optionally a plain static store of its products
//! with only the script tag (no worker in front), so pages, bundle and tests tell one story:
//!
//! `cargo run -p vitrine-browser-sdk --example fixture-bundle -- OUT.bin [--site DIR]`
//!
//! The site: a home page (hero, "Just for You"), a page per category and per product (whose
//! add-to-cart button reports to Vitrine, as a store's own code would), a cart page, and
//! `demo/static-only/style.css`. The SDK's files go in `DIR/sdk/` and the bundle in
//! `DIR/bundle.bin` (the tests and `scripts/bench-sdk.sh` put them there).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use vitrine_engine::slug;
use vitrine_engine::BundleBody;
use vitrine_engine::{escape, format_price};

/// Where the pages send events: the edge worker of `scripts/dev.sh`.
const ENDPOINT: &str = "http://127.0.0.1:8787";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, site) = match args.as_slice() {
        [out] => (PathBuf::from(out), None),
        [out, flag, dir] if flag == "--site" => (PathBuf::from(out), Some(PathBuf::from(dir))),
        _ => {
            eprintln!("usage: fixture-bundle OUT.bin [--site DIR]");
            std::process::exit(2);
        }
    };
    let bytes = common::bundle_bytes();
    if let Err(e) = std::fs::write(&out, &bytes) {
        eprintln!("fixture-bundle: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    if let Some(dir) = site {
        match write_site(&common::body(), &dir) {
            Ok(pages) => println!("wrote {pages} pages to {}", dir.display()),
            Err(e) => {
                eprintln!("fixture-bundle: cannot write the site to {}: {e}", dir.display());
                std::process::exit(1);
            }
        }
    }
}

fn write_site(body: &BundleBody, dir: &Path) -> std::io::Result<usize> {
    let catalog = &body.catalog;
    let store = escape(&body.store.name);
    let symbol = &body.store.currency_symbol;
    let category_url = |c: &str| format!("/category/{}/", slug(c));
    let nav: String = catalog.categories.iter().map(|c| format!(r#"<a href="{}">{}</a> "#, category_url(c), escape(c))).collect();
    let page = |title: &str, main: &str| {
        format!(
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {store}</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="data:,">
<script src="/sdk/vitrine.js" data-endpoint="{ENDPOINT}" data-bundle="/bundle.bin" async></script>
</head>
<body>
<header><a href="/">{store}</a> <nav>{nav}<a href="/cart/">Cart</a></nav></header>
<main>
{main}
</main>
</body>
</html>
"#,
            title = escape(title)
        )
    };
    let products: Vec<vitrine_engine::bundle::Product> = catalog.iter().map(|p| p.to_product()).collect();
    let list = |items: &mut dyn Iterator<Item = &vitrine_engine::bundle::Product>| -> String {
        items
            .map(|p| format!(r#"<li><a href="/products/{0}/">{1}</a> {2}</li>"#, escape(&p.sku), escape(&p.title), format_price(symbol, p.price)) + "\n")
            .collect()
    };
    let mut pages = vec![
        (
            PathBuf::from("index.html"),
            page(
                "Home",
                &format!(
                    "<div data-vitrine-slot=\"hero\" class=\"hero\"><h1>Welcome to {store}</h1></div>\n<section data-vitrine-slot=\"home-for-you\" class=\"carousel\"><h2>Our bestsellers</h2><ul>\n{}</ul></section>",
                    list(&mut products.iter().take(4))
                ),
            ),
        ),
        (
            PathBuf::from("cart/index.html"),
            page("Cart", "<h1>Your cart</h1>\n<section data-vitrine-slot=\"cart-dont-forget\" class=\"carousel\"><h2>Popular add-ons</h2></section>"),
        ),
    ];
    for (i, c) in catalog.categories.iter().enumerate() {
        let items = list(&mut products.iter().filter(|p| p.category == Some(i as u16)));
        pages.push((PathBuf::from(format!("category/{}/index.html", slug(c))), page(c, &format!("<h1>{}</h1>\n<ul>\n{items}</ul>", escape(c)))));
    }
    for p in &products {
        let category = p
            .category
            .and_then(|c| catalog.categories.get(c as usize))
            .map_or(String::new(), |c| format!("<p>Category: <a href=\"{}\">{}</a></p>\n", category_url(c), escape(c)));
        let main = format!(
            "<article class=\"product\" data-sku=\"{sku}\">\n<h1>{title}</h1>\n<p class=\"price\">{price}</p>\n{category}\
             <!-- The store's own add-to-cart code, telling Vitrine what happened. -->\n\
             <button type=\"button\" onclick=\"vitrine.track('Product Added', {{product_id: '{sku}', quantity: 1, price: {amount}}})\">Add to cart</button>\n\
             </article>\n<section data-vitrine-slot=\"pdp-pair-with\" class=\"carousel\"><h2>You may also like</h2></section>",
            sku = escape(&p.sku),
            title = escape(&p.title),
            price = format_price(symbol, p.price),
            amount = p.price,
        );
        pages.push((PathBuf::from(format!("products/{}/index.html", p.sku)), page(&p.title, &main)));
    }
    for (path, html) in &pages {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("pages live in folders"))?;
        std::fs::write(path, html)?;
    }
    std::fs::write(dir.join("style.css"), include_str!("../../demo/static-only/style.css"))?;
    Ok(pages.len())
}
