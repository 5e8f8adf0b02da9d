//! A bundle cut for one visitor (`Engine::slice`): the rules, and only the catalog rows and
//! table entries that visitor's decisions read. The browser downloads this instead of the whole
//! catalog, so its download does not grow with the store.
//!
//! What a decision reads (`recommend::candidates`, `Visitor::attributes`): the neighbour lists
//! of its seeds (the page's product, the cart, the session's products, a customer's owned
//! items, the recently viewed), the popular and trending lists, the popular lists of the
//! visitor's country, segment and categories (the page's, the page product's, the session's,
//! the favourites), re-order intervals of owned items, and the cart's SKUs and prices. The
//! server-only tables (learned, browsing, brands, new arrivals) are left out whole: their
//! placements are the edge's (`browser_rules`). The slice keeps all of those, whole,
//! so a decision for that visitor from the slice equals the full bundle's:
//! - products keep their SKU order (ranking ties break by index, and the order is the same);
//! - lists keep their order and scores, so every host sums the same floats in the same order;
//! - every category stays (a `CategoryIdx` means the same in both).
//!
//! Rows a decision may rank but never show are cut to stubs ([`ProductRef::ranks_only`]: SKU,
//! price, category and stock, no title): the full rows kept are the products the decisions for
//! this visitor show (decided here, with the whole bundle), the page's and the cart's, and the
//! popular list (cart add-ons filter it). No merchandising reaches the browser (the edge applied
//! it to what `decided` carries). A decision on a stub passes it over, so a decision made
//! later in the page, after the visitor did something, never shows an empty product.

use alloc::string::String;
use alloc::vec::Vec;

use crate::body::{BundleBody, Catalog, Keyed, Neighbors, Product, ProductIdx, RecTables, Scored, Stats};
use crate::context::Visitor;
use crate::decide::{Engine, Status};
use crate::rules::{Rules, Source, SLICE_RECOMMENDER};

impl Engine {
    /// What `v`'s decisions at `now` can read of the bundle (see the module docs). The header
    /// stays the bundle's: a slice is that bundle, for one visitor.
    pub fn slice(&self, v: &Visitor, now: i64) -> BundleBody {
        let body = self.body();
        let (catalog, recs) = (&body.catalog, &body.recs);
        let shopper = self.shopper(v, now);

        let mut seeds: Vec<ProductIdx> = shopper.seeds.iter().map(|s| s.0).collect();
        seeds.extend(shopper.owned.iter().map(|o| o.item));
        seeds.extend(shopper.interest_products.iter().map(|p| p.0));
        seeds.extend(shopper.recently_viewed.iter().copied());
        seeds.sort_unstable();
        seeds.dedup();

        let mut categories: Vec<&str> = shopper.interest_categories.iter().map(|c| c.0).chain(shopper.top_categories.iter().copied()).collect();
        categories.extend(shopper.page_category);
        let page_product = v.request.page.product.and_then(|p| catalog.get(p));
        categories.extend(page_product.and_then(|p| catalog.categories.get(usize::from(p.category?))).map(String::as_str));
        let keyed = |lists: &[Keyed], keys: &[&str]| -> Vec<Keyed> {
            lists.iter().filter(|k| keys.iter().any(|key| k.key.eq_ignore_ascii_case(key))).cloned().collect()
        };
        // The browser decides none of the server-only recommenders (`browser_rules` leaves their
        // placements to the edge): their tables (learned, browsing, brands, new arrivals) stay
        // out of the download.
        let is_seed = |p: &ProductIdx| seeds.binary_search(p).is_ok();
        let mut tables = RecTables {
            trending: recs.trending.clone(),
            popular: recs.popular.clone(),
            popular_by_country: keyed(&recs.popular_by_country, shopper.country.as_slice()),
            popular_by_category: keyed(&recs.popular_by_category, &categories),
            popular_by_segment: keyed(&recs.popular_by_segment, shopper.segment.as_slice()),
            reorder_days: recs.reorder_days.iter().filter(|(p, _)| is_seed(p)).copied().collect(),
            ..RecTables::default()
        };
        let neighbour_tables: [&Neighbors; 2] = [&recs.bought_together, &recs.similar];

        // Every product the slice names, in catalog (SKU) order.
        let mut kept = seeds.clone();
        for &s in &seeds {
            for table in neighbour_tables {
                kept.extend(table.of(s).map(|n| n.item));
            }
        }
        let lists = [&tables.trending, &tables.popular]
            .into_iter()
            .chain(tables.popular_by_country.iter().chain(&tables.popular_by_category).chain(&tables.popular_by_segment).map(|k| &k.items));
        for list in lists {
            kept.extend(list.iter().map(|s| s.item));
        }
        let (shown_by_decisions, decided) = self.shown_items(v, now);
        kept.extend(decided.iter().flat_map(|d| &d.1));
        kept.retain(|&p| (p as usize) < catalog.len());
        kept.sort_unstable();
        kept.dedup();

        // Full rows: what the decisions show, the page's product, the cart, the popular list.
        let mut shown = shown_by_decisions;
        shown.extend(v.request.page.product);
        shown.extend(v.cart.iter().map(|l| l.product));
        shown.extend(recs.popular.iter().map(|s| s.item));
        shown.sort_unstable();
        shown.dedup();

        let new_index = |p: ProductIdx| kept.binary_search(&p).ok().map(|i| i as ProductIdx);
        let renumber = |list: &mut dyn Iterator<Item = Scored>| -> Vec<Scored> {
            list.filter_map(|s| Some(Scored { item: new_index(s.item)?, score: s.score })).collect()
        };
        let neighbours =
            |table: &Neighbors| Neighbors::from_lists(kept.iter().map(|&p| if is_seed(&p) { renumber(&mut table.of(p)) } else { Vec::new() }).collect());
        [tables.bought_together, tables.similar] = neighbour_tables.map(neighbours);
        tables.trending = renumber(&mut tables.trending.iter().copied());
        tables.popular = renumber(&mut tables.popular.iter().copied());
        for k in tables.popular_by_country.iter_mut().chain(&mut tables.popular_by_category).chain(&mut tables.popular_by_segment) {
            k.items = renumber(&mut k.items.iter().copied());
        }
        tables.reorder_days = tables.reorder_days.iter().filter_map(|&(p, d)| Some((new_index(p)?, d))).collect();
        // Best first as decided: scores 1, 1/2, 1/3, … keep the order through the blend.
        tables.decided = decided
            .into_iter()
            .map(|(key, items)| {
                let ranked = items.into_iter().enumerate().map(|(rank, item)| Scored { item, score: 1.0 / (rank as f32 + 1.0) });
                Keyed { key: key.into(), items: renumber(&mut ranked.into_iter()) }
            })
            .collect();

        let products: Vec<Product> = kept
            .iter()
            .filter_map(|&p| {
                let full = catalog.get(p)?.to_product();
                Some(if shown.binary_search(&p).is_ok() { full } else { full.stub() })
            })
            .collect();
        BundleBody {
            store: body.store.clone(),
            catalog: Catalog::with_slugs(&products, catalog.categories.clone(), catalog.category_slugs.clone()),
            // The customer model scores orders at the edge; the browser never reads it.
            stats: Stats { customer_model: None, ..body.stats.clone() },
            recs: tables,
            rules: browser_rules(&body.rules),
        }
    }

