//! The predictive models through the CLI: `eval --predict --json` on the UCI export (BG/NBD
//! beats the naive rate), the build's fits and the predicted traits in the private profiles
//! (never the bundle), too little data fitting nothing and saying so, `[predict]` checked.

mod common;

use common::*;
use serde_json::Value;

fn eval_predict(extra: &[&str]) -> Run {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"eval", &"--predict", &"--config", &UCI_CONFIG, &"--orders", &UCI_ORDERS];
    args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
    run(&args)
}

#[test]
fn eval_predict_json_on_uci_beats_the_naive_rate() {
    let r = eval_predict(&["--json"]);
    r.ok();
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["holdout_days"], 182);
    assert!(v["fits"]["bgnbd"]["Ok"]["log_likelihood"].as_f64().unwrap() < 0.0);
    assert!(v["fits"]["gamma_gamma"]["Ok"]["customers"].as_u64().unwrap() > 1000);
    let (model, naive) = (&v["model"], &v["naive"]);
    assert!(model["mae"].as_f64().unwrap() < naive["mae"].as_f64().unwrap(), "BG/NBD {model} naive {naive}");
    assert_eq!(model["deciles"].as_array().unwrap().len(), 10);
    assert_eq!(model["total_actual"], naive["total_actual"]);
    // Ranked by prediction: the top decile expects (and makes) more purchases than the bottom.
    let d = model["deciles"].as_array().unwrap();
    assert!(d[9]["mean_actual"].as_f64().unwrap() > 3.0 * d[0]["mean_actual"].as_f64().unwrap());
}

#[test]
fn eval_predict_refuses_bad_parameters_and_holdouts() {
    let r = eval_predict(&["--bgnbd", "1,2,3"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("--bgnbd") && r.stderr.contains("4 positive numbers"), "{}", r.stderr);
    let r = eval_predict(&["--gamma-gamma", "1,-2,3"]);
    assert!(r.code != 0 && r.stderr.contains("--gamma-gamma"), "{}", r.stderr);
    let r = eval_predict(&["--holdout-days", "5000"]);
    assert!(r.code != 0 && r.stderr.contains("--holdout-days 5000"), "{}", r.stderr);
}

#[test]
fn uci_profiles_carry_predicted_traits_and_the_bundle_no_customer_data() {
    let dir = Fixture::new();
    let (bundle, profiles) = (dir.path("b.bin"), dir.path("profiles.jsonl"));
    let r = run(&[&"build", &"--config", &UCI_CONFIG, &"--orders", &UCI_ORDERS, &"--out", &bundle, &"--profiles", &profiles, &"--json"]);
    r.ok();
    let summary: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(summary["predict"]["bgnbd"]["Ok"]["converged"].as_bool().unwrap());
    let lines: Vec<Value> = std::fs::read_to_string(&profiles).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (mut with_next, mut with_clv, mut lowest) = (0, 0, 1.0f64);
    for p in &lines {
        let p_alive = p["p_alive"].as_f64().unwrap_or_else(|| panic!("no p_alive: {p}"));
        assert!((0.0..=1.0).contains(&p_alive));
        let e: Vec<f64> = ["expected_orders_30", "expected_orders_90", "expected_orders_365"].iter().map(|k| p[k].as_f64().unwrap()).collect();
        assert!(e[0] <= e[1] && e[1] <= e[2], "{p}");
        let risk = p["churn_risk"].as_str().unwrap();
        assert!(["low", "medium", "high"].contains(&risk));
        lowest = lowest.min(p_alive);
        assert_eq!(
            risk,
            if p_alive < 0.3 {
                "high"
            } else if p_alive < 0.7 {
                "medium"
            } else {
                "low"
            },
            "{p}"
        );
        if let Some(day) = p.get("expected_next_order") {
            let day = day.as_str().unwrap();
            assert!(day.len() == 10 && day.as_bytes()[4] == b'-' && day > "2011-12-09", "{day}");
            with_next += 1;
        }
        if let Some(clv) = p.get("clv") {
            assert!(clv.as_f64().unwrap() >= 0.0);
            with_clv += 1;
        }
    }
    // On this wholesale log BG/NBD (lifetimes' fit too) finds almost no dropout (a ≈ 0.003):
    // p_alive stays high for everyone, but not equal.
    assert!(with_next > 100 && with_clv > 1000 && lowest < 0.9, "next {with_next}, clv {with_clv}, lowest p_alive {lowest}");
    let bytes = std::fs::read(&bundle).unwrap();
    the_edge_scores_each_line_as_the_build_did(&bytes, &lines);
    // `inspect` shows what the edge scores an order with.
    let inspected: Value = serde_json::from_str(&run(&[&"inspect", &bundle, &"--json"]).stdout).unwrap();
    let model = &inspected["customer_model"];
    assert_eq!(model["bgnbd"]["r"], summary["predict"]["bgnbd"]["Ok"]["parameters"][0][1], "{model}");
    assert_eq!(model["frequency_edges_orders"], serde_json::json!([1.0, 2.0, 3.0, 5.0]));
    assert!(model["gamma_gamma"]["v"].as_f64().unwrap() > 0.0);
    assert_eq!(model["bgnbd_fit"]["log_likelihood"], summary["predict"]["bgnbd"]["Ok"]["log_likelihood"]);
    assert_eq!(model["gamma_gamma_fit"]["converged"], summary["predict"]["gamma_gamma"]["Ok"]["converged"]);
    for private in [&b"p_alive"[..], b"churn_risk", b"expected_next_order", b"17850", b"12347"] {
        assert!(!bytes.windows(private.len()).any(|w| w == private), "the bundle holds {:?}", String::from_utf8_lossy(private));
    }
}

#[test]
fn too_few_customers_fit_nothing_and_say_why() {
    let dir = Fixture::new();
    let config = dir.write("vitrine.toml", MINIMAL_CONFIG);
    let orders = dir.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let profiles = dir.path("profiles.jsonl");
    let r = run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &dir.path("b.bin"), &"--profiles", &profiles]);
    r.ok();
    assert!(r.stdout.contains("BG/NBD         not fitted: 2 customers") && r.stdout.contains("no predicted traits in the profiles"), "{}", r.stdout);
    let text = std::fs::read_to_string(&profiles).unwrap();
    assert!(!text.contains("p_alive") && !text.contains("churn_risk"), "{text}");
}

