//! Predictive customer models, the one definition every host uses (the builder's fits and
//! profiles now, the edge's live traits later): BG/NBD for repeat purchases and the chance a
//! customer is still active (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy
//! Way"), Gamma-Gamma for the value of a purchase (Fader, Hardie & Lee 2005, "RFM and CLV"),
//! and the traits a profile carries from them (`traits`).
//!
//! Conventions are those of Python's `lifetimes` 0.11.3 with daily data, so analysts can compare
//! (scripts/check-lifetimes.sh holds us to it): a customer is summarised per day with a
//! purchase, and time is in days. Server-only: the browser never calls it (its parameters are a
//! server-only part of the bundle, `rfm::CustomerModel`, which the browser's build steps over),
//! so none of it reaches the SDK's module.
//!
//! Pure math, no I/O, no clock: every function takes plain numbers. Parameters that are not
//! finite and positive give NaN (never a panic), which callers check with `is_valid`.

use core::f64::consts::LN_2;

use libm::{exp, expm1, lgamma, log, log1p};
use serde::{Deserialize, Serialize};

/// One customer as both models see them (lifetimes' `frequency`, `recency`, `T`,
/// `monetary_value`), counted per day with a purchase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CustomerSummary {
    /// Repeat purchase days: distinct purchase days − 1.
    pub frequency: f64,
    /// Days from the first purchase day to the last.
    pub recency: f64,
    /// Days from the first purchase day to the end of the observation (lifetimes' `T`).
    pub age: f64,
    /// Mean spend of the repeat purchase days (the first day left out); 0 without repeats.
    pub mean_value: f64,
}

/// BG/NBD's four parameters: purchase rates are Gamma(r, alpha) across customers (alpha in
/// days), the chance of dropping out after a purchase is Beta(a, b).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// Gamma-Gamma's three parameters: a purchase's value is Gamma(p, ν) with ν ~ Gamma(q, v)
/// across customers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

fn positive(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite() && *v > 0.0)
}

/// `ln(e^x + e^y)` without overflow.
fn log_add_exp(x: f64, y: f64) -> f64 {
    let m = x.max(y);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + log(exp(x - m) + exp(y - m))
}

impl BgNbd {
    /// All four parameters finite and positive.
    pub fn is_valid(&self) -> bool {
        positive(&[self.r, self.alpha, self.a, self.b])
    }

    /// One customer's log-likelihood (Fader, Hardie & Lee 2005, eq. 6): the sum of
    /// `log_likelihood_of_frequency` and `log_likelihood_of_timing` (split so a fit over many
    /// customers computes the first once per frequency).
    pub fn log_likelihood(&self, s: &CustomerSummary) -> f64 {
        self.log_likelihood_of_frequency(s.frequency) + self.log_likelihood_of_timing(s)
    }

    /// The terms of the log-likelihood that depend on the frequency alone (A₁ + A₂).
    pub fn log_likelihood_of_frequency(&self, x: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let a1 = lgamma(r + x) - lgamma(r) + r * log(alpha);
        let a2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
        a1 + a2
    }

