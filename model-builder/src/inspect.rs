//! `model-builder inspect`: what a bundle holds, as text or JSON.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use vitrine_engine::bundle::{self, Bundle, SegmentSize};

use crate::error::{Error, Result};
use crate::fmt::{bytes, n};
use crate::ingest::dates::day_string;
use crate::tables::TableSizes;

/// Reads and decodes a bundle file; a file that is not a valid bundle is `Error::Bundle`.
pub fn load(path: &Path) -> Result<(Bundle, u64)> {
    let raw = std::fs::read(path).map_err(Error::io(path))?;
    let bundle = bundle::decode(&raw).map_err(|source| Error::Bundle { path: path.into(), source })?;
    Ok((bundle, raw.len() as u64))
}

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub format_version: u16,
    pub build_id: String,
    pub created_at: i64,
    pub bytes: u64,
    pub store: String,
    pub products: u64,
    pub categories: Vec<String>,
    pub customers: u64,
    pub orders: u64,
    pub order_lines: u64,
    pub countries: u32,
    pub data_start: String,
    pub data_end: String,
    pub segments: Vec<SegmentSize>,
    /// What the edge re-scores a customer's new order with: the build's quintile edges and fits.
    /// None in a bundle of format v9.
    pub customer_model: Option<CustomerModelView>,
    pub tables: TableSizes,
    pub rules: RuleCounts,
}

/// The bundle's customer model, by name.
#[derive(Debug, Serialize)]
pub struct CustomerModelView {
    pub recency_edges_days: [f64; 4],
    pub frequency_edges_orders: [f64; 4],
    pub monetary_edges: [f64; 4],
    /// `{r, alpha, a, b}`; null where the build fitted none.
    pub bgnbd: Option<BTreeMap<&'static str, f64>>,
    /// `{p, q, v}`; null where the build fitted none.
    pub gamma_gamma: Option<BTreeMap<&'static str, f64>>,
    /// How each fit went (log-likelihood, customers, iterations, converged).
    pub bgnbd_fit: Option<FitView>,
    pub gamma_gamma_fit: Option<FitView>,
}

#[derive(Debug, Serialize)]
pub struct FitView {
    pub log_likelihood: f64,
    pub customers: u64,
    pub iterations: u64,
    pub converged: bool,
}

impl FitView {
    fn of(f: &vitrine_engine::rfm::FitDiagnostics) -> FitView {
        FitView { log_likelihood: f.log_likelihood, customers: f.customers, iterations: f.iterations, converged: f.converged }
    }

    fn text(&self) -> String {
        let stopped = if self.converged { "converged" } else { "stopped at the iteration limit" };
        format!(" (log-likelihood {:.3}, {} customers, {} iterations, {stopped})", self.log_likelihood, n(self.customers), self.iterations)
    }
}

impl CustomerModelView {
    fn of(m: &vitrine_engine::rfm::CustomerModel) -> CustomerModelView {
        CustomerModelView {
            recency_edges_days: m.recency_edges,
            frequency_edges_orders: m.frequency_edges,
            monetary_edges: m.monetary_edges,
            bgnbd: m.bgnbd.map(|b| [("r", b.r), ("alpha", b.alpha), ("a", b.a), ("b", b.b)].into()),
            gamma_gamma: m.gamma_gamma.map(|g| [("p", g.p), ("q", g.q), ("v", g.v)].into()),
            bgnbd_fit: m.bgnbd_fit.as_ref().map(FitView::of),
            gamma_gamma_fit: m.gamma_gamma_fit.as_ref().map(FitView::of),
        }
    }

    fn lines(&self) -> Vec<String> {
        let list = |v: &[f64]| v.iter().map(|x| format!("{x}")).collect::<Vec<_>>().join(", ");
        let params = |p: &BTreeMap<&str, f64>| p.iter().map(|(k, v)| format!("{k} {v:.6}")).collect::<Vec<_>>().join(", ");
        vec![
            format!(
                "  quintile edges: recency {} days; orders {}; spend {}",
                list(&self.recency_edges_days),
                list(&self.frequency_edges_orders),
                list(&self.monetary_edges)
            ),
            format!("  BG/NBD: {}{}", self.bgnbd.as_ref().map_or("none fitted".into(), &params), self.bgnbd_fit.as_ref().map_or(String::new(), FitView::text)),
            format!(
                "  Gamma-Gamma: {}{}",
                self.gamma_gamma.as_ref().map_or("none fitted".into(), &params),
                self.gamma_gamma_fit.as_ref().map_or(String::new(), FitView::text)
            ),
        ]
    }
}

