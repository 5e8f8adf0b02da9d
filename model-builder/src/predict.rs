//! Predictive traits at build time: per customer × day purchase summaries from the cleaned
//! orders, BG/NBD and Gamma-Gamma fitted by maximum likelihood (argmin's Nelder-Mead on the
//! log-parameters, restarted from its best point until it stops improving), and each
//! customer's traits (`vitrine_engine::predict::traits`, the one definition of the math).
//!
//! The summaries are made from the `customers` aggregate (sql/SCHEMA.md: purchase days and the
//! spend on repeat days), so a build from order lines and one from `--aggregates DIR` fit the
//! same models to the same numbers.
//! Private to the builder: the traits go into the profiles, never the bundle.

use std::time::Instant;

use argmin::core::{CostFunction, Executor, State, TerminationReason, TerminationStatus};
use argmin::solver::neldermead::NelderMead;
use rayon::prelude::*;
use serde::Serialize;

pub use vitrine_engine::predict::{BgNbd, ChurnRisk, CustomerSummary, GammaGamma, PredictConfig, PredictedTraits};
use vitrine_engine::rfm::FitDiagnostics;

use crate::aggregates::{self, CustomerAggregates, CustomerStats};
use crate::data::{Dataset, Order};

/// Fewer customers than this (or fewer with a repeat purchase) are not enough to fit a model
/// of a population: the build says so and writes no predicted traits.
pub const MIN_CUSTOMERS: usize = 20;
/// Nelder-Mead iterations per run, and runs (each restarted from the last one's best point).
const MAX_ITERATIONS: u64 = 500;
/// A restart that gains less than this in the summed log-likelihood ends the fit (the check
/// against lifetimes allows 1e-6).
const STOP_GAIN: f64 = 1e-8;
const MAX_RUNS: u32 = 6;
/// Parameters are kept within e^±16 (about 1e-7 .. 9e6): where the likelihood only flattens
/// towards a boundary (BG/NBD's a → 0 with b → ∞ when almost nobody drops out, as on the UCI
/// log), the simplex would otherwise crawl along it for thousands of iterations for gains
/// below 1e-9.
const MAX_ABS_LOG_PARAM: f64 = 16.0;

/// Per customer (`CustomerIdx`) summaries, and the day the observation ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summaries {
    /// Unix day (days since 1970-01-01) of the observation's last day: ages count to it, and
    /// predictions start after it.
    pub end_day: i64,
    /// None for a customer without orders in the observation.
    pub customers: Vec<Option<CustomerSummary>>,
}

impl Summaries {
    /// `orders` (sorted by time) as customer × day purchases, observed to `end_day`: counted as
    /// the `customers` aggregate counts them (`aggregates::customer_stats`), for a window of
    /// the orders (`eval --predict`'s calibration).
    pub fn of_orders(ds: &Dataset, orders: &[Order], customers: usize, end_day: i64) -> Summaries {
        Summaries::of_stats(&aggregates::customer_stats(ds, orders, customers), end_day)
    }

    /// The customers aggregate's purchase days and repeat spend (counted by the builder or by
    /// sql/customers.sql), observed to `end_day`; an error saying why when it has none (a
    /// `customers.csv` written before the columns).
    pub fn from_aggregates(customers: &CustomerAggregates, end_day: i64) -> Result<Summaries, String> {
        if customers.stats.iter().any(|s| s.orders > 0 && s.purchase_days.is_none()) {
            return Err("the aggregates' customers.csv has no purchase_days and repeat_spend columns (count them with sql/customers.sql)".into());
        }
        Ok(Summaries::of_stats(&customers.stats, end_day))
    }

    /// One summary per customer, defined once: `History::summary`, as the edge re-scores a
    /// customer (lifetimes' frequency, recency, T and monetary_value over purchase days).
    fn of_stats(stats: &[CustomerStats], end_day: i64) -> Summaries {
        let customers = stats.iter().map(|s| if s.orders > 0 { s.history().summary(end_day) } else { None }).collect();
        Summaries { end_day, customers }
    }

    fn observed(&self) -> Vec<CustomerSummary> {
        self.customers.iter().flatten().copied().collect()
    }
}

