//! `model-builder diff OLD.bin NEW.bin`: what changed between two bundles, before publishing
//! the new one. Header (build ids, dates, format), sizes, products by SKU (added, removed,
//! changed price, title or stock), every recommendation table's changed lists, and the rules
//! (each kind's entries added, removed or changed, by id).
//!
//! Both catalogs are read in place (`Catalog::iter`, SKU order) and walked together, so a diff
//! of two 100k-product bundles holds no product copies. Lists are compared by the SKUs they
//! name in order (scores are the tables' detail; an order change is a change). Counts are
//! whole; examples are the first `FIRST_EXAMPLES` in SKU or key order.

use std::cmp::Ordering;
use std::fmt::Write;
use std::path::Path;

use serde::Serialize;
use vitrine_engine::bundle::{Bundle, Catalog, Keyed, Neighbors, ProductRef, RecTables, Scored};
use vitrine_engine::civil::day_string;
use vitrine_engine::rules::Rules;

use crate::error::Result;
use crate::fmt::{bytes, n};
use crate::inspect::load;

/// Examples kept per kind of change.
pub const FIRST_EXAMPLES: usize = 5;

#[derive(Debug, Serialize)]
pub struct BundleDiff {
    pub old: Side,
    pub new: Side,
    /// False when nothing below changed (build id and date aside).
    pub changed: bool,
    pub products: ProductChanges,
    pub categories: Names,
    /// One entry per table, in the bundle's order.
    pub tables: Vec<TableChanges>,
    pub rules: RuleChanges,
    /// `[store]` (name, currency, base URL, free shipping threshold) changed.
    pub store_changed: bool,
}

/// One bundle's header and sizes.
#[derive(Debug, Serialize)]
pub struct Side {
    pub format_version: u16,
    pub build_id: String,
    /// `YYYY-MM-DD` (UTC) of the build.
    pub created: String,
    pub created_at: i64,
    pub bytes: u64,
    pub store: String,
    pub products: usize,
    pub orders: u64,
    pub customers: u64,
    /// The orders' first and last day.
    pub data_start: String,
    pub data_end: String,
}

#[derive(Debug, Default, Serialize)]
pub struct ProductChanges {
    pub added: Examples<String>,
    pub removed: Examples<String>,
    /// Products in both whose price, title or stock changed.
    pub changed: Examples<ProductChange>,
    /// Of `changed`, how many changed each field.
    pub price_changed: usize,
    pub title_changed: usize,
    pub stock_changed: usize,
}

/// A count and the first few examples.
#[derive(Debug, Serialize)]
pub struct Examples<T> {
    pub count: usize,
    pub first: Vec<T>,
}

impl<T> Default for Examples<T> {
    fn default() -> Self {
        Examples { count: 0, first: Vec::new() }
    }
}

impl<T> Examples<T> {
    fn push(&mut self, example: impl FnOnce() -> T) {
        if self.first.len() < FIRST_EXAMPLES {
            self.first.push(example());
        }
        self.count += 1;
    }
}

/// `[old, new]` of one field.
pub type Change<T> = Option<(T, T)>;

#[derive(Debug, Serialize)]
pub struct ProductChange {
    pub sku: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Change<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Change<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_stock: Change<bool>,
}

