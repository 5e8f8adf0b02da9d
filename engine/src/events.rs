//! The event table: the one list of events Vitrine knows, and per event who uses it and what
//! proof of identity it needs. Every host takes event names from here: `/v1/events` accepts
//! exactly these (`journey::event::parse`, anything else is refused with the list), the browser
//! SDK learns from and sends them (`browser-sdk/src/visit.rs`, `message.rs`), and a test checks
//! that `browser-sdk/js/vitrine.d.ts` offers the same track names.
//!
//! Names follow the Segment e-commerce spec v2 (`track` events) plus the envelope types `page`,
//! `identify` and `consent`. Columns:
//! - `learns`: what the browser SDK's session learns from it (interests, cart, purchase).
//! - `journeys`: the journey runner reads what it carries (cart, orders, traits, consent).
//!   Every accepted event still reaches its visitor's Durable Object, and browsing events
//!   count as activity there.
//! - `measured`: exposure, engagement or conversion: the edge stores it as a measurement
//!   record (`crate::measure`).
//! - `proof`: what it needs before the edge stores it, [`Proof`].
//!
//! The inbound SMS reply (STOP, START) is not here: it is no Segment event, the edge builds it
//! from the SMS provider's signed webhook.
//!
//! Two groups of rows: [`READ`], the events something reads (learning, journeys, measurement,
//! proof), and [`KEPT`], the rest of Segment's e-commerce spec v2, which nothing reads yet: they
//! are accepted, stored in the visitor's object (deduplicated by `messageId`) and counted in the
//! answer, never refused. [`EVENTS`] is both. The browser SDK looks names up in `READ` only
//! ([`learns`]), so `KEPT`'s names never reach its download.
//!
//! Static arrays of plain values: no formatting, no allocation (the SDK's download is a budget).

pub const PRODUCT_VIEWED: &str = "Product Viewed";
pub const PRODUCT_CLICKED: &str = "Product Clicked";
pub const PRODUCT_LIST_VIEWED: &str = "Product List Viewed";
pub const PRODUCT_ADDED: &str = "Product Added";
pub const PRODUCT_REMOVED: &str = "Product Removed";
pub const CART_VIEWED: &str = "Cart Viewed";
pub const CHECKOUT_STARTED: &str = "Checkout Started";
pub const ORDER_COMPLETED: &str = "Order Completed";
pub const PROMOTION_VIEWED: &str = "Promotion Viewed";
pub const PROMOTION_CLICKED: &str = "Promotion Clicked";
/// An offer's pop-up closed without its call to action (not in the Segment spec).
pub const PROMOTION_CLOSED: &str = "Promotion Closed";
/// Segment's A/B testing spec: the visitor saw an experiment's variation.
pub const EXPERIMENT_VIEWED: &str = "Experiment Viewed";
// Segment e-commerce spec v2 events nothing reads yet ([`KEPT`]).
pub const PRODUCTS_SEARCHED: &str = "Products Searched";
pub const PRODUCT_LIST_FILTERED: &str = "Product List Filtered";
pub const CHECKOUT_STEP_VIEWED: &str = "Checkout Step Viewed";
pub const CHECKOUT_STEP_COMPLETED: &str = "Checkout Step Completed";
pub const PAYMENT_INFO_ENTERED: &str = "Payment Info Entered";
pub const ORDER_UPDATED: &str = "Order Updated";
pub const ORDER_REFUNDED: &str = "Order Refunded";
pub const ORDER_CANCELLED: &str = "Order Cancelled";
pub const COUPON_ENTERED: &str = "Coupon Entered";
pub const COUPON_APPLIED: &str = "Coupon Applied";
pub const COUPON_DENIED: &str = "Coupon Denied";
pub const COUPON_REMOVED: &str = "Coupon Removed";
pub const PRODUCT_ADDED_TO_WISHLIST: &str = "Product Added to Wishlist";
pub const PRODUCT_REMOVED_FROM_WISHLIST: &str = "Product Removed from Wishlist";
pub const WISHLIST_PRODUCT_ADDED_TO_CART: &str = "Wishlist Product Added to Cart";
pub const PRODUCT_SHARED: &str = "Product Shared";
pub const CART_SHARED: &str = "Cart Shared";
pub const PRODUCT_REVIEWED: &str = "Product Reviewed";
/// "Notify me": the visitor asks to be told when a product is back in stock or cheaper
/// (`properties.sku`, else `product_id`; not in the Segment spec). Read by the journeys only
/// ([`SERVER_READ`]): the catalog triggers `back_in_stock` and `price_drop`.
pub const PRODUCT_ALERT_REQUESTED: &str = "Product Alert Requested";
pub const PAGE: &str = "page";
pub const IDENTIFY: &str = "identify";
pub const CONSENT: &str = "consent";

