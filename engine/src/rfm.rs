//! RFM and the customer model, one definition for the builder and the edge: how Recently, how
//! Frequently and for how much (Monetary) a customer bought, scored 1–5 against quintile edges,
//! the usual named segment on the (R, F) scores, and what a profile keeps so that an order
//! arriving at the edge scores the customer again as the build would (`History`).
//!
//! The builder takes the edges from all its customers (`quintile_edges`) and writes them, with
//! the predictive models' fitted parameters, into the bundle as `CustomerModel` (aggregates
//! only: four numbers per measure, seven parameters). The edge reads them to re-score one
//! customer when their order comes (`CustomerModel::rescore`). The browser never does: the
//! model is a server-only part of the bundle.

use crate::predict::{self, BgNbd, CustomerSummary, GammaGamma, PredictConfig, PredictedTraits};

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

/// The values at the 20th, 40th, 60th and 80th percentiles (nearest rank).
pub fn quintile_edges(values: &[f64]) -> [f64; 4] {
    if values.is_empty() {
        return [0.0; 4];
    }
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    core::array::from_fn(|k| v[((k + 1) * n).div_ceil(5).max(1) - 1])
}

/// 1 + the number of edges below `v`: equal values always share a score, so customers with
/// the same number of orders are never split between two F scores.
pub fn score(v: f64, edges: &[f64; 4]) -> u8 {
    1 + edges.iter().filter(|&&e| e < v).count() as u8
}

/// One customer's scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scores {
    pub r: u8,
    pub f: u8,
    pub m: u8,
    pub segment: Segment,
}

/// What the bundle keeps of the build's customers to score one of them again: the quintile
/// edges the build scored everyone against, and the fitted models with the `[predict]`
/// settings. Aggregates only (the public bundle never holds a customer's figure); a
/// server-only part of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomerModel {
    /// Days since the last order; a lower recency scores a higher R.
    pub recency_edges: [f64; 4],
    /// Orders.
    pub frequency_edges: [f64; 4],
    /// Total spend.
    pub monetary_edges: [f64; 4],
    /// None where the build fitted nothing (too few customers, aggregates without purchase days).
    pub bgnbd: Option<BgNbd>,
    pub gamma_gamma: Option<GammaGamma>,
    pub predict: PredictConfig,
    /// How each fit went, as the build summary said (`model-builder inspect` shows them).
    pub bgnbd_fit: Option<FitDiagnostics>,
    pub gamma_gamma_fit: Option<FitDiagnostics>,
}

/// How a model's maximum-likelihood fit went.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FitDiagnostics {
    /// Summed over the customers fitted.
    pub log_likelihood: f64,
    pub customers: u64,
    pub iterations: u64,
    /// The optimizer stopped on its tolerance, not on its iteration limit.
    pub converged: bool,
}

impl CustomerModel {
    /// Whether every number is finite (a bundle's model that is not is refused at decode).
    pub fn is_finite(&self) -> bool {
        let fits = [self.bgnbd_fit, self.gamma_gamma_fit].into_iter().flatten().map(|f| f.log_likelihood);
        let params = self.bgnbd.iter().flat_map(|b| [b.r, b.alpha, b.a, b.b]).chain(self.gamma_gamma.iter().flat_map(|g| [g.p, g.q, g.v]));
        let p = &self.predict;
        let settings = [p.clv_horizon_days, p.monthly_discount, p.churn_high_below, p.churn_medium_below];
        [self.recency_edges, self.frequency_edges, self.monetary_edges].iter().flatten().copied().chain(params).chain(settings).chain(fits).all(f64::is_finite)
    }

    /// The scores of `recency_days` (from the last order to the day after "now"), `orders` and
    /// `monetary`, as the build scores them.
    pub fn scores(&self, recency_days: f64, orders: f64, monetary: f64) -> Scores {
        let r = 6 - score(recency_days, &self.recency_edges);
        let f = score(orders, &self.frequency_edges);
        let m = score(monetary, &self.monetary_edges);
        Scores { r, f, m, segment: Segment::from_scores(r, f) }
    }

    /// The customer's scores and predicted traits as of `day` (unix day on the data's clock),
    /// from what their profile keeps. No traits without a BG/NBD fit or a history that knows
    /// its purchase days.
    pub fn rescore(&self, h: &History, day: i64) -> (Scores, Option<PredictedTraits>) {
        let recency_days = (day + 1 - h.last_day).max(1) as f64;
        let scores = self.scores(recency_days, f64::from(h.orders), h.monetary);
        let traits = match (self.bgnbd, h.summary(day)) {
            (Some(bg), Some(s)) if bg.is_valid() => Some(predict::traits(&bg, self.gamma_gamma.as_ref().filter(|g| g.is_valid()), &s, &self.predict)),
            _ => None,
        };
        (scores, traits)
    }
}

