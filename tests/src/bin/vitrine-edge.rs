//! The demo store and the test fixture (publishing to KV is `vitrine-kv`, in edge/):
//!
//! ```text
//! vitrine-edge store    <bundle.bin> <out dir> [--profiles P]   generate the demo storefront
//!                                                     (its login page offers P's personas)
//! vitrine-edge serve    <dir> [port]                  serve a folder as the origin (default 8788);
//!                                                     with env IDENTITY_SECRET it signs logins,
//!                                                     with env ORIGIN_DELAY_MS it answers that late
//! vitrine-edge fixture  <out.bin> [build] [--profiles out.jsonl]
//!                                                     the end-to-end tests' bundle (benchmarks, debugging)
//! vitrine-edge traffic  <worker url> --placement P [--page /] [--visitors 2000] [--seed 1]
//!                       [--rate 0.05] [--lift ARM=0.10]… [--write-key K]
//!                                                     visitors and orders with a known true lift
//!                                                     (src/traffic.rs), for the report
//! vitrine-edge --version                              this tool's version (the workspace's)
//! ```

use std::path::Path;
use std::process::ExitCode;

use vitrine_engine::Engine;
use vitrine_tests::origin::{Login, Origin};
use vitrine_tests::{demo_store, fixture};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vitrine-edge: {e}");
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
    let arg = |i: usize, what: &str| args.get(i).map(String::as_str).ok_or_else(|| format!("missing {what} (see the usage in src/bin/vitrine-edge.rs)"));
    let option = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str);
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            println!("vitrine-edge {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("store") => {
            let bundle = arg(1, "bundle file")?;
            let engine = Engine::load(&read(bundle)?).map_err(|e| format!("{bundle}: {e}"))?;
            let out = arg(2, "output folder")?;
            let accounts = match option("--profiles") {
                Some(p) => demo_store::demo_accounts(&String::from_utf8(read(p)?).map_err(|e| format!("{p}: {e}"))?).map_err(|e| format!("{p}: {e}"))?,
                None => Vec::new(),
            };
            let w = demo_store::generate(&engine, Path::new(out), &accounts).map_err(|e| format!("{out}: {e}"))?;
            println!(
                "demo store: {} pages in {out} (home {}, product {}, category {}, cart {})",
                w.pages,
                w.home,
                w.product.unwrap_or_default(),
                w.category.unwrap_or_default(),
                w.cart
            );
            Ok(())
        }
        Some("serve") => {
            let dir = arg(1, "folder")?;
            let port = args.get(2).map(|p| p.parse::<u16>().map_err(|e| format!("port {p}: {e}"))).transpose()?.unwrap_or(8788);
            // The demo's backend signs logins with the worker's IDENTITY_SECRET (<kid>:<secret>).
            let login = std::env::var("IDENTITY_SECRET").ok().and_then(|v| Login::parse(&v));
            let signs = if login.is_some() { ", signing in at /account/login" } else { "" };
            // ORIGIN_DELAY_MS: each answer that late, as a distant origin (scripts/bench-edge.sh).
            let delay = std::env::var("ORIGIN_DELAY_MS").ok().and_then(|v| v.parse().ok()).map_or(std::time::Duration::ZERO, std::time::Duration::from_millis);
            let origin = Origin::start_slow(Path::new(dir), port, login, delay).map_err(|e| format!("127.0.0.1:{port}: {e}"))?;
            println!("origin: serving {dir} at {}{signs}", origin.url());
            loop {
                std::thread::park();
            }
        }
        Some("fixture") => {
            let build = args.get(2).filter(|a| !a.starts_with("--")).map(|b| b.parse::<u8>().map_err(|e| format!("build {b}: {e}"))).transpose()?.unwrap_or(1);
            write(arg(1, "output file")?, fixture::bundle_bytes(build))?;
            if let Some(p) = option("--profiles") {
                write(p, fixture::PROFILES_JSONL)?;
            }
            println!("{}", fixture::version(build));
            Ok(())
        }
        Some("traffic") => {
            let url = arg(1, "worker url")?;
            let number = |name: &str, default: f64| option(name).map_or(Ok(default), |v| v.parse::<f64>().map_err(|e| format!("{name} {v}: {e}")));
            let lifts = args
                .windows(2)
                .filter(|w| w[0] == "--lift")
                .map(|w| {
                    let (arm, lift) = w[1].split_once('=').ok_or_else(|| format!("--lift {}: expected ARM=LIFT, e.g. blend=0.10", w[1]))?;
                    Ok((arm.to_string(), lift.parse::<f64>().map_err(|e| format!("--lift {}: {e}", w[1]))?))
                })
                .collect::<Result<Vec<_>, String>>()?;
            let plan = vitrine_tests::traffic::Plan {
                visitors: number("--visitors", 2000.0)? as u32,
                seed: number("--seed", 1.0)? as u64,
                page: option("--page").unwrap_or("/").into(),
                placement: option("--placement").ok_or("missing --placement (the experiment's placement)")?.into(),
                rate: number("--rate", 0.05)?,
                lifts,
                revenue: (10.0, 60.0),
                browser_copy: 0.5,
            };
            let key = option("--write-key")
                .map(String::from)
                .or_else(|| std::env::var("VITRINE_WRITE_KEY").ok())
                .ok_or("missing --write-key (or VITRINE_WRITE_KEY): the backend's orders need it")?;
            let sent = vitrine_tests::traffic::run(url, &plan, &key);
            for (arm, (visitors, orders)) in &sent.per_arm {
                println!("traffic: arm {arm}: {visitors} visitors, {orders} orders (true rate {:.4})", plan.rate_of(arm));
            }
            if sent.failures > 0 {
                println!("traffic: {} requests failed", sent.failures);
            }
            Ok(())
        }
        _ => Err("usage: vitrine-edge store|serve|fixture|traffic … | --version (see src/bin/vitrine-edge.rs)".into()),
    }
}
