//! The real thing, started for a test: the demo origin (in-process) and `wrangler dev` (local
//! workerd) with the built worker, KV filled through wrangler's own CLI.
//!
//! Every process is started in its own process group (`setsid`) under a watchdog shell that
//! kills the group when the test process goes away, however it goes away; `Drop` kills the
//! group at once (also when a test panics).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::http::{self, HttpResponse};
use crate::origin::Origin;
use vitrine_edge::kv::{self, Entry};

pub const PROFILE_SECRET: &str = "vitrine-e2e-profile-secret";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the repository").to_path_buf()
}

/// A command run with the pinned tools on PATH (scripts/env.sh), from the repository root.
pub fn tool(program: &str) -> Command {
    let mut c = Command::new("bash");
    c.current_dir(repo_root()).arg("-c").arg("source scripts/env.sh && exec \"$@\"").arg("bash").arg(program);
    c
}

fn run(mut cmd: Command, what: &str) -> String {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\n{text}", out.status);
    text
}

/// Panics with the fix when the pinned tools are not installed.
pub fn require_tools() {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    let result = CHECKED.get_or_init(|| {
        let out = tool("sh")
            .arg("-c")
            .arg(r#"for t in wrangler node worker-build "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN"; do command -v "$t" >/dev/null || echo "missing: $t"; done; node -e 'process.exit(parseInt(process.versions.node, 10) < 22 ? 1 : 0)' || echo "node < 22"; command -v setsid >/dev/null || echo "missing: setsid""#)
            .output();
        match out {
            Ok(o) if o.stdout.is_empty() && o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stdout).trim().replace('\n', ", ")),
            Err(e) => Err(e.to_string()),
        }
    });
    if let Err(missing) = result {
        panic!("end-to-end tests need the pinned tools ({missing}): run `bash scripts/setup.sh` first (CI does)");
    }
}

/// Builds the worker once per test process (skipped by the script when up to date).
pub fn build_worker() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        require_tools();
        let mut cmd = tool("bash");
        cmd.arg("scripts/build-worker.sh").env("QUIET", "1");
        run(cmd, "scripts/build-worker.sh");
    });
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// What a stack starts with.
pub struct StackConfig {
    /// The origin's files.
    pub site: PathBuf,
    /// Published in order: the last is `bundle:current`, the one before `bundle:previous`.
    pub bundles: Vec<Vec<u8>>,
    /// Extra BUNDLES entries (corrupt bundles, hand-set pointers), written after `bundles`.
    pub extra_bundle_entries: Vec<Entry>,
    pub profiles_jsonl: Option<String>,
    /// `[vars]` overrides on top of the test defaults.
    pub vars: Vec<(String, String)>,
    /// The `[assets]` folder (default: the repository's dist/public).
    pub assets: Option<PathBuf>,
    /// `[[ratelimits]]` limits by binding name; every other binding gets [`TEST_RATE_LIMIT`].
    pub rate_limits: Vec<(String, u32)>,
}

/// The limit of every rate-limit binding a stack does not set: every local client is
/// 127.0.0.1, so suites about something else must never trip them (the limits' own cases set
/// small ones and use `X-Vitrine-Client` keys).
pub const TEST_RATE_LIMIT: u32 = 100_000;

impl StackConfig {
    pub fn new(site: &Path) -> StackConfig {
        StackConfig {
            site: site.into(),
            bundles: Vec::new(),
            extra_bundle_entries: Vec::new(),
            profiles_jsonl: None,
            vars: Vec::new(),
            assets: None,
            rate_limits: Vec::new(),
        }
    }
}

pub struct Stack {
    pub url: String,
    pub origin: Origin,
    pub work: PathBuf,
    config_path: PathBuf,
    persist: PathBuf,
    log: PathBuf,
    wrangler: Option<Child>,
}

/// A scratch folder for one stack, removed on success and kept (and named) after a failure.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vitrine-e2e-{name}-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

