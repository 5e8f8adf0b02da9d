//! Writing the aggregates as the files of sql/SCHEMA.md (`build --write-aggregates DIR`), so the
//! builder's counts can be compared with an SQL engine's, file by file. Floats are written in
//! Rust's shortest exact form, so reading them back gives the same numbers.

use std::io::Write;
use std::path::Path;

use super::Aggregates;
use crate::data::Product;
use crate::error::{Error, Result};

pub fn write_dir(dir: &Path, a: &Aggregates, products: &[Product], categories: &[String]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let sku = |p: u32| products[p as usize].sku.as_str();
    let ids = &a.customers.ids;
    let t = &a.totals;
    write(dir, "totals", &["orders", "lines", "customers", "guest_orders", "countries", "first_time", "last_time"], |w| {
        w.write_record(
            [t.orders, t.lines, t.customers, t.guest_orders, t.countries]
                .map(|v| v.to_string())
                .into_iter()
                .chain([t.first_time.to_string(), t.last_time.to_string()]),
        )
    })?;
    let bought = || a.items.iter().enumerate().filter(|(_, i)| i.buyers > 0);
    write(dir, "items", &["sku", "buyers", "trend"], |w| {
        bought().try_for_each(|(p, i)| w.write_record([sku(p as u32), &i.buyers.to_string(), &i.trend.to_string()]))
    })?;
    write(dir, "basket_items", &["sku", "baskets", "weight"], |w| {
        let in_baskets = a.items.iter().enumerate().filter(|(_, i)| i.baskets > 0);
        in_baskets.into_iter().try_for_each(|(p, i)| w.write_record([sku(p as u32), &i.baskets.to_string(), &i.basket_weight.to_string()]))
    })?;
    write(dir, "country_items", &["country", "sku", "buyers"], |w| {
        a.country_items.iter().try_for_each(|c| w.write_record([a.countries[c.country as usize].as_str(), sku(c.product), &c.buyers.to_string()]))
    })?;
    write(dir, "reorders", &["sku", "customers", "gap_days"], |w| {
        a.reorders.iter().try_for_each(|r| w.write_record([sku(r.product), &r.customers.to_string(), &r.gap_days.to_string()]))
    })?;
    write(dir, "pairs", &["sku_a", "sku_b", "baskets", "weight"], |w| {
        a.pairs.iter().try_for_each(|p| w.write_record([sku(p.a), sku(p.b), &p.baskets.to_string(), &p.weight.to_string()]))
    })?;
    let customer_columns = ["customer_id", "orders", "monetary", "first_time", "last_time", "gap_days", "purchase_days", "repeat_spend"];
    write(dir, "customers", &customer_columns, |w| {
        a.customers.stats.iter().zip(ids).try_for_each(|(s, id)| {
            let gap = s.gap_days.map_or(String::new(), |g| g.to_string());
            let days = s.purchase_days.map_or(String::new(), |d| d.to_string());
            w.write_record([
                id.as_str(),
                &s.orders.to_string(),
                &s.monetary.to_string(),
                &s.first_time.to_string(),
                &s.last_time.to_string(),
                &gap,
                &days,
                &s.repeat_spend.to_string(),
            ])
        })
    })?;
    write(dir, "customer_categories", &["customer_id", "category", "spend"], |w| {
        a.customers
            .categories
            .iter()
            .try_for_each(|c| w.write_record([ids[c.customer as usize].as_str(), categories[c.category as usize].as_str(), &c.spend.to_string()]))
    })?;
    write(dir, "customer_items", &["customer_id", "sku", "orders", "last_time"], |w| {
        a.customers
            .items
            .iter()
            .try_for_each(|i| w.write_record([ids[i.customer as usize].as_str(), sku(i.product), &i.orders.to_string(), &i.last_time.to_string()]))
    })
}

fn write(dir: &Path, name: &str, header: &[&str], rows: impl FnOnce(&mut csv::Writer<std::io::BufWriter<std::fs::File>>) -> csv::Result<()>) -> Result<()> {
    let path = dir.join(format!("{name}.csv"));
    let file = std::fs::File::create(&path).map_err(Error::io(&path))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let failed = |e: csv::Error| Error::Io { path: path.clone(), source: e.into() };
    w.write_record(header).map_err(failed)?;
    rows(&mut w).map_err(failed)?;
    w.flush().map_err(Error::io(&path))?;
    w.into_inner().map_err(|e| Error::Io { path: path.clone(), source: e.into_error() })?.flush().map_err(Error::io(&path))
}
