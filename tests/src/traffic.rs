//! Demo traffic with a known true lift, for the measurement report: visitors view a page on the
//! running worker (the edge records what it showed), the worker says which arm of an
//! experiment each is in (`/v1/decide?explain=1`, the same decision the page got), and each
//! orders with a probability set per arm. So the lift the report should find is known in
//! advance: `rate × (1 + lift)` in the arm given a lift, `rate` elsewhere.
//!
//! Orders come as a store sends them: from its backend with the write key (the revenue that
//! counts) and, for some, from the browser too (the same `order_id`: counted once).
//! `vitrine-edge traffic` drives it (scripts/dev.sh `--traffic`).

use serde_json::{json, Value};

use crate::http;
use vitrine_edge::limits::CLIENT_HEADER;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Plan {
    pub visitors: u32,
    pub seed: u64,
    /// The page every visitor views (its slots are what the edge exposes).
    pub page: String,
    /// The placement whose experiment arm decides the conversion rate.
    pub placement: String,
    /// Conversion rate without lift.
    pub rate: f64,
    /// `(arm, relative lift)`: e.g. `("blend", 0.10)` converts 10% more often.
    pub lifts: Vec<(String, f64)>,
    /// Order value: uniform in this range.
    pub revenue: (f64, f64),
    /// Share of orders the browser reports too (besides the backend).
    pub browser_copy: f64,
}

impl Plan {
    /// The conversion rate of `arm`.
    pub fn rate_of(&self, arm: &str) -> f64 {
        let lift = self.lifts.iter().find(|(a, _)| a == arm).map_or(0.0, |(_, l)| *l);
        (self.rate * (1.0 + lift)).clamp(0.0, 1.0)
    }
}

/// A small deterministic generator (SplitMix64): the same seed, the same traffic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What one visitor does, decided before anything is sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Visit {
    pub visitor: String,
    /// `Some(revenue)` if they order.
    pub order: Option<f64>,
    pub browser_copy: bool,
}

/// Decides visitor `i`'s behaviour given its arm (draws are made in a fixed order, so a
/// visitor's fate does not depend on the others').
pub fn visit(plan: &Plan, i: u32, arm: &str) -> Visit {
    let mut rng = Rng::new(plan.seed ^ (u64::from(i) << 20) ^ 0x5eed);
    let converts = rng.unit() < plan.rate_of(arm);
    let value = plan.revenue.0 + rng.unit() * (plan.revenue.1 - plan.revenue.0);
    let browser_copy = rng.unit() < plan.browser_copy;
    Visit { visitor: visitor_id(plan, i), order: converts.then_some((value * 100.0).round() / 100.0), browser_copy }
}

pub fn visitor_id(plan: &Plan, i: u32) -> String {
    format!("traffic-{}-{i}", plan.seed)
}

/// Counts of what was sent, per arm.
#[derive(Debug, Default)]
pub struct Sent {
    pub per_arm: std::collections::BTreeMap<String, (u32, u32)>,
    pub failures: u32,
}

/// Drives `plan` against the worker at `base` (`http://host:port`); `write_key` sends the
/// backend's orders.
pub fn run(base: &str, plan: &Plan, write_key: &str) -> Sent {
    let mut sent = Sent::default();
    for i in 0..plan.visitors {
        let id = visitor_id(plan, i);
        let cookie = format!("vt_vid={id}; vt_consent=1");
        let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        // Each visitor its own client for the per-client rate limit (honoured in dev mode only):
        // thousands of visitors from one address would be a single client over its 600 a minute.
        let headers = [("Cookie", cookie.as_str()), ("User-Agent", ua), ("Accept", "text/html"), (CLIENT_HEADER, id.as_str())];
        let page = http::request(base, "GET", &plan.page, &headers, b"");
        let decided = http::request(base, "GET", &format!("/v1/decide?placement={}&path={}&explain=1", plan.placement, plan.page), &headers, b"");
        let arm = match (&page, &decided) {
            (Ok(p), Ok(d)) if p.status == 200 && d.status == 200 => arm_of(&d.json()),
            _ => {
                sent.failures += 1;
                continue;
            }
        };
        let v = visit(plan, i, &arm);
        let entry = sent.per_arm.entry(arm).or_default();
        entry.0 += 1;
        if let Some(revenue) = v.order {
            entry.1 += 1;
            let order_id = format!("{id}-o1");
            let order = |server: bool| {
                json!({"type": "track", "event": "Order Completed", "messageId": format!("{order_id}-{}", if server { "server" } else { "browser" }),
                       "anonymousId": id, "properties": {"order_id": order_id, "revenue": revenue, "currency": "GBP", "products": [{"product_id": "traffic"}]}})
            };
            let auth = format!("Bearer {write_key}");
            let backend = http::request(
                base,
                "POST",
                "/v1/events",
                &[("Content-Type", "application/json"), ("Authorization", auth.as_str())],
                order(true).to_string().as_bytes(),
            );
            if !matches!(backend, Ok(r) if r.status < 300) {
                sent.failures += 1;
            }
            if v.browser_copy {
                let _ = http::request(
                    base,
                    "POST",
                    "/v1/events",
                    &[("Content-Type", "application/json"), ("Cookie", cookie.as_str()), (CLIENT_HEADER, id.as_str())],
                    order(false).to_string().as_bytes(),
                );
            }
        }
    }
    sent
}

/// The arm a `/v1/decide?explain=1` answer names ("none" outside any experiment).
pub fn arm_of(decision: &Value) -> String {
    decision.pointer("/explain/experiment/arm").and_then(Value::as_str).unwrap_or("none").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            visitors: 20_000,
            seed: 7,
            page: "/".into(),
            placement: "home".into(),
            rate: 0.1,
            lifts: vec![("b".into(), 0.2)],
            revenue: (10.0, 50.0),
            browser_copy: 0.5,
        }
    }

    #[test]
    fn the_arm_given_a_lift_converts_that_much_more() {
        let p = plan();
        let rate = |arm: &str| (0..p.visitors).filter(|i| visit(&p, *i, arm).order.is_some()).count() as f64 / f64::from(p.visitors);
        let (a, b) = (rate("a"), rate("b"));
        assert!((a - 0.1).abs() < 0.01, "control converts at its rate: {a}");
        assert!((b / a - 1.2).abs() < 0.08, "the treated arm converts 20% more: {b} vs {a}");
    }

    #[test]
    fn the_same_seed_makes_the_same_traffic() {
        let p = plan();
        assert_eq!(visit(&p, 3, "a"), visit(&p, 3, "a"));
        assert_ne!(
            (0..50).map(|i| visit(&p, i, "a").order.is_some()).collect::<Vec<_>>(),
            (50..100).map(|i| visit(&p, i, "a").order.is_some()).collect::<Vec<_>>()
        );
    }
}
