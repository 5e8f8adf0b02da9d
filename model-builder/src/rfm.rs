//! RFM: per customer, how Recently, how Frequently and for how much (Monetary) they bought;
//! quintile scores 1–5 and the usual named segment on the (R, F) scores.
//!
//! Profiles name customers and stay private (`--profiles`); only segment sizes reach the
//! public bundle.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use vitrine_engine::bundle::SegmentSize;
use vitrine_engine::recommend::{self, Owned};
pub use vitrine_engine::rfm::Segment;
use vitrine_engine::rfm::{quintile_edges, CustomerModel};

use crate::aggregates::{CustomerAggregates, CustomerStats};
use crate::data::{CategoryIdx, CustomerIdx, Dataset, Product};
use crate::error::{Error, Result};
use crate::ingest::customers::CustomerRow;
use crate::ingest::dates::day_string;
use crate::predict::Prediction;

const DAY: i64 = 86_400;
/// Favourite categories kept per profile.
const TOP_CATEGORIES: usize = 3;
/// Favourite brands kept per profile.
const TOP_BRANDS: usize = 3;
/// Purchase-history items kept per profile: as many as the engine seeds from (fewer cost
/// the eval's blends ~1–3% NDCG@10 at 30), ~1.5 KB of JSON at most, which the profile cookie carries.
pub const PROFILE_ITEMS: usize = recommend::MAX_HISTORY_SEEDS;

#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub customer: CustomerIdx,
    /// Days from the last order to the day after the data's last day (so at least 1).
    pub recency_days: u32,
    /// Distinct orders (invoices).
    pub frequency: u32,
    /// Sum of quantity × unit price over the customer's kept lines.
    pub monetary: f64,
    pub r: u8,
    pub f: u8,
    pub m: u8,
    pub segment: Segment,
    pub first_order: i64,
    pub last_order: i64,
    /// Median days between consecutive order days; None with orders on one day only.
    pub typical_gap_days: Option<f32>,
    /// By spend, best first.
    pub top_categories: Vec<CategoryIdx>,
    /// Favourite brands, best first (`with_top_brands`: the catalog knows brands, the
    /// aggregates do not): by orders of the brand's products, then the latest purchase.
    pub top_brands: Vec<String>,
    /// Purchase history, strongest first by the engine's own measure (recent and repeated
    /// purchases first), at most [`PROFILE_ITEMS`]: what the engine recommends from.
    pub items: Vec<Owned>,
    /// The predictive models' traits (`crate::predict`), when the build fitted them.
    pub predicted: Option<Prediction>,
    /// Days with a purchase and the spend of all but the first (`vitrine_engine::rfm::History`),
    /// when the build counted purchase days (not from an older customers aggregate): the edge re-scores the
    /// customer from them when an order comes.
    pub purchase_days: Option<(u32, f64)>,
}

/// Profiles for every customer of the dataset, indexed by `CustomerIdx`, favourite brands
/// included.
pub fn profiles(ds: &Dataset) -> Vec<Profile> {
    let a = CustomerAggregates::from_dataset(ds);
    let (mut profiles, _) = profiles_from(&a, ds.last_time());
    with_top_brands(&mut profiles, &a, &ds.products);
    profiles
}

/// Fills each profile's `top_brands` from its customer's items (`a.items`, sorted by customer)
/// and the catalog's brands: a brand's weight is the orders that held its products (a customer
/// who bought Acme mugs in 5 orders and one Zeta lamp likes Acme best); ties go to the brand
/// bought most recently, then by name. Products without a brand count for none.
pub fn with_top_brands(profiles: &mut [Profile], a: &CustomerAggregates, products: &[Product]) {
    let mut items = a.items.iter().peekable();
    for p in profiles.iter_mut() {
        let c = p.customer as usize;
        // (brand, orders, latest purchase)
        let mut brands: Vec<(&str, u64, i64)> = Vec::new();
        while let Some(i) = items.next_if(|i| i.customer as usize <= c) {
            let brand = products.get(i.product as usize).map_or("", |p| p.brand.as_str());
            if i.customer as usize != c || brand.is_empty() {
                continue;
            }
            match brands.iter_mut().find(|b| b.0 == brand) {
                Some(b) => {
                    b.1 += u64::from(i.orders);
                    b.2 = b.2.max(i.last_time);
                }
                None => brands.push((brand, u64::from(i.orders), i.last_time)),
            }
        }
        brands.sort_by(|x, y| y.1.cmp(&x.1).then(y.2.cmp(&x.2)).then(x.0.cmp(y.0)));
        p.top_brands = brands.iter().take(TOP_BRANDS).map(|b| b.0.to_string()).collect();
    }
}

