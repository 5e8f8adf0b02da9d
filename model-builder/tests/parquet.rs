//! Parquet exports: the same orders, catalog and customers as CSV and as Parquet (written here
//! with the `parquet` crate, typed as real exports are: TIMESTAMP, DECIMAL, BOOLEAN, NULLs)
//! give the same Dataset, report and bundle; typed timestamps agree with text ones; damaged
//! files and missing columns are errors that say where; `clean` reads back the same rows.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use csv::ByteRecord;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, FloatType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use vitrine_engine::bundle;
use vitrine_model_builder::build::{build, BuildOptions};
use vitrine_model_builder::config::{Config, LoadedConfig};
use vitrine_model_builder::ingest::{self, IngestReport};
use vitrine_model_builder::progress::Progress;

/// One column's values, `None` for NULL.
enum Col<'a> {
    Str(Vec<Option<&'a str>>),
    I64(Vec<Option<i64>>),
    I32(Vec<Option<i32>>),
    F64(Vec<Option<f64>>),
    F32(Vec<Option<f32>>),
    Bool(Vec<Option<bool>>),
}

/// Writes a one-row-group-per-`group`-rows Parquet file with `schema` (a message type).
fn write_parquet(path: &Path, schema: &str, cols: &[Col], group: usize) {
    let schema = Arc::new(parquet::schema::parser::parse_message_type(schema).unwrap());
    let props = Arc::new(WriterProperties::builder().set_compression(parquet::basic::Compression::SNAPPY).build());
    let mut w = SerializedFileWriter::new(std::fs::File::create(path).unwrap(), schema, props).unwrap();
    let rows = match &cols[0] {
        Col::Str(v) => v.len(),
        Col::I64(v) => v.len(),
        Col::I32(v) => v.len(),
        Col::F64(v) => v.len(),
        Col::F32(v) => v.len(),
        Col::Bool(v) => v.len(),
    };
    fn split<T: Clone>(v: &[Option<T>], r: std::ops::Range<usize>) -> (Vec<T>, Vec<i16>) {
        let v = &v[r];
        (v.iter().flatten().cloned().collect(), v.iter().map(|x| i16::from(x.is_some())).collect())
    }
    let mut start = 0;
    while start < rows {
        let r = start..(start + group).min(rows);
        let mut g = w.next_row_group().unwrap();
        for col in cols {
            let mut c = g.next_column().unwrap().unwrap();
            match col {
                Col::Str(v) => {
                    let (vals, def) = split(v, r.clone());
                    let vals: Vec<ByteArray> = vals.into_iter().map(ByteArray::from).collect();
                    c.typed::<ByteArrayType>().write_batch(&vals, Some(&def), None).unwrap();
                }
                Col::I64(v) => {
                    let (vals, def) = split(v, r.clone());
                    c.typed::<Int64Type>().write_batch(&vals, Some(&def), None).unwrap();
                }
                Col::I32(v) => {
                    let (vals, def) = split(v, r.clone());
                    c.typed::<Int32Type>().write_batch(&vals, Some(&def), None).unwrap();
                }
                Col::F64(v) => {
                    let (vals, def) = split(v, r.clone());
                    c.typed::<DoubleType>().write_batch(&vals, Some(&def), None).unwrap();
                }
                Col::F32(v) => {
                    let (vals, def) = split(v, r.clone());
                    c.typed::<FloatType>().write_batch(&vals, Some(&def), None).unwrap();
                }
                Col::Bool(v) => {
                    let (vals, def) = split(v, r.clone());
                    c.typed::<BoolType>().write_batch(&vals, Some(&def), None).unwrap();
                }
            }
            c.close().unwrap();
        }
        g.close().unwrap();
        start = r.end;
    }
    w.close().unwrap();
}

const ORDERS_SCHEMA: &str = "message orders {
  optional binary InvoiceNo (STRING);
  optional binary StockCode (STRING);
  optional binary Description (STRING);
  optional int32 Quantity;
  optional int64 InvoiceDate (TIMESTAMP(MICROS, false));
  optional double UnitPrice;
  optional double CustomerID;
  optional binary Country (STRING);
}";

