//! The repository as a newcomer gets it from `git clone`:
//! - self-contained: everything its tests, scripts, examples and docs read is inside it (the
//!   UCI export in data/online-retail/, GrowthBook's cases in engine/tests/conformance/), and no
//!   tracked file points at a folder beside the checkout;
//! - licensed as the crates declare (`MIT OR Apache-2.0`: LICENSE-MIT, LICENSE-APACHE), with the
//!   third-party data's source and licence beside it;
//! - one version: every crate takes the workspace's, which the binaries' `--version` and the
//!   worker's `/v1/health` print; CHANGELOG.md says what changed.
//!
//! Run: `cargo test -p vitrine-tests --test repository`.

use std::process::Command;

use vitrine_tests::stack::repo_root;

/// Ways a file could reach outside the checkout for what the project needs. Spelled in pieces
/// so that this file does not match itself.
fn outside_references() -> [String; 3] {
    [["..", "/shared"].concat(), ["shared", "/data/"].concat(), ["shared", "/conformance/"].concat()]
}

/// Every tracked file (what a clone has), relative to the repository root.
fn tracked_files() -> Vec<String> {
    let out = Command::new("git").arg("-C").arg(repo_root()).args(["ls-files", "-z"]).output().expect("git runs (the check lists the tracked files)");
    assert!(out.status.success(), "git ls-files failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 file names").split('\0').filter(|p| !p.is_empty()).map(String::from).collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn no_tracked_file_refers_to_a_folder_beside_the_repository() {
    let needles = outside_references();
    let files = tracked_files();
    assert!(files.iter().any(|f| f == "Cargo.toml"), "git ls-files lists the workspace: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        // Binary files (bundles, the gzip'd data) are read as bytes; a match there counts too.
        let Ok(bytes) = std::fs::read(repo_root().join(file)) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        for (i, line) in text.lines().enumerate() {
            if let Some(n) = needles.iter().find(|n| line.contains(n.as_str())) {
                found.push(format!("{file}:{}: {n}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "files refer outside the repository (copy what they need into it):\n{}", found.join("\n"));
}

#[test]
fn the_data_the_tests_read_is_tracked_with_its_source_and_licence() {
    let files = tracked_files();
    for needed in [
        "data/online-retail/online_retail.csv.gz",
        "data/online-retail/README.md",
        "engine/tests/conformance/growthbook/cases.json",
        "engine/tests/conformance/growthbook/SOURCE.md",
        "engine/tests/conformance/growthbook/LICENSE",
    ] {
        assert!(files.iter().any(|f| f == needed), "{needed} is not tracked by git");
    }
    let readme = read("data/online-retail/README.md");
    for attribution in ["https://archive.ics.uci.edu/dataset/352/online+retail", "CC BY 4.0", "What was changed"] {
        assert!(readme.contains(attribution), "data/online-retail/README.md names {attribution:?}");
    }
    assert!(
        read("engine/tests/conformance/growthbook/SOURCE.md").contains("0cf0a65f719576bd4772a8986a9934266a0cb76d"),
        "SOURCE.md records the GrowthBook commit"
    );
    let licence = read("engine/tests/conformance/growthbook/LICENSE");
    assert!(licence.contains("GrowthBook, Inc.") && licence.contains("Permission is hereby granted"), "GrowthBook's MIT licence is kept beside its cases");
}

/// The workspace declares `MIT OR Apache-2.0`; both texts are at the root, and every crate
/// takes the workspace's licence and version (so `CARGO_PKG_VERSION` is one number everywhere).
#[test]
fn every_crate_has_the_workspace_licence_and_version_and_both_texts_are_there() {
    let workspace: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml parses");
    let package = workspace["workspace"]["package"].as_table().expect("[workspace.package]");
    assert_eq!(package["license"].as_str(), Some("MIT OR Apache-2.0"));
    assert_eq!(package["version"].as_str(), Some(env!("CARGO_PKG_VERSION")), "this crate's version is the workspace's");
    for member in workspace["workspace"]["members"].as_array().expect("members") {
        let path = format!("{}/Cargo.toml", member.as_str().unwrap());
        let manifest: toml::Table = read(&path).parse().unwrap_or_else(|e| panic!("{path}: {e}"));
        let p = manifest["package"].as_table().unwrap();
        for key in ["version", "license"] {
            assert_eq!(p.get(key).and_then(|v| v.get("workspace")).and_then(toml::Value::as_bool), Some(true), "{path}: {key}.workspace = true");
        }
    }
    assert!(read("LICENSE-MIT").contains("Copyright (c) the Vitrine developers"));
    assert!(read("LICENSE-APACHE").contains("Apache License\n                        Version 2.0, January 2004"));
}

#[test]
fn the_changelog_has_an_unreleased_section() {
    let changelog = read("CHANGELOG.md");
    assert!(changelog.contains("https://keepachangelog.com/en/1.1.0/"), "Keep a Changelog format");
    assert!(changelog.contains("\n## [Unreleased]\n"), "an Unreleased section");
}

#[test]
fn vitrine_edge_prints_its_version() {
    for flag in ["--version", "-V"] {
        let out = Command::new(env!("CARGO_BIN_EXE_vitrine-edge")).arg(flag).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("vitrine-edge {}\n", env!("CARGO_PKG_VERSION")));
    }
}
