//! The catalog triggers, `back_in_stock` and `price_drop`: what changed between two published
//! catalogs ([`catalog_changes`], the one definition the edge and `model-builder` use), and
//! the runner's entry point for it ([`Runner::catalog_changed`]).
//!
//! ```text
//! publish: catalog_changes(previous, new) -> [(sku, back in stock | price drop {old, new, percent})]
//! each watching visitor: Runner::catalog_changed(state, published build id, changes, now) -> effects
//! ```
//!
//! A visitor is concerned by a product in their cart or one they asked to be told about
//! ("notify me", `VisitorState::watching`). A change starts each matching journey once (its
//! `reentry`, its `when`: the common start path), with the products it is about as the run's
//! `items`, which its messages show; a journey already running for the visitor takes the new
//! products in instead of starting again. The same change reaching a visitor twice (a retried
//! fan-out) starts nothing twice: `(build id, sku, change)` is remembered with the event ids.
//! Consent, caps and quiet hours hold at send time, as for every journey; an order ends them.
//!
//! A child module of `runner` (`#[path]`): it starts, ends and settles runs through the
//! runner's own private paths, and keeps its code out of that file.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::Runner;
use crate::body::{Catalog, ProductRef};
use crate::journey::effect::{Effect, EndReason};
use crate::journey::state::{VisitorState, MAX_RUN_ITEMS};
use crate::rules::{Journey, Trigger};

/// What happened to one product between two catalogs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Out of stock before, in stock now.
    BackInStock,
    /// In stock and cheaper: `percent` of the old price off (two decimals).
    PriceDrop { old: f32, new: f32, percent: f32 },
}

/// One product's change, by SKU (states and bundles number products differently).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogChange {
    pub sku: String,
    pub change: Change,
}

impl CatalogChange {
    /// Whether this change starts journey `j`: its trigger, and for a price drop a drop of at
    /// least its `min_drop_percent`.
    pub fn starts(&self, j: &Journey) -> bool {
        match (self.change, j.trigger) {
            (Change::BackInStock, Trigger::BackInStock) => true,
            (Change::PriceDrop { percent, .. }, Trigger::PriceDrop) => percent >= j.min_drop_percent,
            _ => false,
        }
    }

    fn kind(&self) -> &'static str {
        match self.change {
            Change::BackInStock => "back_in_stock",
            Change::PriceDrop { .. } => "price_drop",
        }
    }
}

/// How much cheaper `new` is than `old`, in percent of `old`, to two decimals (computed in
/// f64 and rounded, so "10 → 9" is exactly 10 % on every host, never 9.999).
fn drop_percent(old: f32, new: f32) -> f32 {
    let p = (old as f64 - new as f64) / old as f64 * 100.0;
    (libm::round(p * 100.0) / 100.0) as f32
}

/// What one product's change is, if any (`None`: nothing a visitor would want to hear).
fn change_of(before: &ProductRef, after: &ProductRef) -> Option<Change> {
    if after.in_stock && !before.in_stock {
        return Some(Change::BackInStock);
    }
    // A product still out of stock is not worth telling about, cheaper or not.
    (after.in_stock && before.price > 0.0 && after.price < before.price && after.price >= 0.0)
        .then(|| Change::PriceDrop { old: before.price, new: after.price, percent: drop_percent(before.price, after.price) })
        .filter(|c| matches!(c, Change::PriceDrop { percent, .. } if *percent > 0.0))
}

/// What changed from `previous` to `new` that the catalog triggers care about: products back
/// in stock, and products in stock whose price dropped (any drop: each journey's
/// `min_drop_percent` decides). Products only in one of them are no change. Both catalogs are
/// walked together in SKU order (their rows are sorted by SKU), once: linear in their sizes.
pub fn catalog_changes(previous: &Catalog, new: &Catalog) -> Vec<CatalogChange> {
    let mut out = Vec::new();
    let (mut old_rows, mut new_rows) = (previous.iter().peekable(), new.iter().peekable());
    while let (Some(b), Some(a)) = (old_rows.peek(), new_rows.peek()) {
        match b.sku().cmp(a.sku()) {
            core::cmp::Ordering::Less => {
                old_rows.next();
            }
            core::cmp::Ordering::Greater => {
                new_rows.next();
            }
            core::cmp::Ordering::Equal => {
                if let Some(change) = change_of(b, a) {
                    out.push(CatalogChange { sku: a.sku().into(), change });
                }
                old_rows.next();
                new_rows.next();
            }
        }
    }
    out
}

