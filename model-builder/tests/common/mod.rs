//! Helpers for the CLI tests: run the real binary, write fixtures into a temp folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const UCI_HEADER: &str = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";

/// Six good UCI rows: two customers, one guest order, three products.
pub const UCI_ROWS: &[&str] = &[
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom",
    "536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER ,2,2010-12-02 09:00:00,2.55,13047,France",
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-02 09:00:00,1.85,13047,France",
    "536367,71053,WHITE METAL LANTERN,1,2010-12-03 10:00:00,3.39,,United Kingdom",
    "536367,22633,HAND WARMER UNION JACK,3,2010-12-03 10:00:00,1.85,,United Kingdom",
];

/// The whole UCI Online Retail export, in the repository (gzip'd; data/online-retail/README.md).
pub const UCI_ORDERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/online-retail/online_retail.csv.gz");
/// Its example config.
pub const UCI_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/online-retail/vitrine.toml");

pub const MINIMAL_CONFIG: &str = "[store]\nname = \"Test shop\"\n";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

pub fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_model-builder")).args(args.iter().map(|a| a.as_ref())).output().expect("run model-builder");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write fixture");
        p
    }

    /// `build --json` with this config and orders file; the parsed summary on success.
    pub fn build_json(&self, config: &Path, orders: &Path) -> (Run, Option<serde_json::Value>) {
        let out = self.path("bundle.bin");
        let r = run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &out, &"--json"]);
        let json = (r.code == 0).then(|| serde_json::from_str(&r.stdout).expect("summary is JSON"));
        (r, json)
    }
}

pub fn csv(header: &str, rows: &[&str]) -> String {
    let mut s = String::from(header);
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}