/// The shared six UCI rows, a cancellation, a return and postage: as CSV text and as typed
/// Parquet columns (customer ids as doubles, as pandas writes a column with blanks).
fn orders(f: &Fixture) -> (PathBuf, PathBuf) {
    let mut rows = UCI_ROWS.to_vec();
    rows.extend([
        "C536368,22633,HAND WARMER UNION JACK,-6,2010-12-04 10:00:00,1.85,13047,France",
        "536369,POST,POSTAGE,1,2010-12-04 11:00:00,18,13047,France",
        "536370,22633,HAND WARMER UNION JACK,-2,2010-12-04 12:00:00,1.85,17850,United Kingdom",
        "536371,84029E,RED WOOLLY HOTTIE WHITE HEART.,6,2010-12-05 13:30:15,3.39,17850,United Kingdom",
    ]);
    let csv_path = f.write("orders.csv", csv(UCI_HEADER, &rows));
    let split: Vec<Vec<&str>> = rows.iter().map(|r| r.split(',').collect()).collect();
    let text = |i: usize| Col::Str(split.iter().map(|r| Some(r[i]).filter(|s| !s.is_empty())).collect());
    let micros = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap().and_utc().timestamp_micros();
    let cols = [
        text(0),
        text(1),
        text(2),
        Col::I32(split.iter().map(|r| Some(r[3].parse().unwrap())).collect()),
        Col::I64(split.iter().map(|r| Some(micros(r[4]))).collect()),
        Col::F64(split.iter().map(|r| Some(r[5].parse().unwrap())).collect()),
        Col::F64(split.iter().map(|r| r[6].parse().ok()).collect()),
        text(7),
    ];
    let parquet_path = f.path("orders.parquet");
    // Row groups of 4 rows: an invoice's lines span two groups.
    write_parquet(&parquet_path, ORDERS_SCHEMA, &cols, 4);
    (csv_path, parquet_path)
}

fn catalog(f: &Fixture) -> (PathBuf, PathBuf) {
    let csv_path = f.write(
        "catalog.csv",
        "id,title,price,category,tags,in_stock\n\
         85123A,White Heart Holder,2.95,Candles,heart|white,yes\n\
         71053,White Metal Lantern,3.75,Lanterns,,no\n\
         22633,Hand Warmer,2.10,,winter,\n\
         84029E,Red Woolly Hottie,4.25,Home,red,1\n",
    );
    let schema = "message catalog {
      required binary id (STRING);
      optional binary title (STRING);
      optional int64 price (DECIMAL(10, 2));
      optional binary category (STRING);
      optional binary tags (STRING);
      optional boolean in_stock;
    }";
    let s = |v: &[Option<&'static str>]| Col::Str(v.to_vec());
    let cols = [
        s(&[Some("85123A"), Some("71053"), Some("22633"), Some("84029E")]),
        s(&[Some("White Heart Holder"), Some("White Metal Lantern"), Some("Hand Warmer"), Some("Red Woolly Hottie")]),
        Col::I64(vec![Some(295), Some(375), Some(210), Some(425)]),
        s(&[Some("Candles"), Some("Lanterns"), None, Some("Home")]),
        s(&[Some("heart|white"), None, Some("winter"), Some("red")]),
        Col::Bool(vec![Some(true), Some(false), None, Some(true)]),
    ];
    let parquet_path = f.path("catalog.parquet");
    write_parquet(&parquet_path, schema, &cols, 3);
    (csv_path, parquet_path)
}

fn config() -> Config {
    let mut c: Config = toml::from_str(MINIMAL_CONFIG).unwrap();
    c.cleaning.non_product_skus = vec!["POST".into()];
    c
}

/// The report without the file names (they differ by extension).
fn comparable(r: &IngestReport) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    v["file"] = serde_json::Value::Null;
    v["bytes"] = serde_json::Value::Null;
    v["catalog"]["file"] = serde_json::Value::Null;
    v
}

