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
//! popular list (cart add-ons filter it). Merchandising: every pinned product is kept, and the
//! products a decision's `explain.merchandising` names are full rows (what a rule removed or
//! lifted past the cut is ranked in the slice as in the bundle, so the explain is the same). A decision on a stub passes it over, so a decision
//! made later in the page, after the visitor did something, never shows an empty product.

use alloc::string::String;
use alloc::vec::Vec;

use crate::body::{BundleBody, Catalog, Keyed, Neighbors, Product, ProductIdx, RecTables, Scored};
use crate::context::Visitor;
use crate::decide::{Engine, Status};
use crate::rules::MerchAction;
use crate::rules::Rules;

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
        // Pinned products: a pin shows its product whatever the lists say.
        kept.extend(body.rules.merchandising.iter().filter(|m| m.action == MerchAction::Pin).flat_map(|m| &m.skus).filter_map(|s| catalog.index_of(s)));
        kept.retain(|&p| (p as usize) < catalog.len());
        kept.sort_unstable();
        kept.dedup();

        // Full rows: what the decisions show, the page's product, the cart, the popular list,
        // and the session's products (their brands weigh in `brand_affinity`).
        let mut shown: Vec<ProductIdx> = self.shown_items(v, now);
        shown.extend(v.request.page.product);
        shown.extend(v.cart.iter().map(|l| l.product));
        shown.extend(recs.popular.iter().map(|s| s.item));
        shown.extend(shopper.interest_products.iter().map(|p| p.0));
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
            stats: body.stats.clone(),
            recs: tables,
            rules: browser_rules(&body.rules),
        }
    }

    /// The products the decisions of every placement show `v` at `now`, also as the browser
    /// sees `v` (it does not know the country).
    fn shown_items(&self, v: &Visitor, now: i64) -> Vec<ProductIdx> {
        let catalog = &self.body().catalog;
        let mut browser = v.clone();
        browser.request.country = None;
        let mut shown = Vec::new();
        for v in [v, &browser] {
            let input = self.rule_input(v);
            for p in &self.body().rules.placements {
                if let Ok(d) = self.decide_with(v, &input, &p.id, now) {
                    if d.status == Status::Filled {
                        shown.extend(d.items.iter().filter_map(|i| catalog.index_of(&i.sku)));
                    }
                    // What merchandising names in `explain` (a product it removed, a pin the
                    // list cut): the slice ranks them too, so its explain names the same.
                    shown.extend(d.explain.merchandising.iter().filter_map(|m| catalog.index_of(&m.sku)));
                }
            }
        }
        shown
    }
}

/// The rules as the browser decides them: placements only the edge decides
/// (`Rules::needs_server`) and experiments on them are left out, so the SDK keeps what the
/// edge filled in their slots; so are the merchandising rules (the browser's build skips them).
fn browser_rules(rules: &Rules) -> Rules {
    let mut out = rules.clone();
    out.placements.retain(|p| !rules.needs_server(&p.id));
    out.experiments.retain(|e| e.placement.is_empty() || !rules.needs_server(&e.placement));
    out.merchandising.clear();
    out
}

impl Product {
    /// This row as a slice carries a product it may rank but not show.
    pub fn stub(&self) -> Product {
        Product { sku: self.sku.clone(), price: self.price, category: self.category, in_stock: self.in_stock, ..Product::default() }
    }
}
