//! `model-builder report` on simulated and hand-written exports: lift recovered, A/A false
//! positives, SRM, counting once, bad lines, the HTML page.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use vitrine_engine::measure::Record;
use vitrine_model_builder::report::read::Loaded;
use vitrine_model_builder::report::simulate::{write_export, ArmSpec, Traffic};
use vitrine_model_builder::report::{self, count, Options, Report};

/// The report of in-memory records (no files: the A/A loop runs hundreds of these).
fn report_of(records: Vec<Record>, options: &Options) -> Report {
    count(Loaded { records, ..Loaded::default() }, options)
}

fn arm<'a>(r: &'a Report, experiment: &str, arm: &str) -> &'a report::Arm {
    let e = r.experiments.iter().find(|e| e.key == experiment).expect("the experiment is reported");
    e.arms.iter().find(|a| a.arm == arm).expect("the arm is reported")
}

/// Conversion 30% in control, 33% in treatment: a true relative lift of +10%.
fn ten_percent_lift(units: usize, seed: u64) -> Traffic {
    Traffic {
        arms: vec![ArmSpec::new("control", 1.0, 0.30, 0.10, 40.0), ArmSpec::new("treatment", 1.0, 0.33, 0.10, 40.0)],
        max_exposures: 2,
        ..Traffic::ab(units, seed, 0.0)
    }
}

#[test]
fn a_known_lift_is_inside_the_interval_and_zero_is_not() {
    let true_lift = 0.10;
    let r = report_of(ten_percent_lift(40_000, 11).records(), &Options::default());
    let e = &r.experiments[0];
    assert_eq!(e.control, "control");
    assert_eq!(e.units, 40_000);
    let m = &arm(&r, "recs-v2", "treatment").metrics["conversion"];
    let l = m.lift.expect("a lift with 20,000 units an arm");
    assert!(l.ci_low < true_lift && true_lift < l.ci_high, "95% interval [{}, {}] misses the true lift {true_lift}", l.ci_low, l.ci_high);
    assert!(l.ci_low > 0.0, "the interval [{}, {}] should exclude 0", l.ci_low, l.ci_high);
    assert!(l.significant && l.p_value < 0.05);
    assert!(l.chance_to_beat_control > 0.95, "chance to beat control {}", l.chance_to_beat_control);
    assert!(!e.srm.flagged, "an equal split is not a mismatch (p = {})", e.srm.p_value);
}

#[test]
fn aa_tests_are_significant_about_five_percent_of_the_time() {
    let (runs, mut tests, mut significant) = (200, 0, 0);
    for seed in 0..runs {
        let traffic = Traffic {
            arms: vec![ArmSpec::new("control", 1.0, 0.30, 0.10, 40.0), ArmSpec::new("twin", 1.0, 0.30, 0.10, 40.0)],
            max_exposures: 2,
            ..Traffic::ab(1_000, 1_000 + seed, 0.0)
        };
        let r = report_of(traffic.records(), &Options::default());
        for m in arm(&r, "recs-v2", "twin").metrics.values() {
            if let Some(l) = m.lift {
                tests += 1;
                significant += usize::from(l.significant);
            }
        }
    }
    let rate = significant as f64 / tests as f64;
    eprintln!("A/A: {significant} of {tests} tests significant ({:.1}%)", 100.0 * rate);
    assert!(tests >= 3 * runs as usize - 5, "almost every run is testable ({tests})");
    assert!((0.01..=0.10).contains(&rate), "{significant} of {tests} A/A tests significant ({:.1}%), expected about 5%", 100.0 * rate);
}

#[test]
fn a_45_55_split_is_a_sample_ratio_mismatch() {
    let skewed =
        Traffic { arms: vec![ArmSpec::new("control", 45.0, 0.05, 0.1, 40.0), ArmSpec::new("treatment", 55.0, 0.05, 0.1, 40.0)], ..Traffic::ab(10_000, 5, 0.0) };
    let r = report_of(skewed.records(), &Options::default());
    let e = &r.experiments[0];
    assert!(e.srm.flagged, "45/55 on 10,000 units against equal weights: p = {}", e.srm.p_value);
    assert!(e.srm.p_value < 0.001);
    // The same split, configured: no mismatch.
    let configured = Options { weights: [("recs-v2".to_string(), vec![("control".into(), 45.0), ("treatment".into(), 55.0)])].into(), ..Options::default() };
    let r = report_of(skewed.records(), &configured);
    assert!(!r.experiments[0].srm.flagged, "configured 45/55: p = {}", r.experiments[0].srm.p_value);
    assert_eq!(r.experiments[0].srm.weights, [0.45, 0.55]);
}