#[test]
fn parquet_and_csv_exports_give_the_same_dataset_report_and_bundle() {
    let f = Fixture::new();
    let (orders_csv, orders_pq) = orders(&f);
    let (catalog_csv, catalog_pq) = catalog(&f);
    let config = config();
    let hidden = indicatif::ProgressBar::hidden();
    let (ds_csv, rep_csv) = ingest::ingest(&config, &orders_csv, Some(&catalog_csv), &hidden).unwrap();
    let (ds_pq, rep_pq) = ingest::ingest(&config, &orders_pq, Some(&catalog_pq), &hidden).unwrap();
    assert_eq!(format!("{ds_pq:?}"), format!("{ds_csv:?}"));
    assert_eq!(comparable(&rep_pq), comparable(&rep_csv));
    // Not trivially equal: the cleaning ran (one sale reversed, postage and a return dropped).
    assert_eq!(rep_pq.kept_lines, 6);
    assert_eq!(rep_pq.dropped.non_product, 1);
    assert_eq!(rep_pq.dropped.reversed_by_cancellation, 1);
    assert_eq!(ds_pq.orders.iter().filter(|o| o.customer.is_none()).count(), 1, "the NULL customer is a guest");
    let last = ds_pq.orders.last().unwrap();
    assert_eq!(vitrine_engine::civil::day_string(last.time), "2010-12-05");
    assert_eq!(last.time % 60, 15, "seconds of the TIMESTAMP kept");
    let lantern = ds_pq.products.iter().find(|p| p.sku == "71053").unwrap();
    assert_eq!((lantern.price, lantern.in_stock), (3.75, false), "DECIMAL(10,2) and BOOLEAN");

    // The bundles' tables and catalog are the same.
    let cfg = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[cleaning]\nnon_product_skus = [\"POST\"]\n"));
    let body = |orders: &Path, catalog: &Path, name: &str| {
        let out = f.path(name);
        let opts = BuildOptions { config: cfg.clone(), out: out.clone(), orders: Some(orders.into()), catalog: Some(catalog.into()), ..Default::default() };
        build(&opts, Progress::new(true)).unwrap();
        bundle::decode(&std::fs::read(out).unwrap()).unwrap().body
    };
    let from_csv = body(&orders_csv, &catalog_csv, "csv.bin");
    let from_pq = body(&orders_pq, &catalog_pq, "pq.bin");
    assert_eq!(from_pq, from_csv);
}

#[test]
fn customers_export_as_parquet_reads_as_its_csv() {
    let f = Fixture::new();
    let csv_path = f.write(
        "customers.csv",
        "customer_id,first_name,email,phone,email_consent\n17850,Ann,ANN@Example.com ,07400 123456,yes\n13047,Bob,,+33 6 12 34 56 78,no\n12583,,,,\n",
    );
    let schema = "message customers {
      required binary customer_id (STRING);
      optional binary first_name (STRING);
      optional binary email (STRING);
      optional binary phone (STRING);
      optional boolean email_consent;
    }";
    let cols = [
        Col::Str(vec![Some("17850"), Some("13047"), Some("12583")]),
        Col::Str(vec![Some("Ann"), Some("Bob"), None]),
        Col::Str(vec![Some("ANN@Example.com "), None, None]),
        Col::Str(vec![Some("07400 123456"), Some("+33 6 12 34 56 78"), None]),
        Col::Bool(vec![Some(true), Some(false), None]),
    ];
    let pq_path = f.path("customers.parquet");
    write_parquet(&pq_path, schema, &cols, 2);
    let config = config();
    let (a, ra) = ingest::read_customers(&config, &csv_path).unwrap();
    let (b, rb) = ingest::read_customers(&config, &pq_path).unwrap();
    assert_eq!(a, b);
    assert_eq!(serde_json::to_value(&ra).unwrap(), serde_json::to_value(&rb).unwrap());
    assert_eq!(b[0].phone, "+447400123456");
    assert_eq!(b[0].email, "ann@example.com");
    assert_eq!(b[1].consent.email, Some(false));
}

