//! `vitrine-kv`, the publishing tool, as scripts call it: its own version (`--version`, the
//! workspace's, as `/v1/health` reports the worker's) beside `version <bundle>`, a bundle's.

use std::process::Command;

fn vitrine_kv(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine-kv")).args(args).output().expect("vitrine-kv runs")
}

#[test]
fn version_flag_prints_the_tools_version() {
    for flag in ["--version", "-V"] {
        let out = vitrine_kv(&[flag]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("vitrine-kv {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn the_version_subcommand_still_reads_a_bundle_and_a_typo_gets_the_usage() {
    let out = vitrine_kv(&["version", "no-such-bundle.bin"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("vitrine-kv: no-such-bundle.bin: "), "names the file: {stderr}");
    let typo = vitrine_kv(&["--versoin"]);
    assert!(!typo.status.success());
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("usage: vitrine-kv version|bundle|same|profiles … | --version"),
        "{}",
        String::from_utf8_lossy(&typo.stderr)
    );
}