impl Stack {
    pub fn start(name: &str, cfg: StackConfig) -> Stack {
        build_worker();
        let work = scratch(name);
        let origin = Origin::start(&cfg.site, 0).expect("origin starts");
        let port = free_port();
        let config_path = work.join("wrangler.toml");
        let mut vars = vec![
            ("ORIGIN_URL".to_string(), origin.url()),
            ("DEV_MODE".into(), "1".into()),
            ("DEMO_PICKER".into(), "1".into()),
            ("PROFILE_SECRET".into(), PROFILE_SECRET.into()),
            ("IDENTITY_SECRET".into(), crate::identity::secret_var()),
            ("BUNDLE_CHECK_SECS".into(), "0".into()),
        ];
        for (k, v) in cfg.vars {
            vars.retain(|(name, _)| *name != k);
            vars.push((k, v));
        }
        let assets = cfg.assets.clone().unwrap_or_else(|| repo_root().join("dist/public"));
        std::fs::create_dir_all(&assets).expect("assets folder");
        // A private copy of the built worker: a rebuild elsewhere must not reload this one.
        let build = work.join("build");
        copy_dir(&repo_root().join("edge-worker/build"), &build).expect("copy edge-worker/build");
        std::fs::write(&config_path, test_config(&vars, &assets, &build.join("worker.mjs"), &cfg.rate_limits)).expect("write test wrangler.toml");
        let mut stack = Stack {
            url: format!("http://127.0.0.1:{port}"),
            origin,
            persist: work.join("state"),
            log: work.join("wrangler.log"),
            config_path,
            work,
            wrangler: None,
        };

        let mut bundle_entries = Vec::new();
        let mut previous: Option<String> = None;
        for bytes in &cfg.bundles {
            bundle_entries.extend(kv::bundle_entries(bytes, true, previous.as_deref()).expect("test bundles load"));
            previous = Some(kv::bundle_version(bytes).expect("version"));
        }
        bundle_entries.retain(|e| !(e.key == "bundle:current" || e.key == "bundle:previous"));
        if let Some(current) = &previous {
            bundle_entries.push(Entry::text("bundle:current", current.clone()));
        }
        if cfg.bundles.len() >= 2 {
            bundle_entries.push(Entry::text("bundle:previous", kv::bundle_version(&cfg.bundles[cfg.bundles.len() - 2]).unwrap()));
        }
        bundle_entries.extend(cfg.extra_bundle_entries);
        if !bundle_entries.is_empty() {
            stack.kv_put("BUNDLES", &bundle_entries);
        }
        if let Some(jsonl) = &cfg.profiles_jsonl {
            stack.kv_put("PROFILES", &kv::profile_entries(jsonl).expect("test profiles"));
        }
        stack.spawn_wrangler(port);
        stack
    }