/// A fitted model and how the fit went.
#[derive(Clone, Debug, Serialize)]
pub struct Fit<P> {
    #[serde(skip)]
    pub params: P,
    /// The parameters by name, for the summary and `--json`.
    pub parameters: Vec<(&'static str, f64)>,
    /// Summed over the customers fitted.
    pub log_likelihood: f64,
    pub iterations: u64,
    /// Nelder-Mead stopped on its tolerance (not on the iteration limit).
    pub converged: bool,
    pub customers: usize,
    pub seconds: f64,
}

impl<P> Fit<P> {
    /// What the bundle keeps of the fit (`inspect` shows it).
    pub fn diagnostics(&self) -> FitDiagnostics {
        FitDiagnostics { log_likelihood: self.log_likelihood, customers: self.customers as u64, iterations: self.iterations, converged: self.converged }
    }
}

/// Both fits, or why there is none.
#[derive(Clone, Debug, Serialize)]
pub struct PredictReport {
    pub bgnbd: Result<Fit<BgNbd>, String>,
    /// Only customers with repeat purchases inform it.
    pub gamma_gamma: Result<Fit<GammaGamma>, String>,
}

impl PredictReport {
    /// Fits both models to the summaries.
    pub fn fit(summaries: &Summaries) -> PredictReport {
        let customers = summaries.observed();
        PredictReport { bgnbd: fit_bgnbd(&customers), gamma_gamma: fit_gamma_gamma(&customers) }
    }

    /// No fits, for this reason (no summaries to fit on).
    pub fn not_fitted(why: &str) -> PredictReport {
        PredictReport { bgnbd: Err(why.to_string()), gamma_gamma: Err(why.to_string()) }
    }

    /// Each customer's traits (indexed like `summaries.customers`); all None without a BG/NBD fit.
    pub fn predictions(&self, summaries: &Summaries, cfg: &PredictConfig) -> Vec<Option<Prediction>> {
        let Ok(bg) = &self.bgnbd else { return vec![None; summaries.customers.len()] };
        let gg = self.gamma_gamma.as_ref().ok().map(|f| &f.params);
        // Independent per customer, ~25 µs each (the next order's bisection): in parallel.
        summaries
            .customers
            .par_iter()
            .map(|s| {
                let traits = vitrine_engine::predict::traits(&bg.params, gg, s.as_ref()?, cfg);
                let next_order_day = traits.next_order_day(summaries.end_day);
                Some(Prediction { traits, next_order_day })
            })
            .collect()
    }
}

/// One customer's predicted traits, dated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    pub traits: PredictedTraits,
    /// Unix day by which the next order is expected (the observation's end + the expected
    /// days, rounded up); None when not within two years.
    pub next_order_day: Option<i64>,
}

/// BG/NBD by maximum likelihood over all customers.
pub fn fit_bgnbd(customers: &[CustomerSummary]) -> Result<Fit<BgNbd>, String> {
    let repeaters = customers.iter().filter(|s| s.frequency > 0.0).count();
    if customers.len() < MIN_CUSTOMERS || repeaters == 0 {
        return Err(format!("{} customers, {repeaters} with a repeat purchase: at least {MIN_CUSTOMERS} and one are needed", customers.len()));
    }
    let patterns = Patterns::of(customers, |s| (s.frequency, s.recency, s.age));
    let to_model = |p: &[f64]| BgNbd { r: p[0], alpha: p[1], a: p[2], b: p[3] };
    // Start where lifetimes does (its time scaled so the oldest customer is 1), in days.
    let max_age = customers.iter().map(|s| s.age).fold(1.0, f64::max);
    let start = [0.1f64.exp(), 0.1f64.exp() * max_age, 0.1f64.exp(), 0.1f64.exp()];
    let fit = maximize(&start, customers.len(), |p| {
        let m = to_model(p);
        patterns.sum(|x| m.log_likelihood_of_frequency(x), |s| m.log_likelihood_of_timing(s))
    })?;
    Ok(Fit {
        params: to_model(&fit.params),
        parameters: vec![("r", fit.params[0]), ("alpha", fit.params[1]), ("a", fit.params[2]), ("b", fit.params[3])],
        ..fit.forget_params()
    })
}

/// Gamma-Gamma by maximum likelihood over the customers with repeat purchases and a positive
/// mean value.
pub fn fit_gamma_gamma(customers: &[CustomerSummary]) -> Result<Fit<GammaGamma>, String> {
    let repeaters: Vec<CustomerSummary> = customers.iter().filter(|s| s.frequency > 0.0 && s.mean_value > 0.0).copied().collect();
    if repeaters.len() < MIN_CUSTOMERS {
        return Err(format!("{} customers with repeat purchases: at least {MIN_CUSTOMERS} are needed", repeaters.len()));
    }
    let patterns = Patterns::of(&repeaters, |s| (s.frequency, s.mean_value, 0.0));
    let to_model = |p: &[f64]| GammaGamma { p: p[0], q: p[1], v: p[2] };
    let start = [0.1f64.exp(); 3];
    let fit = maximize(&start, repeaters.len(), |p| {
        let m = to_model(p);
        patterns.sum(|x| m.log_likelihood_of_frequency(x), |s| m.log_likelihood_of_value(s))
    })?;
    Ok(Fit { params: to_model(&fit.params), parameters: vec![("p", fit.params[0]), ("q", fit.params[1]), ("v", fit.params[2])], ..fit.forget_params() })
}

