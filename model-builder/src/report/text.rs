//! The readable tables `model-builder report` prints by default.

use std::fmt::Write;

use super::count::{CONVERSION, CTR, REVENUE_PER_UNIT};
use super::{Metric, Report};
use crate::fmt::n;

fn pct(v: f64) -> String {
    format!("{:.2}%", 100.0 * v)
}

fn signed_pct(v: f64) -> String {
    format!("{:+.1}%", 100.0 * v)
}

/// `+10.2% [+3.1%, +17.8%] p=0.004 P(beat)=99.8%`, or why there is none.
fn lift_cell(m: &Metric) -> String {
    match (&m.lift, &m.note) {
        (Some(l), _) => format!(
            "{} [{}, {}] p={:.3} P(beat)={:.1}%{}",
            signed_pct(l.relative),
            signed_pct(l.ci_low),
            signed_pct(l.ci_high),
            l.p_value,
            100.0 * l.chance_to_beat_control,
            if l.significant { " *" } else { "" }
        ),
        (None, Some(note)) => format!("({note})"),
        (None, None) => "(control)".into(),
    }
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let i = &r.input;
    let _ = writeln!(
        o,
        "Read {} files, {} lines: {} records kept, {} duplicate messageIds, {} out of range, {} bad lines.",
        n(i.files),
        n(i.lines),
        n(i.records),
        n(i.duplicates),
        n(i.out_of_range),
        n(i.bad_lines)
    );
    for b in &i.bad {
        let _ = writeln!(o, "  bad: {b}");
    }
    if i.bad_lines > i.bad.len() as u64 {
        let _ = writeln!(o, "  … and {} more bad lines", n(i.bad_lines - i.bad.len() as u64));
    }
    let _ = writeln!(
        o,
        "Orders: {} from {} records ({} with server revenue). Days: {} .. {}.",
        n(i.orders),
        n(i.order_records),
        n(i.server_revenue_orders),
        i.first_day.as_deref().unwrap_or("-"),
        i.last_day.as_deref().unwrap_or("-")
    );

    for e in &r.experiments {
        let _ = writeln!(o, "\nExperiment {} (control: {}): {} units, {} seen in several arms", e.key, e.control, n(e.units), n(e.multiple_exposure_units));
        let _ = writeln!(
            o,
            "  sample ratio: p = {:.4}{}",
            e.srm.p_value,
            if e.srm.flagged { "  MISMATCH (p < 0.001): the split is not what was configured; do not trust the lifts" } else { "" }
        );
        let _ = writeln!(
            o,
            "  {:<16} {:>9} {:>10} {:>8} {:>8} {:>12}  {:>8} {:>8} {:>9}",
            "arm", "units", "exposures", "clicks", "orders", "revenue", "CTR", "conv.", "rev/unit"
        );
        for a in &e.arms {
            let v = |k: &str| a.metrics.get(k).map_or(0.0, |m| m.value);
            let _ = writeln!(
                o,
                "  {:<16} {:>9} {:>10} {:>8} {:>8} {:>12.2}  {:>8} {:>8} {:>9.2}",
                a.arm,
                n(a.units),
                n(a.exposures),
                n(a.clicks),
                n(a.orders),
                a.revenue,
                pct(v(CTR)),
                pct(v(CONVERSION)),
                v(REVENUE_PER_UNIT)
            );
        }
        for a in e.arms.iter().skip(1) {
            let _ = writeln!(o, "  {} vs {}:", a.arm, e.control);
            for (k, label) in [(CTR, "CTR"), (CONVERSION, "conversion"), (REVENUE_PER_UNIT, "revenue/unit")] {
                if let Some(m) = a.metrics.get(k) {
                    let _ = writeln!(o, "    {label:<13} {}", lift_cell(m));
                }
            }
        }
    }
    if r.experiments.iter().any(|e| e.arms.len() > 1) {
        let _ = writeln!(o, "\n  lift [95% interval] (relative, delta method, two-sided t); P(beat) = Bayesian chance to beat control; * = p < 0.05");
    }

    for (title, rows) in [("Placements", &r.placements), ("Offers", &r.offers)] {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n{title} (orders within 7 days of a shown item or a click)");
        let _ = writeln!(
            o,
            "  {:<20} {:>10} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>12}",
            "", "exposures", "clicks", "CTR", "closes", "shown", "clicked", "orders", "revenue"
        );
        for a in rows.iter() {
            let _ = writeln!(
                o,
                "  {:<20} {:>10} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>12.2}",
                a.key,
                n(a.exposures),
                n(a.clicks),
                pct(a.ctr),
                n(a.closes),
                n(a.orders_with_shown_item),
                n(a.orders_after_click),
                n(a.orders),
                a.revenue
            );
        }
    }

    if !r.journeys.is_empty() {
        let _ = writeln!(o, "\nJourneys (units; ordered = an order within 7 days of a message sent)");
        let _ = writeln!(
            o,
            "  {:<20} {:<8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>12}",
            "journey", "channel", "entered", "sent", "delivered", "clicked", "ordered", "revenue"
        );
        for f in &r.journeys {
            let _ = writeln!(
                o,
                "  {:<20} {:<8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>12.2}",
                f.journey,
                if f.channel.is_empty() { "-" } else { &f.channel },
                n(f.entered),
                n(f.sent),
                n(f.delivered),
                n(f.clicked),
                n(f.ordered),
                f.revenue
            );
        }
    }

    if !r.daily.is_empty() {
        let _ = writeln!(o, "\nDaily");
        let _ = writeln!(o, "  {:<10} {:>8} {:>10} {:>8} {:>8} {:>12}", "day", "units", "exposures", "clicks", "orders", "revenue");
        for d in &r.daily {
            let _ = writeln!(o, "  {:<10} {:>8} {:>10} {:>8} {:>8} {:>12.2}", d.day, n(d.units), n(d.exposures), n(d.clicks), n(d.orders), d.revenue);
        }
    }
    o
}