/// Profiles from the customer aggregates (counted by the builder or by SQL), indexed as
/// `a.ids`, and the quintile edges they were scored against (a `CustomerModel` without fits);
/// `as_of` is the data's last order.
pub fn profiles_from(a: &CustomerAggregates, as_of: i64) -> (Vec<Profile>, CustomerModel) {
    let as_of_day = as_of.div_euclid(DAY) + 1;
    let last_day = |s: &CustomerStats| s.last_time.div_euclid(DAY);
    let recency: Vec<f64> = a.stats.iter().map(|s| (as_of_day - last_day(s)) as f64).collect();
    let frequency: Vec<f64> = a.stats.iter().map(|s| s.orders as f64).collect();
    // In cents, as the profile line carries it: the edge re-scores from the line's figure.
    let monetary: Vec<f64> = a.stats.iter().map(|s| (s.monetary * 100.0).round() / 100.0).collect();
    let model = CustomerModel {
        recency_edges: quintile_edges(&recency),
        frequency_edges: quintile_edges(&frequency),
        monetary_edges: quintile_edges(&monetary),
        ..CustomerModel::default()
    };
    let mut categories = a.categories.iter().peekable();
    let mut items = a.items.iter().peekable();

    let profiles = a
        .stats
        .iter()
        .enumerate()
        .map(|(c, s)| {
            let scores = model.scores(recency[c], frequency[c], monetary[c]);
            // Both lists are sorted by customer: take this customer's run of each.
            let mut spend: Vec<(CategoryIdx, f64)> = Vec::new();
            while let Some(k) = categories.next_if(|k| k.customer as usize <= c) {
                if k.customer as usize == c {
                    spend.push((k.category, k.spend));
                }
            }
            spend.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            let mut owned: Vec<(Owned, f32)> = Vec::new();
            while let Some(i) = items.next_if(|i| i.customer as usize <= c) {
                if i.customer as usize == c {
                    let o = Owned { item: i.product, last_time: i.last_time, orders: i.orders };
                    owned.push((o, recommend::pull(&o, as_of)));
                }
            }
            owned.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.item.cmp(&y.0.item)));
            Profile {
                customer: c as CustomerIdx,
                recency_days: recency[c] as u32,
                frequency: s.orders,
                monetary: monetary[c],
                r: scores.r,
                f: scores.f,
                m: scores.m,
                segment: scores.segment,
                first_order: s.first_time,
                last_order: s.last_time,
                typical_gap_days: s.gap_days,
                top_categories: spend.iter().take(TOP_CATEGORIES).map(|(k, _)| *k).collect(),
                top_brands: Vec::new(),
                items: owned.into_iter().take(PROFILE_ITEMS).map(|(o, _)| o).collect(),
                predicted: None,
                purchase_days: None,
            }
        })
        .collect();
    (profiles, model)
}

/// Customers per segment, every segment listed (in `Segment::ALL` order).
pub fn segment_sizes(profiles: &[Profile]) -> Vec<SegmentSize> {
    Segment::ALL.iter().map(|&s| SegmentSize { name: s.name().into(), customers: profiles.iter().filter(|p| p.segment == s).count() as u64 }).collect()
}