/// Distinct summaries with how many customers share each, sorted by frequency: the likelihood
/// is evaluated once per pattern (customers of a store share frequencies, recencies and ages in
/// days), its frequency terms once per frequency.
struct Patterns {
    distinct: Vec<(CustomerSummary, f64)>,
    /// (frequency, customers with it).
    frequencies: Vec<(f64, f64)>,
}

/// Patterns summed per chunk in parallel, the chunks' sums added in order: the same total
/// whatever the number of threads.
const CHUNK: usize = 4096;

impl Patterns {
    fn of(customers: &[CustomerSummary], key: impl Fn(&CustomerSummary) -> (f64, f64, f64)) -> Patterns {
        let mut sorted: Vec<CustomerSummary> = customers.to_vec();
        let cmp = |x: &CustomerSummary, y: &CustomerSummary| {
            let (kx, ky) = (key(x), key(y));
            kx.0.total_cmp(&ky.0).then(kx.1.total_cmp(&ky.1)).then(kx.2.total_cmp(&ky.2))
        };
        sorted.sort_unstable_by(cmp);
        let mut distinct: Vec<(CustomerSummary, f64)> = Vec::new();
        for s in sorted {
            match distinct.last_mut() {
                Some((last, n)) if cmp(last, &s).is_eq() => *n += 1.0,
                _ => distinct.push((s, 1.0)),
            }
        }
        let mut frequencies: Vec<(f64, f64)> = Vec::new();
        for (s, n) in &distinct {
            match frequencies.last_mut() {
                Some(f) if f.0 == s.frequency => f.1 += n,
                _ => frequencies.push((s.frequency, *n)),
            }
        }
        Patterns { distinct, frequencies }
    }

    /// Σ over customers of `of_frequency(x) + rest(s)`.
    fn sum(&self, of_frequency: impl Fn(f64) -> f64 + Sync, rest: impl Fn(&CustomerSummary) -> f64 + Sync) -> f64 {
        let per_frequency: f64 = self.frequencies.iter().map(|&(x, n)| n * of_frequency(x)).sum();
        let chunks: Vec<f64> = self.distinct.par_chunks(CHUNK).map(|c| c.iter().map(|(s, n)| n * rest(s)).sum::<f64>()).collect();
        per_frequency + chunks.iter().sum::<f64>()
    }
}

struct Maximized {
    params: Vec<f64>,
    log_likelihood: f64,
    iterations: u64,
    converged: bool,
    customers: usize,
    seconds: f64,
}

impl Maximized {
    fn forget_params<P: Default>(self) -> Fit<P> {
        Fit {
            params: P::default(),
            parameters: Vec::new(),
            log_likelihood: self.log_likelihood,
            iterations: self.iterations,
            converged: self.converged,
            customers: self.customers,
            seconds: self.seconds,
        }
    }
}

/// Minus the mean log-likelihood over log-parameters (positive parameters, and a scale the
/// simplex handles); non-finite values are +∞, so the simplex steps away from them.
struct NegativeMeanLogLikelihood<F> {
    log_likelihood: F,
    customers: f64,
}

impl<F: Fn(&[f64]) -> f64> CostFunction for NegativeMeanLogLikelihood<F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        if log_params.iter().any(|v| v.abs() > MAX_ABS_LOG_PARAM) {
            return Ok(f64::INFINITY);
        }
        let params: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
        let ll = (self.log_likelihood)(&params);
        Ok(if ll.is_finite() { -ll / self.customers } else { f64::INFINITY })
    }
}

