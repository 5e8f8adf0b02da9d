//! Generated visitors and the slice check, shared by `tests/slice.rs` (CI, small stores) and
//! `examples/bench_slice.rs` (scripts/bench-scale.sh, the 100k-product store).

use std::io::Write;

use serde_json::Value as Json;
use vitrine_engine::cart::{Cart, Line};
use vitrine_engine::context::{Interests, Request, Session, Visitor};
use vitrine_engine::{Engine, Value};
use vitrine_model_builder::rng::SplitMix64;

/// A visitor as the browser knows one: by SKUs and names, resolved against a catalog.
pub struct Facts {
    id: String,
    path: String,
    cart: Cart,
    categories: Vec<(String, f32)>,
    products: Vec<(String, f32)>,
    traits: Value,
    country: Option<String>,
}

impl Facts {
    fn visitor(&self, engine: &Engine) -> Visitor {
        let catalog = &engine.body().catalog;
        Visitor {
            visitor_id: self.id.clone(),
            traits: self.traits.clone(),
            request: Request { country: self.country.clone(), page: engine.page(&self.path), ..Request::default() },
            cart: self.cart.resolve(catalog),
            interests: Interests::from_names(catalog, &self.categories, &self.products, NOW - 600),
            session: Session { page_views: 2, ..Session::default() },
            // The session's products, latest first, as the recently viewed.
            recently_viewed: self.products.iter().rev().filter_map(|(sku, _)| catalog.index_of(sku)).collect(),
        }
    }
}

/// The private profiles a build wrote (`--profiles`, one JSON object a line): known customers'
/// traits for the visitor mix.
pub fn read_profiles(path: &std::path::Path) -> Result<Vec<Json>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines().enumerate().map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))).collect()
}

pub const NOW: i64 = 1_700_000_000;

/// Visitors of every kind: anonymous on the home page, browsing a category, on a product page
/// with a cart of up to 50 lines, known customers with their profile's traits.
pub fn visitors(engine: &Engine, profiles: &[Json], n: usize, seed: u64) -> Vec<Facts> {
    let mut rng = SplitMix64::new(seed);
    let catalog = &engine.body().catalog;
    let sku = |rng: &mut SplitMix64| catalog.get(rng.below(catalog.len()) as u32).expect("in range").sku().to_string();
    // The store's own countries (those with a popular list), and one it has never sold to.
    let mut countries: Vec<&str> = engine.body().recs.popular_by_country.iter().map(|k| k.key.as_str()).take(8).collect();
    countries.push("Nowhere");
    (0..n)
        .map(|i| {
            let path = match rng.below(4) {
                0 => "/".to_string(),
                1 => format!("/category/{}", catalog.category_slugs[rng.below(catalog.category_slugs.len())]),
                2 => "/cart".to_string(),
                _ => format!("/products/{}", sku(&mut rng)),
            };
            let lines = match i % 10 {
                0 => 50,
                1..=4 => 0,
                _ => rng.below(6),
            };
            let mut cart = Cart::default();
            for _ in 0..lines {
                cart.add(Line::new(sku(&mut rng), 1 + rng.below(3) as u32));
            }
            let products = (0..rng.below(21)).map(|_| (sku(&mut rng), 0.1 + rng.uniform() as f32)).collect();
            let categories = (0..rng.below(4)).map(|_| (catalog.categories[rng.below(catalog.categories.len())].clone(), rng.uniform() as f32)).collect();
            let traits = if rng.chance(0.4) && !profiles.is_empty() {
                let mut p = profiles[rng.below(profiles.len())].clone();
                p.as_object_mut().unwrap().remove("customer_id");
                serde_json::from_value(p).unwrap()
            } else {
                Value::Null
            };
            let country = rng.chance(0.7).then(|| countries[rng.below(countries.len())].to_string());
            Facts { id: format!("visitor-{seed}-{i:05}"), path, cart, categories, products, traits, country }
        })
        .collect()
}

/// Decides every placement and the exit offer for each visitor from the whole bundle and from
/// the slice cut for them; returns the slices' gzip'd sizes.
pub fn check_slices(engine: &Engine, visitors: &[Facts]) -> Vec<usize> {
    let mut sizes = Vec::new();
    for facts in visitors {
        let full_visitor = facts.visitor(engine);
        let bytes = vitrine_engine::bundle::encode(engine.header(), &engine.slice(&full_visitor, NOW));
        let slice = Engine::load(&bytes).expect("a slice loads as a bundle");
        let sliced_visitor = facts.visitor(&slice);
        let page_sku = |e: &Engine, v: &Visitor| v.request.page.product.and_then(|p| e.body().catalog.get(p)).map(|p| p.sku().to_string());
        assert_eq!(page_sku(&slice, &sliced_visitor), page_sku(engine, &full_visitor), "{}: the same page product", facts.path);
        assert_eq!(sliced_visitor.request.page.kind, full_visitor.request.page.kind, "{}", facts.path);
        let rules = &engine.body().rules;
        for p in &rules.placements {
            let full = engine.decide(&full_visitor, &p.id, NOW).unwrap();
            let cut = slice.decide(&sliced_visitor, &p.id, NOW).unwrap();
            let at = format!("{} on {} with {} cart lines: placement {}", facts.id, facts.path, full_visitor.cart.len(), p.id);
            if rules.needs_server(&p.id) {
                // What only the edge decides, the slice carries as decided: the browser shows
                // the same; its items and explain name the source it read (`decided`) and score
                // by rank (1, 1/2, …).
                let items = |d: &vitrine_engine::Decision| {
                    d.items.iter().map(|i| vitrine_engine::DecidedItem { source: "", score: 0.0, ..i.clone() }).collect::<Vec<_>>()
                };
                let shown =
                    |d: &vitrine_engine::Decision| (d.status, d.variant.clone(), d.title.clone(), items(d), d.html.clone(), d.explain.experiment.clone());
                assert_eq!(shown(&cut), shown(&full), "{at}");
                continue;
            }
            assert_eq!(cut, full, "{at}");
        }
        assert_eq!(slice.exit_offer(&sliced_visitor, NOW), engine.exit_offer(&full_visitor, NOW), "{}: exit offer", facts.id);
        // Later in the page the visitor empties the cart: the slice's decisions rank stubs
        // they were not cut for, and pass over them rather than show an empty product.
        let later = Visitor { cart: Vec::new(), ..sliced_visitor };
        for p in &rules.placements {
            let d = slice.decide(&later, &p.id, NOW).unwrap();
            assert!(d.items.iter().all(|i| !i.title.is_empty() && !i.url.is_empty()), "{}: {} shows a stub: {:?}", facts.id, p.id, d.items);
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bytes).unwrap();
        sizes.push(gz.finish().unwrap().len());
    }
    sizes.sort_unstable();
    sizes
}

pub fn percentile(sorted: &[usize], p: f64) -> usize {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