#[derive(Debug, Default, Serialize)]
pub struct Names {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// A table's lists (one per product, key, or the one list) whose items changed.
#[derive(Debug, Serialize)]
pub struct TableChanges {
    pub table: &'static str,
    pub old_entries: usize,
    pub new_entries: usize,
    /// Lists whose SKUs (in order) differ, by the SKU or key they belong to; a list only in
    /// one bundle counts when it is not empty.
    pub changed_lists: Examples<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct RuleChanges {
    pub pages: IdChanges,
    pub segments: IdChanges,
    pub saved_groups: IdChanges,
    pub placements: IdChanges,
    pub offers: IdChanges,
    pub experiments: IdChanges,
    pub journeys: IdChanges,
    pub messaging_changed: bool,
    pub measurement_changed: bool,
}

/// Entries by id (a placement's `id`, an experiment's `key`, a page rule's `pattern`, …).
#[derive(Debug, Default, Serialize)]
pub struct IdChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl IdChanges {
    fn of<T: PartialEq>(old: &[T], new: &[T], id: impl Fn(&T) -> &str) -> IdChanges {
        let mut c = IdChanges::default();
        for o in old {
            match new.iter().find(|n| id(n) == id(o)) {
                None => c.removed.push(id(o).into()),
                Some(n) if n != o => c.changed.push(id(o).into()),
                Some(_) => {}
            }
        }
        c.added = new.iter().filter(|n| !old.iter().any(|o| id(o) == id(n))).map(|n| id(n).into()).collect();
        c
    }

    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Reads both bundles (refusing either if it is not a valid bundle) and compares them.
pub fn diff(old: &Path, new: &Path) -> Result<BundleDiff> {
    let (old_bundle, old_bytes) = load(old)?;
    let (new_bundle, new_bytes) = load(new)?;
    Ok(compare(&old_bundle, old_bytes, &new_bundle, new_bytes))
}

pub fn compare(old: &Bundle, old_bytes: u64, new: &Bundle, new_bytes: u64) -> BundleDiff {
    let (oc, nc) = (&old.body.catalog, &new.body.catalog);
    let products = products(oc, nc);
    let categories = Names {
        added: nc.categories.iter().filter(|c| !oc.categories.contains(c)).cloned().collect(),
        removed: oc.categories.iter().filter(|c| !nc.categories.contains(c)).cloned().collect(),
    };
    let tables = tables(oc, &old.body.recs, nc, &new.body.recs);
    let rules = rules(&old.body.rules, &new.body.rules);
    let changed = products.added.count + products.removed.count + products.changed.count > 0
        || !categories.added.is_empty()
        || !categories.removed.is_empty()
        || tables.iter().any(|t| t.changed_lists.count > 0)
        || [&rules.pages, &rules.segments, &rules.saved_groups, &rules.placements, &rules.offers, &rules.experiments, &rules.journeys]
            .iter()
            .any(|c| !c.is_empty())
        || rules.messaging_changed
        || rules.measurement_changed
        || old.body.store != new.body.store;
    let store_changed = old.body.store != new.body.store;
    BundleDiff { old: side(old, old_bytes), new: side(new, new_bytes), changed, products, categories, tables, rules, store_changed }
}

fn side(b: &Bundle, bytes: u64) -> Side {
    let stats = &b.body.stats;
    Side {
        format_version: b.header.format_version,
        build_id: b.header.build_id_hex(),
        created: day_string(b.header.created_at),
        created_at: b.header.created_at,
        bytes,
        store: b.body.store.name.clone(),
        products: b.body.catalog.len(),
        orders: stats.orders,
        customers: stats.customers,
        data_start: day_string(stats.data_start),
        data_end: day_string(stats.data_end),
    }
}

/// Walks both catalogs in SKU order.
fn products(old: &Catalog, new: &Catalog) -> ProductChanges {
    let mut out = ProductChanges::default();
    let (mut o, mut n) = (old.iter().peekable(), new.iter().peekable());
    loop {
        let order = match (o.peek(), n.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(a), Some(b)) => a.sku().cmp(b.sku()),
        };
        match order {
            Ordering::Less => {
                let p = o.next().expect("peeked");
                out.removed.push(|| p.sku().into());
            }
            Ordering::Greater => {
                let p = n.next().expect("peeked");
                out.added.push(|| p.sku().into());
            }
            Ordering::Equal => {
                let (a, b) = (o.next().expect("peeked"), n.next().expect("peeked"));
                product_change(&mut out, &a, &b);
            }
        }
    }
    out
}

fn product_change(out: &mut ProductChanges, a: &ProductRef, b: &ProductRef) {
    let price = (a.price.to_bits() != b.price.to_bits()).then_some((a.price, b.price));
    let title = (a.title() != b.title()).then(|| (a.title().to_string(), b.title().to_string()));
    let in_stock = (a.in_stock != b.in_stock).then_some((a.in_stock, b.in_stock));
    if price.is_none() && title.is_none() && in_stock.is_none() {
        return;
    }
    out.price_changed += usize::from(price.is_some());
    out.title_changed += usize::from(title.is_some());
    out.stock_changed += usize::from(in_stock.is_some());
    out.changed.push(|| ProductChange { sku: a.sku().into(), price, title, in_stock });
}

fn skus<'a>(catalog: &'a Catalog, items: &[Scored]) -> Vec<&'a str> {
    items.iter().map(|s| catalog.get(s.item).map_or("?", |p| p.sku())).collect()
}

