//! The statistics of the report, written to give the numbers GrowthBook's `gbstats` (0.8.0)
//! gives for the same aggregates (`bench/report/gbstats_check.py` compares them to 1e-6):
//!
//! - a metric's per-arm summary: [`Summary`] = gbstats's `SampleMeanStatistic`,
//!   `ProportionStatistic` and `RatioStatistic` (the delta method for clicks per exposure);
//! - the frequentist relative lift: [`frequentist`] = `TwoSidedTTest` with
//!   `difference_type="relative"`, `alpha=0.05` (Welch–Satterthwaite degrees of freedom);
//! - the chance to beat control: [`bayesian`] = `EffectBayesianABTest` with its default
//!   `GaussianPrior(mean=0, variance=1, proper=False)`, `prior_type="relative"`;
//! - the sample-ratio check: [`srm_p_value`] = `gbstats.utils.check_srm`.
//!
//! The distributions are computed here (libm's `erfc` and `lgamma`, continued fractions) so
//! the builder pulls no numerics crate.

use serde::Serialize;

/// GrowthBook flags a sample-ratio mismatch below this p-value.
pub const SRM_THRESHOLD: f64 = 0.001;
/// Two-sided 95%.
pub const ALPHA: f64 = 0.05;

/// One arm's aggregate of one metric over its units: enough to redo every test elsewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub kind: Kind,
    /// Units.
    pub n: u64,
    /// Sum and sum of squares of the per-unit value (the numerator of a ratio).
    pub sum: f64,
    pub sum_squares: f64,
    /// Ratio metrics only: the per-unit denominator's sum and sum of squares, and the sum of
    /// numerator × denominator.
    #[serde(skip_serializing_if = "is_zero")]
    pub den_sum: f64,
    #[serde(skip_serializing_if = "is_zero")]
    pub den_sum_squares: f64,
    #[serde(skip_serializing_if = "is_zero")]
    pub sum_products: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// A per-unit value (revenue): `SampleMeanStatistic`.
    #[default]
    Mean,
    /// A per-unit 0/1 (converted): `ProportionStatistic`.
    Proportion,
    /// Per-unit numerator over per-unit denominator (clicks / exposures): `RatioStatistic`.
    Ratio,
}

impl Summary {
    pub fn new(kind: Kind) -> Self {
        Summary { kind, ..Summary::default() }
    }

    /// Adds one unit's value (and, for a ratio, its denominator).
    pub fn add(&mut self, x: f64, d: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_squares += x * x;
        if self.kind == Kind::Ratio {
            self.den_sum += d;
            self.den_sum_squares += d * d;
            self.sum_products += x * d;
        }
    }

    fn n(&self) -> f64 {
        self.n as f64
    }

    fn sample_var(n: f64, sum: f64, sum_squares: f64) -> f64 {
        if n <= 1.0 {
            0.0
        } else {
            (sum_squares - sum * sum / n) / (n - 1.0)
        }
    }

    fn mean_of(&self, sum: f64) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            sum / self.n()
        }
    }

    /// The metric's value: mean, proportion, or sum of numerators over sum of denominators.
    pub fn mean(&self) -> f64 {
        match self.kind {
            Kind::Mean | Kind::Proportion => self.mean_of(self.sum),
            Kind::Ratio if self.den_sum == 0.0 => 0.0,
            Kind::Ratio => self.sum / self.den_sum,
        }
    }

    /// The per-unit variance (the mean's variance is this over n).
    pub fn variance(&self) -> f64 {
        let n = self.n();
        match self.kind {
            Kind::Mean => Self::sample_var(n, self.sum, self.sum_squares),
            Kind::Proportion => {
                let p = self.mean();
                p * (1.0 - p)
            }
            Kind::Ratio => {
                let (mx, md) = (self.mean_of(self.sum), self.mean_of(self.den_sum));
                if md == 0.0 || n <= 1.0 {
                    return 0.0;
                }
                let vx = Self::sample_var(n, self.sum, self.sum_squares);
                let vd = Self::sample_var(n, self.den_sum, self.den_sum_squares);
                let cov = (self.sum_products - self.sum * self.den_sum / n) / (n - 1.0);
                // The delta method: Var(X/D) ≈ Vx/μd² − 2·Cov·μx/μd³ + μx²·Vd/μd⁴.
                vx / md.powi(2) - 2.0 * cov * mx / md.powi(3) + mx.powi(2) * vd / md.powi(4)
            }
        }
    }
}

/// A treatment arm against control, on the relative scale (0.1 = +10%).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lift {
    /// (treatment − control) / control.
    pub relative: f64,
    /// The 95% confidence interval (frequentist, two-sided t).
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub significant: bool,
    /// Bayesian: posterior P(lift > 0), and the 95% credible interval.
    pub chance_to_beat_control: f64,
    pub cred_low: f64,
    pub cred_high: f64,
}

