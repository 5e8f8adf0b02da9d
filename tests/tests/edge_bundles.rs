//! Bundles on real workerd: publishing a new version takes effect without a redeploy; corrupt,
//! incompatible or mislabelled versions are refused with a log line while the last good one
//! keeps serving; rollback is a pointer flip. Run: `cargo test -p vitrine-tests --test edge_bundles`.

use std::path::PathBuf;

use vitrine_edge::kv::{self, Entry};
use vitrine_engine::Engine;
use vitrine_tests::fixture;
use vitrine_tests::stack::{Stack, StackConfig};
use vitrine_tests::{cases, demo_store, harness};

struct Suite {
    stack: Stack,
    site: PathBuf,
}

impl Drop for Suite {
    fn drop(&mut self) {
        if let Some(root) = self.site.parent() {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

/// Build 2: the same store with a new welcome banner.
fn rebranded() -> Vec<u8> {
    fixture::bundle_bytes_with(2, |b| {
        let hero = b.rules.placements.iter_mut().find(|p| p.id == "hero").unwrap();
        hero.variants.iter_mut().find(|v| v.name == "welcome").unwrap().html = "<h1 class=\"hero-welcome\">Spring sale: hello, new friend</h1>".into();
    })
}

fn setup() -> Suite {
    let site = std::env::temp_dir().join(format!("vitrine-e2e-bundles-{}/site", std::process::id()));
    let _ = std::fs::remove_dir_all(&site);
    demo_store::generate(&Engine::load(&fixture::bundle_bytes(1)).unwrap(), &site, &[]).expect("demo store");
    let mut cfg = StackConfig::new(&site);
    cfg.bundles = vec![fixture::bundle_bytes(1)];
    Suite { stack: Stack::start("bundles", cfg), site }
}

fn main() -> std::process::ExitCode {
    harness::run(
        "edge_bundles",
        setup,
        cases![
            publishing_a_new_version_takes_effect_without_a_redeploy,
            a_corrupt_bundle_is_refused_and_the_last_good_keeps_serving,
            a_newer_format_and_a_mislabelled_bundle_are_refused_too,
            a_bundle_of_the_previous_format_still_serves,
            a_bundle_stored_in_chunks_is_joined_and_a_missing_chunk_refused,
            a_pointer_to_nothing_is_refused,
            rollback_is_a_pointer_flip,
            a_cold_isolate_falls_back_to_the_previous_version,
        ],
    )
}

fn hero(s: &Suite) -> String {
    s.stack.get("/", &[]).text()
}

fn serving(s: &Suite, version: &str) {
    s.stack.wait_health(&format!("bundle {version}"), |h| h["bundle"] == version);
}

fn publish(s: &Suite, bytes: &[u8], previous: &str) {
    s.stack.kv_put("BUNDLES", &kv::bundle_entries(bytes, true, Some(previous)).unwrap());
}

/// Writes raw bytes as `bundle:<version>` and points `bundle:current` at it, as the publish
/// script would (`bundle:previous` = the version serving until now, the last good one).
fn publish_raw(s: &Suite, version: &str, bytes: &[u8], serving: &str) {
    use base64::Engine as _;
    let value = base64::engine::general_purpose::STANDARD.encode(bytes);
    s.stack.kv_put(
        "BUNDLES",
        &[Entry { key: format!("bundle:{version}"), value, base64: true }, Entry::text("bundle:previous", serving), Entry::text("bundle:current", version)],
    );
}

fn refused(s: &Suite, version: &str, reason: &str) {
    let h = s.stack.wait_health(&format!("{version} refused"), |h| h["refused"].as_array().is_some_and(|r| r.iter().any(|x| x["version"] == version)));
    let why = h["refused"].as_array().unwrap().iter().find(|x| x["version"] == version).unwrap()["reason"].as_str().unwrap().to_string();
    assert!(why.contains(reason), "refusal of {version}: {why}");
    // workerd's console output reaches wrangler's log a moment after the response.
    let line = format!("vitrine: refused bundle {version}");
    let start = std::time::Instant::now();
    while !s.stack.log_text().contains(&line) {
        assert!(start.elapsed().as_secs() < 15, "no log line {line:?}:\n{}", s.stack.log_tail(40));
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn publishing_a_new_version_takes_effect_without_a_redeploy(s: &Suite) {
    serving(s, &fixture::version(1));
    assert!(hero(s).contains("New here? 10% off"));
    publish(s, &rebranded(), &fixture::version(1));
    serving(s, &fixture::version(2));
    assert!(hero(s).contains("Spring sale: hello, new friend"));
    assert_eq!(s.stack.get("/v1/bundle", &[]).body, rebranded(), "browsers get the new bundle too");
    let _ = &s.site;
}

fn a_corrupt_bundle_is_refused_and_the_last_good_keeps_serving(s: &Suite) {
    let mut corrupt = fixture::bundle_bytes(3);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    publish_raw(s, &fixture::version(3), &corrupt, &fixture::version(2));
    refused(s, &fixture::version(3), "checksum");
    serving(s, &fixture::version(2));
    assert!(hero(s).contains("Spring sale"), "still personalized with the last good bundle");
    // Truncated bytes too.
    publish_raw(s, &fixture::version(4), &fixture::bundle_bytes(4)[..40], &fixture::version(2));
    refused(s, &fixture::version(4), "");
    serving(s, &fixture::version(2));
}

fn a_newer_format_and_a_mislabelled_bundle_are_refused_too(s: &Suite) {
    let mut newer = fixture::bundle_bytes(5);
    newer[8] = 99; // format version, little endian
    publish_raw(s, &fixture::version(5), &newer, &fixture::version(2));
    refused(s, &fixture::version(5), "newer than this engine supports");
    publish_raw(s, &fixture::version(6), &fixture::bundle_bytes(1), &fixture::version(2));
    refused(s, &fixture::version(6), &format!("holds build {}", fixture::version(1)));
    serving(s, &fixture::version(2));
}

/// A worker upgraded before the bundle was republished keeps personalizing: a bundle of the
/// previous format version (written by that version's builder, engine/tests/golden) serves, and
/// browsers get it re-encoded in the current format, which is all the SDK reads.
fn a_bundle_of_the_previous_format_still_serves(s: &Suite) {
    let old = std::fs::read(vitrine_tests::stack::repo_root().join("engine/tests/golden/bundle-v9.bin")).unwrap();
    let version = vitrine_engine::bundle::decode_header(&old).unwrap().build_id_hex();
    publish_raw(s, &version, &old, &fixture::version(2));
    serving(s, &version);
    let served = s.stack.get("/v1/bundle", &[]).body;
    let read = vitrine_engine::bundle::decode(&served).expect("browsers get a bundle they read");
    assert_eq!((read.header.format_version, read.header.build_id_hex()), (vitrine_engine::bundle::FORMAT_VERSION, version));
    s.stack.kv_put("BUNDLES", &[Entry::text("bundle:current", fixture::version(2))]);
    serving(s, &fixture::version(2));
}

/// A bundle over KV's 25 MiB value limit is stored in chunks behind a manifest: here the
/// fixture in three (the worker joins any number), then one with a chunk missing.
fn a_bundle_stored_in_chunks_is_joined_and_a_missing_chunk_refused(s: &Suite) {
    let in_three = |version: u8| {
        let bytes = fixture::bundle_bytes(version);
        kv::chunked_entries(&bytes, true, Some(&fixture::version(2)), bytes.len() / 3 + 1).unwrap()
    };
    let chunked = in_three(7);
    let chunk_keys = chunked.iter().filter(|e| e.key.starts_with(&format!("bundle:{}:", fixture::version(7)))).count();
    assert_eq!(chunk_keys, 3, "three chunks and a manifest");
    s.stack.kv_put("BUNDLES", &chunked);
    serving(s, &fixture::version(7));
    assert!(hero(s).contains("New here? 10% off"), "personalized from the joined bundle");
    assert_eq!(s.stack.get("/v1/bundle", &[]).body, fixture::bundle_bytes(7), "browsers get the joined bytes");

    let mut missing = in_three(8);
    missing.retain(|e| e.key != format!("bundle:{}:1", fixture::version(8)));
    s.stack.kv_put("BUNDLES", &missing);
    refused(s, &fixture::version(8), &format!("no key bundle:{}:1", fixture::version(8)));
    serving(s, &fixture::version(7));
    s.stack.kv_put("BUNDLES", &[Entry::text("bundle:current", fixture::version(2))]);
    serving(s, &fixture::version(2));
}

fn a_pointer_to_nothing_is_refused(s: &Suite) {
    s.stack.kv_put("BUNDLES", &[Entry::text("bundle:current", "not a version!")]);
    refused(s, "not a version!", "does not name a bundle version");
    s.stack.kv_put("BUNDLES", &[Entry::text("bundle:current", "abcdef")]);
    refused(s, "abcdef", "no key bundle:abcdef");
    serving(s, &fixture::version(2));
}

fn rollback_is_a_pointer_flip(s: &Suite) {
    s.stack.kv_put("BUNDLES", &[Entry::text("bundle:current", fixture::version(1)), Entry::text("bundle:previous", fixture::version(2))]);
    serving(s, &fixture::version(1));
    assert!(hero(s).contains("New here? 10% off"));
}

fn a_cold_isolate_falls_back_to_the_previous_version(s: &Suite) {
    let mut corrupt = fixture::bundle_bytes(9);
    corrupt[60] ^= 0x55;
    use base64::Engine as _;
    let mut cfg = StackConfig::new(&s.site);
    cfg.bundles = vec![fixture::bundle_bytes(1)];
    cfg.extra_bundle_entries = vec![
        Entry { key: format!("bundle:{}", fixture::version(9)), value: base64::engine::general_purpose::STANDARD.encode(&corrupt), base64: true },
        Entry::text("bundle:current", fixture::version(9)),
        Entry::text("bundle:previous", fixture::version(1)),
    ];
    let cold = Stack::start("bundles-cold", cfg);
    let h = cold.wait_health("the previous bundle", |h| h["bundle"] == fixture::version(1));
    assert_eq!(h["refused"][0]["version"], fixture::version(9), "{h}");
    assert!(cold.get("/", &[]).text().contains("New here? 10% off"));
}