/// One line of the private profiles file.
#[derive(Serialize)]
struct ProfileLine<'a> {
    customer_id: &'a str,
    segment: &'static str,
    recency_days: u32,
    frequency: u32,
    monetary: f64,
    r: u8,
    f: u8,
    m: u8,
    first_order: String,
    last_order: String,
    typical_gap_days: Option<f32>,
    top_categories: Vec<&'a str>,
    /// Favourite brands, best first (the engine's `brand_affinity` reads them); left out when
    /// the catalog names no brand this customer bought.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    top_brands: &'a [String],
    /// Purchase history for the engine (`vitrine_engine::recommend::owned_from_traits`),
    /// strongest first: `[sku, last bought, orders]`. "Last bought" is absolute unix seconds,
    /// on the data's clock: it stays true however long the profile waits in KV or a cookie, and
    /// the engine ages it against the bundle's `stats.data_end` (see `Engine::data_time`), so
    /// it also works when the data ends long before the edge's real clock (the 2011 demo data).
    items: Vec<(&'a str, i64, u32)>,
    /// The predicted traits; none of their keys without a fit.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    predicted: Option<PredictedLine>,
    /// Days with a purchase, and the spend of all but the first: what the edge re-scores the
    /// customer from when an order comes (`vitrine_engine::rfm::History`); absent when the
    /// build did not count purchase days.
    #[serde(skip_serializing_if = "Option::is_none")]
    purchase_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repeat_spend: Option<f64>,
    /// Names, contacts and consent from the customers export, when it has this customer.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    customer: Option<&'a CustomerRow>,
}

/// The predicted traits as profiles carry them (journeys and conditions read these keys).
#[derive(Serialize)]
struct PredictedLine {
    /// 0..1, 4 decimals.
    p_alive: f64,
    /// Expected purchase days in the next 30/90/365 days, 3 decimals.
    expected_orders_30: f64,
    expected_orders_90: f64,
    expected_orders_365: f64,
    /// "YYYY-MM-DD"; absent when not expected within two years.
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_next_order: Option<String>,
    /// 2 decimals; absent without a Gamma-Gamma fit or repeat purchases.
    #[serde(skip_serializing_if = "Option::is_none")]
    clv: Option<f64>,
    churn_risk: &'static str,
}

impl PredictedLine {
    fn of(p: &Prediction) -> PredictedLine {
        let t = p.traits.rounded();
        PredictedLine {
            p_alive: t.p_alive,
            expected_orders_30: t.expected_orders_30,
            expected_orders_90: t.expected_orders_90,
            expected_orders_365: t.expected_orders_365,
            expected_next_order: p.next_order_day.map(|d| day_string(d * DAY)),
            clv: t.clv,
            churn_risk: t.churn_risk.name(),
        }
    }
}

/// A customer of the export with no order (yet): known by name and contacts only.
#[derive(Serialize)]
struct ContactLine<'a> {
    customer_id: &'a str,
    #[serde(flatten)]
    customer: &'a CustomerRow,
}

