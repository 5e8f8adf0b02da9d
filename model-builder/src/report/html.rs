//! `--html FILE`: one self-contained page (inline CSS and SVG, no script, no external URL).
//! Every figure carries `data-metric` (`lift`, `srm`, `funnel`, `daily`) and the keys it shows,
//! so tests and scripts can find it. Every string from the records is escaped: they come from
//! browsers.

use std::fmt::Write;

use super::count::{CONVERSION, CTR, REVENUE_PER_UNIT};
use super::{Experiment, Funnel, Report};

/// Text and attribute escaping.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1000px}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}\
td:first-child,th:first-child{text-align:left}.bad{color:#b00;font-weight:bold}.ok{color:#070}\
svg text{font:11px system-ui,sans-serif}.note{color:#666;font-size:.9em}";

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let _ = write!(o, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Vitrine report</title><style>{CSS}</style></head><body>");
    let i = &r.input;
    let _ = write!(
        o,
        "<h1>Vitrine report</h1><p>{} .. {}: {} records from {} files ({} duplicates, {} bad lines), {} orders.</p>",
        esc(i.first_day.as_deref().unwrap_or("-")),
        esc(i.last_day.as_deref().unwrap_or("-")),
        i.records,
        i.files,
        i.duplicates,
        i.bad_lines,
        i.orders
    );
    for e in &r.experiments {
        experiment(&mut o, e);
    }
    if !r.journeys.is_empty() {
        o.push_str("<h2>Journeys</h2><p class=\"note\">Units per step; ordered = an order within 7 days of a message sent.</p>");
        for f in &r.journeys {
            funnel(&mut o, f);
        }
    }
    if !r.placements.is_empty() || !r.offers.is_empty() {
        o.push_str("<h2>Placements and offers</h2><table><tr><th></th><th>exposures</th><th>clicks</th><th>CTR</th><th>orders</th><th>revenue</th></tr>");
        for (kind, a) in r.placements.iter().map(|a| ("placement", a)).chain(r.offers.iter().map(|a| ("offer", a))) {
            let _ = write!(
                o,
                "<tr data-metric=\"attribution\" data-{kind}=\"{k}\"><td>{kind} {k}</td><td>{}</td><td>{}</td><td>{:.2}%</td><td>{}</td><td>{:.2}</td></tr>",
                a.exposures,
                a.clicks,
                100.0 * a.ctr,
                a.orders,
                a.revenue,
                k = esc(&a.key)
            );
        }
        o.push_str("</table>");
    }
    if !r.daily.is_empty() {
        daily(&mut o, r);
    }
    o.push_str("</body></html>\n");
    o
}

fn experiment(o: &mut String, e: &Experiment) {
    let key = esc(&e.key);
    let _ = write!(o, "<h2>Experiment {key}</h2><p>Control: {}; {} units, {} seen in several arms.</p>", esc(&e.control), e.units, e.multiple_exposure_units);
    let _ = write!(
        o,
        "<p data-metric=\"srm\" data-experiment=\"{key}\" data-p-value=\"{p}\" data-flagged=\"{f}\" class=\"{c}\">Sample ratio: p = {p:.4}{msg}</p>",
        p = e.srm.p_value,
        f = e.srm.flagged,
        c = if e.srm.flagged { "bad" } else { "ok" },
        msg = if e.srm.flagged { ": MISMATCH, the split is not what was configured; do not trust the lifts below" } else { "" }
    );
    o.push_str("<table><tr><th>arm</th><th>units</th><th>exposures</th><th>clicks</th><th>orders</th><th>revenue</th><th>CTR</th><th>conversion</th><th>revenue/unit</th></tr>");
    for a in &e.arms {
        let v = |k: &str| a.metrics.get(k).map_or(0.0, |m| m.value);
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}%</td><td>{:.2}%</td><td>{:.2}</td></tr>",
            esc(&a.arm),
            a.units,
            a.exposures,
            a.clicks,
            a.orders,
            a.revenue,
            100.0 * v(CTR),
            100.0 * v(CONVERSION),
            v(REVENUE_PER_UNIT)
        );
    }
    o.push_str("</table>");
    // One forest plot per metric: each treatment's lift and 95% interval around 0.
    for (k, label) in [(CONVERSION, "Conversion"), (REVENUE_PER_UNIT, "Revenue per unit"), (CTR, "Click-through")] {
        let rows: Vec<_> = e.arms.iter().skip(1).filter_map(|a| a.metrics.get(k).and_then(|m| m.lift.map(|l| (a, l)))).collect();
        if rows.is_empty() {
            continue;
        }
        let span = rows.iter().map(|(_, l)| l.ci_low.abs().max(l.ci_high.abs())).fold(0.01, f64::max) * 1.1;
        // Arm names on the left, the plot in the middle, the numbers in a column on the right.
        let (w, left, plot, row_h) = (760.0, 130.0, 330.0, 28.0);
        let x = |v: f64| left + (v + span) / (2.0 * span) * plot;
        let h = 30.0 + row_h * rows.len() as f64;
        let _ = write!(o, "<h3>{label}: lift vs {}</h3><svg width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{label} lift\">", esc(&e.control));
        let _ = write!(o, "<line x1=\"{0}\" x2=\"{0}\" y1=\"5\" y2=\"{1}\" stroke=\"#999\" stroke-dasharray=\"3\"/>", x(0.0), h - 15.0);
        let _ = write!(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">0</text>", x(0.0), h - 3.0);
        for (n, (a, l)) in rows.iter().enumerate() {
            let y = 20.0 + row_h * n as f64;
            let colour = if l.ci_low > 0.0 {
                "#070"
            } else if l.ci_high < 0.0 {
                "#b00"
            } else {
                "#555"
            };
            let _ = write!(
                o,
                "<g data-metric=\"lift\" data-experiment=\"{key}\" data-arm=\"{arm}\" data-name=\"{k}\" data-lift=\"{}\" data-ci-low=\"{}\" data-ci-high=\"{}\" data-chance-to-beat=\"{}\">\
<text x=\"4\" y=\"{ty}\">{arm}</text><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"3\"/><circle cx=\"{:.1}\" cy=\"{y}\" r=\"5\" fill=\"{colour}\"/>\
<text x=\"{:.1}\" y=\"{ty}\">{:+.1}% [{:+.1}%, {:+.1}%] P(beat) {:.0}%</text></g>",
                l.relative,
                l.ci_low,
                l.ci_high,
                l.chance_to_beat_control,
                x(l.ci_low),
                x(l.ci_high),
                x(l.relative),
                left + plot + 12.0,
                100.0 * l.relative,
                100.0 * l.ci_low,
                100.0 * l.ci_high,
                100.0 * l.chance_to_beat_control,
                arm = esc(&a.arm),
                ty = y + 4.0
            );
        }
        o.push_str("</svg>");
    }
}

