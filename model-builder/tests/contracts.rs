//! The builder's machine-readable contracts: the config's JSON Schema (generated, committed,
//! what the example configs are checked against), `validate --json`, `recommend --json`,
//! `diff` of two bundles and `init` from an export's headers.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Every config in the repository, each starting with the `#:schema` line editors read.
const CONFIGS: &[&str] = &["examples/demo/vitrine.toml", "examples/online-retail/vitrine.toml", "tests/journeys/vitrine.toml", "tests/journeys/e2e.toml"];

fn schema() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo("vitrine.schema.json")).expect("vitrine.schema.json at the repository's root")).unwrap()
}

/// The schema's complaints about a TOML text (read as JSON, as an editor does).
fn schema_errors(toml_text: &str) -> Vec<String> {
    let instance: Value = toml::from_str(toml_text).expect("TOML");
    let validator = jsonschema::draft7::new(&schema()).expect("a valid draft 7 schema");
    validator.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn committed_schema_is_what_the_config_types_generate() {
    let r = run(&[&"schema"]);
    r.ok();
    let committed = std::fs::read_to_string(repo("vitrine.schema.json")).unwrap();
    assert!(
        r.stdout == committed,
        "vitrine.schema.json is stale: run `cargo run -p vitrine-model-builder --bin model-builder -- schema > vitrine.schema.json`"
    );
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(s["required"], json!(["store"]));
    assert_eq!(s["additionalProperties"], false, "unknown top-level keys are errors, as in the parser");
}

#[test]
fn every_config_in_the_repository_names_the_schema_and_passes_it() {
    for config in CONFIGS {
        let text = std::fs::read_to_string(repo(config)).unwrap();
        let first = text.lines().next().unwrap();
        let relative = first.strip_prefix("#:schema ").unwrap_or_else(|| panic!("{config}: first line should be `#:schema <path>`, is {first:?}"));
        let target = repo(config).parent().unwrap().join(relative);
        assert_eq!(std::fs::canonicalize(&target).ok(), std::fs::canonicalize(repo("vitrine.schema.json")).ok(), "{config}: {relative} is not the schema");
        assert_eq!(schema_errors(&text), Vec::<String>::new(), "{config}");
    }
}

#[test]
fn schema_refuses_what_the_parser_refuses() {
    let errors = schema_errors("[store]\nname = \"S\"\n[orders]\ndelimter = \";\"\n");
    assert!(errors.iter().any(|e| e.contains("delimter") && e.contains("/orders")), "{errors:?}");
    let errors = schema_errors("[store]\nname = \"S\"\n[[journeys]]\nid = \"j\"\ntrigger = \"cart_abandonment\"\n[[journeys.steps]]\nafter = \"3 days\"\nchannel = \"email\"\nbody = \"b\"\n");
    assert!(errors.iter().any(|e| e.contains("/journeys/0/steps/0/after")), "{errors:?}");
    let errors = schema_errors("[store]\nname = \"S\"\n[[journeys]]\nid = \"j\"\ntrigger = \"someday\"\nsteps = []\n");
    assert!(errors.iter().any(|e| e.contains("/journeys/0/trigger")), "{errors:?}");
    assert!(!schema_errors("[orders]\ndelimiter = \",\"\n").is_empty(), "[store] is required");
    // What the parser accepts, the schema accepts: both forms of a duration and a date format.
    let ok =
        "[store]\nname = \"S\"\n[orders]\ndate_format = \"%Y-%m-%d\"\n[messaging]\nlink_ttl = 86400\nquiet_hours = { start = \"21:00\", end = \"08:00\" }\n";
    assert_eq!(schema_errors(ok), Vec::<String>::new());
    let f = Fixture::new();
    run(&[&"validate", &f.write("vitrine.toml", ok)]).ok();
}

#[test]
fn validate_json_lists_each_problem_with_its_place() {
    let f = Fixture::new();
    let config = f.write("vitrine.toml", "[store]\nname = \"\"\n\n[[placements]]\nid = \"p\"\nsources = [{ recommender = \"nope\" }]\n\n[recs]\ntop_k = 0\n");
    let r = run(&[&"validate", &config, &"--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    assert_eq!(v["ok"], false);
    let problems = v["problems"].as_array().unwrap();
    let find = |key: &str| problems.iter().find(|p| p["key"] == key).unwrap_or_else(|| panic!("no problem at {key}: {v:#}"));
    assert_eq!((find("store.name")["line"].as_u64(), find("store.name")["column"].as_u64()), (Some(2), Some(8)));
    assert_eq!(find("recs.top_k")["line"], 9);
    let source = find("placements[0].sources[0].recommender");
    assert_eq!(source["line"], 6);
    assert!(source["message"].as_str().unwrap().contains("nope"), "{source}");
    assert!(problems.iter().all(|p| p["file"] == config.to_str().unwrap()));

    // A parse error is one problem, with its place.
    let typo = f.write("typo.toml", "[store]\nname = \"S\"\n[orders]\ndelimter = \";\"\n");
    let r = run(&[&"validate", &typo, &"--json"]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["problems"].as_array().unwrap().len(), 1);
    assert_eq!((v["problems"][0]["line"].as_u64(), v["problems"][0]["column"].as_u64()), (Some(4), Some(1)));
    assert!(v["problems"][0]["message"].as_str().unwrap().contains("delimter"));

    let good = f.write("good.toml", MINIMAL_CONFIG);
    let r = run(&[&"validate", &good, &"--json"]);
    r.ok();
    assert_eq!(serde_json::from_str::<Value>(&r.stdout).unwrap(), json!({ "ok": true, "problems": [] }));
}

#[test]
fn recommend_json_says_what_the_text_says() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[recs]\nmin_support = 1\n"));
    f.build_json(&config, &orders).0.ok();
    let bundle = f.path("bundle.bin");
    let r = run(&[&"recommend", &bundle, &"--product", &"85123a", &"--json"]);
    r.ok();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["product"]["sku"], "85123A");
    assert_eq!(v["product"]["title"], "WHITE HANGING HEART T-LIGHT HOLDER");
    assert_eq!(v["tables"][0]["table"], "bought_together");
    let together = v["tables"][0]["items"].as_array().unwrap();
    // 85123A was bought with 71053 (invoice 536365) and with 22633 (536366).
    let mut skus: Vec<&str> = together.iter().map(|i| i["sku"].as_str().unwrap()).collect();
    skus.sort();
    assert_eq!(skus, ["22633", "71053"]);
    assert_eq!(together[0]["rank"], 1);
    assert!(together.iter().all(|i| i["score"].as_f64().unwrap() > 0.0));

    let text = run(&[&"recommend", &bundle, &"--product", &"85123a"]);
    text.ok();
    assert!(text.stdout.contains(&format!("1. {:<10}", together[0]["sku"].as_str().unwrap())), "{}", text.stdout);

    let r = run(&[&"recommend", &bundle, &"--segment", &"nobody", &"--json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
}

const CATALOG_HEADER: &str = "id,title,price,in_stock";

fn build(f: &Fixture, name: &str, catalog: &str, rules: &str) -> PathBuf {
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let products = f.write(&format!("{name}.csv"), catalog);
    let config = f.write(&format!("{name}.toml"), format!("{MINIMAL_CONFIG}[recs]\nmin_support = 1\n{rules}"));
    let out = f.path(&format!("{name}.bin"));
    run(&[&"build", &"--config", &config, &"--orders", &orders, &"--catalog", &products, &"--out", &out, &"--quiet"]).ok();
    out
}

const PLACEMENT: &str = "[[placements]]\nid = \"pdp\"\nwhen = { \"page.type\" = \"product\" }\nsources = [{ recommender = \"bought_together\" }]\n";
const OFFER: &str = "[[offers]]\nid = \"welcome\"\nkind = \"percent_off\"\nvalue = 10\ncode = \"WELCOME10\"\nheadline = \"10% off\"\n";

#[test]
fn diff_names_products_tables_and_rules_that_changed() {
    let f = Fixture::new();
    let old = build(
        &f,
        "old",
        &csv(CATALOG_HEADER, &["85123A,Heart Holder,2.55,yes", "71053,Metal Lantern,3.39,yes", "22633,Hand Warmer,1.85,yes", "11111,Old Vase,9.00,yes"]),
        &format!("{PLACEMENT}{OFFER}"),
    );
    let new = build(
        &f,
        "new",
        &csv(CATALOG_HEADER, &["85123A,Heart Holder,2.95,yes", "71053,White Metal Lantern,3.39,no", "22633,Hand Warmer,1.85,yes", "22222,New Vase,9.00,yes"]),
        &format!("{}{}[[placements]]\nid = \"home\"\nsources = [{{ recommender = \"popular\" }}]\n", PLACEMENT, OFFER.replace("10% off", "Ten percent off")),
    );
    let r = run(&[&"diff", &old, &new, &"--json"]);
    r.ok();
    let d: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(d["changed"], true);
    assert_ne!(d["old"]["build_id"], d["new"]["build_id"]);
    assert_eq!(d["old"]["bytes"], std::fs::metadata(&old).unwrap().len());
    assert_eq!((d["old"]["products"].as_u64(), d["new"]["products"].as_u64()), (Some(4), Some(4)));
    let p = &d["products"];
    assert_eq!(p["added"], json!({ "count": 1, "first": ["22222"] }));
    assert_eq!(p["removed"], json!({ "count": 1, "first": ["11111"] }));
    assert_eq!(p["changed"]["count"], 2);
    assert_eq!((p["price_changed"].as_u64(), p["title_changed"].as_u64(), p["stock_changed"].as_u64()), (Some(1), Some(1), Some(1)));
    let lantern = p["changed"]["first"].as_array().unwrap().iter().find(|c| c["sku"] == "71053").unwrap();
    assert_eq!(lantern["title"], json!(["Metal Lantern", "White Metal Lantern"]));
    assert_eq!(lantern["in_stock"], json!([true, false]));
    assert!(lantern.get("price").is_none(), "{lantern}");
    let heart = p["changed"]["first"].as_array().unwrap().iter().find(|c| c["sku"] == "85123A").unwrap();
    assert_eq!(heart["price"][1].as_f64().map(|x| (x * 100.0).round()), Some(295.0));

    let rules = &d["rules"];
    assert_eq!(rules["placements"], json!({ "added": ["home"], "removed": [], "changed": [] }));
    assert_eq!(rules["offers"], json!({ "added": [], "removed": [], "changed": ["welcome"] }));
    assert_eq!(d["store_changed"], false);
    // Same orders, same recommendation lists: only the catalog and rules moved.
    let together = d["tables"].as_array().unwrap().iter().find(|t| t["table"] == "bought_together").unwrap();
    assert_eq!(together["changed_lists"]["count"], 0, "{together}");

    let text = run(&[&"diff", &old, &new]);
    text.ok();
    assert!(text.stdout.contains("71053: title \"Metal Lantern\" -> \"White Metal Lantern\", in stock true -> false"), "{}", text.stdout);
    assert!(text.stdout.contains("placements   added [home]"), "{}", text.stdout);

    // A bundle against itself: nothing changed.
    let same: Value = serde_json::from_str(&run(&[&"diff", &old, &old, &"--json"]).stdout).unwrap();
    assert_eq!(same["changed"], false);
}

#[test]
fn diff_sees_changed_recommendation_lists() {
    let f = Fixture::new();
    let catalog = csv(CATALOG_HEADER, &["85123A,Heart Holder,2.55,yes", "71053,Metal Lantern,3.39,yes", "22633,Hand Warmer,1.85,yes"]);
    let old = build(&f, "old", &catalog, "");
    // Fewer neighbours kept: every list longer than one is cut.
    let new = build(&f, "new", &catalog, "");
    let config = f.write("cut.toml", format!("{MINIMAL_CONFIG}[recs]\nmin_support = 1\ntop_k = 1\n"));
    let cut = f.path("cut.bin");
    run(&[&"build", &"--config", &config, &"--orders", &f.path("orders.csv"), &"--catalog", &f.path("new.csv"), &"--out", &cut, &"--quiet"]).ok();
    let unchanged: Value = serde_json::from_str(&run(&[&"diff", &old, &new, &"--json"]).stdout).unwrap();
    assert_eq!(unchanged["changed"], false, "the same inputs build the same lists");
    let d: Value = serde_json::from_str(&run(&[&"diff", &old, &cut, &"--json"]).stdout).unwrap();
    let together = d["tables"].as_array().unwrap().iter().find(|t| t["table"] == "bought_together").unwrap();
    // 85123A had two companions (71053, 22633); so had 22633 (85123A, 71053) and 71053.
    assert_eq!(together["changed_lists"]["count"], 3, "{together}");
    assert!(together["new_entries"].as_u64() < together["old_entries"].as_u64());
    assert_eq!(d["changed"], true);
}

#[test]
fn diff_refuses_a_file_that_is_not_a_bundle() {
    let f = Fixture::new();
    let garbage = f.write("garbage.bin", b"not a bundle, not at all, not even close to one, no");
    let r = run(&[&"diff", &garbage, &garbage]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("garbage.bin: not a Vitrine bundle"), "{}", r.stderr);
}

/// `init`'s config validates and builds, with the columns of the shape it recognised.
fn init_and_build(f: &Fixture, orders: &Path, catalog: Option<&Path>) -> Value {
    let out = f.path("vitrine.toml");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"init", &"--orders", &orders, &"--out", &out];
    if let Some(c) = &catalog {
        args.extend([&"--catalog" as &dyn AsRef<std::ffi::OsStr>, c]);
    }
    let r = run(&args);
    r.ok();
    run(&[&"validate", &out]).ok();
    let bundle = f.path("init.bin");
    let b = run(&[&"build", &"--config", &out, &"--out", &bundle, &"--json"]);
    b.ok();
    let config: Value = toml::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(schema_errors(&std::fs::read_to_string(&out).unwrap()), Vec::<String>::new());
    json!({ "config": config, "summary": serde_json::from_str::<Value>(&b.stdout).unwrap(), "stderr": r.stderr })
}

#[test]
fn init_recognises_both_uci_releases() {
    let f = Fixture::new();
    let orders = f.write("online_retail.csv", csv(UCI_HEADER, UCI_ROWS));
    let v = init_and_build(&f, &orders, None);
    let columns = &v["config"]["orders"]["columns"];
    assert_eq!(columns["invoice"], "InvoiceNo");
    assert_eq!(columns["price"], "UnitPrice");
    assert_eq!(columns["customer"], "CustomerID");
    assert_eq!(v["config"]["orders"]["path"], "online_retail.csv", "relative to the config");
    assert_eq!(v["config"]["orders"]["date_format"], json!(["%Y-%m-%d %H:%M:%S"]));
    assert!(v["stderr"].as_str().unwrap().contains("UCI Online Retail (2010-2011 release)"), "{}", v["stderr"]);
    assert_eq!(v["summary"]["dataset"]["orders"], 3);
    assert_eq!(v["summary"]["dataset"]["customers"], 2);

    // The 2009-2011 release, its dates as the original spreadsheet wrote them.
    let f = Fixture::new();
    let orders = f.write(
        "online_retail_II.csv",
        csv(
            "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country",
            &[
                "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,12/1/2009 7:45,6.95,13085.0,United Kingdom",
                "489434,79323P,PINK CHERRY LIGHTS,12,12/1/2009 7:45,6.75,13085.0,United Kingdom",
                "489435,22350,CAT BOWL ,12,12/13/2009 7:46,2.55,13085.0,United Kingdom",
                "C489449,22087,PAPER BUNTING WHITE LACE,-12,12/1/2009 10:33,2.95,16321.0,Australia",
            ],
        ),
    );
    let v = init_and_build(&f, &orders, None);
    let columns = &v["config"]["orders"]["columns"];
    assert_eq!((columns["invoice"].as_str(), columns["price"].as_str(), columns["customer"].as_str()), (Some("Invoice"), Some("Price"), Some("Customer ID")));
    assert_eq!(v["config"]["orders"]["date_format"], json!(["%m/%d/%Y %H:%M"]), "12/13 is month/day");
    assert!(v["stderr"].as_str().unwrap().contains("Online Retail II"), "{}", v["stderr"]);
    assert_eq!(v["summary"]["ingest"]["dropped"]["cancelled"], 1);
    assert_eq!(v["summary"]["dataset"]["orders"], 2);
}

#[test]
fn init_recognises_a_shopify_export_and_its_catalog() {
    let f = Fixture::new();
    let orders = f.write(
        "orders_export.csv",
        csv(
            "Name,Email,Financial Status,Paid at,Currency,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Country,Id",
            &[
                "#1001,ann@example.com,paid,2024-03-01 10:16:00 +0100,GBP,2024-03-01 10:15:00 +0100,2,Linen Apron,24.00,APR-1,GB,1",
                "#1001,,,,,2024-03-01 10:15:00 +0100,1,Enamel Mug,12.50,MUG-2,,1",
                "#1002,bob@example.com,paid,,GBP,2024-03-02 18:40:12 -0500,1,\"Tea Towel, set of 2\",9.00,TT-3,US,2",
                "#1003,ann@example.com,paid,,GBP,2024-03-09 08:00:00 +0100,3,Enamel Mug,12.50,MUG-2,GB,3",
            ],
        ),
    );
    let products = f.write(
        "products_export.csv",
        "Handle,Title,Vendor,Type,Tags,Variant SKU,Variant Price,Variant Inventory Qty,Image Src\n\
         linen-apron,Linen Apron,Acme,Kitchen,\"linen, apron\",APR-1,24.00,5,https://cdn.example/apron.jpg\n\
         enamel-mug,Enamel Mug,Acme,Kitchen,mug,MUG-2,12.50,0,\n\
         tea-towel,\"Tea Towel, set of 2\",Acme,Kitchen,,TT-3,9.00,12,\n",
    );
    let v = init_and_build(&f, &orders, Some(&products));
    let columns = &v["config"]["orders"]["columns"];
    assert_eq!(
        columns,
        &json!({ "invoice": "Name", "sku": "Lineitem sku", "quantity": "Lineitem quantity", "date": "Created at", "price": "Lineitem price",
                 "title": "Lineitem name", "customer": "Email", "country": "Billing Country" })
    );
    assert_eq!(v["config"]["orders"]["date_format"], json!(["%Y-%m-%d %H:%M:%S %z"]));
    let catalog = &v["config"]["catalog"]["columns"];
    assert_eq!((catalog["id"].as_str(), catalog["brand"].as_str(), catalog["category"].as_str()), (Some("Variant SKU"), Some("Vendor"), Some("Type")));
    assert_eq!(catalog["in_stock"], "Variant Inventory Qty");
    assert_eq!(catalog["url"], "", "no product URL column: the template's");
    assert!(v["stderr"].as_str().unwrap().contains("Shopify order export"), "{}", v["stderr"]);
    assert_eq!(v["summary"]["dataset"]["orders"], 3);
    assert_eq!(v["summary"]["dataset"]["customers"], 2);
    assert_eq!(v["summary"]["ingest"]["catalog"]["products"], 3);
}

#[test]
fn init_names_the_header_when_it_cannot_map_the_required_columns() {
    let f = Fixture::new();
    let orders = f.write("export.csv", "when,what,how many\n2024-01-01,A,1\n");
    let out = f.path("vitrine.toml");
    let r = run(&[&"init", &"--orders", &orders, &"--out", &out]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("export.csv:1: cannot tell which orders columns hold invoice"), "{}", r.stderr);
    assert!(r.stderr.contains("the header has: when, what, how many"), "{}", r.stderr);
    assert!(!out.exists());

    // Never overwrites.
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let existing = f.write("existing.toml", "# mine\n");
    let r = run(&[&"init", &"--orders", &orders, &"--out", &existing]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("exists already"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "# mine\n");
}