/// Why no lift could be computed (gbstats returns its default output in these cases).
pub fn untestable(control: &Summary, treatment: &Summary) -> Option<&'static str> {
    if control.n < 2 || treatment.n < 2 {
        Some("fewer than 2 units in an arm")
    } else if control.mean() == 0.0 {
        Some("control's value is 0")
    } else if control.variance() <= 0.0 || treatment.variance() <= 0.0 {
        Some("no variance in an arm")
    } else {
        None
    }
}

/// Relative lift with its frequentist interval and its Bayesian chance to beat control, or
/// `None` when [`untestable`].
pub fn lift(control: &Summary, treatment: &Summary) -> Option<Lift> {
    if untestable(control, treatment).is_some() {
        return None;
    }
    let f = frequentist(control, treatment);
    let b = bayesian(control, treatment, None);
    Some(Lift {
        relative: f.estimate,
        ci_low: f.ci.0,
        ci_high: f.ci.1,
        p_value: f.p_value,
        significant: f.p_value < ALPHA,
        chance_to_beat_control: b.chance_to_win,
        cred_low: b.ci.0,
        cred_high: b.ci.1,
    })
}

/// `frequentist_diff` and `frequentist_variance` with `relative=True`.
fn relative_effect(a: &Summary, b: &Summary) -> (f64, f64) {
    let (ma, mb) = (a.mean(), b.mean());
    let estimate = (mb - ma) / ma;
    let variance = b.variance() / (ma.powi(2) * b.n()) + a.variance() * mb.powi(2) / (ma.powi(4) * a.n());
    (estimate, variance)
}

pub struct Frequentist {
    pub estimate: f64,
    pub ci: (f64, f64),
    pub p_value: f64,
    pub dof: f64,
}

/// gbstats `TwoSidedTTest` (relative): t = estimate / √variance, Welch–Satterthwaite degrees of
/// freedom from the arms' per-unit variances, p = 2·(1 − T(|t|)), CI = estimate ± T⁻¹(0.975)·√variance.
pub fn frequentist(a: &Summary, b: &Summary) -> Frequentist {
    let (estimate, variance) = relative_effect(a, b);
    let (va, vb, na, nb) = (a.variance(), b.variance(), a.n(), b.n());
    let dof = (vb / nb + va / na).powi(2) / (vb.powi(2) / (nb.powi(2) * (nb - 1.0)) + va.powi(2) / (na.powi(2) * (na - 1.0)));
    let sd = variance.sqrt();
    let t = estimate / sd;
    let width = student_t_quantile(1.0 - ALPHA / 2.0, dof) * sd;
    Frequentist { estimate, ci: (estimate - width, estimate + width), p_value: student_t_two_sided_p(t.abs(), dof), dof }
}

pub struct Bayesian {
    pub mean: f64,
    pub sd: f64,
    pub chance_to_win: f64,
    pub ci: (f64, f64),
}

/// gbstats `EffectBayesianABTest` (relative): the data's effect is normal with the frequentist
/// estimate and variance; with a proper prior N(mean, variance) the posterior is the
/// precision-weighted mix, else (the default) the data alone. Chance to win = P(effect > 0).
pub fn bayesian(a: &Summary, b: &Summary, prior: Option<(f64, f64)>) -> Bayesian {
    let (data_mean, data_var) = relative_effect(a, b);
    let (mean, precision) = match prior {
        Some((pm, pv)) => {
            let precision = 1.0 / data_var + 1.0 / pv;
            ((data_mean / data_var + pm / pv) / precision, precision)
        }
        None => (data_mean, 1.0 / data_var),
    };
    let sd = (1.0 / precision).sqrt();
    let z = normal_quantile(1.0 - ALPHA / 2.0);
    Bayesian { mean, sd, chance_to_win: normal_cdf(mean / sd), ci: (mean - z * sd, mean + z * sd) }
}

/// gbstats `check_srm`: chi-square goodness of fit of the units per arm against the weights
/// (arms of weight ≤ 0 are left out of the sum, not the degrees of freedom, as there).
pub fn srm_p_value(units: &[u64], weights: &[f64]) -> f64 {
    let total: f64 = units.iter().map(|&u| u as f64).sum();
    if total == 0.0 || units.len() < 2 {
        return 1.0;
    }
    let total_weight: f64 = weights.iter().sum();
    let mut x = 0.0;
    for (&o, &w) in units.iter().zip(weights) {
        if w <= 0.0 {
            continue;
        }
        let e = w / total_weight * total;
        x += (o as f64 - e).powi(2) / e;
    }
    chi_square_sf(x, (units.len() - 1) as f64)
}

// --- Distributions -------------------------------------------------------------------------

/// Standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile: Acklam's rational approximation polished by two Halley steps
/// on `erfc` (full double precision).
#[allow(clippy::excessive_precision)] // Acklam's published coefficients, as published.
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.383577518672690e2, -3.066479806614716e1, 2.506628277459239];
    const B: [f64; 5] = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let tail = |q: f64| (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0);
    let mut x = if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    for _ in 0..2 {
        let e = normal_cdf(x) - p;
        let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
        x -= u / (1.0 + x * u / 2.0);
    }
    x
}

