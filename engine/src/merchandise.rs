//! Merchandising (`[[merchandising]]`): the store's own hand on a carousel, after ranking and
//! before `max_items` cuts the list.
//!
//! Every rule that applies to a decision (its `placements`, or all; its `when` on the visitor)
//! acts in config order on the ranked candidates:
//! - `exclude` removes the products it selects (pinned ones too);
//! - `boost` / `bury` multiply the selected products' blended scores by `factor` and re-sort
//!   (best first, ties by product index, as every ranking): pinned products keep their place;
//! - `pin` takes its one SKU (when the placement's filters let it in: in stock, under the price
//!   cap, not in the cart, not the page's product) out of the ranking and puts it at `position`.
//!
//! Pins are placed last, lowest position first, each pushing the rest down; on one position the
//! rule listed first keeps it and the other comes right after. Then the list is cut to
//! `max_items`. What each rule did to which product is in `explain.merchandising`.
//!
//! Pure and the same on every host: it reads the ranked list, the catalog and the compiled
//! rules only (a browser's slice keeps the pinned products and what the selectors read).

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::body::{Catalog, CategoryIdx, ProductIdx};
use crate::condition::Condition;
use crate::recommend::Ranked;
use crate::rules::{MerchAction, Merchandising};

/// `DecidedItem::source` of a pinned product no recommender offered.
pub const PINNED_SOURCE: &str = "merchandising";

/// One thing a merchandising rule did to one product, for `explain.merchandising`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MerchandisingUse {
    /// The rule's `id`.
    pub rule: String,
    /// `pin`, `boost`, `bury` or `exclude`.
    pub action: &'static str,
    pub sku: String,
    /// The product's score once the rule acted (removed: 0).
    pub score: f32,
    /// Where the product ends in the decision's items, 1-based; 0 when not shown (removed,
    /// below `max_items`, or a pin the placement's filters keep out).
    pub position: u32,
}

impl MerchandisingUse {
    pub const FIELDS: [&'static str; 5] = ["rule", "action", "sku", "score", "position"];
}

/// A rule as loaded: its `when` compiled and its selectors resolved against the catalog.
pub(crate) struct Compiled {
    pub(crate) when: Condition,
    /// `skus` as catalog positions (unknown ones left out), sorted.
    items: Vec<ProductIdx>,
    /// `category`, when given and in the catalog (`None` inside when not).
    category: Option<Option<CategoryIdx>>,
}

impl Compiled {
    pub(crate) fn new(m: &Merchandising, when: Condition, catalog: &Catalog) -> Compiled {
        let mut items: Vec<ProductIdx> = m.skus.iter().filter_map(|s| catalog.index_of(s)).collect();
        items.sort_unstable();
        let category = m.category.as_deref().map(|c| catalog.category_index(c));
        Compiled { when, items, category }
    }

    /// Whether rule `m` selects `item`: one of its SKUs, or its category, brand or tag.
    fn selects(&self, m: &Merchandising, catalog: &Catalog, item: ProductIdx) -> bool {
        if self.items.binary_search(&item).is_ok() {
            return true;
        }
        let Some(p) = catalog.get(item) else { return false };
        let same = |a: &str, b: &Option<String>| b.as_deref().is_some_and(|b| a.eq_ignore_ascii_case(b));
        self.category.is_some_and(|c| c.is_some() && c == p.category) || same(p.brand(), &m.brand) || m.tag.is_some() && p.tags().any(|t| same(t, &m.tag))
    }
}

/// The rule's score multiplier: `factor`, else 2 for a boost and 0.5 for a bury.
fn factor(m: &Merchandising) -> f32 {
    m.factor.unwrap_or(if m.action == MerchAction::Boost { 2.0 } else { 0.5 })
}

fn best_first(a: &Ranked, b: &Ranked) -> core::cmp::Ordering {
    b.score.total_cmp(&a.score).then(a.item.cmp(&b.item))
}

/// Applies `rules` (those that apply to this decision, in config order) to `items` (ranked best
/// first, every candidate) and cuts the list to `max_items`. `eligible` is the placement's
/// filters (a pin outside them is not placed). Returns what each rule did, at most `max_items`
/// products a rule, best first.
pub(crate) fn apply(
    rules: &[(&Merchandising, &Compiled)],
    catalog: &Catalog,
    items: &mut Vec<Ranked>,
    max_items: usize,
    eligible: impl Fn(ProductIdx) -> bool,
) -> Vec<MerchandisingUse> {
    // (rule, item, score): positions are filled in once the list is final.
    let mut uses: Vec<(usize, ProductIdx, f32)> = Vec::new();
    // (position, rule, the product)
    let mut pins: Vec<(u32, usize, Ranked)> = Vec::new();
    for (k, &(m, c)) in rules.iter().enumerate() {
        let selects = |item: ProductIdx| c.selects(m, catalog, item);
        let mut noted = 0;
        let mut note = |item: ProductIdx, score: f32| {
            if noted < max_items {
                uses.push((k, item, score));
                noted += 1;
            }
        };
        match m.action {
            MerchAction::Exclude => {
                for r in items.iter().chain(pins.iter().map(|p| &p.2)).filter(|r| selects(r.item)) {
                    note(r.item, 0.0);
                }
                items.retain(|r| !selects(r.item));
                pins.retain(|p| !selects(p.2.item));
            }
            MerchAction::Boost | MerchAction::Bury => {
                let f = factor(m);
                for r in items.iter_mut().chain(pins.iter_mut().map(|p| &mut p.2)).filter(|r| selects(r.item)) {
                    r.score *= f;
                }
                crate::sort::sort_by(items, best_first);
                for r in items.iter().chain(pins.iter().map(|p| &p.2)).filter(|r| selects(r.item)) {
                    note(r.item, r.score);
                }
            }
            MerchAction::Pin => {
                let Some(&item) = c.items.first() else { continue };
                // Out of the ranking (or an earlier pin), into this one's place.
                let ranked = match items.iter().position(|r| r.item == item) {
                    Some(i) => Some(items.remove(i)),
                    None => pins.iter().position(|p| p.2.item == item).map(|i| pins.remove(i).2),
                };
                let ranked = ranked.unwrap_or(Ranked { item, score: 0.0, source: PINNED_SOURCE });
                note(item, ranked.score);
                if eligible(item) {
                    pins.push((m.position.unwrap_or(1), k, ranked));
                }
            }
        }
    }
    // Lowest position first; on one position the later rule goes in first, so the earlier
    // one, inserted after it at the same place, ends up in front.
    crate::sort::sort_by(&mut pins, |a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    for (position, _, r) in pins {
        let at = (position.max(1) as usize - 1).min(items.len());
        items.insert(at, r);
    }
    items.truncate(max_items);
    uses.into_iter()
        .map(|(k, item, score)| MerchandisingUse {
            rule: rules[k].0.id.clone(),
            action: rules[k].0.action.name(),
            sku: catalog.get(item).map_or("", |p| p.sku()).into(),
            score,
            position: items.iter().position(|r| r.item == item).map_or(0, |i| i as u32 + 1),
        })
        .collect()
}
