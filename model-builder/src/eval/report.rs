//! The eval's human-readable table.

use std::fmt::Write;

use super::EvalReport;

/// Renders the report as one table per protocol.
pub fn render(report: &EvalReport) -> String {
    let mut out = String::new();
    let split = match (report.split_time, report.test_end) {
        (Some(t), Some(end)) => format!("test period {} .. {} (UTC)", date(t), date(end - 1)),
        (Some(t), None) => format!("test period from {} (UTC)", date(t)),
        _ => format!("split: {}", report.split),
    };
    let _ = writeln!(
        out,
        "{split}; {} training orders; {} test users (bought before and after); {} test buyers without history left out",
        report.train_orders, report.test_users, report.cold_customers
    );
    let _ = writeln!(out, "tables built in {} ms; eval in {} ms", report.build_ms, report.eval_ms);
    for p in &report.protocols {
        let users = p.rows.first().map_or(0, |r| r.metrics.users);
        let what = match p.protocol {
            super::Protocol::All => "any item bought in the test period is a hit",
            super::Protocol::New => "only items never bought before count; owned items excluded",
        };
        let _ = writeln!(out, "\nprotocol {} ({what}), {users} users", p.protocol.name());
        let _ = writeln!(
            out,
            "{:<26} {:>7} {:>8} {:>7} {:>7} {:>9} {:>10}",
            "recommender", "HR@10", "NDCG@10", "P@10", "R@20", "coverage", "cold-start"
        );
        for row in &p.rows {
            let m = &row.metrics;
            let cold = m.cold_start_share.map_or("-".to_string(), |s| format!("{:.1}%", s * 100.0));
            let _ = writeln!(
                out,
                "{:<26} {:>7.4} {:>8.4} {:>7.4} {:>7.4} {:>8.1}% {:>10}",
                row.recommender,
                m.hr_at_10,
                m.ndcg_at_10,
                m.precision_at_10,
                m.recall_at_20,
                m.coverage * 100.0,
                cold
            );
        }
    }
    out
}

/// `YYYY-MM-DD` of a unix time (proleptic Gregorian, UTC).
pub fn date(unix: i64) -> String {
    // Days-to-civil after Howard Hinnant's public-domain date algorithms.
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!("{year:04}-{month:02}-{day:02}")
}

/// Unix time of `YYYY-MM-DD` at 00:00 UTC, or `None` if it is not such a date.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let t = (era * 146_097 + doe - 719_468) * 86_400;
    (date(t) == format!("{year:04}-{month:02}-{day:02}")).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2011-12-09"), Some(1_323_388_800));
        assert_eq!(date(1_323_388_800 + 3_600), "2011-12-09");
        assert_eq!(parse_date("2011-02-30"), None);
        assert_eq!(parse_date("yesterday"), None);
    }
}
