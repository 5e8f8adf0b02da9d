//! The eval's human-readable table.

use std::fmt::Write;

use vitrine_engine::civil::day_string as date;

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
    if let Some(t) = &report.tuning {
        let _ = writeln!(out, "\nchosen on validation ({}):", t.validation);
        let _ = writeln!(
            out,
            "  [recs] learned_l2 = {}, learned_candidates = {}, learned_top_k = {}; learned weight in for-you {}, in discover {}",
            t.learned_l2, t.learned_candidates, t.learned_top_k, t.weights.for_you, t.weights.discover
        );
        for tried in &t.tried {
            let _ = writeln!(out, "  {:<58} NDCG@10 {:.4}", tried.setting, tried.ndcg_at_10);
        }
    }
    for p in &report.protocols {
        let users = p.rows.first().map_or(0, |r| r.metrics.users);
        let what = match p.protocol {
            super::Protocol::All => "any item bought in the test period is a hit",
            super::Protocol::New => "only items never bought before count; owned items excluded",
        };
        let _ = writeln!(out, "\nprotocol {} ({what}), {users} users", p.protocol.name());
        let _ = writeln!(out, "{:<26} {:>7} {:>8} {:>7} {:>7} {:>9} {:>10}", "recommender", "HR@10", "NDCG@10", "P@10", "R@20", "coverage", "cold-start");
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
