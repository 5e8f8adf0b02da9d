//! Side by side with another library: export the exact split, read back its top lists.
//!
//! Files are tab separated and use the store's own ids (customer ids, SKUs), so a script in
//! any language can take part without knowing our indices:
//! - `train.tsv`: `customer  sku  orders  last_time` (one row per customer and product; a
//!   guest order is a customer `guest:<invoice>` of its own);
//! - `users.tsv`: the test users' customer ids;
//! - `<model>.all.tsv` / `<model>.new.tsv` (written by the other side): `customer  sku  sku …`,
//!   best first; the `new` lists must leave out what the customer owns.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::holdout::{owned_by_customer, Holdout};
use super::recommenders::Recommender;
use crate::data::{CustomerIdx, Dataset, ProductIdx};

#[derive(Debug)]
pub struct ExternalError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ExternalError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ExternalError {}

fn io_error(path: &Path, e: std::io::Error) -> ExternalError {
    ExternalError { path: path.to_path_buf(), line: None, message: e.to_string() }
}

/// Writes the training interactions and the test users into `dir`.
pub fn export_split(holdout: &Holdout, dir: &Path) -> Result<(), ExternalError> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let train = &holdout.train;
    let mut text = String::from("customer\tsku\torders\tlast_time\n");
    for (c, owned) in owned_by_customer(train).iter().enumerate() {
        for o in owned {
            text.push_str(&format!("{}\t{}\t{}\t{}\n", train.customers[c], train.products[o.item as usize].sku, o.orders, o.last_time));
        }
    }
    // Guest orders are baskets too (our tables learn from them): each is a user of its own.
    for order in train.orders.iter().filter(|o| o.customer.is_none()) {
        let mut skus: Vec<&str> = train.order_lines(order).iter().map(|l| train.products[l.product as usize].sku.as_str()).collect();
        skus.sort_unstable();
        skus.dedup();
        for sku in skus {
            text.push_str(&format!("guest:{}\t{sku}\t1\t{}\n", order.invoice, order.time));
        }
    }
    write(&dir.join("train.tsv"), &text)?;
    let users: String = holdout.users.iter().map(|u| format!("{}\n", train.customers[u.customer as usize])).collect();
    write(&dir.join("users.tsv"), &format!("customer\n{users}"))
}

fn write(path: &Path, text: &str) -> Result<(), ExternalError> {
    fs::File::create(path).and_then(|mut f| f.write_all(text.as_bytes())).map_err(|e| io_error(path, e))
}

/// Reads every `<model>.all.tsv` + `<model>.new.tsv` pair in `dir` as a recommender named
/// after the model, sorted by name.
pub fn read_dir(dir: &Path, train: &Dataset) -> Result<Vec<(String, Recommender)>, ExternalError> {
    let mut models: Vec<String> = fs::read_dir(dir)
        .map_err(|e| io_error(dir, e))?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".all.tsv").map(String::from))
        .collect();
    models.sort();
    let customers: HashMap<&str, CustomerIdx> = train.customers.iter().enumerate().map(|(i, c)| (c.as_str(), i as CustomerIdx)).collect();
    models
        .into_iter()
        .map(|model| {
            let all = read_lists(&dir.join(format!("{model}.all.tsv")), train, &customers)?;
            let new = read_lists(&dir.join(format!("{model}.new.tsv")), train, &customers)?;
            Ok((model, Recommender::External { all, new }))
        })
        .collect()
}

fn read_lists(path: &Path, train: &Dataset, customers: &HashMap<&str, CustomerIdx>) -> Result<HashMap<CustomerIdx, Vec<ProductIdx>>, ExternalError> {
    let text = fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    let error = |line: usize, message: String| ExternalError { path: path.to_path_buf(), line: Some(line), message };
    let mut lists = HashMap::new();
    for (i, row) in text.lines().enumerate().filter(|(_, r)| !r.trim().is_empty()) {
        let mut fields = row.split('\t');
        let customer = fields.next().unwrap_or_default();
        let c = *customers.get(customer).ok_or_else(|| error(i + 1, format!("unknown customer `{customer}`")))?;
        let items = fields
            .map(|sku| {
                train.products.binary_search_by(|p| p.sku.as_str().cmp(sku)).map(|p| p as ProductIdx).map_err(|_| error(i + 1, format!("unknown SKU `{sku}`")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        lists.insert(c, items);
    }
    Ok(lists)
}