#[test]
fn typed_timestamps_in_every_unit_agree_with_text_dates() {
    let f = Fixture::new();
    // The export's text dates are day-first: typed columns do not go through that format.
    let mut config = config();
    config.orders.date_format = vec!["%d/%m/%Y %H:%M".into()];
    let wall = chrono::NaiveDate::from_ymd_opt(2010, 12, 1).unwrap().and_hms_opt(8, 26, 0).unwrap().and_utc();
    let text = f.write("orders.csv", "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n1,A,1,01/12/2010 08:26,2.5\n");
    let (want, _) = ingest::ingest(&config, &text, None, &indicatif::ProgressBar::hidden()).unwrap();
    let want = want.orders[0].time;
    assert_eq!(want, wall.timestamp());
    let s = |v: &'static str| Col::Str(vec![Some(v)]);
    for (i, (date_type, value)) in [
        ("int64 InvoiceDate (TIMESTAMP(MILLIS, true))", Col::I64(vec![Some(wall.timestamp_millis())])),
        ("int64 InvoiceDate (TIMESTAMP(MICROS, false))", Col::I64(vec![Some(wall.timestamp_micros())])),
        ("int64 InvoiceDate (TIMESTAMP(NANOS, true))", Col::I64(vec![Some(wall.timestamp_nanos_opt().unwrap() + 999)])),
        ("binary InvoiceDate (STRING)", s("01/12/2010 08:26")),
    ]
    .into_iter()
    .enumerate()
    {
        let schema = format!("message o {{ required binary InvoiceNo (STRING); required binary StockCode (STRING); required int64 Quantity; required {date_type}; required float UnitPrice; }}");
        let path = f.path(&format!("orders{i}.parquet"));
        write_parquet(&path, &schema, &[s("1"), s("A"), Col::I64(vec![Some(1)]), value, Col::F32(vec![Some(2.5)])], 10);
        let (ds, _) = ingest::ingest(&config, &path, None, &indicatif::ProgressBar::hidden()).unwrap();
        assert_eq!(ds.orders[0].time, want, "{date_type}");
        assert_eq!(ds.lines[0].unit_price, 2.5);
    }
    // A DATE column is midnight of its day.
    let path = f.path("dates.parquet");
    let schema = "message o { required binary InvoiceNo (STRING); required binary StockCode (STRING); required int64 Quantity; required int32 InvoiceDate (DATE); required double UnitPrice; }";
    write_parquet(&path, schema, &[s("1"), s("A"), Col::I64(vec![Some(1)]), Col::I32(vec![Some(14_944)]), Col::F64(vec![Some(2.5)])], 10);
    let (ds, _) = ingest::ingest(&config, &path, None, &indicatif::ProgressBar::hidden()).unwrap();
    assert_eq!(ds.orders[0].time, wall.timestamp() - (8 * 3600 + 26 * 60));
}

#[test]
fn damaged_files_missing_columns_and_bad_values_say_where() {
    let f = Fixture::new();
    let (_, orders_pq) = orders(&f);
    let config = config();
    let hidden = indicatif::ProgressBar::hidden();
    let bytes = std::fs::read(&orders_pq).unwrap();

    // Cut short: the footer is gone.
    let cut = f.write("cut.parquet", &bytes[..bytes.len() / 2]);
    let e = ingest::ingest(&config, &cut, None, &hidden).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}: not a readable Parquet file", cut.display())), "{e}");
    // Not Parquet at all.
    let text = f.write("text.parquet", "InvoiceNo,StockCode\n1,A\n");
    let e = ingest::ingest(&config, &text, None, &hidden).unwrap_err().to_string();
    assert!(e.contains("text.parquet: not a readable Parquet file"), "{e}");
    // Damaged pages (every byte of the data flipped in turn, footer intact): an error or
    // other values, never a panic; a reading error names the row group and column.
    let footer = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap()) as usize + 8;
    let mut named = 0;
    for at in 4..bytes.len() - footer {
        let mut broken = bytes.clone();
        broken[at] ^= 0x5a;
        let path = f.write("broken.parquet", &broken);
        if let Err(e) = ingest::ingest(&config, &path, None, &hidden) {
            let e = e.to_string();
            assert!(e.contains("broken.parquet"), "{e}");
            named += usize::from(e.contains(": row group ") && e.contains(", column \""));
        }
    }
    assert!(named > 0, "some damage is found while reading a column");

    // A mapped column the file lacks names the config key, as for CSV.
    let mut renamed = config.clone();
    renamed.orders.columns.price = "Price".into();
    let e = ingest::ingest(&renamed, &orders_pq, None, &hidden).unwrap_err().to_string();
    assert!(e.contains("orders.parquet") && e.contains("column \"Price\" (config key orders.columns.price)") && e.contains("UnitPrice"), "{e}");

    // A bad value names file, row, row group and column.
    let s = |v: Vec<Option<&'static str>>| Col::Str(v);
    let path = f.path("bad.parquet");
    let schema = "message o { optional binary InvoiceNo (STRING); required binary StockCode (STRING); required int64 Quantity; required binary InvoiceDate (STRING); required double UnitPrice; }";
    let cols = [
        s(vec![Some("1"), Some("2"), None]),
        s(vec![Some("A"), Some("B"), Some("C")]),
        Col::I64(vec![Some(1), Some(1), Some(1)]),
        s(vec![Some("2010-12-01 08:26:00"), Some("2010-12-01 08:27:00"), Some("2010-12-01 08:28:00")]),
        Col::F64(vec![Some(1.0), Some(f64::NAN), Some(1.0)]),
    ];
    write_parquet(&path, schema, &cols, 2);
    let mut stop = config.clone();
    stop.cleaning.bad_rows = vitrine_model_builder::config::BadRowPolicy::Stop;
    let e = ingest::ingest(&stop, &path, None, &hidden).unwrap_err().to_string();
    assert_eq!(e, format!("{}: row 2 (row group 0): field UnitPrice: \"NaN\" is not a number", path.display()));
    let (_, report) = ingest::ingest(&config, &path, None, &hidden).unwrap();
    assert_eq!(report.bad_rows, 2);
    assert_eq!(report.first_bad_rows[1].to_string(), format!("{}: row 3 (row group 1): field InvoiceNo: empty", path.display()));
}

