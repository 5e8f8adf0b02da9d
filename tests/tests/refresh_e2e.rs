//! The nightly refresh for real (#20): `scripts/refresh.sh` builds a tiny store with
//! model-builder, publishes the bundle and loads the profiles into local KV (wrangler `--local
//! --persist-to`), then KV is read back through wrangler. A second night's exports drop one
//! customer, change another and add a third, while a fourth was erased by a privacy request
//! and the edge wrote a profile of its own: KV ends up holding exactly the new build's
//! profiles and personas plus the edge's, the erased customer stays out, and a third run with
//! the same exports puts and deletes nothing. Last, an erasure that comes in after the build
//! is still kept by the loader. Run: `cargo test -p vitrine-tests --test refresh_e2e`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value as Json;
use vitrine_edge::kv::{self, Entry};
use vitrine_tests::stack;

const HEADER: &str = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";
const PRODUCTS: [(&str, &str, f64); 3] =
    [("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55), ("71053", "WHITE METAL LANTERN", 3.39), ("22633", "HAND WARMER UNION JACK", 1.85)];
/// The edge's own profile of a customer no build knows yet (live traits write these).
const LIVE_KEY: &str = "profile:20000";
const LIVE_VALUE: &str = r#"{"customer_id":"20000","segment":"New","monetary":12.5}"#;

/// Order lines: (invoice, customer, day, product, quantity).
fn orders(lines: &[(u32, &str, &str, usize, u32)]) -> String {
    let mut csv = String::from(HEADER);
    for &(invoice, customer, day, product, quantity) in lines {
        let (sku, title, price) = PRODUCTS[product];
        csv.push_str(&format!("\n{invoice},{sku},{title},{quantity},{day} 10:00:00,{price},{customer},United Kingdom"));
    }
    csv + "\n"
}

/// The first night: A (10001), B (10002), C (10003), D (10004) and F (10006).
fn first_night() -> Vec<(u32, &'static str, &'static str, usize, u32)> {
    vec![
        (1, "10001", "2011-01-10", 0, 6),
        (2, "10001", "2011-03-02", 1, 2),
        (3, "10002", "2011-02-14", 2, 12),
        (4, "10002", "2011-04-20", 0, 3),
        (5, "10003", "2011-01-05", 1, 1),
        (6, "10003", "2011-03-15", 2, 4),
        (7, "10003", "2011-06-30", 0, 2),
        (8, "10004", "2011-05-09", 1, 8),
        (9, "10006", "2011-02-01", 0, 1),
        (10, "10006", "2011-05-20", 2, 2),
    ]
}

/// The second night: A's orders are gone (their data deleted at the store), B ordered again,
/// E (10005) is new, and D (erased since) ordered again. Nothing after the first night's last
/// day, so the export's end stays put.
fn second_night() -> Vec<(u32, &'static str, &'static str, usize, u32)> {
    let mut lines: Vec<_> = first_night().into_iter().filter(|l| l.1 != "10001").collect();
    lines.extend([(11, "10002", "2011-06-15", 1, 5), (12, "10005", "2011-05-01", 2, 24), (13, "10004", "2011-06-20", 0, 1)]);
    lines
}

/// A workspace binary as `cargo test --workspace` built it beside this test; built here when
/// the suite runs alone.
fn built(package: &str, bin: &str) -> PathBuf {
    let dir = std::env::current_exe().expect("the test's path").parent().and_then(Path::parent).expect("target/<profile>/deps").to_path_buf();
    let path = dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        let mut cargo = stack::tool("cargo");
        cargo.args(["build", "--quiet", "-p", package, "--bin", bin]);
        run(cargo, &format!("cargo build {bin}"));
    }
    path
}

fn run(mut cmd: Command, what: &str) -> String {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\n{text}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Night {
    dir: PathBuf,
    persist: PathBuf,
    model_builder: PathBuf,
    vitrine_kv: PathBuf,
}

impl Night {
    fn script(&self, script: &str, args: &[&str]) -> String {
        let mut cmd = stack::tool("bash");
        cmd.arg(script).args(args).args(["--local", "--persist-to"]).arg(&self.persist);
        cmd.env("MODEL_BUILDER", &self.model_builder).env("VITRINE_KV", &self.vitrine_kv);
        run(cmd, script)
    }

    /// `scripts/refresh.sh` on these order lines; its output.
    fn refresh(&self, lines: &[(u32, &str, &str, usize, u32)]) -> String {
        let orders_csv = self.dir.join("orders.csv");
        std::fs::write(&orders_csv, orders(lines)).unwrap();
        let path = |p: &Path| p.to_str().expect("a UTF-8 temp path").to_string();
        let (config, out, state) = (path(&self.dir.join("vitrine.toml")), path(&self.dir.join("out")), path(&self.dir.join("state")));
        self.script("scripts/refresh.sh", &["--config", &config, "--orders", &path(&orders_csv), "--out", &out, "--state", &state])
    }

    fn profiles_jsonl(&self) -> String {
        std::fs::read_to_string(self.dir.join("out/profiles.jsonl")).expect("the build wrote the profiles")
    }

    fn wrangler(&self, args: &[&str]) -> String {
        let mut cmd = stack::tool("wrangler");
        cmd.args(["kv"]).args(args).args(["--local", "--persist-to"]).arg(&self.persist);
        run(cmd, &format!("wrangler kv {}", args.join(" ")))
    }

    /// Everything in PROFILES, read back through wrangler: key -> value.
    fn profiles_kv(&self) -> BTreeMap<String, String> {
        let listed: Json = serde_json::from_str(&self.wrangler(&["key", "list", "--binding", "PROFILES"])).expect("key list is JSON");
        let keys: Vec<&str> = listed.as_array().expect("a list").iter().map(|k| k["name"].as_str().expect("a name")).collect();
        let file = self.dir.join("get.json");
        std::fs::write(&file, serde_json::to_string(&keys).unwrap()).unwrap();
        let got: Json = serde_json::from_str(&self.wrangler(&["bulk", "get", file.to_str().unwrap(), "--binding", "PROFILES"])).expect("bulk get is JSON");
        keys.iter().map(|k| (k.to_string(), got[*k]["value"].as_str().unwrap_or_else(|| panic!("{k} has no text value: {got}")).to_string())).collect()
    }

    fn put(&self, entries: &[Entry]) {
        let file = self.dir.join("put.json");
        std::fs::write(&file, kv::to_bulk_json(entries)).unwrap();
        self.wrangler(&["bulk", "put", file.to_str().unwrap(), "--binding", "PROFILES"]);
    }
}

/// The counts `load-profiles.sh` printed: (put, deleted, unchanged).
fn counts(output: &str) -> (usize, usize, usize) {
    let line = output.lines().find_map(|l| l.strip_prefix("profiles: put ")).unwrap_or_else(|| panic!("no counts in:\n{output}"));
    let n: Vec<usize> = line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    (n[0], n[1], n[2])
}

fn as_map(entries: &[Entry]) -> BTreeMap<String, String> {
    entries.iter().map(|e| (e.key.clone(), e.value.clone())).collect()
}

fn line_of<'a>(jsonl: &'a str, customer: &str) -> Option<&'a str> {
    jsonl.lines().find(|l| l.contains(&format!("\"customer_id\":\"{customer}\"")))
}

