//! `vitrine-kv profiles` as `scripts/load-profiles.sh` calls it: a full load, then an
//! incremental one from the manifest it wrote (`put N delete N unchanged N` on stdout, the keys
//! to delete in a file), erased customers left out, and a broken manifest refused naming the
//! file and line. And `vitrine-kv same`, which keeps a rebuild from being published again.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn vitrine_kv(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine-kv")).current_dir(dir).args(args).output().expect("vitrine-kv runs")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json(dir: &Path, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vitrine-kv-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_second_load_puts_the_changes_and_deletes_what_went_away() {
    let dir = temp_dir("profiles");
    let line = |id: &str, segment: &str, monetary: u32| format!("{{\"customer_id\":\"{id}\",\"segment\":\"{segment}\",\"monetary\":{monetary}}}\n");
    std::fs::write(dir.join("night1.jsonl"), [line("1", "Loyal", 5), line("2", "Loyal", 9), line("3", "New", 1)].concat()).unwrap();
    std::fs::write(dir.join("night2.jsonl"), [line("1", "Loyal", 7), line("2", "Loyal", 9), line("4", "New", 2)].concat()).unwrap();
    std::fs::write(dir.join("erased.txt"), "2\n").unwrap();

    let first = ok(vitrine_kv(&dir, &["profiles", "night1.jsonl", "put.json", "--deletes", "delete.json", "--manifest", "m1"]));
    assert_eq!(first, "put 5 delete 0 unchanged 0\n", "no manifest: everything");
    assert_eq!(json(&dir, "delete.json"), serde_json::json!([]));
    let manifest = std::fs::read_to_string(dir.join("m1")).unwrap();
    assert!(manifest.contains(" profile:1\n") && !manifest.contains("Loyal"), "hashes, not profiles:\n{manifest}");

    // 1 changed, 2 unchanged, 3 gone (and the New persona now 4's), 4 new.
    let second = ok(vitrine_kv(&dir, &["profiles", "night2.jsonl", "put.json", "--since", "m1", "--deletes", "delete.json", "--manifest", "m2"]));
    assert_eq!(second, "put 3 delete 1 unchanged 2\n");
    let put: Vec<String> = json(&dir, "put.json").as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap().to_string()).collect();
    assert_eq!(put, ["profile:1", "profile:4", "persona:new-customer"]);
    assert_eq!(json(&dir, "delete.json"), serde_json::json!(["profile:3"]));
    let again = ok(vitrine_kv(&dir, &["profiles", "night2.jsonl", "put.json", "--since", "m2", "--deletes", "delete.json"]));
    assert_eq!(again, "put 0 delete 0 unchanged 5\n");

    // 2 erased: their profile goes, and the Loyal persona (theirs: the biggest spender) moves to 1.
    let erased = ok(vitrine_kv(&dir, &["profiles", "night2.jsonl", "put.json", "--since", "m2", "--deletes", "delete.json", "--erased", "erased.txt"]));
    assert_eq!(erased, "put 1 delete 1 unchanged 3\n");
    assert_eq!(json(&dir, "put.json")[0]["key"], "persona:loyal");
    assert_eq!(json(&dir, "delete.json"), serde_json::json!(["profile:2"]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_broken_manifest_or_a_missing_flag_is_an_error_naming_it() {
    let dir = temp_dir("broken");
    std::fs::write(dir.join("p.jsonl"), "{\"customer_id\":\"1\"}\n").unwrap();
    std::fs::write(dir.join("state.manifest"), "# a manifest\n0123 profile:1\n").unwrap();
    let out = vitrine_kv(&dir, &["profiles", "p.jsonl", "put.json", "--since", "state.manifest", "--deletes", "d.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.starts_with("vitrine-kv: state.manifest: line 2: \"0123\" is not a hash"), "{stderr}");
    assert!(!dir.join("put.json").exists(), "nothing written");
    let out = vitrine_kv(&dir, &["profiles", "p.jsonl", "put.json", "--since", "state.manifest"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since needs --deletes"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = vitrine_kv(&dir, &["profiles", "p.jsonl", "put.json", "--since", "missing.manifest", "--deletes", "d.json"]);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("vitrine-kv: missing.manifest: "), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn same_tells_a_rebuild_from_a_change() {
    let dir = temp_dir("same");
    let golden = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../engine/tests/golden/bundle-v10.bin")).unwrap();
    let mut rebuilt = golden.clone();
    rebuilt[12..28].copy_from_slice(&[9; 16]); // another build id
    let mut changed = golden.clone();
    *changed.last_mut().unwrap() ^= 1;
    for (name, bytes) in [("a.bin", &golden), ("b.bin", &rebuilt), ("c.bin", &changed)] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    assert_eq!(ok(vitrine_kv(&dir, &["same", "a.bin", "b.bin"])), "same\n");
    assert_eq!(ok(vitrine_kv(&dir, &["same", "a.bin", "c.bin"])), "different\n");
    assert!(!vitrine_kv(&dir, &["same", "a.bin", "nope.bin"]).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