/// Journeys that end with an order (whatever it holds: the visitor bought).
const ENDED_BY_ORDER: [Trigger; 2] = [Trigger::BackInStock, Trigger::PriceDrop];

impl Runner<'_> {
    /// A newly published catalog (build id `published`) changed `changes` (from
    /// [`catalog_changes`]): starts the `back_in_stock` and `price_drop` journeys of this
    /// visitor for the products in their cart or on their watch list, each run remembering the
    /// products it is about. A change already taken (the same build id, product and kind)
    /// does nothing again.
    pub fn catalog_changed(&self, s: &mut VisitorState, published: &str, changes: &[CatalogChange], now: i64) -> Vec<Effect> {
        let mut fx = Vec::new();
        let concerned = |s: &VisitorState, sku: &str| s.cart.iter().any(|l| l.sku == sku) || s.watches(sku, now);
        let mut fresh: Vec<&CatalogChange> = Vec::new();
        for c in changes {
            if concerned(s, &c.sku) && s.seen.insert(&[published, ":", &c.sku, ":", c.kind()].concat()) {
                fresh.push(c);
            }
        }
        for j in self.journeys() {
            let mut items: Vec<String> = Vec::new();
            for c in fresh.iter().filter(|c| c.starts(j)) {
                if !items.contains(&c.sku) && items.len() < MAX_RUN_ITEMS {
                    items.push(c.sku.clone());
                }
            }
            if items.is_empty() {
                continue;
            }
            if let Some(run) = s.runs.iter_mut().find(|r| r.journey == j.id) {
                // Running already: its next messages show the new products too.
                for sku in items {
                    if !run.items.contains(&sku) && run.items.len() < MAX_RUN_ITEMS {
                        run.items.push(sku);
                    }
                }
            } else if self.may_start(s, j, now) {
                let id = s.next_run_id;
                self.start(s, j, now, now, &mut fx);
                if let Some(run) = s.runs.iter_mut().find(|r| r.id == id && r.journey == j.id) {
                    run.items = items;
                }
            }
        }
        self.settle_alarm(s, &mut fx);
        fx
    }

    /// An order ends the catalog journeys (the runner's `order_completed` calls this).
    pub(super) fn end_catalog_runs(&self, s: &mut VisitorState, fx: &mut Vec<Effect>) {
        for trigger in ENDED_BY_ORDER {
            self.end_all(s, trigger, EndReason::OrderCompleted, fx);
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec;

    use super::*;
    use crate::body::{BundleBody, Product};
    use crate::journey::{parse, Message, Record};
    use crate::rules::{Rules, Store};

    const T0: i64 = 1_795_435_200; // 2026-11-23 12:00 UTC

    fn product(sku: &str, price: f32, in_stock: bool) -> Product {
        Product { sku: sku.into(), title: ["Product ", sku].concat(), url: ["/products/", sku].concat(), price, in_stock, ..Default::default() }
    }

    fn catalog(products: &[Product]) -> Catalog {
        Catalog::new(products.to_vec(), vec![])
    }

    fn body(products: &[Product], reentry: &str) -> BundleBody {
        let json = r#"{
          "journeys": [
            {"id": "drop", "trigger": "price_drop", "min_drop_percent": 15, "reentry": "REENTRY", "steps": [
              {"after": "0s", "channel": "email", "subject": "Cheaper now", "body": "{{products}}"}
            ]},
            {"id": "restock", "trigger": "back_in_stock", "steps": [
              {"after": "0s", "channel": "email", "subject": "Back in stock", "body": "{{products}}"},
              {"after": "2d", "channel": "email", "subject": "Still there", "body": "{{products}}"}
            ]}
          ]
        }"#
        .replace("REENTRY", reentry);
        let rules: Rules = serde_json::from_str(&json).unwrap();
        assert_eq!(crate::journey::check(&rules), Vec::<String>::new());
        BundleBody {
            store: Store { name: "Shop".into(), currency_symbol: "£".into(), base_url: "https://shop.test".into(), ..Default::default() },
            catalog: catalog(products),
            stats: Default::default(),
            recs: Default::default(),
            rules,
        }
    }

    /// A visitor who consented to email, with a confirmed address.
    fn visitor() -> VisitorState {
        let mut s = VisitorState::new("a:v1");
        s.profile.email = "v1@example.com".into();
        s.profile.email_verified = true;
        s.consent.set(crate::rules::Channel::Email, true, T0 - 100);
        s
    }

    fn event(runner: &Runner, s: &mut VisitorState, id: &str, name: &str, props: &str, now: i64) -> Vec<Effect> {
        let text = ["{\"type\":\"track\",\"event\":\"", name, "\",\"messageId\":\"", id, "\",\"anonymousId\":\"v1\",\"properties\":", props, "}"].concat();
        let e = parse(&serde_json::from_str(&text).unwrap(), text.len()).unwrap();
        runner.handle(s, &e, now)
    }

    fn sent(fx: &[Effect]) -> Vec<Message> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Send(m) => Some((**m).clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_diff_names_products_back_in_stock_and_cheaper_and_nothing_else() {
        let before = catalog(&[product("A", 10.0, true), product("B", 5.0, false), product("C", 8.0, true), product("D", 4.0, false), product("E", 3.0, true)]);
        let after = catalog(&[
            product("A", 9.0, true),  // 10 % cheaper
            product("B", 5.0, true),  // back in stock
            product("C", 9.0, true),  // dearer: nothing
            product("D", 2.0, false), // cheaper but still out of stock: nothing
            product("F", 1.0, true),  // new: nothing (E gone: nothing)
        ]);
        assert_eq!(
            catalog_changes(&before, &after),
            [
                CatalogChange { sku: "A".into(), change: Change::PriceDrop { old: 10.0, new: 9.0, percent: 10.0 } },
                CatalogChange { sku: "B".into(), change: Change::BackInStock },
            ]
        );
        assert_eq!(catalog_changes(&after, &after), []);
        let json = serde_json::to_string(&catalog_changes(&before, &after)).unwrap();
        assert_eq!(json, r#"[{"sku":"A","change":{"price_drop":{"old":10.0,"new":9.0,"percent":10.0}}},{"sku":"B","change":"back_in_stock"}]"#);
    }

    #[test]
    fn a_carted_visitor_gets_one_price_drop_message_showing_the_item() {
        let b = body(&[product("A", 8.0, true), product("B", 5.0, true)], "0s");
        let r = Runner::new(&b, b"secret");
        let mut s = visitor();
        event(&r, &mut s, "m1", "Product Added", r#"{"sku":"A"}"#, T0);
        let drop = [CatalogChange { sku: "A".into(), change: Change::PriceDrop { old: 10.0, new: 8.0, percent: 20.0 } }];
        let fx = r.catalog_changed(&mut s, "build-2", &drop, T0 + 60);
        assert!(fx.contains(&Effect::Record(Record::Started { journey: "drop".into(), run: 0 })), "{fx:?}");
        let run = s.run("drop").unwrap();
        assert_eq!(run.items, ["A"]);
        let messages = sent(&r.on_alarm(&mut s, T0 + 60));
        assert_eq!(messages.len(), 1, "one message");
        assert_eq!(messages[0].products, ["A"]);
        assert!(messages[0].text.contains("Product A (£8.00)"), "{}", messages[0].text);
        // The same publish reaching the visitor again (a retried fan-out) does nothing.
        assert_eq!(r.catalog_changed(&mut s, "build-2", &drop, T0 + 120), []);
        assert!(sent(&r.on_alarm(&mut s, T0 + 3 * crate::time::DAY)).is_empty());
    }

    #[test]
    fn a_drop_below_min_drop_percent_or_of_a_product_not_carted_starts_nothing() {
        let b = body(&[product("A", 9.0, true), product("B", 5.0, true)], "0s");
        let r = Runner::new(&b, b"secret");
        let mut s = visitor();
        event(&r, &mut s, "m1", "Product Added", r#"{"sku":"A"}"#, T0);
        let small = [CatalogChange { sku: "A".into(), change: Change::PriceDrop { old: 10.0, new: 9.0, percent: 10.0 } }];
        assert_eq!(r.catalog_changed(&mut s, "build-2", &small, T0 + 60), []);
        let other = [CatalogChange { sku: "B".into(), change: Change::PriceDrop { old: 10.0, new: 5.0, percent: 50.0 } }];
        assert_eq!(r.catalog_changed(&mut s, "build-3", &other, T0 + 60), []);
        assert!(s.run("drop").is_none());
    }

    #[test]
    fn notify_me_then_back_in_stock_starts_the_journey_and_an_order_ends_it() {
        let b = body(&[product("A", 9.0, true), product("B", 5.0, true)], "0s");
        let r = Runner::new(&b, b"secret");
        let mut s = visitor();
        event(&r, &mut s, "m1", "Product Alert Requested", r#"{"sku":"B"}"#, T0);
        assert!(s.watches("B", T0));
        let back = [CatalogChange { sku: "B".into(), change: Change::BackInStock }];
        r.catalog_changed(&mut s, "build-2", &back, T0 + 60);
        let messages = sent(&r.on_alarm(&mut s, T0 + 60));
        assert_eq!(messages.iter().map(|m| (m.journey.as_str(), m.products.clone())).collect::<Vec<_>>(), [("restock", vec!["B".to_string()])]);
        assert!(s.run("restock").is_some(), "a second step is due in 2 days");
        let fx = event(&r, &mut s, "m2", "Order Completed", r#"{"order_id":"o1","products":[{"sku":"B"}]}"#, T0 + 3600);
        assert!(fx.contains(&Effect::Record(Record::Ended { journey: "restock".into(), run: 0, reason: EndReason::OrderCompleted })), "{fx:?}");
        assert!(sent(&r.on_alarm(&mut s, T0 + 3 * crate::time::DAY)).is_empty());
    }

    #[test]
    fn reentry_holds_a_second_drop_and_consent_still_rules_the_send() {
        let b = body(&[product("A", 7.0, true)], "7d");
        let r = Runner::new(&b, b"secret");
        let mut s = visitor();
        event(&r, &mut s, "m1", "Product Added", r#"{"sku":"A"}"#, T0);
        let drop = |new: f32| [CatalogChange { sku: "A".into(), change: Change::PriceDrop { old: 10.0, new, percent: drop_percent(10.0, new) } }];
        r.catalog_changed(&mut s, "build-2", &drop(8.0), T0);
        assert_eq!(sent(&r.on_alarm(&mut s, T0)).len(), 1);
        // Another drop a day later: within reentry, nothing starts.
        assert_eq!(r.catalog_changed(&mut s, "build-3", &drop(7.0), T0 + crate::time::DAY), []);
        // After reentry, without consent: the run starts, its message is skipped.
        s.consent.set(crate::rules::Channel::Email, false, T0 + DAY8);
        r.catalog_changed(&mut s, "build-4", &drop(6.0), T0 + DAY8);
        let fx = r.on_alarm(&mut s, T0 + DAY8);
        assert!(sent(&fx).is_empty());
        assert!(fx.iter().any(|e| matches!(e, Effect::Record(Record::Skipped { journey, .. }) if journey == "drop")), "{fx:?}");
    }

    const DAY8: i64 = 8 * crate::time::DAY;

    #[test]
    fn the_watch_list_is_bounded_and_forgets() {
        let mut s = VisitorState::new("a:v");
        for i in 0..30 {
            s.watch(&i.to_string(), T0 + i);
        }
        assert_eq!(s.watching.len(), crate::journey::state::MAX_WATCHING);
        assert!(!s.watches("0", T0 + 30) && s.watches("29", T0 + 30));
        assert!(!s.watches("29", T0 + 29 + crate::journey::state::WATCH_TTL));
    }
}
