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
        cases![
            wrangler_deploy_dry_run_succeeds,
            production_has_every_binding_and_no_dev_switch,
            staging_has_every_binding_and_no_dev_switch,
            staging_shares_nothing_with_production,
            every_environment_has_the_rate_limits_the_worker_calls
        ],
    )
}

fn wrangler_toml() -> toml::Table {
    let text = std::fs::read_to_string(vitrine_tests::stack::repo_root().join("wrangler.toml")).unwrap();
    text.parse().expect("wrangler.toml parses")
}

/// `[env.<name>]` of wrangler.toml.
fn environment(config: &toml::Table, name: &str) -> toml::Table {
    config.get("env").and_then(|e| e.get(name)).and_then(toml::Value::as_table).unwrap_or_else(|| panic!("no [env.{name}] in wrangler.toml")).clone()
}

/// `[env.production]` inherits nothing: every binding is declared again, and the dev switches
/// (debug headers, fixed clock, message logs, the demo visitor picker) are off. A production
/// deploy with either on fails here first.
fn production_has_every_binding_and_no_dev_switch(_: &()) {
    deployable_without_dev_switches("production");
}

/// Staging is deployed like production (`--env staging`), so the same holds for it.
fn staging_has_every_binding_and_no_dev_switch(_: &()) {
    deployable_without_dev_switches("staging");
}

/// What a deployed environment must be: its own bindings, the dev switches off, secrets not in
/// its vars, the queue it produces to consumed (with its dead-letter queue), and a dry run
/// that lists every binding.
fn deployable_without_dev_switches(name: &str) {
    let env = environment(&wrangler_toml(), name);
    let vars = env["vars"].as_table().unwrap_or_else(|| panic!("[env.{name}.vars]"));
    for switch in ["DEV_MODE", "DEMO_PICKER"] {
        let on = vars.get(switch).and_then(|v| v.as_str()).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        assert!(!on, "{switch} is on in [env.{name}.vars]");
    }
    for table in ["kv_namespaces", "durable_objects", "queues", "r2_buckets"] {
        assert!(env.contains_key(table), "[env.{name}] declares its own {table}");
    }
    // The measurement key is a secret in a deployed worker: a value here would be public (and
    // the worker records nothing without one).
    assert!(!vars.contains_key("MEASUREMENT_KEY"), "MEASUREMENT_KEY is a secret in {name} (wrangler secret put MEASUREMENT_KEY --env {name}), never a var");
    let queues = env["queues"].as_table().unwrap_or_else(|| panic!("[env.{name}.queues]"));
    let consumed: Vec<&str> = queues["consumers"].as_array().expect("queue consumers").iter().filter_map(|c| c["queue"].as_str()).collect();
    let produced: Vec<&str> = queues["producers"].as_array().expect("queue producers").iter().filter_map(|p| p["queue"].as_str()).collect();
    for q in &produced {
        assert!(consumed.contains(q), "{name} consumes the queue it produces to ({q})");
        assert!(consumed.contains(&format!("{q}{}", vitrine_edge::measure::DEAD_QUEUE_SUFFIX).as_str()), "{name}: and its dead-letter queue");
    }
    let out_dir = std::env::temp_dir().join(format!("vitrine-deploy-{name}-{}", std::process::id()));
    let out = tool("wrangler").args(["deploy", "--dry-run", "--env", name, "--outdir"]).arg(&out_dir).output().expect("wrangler runs");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "wrangler deploy --dry-run --env {name} failed:\n{log}");
    for binding in
        ["BUNDLES", "PROFILES", "VISITORS", "ASSETS", "ORIGIN_URL", "LIMIT_CLIENT", "LIMIT_VISITOR", "LIMIT_CONTACT", "MEASURE_QUEUE", "MEASURE_BUCKET"]
    {
        assert!(log.contains(binding), "the {name} dry run lists binding {binding}:\n{log}");
    }
    assert!(!log.contains("DEV_MODE: \"1\"") && !log.contains("DEMO_PICKER: \"1\""), "{log}");
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// A staging deploy must never write production's data: its worker (and with it its Durable
/// Objects), KV namespaces, queues and bucket all have names or ids of their own.
fn staging_shares_nothing_with_production(_: &()) {
    let config = wrangler_toml();
    let (prod, staging) = (environment(&config, "production"), environment(&config, "staging"));
    assert_ne!(staging["name"].as_str(), prod["name"].as_str(), "staging's worker name");
    let kv_ids =
        |env: &toml::Table| -> Vec<String> { env["kv_namespaces"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect() };
    for id in kv_ids(&staging) {
        assert!(!kv_ids(&prod).contains(&id), "staging's KV namespace {id} is production's too");
    }
    let queue_names = |env: &toml::Table| -> Vec<String> {
        let q = env["queues"].as_table().unwrap();
        q["producers"].as_array().unwrap().iter().chain(q["consumers"].as_array().unwrap()).map(|b| b["queue"].as_str().unwrap().to_string()).collect()
    };
    for q in queue_names(&staging) {
        assert!(!queue_names(&prod).contains(&q), "staging's queue {q} is production's too");
    }
    let bucket = |env: &toml::Table| env["r2_buckets"].as_array().unwrap()[0]["bucket_name"].as_str().unwrap().to_string();
    assert_ne!(bucket(&staging), bucket(&prod), "staging's R2 bucket");
}

/// Limits before work: the top level, `[env.production]` and `[env.staging]` (which inherit no
/// bindings) each declare every rate-limit binding the worker calls, with the period its
/// `Retry-After` says, a positive limit, and namespaces of their own (two bindings sharing one
/// share counters).
fn every_environment_has_the_rate_limits_the_worker_calls(_: &()) {
    let config = wrangler_toml();
    let mut namespaces = Vec::new();
    let (production, staging) = (environment(&config, "production"), environment(&config, "staging"));
    for (env, table) in [("top level", &config), ("[env.production]", &production), ("[env.staging]", &staging)] {
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