fn line(json: &str) -> String {
    format!("{json}\n")
}

fn write(dir: &Path, rel: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if rel.ends_with(".gz") {
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    } else {
        std::fs::write(&path, text).unwrap();
    }
    path
}

#[test]
fn messages_and_orders_count_once_with_the_servers_revenue() {
    let dir = tempfile::tempdir().unwrap();
    let seen = r#"{"messageId":"e1","event":"Experiment Viewed","ts":1000,"unit":"u1","source":"edge","experiment":"x","arm":"control"}"#;
    let seen_b = r#"{"messageId":"e2","event":"Experiment Viewed","ts":1000,"unit":"u2","source":"edge","experiment":"x","arm":"b"}"#;
    let later_b = r#"{"messageId":"e3","event":"Experiment Viewed","ts":1100,"unit":"u1","source":"edge","experiment":"x","arm":"b"}"#;
    let shown = r#"{"messageId":"p1","event":"Product List Viewed","ts":1001,"unit":"u1","source":"edge","placement":"recs","experiment":"x","arm":"control","items":["A"]}"#;
    let browser = r#"{"messageId":"o1b","event":"Order Completed","ts":2000,"unit":"u1","source":"browser","orderId":"o1","revenue":999.0,"items":["A"]}"#;
    let server = r#"{"messageId":"o1s","event":"Order Completed","ts":2005,"unit":"","source":"server","orderId":"o1","revenue":40.0}"#;
    // The same batch delivered twice (queues deliver at least once), in two files.
    let batch = [seen, seen_b, later_b, shown, browser].map(line).concat();
    write(dir.path(), "events/day=1970-01-01/a.jsonl.gz", &batch);
    write(dir.path(), "events/day=1970-01-01/b.jsonl", &(batch.clone() + &line(server) + &line(server)));
    let r = report::run(dir.path(), &Options::default()).unwrap();
    assert_eq!(r.input.files, 2);
    assert_eq!(r.input.duplicates, 6, "5 records of the second copy of the batch, 1 server copy");
    assert_eq!(r.input.records, 6);
    assert_eq!((r.input.order_records, r.input.orders, r.input.server_revenue_orders), (2, 1, 1));
    let control = arm(&r, "x", "control");
    assert_eq!((control.units, control.orders, control.revenue), (1, 1, 40.0), "the server's revenue, the browser's unit");
    assert_eq!(control.multiple_exposure_units, 1, "u1 saw b later: counted in control, reported");
    assert_eq!(arm(&r, "x", "b").units, 1);
    let recs = &r.placements[0];
    assert_eq!((recs.key.as_str(), recs.exposures, recs.orders_with_shown_item, recs.revenue), ("recs", 1, 1, 40.0));
    assert_eq!(r.daily.iter().map(|d| d.orders).sum::<u64>(), 1);
}

