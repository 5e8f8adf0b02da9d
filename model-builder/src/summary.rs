//! The build summary a person reads after `model-builder build`.

use std::fmt::Write;

use crate::build::BuildSummary;
use crate::fmt::{bytes, n, pct};
use crate::predict::Fit;

pub fn render(s: &BuildSummary) -> String {
    let mut o = String::new();
    if let Some(dir) = &s.aggregates {
        let _ = writeln!(o, "Read aggregates and products from {}", dir.display());
    }
    if let Some(i) = &s.ingest {
        let _ = writeln!(o, "Read {}: {} rows ({})", i.file.display(), n(i.rows), bytes(i.bytes));
        let a = &i.as_read;
        let _ =
            writeln!(o, "  as read        {} invoices, {} stock codes, {} customers, {} countries", n(a.invoices), n(a.skus), n(a.customers), n(a.countries));
        let _ = writeln!(o, "  kept           {:>9} sales lines ({})", n(i.kept_lines), pct(i.kept_lines, i.rows));
        let mut first = true;
        for (reason, count) in i.dropped.reasons() {
            if count > 0 {
                let label = if first { "dropped" } else { "" };
                let _ = writeln!(o, "  {label:<14} {:>9} {reason}", n(count));
                first = false;
            }
        }
        let _ = writeln!(o, "  bad rows       {:>9}{}", n(i.bad_rows), if i.bad_rows > 0 { " (skipped)" } else { "" });
        for bad in &i.first_bad_rows {
            let _ = writeln!(o, "                 {bad}");
        }
        if i.bad_rows > i.first_bad_rows.len() as u64 {
            let _ = writeln!(o, "                 … and {} more", n(i.bad_rows - i.first_bad_rows.len() as u64));
        }
        let _ = writeln!(o, "  guest lines    {:>9} kept without a customer: baskets and popularity only", n(i.guest_lines));
        if i.placeholder_title_lines > 0 {
            let _ = writeln!(o, "  no description {:>9} lines (blank or \"Unknown\"): titles come from other lines", n(i.placeholder_title_lines));
        }
        if let Some(c) = &i.catalog {
            let _ = writeln!(o, "  catalog        {} products from {} ({} bad rows)", n(c.products), c.file.display(), n(c.bad_rows));
        }
    }

    let d = &s.dataset;
    let _ = writeln!(
        o,
        "Dataset: {} orders ({} guest), {} products in {} categories, {} customers, {} countries, {} .. {}",
        n(d.orders),
        n(d.guest_orders),
        n(d.products),
        n(d.categories),
        n(d.customers),
        n(d.countries),
        d.first_day,
        d.last_day
    );
    if let Some(e) = &s.events {
        let _ = writeln!(
            o,
            "Events: {} files, {} lines, {} .. {}: {} product views ({} of SKUs not in the catalog), {} orders ({} with a visitor), {} visitors",
            n(e.files),
            n(e.lines),
            e.first_day,
            e.last_day,
            n(e.views),
            n(e.unknown_products),
            n(e.orders),
            n(e.orders_with_visitor),
            n(e.visitors)
        );
        let _ = writeln!(o, "  duplicates     {:>9} (a messageId counts once)", n(e.duplicates));
        let _ = writeln!(o, "  bad lines      {:>9}{}", n(e.bad_lines), if e.bad_lines > 0 { " (skipped)" } else { "" });
        for bad in &e.bad {
            let _ = writeln!(o, "                 {bad}");
        }
        if e.bad_lines > e.bad.len() as u64 {
            let _ = writeln!(o, "                 … and {} more", n(e.bad_lines - e.bad.len() as u64));
        }
    }
    let _ = writeln!(o, "RFM segments:");
    for seg in &s.segments {
        let _ = writeln!(o, "  {:<20} {:>6}  {}", seg.name, n(seg.customers), pct(seg.customers, d.customers));
    }
    let p = &s.predict;
    let _ = writeln!(o, "Predictive models (customer × day purchases):");
    let _ = writeln!(o, "  BG/NBD         {}", fit_line(&p.bgnbd));
    let _ = writeln!(o, "  Gamma-Gamma    {}", fit_line(&p.gamma_gamma));
    if p.bgnbd.is_err() {
        let _ = writeln!(o, "  no predicted traits in the profiles");
    }
    let _ = writeln!(o, "Tables:");
    for line in s.tables.lines() {
        let _ = writeln!(o, "  {line}");
    }
    let b = &s.bundle;
    let _ = writeln!(o, "Bundle: {} ({}), build {}", b.path.display(), bytes(b.bytes), b.build_id);
    if let Some(p) = &s.profiles {
        let _ = writeln!(o, "Profiles: {} (private: customer ids, never publish)", p.display());
    }
    if let Some(c) = &s.customers {
        let _ = writeln!(
            o,
            "Customers export: {} customers ({} with email, {} with a valid phone, {} phone numbers invalid, {} bad rows), in the profiles only",
            n(c.customers),
            n(c.with_email),
            n(c.with_phone),
            n(c.invalid_phones),
            n(c.bad_rows)
        );
    }
    let times: Vec<String> = s.timings.iter().map(|(step, secs)| format!("{step} {secs:.2} s")).collect();
    let _ = writeln!(o, "Time: {}", times.join(", "));
    o
}

/// A fit's parameters and diagnostics on one line, or why there is none.
fn fit_line<P>(fit: &Result<Fit<P>, String>) -> String {
    match fit {
        Ok(f) => {
            let params: Vec<String> = f.parameters.iter().map(|(name, v)| format!("{name} {v:.4}")).collect();
            format!(
                "{}; log-likelihood {:.3} over {} customers, {} iterations{}, {:.2} s",
                params.join(", "),
                f.log_likelihood,
                n(f.customers as u64),
                f.iterations,
                if f.converged { "" } else { " (NOT converged: the iteration limit)" },
                f.seconds
            )
        }
        Err(why) => format!("not fitted: {why}"),
    }
}