/// Writes the profiles as JSONL, one customer per line, keyed by the export's customer id:
/// every customer with orders, merged with their row of the customers export if any, then the
/// export's customers without orders.
/// `ids`, `products` and `categories` name what the profiles index.
pub fn write_profiles(path: &Path, ids: &[String], products: &[Product], categories: &[String], profiles: &[Profile], customers: &[CustomerRow]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(Error::io(path))?;
    let mut out = std::io::BufWriter::new(file);
    let by_id: rustc_hash::FxHashMap<&str, &CustomerRow> = customers.iter().map(|c| (c.id.as_str(), c)).collect();
    let write_err = |e: serde_json::Error| Error::Io { path: path.into(), source: e.into() };
    let mut with_orders = rustc_hash::FxHashSet::default();
    for p in profiles {
        let id = ids[p.customer as usize].as_str();
        with_orders.insert(id);
        let line = ProfileLine {
            customer: by_id.get(id).copied(),
            customer_id: id,
            segment: p.segment.name(),
            recency_days: p.recency_days,
            frequency: p.frequency,
            monetary: (p.monetary * 100.0).round() / 100.0,
            r: p.r,
            f: p.f,
            m: p.m,
            first_order: day_string(p.first_order),
            last_order: day_string(p.last_order),
            typical_gap_days: p.typical_gap_days,
            top_categories: p.top_categories.iter().filter_map(|&c| categories.get(c as usize)).map(String::as_str).collect(),
            top_brands: &p.top_brands,
            items: p.items.iter().filter_map(|o| Some((products.get(o.item as usize)?.sku.as_str(), o.last_time, o.orders))).collect(),
            // A value that is not finite (a degenerate fit) would not be JSON: left out.
            predicted: p.predicted.as_ref().filter(|p| p.traits.is_finite()).map(PredictedLine::of),
            purchase_days: p.purchase_days.map(|d| d.0),
            repeat_spend: p.purchase_days.map(|d| (d.1 * 100.0).round() / 100.0),
        };
        serde_json::to_writer(&mut out, &line).map_err(write_err)?;
        out.write_all(b"\n").map_err(Error::io(path))?;
    }
    for c in customers.iter().filter(|c| !with_orders.contains(c.id.as_str())) {
        serde_json::to_writer(&mut out, &ContactLine { customer_id: &c.id, customer: c }).map_err(write_err)?;
        out.write_all(b"\n").map_err(Error::io(path))?;
    }
    out.flush().map_err(Error::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Line, Order};

    #[test]
    fn recency_frequency_monetary_and_gaps() {
        let day = |d: i64| d * DAY + 3600;
        let order = |customer, d, lines: std::ops::Range<u32>| Order { invoice: String::new(), customer, country: 0, time: day(d), lines };
        let ds = Dataset {
            products: vec![Product { category: Some(0), ..Default::default() }],
            categories: vec!["Mugs".into()],
            countries: vec!["UK".into()],
            customers: vec!["a".into(), "b".into()],
            orders: vec![order(Some(0), 0, 0..1), order(Some(0), 10, 1..2), order(Some(1), 20, 2..3), order(Some(0), 30, 3..4)],
            lines: vec![Line { product: 0, quantity: 2, unit_price: 1.5 }; 4],
            ..Default::default()
        };
        let p = profiles(&ds);
        assert_eq!((p[0].recency_days, p[0].frequency, p[0].monetary), (1, 3, 9.0));
        assert_eq!(p[0].typical_gap_days, Some(15.0));
        assert_eq!(p[1].recency_days, 11);
        assert_eq!(p[1].typical_gap_days, None);
        assert_eq!(p[0].top_categories, [0]);
        assert_eq!(p[0].items, [Owned { item: 0, last_time: day(30), orders: 3 }], "one record per product, latest order");
        assert!(p[0].r > p[1].r && p[0].f > p[1].f);
    }

    #[test]
    fn top_brands_are_the_brands_bought_in_most_orders_then_most_recently() {
        let day = |d: i64| d * DAY + 3600;
        let order = |customer, d, lines: std::ops::Range<u32>| Order { invoice: String::new(), customer, country: 0, time: day(d), lines };
        let product = |brand: &str| Product { brand: brand.into(), ..Default::default() };
        // Customer a: Acme in 3 orders (two products), Zeta in 1, Nova in 1 but later, one
        // unbranded product in 4. Customer b: nothing branded.
        let line = |product| Line { product, quantity: 1, unit_price: 1.0 };
        let lines = vec![line(0), line(3), line(0), line(3), line(1), line(3), line(2), line(3), line(4), line(3)];
        let ds = Dataset {
            products: vec![product("Acme"), product("Acme"), product("Zeta"), product(""), product("Nova")],
            countries: vec!["UK".into()],
            customers: vec!["a".into(), "b".into()],
            orders: vec![
                order(Some(0), 0, 0..2),
                order(Some(0), 1, 2..4),
                order(Some(0), 2, 4..6),
                order(Some(0), 3, 6..8),
                order(Some(0), 4, 8..9),
                order(Some(1), 5, 9..10),
            ],
            lines,
            ..Default::default()
        };
        let p = profiles(&ds);
        assert_eq!(p[0].top_brands, ["Acme", "Nova", "Zeta"]);
        assert!(p[1].top_brands.is_empty());

        // Written into the private profile line, left out when there is none.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profiles.jsonl");
        write_profiles(&path, &ds.customers, &ds.products, &[], &p, &[]).unwrap();
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["top_brands"], serde_json::json!(["Acme", "Nova", "Zeta"]));
        assert!(lines[1].get("top_brands").is_none(), "{}", lines[1]);
    }
}
