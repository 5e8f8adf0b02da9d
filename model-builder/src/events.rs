//! Browsing as input (`model-builder build --events FILES...`): the measurement records the edge
//! writes to R2 (Segment-shaped JSONL, gzip'd or not; `vitrine_engine::measure::Record`), read
//! by the one reader `model-builder report` uses ([`crate::report::read`]: a bad line is named
//! file:line and skipped, a line over `MAX_LINE_BYTES` refused), kept as what the view tables
//! count (`recs/views.rs`): product views and orders, per unit, by time.
//!
//! What is read: `Product Viewed` (its `items`: the product) and `Order Completed` (its items);
//! every other event is left alone. A `messageId` counts once (queues deliver at least once),
//! an order once per `orderId` (the browser's and the server's copy are one order; the unit
//! comes from whichever copy has one). Units are the records' pseudonymous keys, numbered here
//! and never written anywhere: every table made from them is aggregate.

use std::collections::HashSet;
use std::path::PathBuf;

use rustc_hash::FxHashMap;
use serde::Serialize;
use vitrine_engine::bundle::{Product, ProductIdx};
use vitrine_engine::measure::{self, Record};

use crate::error::Result;
use crate::report::read::{self, BadLine, Loaded};

/// One product view: who (a unit's number here), when (unix seconds), what.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct View {
    pub unit: u32,
    pub ts: i64,
    pub product: ProductIdx,
}

/// One order of a known unit: its distinct catalog products.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Order {
    pub unit: u32,
    pub ts: i64,
    pub items: Vec<ProductIdx>,
}

/// What the event files held, as the view tables read it.
#[derive(Clone, Debug, Default)]
pub struct Browsing {
    /// By unit, then time.
    pub views: Vec<View>,
    /// Orders with a unit, by unit, then time.
    pub orders: Vec<Order>,
    /// The latest record's time (unix seconds), none later than the build's clock.
    pub last_time: i64,
    pub report: EventsReport,
}

/// What reading the event files kept and skipped, for the build summary.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EventsReport {
    pub files: u64,
    /// Non-blank lines read.
    pub lines: u64,
    /// Lines that were not a record (named in `bad`, skipped).
    pub bad_lines: u64,
    /// The first bad lines, each with its file and line.
    pub bad: Vec<BadLine>,
    /// Records whose `messageId` was already seen.
    pub duplicates: u64,
    /// `Product Viewed` records of a catalog product, and of SKUs the catalog does not have.
    pub views: u64,
    pub unknown_products: u64,
    /// Distinct orders, and those of them with a unit (the ones a view can lead to).
    pub orders: u64,
    pub orders_with_visitor: u64,
    /// Distinct units that viewed or bought.
    pub visitors: u64,
    pub first_day: String,
    pub last_day: String,
}

/// Reads every path (a record file, or a folder of `*.jsonl` / `*.jsonl.gz`), in the order given.
/// `now` (unix seconds): a record claiming a later time counts as of now.
pub fn read(paths: &[PathBuf], products: &[Product], now: i64) -> Result<Browsing> {
    let mut loaded = Loaded::default();
    for path in paths {
        let one = read::read_dir(path)?;
        loaded.files += one.files;
        loaded.lines += one.lines;
        loaded.records.extend(one.records);
        loaded.bad_count += one.bad_count;
        let room = read::MAX_BAD_LINES_KEPT.saturating_sub(loaded.bad.len());
        loaded.bad.extend(one.bad.into_iter().take(room));
    }
    Ok(from_records(loaded, products, now))
}

