//! Prepares what the edge reads from Workers KV (layout: `vitrine_edge::kv`), for
//! `wrangler kv bulk put` (scripts/publish-bundle.sh, scripts/load-profiles.sh):
//!
//! ```text
//! vitrine-kv version  <bundle.bin>                    check a bundle as the worker will; print its version
//! vitrine-kv bundle   <bundle.bin> <out.json> [--current [--previous V]]
//!                                                     entries for namespace BUNDLES
//! vitrine-kv profiles <profiles.jsonl> <out.json>     entries for namespace PROFILES (+ personas)
//! vitrine-kv --version                                this tool's version (the workspace's)
//! ```

use std::process::ExitCode;

use vitrine_edge::kv;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vitrine-kv: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

fn write(path: &str, data: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("{path}: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    let arg = |i: usize, what: &str| args.get(i).map(String::as_str).ok_or_else(|| format!("missing {what} (usage: vitrine-kv version|bundle|profiles …)"));
    let flag = |name: &str| args.iter().any(|a| a == name);
    let option = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str);
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            println!("vitrine-kv {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("version") => {
            let bundle = arg(1, "bundle file")?;
            println!("{}", kv::bundle_version(&read(bundle)?).map_err(|e| format!("{bundle}: {e}"))?);
            Ok(())
        }
        Some("bundle") => {
            let bundle = arg(1, "bundle file")?;
            let entries = kv::bundle_entries(&read(bundle)?, flag("--current"), option("--previous")).map_err(|e| format!("{bundle}: {e}"))?;
            write(arg(2, "output file")?, kv::to_bulk_json(&entries))
        }
        Some("profiles") => {
            let profiles = arg(1, "profiles file")?;
            let text = String::from_utf8(read(profiles)?).map_err(|e| format!("{profiles}: {e}"))?;
            let entries = kv::profile_entries(&text).map_err(|e| format!("{profiles}: {e}"))?;
            let personas = entries.iter().filter(|e| e.key.starts_with(kv::PERSONA_PREFIX)).count();
            eprintln!("{} profiles, {personas} personas", entries.len() - personas);
            write(arg(2, "output file")?, kv::to_bulk_json(&entries))
        }
        _ => Err("usage: vitrine-kv version|bundle|profiles … | --version (see edge/src/bin/vitrine-kv.rs)".into()),
    }
}
