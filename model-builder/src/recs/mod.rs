//! Recommendation tables computed from the cleaned dataset: everything heavy happens here so a
//! request only looks lists up (DESIGN: "compile, don't interpret").
//!
//! Every table is aggregate: scores come from counts over many customers, never from one
//! customer's identity, so the result may go into the public bundle.

mod baskets;
mod buyers;
mod content;
mod learned;
mod popularity;
mod rank;
pub mod views;

use serde::Deserialize;
use vitrine_engine::bundle::{Product, RecTables};

use crate::aggregates::Aggregates;
use crate::data::Dataset;
use crate::progress::Progress;

pub use baskets::{Baskets, Pair};
pub use buyers::{BuyerItems, Purchase};
pub use content::{tokenize, ContentIndex};
pub use learned::learned;
pub use popularity::new_arrivals;
pub use rank::top_k;

/// The `[recs]` section of the builder's config.
#[derive(Clone, Debug, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RecsConfig {
    /// Neighbours kept per product (bought together, similar). Small: the bundle is downloaded.
    pub top_k: usize,
    /// A pair must share at least this many baskets to count as bought together.
    pub min_support: u32,
    /// How much bought-together discounts a companion's own popularity: 0 ranks companions by
    /// P(companion | item) (bestsellers win), 1 by C / N(companion) (lift-like, rare items win),
    /// 0.5 is the cosine.
    pub bestseller_damping: f32,
    /// What counts as "bought together": the same order (`basket`) or the same customer at any
    /// time (`customer`, "customers who bought this also bought"; the only choice for data
    /// without baskets, such as one-item interaction logs).
    pub co_purchase_scope: CoPurchaseScope,
    /// Older baskets count less for bought-together (half-life in days; 0 = no decay).
    pub co_purchase_half_life_days: f32,
    /// Baskets with more distinct items than this are wholesale restocks, not "bought together":
    /// they are left out of co-purchase (0 = no limit).
    pub max_basket_items: usize,
    /// Content neighbours below this cosine are noise and left out.
    pub min_similarity: f32,
    /// Weight of a shared category / tag / brand relative to a shared title word.
    pub category_weight: f32,
    pub tag_weight: f32,
    pub brand_weight: f32,
    pub trending_half_life_days: f32,
    pub trending_size: usize,
    /// With `build --events`: what one visitor viewing a product adds to its trending score,
    /// as a share of one buyer (decayed alike); 0 = purchases only.
    pub view_weight: f32,
    /// Length of the popular lists (overall, per country, per category, per segment, per brand).
    pub popular_size: usize,
    /// New arrivals are in-stock products the catalog's `created_at` dates at most this many
    /// days before the data's last day (0: any age).
    pub new_arrivals_days: f32,
    /// A new arrival's score halves every this many days of age (2^(−age / half-life), as of
    /// the data's last day; 0: every one scores 1).
    pub new_arrivals_half_life_days: f32,
    /// Length of the new arrivals list (the newest first).
    pub new_arrivals_size: usize,
    /// A product needs this many customers who bought it again (on another day) to get a
    /// re-order interval.
    pub min_reorder_customers: u32,
    /// The learned table (`learned`, restricted EASE): ridge regularisation λ, in the units of
    /// the co-purchase counts (decayed shared baskets). Larger: smoother weights, closer to
    /// co-occurrence; smaller: sharper, noisier.
    pub learned_l2: f32,
    /// Candidate neighbours per product the learned regression may use (its strongest
    /// co-purchases): the solve costs m³ per product (0 = no learned table).
    pub learned_candidates: usize,
    /// Learned neighbours kept per product.
    pub learned_top_k: usize,
}

