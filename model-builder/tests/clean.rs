//! `model-builder clean`: the cleaned lines and catalog it writes are the build's Dataset, in
//! every output format, and on the real UCI data its line count is the build's kept lines.

mod common;

use std::path::Path;

use common::*;
use vitrine_model_builder::config::LoadedConfig;
use vitrine_model_builder::ingest;

/// The rows of a CSV file (gzip'd or not), header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let input = ingest::open(path).unwrap();
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(input);
    r.records().map(|rec| rec.unwrap().iter().map(String::from).collect()).collect()
}

fn small_store(f: &Fixture) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut rows = UCI_ROWS.to_vec();
    // Cleaned away: a cancellation, a return, postage.
    rows.extend([
        "C536368,22633,HAND WARMER UNION JACK,-6,2010-12-04 10:00:00,1.85,13047,France",
        "536369,POST,POSTAGE,1,2010-12-04 11:00:00,18,13047,France",
        "536370,22633,HAND WARMER UNION JACK,-2,2010-12-04 12:00:00,1.85,17850,United Kingdom",
    ]);
    let orders = f.write("orders.csv", csv(UCI_HEADER, &rows));
    let config = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[cleaning]\nnon_product_skus = [\"POST\"]\n"));
    (config, orders)
}

#[test]
fn clean_writes_the_kept_lines_in_order_with_guests_blank() {
    let f = Fixture::new();
    let (config, orders) = small_store(&f);
    let out = f.path("lines.csv");
    let products = f.path("products.csv");
    let r = run(&[&"clean", &"--config", &config, &"--orders", &orders, &"--out", &out, &"--products", &products]);
    r.ok();
    assert!(r.stdout.contains("wrote 5 order lines (3 orders"), "{}", r.stdout);
    assert!(r.stdout.contains("wrote 3 products"), "{}", r.stdout);
    let rows = csv_rows(&out);
    assert_eq!(rows[0], ["order_id", "customer_id", "country", "time", "sku", "quantity", "unit_price"]);
    assert_eq!(rows[1], ["536365", "17850", "United Kingdom", "1291191960", "85123A", "6", "2.55"]);
    // The cancellation of 6 × 22633 by 13047 undoes that sale.
    let lines: Vec<_> = rows[1..].iter().map(|r| r.join(",")).collect();
    assert_eq!(
        lines,
        [
            "536365,17850,United Kingdom,1291191960,85123A,6,2.55",
            "536365,17850,United Kingdom,1291191960,71053,6,3.39",
            "536366,13047,France,1291280400,85123A,2,2.55",
            "536367,,United Kingdom,1291370400,71053,1,3.39",
            "536367,,United Kingdom,1291370400,22633,3,1.85",
        ]
    );
    let catalog = csv_rows(&products);
    assert_eq!(catalog[0], ["sku", "title", "url", "image", "price", "category", "brand", "tags", "in_stock"]);
    assert_eq!(catalog.len(), 4);
    assert_eq!(catalog[1][0], "22633");
    assert_eq!(catalog[1][1], "HAND WARMER UNION JACK");
    assert_eq!(catalog[1][4], "1.85");
    assert_eq!(catalog[1][8], "true");
}

#[test]
fn help_documents_the_schema_others_rely_on() {
    let help = run(&[&"clean", &"--help"]).ok().stdout.clone();
    for column in ["order_id     string", "customer_id  string", "time         int64", "quantity     int64", "unit_price   double"] {
        assert!(help.contains(column), "{column}: {help}");
    }
}

#[test]
fn gzip_output_holds_the_same_rows_and_other_names_are_refused() {
    let f = Fixture::new();
    let (config, orders) = small_store(&f);
    let plain = f.path("lines.csv");
    let gz = f.path("lines.csv.gz");
    run(&[&"clean", &"--config", &config, &"--orders", &orders, &"--out", &plain]).ok();
    run(&[&"clean", &"--config", &config, &"--orders", &orders, &"--out", &gz]).ok();
    assert_eq!(std::fs::read(&gz).unwrap()[..2], [0x1f, 0x8b], "gzip magic");
    assert_eq!(csv_rows(&gz), csv_rows(&plain));

    let r = run(&[&"clean", &"--config", &config, &"--orders", &orders, &"--out", &f.path("lines.txt")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("lines.txt: name the output .csv, .csv.gz or .parquet"), "{}", r.stderr);
}

#[test]
fn on_the_uci_data_clean_writes_the_builds_kept_lines() {
    let f = Fixture::new();
    let out = f.path("lines.csv.gz");
    run(&[&"clean", &"--config", &UCI_CONFIG, &"--orders", &UCI_ORDERS, &"--out", &out, &"--quiet"]).ok();
    let loaded = LoadedConfig::read(Path::new(UCI_CONFIG)).unwrap();
    let (ds, report) = ingest::ingest(&loaded.config, Path::new(UCI_ORDERS), None, &indicatif::ProgressBar::hidden()).unwrap();
    let rows = csv_rows(&out);
    assert_eq!(rows.len() as u64 - 1, report.kept_lines);
    assert_eq!(report.kept_lines, 524_923);
    let quantity: u64 = rows[1..].iter().map(|r| r[5].parse::<u64>().unwrap()).sum();
    assert_eq!(quantity, ds.lines.iter().map(|l| u64::from(l.quantity)).sum::<u64>());

    // As Parquet: the same number of rows, in row groups (DuckDB splits its work by them).
    let parquet = f.path("lines.parquet");
    run(&[&"clean", &"--config", &UCI_CONFIG, &"--orders", &UCI_ORDERS, &"--out", &parquet, &"--quiet"]).ok();
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&parquet).unwrap()).unwrap();
    let meta = parquet::file::reader::FileReader::metadata(&reader);
    assert_eq!(meta.file_metadata().num_rows() as u64, report.kept_lines);
    assert!(meta.num_row_groups() > 1);
}