/// P(|T| > t) for Student's t with `dof` degrees of freedom: I_{v/(v+t²)}(v/2, 1/2).
pub fn student_t_two_sided_p(t: f64, dof: f64) -> f64 {
    let t2 = t * t;
    incomplete_beta(dof / 2.0, 0.5, dof / (dof + t2), t2 / (dof + t2))
}

/// Student's t CDF.
pub fn student_t_cdf(t: f64, dof: f64) -> f64 {
    let tail = 0.5 * student_t_two_sided_p(t.abs(), dof);
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// Student's t quantile for p > 0.5, by bisection then Newton on the CDF.
pub fn student_t_quantile(p: f64, dof: f64) -> f64 {
    debug_assert!(p > 0.5 && p < 1.0);
    // The normal quantile is a lower bound; the t is wider. Bracket, then halve.
    let (mut lo, mut hi) = (0.0, normal_quantile(p).max(1e-3));
    while student_t_cdf(hi, dof) < p {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if student_t_cdf(mid, dof) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-10 * hi {
            break;
        }
    }
    let mut x = 0.5 * (lo + hi);
    for _ in 0..3 {
        let density = (libm::lgamma((dof + 1.0) / 2.0) - libm::lgamma(dof / 2.0)).exp() / (dof * std::f64::consts::PI).sqrt()
            * (1.0 + x * x / dof).powf(-(dof + 1.0) / 2.0);
        x -= (student_t_cdf(x, dof) - p) / density;
    }
    x
}

/// Chi-square survival function: Q(k/2, x/2), the regularized upper incomplete gamma.
pub fn chi_square_sf(x: f64, dof: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    upper_gamma_q(dof / 2.0, x / 2.0)
}

fn upper_gamma_q(a: f64, x: f64) -> f64 {
    let log_prefix = a * x.ln() - x - libm::lgamma(a);
    if x < a + 1.0 {
        // Series for P, then Q = 1 − P.
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        1.0 - sum * log_prefix.exp()
    } else {
        // Lentz's continued fraction for Q.
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        log_prefix.exp() * h
    }
}

/// The regularized incomplete beta I_x(a, b), given x and 1 − x (passed separately so a
/// value near 1 keeps its precision).
fn incomplete_beta(a: f64, b: f64, x: f64, one_minus_x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if one_minus_x <= 0.0 {
        return 1.0;
    }
    let log_front = libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * one_minus_x.ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        log_front.exp() * beta_fraction(a, b, x) / a
    } else {
        1.0 - log_front.exp() * beta_fraction(b, a, one_minus_x) / b
    }
}

/// The continued fraction of the incomplete beta (modified Lentz).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    // Lentz keeps its two running terms away from zero.
    let away_from_zero = |v: f64| if v.abs() < TINY { TINY } else { v };
    // One term `aa` of the fraction: updates `c` and `d`, returns the factor `h` takes.
    let step = |aa: f64, c: &mut f64, d: &mut f64| {
        *d = 1.0 / away_from_zero(1.0 + aa * *d);
        *c = away_from_zero(1.0 + aa / *c);
        *d * *c
    };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / away_from_zero(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)), &mut c, &mut d);
        let delta = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &mut c, &mut d);
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    // Reference values from scipy.stats (1.17.1).
    #[test]
    fn distributions_match_their_tables() {
        assert!(close(normal_quantile(0.975), 1.959963984540054, 1e-13));
        assert!(close(normal_quantile(0.001), -3.090232306167813, 1e-12));
        assert!(close(normal_cdf(1.0), 0.8413447460685429, 1e-14));
        assert!(close(student_t_quantile(0.975, 10.0), 2.228138851986274, 1e-10));
        assert!(close(student_t_quantile(0.975, 1.0), 12.706204736174694, 1e-9));
        assert!(close(student_t_quantile(0.975, 1e6), 1.959966356814107, 1e-9));
        assert!(close(student_t_two_sided_p(2.0, 5.0), 0.10193947882985835, 1e-10));
        assert!(close(chi_square_sf(3.841458820694124, 1.0), 0.05, 1e-10));
        assert!(close(chi_square_sf(10.0, 3.0), 0.01856613546304325, 1e-10));
    }

    #[test]
    fn srm_on_an_even_and_a_skewed_split() {
        assert_eq!(srm_p_value(&[500, 500], &[1.0, 1.0]), 1.0);
        assert!(srm_p_value(&[450, 550], &[1.0, 1.0]) > SRM_THRESHOLD, "1,000 units: 45/55 could be chance");
        assert!(srm_p_value(&[4500, 5500], &[1.0, 1.0]) < SRM_THRESHOLD);
        assert!(srm_p_value(&[100, 900], &[0.1, 0.9]) > 0.99);
    }
}
