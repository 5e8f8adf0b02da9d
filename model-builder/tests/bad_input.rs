//! Bad input gets an error naming file, line and field, never a panic; under `bad_rows = "skip"`
//! the bad row is counted and shown and the good rows are kept, under `"stop"` the build stops.

mod common;

use common::*;

/// The UCI fixture with `bad` inserted as the third line of the file (after the header and one
/// good row), so every error below must say `orders.csv:3`.
fn orders_with_bad_row(bad: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(UCI_HEADER.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(UCI_ROWS[0].as_bytes());
    out.push(b'\n');
    out.extend_from_slice(bad);
    out.push(b'\n');
    for r in &UCI_ROWS[1..] {
        out.extend_from_slice(r.as_bytes());
        out.push(b'\n');
    }
    out
}

/// Runs the bad row under both policies and returns the message `stop` printed.
fn check_bad_row(bad: &[u8], expected: &str) {
    let f = Fixture::new();
    let orders = f.write("orders.csv", orders_with_bad_row(bad));

    // skip: the build goes on, counts the row, shows it, keeps the six good rows.
    let skip = f.write("skip.toml", format!("{MINIMAL_CONFIG}[cleaning]\nbad_rows = \"skip\"\n"));
    let (r, summary) = f.build_json(&skip, &orders);
    r.ok();
    let summary = summary.unwrap();
    assert_eq!(summary["ingest"]["bad_rows"], 1, "{summary:#}");
    assert_eq!(summary["ingest"]["kept_lines"], 6, "{summary:#}");
    let shown = summary["ingest"]["first_bad_rows"][0].as_str().unwrap();
    assert!(shown.ends_with(expected) && shown.contains("orders.csv:3: "), "shown {shown:?}, expected …{expected:?}");

    // The text summary shows it too.
    let out = f.path("text.bin");
    let text = run(&[&"build", &"--config", &skip, &"--orders", &orders, &"--out", &out]);
    text.ok();
    assert!(text.stdout.contains(&format!("orders.csv:3: {expected}")), "{}", text.stdout);

    // stop: the first bad row ends the build with a clear error and a failing status.
    let stop = f.write("stop.toml", format!("{MINIMAL_CONFIG}[cleaning]\nbad_rows = \"stop\"\n"));
    let (r, _) = f.build_json(&stop, &orders);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: ") && r.stderr.contains(&format!("orders.csv:3: {expected}")), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

#[test]
fn malformed_row_wrong_field_count() {
    check_bad_row(b"536370,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00", "expected 8 fields, found 5 (a stray delimiter or quote?)");
}

#[test]
fn malformed_row_unbalanced_quote() {
    // A quote opened by mistake swallows the delimiters after it: a row with too few fields.
    check_bad_row(
        b"536370,22633,\"HAND WARMER, UNION JACK,6,2010-12-01 08:28:00,1.85,17850,United Kingdom\"",
        "expected 8 fields, found 3 (a stray delimiter or quote?)",
    );
}

#[test]
fn bad_number() {
    check_bad_row(b"536370,22633,HAND WARMER UNION JACK,12x,2010-12-01 08:28:00,1.85,17850,United Kingdom", "field Quantity: \"12x\" is not a number");
}

#[test]
fn bad_price() {
    check_bad_row(
        b"536370,22633,HAND WARMER UNION JACK,12,2010-12-01 08:28:00,one pound,17850,United Kingdom",
        "field UnitPrice: \"one pound\" is not a number",
    );
}

#[test]
fn bad_date() {
    check_bad_row(
        b"536370,22633,HAND WARMER UNION JACK,6,2010-13-45 08:28:00,1.85,17850,United Kingdom",
        "field InvoiceDate: \"2010-13-45 08:28:00\" is not a date in the format \"%Y-%m-%d %H:%M:%S\"",
    );
}

#[test]
fn invalid_utf8() {
    check_bad_row(
        b"536370,22633,HAND WARMER \xff UNION JACK,6,2010-12-01 08:28:00,1.85,17850,United Kingdom",
        "field Description: invalid UTF-8 at byte 13 of the field (after \"HAND WARMER \")",
    );
}

#[test]
fn missing_column_lists_the_header() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,Price,CustomerID,Country", &[]));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    let (r, _) = f.build_json(&config, &orders);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "orders.csv:1: column \"UnitPrice\" (config key orders.columns.price) is not in the header; \
             the header has: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, Price, CustomerID, Country"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn a_mapped_optional_column_must_exist() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, UCI_ROWS));
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[orders.columns]\ncustomer = \"Customer ID\"\n"));
    let (r, _) = f.build_json(&config, &orders);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("column \"Customer ID\" (config key orders.columns.customer) is not in the header"), "{}", r.stderr);
}

#[test]
fn too_many_bad_rows_stop_even_under_skip() {
    let f = Fixture::new();
    let rows: Vec<String> = (0..5).map(|i| format!("5370{i},22633,HAND WARMER,x,2010-12-01 08:28:00,1.85,17850,UK")).collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let orders = f.write("orders.csv", csv(UCI_HEADER, &rows));
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[cleaning]\nmax_bad_rows = 3\n"));
    let (r, _) = f.build_json(&config, &orders);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("4 bad rows in") && r.stderr.contains("exceed cleaning.max_bad_rows = 3; the first: "), "{}", r.stderr);
    assert!(r.stderr.contains("orders.csv:2: field Quantity: \"x\" is not a number"), "{}", r.stderr);
}

