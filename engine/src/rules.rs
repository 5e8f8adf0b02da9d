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

use crate::hashing;
use crate::value::{Map, Value};

mod check;
mod journeys;

pub(crate) use check::journey_problems;
pub use check::Problem;
pub use journeys::{
    fill_placeholders, is_content_sid, template_placeholders, Channel, Engagement, Journey, Messaging, QuietHours, Step, Trigger, DEFAULT_MIN_DROP_PERCENT,
    MAX_TEMPLATE_VARIABLES,
};

/// Every recommender a placement can name in `sources` (what `recommend` blends).
pub const RECOMMENDERS: &[&str] = &[
    "bought_together",
    "similar",
    "trending",
    "popular",
    "popular_country",
    "popular_category",
    "popular_segment",
    "affinity",
    "buy_again",
    "cart_addons",
    "learned",
    "viewed_together",
    "bought_after_viewing",
    "recently_viewed",
    "brand_affinity",
    "new_arrivals",
    SLICE_RECOMMENDER,
];

/// The recommender a slice's rules blend for placements only the edge decides: the edge's
/// decision the slice carries (`RecTables::decided`, `slice.rs`). Not for configs: the
/// builder refuses it.
pub const SLICE_RECOMMENDER: &str = "decided";

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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// `[measurement]`: the global holdout. Absent: [`Measurement::default`], a 5% holdout.
    #[serde(default)]
    pub measurement: Measurement,
    /// `[[unique_codes]]`: offers whose code is each visitor's own, issued by the edge.
    #[serde(default)]
    pub unique_codes: Vec<UniqueCode>,
    /// `[[merchandising]]`: the store's hand on placements' lists, applied after ranking.
    #[serde(default)]
    pub merchandising: Vec<Merchandising>,
}

/// `[[merchandising]]`: pin, boost, bury or exclude products in placements' lists, after the
/// recommenders ranked them. Products are picked by `skus` and/or `category`, `brand`, `tag`
/// (any match); the rule applies to `placements` (empty: all) for visitors matching `when`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Merchandising {
    /// Unique; `explain` names the rule by it.
    pub id: String,
    pub action: MerchAction,
    #[serde(default)]
    pub skus: Vec<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    /// Boost (> 1) or bury (< 1): the score multiplier. Absent: 2 for boost, 0.5 for bury.
    #[serde(default)]
    pub factor: Option<f32>,
    /// Pin: the 1-based position in the slot.
    #[serde(default)]
    pub position: Option<u32>,
    /// Placement ids; empty: every placement.
    #[serde(default)]
    pub placements: Vec<String>,
    /// GrowthBook condition on the visitor; absent: everyone.
    #[serde(default = "always")]
    pub when: Value,
}

/// What a `[[merchandising]]` rule does to the products it picks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MerchAction {
    /// Put the product at `position`, pushing the rest down.
    #[default]
    Pin,
    /// Multiply the product's score by `factor` (> 1).
    Boost,
    /// Multiply the product's score by `factor` (< 1).
    Bury,
    /// Leave the product out.
    Exclude,
}

/// `[[unique_codes]]`: offer `offer` gives each visitor their own single-use code instead of a
/// static `code`, issued by the edge when the offer is shown or sent (`PREFIX-` and 12
/// characters of Crockford base32, derived from the worker's `CODE_SECRET`) and valid for
/// `valid_days` days from then. The bundle is public: it holds this description, never a code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UniqueCode {
    /// The offer's id (`[[offers]] id`); that offer has no static `code`.
    pub offer: String,
    /// 1 to 16 capital letters and digits, e.g. "WELCOME": codes read `WELCOME-…`.
    pub prefix: String,
    /// How long a code stays redeemable once issued: 1 to 366 days.
    pub valid_days: u32,
}

impl UniqueCode {
    pub const MAX_PREFIX_LEN: usize = 16;
    pub const MAX_VALID_DAYS: u32 = 366;
}

impl Rules {
    /// How offer `offer_id` issues unique codes, if it does.
    pub fn unique_code(&self, offer_id: &str) -> Option<&UniqueCode> {
        self.unique_codes.iter().find(|u| u.offer == offer_id)
    }

    /// Whether some placement or experiment arm blends `recommender`.
    pub fn uses(&self, recommender: &str) -> bool {
        let arms = self.experiments.iter().flat_map(|e| &e.arms).flat_map(|a| &a.sources);
        self.placements.iter().flat_map(|p| &p.sources).chain(arms).any(|s| s.recommender == recommender)
    }