#[test]
fn a_nightly_refresh_loads_only_what_changed_and_keeps_erasures() {
    stack::require_tools();
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("vitrine-refresh-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vitrine.toml"), "[store]\nname = \"Refresh test shop\"\n").unwrap();
    let night =
        Night { persist: dir.join("kv"), dir, model_builder: built("vitrine-model-builder", "model-builder"), vitrine_kv: built("vitrine-edge", "vitrine-kv") };

    // Night 1: nothing loaded before, so everything is put.
    let out = night.refresh(&first_night());
    let first_jsonl = night.profiles_jsonl();
    let first = kv::profile_entries(&first_jsonl).unwrap();
    assert_eq!(first.iter().filter(|e| e.key.starts_with("profile:")).count(), 5, "five customers: {first:?}");
    assert_eq!(counts(&out), (first.len(), 0, 0), "{out}");
    assert_eq!(night.profiles_kv(), as_map(&first), "KV holds the first build's profiles and personas");
    let published = |out: &str| {
        let version = kv::bundle_version(&std::fs::read(night.dir.join("out/bundle.bin")).unwrap()).unwrap();
        assert!(out.contains(&format!("published bundle {version}")), "{out}");
        assert_eq!(night.wrangler(&["key", "get", "bundle:current", "--binding", "BUNDLES", "--text"]).trim(), version, "bundle:current");
    };
    published(&out);

    // Between the nights: D is erased (as DELETE /v1/admin/customers/10004 does: the profile
    // deleted, erased:<id> written) and the edge writes a profile of its own.
    night.wrangler(&["key", "delete", "profile:10004", "--binding", "PROFILES"]);
    night.put(&[Entry::text("erased:10004", "1700000000"), Entry::text(LIVE_KEY, LIVE_VALUE)]);

    // Night 2: A gone, B changed, E new, D erased (and out of the build).
    let out = night.refresh(&second_night());
    let second_jsonl = night.profiles_jsonl();
    let second = kv::profile_entries(&second_jsonl).unwrap();
    assert!(line_of(&second_jsonl, "10001").is_none() && line_of(&second_jsonl, "10004").is_none(), "A left, D erased:\n{second_jsonl}");
    assert!(line_of(&second_jsonl, "10005").is_some(), "E is new");
    assert_ne!(line_of(&first_jsonl, "10002"), line_of(&second_jsonl, "10002"), "B ordered again");
    let before = as_map(&first);
    let changed = second.iter().filter(|e| before.get(&e.key) != Some(&e.value)).count();
    let gone: BTreeSet<&String> = before.keys().filter(|k| !second.iter().any(|e| &e.key == *k)).collect();
    assert!(gone.contains(&"profile:10001".to_string()) && gone.contains(&"profile:10004".to_string()), "{gone:?}");
    assert_eq!(counts(&out), (changed, gone.len(), second.len() - changed), "{out}");
    let mut expected = as_map(&second);
    expected.insert(LIVE_KEY.into(), LIVE_VALUE.into());
    expected.insert("erased:10004".into(), "1700000000".into());
    assert_eq!(night.profiles_kv(), expected, "exactly the second build's profiles, the edge's own profile and the erasure mark");
    published(&out);

    // Night 3, nothing changed: no profile put or deleted, and the rebuilt bundle (a new build
    // id, the same content) is not published again.
    let out = night.refresh(&second_night());
    assert!(out.contains("bundle unchanged") && !out.contains("published bundle"), "{out}");
    assert_eq!(night.profiles_jsonl(), second_jsonl, "the same exports build the same profiles");
    assert_eq!(counts(&out), (0, 0, second.len()), "{out}");
    assert_eq!(night.profiles_kv(), expected);

    // C is erased after the build: loading the same file again deletes their profile, and no
    // persona is theirs any more (the segment's next customer, or none).
    night.put(&[Entry::text("erased:10003", "1700000001")]);
    let manifest = night.dir.join("state/profiles.manifest");
    let out = night.script("scripts/load-profiles.sh", &[night.dir.join("out/profiles.jsonl").to_str().unwrap(), "--manifest", manifest.to_str().unwrap()]);
    let erased: BTreeSet<String> = ["10003", "10004"].map(String::from).into();
    let kept = kv::read_profiles(&second_jsonl, &erased).unwrap();
    assert_eq!(kept.erased, 1);
    let mut expected_now = as_map(&kept.entries);
    expected_now.insert(LIVE_KEY.into(), LIVE_VALUE.into());
    expected_now.extend([("erased:10004".into(), "1700000000".into()), ("erased:10003".into(), "1700000001".into())]);
    let kv_now = night.profiles_kv();
    assert!(!kv_now.contains_key("profile:10003"), "{kv_now:?}");
    assert!(kv_now.values().all(|v| !v.contains("\"customer_id\":\"10003\"")), "no persona is C: {kv_now:?}");
    assert_eq!(kv_now, expected_now);
    assert!(counts(&out).1 >= 1, "{out}");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(!text.contains("profile:10003") && text.contains("profile:10002"), "the manifest follows the load:\n{text}");

    // A load that fails leaves the manifest as the last good load's, naming the bad line.
    let broken = night.dir.join("broken.jsonl");
    std::fs::write(&broken, format!("{}\n{{\"customer_id\":", line_of(&second_jsonl, "10002").unwrap())).unwrap();
    let mut cmd = stack::tool("bash");
    cmd.args(["scripts/load-profiles.sh", broken.to_str().unwrap(), "--manifest", manifest.to_str().unwrap(), "--local", "--persist-to"]).arg(&night.persist);
    let out = cmd.env("VITRINE_KV", &night.vitrine_kv).stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("profiles line 2: not JSON"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), text, "the manifest is the last good load's");

    let _ = std::fs::remove_dir_all(&night.dir);
    eprintln!("refresh e2e: three refreshes and two loads in {:.1} s", started.elapsed().as_secs_f64());
}