    /// The rest: alive at the end of the observation, or dropped out after the last purchase.
    pub fn log_likelihood_of_timing(&self, s: &CustomerSummary) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = s.frequency;
        let a3 = -(r + x) * log(alpha + s.age);
        // Dropped out right after the last purchase: only possible after a repeat purchase.
        let a4 = if x > 0.0 { log(a) - log(b + x - 1.0) - (r + x) * log(alpha + s.recency) } else { f64::NEG_INFINITY };
        log_add_exp(a3, a4)
    }

    /// The probability the customer is still active at the end of the observation: 1 for a
    /// customer without repeat purchases (BG/NBD only lets customers drop out after one).
    pub fn p_alive(&self, s: &CustomerSummary) -> f64 {
        if s.frequency <= 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let x = s.frequency;
        let log_odds_dead = (r + x) * log((alpha + s.age) / (alpha + s.recency)) + log(a / (b + x - 1.0));
        1.0 / (1.0 + exp(log_odds_dead))
    }

    /// Expected purchase days in the next `t` days given the customer's history (eq. 10).
    pub fn conditional_expected_purchases(&self, t: f64, s: &CustomerSummary) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let x = s.frequency;
        let hyp_a = r + x;
        let hyp_b = b + x;
        let hyp_c = a + b + x - 1.0;
        let z = t / (alpha + s.age + t);
        let Some(ln_hyp) = ln_hyp2f1(hyp_a, hyp_b, hyp_c, z) else { return f64::NAN };
        let first = (a + b + x - 1.0) / (a - 1.0);
        // 1 − F·((α+T)/(α+T+t))^(r+x), written so small t keeps its digits.
        let second = -expm1(ln_hyp + (r + x) * log((alpha + s.age) / (alpha + s.age + t)));
        let dead_odds = if x > 0.0 { a / (b + x - 1.0) * exp((r + x) * log((alpha + s.age) / (alpha + s.recency))) } else { 0.0 };
        first * second / (1.0 + dead_odds)
    }

    /// Expected purchase days in the first `t` days of a new customer's life (eq. 9).
    pub fn expected_purchases(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let Some(ln_hyp) = ln_hyp2f1(r, b, a + b - 1.0, t / (alpha + t)) else { return f64::NAN };
        (a + b - 1.0) / (a - 1.0) * -expm1(ln_hyp + r * log(alpha / (alpha + t)))
    }
}

impl GammaGamma {
    /// All three parameters finite and positive.
    pub fn is_valid(&self) -> bool {
        positive(&[self.p, self.q, self.v])
    }

    /// One customer's log-likelihood of their mean repeat-purchase value (lifetimes' form,
    /// which leaves out the constant in the individual values). Only customers with repeat
    /// purchases and a positive mean value inform the model: NaN for the others.
    pub fn log_likelihood(&self, s: &CustomerSummary) -> f64 {
        if s.frequency <= 0.0 || s.mean_value <= 0.0 {
            return f64::NAN;
        }
        self.log_likelihood_of_frequency(s.frequency) + self.log_likelihood_of_value(s)
    }

    /// The terms of the log-likelihood that depend on the frequency alone (as for BG/NBD).
    pub fn log_likelihood_of_frequency(&self, x: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        lgamma(p * x + q) - lgamma(p * x) - lgamma(q) + q * log(v) + p * x * log(x)
    }

    /// The rest, which needs the mean value.
    pub fn log_likelihood_of_value(&self, s: &CustomerSummary) -> f64 {
        let GammaGamma { p, q, v } = *self;
        let (x, m) = (s.frequency, s.mean_value);
        (p * x - 1.0) * log(m) - (p * x + q) * log(x * m + v)
    }

    /// The expected value of the customer's future purchases: their mean pulled towards the
    /// population's by how few repeat purchases it rests on (the population mean without any).
    pub fn conditional_expected_value(&self, s: &CustomerSummary) -> f64 {
        let GammaGamma { p, q, v } = *self;
        let population_mean = v * p / (q - 1.0);
        let weight = p * s.frequency / (p * s.frequency + q - 1.0);
        (1.0 - weight) * population_mean + weight * s.mean_value
    }
}

/// Days in a month, as lifetimes counts them for daily data (`freq="D"`: 30).
pub const DAYS_PER_MONTH: f64 = 30.0;