    /// Whether placement `id` is decided at the edge only: it (or an experiment arm on it)
    /// blends a recommender the browser's build leaves out ([`SERVER_ONLY_RECOMMENDERS`]), or a
    /// `[[merchandising]]` rule applies to it. The browser's slice leaves such placements out,
    /// so the SDK keeps what the edge filled.
    pub fn needs_server(&self, id: &str) -> bool {
        let arms = self.experiments.iter().filter(|e| e.placement == id).flat_map(|e| &e.arms).flat_map(|a| &a.sources);
        let sources = self.placements.iter().filter(|p| p.id == id).flat_map(|p| &p.sources).chain(arms);
        let server_source = sources.into_iter().any(|s| SERVER_ONLY_RECOMMENDERS.contains(&s.recommender.as_str()));
        server_source || self.merchandising.iter().any(|m| m.placements.is_empty() || m.placements.iter().any(|p| p == id))
    }
}

/// Recommenders only the edge decides: their tables are server-only parts of the bundle (the
/// browser's download budget), so placements that blend them are left out of slices.
pub const SERVER_ONLY_RECOMMENDERS: &[&str] = &["learned", "viewed_together", "bought_after_viewing", "recently_viewed", "brand_affinity", "new_arrivals"];

/// Maps a URL path to a page type, e.g. `pattern = "/products/:sku"`, `page = "product"`.
/// `:sku` captures the product, `:category` the category; `*` matches the rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PageRule {
    pub pattern: String,
    pub page: String,
}

/// A named audience: visitors matching `when` are in it. RFM segments (Champions, At risk, …)
/// come from the visitor's traits (`traits.segment`), not from here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Its item element carries `data-sku="{{sku}}"` (checked): clicks are measured by it.
    #[serde(default)]
    pub item_template: String,
    /// Leave out what a known customer already bought (their profile's `items`): a discovery
    /// carousel ("you might also like") rather than a re-order one.
    #[serde(default)]
    pub exclude_owned: bool,
}

/// One recommender feeding a carousel. `recommender` is one of: `bought_together`, `similar`,
/// `trending`, `popular`, `popular_country`, `popular_category`, `popular_segment`, `affinity`,
/// `buy_again`, `cart_addons`, `learned`, `viewed_together`, `bought_after_viewing`,
/// `recently_viewed`, `brand_affinity`, `new_arrivals`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub recommender: String,
    #[serde(default = "one")]
    pub weight: f32,
}

/// Content for a content placement, chosen by condition in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// The exit offer asks for a contact before giving the offer: `"email"`, or
    /// `"email_and_sms"` (a phone number too, with the SMS consent spelled out). The contact is
    /// confirmed (double opt-in) before anything is sent; the welcome journey then sends the
    /// promised code.
    #[serde(default)]
    pub capture: Capture,
}

/// What an exit offer asks for before it gives the offer (`[[offers]] capture`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Capture {
    /// Nothing: the offer is shown at once.
    #[default]
    None,
    Email,
    EmailAndSms,
}

/// A GrowthBook-style experiment on one target: a placement (carousel or content), the exit
/// offer or a journey, named by exactly one of `placement`, `offer`, `journey`. Visitors are
/// bucketed by a hash of `hash_attribute` with GrowthBook's v2 hashing and ranges, so an arm is
/// a pure function of that attribute: the same on every host and every visit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    pub key: String,
    /// A placement's id: arms may swap a carousel's `sources` or force a content `variant`.
    #[serde(default)]
    pub placement: String,
    /// An offer's id: visitors who would get this exit offer get an arm's `offer` instead (or
    /// none: `holdout`).
    #[serde(default)]
    pub offer: String,
    /// A journey's id: an arm with `send = false` runs the journey but sends nothing.
    /// Journeys are bucketed by the visitor's key (`hash_attribute` must stay `visitor_id`).
    #[serde(default)]
    pub journey: String,
    /// Empty: the key.
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

impl Default for Experiment {
    fn default() -> Self {
        Experiment {
            key: String::new(),
            placement: String::new(),
            offer: String::new(),
            journey: String::new(),
            seed: String::new(),
            hash_attribute: visitor_id(),
            coverage: 1.0,
            weights: Vec::new(),
            arms: Vec::new(),
        }
    }
}

