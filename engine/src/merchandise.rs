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
//! Pure and the same on every host: it reads the ranked list, the catalog and the rules only
//! (a browser's slice keeps the pinned products, and what `explain` names as full rows). In the
//! browser (feature `compact`) it records nothing for `explain`: the SDK's download has no room
//! for it, and the decision is the same.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::body::{Catalog, ProductIdx};
use crate::condition::{Condition, Groups};
use crate::recommend::{best_first, Ranked};
use crate::rules::{MerchAction, Merchandising};
use crate::value::Value;

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

/// Whether rule `m` selects `item`: one of its SKUs, or its category, brand or tag (names
/// compared as `RecTables::keyed` does). Read at decide time, nothing resolved at load: the
/// few strings a rule names cost less in the browser's download than a resolved form.
fn selects(m: &Merchandising, catalog: &Catalog, item: ProductIdx) -> bool {
    let Some(p) = catalog.get(item) else { return false };
    let same = |a: &str, b: &Option<String>| b.as_deref().is_some_and(|b| a.eq_ignore_ascii_case(b));
    let category = p.category.and_then(|c| catalog.categories.get(usize::from(c)));
    m.skus.iter().any(|s| s == p.sku())
        || category.is_some_and(|c| same(c, &m.category))
        || same(p.brand(), &m.brand)
        || m.tag.is_some() && p.tags().any(|t| same(t, &m.tag))
}

/// Applies the rules of `rules` (with their compiled `when`) that apply to placement
/// `placement` and a visitor with `attrs`, in config order, to `items` (every candidate, ranked
/// best first) and cuts the list to `max_items`. `eligible` is the placement's filters (a pin
/// outside them is not placed). Returns what each rule did, at most `max_items` products a
/// rule, best first.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply(
    rules: &[Merchandising],
    when: &[Condition],
    placement: &str,
    attrs: &Value,
    groups: &Groups,
    catalog: &Catalog,
    items: &mut Vec<Ranked>,
    max_items: usize,
    eligible: impl Fn(ProductIdx) -> bool,
) -> Vec<MerchandisingUse> {
    // (rule, item, score): positions are filled in once the list is final.
    let mut uses: Vec<(&Merchandising, ProductIdx, f32)> = Vec::new();
    // (position, the product), by position; on one position the later rule first, so that the
    // earlier one, inserted after it at the same place below, ends up in front.
    let mut pins: Vec<(u32, Ranked)> = Vec::new();
    for (m, when) in rules.iter().zip(when) {
        if !(m.placements.is_empty() || m.placements.iter().any(|p| p == placement)) || !when.eval(attrs, groups) {
            continue;
        }
        let selects = |item: ProductIdx| selects(m, catalog, item);
        let noted = uses.len();
        let note = |uses: &mut Vec<_>, r: &Ranked| {
            // Not in the browser (feature `compact`): the SDK's download has no room for it, and
            // the edge's `/v1/decide?explain=1` says it (the decision itself is the same).
            if !cfg!(feature = "compact") && uses.len() - noted < max_items {
                uses.push((m, r.item, r.score));
            }
        };
        if m.action == MerchAction::Pin {
            let Some(item) = m.skus.first().and_then(|s| catalog.index_of(s)) else { continue };
            // Out of the ranking (or an earlier pin), into this one's place.
            let ranked = match items.iter().position(|r| r.item == item) {
                Some(i) => items.remove(i),
                None => match pins.iter().position(|p| p.1.item == item) {
                    Some(i) => pins.remove(i).1,
                    None => Ranked { item, score: 0.0, source: PINNED_SOURCE },
                },
            };
            note(&mut uses, &ranked);
            if eligible(item) {
                let position = m.position.unwrap_or(1);
                let at = pins.iter().position(|p| p.0 >= position).unwrap_or(pins.len());
                pins.insert(at, (position, ranked));
            }
            continue;
        }
        if m.action != MerchAction::Exclude {
            let factor = m.factor.unwrap_or(if m.action == MerchAction::Boost { 2.0 } else { 0.5 });
            for r in items.iter_mut().chain(pins.iter_mut().map(|p| &mut p.1)) {
                if selects(r.item) {
                    r.score *= factor;
                }
            }
            crate::sort::top_k_by(items, usize::MAX, best_first);
        }
        if !cfg!(feature = "compact") {
            for r in items.iter().chain(pins.iter().map(|p| &p.1)).filter(|r| selects(r.item)) {
                note(&mut uses, &Ranked { score: if m.action == MerchAction::Exclude { 0.0 } else { r.score }, ..*r });
            }
        }
        if m.action == MerchAction::Exclude {
            items.retain(|r| !selects(r.item));
            pins.retain(|p| !selects(p.1.item));
        }
    }
    for (position, r) in pins {
        items.insert((position.max(1) as usize - 1).min(items.len()), r);
    }
    items.truncate(max_items);
    if cfg!(feature = "compact") {
        return Vec::new();
    }
    uses.into_iter()
        .map(|(m, item, score)| MerchandisingUse {
            rule: m.id.clone(),
            action: m.action.name(),
            sku: catalog.get(item).map_or("", |p| p.sku()).into(),
            score,
            position: items.iter().position(|r| r.item == item).map_or(0, |i| i as u32 + 1),
        })
        .collect()
}