/// Predicted customer lifetime value over `horizon_days`, as lifetimes'
/// `customer_lifetime_value` computes it: each 30-day month's expected purchases (from BG/NBD)
/// times the expected value of a purchase (Gamma-Gamma), discounted by `monthly_discount` per
/// month, summed. A horizon that is not whole months ends with a part month, discounted by its
/// fraction (lifetimes only takes whole months; for those the two agree).
pub fn clv(bgnbd: &BgNbd, gg: &GammaGamma, s: &CustomerSummary, horizon_days: f64, monthly_discount: f64) -> f64 {
    let value = gg.conditional_expected_value(s);
    let mut total = 0.0;
    let (mut from, mut purchases_before) = (0.0, 0.0);
    while from < horizon_days {
        let to = (from + DAYS_PER_MONTH).min(horizon_days);
        let purchases = bgnbd.conditional_expected_purchases(to, s);
        total += value * (purchases - purchases_before) / exp(to / DAYS_PER_MONTH * log1p(monthly_discount));
        (from, purchases_before) = (to, purchases);
    }
    total
}

/// `ln ₂F₁(a, b; c; z)` for 0 ≤ z < 1 by its power series, in scaled arithmetic so large
/// values do not overflow. For z > ½ with c − a and c − b positive and c − a − b negative,
/// Euler's transformation `₂F₁(a,b;c;z) = (1−z)^(c−a−b) ₂F₁(c−a,c−b;c;z)` is summed instead:
/// its terms shrink faster near z = 1 (as n^(c−a−b−1) rather than n^(a+b−c−1)), and every term
/// is positive, so no digits cancel. None when the series does not settle within
/// `MAX_TERMS` (z too close to 1), the sum is not positive, or c is a non-positive integer.
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !((0.0..1.0).contains(&z) && a.is_finite() && b.is_finite() && c.is_finite()) {
        return None;
    }
    if c > a && c > b && c - a - b < 0.0 && z > 0.5 {
        return Some(ln_hyp2f1_series(c - a, c - b, c, z)? + (c - a - b) * log1p(-z));
    }
    ln_hyp2f1_series(a, b, c, z)
}

/// Enough for z ≈ 0.9995 (BG/NBD's z = t/(α+T+t) stays far below that for horizons of years).
const MAX_TERMS: u32 = 200_000;

fn ln_hyp2f1_series(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    // Keep sum and term below ~1e200 by moving powers of 2^600 into `ln_scale`.
    const RESCALE: f64 = 4.149_515_568_880_993e180; // 2^600
    let mut ln_scale = 0.0;
    let (mut sum, mut term) = (1.0f64, 1.0f64);
    for n in 0..MAX_TERMS {
        let n = f64::from(n);
        if c + n == 0.0 || (c + n < 0.0 && libm::trunc(c + n) == c + n) {
            return None;
        }
        let ratio = (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        term *= ratio;
        sum += term;
        if sum.abs() > RESCALE {
            sum /= RESCALE;
            term /= RESCALE;
            ln_scale += 600.0 * LN_2;
        }
        // The tail after this term is at most term·ρ/(1−ρ) once the ratio settles below
        // ρ = max(ratio, z) < 1 (it tends to z).
        let rho = ratio.abs().max(z);
        if term == 0.0 || (ratio.abs() < 1.0 && term.abs() <= f64::EPSILON * sum.abs() * (1.0 - rho)) {
            return (sum > 0.0).then(|| log(sum) + ln_scale);
        }
    }
    None
}

/// `[predict]`: the horizons and thresholds of the predicted traits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PredictConfig {
    /// Days of future purchases the predicted lifetime value (`clv`) adds up: 360, twelve
    /// 30-day months, as lifetimes' `customer_lifetime_value` defaults to.
    pub clv_horizon_days: f64,
    /// Discount per 30-day month applied to future value (0.01: 1% a month, lifetimes' default).
    pub monthly_discount: f64,
    /// `churn_risk` is "high" when `p_alive` is below this.
    pub churn_high_below: f64,
    /// `churn_risk` is "medium" when `p_alive` is below this (and not high), else "low".
    pub churn_medium_below: f64,
}

