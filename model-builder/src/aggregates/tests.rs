use std::path::Path;

use super::*;
use crate::config::CatalogConfig;
use crate::recs::testdata::TinyData;
use crate::recs::{self, RecsConfig};

/// Three customers and a guest in two countries, one category; customer 0 buys P00 twice in one
/// order, moves country, and comes back on other days.
fn store() -> TinyData {
    let mut data = TinyData::new(&["TEAPOT", "TEA COSY", "MUG", "CANDLE"]).customers(3).countries(&["FR", "UK"]);
    data.ds.categories = vec!["Kitchen".into()];
    for p in 0..3 {
        data.ds.products[p].category = Some(0);
    }
    data.order(Some(0), 1, 0, &[0, 0, 1])
        .order(Some(1), 1, 1, &[0, 1, 2])
        .order(None, 0, 2, &[0, 1])
        .order(Some(0), 0, 10, &[0, 1, 3])
        .order(Some(2), 1, 11, &[3])
        .order(Some(0), 1, 30, &[0, 2])
}

fn cfg() -> RecsConfig {
    RecsConfig { min_support: 2, ..Default::default() }
}

/// The cleaned catalog as `model-builder clean --products` writes it.
fn write_products(dir: &Path, data: &TinyData) {
    let mut out = String::from("sku,title,url,image,price,category,brand,tags,in_stock\n");
    for p in &data.ds.products {
        let category = p.category.map_or("", |c| data.ds.categories[c as usize].as_str());
        out += &format!("{},{},{},{},{},{},{},{},{}\n", p.sku, p.title, p.url, p.image, p.price, category, p.brand, p.tags.join("|"), p.in_stock);
    }
    std::fs::write(dir.join("products.csv"), out).unwrap();
}

#[test]
fn counts_follow_the_schema() {
    let data = store();
    let a = Aggregates::from_dataset(&data.ds, &cfg());
    assert_eq!((a.totals.orders, a.totals.lines, a.totals.customers, a.totals.guest_orders), (6, 14, 3, 1));
    // P00: customers 0 and 1, and the guest order: three buyers, however many units.
    assert_eq!(a.items[0].buyers, 3);
    // Customer 0 bought P00 in FR and in UK: a buyer in each country.
    let uk = a.countries.iter().position(|c| c == "UK").unwrap() as u16;
    let fr = a.countries.iter().position(|c| c == "FR").unwrap() as u16;
    let buyers = |country, product| a.country_items.iter().find(|c| c.country == country && c.product == product).map_or(0, |c| c.buyers);
    assert_eq!((buyers(uk, 0), buyers(fr, 0)), (2, 2));
    // Distinct orders, not lines: P00 twice in one order is one order.
    let c0 = a.customers.items.iter().find(|i| i.customer == 0 && i.product == 0).unwrap();
    assert_eq!(c0.orders, 3);
    assert_eq!(a.customers.stats[0].orders, 3);
    assert_eq!(a.customers.stats[0].gap_days, Some(15.0), "days 0, 10, 30: gaps 10 and 20");
    // Three purchase days; the first day's three units are not repeat spend, the other five are.
    let c0 = a.customers.stats[0];
    assert_eq!((c0.purchase_days, c0.repeat_spend, c0.monetary), (Some(3), 5.0, 8.0));
    assert_eq!((a.customers.stats[1].purchase_days, a.customers.stats[1].repeat_spend), (Some(1), 0.0));
    // P00 and P01 share the baskets of the first four orders (the guest's too).
    let pair = a.pairs.iter().find(|p| (p.a, p.b) == (0, 1)).unwrap();
    assert_eq!(pair.baskets, 4);
    assert!(a.pairs.iter().all(|p| p.a < p.b && p.baskets >= 2), "{:?}", a.pairs);
    // Customer 0 again: P00 on days 0, 10, 30, P01 on days 0 and 10.
    assert_eq!(a.reorders, [Reorder { product: 0, customers: 1, gap_days: 15.0 }, Reorder { product: 1, customers: 1, gap_days: 10.0 }]);
}

#[test]
fn written_and_read_back_they_are_the_same_and_so_are_the_tables() {
    let data = store();
    let a = Aggregates::from_dataset(&data.ds, &cfg());
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &a, &data.ds.products, &data.ds.categories).unwrap();
    write_products(dir.path(), &data);
    let (products, categories) = read_products(&dir.path().join("products.csv"), &CatalogConfig::default()).unwrap();
    assert_eq!(products, data.ds.products);
    assert_eq!(categories, data.ds.categories);
    let read = read_dir(dir.path(), &products, &categories).unwrap();
    assert_eq!(read, a);
    let segments = ["Champions", "Lost", "Champions"];
    let tables = |a: &Aggregates| recs::tables(a, &products, &categories, &cfg(), &segments, &crate::progress::Progress::new(true), &mut Vec::new());
    assert_eq!(tables(&read), tables(&a));
    assert_eq!(crate::rfm::profiles_from(&read.customers, read.as_of()).0, crate::rfm::profiles(&data.ds));
}