/// Maximizes `log_likelihood` over positive parameters from `start`: Nelder-Mead runs, each
/// from a fresh simplex around the previous best, until a restart gains less than `STOP_GAIN`
/// (a simplex can collapse short of the optimum in a flat valley; a restart unsticks it).
/// Converged: the last run met its tolerance, or the last restart gained nothing worth having.
fn maximize(start: &[f64], customers: usize, log_likelihood: impl Fn(&[f64]) -> f64) -> Result<Maximized, String> {
    let started = Instant::now();
    let cost = NegativeMeanLogLikelihood { log_likelihood, customers: customers as f64 };
    let mut best: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let mut best_cost = cost.cost(&best).unwrap_or(f64::INFINITY);
    let (mut iterations, mut converged) = (0, false);
    for run in 0..MAX_RUNS {
        let step = if run == 0 { 0.5 } else { 0.05 };
        let mut simplex = vec![best.clone()];
        simplex.extend((0..best.len()).map(|i| {
            let mut v = best.clone();
            v[i] += step;
            v
        }));
        let solver = NelderMead::new(simplex).with_sd_tolerance(1e-13).map_err(|e| e.to_string())?;
        let problem = NegativeMeanLogLikelihood { log_likelihood: &cost.log_likelihood, customers: cost.customers };
        let result = Executor::new(problem, solver).configure(|s| s.max_iters(MAX_ITERATIONS)).run().map_err(|e| format!("the optimizer failed: {e}"))?;
        let state = result.state();
        iterations += state.get_iter();
        converged = matches!(state.get_termination_status(), TerminationStatus::Terminated(TerminationReason::SolverConverged));
        let (Some(param), run_cost) = (state.get_best_param(), state.get_best_cost()) else { break };
        let gain = (best_cost - run_cost) * cost.customers;
        if run_cost < best_cost {
            best = param.clone();
            best_cost = run_cost;
        }
        if run > 0 && gain < STOP_GAIN {
            converged = true;
            break;
        }
    }
    if !best_cost.is_finite() {
        return Err("the likelihood is not finite anywhere the optimizer looked".into());
    }
    Ok(Maximized {
        params: best.iter().map(|v| v.exp()).collect(),
        log_likelihood: -best_cost * customers as f64,
        iterations,
        converged,
        customers,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Line, Order};
    use vitrine_engine::civil::DAY_SECS as DAY;

    #[test]
    fn summaries_count_purchase_days_as_lifetimes_does() {
        // Customer 0: day 0 (two orders, 10 + 5), day 3 (20), day 10 (30); observation ends
        // on day 12. Customer 1: one day only. Guest orders count for nobody.
        let order = |customer, day: i64, line: u32| Order { invoice: String::new(), customer, country: 0, time: day * DAY + 3600, lines: line..line + 1 };
        let line = |price| Line { product: 0, quantity: 1, unit_price: price };
        let ds = Dataset {
            customers: vec!["a".into(), "b".into()],
            orders: vec![
                order(Some(0), 0, 0),
                order(Some(0), 0, 1),
                order(Some(1), 2, 2),
                order(Some(0), 3, 3),
                order(None, 5, 4),
                order(Some(0), 10, 5),
                order(Some(1), 12, 6),
            ],
            lines: vec![line(10.0), line(5.0), line(7.0), line(20.0), line(99.0), line(30.0), line(7.0)],
            ..Default::default()
        };
        let s = Summaries::of_orders(&ds, &ds.orders, 2, ds.last_time().div_euclid(DAY));
        assert_eq!(s.end_day, 12);
        assert_eq!(s.customers[0], Some(CustomerSummary { frequency: 2.0, recency: 10.0, age: 12.0, mean_value: 25.0 }));
        assert_eq!(s.customers[1], Some(CustomerSummary { frequency: 1.0, recency: 10.0, age: 10.0, mean_value: 7.0 }));
        // The customers aggregate gives the same summaries, unless it has no purchase days.
        let mut counted = crate::aggregates::CustomerAggregates::from_dataset(&ds);
        assert_eq!(Summaries::from_aggregates(&counted, 12), Ok(s));
        counted.stats[1].purchase_days = None;
        assert!(Summaries::from_aggregates(&counted, 12).unwrap_err().contains("no purchase_days"));
    }

    #[test]
    fn too_few_customers_are_not_fitted() {
        let few = vec![CustomerSummary { frequency: 1.0, recency: 5.0, age: 10.0, mean_value: 3.0 }; MIN_CUSTOMERS - 1];
        assert!(fit_bgnbd(&few).unwrap_err().contains("at least 20"));
        assert!(fit_gamma_gamma(&few).is_err());
        let no_repeats = vec![CustomerSummary { frequency: 0.0, recency: 0.0, age: 10.0, mean_value: 0.0 }; 50];
        assert!(fit_bgnbd(&no_repeats).is_err());
    }

    #[test]
    fn the_fit_finds_the_maximum() {
        // Any small population: the fitted parameters beat nearby ones.
        let customers: Vec<CustomerSummary> = (0..200)
            .map(|i| {
                let f = f64::from(i % 7);
                CustomerSummary {
                    frequency: f,
                    recency: if f > 0.0 { f64::from(20 + i % 90) } else { 0.0 },
                    age: f64::from(100 + i % 60),
                    mean_value: 10.0 + f,
                }
            })
            .collect();
        let fit = fit_bgnbd(&customers).unwrap();
        let ll = |m: &BgNbd| customers.iter().map(|s| m.log_likelihood(s)).sum::<f64>();
        assert!((ll(&fit.params) - fit.log_likelihood).abs() < 1e-6);
        for nudge in [0.99, 1.01] {
            let p = fit.params;
            for other in [BgNbd { r: p.r * nudge, ..p }, BgNbd { alpha: p.alpha * nudge, ..p }, BgNbd { b: p.b * nudge, ..p }] {
                assert!(ll(&other) <= fit.log_likelihood + 1e-9);
            }
        }
    }
}
