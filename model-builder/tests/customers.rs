//! The customers export: merged into the private profiles, never into the public bundle.

mod common;

use common::*;
use serde_json::Value;

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The demo's export (examples/demo/customers.csv): every full name, email and E.164 phone
/// reaches the profiles and none reaches the bundle. First names alone are not scanned: they
/// collide with product titles (ROSE, DAISY).
#[test]
fn contacts_reach_the_profiles_and_never_the_bundle() {
    let f = Fixture::new();
    let (bundle, profiles) = (f.path("demo.bin"), f.path("profiles.jsonl"));
    let r = run(&[&"build", &"--config", &repo("examples/demo/vitrine.toml"), &"--out", &bundle, &"--profiles", &profiles, &"--json"]);
    r.ok();
    let summary: Value = serde_json::from_str(&r.stdout).unwrap();
    let c = &summary["customers"];
    assert!(c["customers"].as_u64().unwrap() > 300 && c["invalid_phones"].as_u64().unwrap() > 0, "{c}");

    let lines: Vec<Value> = std::fs::read_to_string(&profiles).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let export = std::fs::read_to_string(repo("examples/demo/customers.csv")).unwrap();
    let bytes = std::fs::read(&bundle).unwrap();
    let bundle_text = String::from_utf8_lossy(&bytes).to_lowercase();
    let mut scanned = 0;
    for row in export.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let (id, first, last, email) = (f[0], f[1], f[2], f[3]);
        let line = lines.iter().find(|l| l["customer_id"] == id).unwrap_or_else(|| panic!("customer {id} has a profile"));
        assert_eq!((line["first_name"].as_str(), line["email"].as_str()), (Some(first), Some(email)));
        let full_name = format!("{first} {last}").to_lowercase();
        assert!(!bundle_text.contains(&full_name), "{full_name} in the bundle");
        assert!(!bundle_text.contains(email), "{email} in the bundle");
        if let Some(phone) = line["phone"].as_str() {
            assert!(phone.starts_with("+44") && phone.len() == 13, "E.164: {phone}");
            assert!(!bundle_text.contains(phone) && !bundle_text.contains(&phone[3..]), "{phone} in the bundle");
        }
        scanned += 1;
    }
    assert!(scanned > 300);
    // A customer without an order is known by name all the same.
    let no_order = lines.iter().find(|l| l["customer_id"] == "59001").unwrap();
    assert!(no_order["first_name"].is_string() && no_order.get("segment").is_none());
    // "07400 100001" (national) and "+44 7400 100002" (international) read as the same kind.
    let national = lines.iter().find(|l| l["customer_id"] == "50002").unwrap();
    assert_eq!(national["phone"], "+447400100001");
    assert_eq!(national["consent"]["sms"], true);
}

#[test]
fn bad_customer_rows_are_named_and_the_rest_kept() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let customers = f.write(
        "customers.csv",
        "customer_id,first_name,email,phone,sms_consent\n17850,Ann,ann@example.com,07400 123456,yes\n,Nobody,n@example.com,,\n12583,Bo,not-an-email,,\n13047,Cy,cy@example.com,12,maybe\n17850,Dup,d@example.com,,\n",
    );
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[cleaning]\nbad_rows = \"skip\"\n"));
    let profiles = f.path("profiles.jsonl");
    let r = run(&[
        &"build",
        &"--config",
        &config,
        &"--orders",
        &orders,
        &"--out",
        &f.path("b.bin"),
        &"--profiles",
        &profiles,
        &"--customers",
        &customers,
        &"--json",
    ]);
    r.ok();
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!((s["customers"]["customers"].as_u64(), s["customers"]["bad_rows"].as_u64()), (Some(1), Some(4)), "{}", s["customers"]);
    let text = std::fs::read_to_string(&profiles).unwrap();
    assert!(text.contains("\"phone\":\"+447400123456\""), "{text}");

    // The same with bad rows refused: the error names the file, line and field.
    let strict = f.write("strict.toml", format!("{MINIMAL_CONFIG}[cleaning]\nbad_rows = \"stop\"\n"));
    let r = run(&[&"build", &"--config", &strict, &"--orders", &orders, &"--out", &f.path("b.bin"), &"--profiles", &profiles, &"--customers", &customers]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("customers.csv:3") && r.stderr.contains("field customer_id: empty"), "{}", r.stderr);

    // A bundle-only build of a config with a customers export does not read it.
    let r = run(&[&"build", &"--config", &repo("examples/demo/vitrine.toml"), &"--out", &f.path("c.bin"), &"--json"]);
    r.ok();
    assert!(serde_json::from_str::<Value>(&r.stdout).unwrap()["customers"].is_null());
    // Without --profiles there is nowhere private to put one passed on the command line.
    let r = run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &f.path("b.bin"), &"--customers", &customers]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("pass --profiles"), "{}", r.stderr);
}

#[test]
fn erased_customers_are_left_out_of_the_profiles() {
    let f = Fixture::new();
    let (bundle, profiles) = (f.path("demo.bin"), f.path("profiles.jsonl"));
    let erased = f.write("erased.txt", "# scripts/privacy.sh erased\n50001\n59001\n");
    let r = run(&[&"build", &"--config", &repo("examples/demo/vitrine.toml"), &"--out", &bundle, &"--profiles", &profiles, &"--erased", &erased, &"--quiet"]);
    r.ok();
    let text = std::fs::read_to_string(&profiles).unwrap();
    assert!(!text.contains("\"customer_id\":\"50001\"") && !text.contains("\"customer_id\":\"59001\""), "an erased customer has no profile");
    assert!(!text.contains("jane.smith.50001"), "nor any contact");
    assert!(text.contains("\"customer_id\":\"50002\""), "the others stay");
}
