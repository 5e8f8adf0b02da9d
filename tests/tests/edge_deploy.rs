//! The CDN deployment builds without an account: `wrangler deploy --dry-run --outdir …` with the
//! repository's wrangler.toml (its [build] command, bindings, migrations and assets).
//! Run: `cargo test -p vitrine-tests --test edge_deploy`.

use vitrine_edge::limits::{Limiter, PERIOD_SECS};
use vitrine_tests::stack::{build_worker, tool};
use vitrine_tests::{cases, harness};

fn main() -> std::process::ExitCode {
    harness::run(
        "edge_deploy",
        build_worker,
        cases![wrangler_deploy_dry_run_succeeds, production_has_every_binding_and_no_dev_switch, every_environment_has_the_rate_limits_the_worker_calls],
    )
}

/// `[env.production]` inherits nothing: every binding is declared again, and the dev switches
/// (debug headers, fixed clock, message logs, the demo visitor picker) are off. A production
/// deploy with either on fails here first.
fn production_has_every_binding_and_no_dev_switch(_: &()) {
    let text = std::fs::read_to_string(vitrine_tests::stack::repo_root().join("wrangler.toml")).unwrap();
    let config: toml::Table = text.parse().expect("wrangler.toml parses");
    let prod = config["env"]["production"].as_table().expect("[env.production]");
    let vars = prod["vars"].as_table().expect("[env.production.vars]");
    for switch in ["DEV_MODE", "DEMO_PICKER"] {
        let on = vars.get(switch).and_then(|v| v.as_str()).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        assert!(!on, "{switch} is on in [env.production.vars]");
    }
    for table in ["kv_namespaces", "durable_objects", "queues", "r2_buckets"] {
        assert!(prod.contains_key(table), "[env.production] declares its own {table}");
    }
    // The measurement key is a secret in production: a value here would be public (and the
    // worker records nothing without one).
    assert!(
        !vars.contains_key("MEASUREMENT_KEY"),
        "MEASUREMENT_KEY is a secret in production (wrangler secret put MEASUREMENT_KEY --env production), never a var"
    );
    let queues = prod["queues"].as_table().expect("[env.production.queues]");
    let consumed: Vec<&str> = queues["consumers"].as_array().expect("queue consumers").iter().filter_map(|c| c["queue"].as_str()).collect();
    let produced: Vec<&str> = queues["producers"].as_array().expect("queue producers").iter().filter_map(|p| p["queue"].as_str()).collect();
    for q in &produced {
        assert!(consumed.contains(q), "production consumes the queue it produces to ({q})");
        assert!(consumed.contains(&format!("{q}{}", vitrine_edge::measure::DEAD_QUEUE_SUFFIX).as_str()), "and its dead-letter queue");
    }
    let out_dir = std::env::temp_dir().join(format!("vitrine-deploy-prod-{}", std::process::id()));
    let out = tool("wrangler").args(["deploy", "--dry-run", "--env", "production", "--outdir"]).arg(&out_dir).output().expect("wrangler runs");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "wrangler deploy --dry-run --env production failed:\n{log}");
    for binding in
        ["BUNDLES", "PROFILES", "VISITORS", "ASSETS", "ORIGIN_URL", "LIMIT_CLIENT", "LIMIT_VISITOR", "LIMIT_CONTACT", "MEASURE_QUEUE", "MEASURE_BUCKET"]
    {
        assert!(log.contains(binding), "the production dry run lists binding {binding}:\n{log}");
    }
    assert!(!log.contains("DEV_MODE: \"1\"") && !log.contains("DEMO_PICKER: \"1\""), "{log}");
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// Limits before work: the top level and `[env.production]` (which inherits no bindings) each
/// declare every rate-limit binding the worker calls, with the period its `Retry-After` says,
/// a positive limit, and namespaces of their own (two bindings sharing one share counters).
fn every_environment_has_the_rate_limits_the_worker_calls(_: &()) {
    let text = std::fs::read_to_string(vitrine_tests::stack::repo_root().join("wrangler.toml")).unwrap();
    let config: toml::Table = text.parse().expect("wrangler.toml parses");
    let mut namespaces = Vec::new();
    for (env, table) in [("top level", &config), ("[env.production]", config["env"]["production"].as_table().unwrap())] {
        let limits = table.get("ratelimits").and_then(|l| l.as_array()).unwrap_or_else(|| panic!("{env}: no [[ratelimits]]"));
        for limiter in Limiter::ALL {
            let b =
                limits.iter().find(|b| b["name"].as_str() == Some(limiter.binding())).unwrap_or_else(|| panic!("{env}: no rate limit {}", limiter.binding()));
            assert_eq!(b["simple"]["period"].as_integer(), Some(i64::from(PERIOD_SECS)), "{env} {}: period", limiter.binding());
            assert!(b["simple"]["limit"].as_integer().is_some_and(|l| l > 0), "{env} {}: limit", limiter.binding());
            let ns = b["namespace_id"].as_str().expect("namespace_id is a string");
            assert!(ns.parse::<u64>().is_ok_and(|n| n > 0), "{env} {}: namespace_id {ns:?} is a positive integer", limiter.binding());
            assert!(!namespaces.contains(&ns.to_string()), "{env} {}: namespace {ns} is used twice", limiter.binding());
            namespaces.push(ns.to_string());
        }
    }
}

fn wrangler_deploy_dry_run_succeeds(_: &()) {
    let out_dir = std::env::temp_dir().join(format!("vitrine-deploy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = tool("wrangler").args(["deploy", "--dry-run", "--outdir"]).arg(&out_dir).output().expect("wrangler runs");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "wrangler deploy --dry-run failed:\n{log}");
    for binding in ["BUNDLES", "PROFILES", "VISITORS", "ASSETS", "ORIGIN_URL", "MEASURE_QUEUE", "MEASURE_BUCKET"] {
        assert!(log.contains(binding), "dry run lists binding {binding}:\n{log}");
    }
    let files: Vec<String> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(files.iter().any(|f| f.ends_with(".wasm")), "the worker's wasm is in the upload: {files:?}");
    let _ = std::fs::remove_dir_all(&out_dir);
}
