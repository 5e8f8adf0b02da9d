//! The one cart model: lines of SKU and quantity, with one set of rules for adding, removing
//! and bounding them. Every host keeps its cart in it:
//!
//! - the edge and the SDK read it from the shared cookie (`cookies::parse_cart_cookie`), the
//!   SDK's session keeps it between pages and writes the cookie back (`cookies::cart_cookie`);
//! - the journeys keep it in a visitor's state (`journey::VisitorState::cart`), from Segment's
//!   cart events.
//!
//! Products are named by SKU, never by `ProductIdx`: a cart outlives bundles (a cookie, a
//! session, a Durable Object), and a new bundle may number products differently. A decision
//! sees the cart [`Cart::resolve`]d against its bundle's catalog (`context::CartLine`: SKUs
//! the catalog does not know are dropped there).
//!
//! The rules: a SKU has one line (adding it again adds to its quantity); quantities saturate at
//! [`MAX_QUANTITY`] and a cart holds at most [`MAX_LINES`] lines (a line beyond is dropped: a
//! decision or a reminder never needs more); a line of quantity 0 or an empty SKU is no line.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Deref;

use serde::{Deserialize, Serialize};

use crate::body::Catalog;
use crate::context::CartLine;

/// A cart longer than this is cut: a decision never needs more lines.
pub const MAX_LINES: usize = 50;
/// Quantities stop here (no store sells a thousand of one line to a visitor we personalise for).
pub const MAX_QUANTITY: u32 = 999;

/// One line. `name`, `price`, `image` and `url` are what the store said about the product when
/// it told us (Segment's cart events, for the journeys: their messages show them when a new
/// bundle no longer knows the SKU); the cookie carries SKU and quantity only, so at the edge
/// and in the SDK they stay empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Line {
    pub sku: String,
    pub quantity: u32,
    pub name: String,
    pub price: Option<f32>,
    pub image: String,
    pub url: String,
}

impl Line {
    /// A line of `quantity` of `sku`, nothing else known about it.
    pub fn new(sku: impl Into<String>, quantity: u32) -> Line {
        Line { sku: sku.into(), quantity, ..Line::default() }
    }
}

/// Lines in the order they were first added; read it as a slice of [`Line`]s.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cart {
    lines: Vec<Line>,
}

impl Deref for Cart {
    type Target = [Line];

    fn deref(&self) -> &[Line] {
        &self.lines
    }
}

impl Cart {
    /// Adds a line: to the quantity of the SKU's line if there is one (saturating at
    /// [`MAX_QUANTITY`]), else as a new line while the cart has fewer than [`MAX_LINES`].
    pub fn add(&mut self, mut line: Line) {
        if line.sku.is_empty() || line.quantity == 0 {
            return;
        }
        if let Some(l) = self.lines.iter_mut().find(|l| l.sku == line.sku) {
            l.quantity = l.quantity.saturating_add(line.quantity).min(MAX_QUANTITY);
        } else if self.lines.len() < MAX_LINES {
            line.quantity = line.quantity.min(MAX_QUANTITY);
            self.lines.push(line);
        }
    }

    /// Takes `quantity` of `sku` out (`None`: the whole line); a line left at 0 goes.
    pub fn remove(&mut self, sku: &str, quantity: Option<u32>) {
        if let Some(i) = self.lines.iter().position(|l| l.sku == sku) {
            match quantity {
                Some(q) if self.lines[i].quantity > q => self.lines[i].quantity -= q,
                _ => {
                    self.lines.remove(i);
                }
            }
        }
    }

    /// The cart as the store shows it: these lines, added one by one (repeated SKUs merge).
    pub fn replace(&mut self, lines: impl IntoIterator<Item = Line>) {
        self.lines.clear();
        lines.into_iter().for_each(|l| self.add(l));
    }

    pub fn clear(&mut self) {
        self.lines.clear();
    }

    /// Folds another cart in (two devices of one customer): its lines for SKUs this cart does
    /// not hold join, quantities as they were; lines this cart holds keep their quantity.
    pub fn absorb(&mut self, other: &Cart) {
        for line in &other.lines {
            if !self.lines.iter().any(|l| l.sku == line.sku) && self.lines.len() < MAX_LINES {
                self.lines.push(line.clone());
            }
        }
    }

    /// The lines whose SKU `catalog` knows, by product index: what a decision sees.
    pub fn resolve(&self, catalog: &Catalog) -> Vec<CartLine> {
        self.lines.iter().filter_map(|l| Some(CartLine { product: catalog.index_of(&l.sku)?, quantity: l.quantity })).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skus(c: &Cart) -> Vec<(&str, u32)> {
        c.iter().map(|l| (l.sku.as_str(), l.quantity)).collect()
    }

    #[test]
    fn adds_merge_saturate_and_are_bounded() {
        let mut c = Cart::default();
        c.add(Line::new("A", 1));
        c.add(Line::new("A", 2));
        c.add(Line::new("B", u32::MAX));
        c.add(Line::new("B", u32::MAX));
        c.add(Line::new("", 1));
        c.add(Line::new("Z", 0));
        assert_eq!(skus(&c), [("A", 3), ("B", MAX_QUANTITY)]);
        for i in 0..100 {
            c.add(Line::new(alloc::format!("S{i}"), 1));
        }
        assert_eq!(c.len(), MAX_LINES);
        c.add(Line::new("A", 1));
        assert_eq!(c[0].quantity, 4, "a line already in a full cart still grows");
    }

    #[test]
    fn removes_part_or_all_of_a_line() {
        let mut c = Cart::default();
        c.replace([Line::new("A", 3), Line::new("B", 1), Line::new("A", 1), Line::new("C", 0)]);
        assert_eq!(skus(&c), [("A", 4), ("B", 1)]);
        c.remove("A", Some(1));
        assert_eq!(skus(&c), [("A", 3), ("B", 1)]);
        c.remove("A", Some(3));
        c.remove("nope", None);
        assert_eq!(skus(&c), [("B", 1)]);
        c.remove("B", None);
        assert!(c.is_empty());
    }

    #[test]
    fn absorbing_keeps_our_lines_and_adds_theirs() {
        let mut ours = Cart::default();
        ours.replace([Line::new("A", 1)]);
        let mut theirs = Cart::default();
        theirs.replace([Line::new("A", 5), Line::new("B", 2)]);
        ours.absorb(&theirs);
        assert_eq!(skus(&ours), [("A", 1), ("B", 2)]);
    }

    #[test]
    fn stored_as_a_plain_list_of_lines() {
        let c: Cart = serde_json::from_str(r#"[{"sku":"A","quantity":2,"name":"Lamp","price":1.5}]"#).unwrap();
        assert_eq!((c[0].sku.as_str(), c[0].quantity, c[0].name.as_str(), c[0].price), ("A", 2, "Lamp", Some(1.5)));
        assert!(serde_json::to_string(&c).unwrap().starts_with(r#"[{"sku":"A","quantity":2,"#));
    }
}