    /// The products the decisions of every placement show `v` at `now`, also as the browser
    /// sees `v` (it does not know the country); and what the edge decided for `v` in each
    /// placement only it decides (`Rules::needs_server`), best first.
    fn shown_items(&self, v: &Visitor, now: i64) -> (Vec<ProductIdx>, Vec<(&str, Vec<ProductIdx>)>) {
        let (catalog, rules) = (&self.body().catalog, &self.body().rules);
        let mut browser = v.clone();
        browser.request.country = None;
        let (mut shown, mut decided) = (Vec::new(), Vec::new());
        for (i, v) in [v, &browser].into_iter().enumerate() {
            let input = self.rule_input(v);
            for p in &rules.placements {
                if let Ok(d) = self.decide_with(v, &input, &p.id, now) {
                    let items: Vec<ProductIdx> = d.items.iter().filter_map(|i| catalog.index_of(&i.sku)).collect();
                    if d.status == Status::Filled {
                        shown.extend(&items);
                    }
                    if i == 0 && rules.needs_server(&p.id) && d.status == Status::Filled {
                        decided.push((p.id.as_str(), items));
                    }
                }
            }
        }
        (shown, decided)
    }
}

/// The rules as the browser decides them: placements only the edge decides
/// (`Rules::needs_server`) blend one source instead, `decided`, the edge's decision the slice
/// carries (so do the arms of experiments on them that set sources); the merchandising rules
/// go (the edge applied them; the browser's build skips them).
fn browser_rules(rules: &Rules) -> Rules {
    let mut out = rules.clone();
    let decided = || alloc::vec![Source { recommender: SLICE_RECOMMENDER.into(), weight: 1.0 }];
    for p in out.placements.iter_mut().filter(|p| !p.sources.is_empty() && rules.needs_server(&p.id)) {
        p.sources = decided();
    }
    for e in out.experiments.iter_mut().filter(|e| !e.placement.is_empty() && rules.needs_server(&e.placement)) {
        for arm in e.arms.iter_mut().filter(|a| !a.sources.is_empty()) {
            arm.sources = decided();
        }
    }
    out.merchandising.clear();
    out
}

impl Product {
    /// This row as a slice carries a product it may rank but not show.
    pub fn stub(&self) -> Product {
        Product { sku: self.sku.clone(), price: self.price, category: self.category, in_stock: self.in_stock, ..Product::default() }
    }
}