/// What a profile keeps of a customer's orders, enough to score them again when one more
/// comes: the RFM inputs and, where the build had purchase days, the BG/NBD and Gamma-Gamma
/// inputs (per day with a purchase, as `predict` counts).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct History {
    /// Orders (invoices).
    pub orders: u32,
    /// Total spend.
    pub monetary: f64,
    /// Unix days (data clock) of the first and last order.
    pub first_day: i64,
    pub last_day: i64,
    /// Days with a purchase, and the spend of all but the first of them; None where the
    /// profile does not know them (built from an older customers aggregate).
    pub purchase_days: Option<u32>,
    pub repeat_spend: f64,
}

impl History {
    /// A customer's first order.
    pub fn first(day: i64, value: f64) -> History {
        History { orders: 1, monetary: value, first_day: day, last_day: day, purchase_days: Some(1), repeat_spend: 0.0 }
    }

    /// One more order of `value` on `day`. An order dated before the last one (a late event)
    /// counts on the last order's day: the history only moves forward.
    pub fn add_order(&mut self, day: i64, value: f64) {
        let value = if value.is_finite() && value > 0.0 { value } else { 0.0 };
        self.orders = self.orders.saturating_add(1);
        self.monetary += value;
        if day > self.last_day {
            self.last_day = day;
            self.purchase_days = self.purchase_days.map(|d| d.saturating_add(1));
            self.repeat_spend += value;
        } else if self.purchase_days.is_some_and(|d| d > 1) {
            // Another order on a repeat purchase day: that day's spend grows.
            self.repeat_spend += value;
        }
    }

    /// The models' view as of `day` (lifetimes' frequency, recency, T, monetary_value).
    pub fn summary(&self, day: i64) -> Option<CustomerSummary> {
        let days = self.purchase_days.filter(|&d| d >= 1)?;
        let repeats = f64::from(days - 1);
        Some(CustomerSummary {
            frequency: repeats,
            recency: (self.last_day - self.first_day).max(0) as f64,
            age: (day - self.first_day).max(0) as f64,
            mean_value: if repeats > 0.0 { self.repeat_spend / repeats } else { 0.0 },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let all: alloc::collections::BTreeSet<_> = (1..=5).flat_map(|r| (1..=5).map(move |f| Segment::from_scores(r, f))).collect();
        assert_eq!(all.len(), Segment::ALL.len());
    }

    #[test]
    fn quintiles_keep_ties_together() {
        let v: alloc::vec::Vec<f64> = [1, 1, 1, 1, 2, 2, 3, 5, 8, 13].iter().map(|&x| x as f64).collect();
        let e = quintile_edges(&v);
        assert_eq!(e, [1.0, 1.0, 2.0, 5.0]);
        assert_eq!(score(1.0, &e), 1);
        assert_eq!(score(2.0, &e), 3);
        assert_eq!(score(13.0, &e), 5);
    }

    #[test]
    fn an_order_moves_the_history_forward_once_per_day() {
        let mut h = History::first(100, 50.0);
        h.add_order(100, 20.0);
        assert_eq!((h.orders, h.purchase_days, h.repeat_spend), (2, Some(1), 0.0), "the first day's spend is not a repeat's");
        h.add_order(110, 30.0);
        h.add_order(110, 10.0);
        h.add_order(105, 5.0); // late: counted on the last day
        assert_eq!((h.orders, h.purchase_days, h.last_day), (5, Some(2), 110));
        assert_eq!(h.repeat_spend, 45.0);
        let s = h.summary(120).unwrap();
        assert_eq!((s.frequency, s.recency, s.age, s.mean_value), (1.0, 10.0, 20.0, 45.0));
        h.add_order(130, f64::NAN);
        assert_eq!((h.orders, h.monetary), (6, 115.0), "a value that is not a number counts as an order of 0");
        let unknown = History { purchase_days: None, ..h };
        assert_eq!(unknown.summary(140), None);
    }

    #[test]
    fn a_fresh_order_scores_the_highest_recency() {
        let model = CustomerModel {
            recency_edges: [10.0, 30.0, 90.0, 180.0],
            frequency_edges: [1.0, 1.0, 2.0, 4.0],
            monetary_edges: [20.0, 50.0, 100.0, 400.0],
            ..CustomerModel::default()
        };
        let mut h = History::first(1000, 30.0);
        let (s, traits) = model.rescore(&h, 1000 + 200);
        assert_eq!((s.r, s.f, s.m, s.segment), (1, 1, 2, Segment::Lost));
        assert_eq!(traits, None, "no fit, no traits");
        h.add_order(1200, 500.0);
        let (s, _) = model.rescore(&h, 1200);
        assert_eq!((s.r, s.f, s.m, s.segment), (5, 3, 5, Segment::PotentialLoyalist));
    }
}
