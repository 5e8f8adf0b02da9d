//! A large store made up deterministically, for the benchmarks that open a bundle
//! (`bench_open`, natively, and `bench_open_wasm`, the same engine in wasm under Node).
//!
//! Strings shaped like a real catalog's: SKUs, 30–60-character titles from a small vocabulary
//! (~500 product types, so many products share every word), product and image URLs, brands,
//! tags; ~40 categories of uneven size; 12 bought-together and 12 similar neighbours per
//! product; popular and trending lists, per country, category and segment; re-order intervals.
//! The rules come from a real config (`examples/demo/vitrine.toml`), passed in.

#![allow(dead_code)] // each benchmark uses its part

use vitrine_engine::bundle::{BundleBody, Catalog, Keyed, Neighbors, Product, ProductIdx, RecTables, Scored, SegmentSize, Stats};
use vitrine_engine::context::{CartLine, Device, Signal, Visitor};
use vitrine_engine::rules::{Rules, Store};
use vitrine_engine::Engine;

/// SplitMix64: a small deterministic generator, so every run makes the same store and visitors.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// Roughly Zipf-like over `0..n`: small indices far more often.
    pub fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

const ADJECTIVES: &[&str] = &[
    "Organic",
    "Classic",
    "Vintage",
    "Large",
    "Small",
    "Mini",
    "Deluxe",
    "Rustic",
    "Modern",
    "Retro",
    "Premium",
    "Everyday",
    "Family Size",
    "Light",
    "Extra Strong",
    "Soft",
    "Natural",
    "Scented",
    "Handmade",
    "Wooden",
    "Ceramic",
    "Glass",
    "Cotton",
    "Linen",
    "Enamel",
    "Copper",
    "Velvet",
    "Recycled",
    "Fresh",
    "Frozen",
    "Spicy",
    "Sweet",
    "Smoked",
    "Wholegrain",
    "Gluten Free",
    "Low Fat",
    "Sparkling",
    "Striped",
    "Floral",
];
const COLOURS: &[&str] = &["Red", "Blue", "Green", "Pink", "White", "Black", "Ivory", "Sage", "Navy", "Mustard", "Grey", "Teal", "Rose Gold", "Amber"];
const NOUNS: &[&str] = &[
    "Mug",
    "Candle",
    "Lantern",
    "Tote Bag",
    "Notebook",
    "Teapot",
    "Cushion",
    "Throw",
    "Vase",
    "Bowl",
    "Plate",
    "Jar",
    "Tin",
    "Basket",
    "Apron",
    "Tea Towel",
    "Frame",
    "Clock",
    "Coaster",
    "Tray",
    "Bottle",
    "Lunch Box",
    "Pencil Case",
    "Wrap",
    "Card",
    "Bauble",
    "Wreath",
    "Garland",
    "Sign",
    "Doorstop",
    "Planter",
    "Watering Can",
    "Bird Feeder",
    "Soap",
    "Towel",
    "Mirror",
    "Necklace",
    "Bracelet",
    "Earrings",
    "Purse",
    "Backpack",
    "Jigsaw",
    "Teddy",
    "Puzzle",
    "Cake Stand",
    "Cookie Cutter",
    "Spoon Set",
    "Cheese Board",
    "Olive Oil",
    "Pasta",
    "Coffee Beans",
    "Granola",
    "Honey",
    "Jam",
    "Chutney",
    "Biscuits",
    "Chocolate Bar",
    "Crisps",
    "Rice",
    "Lentils",
    "Tomato Sauce",
    "Peanut Butter",
    "Oat Milk",
    "Yoghurt",
];
const PACKS: &[&str] = &["", "", "", "Set of 3", "Pack of 6", "Twin Pack", "500g", "1kg", "250ml", "1L", "Gift Box", "12 Pack"];
const BRANDS: &[&str] = &[
    "Hearth & Co",
    "Nordvik",
    "Maison Lune",
    "Bramble",
    "Oakwell",
    "Field Kitchen",
    "Little Fern",
    "Copperleaf",
    "Greyhound",
    "Tidewater",
    "Kestrel",
    "Larder",
    "Pemberton",
    "Saltmarsh",
    "Wren",
    "Foxglove",
    "Harbour",
    "Juniper",
    "Moss",
    "Orchard",
];
const TAGS: &[&str] = &[
    "gift",
    "bestseller",
    "new",
    "sale",
    "eco",
    "vegan",
    "organic",
    "handmade",
    "kids",
    "christmas",
    "easter",
    "summer",
    "kitchen",
    "garden",
    "bath",
    "travel",
    "party",
    "wedding",
    "birthday",
    "limited",
];
const CATEGORIES: &[&str] = &[
    "Home Decor",
    "Kitchen & Dining",
    "Candles & Lights",
    "Bags & Travel",
    "Stationery",
    "Toys & Kids",
    "Garden",
    "Bath & Beauty",
    "Storage",
    "Jewellery",
    "Cards & Wrap",
    "Christmas",
    "Easter",
    "Pantry",
    "Snacks",
    "Drinks",
    "Dairy & Eggs",
    "Bakery",
    "Frozen",
    "Household",
    "Pets",
    "Baby",
    "Health",
    "Outdoor",
    "Textiles",
    "Tableware",
    "Cookware",
    "Lighting",
    "Furniture",
    "Rugs",
    "Wall Art",
    "Clocks",
    "Office",
    "Crafts",
    "Party",
    "Wedding",
    "Gifts for Him",
    "Gifts for Her",
    "Gift Cards",
    "Other",
];
pub const COUNTRIES: &[&str] = &["GB", "DE", "FR", "NL", "IE", "ES", "IT", "BE", "US", "AU"];
const SEGMENTS: &[&str] = &["champions", "loyal", "potential", "new", "at_risk", "lapsed", "hibernating"];

fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn scored_list(rng: &mut Rng, n: usize, len: usize, top: f32) -> Vec<Scored> {
    let mut items: Vec<ProductIdx> = (0..len).map(|_| rng.skewed(n) as ProductIdx).collect();
    items.sort_unstable();
    items.dedup();
    let mut out: Vec<Scored> = items.into_iter().map(|item| Scored { item, score: top * (0.1 + (rng.next() % 1000) as f32 / 1111.0) }).collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    out
}

/// The body of a `products`-product store with `rules` (deterministic for a given size).
pub fn body(products: usize, store: Store, rules: Rules) -> BundleBody {
    let mut rng = Rng(0x1A46_E570_0E00 + products as u64);
    // ~500 product types: adjective × noun pairs drawn once.
    let types: Vec<String> = (0..500).map(|_| format!("{} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS))).collect();
    // Categories of uneven size: the first few hold 10k+ products at 100k.
    let mut rows: Vec<Product> = (0..products)
        .map(|i| {
            let mut title = format!("{} {}", rng.pick(COLOURS), rng.pick(&types));
            while title.len() < 30 {
                title = format!("{title} {}", rng.pick(PACKS));
            }
            if title.len() < 48 && rng.chance(0.5) {
                title = format!("{title} - {}", rng.pick(BRANDS));
            }
            title.truncate(60);
            let title = title.trim_end().to_string();
            let sku = format!("{:02}-{:06}", rng.below(90) + 10, i);
            let tags = (0..rng.below(4)).map(|_| rng.pick(TAGS).to_string()).collect();
            Product {
                url: format!("/products/{}-{}", slugify(&title), sku.to_ascii_lowercase()),
                image: format!("https://cdn.shop.example/images/{}/{}.jpg", &sku[..2], sku.to_ascii_lowercase()),
                price: (rng.below(9_000) as f32 + 99.0) / 100.0,
                category: Some(rng.skewed(CATEGORIES.len()) as u16),
                brand: rng.pick(BRANDS).to_string(),
                tags,
                in_stock: !rng.chance(0.08),
                sku,
                title,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    let n = rows.len();
    let neighbours = |rng: &mut Rng, top: f32| Neighbors::from_lists((0..n).map(|_| scored_list(rng, n, 12, top)).collect());
    let bought_together = neighbours(&mut rng, 40.0);
    let similar = neighbours(&mut rng, 1.0);
    let keyed = |rng: &mut Rng, keys: &[&str]| keys.iter().map(|k| Keyed { key: k.to_string(), items: scored_list(rng, n, 60, 500.0) }).collect();
    let recs = RecTables {
        bought_together,
        similar,
        trending: scored_list(&mut rng, n, 100, 80.0),
        popular: scored_list(&mut rng, n, 100, 900.0),
        popular_by_country: keyed(&mut rng, COUNTRIES),
        popular_by_category: keyed(&mut rng, CATEGORIES),
        popular_by_segment: keyed(&mut rng, SEGMENTS),
        reorder_days: {
            let mut r: Vec<(ProductIdx, f32)> = (0..n / 20).map(|_| (rng.below(n) as ProductIdx, 7.0 + rng.below(80) as f32)).collect();
            r.sort_by_key(|x| x.0);
            r.dedup_by_key(|x| x.0);
            r
        },
        ..RecTables::default()
    };
    let stats = Stats {
        orders: 3_000_000,
        order_lines: 10_000_000,
        customers: 300_000,
        countries: COUNTRIES.len() as u32,
        data_start: 1_600_000_000,
        data_end: 1_700_000_000,
        segments: SEGMENTS.iter().map(|s| SegmentSize { name: s.to_string(), customers: 40_000 }).collect(),
        ..Stats::default()
    };
    let catalog = Catalog::new(rows, CATEGORIES.iter().map(|c| c.to_string()).collect());
    BundleBody { store, catalog, stats, recs, rules }
}

/// A deterministic mix of visitors: home, product, category and cart pages; carts of 1-5
/// items; a few product views in the session; half of them known customers with a segment.
pub fn visitors(engine: &Engine, count: usize, now: i64) -> Vec<Visitor> {
    let body = engine.body();
    let catalog = &body.catalog;
    let n = catalog.len();
    let mut rng = Rng(0x5EED_0016);
    (0..count)
        .map(|i| {
            let product = |rng: &mut Rng| rng.skewed(n) as ProductIdx;
            let path = match rng.below(10) {
                0..=2 => "/".to_string(),
                3..=6 => format!("/products/{}", catalog.get(product(&mut rng)).map_or("", |p| p.sku())),
                7 => format!("/category/{}", catalog.category_slugs[rng.below(catalog.category_slugs.len())]),
                _ => "/cart".to_string(),
            };
            let page = engine.page(&path);
            let mut v = Visitor { visitor_id: format!("bench-{i:06}"), ..Visitor::default() };
            if rng.chance(0.5) {
                let traits = format!(r#"{{"segment":"{}","orders":{},"ltv":{}}}"#, rng.pick(SEGMENTS), 1 + rng.below(20), rng.below(2000));
                v.traits = serde_json::from_str(&traits).expect("traits");
            }
            v.request.country = Some(rng.pick(COUNTRIES).to_string());
            v.request.device = if rng.chance(0.6) { Device::Mobile } else { Device::Desktop };
            v.session.page_views = 1 + rng.below(12) as u32;
            let mut t = now - 3600;
            for _ in 0..rng.below(7) {
                v.interests.record(catalog, Signal::ProductView, Some(product(&mut rng)), None, t);
                t += 60 + rng.below(300) as i64;
            }
            let cart_items = if page.kind == "cart" || rng.chance(0.3) { 1 + rng.below(5) } else { 0 };
            for _ in 0..cart_items {
                let p = product(&mut rng);
                if !v.in_cart(p) {
                    v.cart.push(CartLine { product: p, quantity: 1 + rng.below(3) as u32 });
                    v.interests.record(catalog, Signal::AddToCart, Some(p), None, now);
                }
            }
            if page.product.is_some() {
                v.interests.record(catalog, Signal::ProductView, page.product, None, now);
            } else if page.category.is_some() {
                v.interests.record(catalog, Signal::CategoryView, None, page.category, now);
            }
            v.request.page = page;
            v
        })
        .collect()
}

/// One page view as the edge decides it: every placement, then the exit offer. Returns the
/// number of items shown (so the work cannot be optimised away).
pub fn page_view(engine: &Engine, v: &Visitor, now: i64) -> usize {
    let input = engine.rule_input(v);
    let mut shown = 0;
    for p in &engine.body().rules.placements {
        shown += engine.decide_with(v, &input, &p.id, now).map_or(0, |d| d.items.len());
    }
    shown + engine.exit_offer(v, now).is_some() as usize
}