#[test]
fn predict_config_is_checked_by_key() {
    let dir = Fixture::new();
    let orders = dir.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = dir.write("vitrine.toml", format!("{MINIMAL_CONFIG}[predict]\nchurn_high_below = 0.9\nchurn_medium_below = 0.5\n"));
    let (r, _) = dir.build_json(&config, &orders);
    assert!(r.code != 0 && r.stderr.contains("vitrine.toml:4:20: predict.churn_high_below: must not exceed churn_medium_below"), "{}", r.stderr);
    // `validate` says the same, before any data is read.
    let v = run(&[&"validate", &config]);
    assert!(v.code == 1 && v.stderr.contains("predict.churn_high_below: must not exceed"), "{}", v.stderr);
    let config = dir.write("vitrine.toml", format!("{MINIMAL_CONFIG}[predict]\nhorizon = 30\n"));
    let (r, _) = dir.build_json(&config, &orders);
    assert!(r.code != 0 && r.stderr.contains("horizon"), "{}", r.stderr);
}

/// What the edge re-scores a customer from when their order comes (the line's figures and the
/// bundle's customer model, `vitrine_engine::rfm`) gives, with no new order, what the build
/// wrote: one scoring, one model, wherever it runs.
fn the_edge_scores_each_line_as_the_build_did(bundle: &[u8], lines: &[Value]) {
    use vitrine_engine::civil::{parse_day_unix, DAY_SECS};
    use vitrine_engine::rfm::History;
    let body = vitrine_engine::bundle::decode(bundle).unwrap().body;
    let model = body.stats.customer_model.as_ref().expect("the build's customer model");
    assert!(model.bgnbd.is_some() && model.gamma_gamma.is_some(), "the fits travel with the bundle");
    let end_day = body.stats.data_end.div_euclid(DAY_SECS);
    let day = |p: &Value, k: &str| parse_day_unix(p[k].as_str().unwrap()).unwrap() / DAY_SECS;
    for p in lines {
        let h = History {
            orders: p["frequency"].as_u64().unwrap() as u32,
            monetary: p["monetary"].as_f64().unwrap(),
            first_day: day(p, "first_order"),
            last_day: day(p, "last_order"),
            purchase_days: Some(p["purchase_days"].as_u64().unwrap() as u32),
            repeat_spend: p["repeat_spend"].as_f64().unwrap(),
        };
        let (scores, traits) = model.rescore(&h, end_day);
        let traits = traits.unwrap().rounded();
        assert_eq!(
            (u64::from(scores.r), u64::from(scores.f), u64::from(scores.m), scores.segment.name()),
            (p["r"].as_u64().unwrap(), p["f"].as_u64().unwrap(), p["m"].as_u64().unwrap(), p["segment"].as_str().unwrap()),
            "{p}"
        );
        assert_eq!(p["recency_days"].as_i64().unwrap(), end_day + 1 - h.last_day, "{p}");
        let e = [traits.p_alive, traits.expected_orders_30, traits.expected_orders_90, traits.expected_orders_365];
        let want = ["p_alive", "expected_orders_30", "expected_orders_90", "expected_orders_365"].map(|k| p[k].as_f64().unwrap());
        assert_eq!(e, want, "{p}");
        assert_eq!(traits.churn_risk.name(), p["churn_risk"].as_str().unwrap(), "{p}");
        let next = traits.next_order_day(end_day).map(|d| vitrine_engine::civil::day_string(d * DAY_SECS));
        assert_eq!(next.as_deref(), p.get("expected_next_order").and_then(Value::as_str), "{p}");
        // The line keeps repeat spend in cents: the value of a purchase moves by far less than one.
        match (traits.clv, p.get("clv").and_then(Value::as_f64)) {
            (Some(ours), Some(theirs)) => assert!((ours - theirs).abs() <= 0.011 + theirs.abs() * 1e-6, "{ours} vs {p}"),
            (ours, theirs) => assert_eq!(ours, theirs, "{p}"),
        }
    }
}
