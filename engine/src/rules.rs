//! The store's rules, as written in the `vitrine.toml` config and stored in the bundle.
//!
//! These structs are parsed from TOML by the builder (serde) and stored in the bundle in the
//! layout listed in `wire.rs`. Conditions are GrowthBook condition objects held as [`Value`];
//! the engine compiles them once when a bundle is loaded. [`Rules::check`] (`check.rs`) says
//! what the types cannot, for the builder and `Engine::load` alike. Journey configuration is
//! in `journeys.rs`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::value::{Map, Value};

mod check;
mod journeys;

pub(crate) use check::journey_problems;
pub use check::Problem;
pub use journeys::{Channel, Journey, Messaging, QuietHours, Step, Trigger};

/// Every recommender a placement can name in `sources` (what `recommend` blends).
pub const RECOMMENDERS: &[&str] =
    &["bought_together", "similar", "trending", "popular", "popular_country", "popular_category", "popular_segment", "affinity", "buy_again", "cart_addons"];

fn always() -> Value {
    Value::object()
}
fn one() -> f32 {
    1.0
}
fn eight() -> u32 {
    8
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub name: String,
    /// ISO 4217 code, e.g. "GBP".
    #[serde(default)]
    pub currency: String,
    /// Symbol shown before prices, e.g. "£".
    #[serde(default)]
    pub currency_symbol: String,
    /// Absolute base for links in messages (deep links), e.g. "https://shop.example".
    #[serde(default)]
    pub base_url: String,
    /// Free shipping from this cart value (offers tell the visitor what is missing).
    #[serde(default)]
    pub free_shipping_threshold: Option<f32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub pages: Vec<PageRule>,
    #[serde(default)]
    pub segments: Vec<SegmentRule>,
    /// GrowthBook saved groups: `$inGroup` / `$notInGroup` look names up here.
    #[serde(default)]
    pub saved_groups: Map<Vec<Value>>,
    #[serde(default)]
    pub placements: Vec<Placement>,
    #[serde(default)]
    pub offers: Vec<Offer>,
    #[serde(default)]
    pub experiments: Vec<Experiment>,
    #[serde(default)]
    pub journeys: Vec<Journey>,
    #[serde(default)]
    pub messaging: Messaging,
}

/// Maps a URL path to a page type, e.g. `pattern = "/products/:sku"`, `page = "product"`.
/// `:sku` captures the product, `:category` the category; `*` matches the rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageRule {
    pub pattern: String,
    pub page: String,
}

/// A named audience: visitors matching `when` are in it. RFM segments (Champions, At risk, …)
/// come from the visitor's traits (`traits.segment`), not from here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRule {
    pub name: String,
    pub when: Value,
}

/// A slot on the page (`data-vitrine-slot="<id>"`) and how to fill it.
///
/// A placement with `sources` is a product carousel (recommendations blended by weight); a
/// placement with `variants` is content (the first variant whose `when` matches wins: hero
/// banners, greetings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    pub id: String,
    /// Only decided when the visitor matches (e.g. `{ "page.type" = "product" }`).
    #[serde(default = "always")]
    pub when: Value,
    /// Heading above a carousel, e.g. "Just for You". Tokens allowed.
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default = "eight")]
    pub max_items: u32,
    /// Only items at or under this price (add-ons: "under £15").
    #[serde(default)]
    pub max_price: Option<f32>,
    #[serde(default)]
    pub variants: Vec<Variant>,
    /// HTML around the items; `{{title}}` and `{{items}}` are filled. Empty: a built-in default.
    #[serde(default)]
    pub template: String,
    /// HTML per item; `{{title}}`, `{{url}}`, `{{image}}`, `{{price}}`, `{{sku}}`. Empty: default.
    #[serde(default)]
    pub item_template: String,
    /// Leave out what a known customer already bought (their profile's `items`): a discovery
    /// carousel ("you might also like") rather than a re-order one.
    #[serde(default)]
    pub exclude_owned: bool,
}

/// One recommender feeding a carousel. `recommender` is one of: `bought_together`, `similar`,
/// `trending`, `popular`, `popular_country`, `popular_category`, `popular_segment`, `affinity`,
/// `buy_again`, `cart_addons`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub recommender: String,
    #[serde(default = "one")]
    pub weight: f32,
}

/// Content for a content placement, chosen by condition in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: String,
    #[serde(default = "always")]
    pub when: Value,
    /// HTML with tokens (`{{first_name}}`, `{{segment}}`, `{{offer.code}}`, …); values escaped.
    pub html: String,
}

/// An offer, e.g. for exit intent or a message. The first offer (in config order) whose
/// `when` matches the visitor is the one they get.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub id: String,
    /// Scenario name for reports: "welcome", "free_shipping", "priority_support", "early_access", …
    #[serde(default)]
    pub scenario: String,
    #[serde(default = "always")]
    pub when: Value,
    /// `percent_off`, `free_shipping`, `priority_support`, `early_access` or any custom word.
    pub kind: String,
    #[serde(default)]
    pub value: f32,
    #[serde(default)]
    pub code: String,
    pub headline: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub cta_text: String,
    #[serde(default)]
    pub cta_url: String,
}

/// A GrowthBook-style experiment on one placement: visitors are bucketed by hash of
/// `hash_attribute` with GrowthBook's v2 hashing and ranges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    pub key: String,
    pub placement: String,
    #[serde(default)]
    pub seed: String,
    #[serde(default = "visitor_id")]
    pub hash_attribute: String,
    #[serde(default = "one")]
    pub coverage: f32,
    /// Empty: equal weights.
    #[serde(default)]
    pub weights: Vec<f32>,
    pub arms: Vec<Arm>,
}

fn visitor_id() -> String {
    "visitor_id".into()
}

/// One arm of an experiment. Its `sources` replace the placement's; without sources it is the
/// control (the placement as configured). A `holdout` arm gets no personalization: the slot
/// keeps the page's own content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub name: String,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub holdout: bool,
}
