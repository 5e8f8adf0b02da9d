//! Prepares what the edge reads from Workers KV (layout: `vitrine_edge::kv`), for
//! `wrangler kv bulk put` / `bulk delete` (scripts/publish-bundle.sh, scripts/load-profiles.sh):
//!
//! ```text
//! vitrine-kv version  <bundle.bin>                    check a bundle as the worker will; print its version
//! vitrine-kv bundle   <bundle.bin> <out.json> [--current [--previous V]]
//!                                                     entries for namespace BUNDLES
//! vitrine-kv same     <a.bin> <b.bin>                 `same` when the two hold the same content (only
//!                                                     build id and time differ), else `different`
//! vitrine-kv profiles <profiles.jsonl> <out.json>     entries for namespace PROFILES (+ personas)
//!            [--erased IDS]                           leave out these customers (one id a line,
//!                                                     `scripts/privacy.sh erased`)
//!            [--since MANIFEST --deletes DEL.json]    incremental: out.json holds only the new and
//!                                                     changed entries, DEL.json the keys MANIFEST
//!                                                     (the last load's) has and this file has not
//!            [--manifest NEW]                         the manifest of this load, to keep once the
//!                                                     puts and deletes are done
//! vitrine-kv --version                                this tool's version (the workspace's)
//! ```
//!
//! `profiles` prints `put N delete N unchanged N` on stdout (for the script) and a summary on
//! stderr. A manifest is `<hash> <key>` a line (`kv::Manifest`): hashes of the values, never
//! the profiles themselves. Every file read has a size limit (`kv::MAX_*_FILE_BYTES`).

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

/// A text file of at most `max` bytes, refused before it is read when larger.
fn read_text(path: &str, max: u64) -> Result<String, String> {
    let len = std::fs::metadata(path).map_err(|e| format!("{path}: {e}"))?.len();
    if len > max {
        return Err(format!("{path}: {len} bytes, over the {max} this tool reads"));
    }
    String::from_utf8(read(path)?).map_err(|e| format!("{path}: not UTF-8: {e}"))
}

fn write(path: &str, data: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("{path}: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    let arg =
        |i: usize, what: &str| args.get(i).map(String::as_str).ok_or_else(|| format!("missing {what} (usage: vitrine-kv version|bundle|same|profiles …)"));
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
        Some("same") => {
            let (a, b) = (arg(1, "bundle file")?, arg(2, "other bundle file")?);
            println!("{}", if kv::same_content(&read(a)?, &read(b)?) { "same" } else { "different" });
            Ok(())
        }
        Some("profiles") => {
            let profiles = arg(1, "profiles file")?;
            let out = arg(2, "output file")?;
            let erased = match option("--erased") {
                Some(path) => kv::erased_ids(&read_text(path, kv::MAX_ERASED_FILE_BYTES)?),
                None => Default::default(),
            };
            let since = match (option("--since"), option("--deletes")) {
                (Some(path), Some(_)) => Some(kv::Manifest::parse(&read_text(path, kv::MAX_MANIFEST_FILE_BYTES)?, path)?),
                (Some(_), None) => return Err("--since needs --deletes FILE (the keys to delete)".into()),
                (None, _) => None,
            };
            let load = kv::read_profiles(&read_text(profiles, kv::MAX_PROFILES_FILE_BYTES)?, &erased).map_err(|e| format!("{profiles}: {e}"))?;
            let changes = kv::profile_changes(load.entries, since.as_ref());
            eprintln!(
                "{} profiles, {} personas{}; {} to put, {} to delete, {} unchanged{}",
                load.profiles,
                load.personas,
                if load.erased > 0 { format!(" ({} erased customers left out)", load.erased) } else { String::new() },
                changes.put.len(),
                changes.delete.len(),
                changes.unchanged,
                if since.is_some() { "" } else { " (no manifest: everything)" },
            );
            write(out, kv::to_bulk_json(&changes.put))?;
            if let Some(path) = option("--deletes") {
                write(path, kv::to_bulk_delete_json(&changes.delete))?;
            }
            if let Some(path) = option("--manifest") {
                write(path, changes.manifest.to_text())?;
            }
            println!("put {} delete {} unchanged {}", changes.put.len(), changes.delete.len(), changes.unchanged);
            Ok(())
        }
        _ => Err("usage: vitrine-kv version|bundle|same|profiles … | --version (see edge/src/bin/vitrine-kv.rs)".into()),
    }
}