    fn spawn_wrangler(&mut self, port: u16) {
        let log = std::fs::File::create(&self.log).expect("log file");
        // The watchdog: ends the whole group when this test process is gone or wrangler exits.
        let script = r#"source scripts/env.sh
"$@" &
while kill -0 "$VITRINE_TEST_PID" 2>/dev/null && kill -0 $! 2>/dev/null; do sleep 0.5; done
kill -TERM 0"#;
        let child = Command::new("setsid")
            .current_dir(repo_root())
            .env("VITRINE_TEST_PID", std::process::id().to_string())
            .args(["bash", "-c", script, "bash", "wrangler", "dev", "--local", "--ip", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--inspector-port", &free_port().to_string()])
            .arg("--persist-to")
            .arg(&self.persist)
            .arg("--config")
            .arg(&self.config_path)
            .arg("--show-interactive-dev-session=false")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("setsid + wrangler dev start");
        self.wrangler = Some(child);
        self.wait_ready(Duration::from_secs(120));
    }

    fn wait_ready(&mut self, timeout: Duration) {
        let start = Instant::now();
        loop {
            if let Ok(r) = http::request(&self.url, "GET", "/v1/health", &[], b"") {
                if r.status == 200 {
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.wrangler.as_mut().map(|c| c.try_wait()) {
                panic!("wrangler dev exited ({status}) before it was ready:\n{}", self.log_tail(60));
            }
            if start.elapsed() > timeout {
                panic!("wrangler dev not ready after {timeout:?}:\n{}", self.log_tail(60));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Writes KV entries through `wrangler kv bulk put --local` into this stack's state, as an
    /// operator would (also while the worker runs).
    pub fn kv_put(&self, binding: &str, entries: &[Entry]) {
        let file = self.work.join(format!("kv-{binding}-{}.json", free_port()));
        std::fs::write(&file, kv::to_bulk_json(entries)).expect("bulk file");
        let mut cmd = tool("wrangler");
        cmd.args(["kv", "bulk", "put", "--local", "--binding", binding])
            .arg(&file)
            .arg("--persist-to")
            .arg(&self.persist)
            .arg("--config")
            .arg(&self.config_path);
        run(cmd, &format!("wrangler kv bulk put ({binding})"));
    }

    /// Reads a KV value of this stack's state through `wrangler kv key get --local`, as an
    /// operator would (also while the worker runs); None when there is none.
    pub fn kv_get(&self, binding: &str, key: &str) -> Option<String> {
        let out = tool("wrangler")
            .args(["kv", "key", "get", "--local", "--text", "--binding", binding, key])
            .arg("--persist-to")
            .arg(&self.persist)
            .arg("--config")
            .arg(&self.config_path)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("wrangler kv key get: could not start: {e}"));
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !text.is_empty() && text != "Value not found").then_some(text)
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        http::get(&self.url, path, headers)
    }

    /// Polls `/v1/health` until `pred` holds (bundle swaps are checked per request, but KV
    /// writes take a moment to land).
    pub fn wait_health(&self, what: &str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let h = self.get("/v1/health", &[]).json();
            if pred(&h) {
                return h;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}; health: {h}\n{}", self.log_tail(30));
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Kills `wrangler dev` the way a crash would (SIGKILL to its whole process group) and
    /// starts it again on the same port and the same `--persist-to` state (journeys e2e).
    pub fn crash_and_restart(&mut self) {
        if let Some(mut child) = self.wrangler.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
            let _ = child.wait();
            let start = Instant::now();
            while group_alive(&group) && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = std::fs::rename(&self.log, self.work.join("wrangler-before-crash.log"));
        let port = self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("the stack's port");
        self.spawn_wrangler(port);
    }

    /// The resident memory (KiB) of this stack's workerd processes (wrangler dev runs the
    /// worker and its dev proxy in workerd), from /proc.
    pub fn workerd_rss_kib(&self) -> u64 {
        let Some(group) = self.wrangler.as_ref().map(|c| c.id().to_string()) else { return 0 };
        let mut total = 0;
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            // pid (comm) state ppid pgrp …
            let Some((comm, rest)) = stat.split_once(") ") else { continue };
            let pgrp = rest.split(' ').nth(2);
            if !comm.ends_with("(workerd") || pgrp != Some(group.as_str()) {
                continue;
            }
            let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
            total +=
                status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).unwrap_or(0);
        }
        total
    }

    fn stop(&mut self) {
        let Some(mut child) = self.wrangler.take() else { return };
        let group = format!("-{}", child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if matches!(child.try_wait(), Ok(Some(_))) && !group_alive(&group) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = child.wait();
    }
}

fn group_alive(group: &str) -> bool {
    Command::new("kill").args(["-0", "--", group]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
        self.origin.stop();
        if std::thread::panicking() || std::env::var_os("VITRINE_KEEP_E2E").is_some() {
            eprintln!("stack files kept for inspection: {} (wrangler log: {})", self.work.display(), self.log.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.work);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The repository's wrangler.toml, adapted for a test: the worker at `main`, no [build] (the
/// test built it), the given vars and assets folder, measurement batches after 1 s, each rate limit's `simple.limit` from
/// `rate_limits` (by binding name) or [`TEST_RATE_LIMIT`]. Bindings stay as configured.
pub fn test_config(vars: &[(String, String)], assets: &Path, main: &Path, rate_limits: &[(String, u32)]) -> String {
    let text = std::fs::read_to_string(repo_root().join("wrangler.toml")).expect("wrangler.toml at the repository root");
    let mut table: toml::Table = text.parse().expect("wrangler.toml parses");
    table.remove("build");
    assert!(table.contains_key("main"), "main in wrangler.toml");
    table.insert("main".into(), main.display().to_string().into());
    if let Some(toml::Value::Table(a)) = table.get_mut("assets") {
        a.insert("directory".into(), assets.display().to_string().into());
    }
    let mut v = toml::Table::new();
    for (k, val) in vars {
        v.insert(k.clone(), val.clone().into());
    }
    table.insert("vars".into(), v.into());
    // Measurement batches are stored within a second, not after the deployed wait.
    if let Some(consumers) = table.get_mut("queues").and_then(|q| q.get_mut("consumers")).and_then(|c| c.as_array_mut()) {
        for c in consumers.iter_mut().filter_map(|c| c.as_table_mut()) {
            c.insert("max_batch_timeout".into(), 1.into());
        }
    }
    let limits = table.get_mut("ratelimits").and_then(|l| l.as_array_mut()).expect("[[ratelimits]] in wrangler.toml");
    for binding in limits.iter_mut().filter_map(|b| b.as_table_mut()) {
        let name = binding["name"].as_str().expect("a binding's name").to_string();
        let limit = rate_limits.iter().find(|(n, _)| *n == name).map_or(TEST_RATE_LIMIT, |(_, l)| *l);
        binding["simple"].as_table_mut().expect("simple = { limit, period }").insert("limit".into(), i64::from(limit).into());
    }
    toml::to_string(&table).expect("config serializes")
}