#[test]
fn bad_lines_are_named_and_skipped_and_valid_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let ok = |id: &str| format!(r#"{{"messageId":"{id}","event":"Product List Viewed","ts":5,"unit":"u","source":"edge","placement":"p"}}"#);
    let long = format!(r#"{{"messageId":"long","event":"x","ts":1,"unit":"u","source":"edge","placement":"{}"}}"#, "x".repeat(100_000));
    let text = [ok("a"), "{not json".into(), r#"{"messageId":"n","event":"Promotion Viewed","ts":1,"source":"edge"}"#.into(), long, String::new(), ok("b")]
        .map(|l| line(&l))
        .concat();
    let file = write(dir.path(), "day=2026-12-01/x.jsonl", &text);
    // A gzip cut short: its first lines count, the break is named.
    let gz_ok = [ok("c"), ok("d")].map(|l| line(&l)).concat();
    let gz = write(dir.path(), "day=2026-12-01/y.jsonl.gz", &(gz_ok + &ok("e").repeat(50)));
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() - 12]).unwrap();
    write(dir.path(), "day=2026-12-01/ignored.txt", "not a record file");

    let r = report::run(dir.path(), &Options::default()).unwrap();
    let named: Vec<String> = r.input.bad.iter().map(|b| b.to_string()).collect();
    let at = |n: u64| format!("{}:{n}: ", file.display());
    assert!(named[0].starts_with(&at(2)), "{named:?}");
    assert!(named[1].starts_with(&at(3)) && named[1].contains("unit"), "{named:?}");
    assert!(named[2].starts_with(&at(4)) && named[2].contains("longer than"), "{named:?}");
    assert!(named.iter().any(|b| b.starts_with(&gz.display().to_string())), "the broken gzip is named: {named:?}");
    let ids: Vec<&str> = r.placements.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(ids, ["p"]);
    assert!(r.input.records >= 4, "a, b, c, d kept: {}", r.input.records);
    assert_eq!(r.placements[0].exposures, r.input.records);

    // The CLI says the same, and still succeeds.
    let out = Command::new(env!("CARGO_BIN_EXE_model-builder")).arg("report").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(&format!("bad: {}:2: ", file.display())), "{stdout}");
}

#[test]
fn an_empty_folder_is_an_error_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_model-builder")).arg("report").arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no *.jsonl or *.jsonl.gz files"));
}

#[test]
fn the_html_page_holds_the_figures_and_nothing_external() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = Traffic { journey_share: 0.3, ..ten_percent_lift(3_000, 3) }.records();
    // A hostile arm name reaches the page escaped.
    records.push(Record {
        message_id: "evil".into(),
        event: "Experiment Viewed".into(),
        ts: records[0].ts,
        unit: "evil-unit".into(),
        source: "browser".into(),
        experiment: "recs-v2".into(),
        arm: "<script>alert(1)</script>".into(),
        ..Record::default()
    });
    write_export(dir.path(), &records, 1_000).unwrap();
    let page = dir.path().join("report.html");
    let out =
        Command::new(env!("CARGO_BIN_EXE_model-builder")).args(["report", "--json", "--html"]).arg(&page).arg(dir.path().join("events")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let days = json["daily"].as_array().unwrap().len();
    let html = std::fs::read_to_string(&page).unwrap();
    for figure in [
        r#"data-metric="lift" data-experiment="recs-v2" data-arm="treatment" data-name="conversion""#,
        r#"data-metric="srm" data-experiment="recs-v2""#,
        r#"data-metric="funnel" data-journey="cart-recovery" data-channel="email""#,
        r#"data-metric="daily" data-name="orders""#,
        r#"data-metric="attribution" data-placement="home_recs""#,
    ] {
        assert!(html.contains(figure), "the page lacks {figure}");
    }
    assert!(html.matches("<circle").count() >= 3 * days, "a point per day per trend");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script"), "record strings are escaped");
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src="), "self-contained");
}

#[test]
fn from_and_to_keep_their_days_and_bad_flags_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // 2026-12-01 00:00 UTC and the next two days, one exposure each.
    let day0 = 1_764_547_200 + 365 * 86_400;
    let text: String = (0..3)
        .map(|d| {
            line(&format!(
                r#"{{"messageId":"m{d}","event":"Promotion Viewed","ts":{},"unit":"u","source":"edge","placement":"hero"}}"#,
                day0 + d * 86_400 + 3_600
            ))
        })
        .collect();
    write(dir.path(), "events/day=2026-12-01/a.jsonl", &text);
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_model-builder")).arg("report").arg(dir.path()).args(args).output().unwrap();
    let out = run(&["--json", "--from", "2026-12-02", "--to", "2026-12-02"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((json["input"]["records"].as_u64(), json["input"]["outOfRange"].as_u64()), (Some(1), Some(2)));
    assert_eq!(json["daily"][0]["day"], "2026-12-02");
    for (args, says) in [(&["--from", "12/02/2026"][..], "expected YYYY-MM-DD"), (&["--weights", "x=control"][..], "EXPERIMENT=ARM:WEIGHT")] {
        let out = run(args);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