/// What the browser session learns from an event (`browser-sdk/src/visit.rs` reads the
/// properties named here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learns {
    Nothing,
    /// Interest in `product_id` (else `sku`).
    Product,
    /// Interest in `category`.
    Category,
    /// `product_id` goes into the cart (`quantity`, default 1).
    Added,
    /// `product_id` leaves the cart (`quantity`, default the whole line).
    Removed,
    /// `products[]`, when listed, is the whole cart.
    Cart,
    /// A purchase: the cart empties, no exit offer follows.
    Order,
}

/// What proof of identity the edge needs before storing an event (`edge/src/events.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// Naming a `userId` needs proof of that customer (an identity token for them, their
    /// `vt_profile` cookie, or the write key), else the event is refused: what could link a
    /// visitor to a customer or change their contacts and consent (`identify`, `consent`).
    Customer,
    /// Naming a `userId` without proof keeps the event as the anonymous visitor's (the
    /// `userId` dropped): browsing and cart events lose nothing, and reach the customer only
    /// through a link a proven identify made.
    Anonymous,
    /// Only a server source with the write key (no event needs this yet).
    Server,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventSpec {
    /// The `track` event's name, or for the other envelope types the `type` itself.
    pub name: &'static str,
    /// A `track` event (else the type `page`, `identify` or `consent`).
    pub track: bool,
    pub learns: Learns,
    pub journeys: bool,
    pub measured: bool,
    pub proof: Proof,
}

const fn row(name: &'static str, learns: Learns, journeys: bool, measured: bool) -> EventSpec {
    EventSpec { name, track: true, learns, journeys, measured, proof: Proof::Anonymous }
}

const fn envelope(name: &'static str, journeys: bool, proof: Proof) -> EventSpec {
    EventSpec { name, track: false, learns: Learns::Nothing, journeys, measured: false, proof }
}

/// A row of [`KEPT`]: accepted and stored, read by nothing.
const fn kept(name: &'static str) -> EventSpec {
    row(name, Learns::Nothing, false, false)
}

/// The events something reads: the browser's learning, the journeys, measurement, or (the
/// envelope types) proof of identity.
pub const READ: [EventSpec; 15] = [
    //  name                 learns              journeys measured  (proof: track events and page
    //  Anonymous, identify and consent Customer)
    row(PRODUCT_VIEWED, Learns::Product, true, true),
    row(PRODUCT_CLICKED, Learns::Product, false, true),
    row(PRODUCT_LIST_VIEWED, Learns::Category, false, true),
    row(PRODUCT_ADDED, Learns::Added, true, true),
    row(PRODUCT_REMOVED, Learns::Removed, true, false),
    row(CART_VIEWED, Learns::Cart, true, false),
    row(CHECKOUT_STARTED, Learns::Cart, true, true),
    row(ORDER_COMPLETED, Learns::Order, true, true),
    row(PROMOTION_VIEWED, Learns::Nothing, false, true),
    row(PROMOTION_CLICKED, Learns::Nothing, false, true),
    row(PROMOTION_CLOSED, Learns::Nothing, false, true),
    row(EXPERIMENT_VIEWED, Learns::Nothing, false, true),
    envelope(PAGE, false, Proof::Anonymous),
    envelope(IDENTIFY, true, Proof::Customer),
    envelope(CONSENT, true, Proof::Customer),
];

/// The rest of Segment's e-commerce spec v2: accepted like any browsing event (`Anonymous`
/// proof), stored in the visitor's object and counted, not learned from, not read by journeys,
/// not measured. A row moves to [`READ`] when something starts reading it.
pub const KEPT: [EventSpec; 18] = [
    kept(PRODUCTS_SEARCHED),
    kept(PRODUCT_LIST_FILTERED),
    kept(CHECKOUT_STEP_VIEWED),
    kept(CHECKOUT_STEP_COMPLETED),
    kept(PAYMENT_INFO_ENTERED),
    kept(ORDER_UPDATED),
    kept(ORDER_REFUNDED),
    kept(ORDER_CANCELLED),
    kept(COUPON_ENTERED),
    kept(COUPON_APPLIED),
    kept(COUPON_DENIED),
    kept(COUPON_REMOVED),
    kept(PRODUCT_ADDED_TO_WISHLIST),
    kept(PRODUCT_REMOVED_FROM_WISHLIST),
    kept(WISHLIST_PRODUCT_ADDED_TO_CART),
    kept(PRODUCT_SHARED),
    kept(CART_SHARED),
    kept(PRODUCT_REVIEWED),
];