/// The rows of an export (CSV or Parquet) as text, header first, read by the builder's reader.
fn rows_of(path: &Path) -> Vec<Vec<String>> {
    let mut rows = ingest::open_rows(path, ',').unwrap();
    let all: Vec<Option<usize>> = (0..rows.header().len()).map(Some).collect();
    rows.select(&all).unwrap();
    let mut out = vec![(0..rows.header().len()).map(|i| rows.header().name(i).to_string()).collect()];
    let mut record = ByteRecord::new();
    while rows.next(&mut record).unwrap().is_some() {
        out.push(record.iter().map(|f| String::from_utf8(f.to_vec()).unwrap()).collect());
    }
    out
}

#[test]
fn clean_to_parquet_reads_back_as_its_csv() {
    let f = Fixture::new();
    let (_, orders_pq) = orders(&f);
    let (_, catalog_pq) = catalog(&f);
    let cfg = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[cleaning]\nnon_product_skus = [\"POST\"]\n"));
    let (lines_csv, lines_pq, products_csv, products_pq) = (f.path("l.csv"), f.path("l.parquet"), f.path("p.csv"), f.path("p.parquet"));
    run(&[&"clean", &"--config", &cfg, &"--orders", &orders_pq, &"--catalog", &catalog_pq, &"--out", &lines_csv, &"--products", &products_csv]).ok();
    let r = run(&[&"clean", &"--config", &cfg, &"--orders", &orders_pq, &"--catalog", &catalog_pq, &"--out", &lines_pq, &"--products", &products_pq]);
    r.ok();
    assert!(r.stdout.contains("wrote 6 order lines") && r.stdout.contains("wrote 4 products"), "{}", r.stdout);
    let lines = rows_of(&lines_pq);
    assert_eq!(lines, rows_of(&lines_csv));
    assert_eq!(lines.len(), 7);
    assert!(lines.iter().any(|l| l[1].is_empty()), "a guest line, NULL in Parquet");
    assert_eq!(lines[6], ["536371", "17850", "United Kingdom", "1291555815", "84029E", "6", "3.39"]);
    let products = rows_of(&products_pq);
    assert_eq!(products, rows_of(&products_csv));
    assert_eq!(products[1], ["22633", "Hand Warmer", "/products/22633", "", "2.1", "", "", "winter", "true"]);

    // The Parquet columns have the documented types.
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&lines_pq).unwrap()).unwrap();
    let schema = parquet::file::reader::FileReader::metadata(&reader).file_metadata().schema_descr_ptr();
    let types: Vec<String> = (0..schema.num_columns()).map(|i| format!("{} {}", schema.column(i).name(), schema.column(i).physical_type())).collect();
    assert_eq!(
        types,
        ["order_id BYTE_ARRAY", "customer_id BYTE_ARRAY", "country BYTE_ARRAY", "time INT64", "sku BYTE_ARRAY", "quantity INT64", "unit_price DOUBLE"]
    );
}

#[test]
fn the_loaded_example_config_reads_parquet_by_name_too() {
    // `orders.path` in a config may name a Parquet file.
    let f = Fixture::new();
    let (_, orders_pq) = orders(&f);
    let cfg = f.write("vitrine.toml", format!("{MINIMAL_CONFIG}[orders]\npath = \"orders.parquet\"\n"));
    let loaded = LoadedConfig::read(&cfg).unwrap();
    let (orders, _) = ingest::input_paths(&loaded, None, None).unwrap();
    assert_eq!(orders, orders_pq);
    let out = f.path("lines.csv");
    run(&[&"clean", &"--config", &cfg, &"--out", &out]).ok();
}
