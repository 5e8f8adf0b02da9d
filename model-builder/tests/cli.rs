//! The CLI on small fixtures: other export layouts, inspect, recommend, validate.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn uci_layout_builds_and_counts() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    let (r, s) = f.build_json(&config, &orders);
    r.ok();
    let s = s.unwrap();
    assert_eq!(s["ingest"]["rows"], 6);
    assert_eq!(s["ingest"]["kept_lines"], 6);
    assert_eq!(s["ingest"]["guest_lines"], 2);
    assert_eq!(s["dataset"]["orders"], 3);
    assert_eq!(s["dataset"]["products"], 3);
    assert_eq!(s["dataset"]["customers"], 2);
    assert_eq!(s["dataset"]["countries"], 2);
}

/// The 2009-2011 release ("Online Retail II") names three columns differently.
#[test]
fn online_retail_ii_headers_via_mapping() {
    let f = Fixture::new();
    let orders = f.write(
        "orders.csv",
        csv(
            "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country",
            &[
                "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom",
                "489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom",
                "489435,22350,CAT BOWL ,12,2009-12-01 07:46:00,2.55,13085.0,United Kingdom",
                "C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,Australia",
            ],
        ),
    );
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[orders.columns]\ninvoice = \"Invoice\"\nprice = \"Price\"\ncustomer = \"Customer ID\"\n"));
    let (r, s) = f.build_json(&config, &orders);
    r.ok();
    let s = s.unwrap();
    assert_eq!(s["ingest"]["kept_lines"], 3);
    assert_eq!(s["ingest"]["dropped"]["cancelled"], 1);
    assert_eq!(s["dataset"]["orders"], 2);
    assert_eq!(s["dataset"]["customers"], 1);
}

/// A Shopify-style order export: order-level fields only on an order's first line, dates with
/// a UTC offset, emails as customer ids.
#[test]
fn shopify_style_export_via_mapping() {
    let f = Fixture::new();
    let orders = f.write(
        "orders_export.csv",
        csv(
            "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Country",
            &[
                "#1001,ann@example.com,paid,2024-03-01 10:15:00 +0100,2,Linen Apron,24.00,APR-1,GB",
                "#1001,,,,1,Enamel Mug,12.50,MUG-2,",
                "#1002,bob@example.com,paid,2024-03-02 18:40:12 -0500,1,\"Tea Towel, set of 2\",9.00,TT-3,US",
                "#1003,ann@example.com,paid,2024-03-09 08:00:00 +0100,3,Enamel Mug,12.50,MUG-2,GB",
            ],
        ),
    );
    let config = f.write(
        "vitrine.toml",
        format!(
            "{MINIMAL_CONFIG}[orders]\ndate_format = \"%Y-%m-%d %H:%M:%S %z\"\n\
             [orders.columns]\ninvoice = \"Name\"\nsku = \"Lineitem sku\"\ntitle = \"Lineitem name\"\n\
             quantity = \"Lineitem quantity\"\ndate = \"Created at\"\nprice = \"Lineitem price\"\n\
             customer = \"Email\"\ncountry = \"Billing Country\"\n\
             [catalog]\nurl_template = \"/products/{{slug}}\"\n"
        ),
    );
    let profiles = f.path("profiles.jsonl");
    let out = f.path("shop.bin");
    let r = run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &out, &"--profiles", &profiles, &"--json"]);
    r.ok();
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["ingest"]["kept_lines"], 4);
    assert_eq!(s["ingest"]["guest_lines"], 0, "the second line inherits the order's customer");
    assert_eq!(s["dataset"]["orders"], 3);
    assert_eq!(s["dataset"]["products"], 3);
    assert_eq!(s["dataset"]["customers"], 2);
    assert_eq!(s["dataset"]["countries"], 2);
    assert_eq!(s["dataset"]["first_day"], "2024-03-01");

    let lines = std::fs::read_to_string(&profiles).unwrap();
    let ann: Value = lines.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|p| p["customer_id"] == "ann@example.com").unwrap();
    assert_eq!(ann["frequency"], 2);
    assert_eq!(ann["monetary"], 98.0);
    assert_eq!(ann["first_order"], "2024-03-01");
    assert_eq!(ann["typical_gap_days"], 8.0);

    let r = run(&[&"recommend", &out, &"--product", &"mug-2"]);
    r.ok();
    assert!(r.stdout.starts_with("MUG-2  Enamel Mug  (12.50, -)"), "{}", r.stdout);
}