fn funnel(o: &mut String, f: &Funnel) {
    let steps = [("entered", f.entered), ("sent", f.sent), ("delivered", f.delivered), ("clicked", f.clicked), ("ordered", f.ordered)];
    let top = steps.iter().map(|s| s.1).max().unwrap_or(0).max(1) as f64;
    let (w, bar_h) = (520.0, 22.0);
    let _ = write!(
        o,
        "<h3>{} · {}</h3><svg width=\"{w}\" height=\"{}\" data-metric=\"funnel\" data-journey=\"{}\" data-channel=\"{}\">",
        esc(&f.journey),
        esc(if f.channel.is_empty() { "-" } else { &f.channel }),
        steps.len() as f64 * (bar_h + 4.0),
        esc(&f.journey),
        esc(&f.channel)
    );
    for (n, (step, v)) in steps.iter().enumerate() {
        let y = n as f64 * (bar_h + 4.0);
        let bw = (w - 200.0) * *v as f64 / top;
        let _ = write!(
            o,
            "<g data-step=\"{step}\" data-value=\"{v}\"><text x=\"0\" y=\"{:.1}\">{step}</text><rect x=\"80\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{bar_h}\" fill=\"#4a7\"/><text x=\"{:.1}\" y=\"{:.1}\">{v}</text></g>",
            y + 15.0,
            86.0 + bw,
            y + 15.0
        );
    }
    o.push_str("</svg>");
}

fn daily(o: &mut String, r: &Report) {
    let (w, h, pad) = (700.0, 200.0, 40.0);
    let n = r.daily.len();
    let x = |i: usize| if n < 2 { w / 2.0 } else { pad + (w - 2.0 * pad) * i as f64 / (n - 1) as f64 };
    o.push_str("<h2>Daily trend</h2>");
    for (name, label, colour) in [("orders", "Orders per day", "#36c"), ("revenue", "Revenue per day", "#c63"), ("exposures", "Exposures per day", "#693")] {
        let value = |d: &super::Day| match name {
            "orders" => d.orders as f64,
            "revenue" => d.revenue,
            _ => d.exposures as f64,
        };
        let top = r.daily.iter().map(value).fold(0.0, f64::max).max(1e-9);
        let y = |v: f64| h - pad / 2.0 - (h - pad) * v / top;
        let points: Vec<String> = r.daily.iter().enumerate().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(value(d)))).collect();
        let _ = write!(
            o,
            "<h3>{label}</h3><svg width=\"{w}\" height=\"{h}\" data-metric=\"daily\" data-name=\"{name}\" data-days=\"{n}\">\
<text x=\"2\" y=\"12\">{top:.0}</text><polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
        for (i, d) in r.daily.iter().enumerate() {
            let _ = write!(
                o,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{colour}\" data-day=\"{}\" data-value=\"{}\"/>",
                x(i),
                y(value(d)),
                esc(&d.day),
                value(d)
            );
        }
        if let (Some(first), Some(last)) = (r.daily.first(), r.daily.last()) {
            let _ = write!(
                o,
                "<text x=\"{pad}\" y=\"{h}\">{}</text><text x=\"{}\" y=\"{h}\" text-anchor=\"end\">{}</text>",
                esc(&first.day),
                w - pad,
                esc(&last.day)
            );
        }
        o.push_str("</svg>");
    }
}