impl Default for PredictConfig {
    fn default() -> Self {
        PredictConfig { clv_horizon_days: 360.0, monthly_discount: 0.01, churn_high_below: 0.3, churn_medium_below: 0.7 }
    }
}

/// A customer's predicted churn risk, named from the probability they are still a customer
/// (`p_alive`) against `[predict]`'s thresholds: what profiles write and journeys read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChurnRisk {
    Low,
    Medium,
    High,
}

impl ChurnRisk {
    pub fn from_p_alive(p_alive: f64, cfg: &PredictConfig) -> ChurnRisk {
        if p_alive < cfg.churn_high_below {
            ChurnRisk::High
        } else if p_alive < cfg.churn_medium_below {
            ChurnRisk::Medium
        } else {
            ChurnRisk::Low
        }
    }

    /// The profile's `churn_risk` value.
    pub fn from_name(name: &str) -> Option<ChurnRisk> {
        match name {
            "low" => Some(ChurnRisk::Low),
            "medium" => Some(ChurnRisk::Medium),
            "high" => Some(ChurnRisk::High),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ChurnRisk::Low => "low",
            ChurnRisk::Medium => "medium",
            ChurnRisk::High => "high",
        }
    }
}

/// What a profile carries from the fitted models.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PredictedTraits {
    pub p_alive: f64,
    pub expected_orders_30: f64,
    pub expected_orders_90: f64,
    pub expected_orders_365: f64,
    /// Days after the end of the observation by which one more purchase day is expected: the t
    /// at which the conditional expected purchases reach 1 (to within a hundredth of a day).
    /// None when they do not within [`NEXT_ORDER_MAX_DAYS`] (a likely lapsed customer).
    pub expected_next_order_days: Option<f64>,
    /// Predicted value over `clv_horizon_days`; None without a Gamma-Gamma fit or without
    /// repeat purchases (a mean value needs some).
    pub clv: Option<f64>,
    pub churn_risk: ChurnRisk,
}

impl PredictedTraits {
    /// As profiles carry them, whoever writes the profile (the build, the edge after an order):
    /// `p_alive` to 4 decimals, expected orders to 3, CLV to 2 (a CLV that is not finite, from a
    /// degenerate fit, is none).
    pub fn rounded(&self) -> PredictedTraits {
        let round = |v: f64, places: i32| {
            let k = libm::pow(10.0, f64::from(places));
            libm::round(v * k) / k
        };
        PredictedTraits {
            p_alive: round(self.p_alive, 4),
            expected_orders_30: round(self.expected_orders_30, 3),
            expected_orders_90: round(self.expected_orders_90, 3),
            expected_orders_365: round(self.expected_orders_365, 3),
            clv: self.clv.filter(|v| v.is_finite()).map(|v| round(v, 2)),
            ..*self
        }
    }

    /// Whether every number is one JSON can carry (a degenerate fit gives NaN): profiles leave
    /// the traits out otherwise.
    pub fn is_finite(&self) -> bool {
        [self.p_alive, self.expected_orders_30, self.expected_orders_90, self.expected_orders_365].iter().all(|v| v.is_finite())
    }

    /// The unix day the next order is expected by, counted from `day` (the observation's last
    /// day), rounded up; None when not within two years.
    pub fn next_order_day(&self, day: i64) -> Option<i64> {
        self.expected_next_order_days.map(|d| day + libm::ceil(d) as i64)
    }
}

/// How far ahead the expected next order is looked for: two years.
pub const NEXT_ORDER_MAX_DAYS: f64 = 730.0;

/// The predicted traits of one customer.
pub fn traits(bgnbd: &BgNbd, gg: Option<&GammaGamma>, s: &CustomerSummary, cfg: &PredictConfig) -> PredictedTraits {
    let p_alive = bgnbd.p_alive(s);
    let expected = |t| bgnbd.conditional_expected_purchases(t, s);
    PredictedTraits {
        p_alive,
        expected_orders_30: expected(30.0),
        expected_orders_90: expected(90.0),
        expected_orders_365: expected(365.0),
        expected_next_order_days: days_to_one_purchase(&expected),
        clv: gg.filter(|_| s.frequency > 0.0).map(|gg| clv(bgnbd, gg, s, cfg.clv_horizon_days, cfg.monthly_discount)),
        churn_risk: ChurnRisk::from_p_alive(p_alive, cfg),
    }
}