#[test]
fn inspect_json_has_the_documented_fields() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    f.build_json(&config, &orders).0.ok();
    let bundle = f.path("bundle.bin");
    let r = run(&[&"inspect", &bundle, &"--json"]);
    r.ok();
    let i: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(i["format_version"], vitrine_engine::bundle::FORMAT_VERSION);
    assert_eq!(i["build_id"].as_str().unwrap().len(), 32);
    assert!(i["created_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(i["products"], 3);
    assert_eq!(i["customers"], 2);
    assert_eq!(i["orders"], 3);
    assert_eq!(i["bytes"], std::fs::metadata(&bundle).unwrap().len());
    let segments = i["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 11);
    assert!(segments.iter().all(|s| s["name"].is_string() && s["customers"].is_u64()));
    assert_eq!(segments.iter().map(|s| s["customers"].as_u64().unwrap()).sum::<u64>(), 2);
    for table in ["bought_together", "similar", "trending", "popular", "popular_by_country", "popular_by_segment"] {
        assert!(!i["tables"][table].is_null(), "tables.{table} missing in {i:#}");
    }

    let text = run(&[&"inspect", &bundle]);
    text.ok();
    assert!(text.stdout.starts_with(&format!("bundle v{} (", vitrine_engine::bundle::FORMAT_VERSION)), "{}", text.stdout);
}

#[test]
fn inspect_refuses_a_bad_bundle_with_exit_code_2() {
    let f = Fixture::new();
    let garbage = f.write("garbage.bin", b"this is not a bundle at all, not even close, really not one");
    let r = run(&[&"inspect", &garbage]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error: ") && r.stderr.contains("garbage.bin: not a Vitrine bundle: wrong magic bytes"), "{}", r.stderr);

    // A real bundle cut short.
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    f.build_json(&config, &orders).0.ok();
    let bytes = std::fs::read(f.path("bundle.bin")).unwrap();
    let cut = f.write("cut.bin", &bytes[..bytes.len() - 10]);
    let r = run(&[&"inspect", &cut, &"--json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bundle truncated"), "{}", r.stderr);
}

#[test]
fn recommend_for_a_segment_and_unknown_names() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    f.build_json(&config, &orders).0.ok();
    let bundle = f.path("bundle.bin");

    let r = run(&[&"recommend", &bundle, &"--product", &"NOPE"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no product with SKU \"NOPE\""), "{}", r.stderr);

    let r = run(&[&"recommend", &bundle, &"--segment", &"Nobody"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no popular_by_segment list for \"Nobody\""), "{}", r.stderr);

    let r = run(&[&"recommend", &bundle, &"--product", &"85123A", &"--segment", &"Lost"]);
    assert_eq!(r.code, 2, "clap refuses both at once: {}", r.stderr);
}

#[test]
fn validate_accepts_the_example_configs() {
    for config in ["../examples/online-retail/vitrine.toml", "../examples/demo/vitrine.toml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(config);
        let r = run(&[&"validate", &path]);
        r.ok();
        assert_eq!(r.stdout, "ok\n");
    }
}

#[test]
fn quiet_build_prints_nothing() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    let out = f.path("q.bin");
    let r = run(&[&"build", &"--config", &config, &"--orders", &orders, &"--out", &out, &"--quiet"]);
    r.ok();
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));
    assert!(out.exists());
}

/// A catalog export: its products (all of them, sold or not) make the catalog; order lines for
/// anything else are kept out and counted; missing fields are derived.
#[test]
fn catalog_export_defines_the_products() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    // Read through the config's `[catalog] path`, not a flag.
    f.write(
        "products.csv",
        "Handle,Title,Price,Type,Vendor,Tags,Available\n\
         85123A,White Hanging Heart T-Light Holder,2.95,Candles & Lights,Acme,\"hearts, white\",yes\n\
         71053,White Metal Lantern,,Candles & Lights,Acme,,no\n\
         99999,Never Sold Vase,12.00,Home,,vase,yes\n",
    );
    let config = f.write(
        "vitrine.toml",
        format!(
            "{MINIMAL_CONFIG}[catalog]\npath = \"products.csv\"\nurl_template = \"/p/{{slug}}\"\n\
             [catalog.columns]\nid = \"Handle\"\ntitle = \"Title\"\nprice = \"Price\"\ncategory = \"Type\"\n\
             brand = \"Vendor\"\ntags = \"Tags\"\nin_stock = \"Available\"\n"
        ),
    );
    let (r, s) = f.build_json(&config, &orders);
    r.ok();
    let s = s.unwrap();
    assert_eq!(s["ingest"]["catalog"]["products"], 3);
    assert_eq!(s["ingest"]["dropped"]["not_in_catalog"], 2, "the two 22633 lines");
    assert_eq!(s["ingest"]["kept_lines"], 4);
    assert_eq!(s["dataset"]["products"], 3);

    let bytes = std::fs::read(f.path("bundle.bin")).unwrap();
    let b = vitrine_engine::bundle::decode(&bytes).unwrap().body.catalog;
    assert_eq!(b.categories, ["Candles & Lights", "Home"]);
    let lantern = b.get(b.index_of("71053").unwrap()).unwrap().to_product();
    assert_eq!(lantern.title, "White Metal Lantern");
    assert_eq!(lantern.price, 3.39, "no catalog price: the median price in the orders");
    assert!(!lantern.in_stock);
    assert_eq!(lantern.url, "/p/white-metal-lantern");
    let heart = b.get(b.index_of("85123A").unwrap()).unwrap().to_product();
    assert_eq!((heart.brand.as_str(), heart.tags.clone()), ("Acme", vec!["hearts".to_string(), "white".to_string()]));
    assert_eq!(heart.price, 2.95);
}