impl Default for RecsConfig {
    fn default() -> Self {
        RecsConfig {
            top_k: 12,
            min_support: 3,
            co_purchase_scope: CoPurchaseScope::Basket,
            bestseller_damping: 0.5,
            co_purchase_half_life_days: 90.0,
            max_basket_items: 100,
            min_similarity: 0.1,
            category_weight: 1.0,
            tag_weight: 1.0,
            brand_weight: 0.5,
            trending_half_life_days: 14.0,
            trending_size: 100,
            view_weight: 0.05,
            popular_size: 50,
            new_arrivals_days: 90.0,
            new_arrivals_half_life_days: 30.0,
            new_arrivals_size: 50,
            min_reorder_customers: 3,
            learned_l2: 300.0,
            learned_candidates: 32,
            learned_top_k: 12,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CoPurchaseScope {
    #[default]
    Basket,
    Customer,
}

/// Builds every recommendation table from the dataset: its aggregates, then `tables`.
/// `customer_segment[c]` is the RFM segment name of customer index `c` (an empty slice leaves
/// `popular_by_segment` empty).
pub fn build_tables(ds: &Dataset, cfg: &RecsConfig, customer_segment: &[&str]) -> RecTables {
    let aggregates = Aggregates::from_dataset(ds, cfg);
    let mut t = tables(&aggregates, &ds.products, &ds.categories, cfg, customer_segment, &Progress::new(true), &mut Vec::new());
    t.new_arrivals = new_arrivals(&ds.products, &ds.created_at, ds.last_time(), cfg);
    t
}

/// Every recommendation table from the aggregates and the catalog, a progress bar per table
/// and its time in `timings`.
pub fn tables(
    a: &Aggregates,
    products: &[Product],
    categories: &[String],
    cfg: &RecsConfig,
    customer_segment: &[&str],
    progress: &Progress,
    timings: &mut Vec<(&'static str, f64)>,
) -> RecTables {
    let n = products.len();
    let bar = progress.step("bought together", "pairs", a.pairs.len() as u64);
    let mass: Vec<f64> = a.items.iter().map(|i| i.basket_weight).collect();
    let bought_together = baskets::bought_together(n, &mass, &a.pairs, cfg);
    timings.push(("bought together", bar.elapsed().as_secs_f64()));
    bar.finish_and_clear();
    let bar = progress.step("learned", "products", n as u64);
    let learned = learned::learned(n, &mass, &a.pairs, cfg);
    timings.push(("learned", bar.elapsed().as_secs_f64()));
    bar.finish_and_clear();
    let bar = progress.step("similar products", "products", n as u64);
    let similar = ContentIndex::from_products(products, cfg).similar(cfg);
    timings.push(("similar", bar.elapsed().as_secs_f64()));
    bar.finish_and_clear();
    let bar = progress.step("popularity", "rows", (a.items.len() + a.country_items.len() + a.customers.items.len()) as u64);
    let tables = RecTables {
        bought_together,
        learned,
        similar,
        trending: popularity::trending(a, cfg),
        popular: popularity::popular(a, cfg),
        popular_by_country: popularity::by_country(a, cfg),
        popular_by_category: popularity::by_category(a, products, categories, cfg),
        popular_by_segment: popularity::by_segment(a, customer_segment, cfg),
        reorder_days: a.reorders.iter().filter(|r| r.customers >= cfg.min_reorder_customers.max(1)).map(|r| (r.product, r.gap_days)).collect(),
        popular_by_brand: popularity::by_brand(a, products, cfg),
        // `new_arrivals` ranks the catalog's dates, not counts: the caller sets it (`new_arrivals`).
        ..RecTables::default()
    };
    timings.push(("popularity", bar.elapsed().as_secs_f64()));
    bar.finish_and_clear();
    tables
}

/// Weight of an event `age_secs` old under exponential decay (1 when `half_life_days` is 0):
/// sql/SCHEMA.md's `decay`, in f64 as SQL engines compute it.
pub(crate) fn decay(age_secs: i64, half_life_days: f32) -> f64 {
    if half_life_days <= 0.0 {
        return 1.0;
    }
    let age_days = age_secs.max(0) as f64 / 86_400.0;
    (-std::f64::consts::LN_2 * age_days / half_life_days as f64).exp()
}

#[cfg(test)]
pub(crate) mod testdata;

#[cfg(test)]
mod tests;