/// The t in (0, NEXT_ORDER_MAX_DAYS] where `expected(t)` reaches 1, by bisection (expected
/// purchases grow with t).
fn days_to_one_purchase(expected: &impl Fn(f64) -> f64) -> Option<f64> {
    let at_bound = expected(NEXT_ORDER_MAX_DAYS);
    // NaN (a degenerate fit) is "not expected" too.
    if at_bound.is_nan() || at_bound < 1.0 {
        return None;
    }
    let (mut low, mut high) = (0.0, NEXT_ORDER_MAX_DAYS);
    while high - low > 0.01 {
        let mid = (low + high) / 2.0;
        if expected(mid) >= 1.0 {
            high = mid;
        } else {
            low = mid;
        }
    }
    Some(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(x: f64, y: f64, rel: f64) -> bool {
        (x - y).abs() <= rel * y.abs().max(1e-300)
    }

    #[test]
    fn hyp2f1_matches_closed_forms_up_to_z_near_one() {
        for z in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999] {
            // ₂F₁(1,1;2;z) = −ln(1−z)/z
            let want = if z == 0.0 { 1.0 } else { -log1p(-z) / z };
            let got = exp(ln_hyp2f1(1.0, 1.0, 2.0, z).unwrap());
            assert!(close(got, want, 1e-12), "z={z}: {got} vs {want}");
            // ₂F₁(a,b;b;z) = (1−z)^−a
            let got = ln_hyp2f1(2.5, 3.0, 3.0, z).unwrap();
            assert!(close(got, -2.5 * log1p(-z), 1e-12) || z == 0.0, "z={z}: {got}");
            // ₂F₁(½,½;3/2;z²) = arcsin(z)/z
            let want = if z == 0.0 { 1.0 } else { libm::asin(z) / z };
            let got = exp(ln_hyp2f1(0.5, 0.5, 1.5, z * z).unwrap());
            assert!(close(got, want, 1e-12), "z={z}: {got} vs {want}");
        }
        // Euler's branch (c−a, c−b > 0, c−a−b < 0): ₂F₁(a,b;b;z) again with c = b, a small.
        let got = ln_hyp2f1(0.2, 1.5, 1.6, 0.95).unwrap();
        // Independently: the plain series, summed long enough.
        let plain = ln_hyp2f1_series(0.2, 1.5, 1.6, 0.95).unwrap();
        assert!(close(got, plain, 1e-12), "{got} vs {plain}");
        // Huge values stay finite in log form: ₂F₁(300,300;1;0.9) ≈ e^{…} far beyond f64.
        let big = ln_hyp2f1(300.0, 300.0, 1.0, 0.9).unwrap();
        assert!(big.is_finite() && big > 709.0, "{big}");
        assert_eq!(ln_hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        assert_eq!(ln_hyp2f1(1.0, 1.0, -2.0, 0.5), None);
    }

    // Parameters of the textbook example (Fader, Hardie & Lee 2005: CDNOW, weeks).
    const CDNOW: BgNbd = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

    #[test]
    fn bgnbd_identities() {
        let new = CustomerSummary { frequency: 0.0, recency: 0.0, age: 38.86, mean_value: 0.0 };
        assert_eq!(CDNOW.p_alive(&new), 1.0, "no repeat purchase: cannot have dropped out");
        // A customer seen from their first purchase with no time passed is a new customer:
        // conditional equals unconditional.
        let fresh = CustomerSummary { age: 0.0, ..new };
        for t in [1.0, 10.0, 39.0, 100.0] {
            assert!(close(CDNOW.conditional_expected_purchases(t, &fresh), CDNOW.expected_purchases(t), 1e-10));
        }
        // The likelihood of a fresh customer (x = 0, T = 0) is 1.
        assert!(CDNOW.log_likelihood(&fresh).abs() < 1e-12);
        // Expected purchases grow with t, and a long silence lowers p_alive.
        let active = CustomerSummary { frequency: 2.0, recency: 30.43, age: 38.86, mean_value: 0.0 };
        let silent = CustomerSummary { recency: 5.0, ..active };
        assert!(CDNOW.p_alive(&silent) < CDNOW.p_alive(&active));
        assert!(CDNOW.conditional_expected_purchases(39.0, &active) > CDNOW.conditional_expected_purchases(10.0, &active));
        // The paper's customer (x=2, t_x=30.43, T=38.86): 1.226 expected purchases in 39 weeks.
        assert!(close(CDNOW.conditional_expected_purchases(39.0, &active), 1.226, 1e-3), "{}", CDNOW.conditional_expected_purchases(39.0, &active));
    }

    #[test]
    fn bgnbd_likelihood_without_repeats_is_the_chance_of_none() {
        // A customer with no repeat purchase in T days: BG/NBD's P(X(T) = 0) = (α/(α+T))^r
        // (nobody drops out before a repeat purchase).
        let s = CustomerSummary { frequency: 0.0, recency: 0.0, age: 20.0, mean_value: 0.0 };
        let want = CDNOW.r * log(CDNOW.alpha / (CDNOW.alpha + 20.0));
        assert!(close(CDNOW.log_likelihood(&s), want, 1e-12));
    }

    /// lifetimes 0.11.3's outputs, recorded (bench/predict/requirements.txt's venv) at its fit of
    /// the UCI export (scripts/check-lifetimes.sh) for five made-up customers.
    #[test]
    fn recorded_lifetimes_outputs() {
        let bg = BgNbd { r: 0.8226031957832108, alpha: 69.3048543777039, a: 0.0026894250016856742, b: 7.683896765540216 };
        let gg = GammaGamma { p: 2.2332386690363495, q: 3.5079339637113907, v: 456.64012369119683 };
        let c = |frequency, recency, age, mean_value| CustomerSummary { frequency, recency, age, mean_value };
        let customers =
            [c(0.0, 0.0, 200.0, 0.0), c(1.0, 1.0, 373.0, 300.5), c(5.0, 300.0, 320.0, 150.0), c(12.0, 100.0, 360.0, 80.0), c(40.0, 370.0, 373.0, 1200.0)];
        let p_alive = [1.0, 0.9901022277509682, 0.999687175020098, 0.04373398935427747, 0.9999239465673867];
        let expected_90 = [0.2748805542512653, 0.3671599865643734, 1.3454401854540754, 0.1175411812332904, 8.304050194332468];
        let value = [406.62409649398484, 356.63637101655195, 197.06671752905524, 107.95090972351511, 1178.334179480081];
        let clv_12_months = [419.2263321774265, 491.143180574594, 994.3269916740298, 47.58174828219075, 36690.00468733537];
        let bg_ll = [-1.1165432332473233, -7.802365761278781, -26.8857182074738, -51.709610684059385, -135.67604138425838];
        let gg_ll = [f64::NAN, -6.515998928317952, -6.111950425737604, -8.297302691173087, -9.700974249442652];
        for (i, s) in customers.iter().enumerate() {
            assert!(close(bg.p_alive(s), p_alive[i], 1e-12), "p_alive {i}");
            assert!(close(bg.conditional_expected_purchases(90.0, s), expected_90[i], 1e-10), "expected {i}");
            assert!(close(gg.conditional_expected_value(s), value[i], 1e-12), "value {i}");
            assert!(close(clv(&bg, &gg, s, 360.0, 0.01), clv_12_months[i], 1e-10), "clv {i}");
            assert!(close(bg.log_likelihood(s), bg_ll[i], 1e-12), "BG/NBD ll {i}");
            assert!(gg.log_likelihood(s).is_nan() && i == 0 || close(gg.log_likelihood(s), gg_ll[i], 1e-12), "GG ll {i}");
        }
        assert!(close(bg.expected_purchases(30.0), 0.3560333231238686, 1e-10));
        assert!(close(bg.expected_purchases(365.0), 4.327267047549833, 1e-10));
    }

    #[test]
    fn gamma_gamma_shrinks_towards_the_population_mean() {
        let gg = GammaGamma { p: 6.25, q: 3.74, v: 15.44 };
        let population = gg.v * gg.p / (gg.q - 1.0);
        let none = CustomerSummary { frequency: 0.0, mean_value: 0.0, ..Default::default() };
        assert!(close(gg.conditional_expected_value(&none), population, 1e-12));
        let many = CustomerSummary { frequency: 1000.0, mean_value: 100.0, ..Default::default() };
        assert!(close(gg.conditional_expected_value(&many), 100.0, 1e-2));
        assert!(gg.log_likelihood(&none).is_nan());
        assert!(gg.log_likelihood(&many).is_finite());
    }

    #[test]
    fn clv_of_whole_months_is_the_discounted_sum_per_month() {
        let gg = GammaGamma { p: 6.25, q: 3.74, v: 15.44 };
        let bg = BgNbd { r: 0.8, alpha: 60.0, a: 0.1, b: 2.0 };
        let s = CustomerSummary { frequency: 3.0, recency: 200.0, age: 300.0, mean_value: 40.0 };
        let value = gg.conditional_expected_value(&s);
        let mut want = 0.0;
        for m in 1..=12 {
            let t = 30.0 * f64::from(m);
            want += value * (bg.conditional_expected_purchases(t, &s) - bg.conditional_expected_purchases(t - 30.0, &s)) / libm::pow(1.01, f64::from(m));
        }
        assert!(close(clv(&bg, &gg, &s, 360.0, 0.01), want, 1e-12));
        // No discount: value × expected purchases over the horizon.
        assert!(close(clv(&bg, &gg, &s, 365.0, 0.0), value * bg.conditional_expected_purchases(365.0, &s), 1e-12));
    }

    #[test]
    fn traits_name_the_risk_and_the_next_order() {
        let bg = BgNbd { r: 0.8, alpha: 60.0, a: 0.1, b: 2.0 };
        let cfg = PredictConfig::default();
        let regular = CustomerSummary { frequency: 10.0, recency: 290.0, age: 300.0, mean_value: 40.0 };
        let t = traits(&bg, None, &regular, &cfg);
        assert_eq!(t.churn_risk, ChurnRisk::Low);
        assert_eq!(t.clv, None);
        let days = t.expected_next_order_days.unwrap();
        assert!((bg.conditional_expected_purchases(days, &regular) - 1.0).abs() < 1e-3, "{days}");
        assert!(t.expected_orders_30 < t.expected_orders_90 && t.expected_orders_90 < t.expected_orders_365);
        let lapsed = CustomerSummary { frequency: 10.0, recency: 30.0, age: 300.0, mean_value: 40.0 };
        let t = traits(&bg, Some(&GammaGamma { p: 6.25, q: 3.74, v: 15.44 }), &lapsed, &cfg);
        assert_eq!(t.churn_risk, ChurnRisk::High);
        assert_eq!(t.expected_next_order_days, None);
        assert!(t.clv.is_some_and(|v| v >= 0.0));
        // Bad parameters give NaN, not a panic.
        let bad = BgNbd { r: -1.0, ..bg };
        assert!(!bad.is_valid());
        let _ = traits(&bad, None, &regular, &cfg);
    }
}