#[test]
fn config_typo_names_file_line_column_and_key() {
    let f = Fixture::new();
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}\n[orders]\ndelimter = \";\"\n"));
    let r = run(&[&"validate", &config]);
    assert_eq!(r.code, 1);
    let expected = format!("error: {}:5:1: orders.delimter: unknown field 'delimter', expected one of ", config.display());
    assert!(r.stderr.starts_with(&expected), "{}", r.stderr);
    assert!(r.stderr.contains("'delimiter'"), "{}", r.stderr);

    // build checks the config the same way, before reading any data.
    let (r, _) = f.build_json(&config, &f.path("does-not-exist.csv"));
    assert!(r.stderr.starts_with(&expected), "{}", r.stderr);
}

#[test]
fn config_wrong_type_names_the_key() {
    let f = Fixture::new();
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[[placements]]\nid = \"a\"\nmax_items = \"eight\"\n"));
    let r = run(&[&"validate", &config]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("vitrine.toml:5:13: placements[0].max_items: invalid type: string \"eight\""), "{}", r.stderr);
}

#[test]
fn config_semantic_problems_are_all_listed() {
    let f = Fixture::new();
    let config = f.write(
        "vitrine.toml",
        format!(
            "{MINIMAL_CONFIG}[[placements]]\nid = \"a\"\nsources = [{{ recommender = \"popular\" }}]\n\
             [[placements]]\nid = \"a\"\nsources = [{{ recommender = \"bestsellers\" }}]\n\
             [[experiments]]\nkey = \"e\"\nplacement = \"b\"\nweights = [0.2, 0.3, 0.5]\narms = [{{ name = \"x\" }}, {{ name = \"y\" }}]\n"
        ),
    );
    let r = run(&[&"validate", &config]);
    assert_eq!(r.code, 1);
    for expected in [
        "vitrine.toml has 4 problems:",
        "vitrine.toml:7:6: placements[1].id: duplicate placement id \"a\" (first at placements[0])",
        "placements[1].sources[0].recommender: unknown recommender \"bestsellers\"",
        "experiments[0].placement: unknown placement \"b\"",
        "experiments[0].weights: 3 weights for 2 arms",
    ] {
        assert!(r.stderr.contains(expected), "missing {expected:?} in\n{}", r.stderr);
    }
}

/// `decided` is the slice's copy of the edge's decision: a config blending it would show
/// nothing anywhere, so the check refuses it where it stands, and the list of known
/// recommenders never offers it.
#[test]
fn the_slices_own_recommender_is_refused_in_a_config() {
    let f = Fixture::new();
    let config = f.write(
        "vitrine.toml",
        format!("{MINIMAL_CONFIG}[[placements]]\nid = \"a\"\nsources = [{{ recommender = \"decided\" }}]\n[[placements]]\nid = \"b\"\nsources = [{{ recommender = \"bestseller\" }}]\n"),
    );
    let r = run(&[&"validate", &config]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("vitrine.toml:5:28: placements[0].sources[0].recommender: `decided` is what a slice carries"), "{}", r.stderr);
    let known = r.stderr.lines().find(|l| l.contains("unknown recommender \"bestseller\"")).expect(&r.stderr);
    assert!(known.contains("new_arrivals") && !known.contains("decided"), "{known}");
}

/// A unique code's config mistakes, each at its line and naming the offer.
#[test]
fn unique_code_problems_point_at_their_lines() {
    let f = Fixture::new();
    let config = f.write(
        "vitrine.toml",
        format!(
            "{MINIMAL_CONFIG}[[offers]]\nid = \"w\"\nkind = \"percent_off\"\nvalue = 10\ncode = \"W10\"\nheadline = \"10% off\"\n\
             [[unique_codes]]\noffer = \"w\"\nprefix = \"w-\"\nvalid_days = 400\n\
             [[unique_codes]]\noffer = \"nope\"\nprefix = \"N\"\nvalid_days = 1\n"
        ),
    );
    let r = run(&[&"validate", &config]);
    assert_eq!(r.code, 1);
    let lines = MINIMAL_CONFIG.lines().count();
    for expected in [
        format!("vitrine.toml:{}:9: unique_codes[0].offer: offer \"w\" also has a static code (offers[0].code)", lines + 8),
        format!("vitrine.toml:{}:10: unique_codes[0].prefix: \"w-\" is not 1 to 16 capital letters and digits", lines + 9),
        format!("vitrine.toml:{}:14: unique_codes[0].valid_days: 400 is not 1 to 366 days", lines + 10),
        format!("vitrine.toml:{}:9: unique_codes[1].offer: no offer has id \"nope\"", lines + 12),
    ] {
        assert!(r.stderr.contains(&expected), "missing {expected:?} in\n{}", r.stderr);
    }
}

#[test]
fn missing_orders_file_is_an_error_not_a_panic() {
    let f = Fixture::new();
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    let (r, _) = f.build_json(&config, &f.path("nope.csv"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error: ") && r.stderr.contains("nope.csv: No such file"), "{}", r.stderr);
}

#[test]
fn a_file_with_no_sales_says_so() {
    let f = Fixture::new();
    let orders = f.write("orders.csv", csv(UCI_HEADER, &["C536379,22633,HAND WARMER,-1,2010-12-01 09:41:00,1.85,14527,United Kingdom"]));
    let config = f.write("vitrine.toml", MINIMAL_CONFIG);
    let (r, _) = f.build_json(&config, &orders);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no sales left after cleaning (1 rows read, 0 bad)"), "{}", r.stderr);
}