fn tables(oc: &Catalog, old: &RecTables, nc: &Catalog, new: &RecTables) -> Vec<TableChanges> {
    let one = |table, o: &[Scored], n: &[Scored]| {
        let mut changed_lists = Examples::default();
        if skus(oc, o) != skus(nc, n) {
            changed_lists.push(|| String::from(table));
        }
        TableChanges { table, old_entries: o.len(), new_entries: n.len(), changed_lists }
    };
    let mut reorders = Examples::default();
    let interval = |c: &Catalog, t: &RecTables| -> Vec<(String, u32)> {
        let mut v: Vec<(String, u32)> = t.reorder_days.iter().map(|&(p, d)| (c.get(p).map_or("?".into(), |p| p.sku().to_string()), d.to_bits())).collect();
        v.sort();
        v
    };
    let (ro, rn) = (interval(oc, old), interval(nc, new));
    for_each_key(
        &ro,
        &rn,
        |r| &r.0,
        |key, a, b| {
            if a.map(|r| r.1) != b.map(|r| r.1) {
                reorders.push(|| key.to_string());
            }
        },
    );
    vec![
        neighbors("bought_together", oc, &old.bought_together, nc, &new.bought_together),
        neighbors("similar", oc, &old.similar, nc, &new.similar),
        one("trending", &old.trending, &new.trending),
        one("popular", &old.popular, &new.popular),
        keyed("popular_by_country", oc, &old.popular_by_country, nc, &new.popular_by_country),
        keyed("popular_by_category", oc, &old.popular_by_category, nc, &new.popular_by_category),
        keyed("popular_by_segment", oc, &old.popular_by_segment, nc, &new.popular_by_segment),
        TableChanges { table: "reorder_days", old_entries: old.reorder_days.len(), new_entries: new.reorder_days.len(), changed_lists: reorders },
    ]
}

/// Per product (by SKU, over both catalogs): its neighbour list's SKUs.
fn neighbors(table: &'static str, oc: &Catalog, old: &Neighbors, nc: &Catalog, new: &Neighbors) -> TableChanges {
    let mut changed_lists = Examples::default();
    let (mut o, mut n) = (oc.iter().enumerate().peekable(), nc.iter().enumerate().peekable());
    let list = |c: &Catalog, t: &Neighbors, i: usize| -> Vec<String> {
        t.of(i as u32).map(|s| c.get(s.item).map_or("?".to_string(), |p| p.sku().to_string())).collect()
    };
    loop {
        let order = match (o.peek(), n.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(a), Some(b)) => a.1.sku().cmp(b.1.sku()),
        };
        let (sku, a, b) = match order {
            Ordering::Less => {
                let (i, p) = o.next().expect("peeked");
                (p.sku(), list(oc, old, i), Vec::new())
            }
            Ordering::Greater => {
                let (i, p) = n.next().expect("peeked");
                (p.sku(), Vec::new(), list(nc, new, i))
            }
            Ordering::Equal => {
                let ((i, p), (j, _)) = (o.next().expect("peeked"), n.next().expect("peeked"));
                (p.sku(), list(oc, old, i), list(nc, new, j))
            }
        };
        if a != b {
            changed_lists.push(|| sku.to_string());
        }
    }
    TableChanges { table, old_entries: old.len(), new_entries: new.len(), changed_lists }
}

fn keyed(table: &'static str, oc: &Catalog, old: &[Keyed], nc: &Catalog, new: &[Keyed]) -> TableChanges {
    let mut changed_lists = Examples::default();
    let (so, sn) = (by_key(old), by_key(new));
    for_each_key(
        &so,
        &sn,
        |k| &k.key,
        |key, a, b| {
            let a = a.map(|k| skus(oc, &k.items)).unwrap_or_default();
            let b = b.map(|k| skus(nc, &k.items)).unwrap_or_default();
            if a != b {
                changed_lists.push(|| key.to_string());
            }
        },
    );
    let entries = |t: &[Keyed]| t.iter().map(|k| k.items.len()).sum();
    TableChanges { table, old_entries: entries(old), new_entries: entries(new), changed_lists }
}

fn by_key(t: &[Keyed]) -> Vec<&Keyed> {
    let mut v: Vec<&Keyed> = t.iter().collect();
    v.sort_by(|a, b| a.key.cmp(&b.key));
    v
}

/// Calls `f(key, old, new)` for every key of two lists sorted by key.
fn for_each_key<'a, T>(old: &'a [T], new: &'a [T], key: impl Fn(&T) -> &String, mut f: impl FnMut(&str, Option<&'a T>, Option<&'a T>)) {
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) => key(a).cmp(key(b)),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                f(key(&old[i]), Some(&old[i]), None);
                i += 1;
            }
            Ordering::Greater => {
                f(key(&new[j]), None, Some(&new[j]));
                j += 1;
            }
            Ordering::Equal => {
                f(key(&old[i]), Some(&old[i]), Some(&new[j]));
                i += 1;
                j += 1;
            }
        }
    }
}