impl Experiment {
    /// The arm of the visitor whose `hash_attribute` is `unit` (GrowthBook's `String(attr)`):
    /// `None` for an empty unit or outside the coverage (the target as configured).
    ///
    /// GrowthBook's `getBucketRanges` and `chooseVariation` without building the ranges (this
    /// runs in the browser, on every decision): arm `i` owns `[start, start + coverage * w)`
    /// where `start` sums the weights before it. GrowthBook falls back to equal weights when
    /// they do not match the arms or add up to 1; `Rules::check` refuses such weights, so
    /// here only empty weights mean equal ones.
    pub fn arm_of(&self, unit: &str) -> Option<&Arm> {
        if unit.is_empty() {
            return None;
        }
        let seed = if self.seed.is_empty() { &self.key } else { &self.seed };
        let n = hashing::hash(seed, unit, 2)?;
        let coverage = f64::from(self.coverage).clamp(0.0, 1.0);
        let equal = 1.0 / self.arms.len() as f64;
        let mut start = 0.0;
        for (i, arm) in self.arms.iter().enumerate() {
            let weight = self.weights.get(i).map_or(equal, |&w| f64::from(w));
            if n >= start && n < start + coverage * weight {
                return Some(arm);
            }
            start += weight;
        }
        None
    }
}

fn visitor_id() -> String {
    "visitor_id".into()
}

fn yes() -> bool {
    true
}

/// One arm of an experiment. An arm that changes nothing is the control: the target as
/// configured. What an arm may change depends on the target (`Rules::check` refuses the rest):
/// - carousel: `sources` replace the placement's;
/// - content placement: `variant` names one of the placement's variants, shown to every
///   visitor the placement targets (its own `when` is not asked: the arm is the treatment);
/// - offer: `offer` names another offer given instead (its own `when` is not asked either:
///   the audience is the target offer's);
/// - placement or offer: `holdout = true` keeps the page's own content, no offer;
/// - journey: `send = false` runs the journey and records each step as skipped, sending nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub name: String,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub variant: String,
    #[serde(default)]
    pub offer: String,
    #[serde(default)]
    pub holdout: bool,
    #[serde(default = "yes")]
    pub send: bool,
}

impl Default for Arm {
    fn default() -> Self {
        Arm { name: String::new(), sources: Vec::new(), variant: String::new(), offer: String::new(), holdout: false, send: true }
    }
}

/// A holdout of this share of visitors when `[measurement]` does not say (the 5%).
pub const DEFAULT_HOLDOUT: f64 = 0.05;
/// The global holdout as an experiment (decisions' `explain.experiment`, measurement records):
/// its key and arms. `measure` names them too (hosts write records with them).
pub const HOLDOUT_EXPERIMENT: &str = "vitrine-holdout";
pub const HOLDOUT_ARM: &str = "holdout";
pub const PERSONALIZED_ARM: &str = "personalized";
/// The global holdout's hashing seed when `[measurement] seed` is empty.
pub const HOLDOUT_SEED: &str = "vitrine-holdout";

fn default_holdout() -> f64 {
    DEFAULT_HOLDOUT
}

/// `[measurement]`: the global holdout, the visitors who get the store's own pages (no
/// placement filled, no exit offer and, with `holdout_journeys`, no journey message), so that
/// a report can compare them with everyone else. Bucketed like a GrowthBook experiment of two
/// arms weighted `[holdout, 1 - holdout]` on the visitor id, seeded with `seed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    /// The share of visitors held out, 0 to 1 (0: no holdout).
    #[serde(default = "default_holdout")]
    pub holdout: f64,
    /// Held-out visitors get no journey messages either (their runs record each step skipped).
    #[serde(default = "yes")]
    pub holdout_journeys: bool,
    /// Empty: [`HOLDOUT_SEED`]. A new seed draws a new holdout.
    #[serde(default)]
    pub seed: String,
}

impl Default for Measurement {
    /// As an absent `[measurement]` section: a 5% holdout, journeys held out too.
    fn default() -> Self {
        Measurement { holdout: DEFAULT_HOLDOUT, holdout_journeys: true, seed: String::new() }
    }
}

impl Measurement {
    /// No holdout at all (`holdout = 0`): test fixtures whose visitor ids are random.
    pub fn without_holdout() -> Self {
        Measurement { holdout: 0.0, ..Measurement::default() }
    }

    /// Whether the visitor `unit` (their visitor id) is held out: `None` when there is no
    /// holdout or no unit to bucket (neither arm: such a visitor is not measured).
    pub fn in_holdout(&self, unit: &str) -> Option<bool> {
        if self.holdout.is_nan() || self.holdout <= 0.0 || unit.is_empty() {
            return None;
        }
        let seed = if self.seed.is_empty() { HOLDOUT_SEED } else { &self.seed };
        // GrowthBook's ranges for weights [holdout, 1 - holdout]: arm 0 is [0, holdout).
        Some(hashing::hash(seed, unit, 2)? < self.holdout)
    }
}