#[derive(Debug, Serialize)]
pub struct RuleCounts {
    pub pages: usize,
    pub segments: usize,
    pub saved_groups: usize,
    pub placements: usize,
    pub offers: usize,
    pub experiments: usize,
    pub journeys: usize,
    /// Journey steps per channel (`whatsapp` steps with their templates' Content SIDs).
    pub steps: Vec<ChannelSteps>,
}

#[derive(Debug, Serialize)]
pub struct ChannelSteps {
    pub channel: vitrine_engine::journey::Channel,
    pub steps: usize,
    /// WhatsApp: the approved templates the steps send (Content SIDs), each once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<String>,
}

fn steps_by_channel(journeys: &[vitrine_engine::journey::Journey]) -> Vec<ChannelSteps> {
    let steps = || journeys.iter().flat_map(|j| &j.steps);
    vitrine_engine::journey::Channel::ALL
        .into_iter()
        .map(|channel| {
            let mut templates: Vec<String> = steps().filter(|s| s.channel == channel && !s.template.is_empty()).map(|s| s.template.clone()).collect();
            templates.sort();
            templates.dedup();
            ChannelSteps { channel, steps: steps().filter(|s| s.channel == channel).count(), templates }
        })
        .filter(|c| c.steps > 0)
        .collect()
}

pub fn inspect(path: &Path) -> Result<Inspection> {
    let (b, size) = load(path)?;
    let body = &b.body;
    let rules = &body.rules;
    Ok(Inspection {
        format_version: b.header.format_version,
        build_id: b.header.build_id_hex(),
        created_at: b.header.created_at,
        bytes: size,
        store: body.store.name.clone(),
        products: body.catalog.len() as u64,
        categories: body.catalog.categories.clone(),
        customers: body.stats.customers,
        orders: body.stats.orders,
        order_lines: body.stats.order_lines,
        countries: body.stats.countries,
        data_start: day_string(body.stats.data_start),
        data_end: day_string(body.stats.data_end),
        segments: body.stats.segments.clone(),
        customer_model: body.stats.customer_model.as_deref().map(CustomerModelView::of),
        tables: TableSizes::of(&body.recs),
        rules: RuleCounts {
            pages: rules.pages.len(),
            segments: rules.segments.len(),
            saved_groups: rules.saved_groups.len(),
            placements: rules.placements.len(),
            offers: rules.offers.len(),
            experiments: rules.experiments.len(),
            journeys: rules.journeys.len(),
            steps: steps_by_channel(&rules.journeys),
        },
    })
}

pub fn render(i: &Inspection) -> String {
    let mut lines = vec![
        format!("bundle v{} ({}), build {}, created {}", i.format_version, bytes(i.bytes), i.build_id, day_string(i.created_at)),
        format!("store: {}", i.store),
        format!(
            "data: {} orders, {} lines, {} customers, {} countries, {} .. {}",
            n(i.orders),
            n(i.order_lines),
            n(i.customers),
            i.countries,
            i.data_start,
            i.data_end
        ),
        format!("catalog: {} products in {} categories ({})", n(i.products), i.categories.len(), i.categories.join(", ")),
        "segments:".into(),
    ];
    lines.extend(i.segments.iter().map(|s| format!("  {:<20} {:>6}", s.name, n(s.customers))));
    match &i.customer_model {
        Some(m) => {
            lines.push("customer model (an order at the edge is scored with it):".into());
            lines.extend(m.lines());
        }
        None => lines.push("customer model: none (a bundle of format v9)".into()),
    }
    lines.push("tables:".into());
    lines.extend(i.tables.lines().into_iter().map(|l| format!("  {l}")));
    let r = &i.rules;
    lines.push(format!(
        "rules: {} pages, {} segments, {} saved groups, {} placements, {} offers, {} experiments, {} journeys",
        r.pages, r.segments, r.saved_groups, r.placements, r.offers, r.experiments, r.journeys
    ));
    if !r.steps.is_empty() {
        let parts: Vec<String> = r
            .steps
            .iter()
            .map(|c| match c.templates.as_slice() {
                [] => format!("{} {}", c.channel, c.steps),
                t => format!("{} {} (templates {})", c.channel, c.steps, t.join(", ")),
            })
            .collect();
        lines.push(format!("journey steps: {}", parts.join(", ")));
    }
    lines.join("\n") + "\n"
}