#[test]
fn a_bad_value_names_file_line_and_field() {
    let data = store();
    let a = Aggregates::from_dataset(&data.ds, &cfg());
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &a, &data.ds.products, &data.ds.categories).unwrap();
    std::fs::write(dir.path().join("pairs.csv"), "sku_a,sku_b,baskets,weight\nP00,P01,4,3.5\nP00,NOPE,2,1.0\n").unwrap();
    let err = read_dir(dir.path(), &data.ds.products, &data.ds.categories).unwrap_err().to_string();
    assert!(err.contains("pairs.csv:3: field sku_b") && err.contains("\"NOPE\" is not in products.csv"), "{err}");

    std::fs::write(dir.path().join("items.csv"), "sku,buyers,trend\nP00,many,1.0\n").unwrap();
    let err = read_dir(dir.path(), &data.ds.products, &data.ds.categories).unwrap_err().to_string();
    assert!(err.contains("items.csv:2: field buyers") && err.contains("\"many\""), "{err}");

    std::fs::write(dir.path().join("items.csv"), "sku,buyer,trend\n").unwrap();
    let err = read_dir(dir.path(), &data.ds.products, &data.ds.categories).unwrap_err().to_string();
    assert!(err.contains("items.csv:1: no column \"buyers\"") && err.contains("sku, buyer, trend"), "{err}");

    std::fs::remove_file(dir.path().join("reorders.csv")).unwrap();
    std::fs::write(dir.path().join("items.csv"), "sku,buyers,trend\n").unwrap();
    let err = read_dir(dir.path(), &data.ds.products, &data.ds.categories).unwrap_err().to_string();
    assert!(err.contains("no reorders.csv or reorders.csv.gz"), "{err}");
}

#[test]
fn pairs_counted_with_a_lower_support_are_held_to_the_configs() {
    let data = store();
    let a = Aggregates::from_dataset(&data.ds, &cfg());
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &a, &data.ds.products, &data.ds.categories).unwrap();
    std::fs::write(dir.path().join("pairs.csv"), "sku_a,sku_b,baskets,weight\nP01,P00,4,3.5\nP02,P03,1,1.0\n").unwrap();
    let read = read_dir(dir.path(), &data.ds.products, &data.ds.categories).unwrap();
    let tables = recs::tables(&read, &data.ds.products, &data.ds.categories, &cfg(), &[], &crate::progress::Progress::new(true), &mut Vec::new());
    assert_eq!(tables.bought_together.of(0).map(|s| s.item).collect::<Vec<_>>(), [1], "either order of a pair is read");
    assert!(tables.bought_together.of(2).len() == 0 && tables.bought_together.of(3).len() == 0, "1 basket < min_support 2");
}

#[test]
fn purchase_days_are_counted_once_per_day_and_read_back_checked() {
    // Customer 0: two orders on day 3 and one on day 7; customer 1: two on day 5.
    let data = store_of_days();
    let a = Aggregates::from_dataset(&data.ds, &cfg());
    let s = &a.customers.stats;
    assert_eq!((s[0].orders, s[0].purchase_days, s[0].repeat_spend), (3, Some(2), 1.0), "day 3's two orders are one purchase day");
    assert_eq!((s[1].orders, s[1].purchase_days, s[1].repeat_spend), (2, Some(1), 0.0), "one day's orders are no repeat");

    let dir = tempfile::tempdir().unwrap();
    let customers = |text: &str| {
        write_dir(dir.path(), &a, &data.ds.products, &data.ds.categories).unwrap();
        std::fs::write(dir.path().join("customers.csv"), text).unwrap();
        read_dir(dir.path(), &data.ds.products, &data.ds.categories)
    };
    // A file from before the columns: purchase days unknown, nothing else lost.
    let old = customers("customer_id,orders,monetary,first_time,last_time,gap_days\nC0,3,6,295200,640800,4\nC1,2,2,468000,468000,\n").unwrap();
    assert_eq!(old.customers.stats.iter().map(|s| (s.orders, s.purchase_days)).collect::<Vec<_>>(), [(3, None), (2, None)]);
    // One of the two columns is a mistake; so are more purchase days than orders.
    let err = customers("customer_id,orders,monetary,first_time,last_time,gap_days,purchase_days\nC0,3,6,295200,640800,4,2\n").unwrap_err().to_string();
    assert!(err.contains("customers.csv:1: no column \"repeat_spend\""), "{err}");
    let err = customers("customer_id,orders,monetary,first_time,last_time,gap_days,purchase_days,repeat_spend\nC0,3,6,295200,640800,4,4,1\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("customers.csv:2: field purchase_days") && err.contains("4 purchase days for 3 orders"), "{err}");
    let err =
        customers("customer_id,orders,monetary,first_time,last_time,gap_days,purchase_days,repeat_spend\nC0,3,6,295200,640800,4,2,\n").unwrap_err().to_string();
    assert!(err.contains("customers.csv:2: field repeat_spend"), "{err}");
}

/// Two customers whose orders share days.
fn store_of_days() -> TinyData {
    TinyData::new(&["TEAPOT", "MUG"])
        .customers(2)
        .countries(&["UK"])
        .order(Some(0), 0, 3, &[0, 1])
        .order(Some(0), 0, 3, &[1])
        .order(Some(1), 0, 5, &[0])
        .order(Some(1), 0, 5, &[1])
        .order(Some(0), 0, 7, &[0])
}
