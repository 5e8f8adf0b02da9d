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

/// The named RFM segments, in the order reports list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Champions,
    Loyal,
    PotentialLoyalist,
    New,
    Promising,
    NeedAttention,
    AboutToSleep,
    AtRisk,
    CantLoseThem,
    Hibernating,
    Lost,
}

impl Segment {
    pub const ALL: [Segment; 11] = [
        Segment::Champions,
        Segment::Loyal,
        Segment::PotentialLoyalist,
        Segment::New,
        Segment::Promising,
        Segment::NeedAttention,
        Segment::AboutToSleep,
        Segment::AtRisk,
        Segment::CantLoseThem,
        Segment::Hibernating,
        Segment::Lost,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Segment::Champions => "Champions",
            Segment::Loyal => "Loyal",
            Segment::PotentialLoyalist => "Potential loyalist",
            Segment::New => "New",
            Segment::Promising => "Promising",
            Segment::NeedAttention => "Need attention",
            Segment::AboutToSleep => "About to sleep",
            Segment::AtRisk => "At risk",
            Segment::CantLoseThem => "Can't lose them",
            Segment::Hibernating => "Hibernating",
            Segment::Lost => "Lost",
        }
    }

    /// The widely used segment map on (R, F) scores (the regex map `[1-2][1-2]` Hibernating,
    /// `[1-2][3-4]` At risk, `[1-2]5` Can't lose them, `3[1-2]` About to sleep, `33` Need
    /// attention, `[3-4][4-5]` Loyal, `41` Promising, `51` New, `[4-5][2-3]` Potential
    /// loyalist, `5[4-5]` Champions), with `11` split off Hibernating as Lost.
    pub fn from_scores(r: u8, f: u8) -> Segment {
        match (r, f) {
            (1, 1) => Segment::Lost,
            (1..=2, 1..=2) => Segment::Hibernating,
            (1..=2, 3..=4) => Segment::AtRisk,
            (1..=2, _) => Segment::CantLoseThem,
            (3, 1..=2) => Segment::AboutToSleep,
            (3, 3) => Segment::NeedAttention,
            (3..=4, 4..) => Segment::Loyal,
            (4, 1) => Segment::Promising,
            (5, 1) => Segment::New,
            (4..=5, 2..=3) => Segment::PotentialLoyalist,
            _ => Segment::Champions,
        }
    }
}

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
}

/// Profiles for every customer of the dataset, indexed by `CustomerIdx`, favourite brands
/// included.
pub fn profiles(ds: &Dataset) -> Vec<Profile> {
    let a = CustomerAggregates::from_dataset(ds);
    let mut profiles = profiles_from(&a, ds.last_time());
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
/// `a.ids`; `as_of` is the data's last order.
pub fn profiles_from(a: &CustomerAggregates, as_of: i64) -> Vec<Profile> {
    let as_of_day = as_of.div_euclid(DAY) + 1;
    let last_day = |s: &CustomerStats| s.last_time.div_euclid(DAY);
    let recency: Vec<f64> = a.stats.iter().map(|s| (as_of_day - last_day(s)) as f64).collect();
    let frequency: Vec<f64> = a.stats.iter().map(|s| s.orders as f64).collect();
    let monetary: Vec<f64> = a.stats.iter().map(|s| s.monetary).collect();
    let (r_edges, f_edges, m_edges) = (quintile_edges(&recency), quintile_edges(&frequency), quintile_edges(&monetary));
    let mut categories = a.categories.iter().peekable();
    let mut items = a.items.iter().peekable();

    a.stats
        .iter()
        .enumerate()
        .map(|(c, s)| {
            let r = 6 - score(recency[c], &r_edges);
            let f = score(frequency[c], &f_edges);
            let m = score(monetary[c], &m_edges);
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
                monetary: s.monetary,
                r,
                f,
                m,
                segment: Segment::from_scores(r, f),
                first_order: s.first_time,
                last_order: s.last_time,
                typical_gap_days: s.gap_days,
                top_categories: spend.iter().take(TOP_CATEGORIES).map(|(k, _)| *k).collect(),
                top_brands: Vec::new(),
                items: owned.into_iter().take(PROFILE_ITEMS).map(|(o, _)| o).collect(),
                predicted: None,
            }
        })
        .collect()
}

/// The values at the 20th, 40th, 60th and 80th percentiles (nearest rank).
fn quintile_edges(values: &[f64]) -> [f64; 4] {
    if values.is_empty() {
        return [0.0; 4];
    }
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    std::array::from_fn(|k| v[((k + 1) * n).div_ceil(5).max(1) - 1])
}

/// 1 + the number of edges below `v`: equal values always share a score, so customers with
/// the same number of orders are never split between two F scores.
fn score(v: f64, edges: &[f64; 4]) -> u8 {
    1 + edges.iter().filter(|&&e| e < v).count() as u8
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
        let t = &p.traits;
        let round = |v: f64, places: i32| {
            let k = 10f64.powi(places);
            (v * k).round() / k
        };
        PredictedLine {
            p_alive: round(t.p_alive, 4),
            expected_orders_30: round(t.expected_orders_30, 3),
            expected_orders_90: round(t.expected_orders_90, 3),
            expected_orders_365: round(t.expected_orders_365, 3),
            expected_next_order: p.next_order_day.map(|d| day_string(d * DAY)),
            clv: t.clv.filter(|v| v.is_finite()).map(|v| round(v, 2)),
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
            predicted: p
                .predicted
                .as_ref()
                .filter(|p| {
                    let t = &p.traits;
                    [t.p_alive, t.expected_orders_30, t.expected_orders_90, t.expected_orders_365].iter().all(|v| v.is_finite())
                })
                .map(PredictedLine::of),
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
    fn segment_map_covers_every_score_pair() {
        assert_eq!(Segment::from_scores(5, 5), Segment::Champions);
        assert_eq!(Segment::from_scores(5, 1), Segment::New);
        assert_eq!(Segment::from_scores(4, 1), Segment::Promising);
        assert_eq!(Segment::from_scores(3, 3), Segment::NeedAttention);
        assert_eq!(Segment::from_scores(4, 4), Segment::Loyal);
        assert_eq!(Segment::from_scores(5, 2), Segment::PotentialLoyalist);
        assert_eq!(Segment::from_scores(3, 2), Segment::AboutToSleep);
        assert_eq!(Segment::from_scores(2, 4), Segment::AtRisk);
        assert_eq!(Segment::from_scores(1, 5), Segment::CantLoseThem);
        assert_eq!(Segment::from_scores(2, 1), Segment::Hibernating);
        assert_eq!(Segment::from_scores(1, 1), Segment::Lost);
        let all: std::collections::BTreeSet<_> = (1..=5).flat_map(|r| (1..=5).map(move |f| Segment::from_scores(r, f))).collect();
        assert_eq!(all.len(), Segment::ALL.len());
    }

    #[test]
    fn quintiles_keep_ties_together() {
        let v: Vec<f64> = [1, 1, 1, 1, 2, 2, 3, 5, 8, 13].iter().map(|&x| x as f64).collect();
        let e = quintile_edges(&v);
        assert_eq!(e, [1.0, 1.0, 2.0, 5.0]);
        assert_eq!(score(1.0, &e), 1);
        assert_eq!(score(2.0, &e), 3);
        assert_eq!(score(13.0, &e), 5);
    }

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