/// Events only the edge's journeys read, never the browser's learning: apart from [`READ`]
/// (which the SDK looks names up in) so their names never reach the SDK's download.
pub const SERVER_READ: [EventSpec; 1] = [row(PRODUCT_ALERT_REQUESTED, Learns::Nothing, true, false)];

/// Every event Vitrine knows: [`READ`], then [`KEPT`], then [`SERVER_READ`].
pub const EVENTS: &[EventSpec] = &both::<{ READ.len() + KEPT.len() + SERVER_READ.len() }>();

/// `READ`, `KEPT` and `SERVER_READ` in one array, at compile time.
const fn both<const N: usize>() -> [EventSpec; N] {
    let mut all = [READ[0]; N];
    let mut i = 0;
    while i < N {
        all[i] = if i < READ.len() {
            READ[i]
        } else if i < READ.len() + KEPT.len() {
            KEPT[i - READ.len()]
        } else {
            SERVER_READ[i - READ.len() - KEPT.len()]
        };
        i += 1;
    }
    all
}

/// What the browser's session learns from the `track` event `name` (`Nothing` for a name the
/// table does not hold). Reads [`READ`] only: `KEPT` rows learn nothing by construction.
pub fn learns(name: &str) -> Learns {
    READ.iter().find(|e| e.track && e.name == name).map_or(Learns::Nothing, |e| e.learns)
}

/// The `track` event named `name`.
pub fn track(name: &str) -> Option<&'static EventSpec> {
    EVENTS.iter().find(|e| e.track && e.name == name)
}

/// The envelope type `name` (`track` itself is not a row: its events are).
pub fn envelope_type(name: &str) -> Option<&'static EventSpec> {
    EVENTS.iter().find(|e| !e.track && e.name == name)
}

/// The names of the `track` events (`track == true`) or of the other types, in table order.
pub fn names(track: bool) -> impl Iterator<Item = &'static str> {
    EVENTS.iter().filter(move |e| e.track == track).map(|e| e.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for (i, e) in EVENTS.iter().enumerate() {
            assert!(EVENTS[..i].iter().all(|o| o.name != e.name), "{} twice", e.name);
            let found = if e.track { track(e.name) } else { envelope_type(e.name) };
            assert_eq!(found, Some(e));
        }
        assert_eq!(track("page"), None, "page is a type, not a track event");
        assert_eq!(track("Product Exploded"), None);
        assert_eq!(names(false).collect::<alloc::vec::Vec<_>>(), ["page", "identify", "consent"]);
    }

    #[test]
    fn every_segment_ecommerce_v2_event_is_known_and_kept_rows_are_read_by_nothing() {
        // Segment's e-commerce spec v2, every event it names (browsing, promotions, ordering,
        // coupons, wishlisting, sharing, reviewing).
        let spec = [
            "Products Searched",
            "Product List Viewed",
            "Product List Filtered",
            "Promotion Viewed",
            "Promotion Clicked",
            "Product Clicked",
            "Product Viewed",
            "Product Added",
            "Product Removed",
            "Cart Viewed",
            "Checkout Started",
            "Checkout Step Viewed",
            "Checkout Step Completed",
            "Payment Info Entered",
            "Order Updated",
            "Order Completed",
            "Order Refunded",
            "Order Cancelled",
            "Coupon Entered",
            "Coupon Applied",
            "Coupon Denied",
            "Coupon Removed",
            "Product Added to Wishlist",
            "Product Removed from Wishlist",
            "Wishlist Product Added to Cart",
            "Product Shared",
            "Cart Shared",
            "Product Reviewed",
        ];
        for name in spec {
            assert!(track(name).is_some(), "{name} is not in the table");
        }
        assert_eq!(EVENTS.len(), READ.len() + KEPT.len() + SERVER_READ.len());
        assert_eq!(&EVENTS[..READ.len()], &READ[..]);
        assert_eq!(&EVENTS[READ.len()..READ.len() + KEPT.len()], &KEPT[..]);
        assert_eq!(&EVENTS[READ.len() + KEPT.len()..], &SERVER_READ[..]);
        for e in &SERVER_READ {
            assert!(e.journeys && e.learns == Learns::Nothing, "{}: the journeys read it, the browser never", e.name);
            assert_eq!(learns(e.name), Learns::Nothing);
        }
        for e in &KEPT {
            assert_eq!((e.track, e.learns, e.journeys, e.measured, e.proof), (true, Learns::Nothing, false, false, Proof::Anonymous), "{}", e.name);
            assert_eq!(learns(e.name), Learns::Nothing);
        }
        for e in READ.iter().filter(|e| e.track) {
            assert_eq!(learns(e.name), e.learns, "{}", e.name);
            assert!(e.learns != Learns::Nothing || e.journeys || e.measured || !e.track, "{} is read by nothing: it belongs in KEPT", e.name);
        }
    }
}