fn rules(old: &Rules, new: &Rules) -> RuleChanges {
    let groups = |r: &Rules| -> Vec<(String, Vec<vitrine_engine::Value>)> { r.saved_groups.iter().map(|(k, v)| (k.clone(), v.clone())).collect() };
    RuleChanges {
        pages: IdChanges::of(&old.pages, &new.pages, |p| &p.pattern),
        segments: IdChanges::of(&old.segments, &new.segments, |s| &s.name),
        saved_groups: IdChanges::of(&groups(old), &groups(new), |g| &g.0),
        placements: IdChanges::of(&old.placements, &new.placements, |p| &p.id),
        offers: IdChanges::of(&old.offers, &new.offers, |o| &o.id),
        experiments: IdChanges::of(&old.experiments, &new.experiments, |e| &e.key),
        journeys: IdChanges::of(&old.journeys, &new.journeys, |j| &j.id),
        messaging_changed: old.messaging != new.messaging,
        measurement_changed: old.measurement != new.measurement,
    }
}

/// The text `diff` prints.
pub fn render(d: &BundleDiff) -> String {
    let mut out = String::new();
    for (name, s) in [("old", &d.old), ("new", &d.new)] {
        let _ = writeln!(
            out,
            "{name}: bundle v{}, build {}, created {}, {}, {} products, {} orders, data {} .. {}",
            s.format_version,
            s.build_id,
            s.created,
            bytes(s.bytes),
            n(s.products as u64),
            n(s.orders),
            s.data_start,
            s.data_end
        );
    }
    if !d.changed {
        let _ = writeln!(out, "no change in products, tables or rules");
        return out;
    }
    let p = &d.products;
    let _ = writeln!(out, "products:");
    let _ = writeln!(out, "  added    {:>7}{}", n(p.added.count as u64), first(&p.added.first));
    let _ = writeln!(out, "  removed  {:>7}{}", n(p.removed.count as u64), first(&p.removed.first));
    let _ = writeln!(
        out,
        "  changed  {:>7} (price {}, title {}, stock {})",
        n(p.changed.count as u64),
        n(p.price_changed as u64),
        n(p.title_changed as u64),
        n(p.stock_changed as u64)
    );
    for c in &p.changed.first {
        let mut parts = Vec::new();
        if let Some((a, b)) = c.price {
            parts.push(format!("price {a:.2} -> {b:.2}"));
        }
        if let Some((a, b)) = &c.title {
            parts.push(format!("title {a:?} -> {b:?}"));
        }
        if let Some((a, b)) = c.in_stock {
            parts.push(format!("in stock {a} -> {b}"));
        }
        let _ = writeln!(out, "    {}: {}", c.sku, parts.join(", "));
    }
    if !d.categories.added.is_empty() || !d.categories.removed.is_empty() {
        let _ = writeln!(out, "categories: added [{}], removed [{}]", d.categories.added.join(", "), d.categories.removed.join(", "));
    }
    let _ = writeln!(out, "tables (lists changed, entries old -> new):");
    for t in &d.tables {
        let _ = writeln!(
            out,
            "  {:<20} {:>7} lists  {:>9} -> {}{}",
            t.table,
            n(t.changed_lists.count as u64),
            n(t.old_entries as u64),
            n(t.new_entries as u64),
            first(&t.changed_lists.first)
        );
    }
    if d.store_changed {
        let _ = writeln!(out, "[store] changed");
    }
    let r = &d.rules;
    let _ = writeln!(out, "rules:");
    for (kind, c) in [
        ("pages", &r.pages),
        ("segments", &r.segments),
        ("saved_groups", &r.saved_groups),
        ("placements", &r.placements),
        ("offers", &r.offers),
        ("experiments", &r.experiments),
        ("journeys", &r.journeys),
    ] {
        if !c.is_empty() {
            let _ = writeln!(out, "  {kind:<12} added [{}], removed [{}], changed [{}]", c.added.join(", "), c.removed.join(", "), c.changed.join(", "));
        }
    }
    if r.messaging_changed {
        let _ = writeln!(out, "  [messaging] changed");
    }
    if r.measurement_changed {
        let _ = writeln!(out, "  [measurement] changed");
    }
    out
}

fn first(examples: &[String]) -> String {
    if examples.is_empty() {
        String::new()
    } else {
        format!("  e.g. {}", examples.join(", "))
    }
}
