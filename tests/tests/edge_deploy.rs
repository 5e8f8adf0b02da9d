//! The CDN deployment builds without an account: `wrangler deploy --dry-run --outdir …` with the
//! repository's wrangler.toml (its [build] command, bindings, migrations and assets).
//! Run: `cargo test -p vitrine-tests --test edge_deploy`.

use vitrine_tests::stack::{build_worker, tool};
use vitrine_tests::{cases, harness};

fn main() -> std::process::ExitCode {
    harness::run("edge_deploy", build_worker, cases![wrangler_deploy_dry_run_succeeds])
}

fn wrangler_deploy_dry_run_succeeds(_: &()) {
    let out_dir = std::env::temp_dir().join(format!("vitrine-deploy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = tool("wrangler").args(["deploy", "--dry-run", "--outdir"]).arg(&out_dir).output().expect("wrangler runs");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "wrangler deploy --dry-run failed:\n{log}");
    for binding in ["BUNDLES", "PROFILES", "VISITORS", "ASSETS", "ORIGIN_URL"] {
        assert!(log.contains(binding), "dry run lists binding {binding}:\n{log}");
    }
    let files: Vec<String> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(files.iter().any(|f| f.ends_with(".wasm")), "the worker's wasm is in the upload: {files:?}");
    let _ = std::fs::remove_dir_all(&out_dir);
}
