//! CSV ingest (model-builder `ingest/`): the orders export (with or without a catalog export)
//! and the customers export, read from bytes as the builder reads its files
//! (`ingest::ingest_bytes`, `ingest::read_customers_bytes`), with the demo's config.
//!
//! Input: one flags byte (bit 0: the customers export, else orders; bit 1: with a catalog,
//! the input's first part up to a NUL byte; bit 2: bad rows stop the build instead of being
//! skipped), then the CSV. Invariants: nothing panics; a refusal names the file; what is
//! kept is consistent (orders' line ranges and lines' products within bounds, prices
//! positive).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vitrine_model_builder::config::{self, BadRowPolicy, Config};
use vitrine_model_builder::ingest;

fn config(stop: bool) -> &'static Config {
    static CONFIGS: OnceLock<[Config; 2]> = OnceLock::new();
    let [skip, stop_cfg] = CONFIGS.get_or_init(|| {
        let path = Path::new("examples/demo/vitrine.toml");
        let skip = config::parse(path, include_str!("../../examples/demo/vitrine.toml")).expect("the demo config parses");
        let mut stop = skip.clone();
        stop.cleaning.bad_rows = BadRowPolicy::Stop;
        [skip, stop]
    });
    if stop {
        stop_cfg
    } else {
        skip
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, input)) = data.split_first() else { return };
    let config = config(flags & 4 != 0);

    if flags & 1 != 0 {
        let path = Path::new("customers.csv");
        match ingest::read_customers_bytes(config, path, input) {
            Ok((rows, _report)) => assert!(rows.iter().all(|c| !c.id.is_empty())),
            Err(e) => assert!(e.to_string().contains("customers.csv"), "the error names no file: {e}"),
        }
        return;
    }

    let (catalog, orders) = match (flags & 2 != 0, input.iter().position(|&b| b == 0)) {
        (true, Some(cut)) => (Some(&input[..cut]), &input[cut + 1..]),
        _ => (None, input),
    };
    let catalog = catalog.map(|c| (Path::new("catalog.csv"), c));
    match ingest::ingest_bytes(config, (Path::new("orders.csv"), orders), catalog) {
        Ok((d, report)) => {
            assert_eq!(report.kept_lines, d.lines.len() as u64);
            let mut next = 0;
            for o in &d.orders {
                assert!(o.lines.start == next && o.lines.start <= o.lines.end, "orders' lines are contiguous");
                next = o.lines.end;
                assert!(o.customer.is_none_or(|c| (c as usize) < d.customers.len()));
                assert!((o.country as usize) < d.countries.len().max(1));
            }
            assert_eq!(next as usize, d.lines.len());
            for l in &d.lines {
                assert!((l.product as usize) < d.products.len());
                assert!(l.quantity > 0 && l.unit_price > 0.0, "{l:?}");
            }
            assert!(d.orders.windows(2).all(|w| w[0].time <= w[1].time), "orders sorted by time");
        }
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains("orders.csv") || text.contains("catalog.csv"), "the error names no file: {text}");
        }
    }
});