#[test]
fn a_bad_catalog_row_names_its_file_line_and_field() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    f.write("products.csv", "id,price\n85123A,2.95\n71053,cheap\n");
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[catalog]\npath = \"products.csv\"\n[cleaning]\nbad_rows = \"stop\"\n"));
    let (r, _) = f.build_json(&config, &orders);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("products.csv:3: field price: \"cheap\" is not a number"), "{}", r.stderr);
}

/// A catalog link a browser would run (tab inside `javascript:`, as the WHATWG parser ignores
/// it) is a bad row, named; under `skip` the other products are still built.
#[test]
fn a_script_link_in_the_catalog_is_a_bad_row() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    f.write("products.csv", "id,price,url\n85123A,2.95,/p/85123A\n71053,3.39,\"java\tscript:alert(1)\"\n");
    let config = f.write(
        "vitrine.toml",
        format!("{MINIMAL_CONFIG}[catalog]\npath = \"products.csv\"\n[catalog.columns]\nurl = \"url\"\n[cleaning]\nbad_rows = \"stop\"\n"),
    );
    let (r, _) = f.build_json(&config, &orders);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("products.csv:3: field url: \"java\\tscript:alert(1)\" is a javascript: URL; links must be http(s) or relative"), "{}", r.stderr);
}

/// The sample-ratio check expects what the store's bundle buckets with: a 20% holdout split
/// 20/80 is no mismatch with `--bundle`, and is one against the default holdout (5%).
#[test]
fn the_report_checks_the_split_the_bundle_configured() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}\n[measurement]\nholdout = 0.2\n"));
    f.build_json(&config, &orders).0.ok();
    let lines: String = (0..1000)
        .map(|i| {
            let arm = if i % 5 == 0 { "holdout" } else { "personalized" };
            format!("{{\"messageId\":\"m{i}\",\"event\":\"Experiment Viewed\",\"ts\":1764633600,\"unit\":\"u{i}\",\"source\":\"edge\",\"experiment\":\"vitrine-holdout\",\"arm\":\"{arm}\"}}\n")
        })
        .collect();
    std::fs::create_dir_all(f.path("export/events/day=2025-12-02")).unwrap();
    f.write("export/events/day=2025-12-02/a.jsonl", lines);
    let srm = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        let r = run(&[&[&"report" as &dyn AsRef<std::ffi::OsStr>, &f.path("export"), &"--json"][..], args].concat());
        r.ok();
        serde_json::from_str::<Value>(&r.stdout).unwrap()["experiments"][0]["srm"].clone()
    };
    let with_bundle = srm(&[&"--bundle", &f.path("bundle.bin")]);
    assert_eq!(with_bundle["flagged"], false, "{with_bundle}");
    assert_eq!(with_bundle["weights"], serde_json::json!([0.2, 0.8]));
    assert_eq!(srm(&[])["flagged"], true, "against the default 5% holdout, 20% is a mismatch");
    let bad = run(&[&"report", &f.path("export"), &"--bundle", &orders]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

/// Exports as users have them: `orders.csv.gz` (and a gzip'd catalog) read by their name, with
/// the same result as the plain files; a gzip cut short is an error naming the file.
#[test]
fn gzipped_exports_build_the_same_bundle() {
    use std::io::Write;
    let f = Fixture::new();
    let plain = csv(UCI_HEADER, UCI_ROWS);
    let orders = f.write("orders.csv", &plain);
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    let (r, want) = f.build_json(&config, &orders);
    r.ok();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(plain.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let gz_orders = f.write("orders.csv.gz", &gz);
    let (r, got) = f.build_json(&config, &gz_orders);
    r.ok();
    let (want, got) = (want.unwrap(), got.unwrap());
    assert_eq!(got["dataset"], want["dataset"]);
    assert_eq!(got["ingest"]["rows"], want["ingest"]["rows"]);
    assert_eq!(got["ingest"]["kept_lines"], want["ingest"]["kept_lines"]);
    let cut = f.write("cut.csv.gz", &gz[..gz.len() / 2]);
    let (r, _) = f.build_json(&config, &cut);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("cut.csv.gz"), "the error names the file: {}", r.stderr);
}

#[test]
fn version_is_the_workspaces() {
    for flag in ["--version", "-V"] {
        let r = run(&[&flag]);
        r.ok();
        assert_eq!(r.stdout, format!("model-builder {}\n", env!("CARGO_PKG_VERSION")));
    }
}