/// The views and orders of what was read.
pub fn from_records(loaded: Loaded, products: &[Product], now: i64) -> Browsing {
    let Loaded { records, files, lines, bad_count, bad } = loaded;
    let mut report = EventsReport { files, lines, bad_lines: bad_count, bad, ..EventsReport::default() };
    let index: FxHashMap<&str, ProductIdx> = products.iter().enumerate().map(|(i, p)| (p.sku.as_str(), i as ProductIdx)).collect();
    let mut units: FxHashMap<String, u32> = FxHashMap::default();
    let mut unit_of = |unit: &str| -> u32 {
        let next = units.len() as u32;
        *units.entry(unit.to_string()).or_insert(next)
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut views = Vec::new();
    // Per order id: (unit, time, items) of its first copy, the unit filled from a later one.
    let mut orders: FxHashMap<String, (Option<u32>, i64, Vec<ProductIdx>)> = FxHashMap::default();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for r in records {
        let is_view = r.event == vitrine_engine::events::PRODUCT_VIEWED;
        if !is_view && r.event != measure::ORDER_COMPLETED {
            continue;
        }
        if !seen.insert(r.message_id.clone()) {
            report.duplicates += 1;
            continue;
        }
        let ts = r.ts.min(now);
        (first, last) = (first.min(ts), last.max(ts));
        if is_view {
            for sku in &r.items {
                match index.get(sku.as_str()) {
                    Some(&product) => {
                        report.views += 1;
                        views.push(View { unit: unit_of(&r.unit), ts, product });
                    }
                    None => report.unknown_products += 1,
                }
            }
            continue;
        }
        let Record { order_id, message_id, unit, items, .. } = r;
        let key = if order_id.is_empty() { message_id } else { order_id };
        let unit = (!unit.is_empty()).then(|| unit_of(&unit));
        let order = orders.entry(key).or_insert_with(|| (None, ts, Vec::new()));
        order.0 = order.0.or(unit);
        if order.2.is_empty() {
            order.2 = items.iter().filter_map(|s| index.get(s.as_str()).copied()).collect();
        }
    }
    report.orders = orders.len() as u64;
    let mut orders: Vec<Order> = orders
        .into_values()
        .filter_map(|(unit, ts, mut items)| {
            items.sort_unstable();
            items.dedup();
            Some(Order { unit: unit?, ts, items })
        })
        .collect();
    report.orders_with_visitor = orders.len() as u64;
    report.visitors = units.len() as u64;
    views.sort_unstable();
    orders.sort_unstable();
    if first <= last {
        report.first_day = crate::ingest::dates::day_string(first);
        report.last_day = crate::ingest::dates::day_string(last);
    }
    Browsing { views, orders, last_time: if first <= last { last } else { 0 }, report }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn products(skus: &[&str]) -> Vec<Product> {
        skus.iter().map(|s| Product { sku: (*s).into(), ..Product::default() }).collect()
    }

    fn view(id: &str, unit: &str, ts: i64, sku: &str) -> String {
        format!(r#"{{"messageId":"{id}","event":"Product Viewed","ts":{ts},"unit":"{unit}","source":"browser","items":["{sku}"]}}"#)
    }

    #[test]
    fn bad_lines_are_named_and_skipped_and_copies_count_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b1.jsonl");
        let lines = [
            view("m1", "u1", 100, "A"),
            "{not json".to_string(),
            view("m1", "u1", 100, "A"),
            view("m2", "u1", 160, "NOPE"),
            r#"{"messageId":"m3","event":"Order Completed","ts":200,"unit":"","source":"server","orderId":"o1","items":["B","A","B"]}"#.into(),
            r#"{"messageId":"m4","event":"Order Completed","ts":201,"unit":"u1","source":"browser","orderId":"o1","items":["B"]}"#.into(),
            r#"{"messageId":"m5","event":"Product Viewed","ts":300,"source":"browser","items":["A"]}"#.into(),
            format!(
                r#"{{"messageId":"m6","event":"Product Viewed","ts":400,"unit":"u2","source":"browser","items":["{}"]}}"#,
                "x".repeat(read::MAX_LINE_BYTES)
            ),
            view("m7", "u2", 9_999_999, "B"),
        ];
        std::fs::File::create(&path).unwrap().write_all(lines.join("\n").as_bytes()).unwrap();
        let b = read(std::slice::from_ref(&path), &products(&["A", "B"]), 1000).unwrap();
        let named: Vec<String> = b.report.bad.iter().map(|bad| bad.to_string()).collect();
        assert_eq!(b.report.bad_lines, 3, "{named:?}");
        let at = |line: u32| format!("{}:{line}: ", path.display());
        assert!(named[0].starts_with(&at(2)), "{named:?}");
        assert!(named[1].starts_with(&at(7)) && named[1].contains("missing field `unit`"), "{named:?}");
        assert!(named[2].starts_with(&at(8)) && named[2].contains("longer than"), "{named:?}");
        assert_eq!((b.report.duplicates, b.report.views, b.report.unknown_products), (1, 2, 1));
        assert_eq!(b.views, [View { unit: 0, ts: 100, product: 0 }, View { unit: 1, ts: 1000, product: 1 }], "a future time counts as now");
        assert_eq!(b.orders, [Order { unit: 0, ts: 200, items: vec![0, 1] }], "one order of two copies, its unit from the browser's");
        assert_eq!((b.report.orders, b.report.orders_with_visitor, b.report.visitors), (1, 1, 2));
        assert_eq!(b.last_time, 1000);
    }

    #[test]
    fn gzip_files_and_folders_read_alike() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("events/day=2026-12-01");
        std::fs::create_dir_all(&day).unwrap();
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(day.join("b1.jsonl.gz")).unwrap(), flate2::Compression::default());
        gz.write_all(format!("{}\n{}\n", view("m1", "u1", 100, "A"), view("m2", "u1", 200, "B")).as_bytes()).unwrap();
        gz.finish().unwrap();
        let plain = dir.path().join("more.jsonl");
        std::fs::write(&plain, view("m3", "u2", 300, "A")).unwrap();
        let b = read(&[dir.path().join("events"), plain], &products(&["A", "B"]), 1000).unwrap();
        assert_eq!((b.report.files, b.report.views, b.report.visitors), (2, 3, 2));
        assert_eq!(b.report.first_day, "1970-01-01");
        assert!(read(&[dir.path().join("nothing-here")], &products(&["A"]), 0).is_err(), "a path that is not there is an error");
    }
}
