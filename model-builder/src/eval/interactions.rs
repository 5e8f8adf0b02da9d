//! Research-style interaction logs (MovieLens and the like): one `user, item, timestamp,
//! weight` row per interaction, tab or comma separated, with the per-user random 75/25 split
//! of Microsoft Recommenders' `python_random_split`, so our figures sit beside published ones.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use super::external::ExternalError;
use super::holdout::{owned_by_customer, Holdout, TestUser};
use crate::data::{CustomerIdx, Dataset, Line, Order, Product, ProductIdx};
use crate::rng::SplitMix64;

/// What each column of the file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    User,
    Item,
    Timestamp,
    Weight,
    Ignored,
}

/// Reads a `--columns` list such as `user,item,weight,timestamp` (`-` skips a column).
pub fn parse_columns(spec: &str) -> Result<Vec<Column>, String> {
    let columns = spec
        .split(',')
        .map(|name| match name.trim() {
            "user" => Ok(Column::User),
            "item" => Ok(Column::Item),
            "timestamp" => Ok(Column::Timestamp),
            "weight" | "rating" => Ok(Column::Weight),
            "-" | "" => Ok(Column::Ignored),
            other => Err(format!("unknown column `{other}` (user, item, timestamp, weight or -)")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    for needed in [Column::User, Column::Item, Column::Timestamp] {
        if !columns.contains(&needed) {
            return Err(format!("--columns needs user, item and timestamp; got `{spec}`"));
        }
    }
    Ok(columns)
}

/// One interaction as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Interaction {
    pub user: String,
    pub item: String,
    pub time: i64,
    pub weight: f32,
}

/// Reads the file. A first line whose timestamp is not a number is a header and skipped.
pub fn read(path: &Path, columns: &[Column]) -> Result<Vec<Interaction>, ExternalError> {
    let text = fs::read_to_string(path).map_err(|e| ExternalError { path: path.to_path_buf(), line: None, message: e.to_string() })?;
    let position = |c: Column| columns.iter().position(|&x| x == c);
    let (user_at, item_at, time_at) = (position(Column::User), position(Column::Item), position(Column::Timestamp));
    let weight_at = position(Column::Weight);
    let mut out = Vec::new();
    for (i, row) in text.lines().enumerate().filter(|(_, r)| !r.trim().is_empty()) {
        let error = |message: String| ExternalError { path: path.to_path_buf(), line: Some(i + 1), message };
        let separator = if row.contains('\t') { '\t' } else { ',' };
        let fields: Vec<&str> = row.split(separator).map(str::trim).collect();
        let field = |at: Option<usize>, name: &str| {
            at.and_then(|a| fields.get(a).copied()).ok_or_else(|| error(format!("missing column `{name}` ({} fields)", fields.len())))
        };
        let time_text = field(time_at, "timestamp")?;
        let time = match time_text.parse::<f64>() {
            Ok(t) if t.is_finite() => t as i64,
            _ if i == 0 => continue, // a header
            _ => return Err(error(format!("timestamp `{time_text}` is not a number (unix seconds)"))),
        };
        let weight = match weight_at {
            Some(_) => {
                let w = field(weight_at, "weight")?;
                w.parse::<f32>().ok().filter(|w| w.is_finite()).ok_or_else(|| error(format!("weight `{w}` is not a number")))?
            }
            None => 1.0,
        };
        out.push(Interaction { user: field(user_at, "user")?.to_string(), item: field(item_at, "item")?.to_string(), time, weight });
    }
    Ok(out)
}

/// Per user, a random `train_share` of their (distinct) items trains and the rest tests, with
/// a fixed seed. Every user is a test user if both parts are non-empty.
pub fn random_split(interactions: &[Interaction], train_share: f64, seed: u64) -> Holdout {
    let mut items: Vec<&str> = interactions.iter().map(|x| x.item.as_str()).collect();
    items.sort_unstable();
    items.dedup();
    let mut users: Vec<&str> = interactions.iter().map(|x| x.user.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    let item_index = |s: &str| items.binary_search(&s).expect("collected above") as ProductIdx;
    let user_index = |s: &str| users.binary_search(&s).expect("collected above") as CustomerIdx;

    // One record per (user, item): the latest time; repeats of a pair are one interaction.
    let mut latest: HashMap<(CustomerIdx, ProductIdx), i64> = HashMap::new();
    for x in interactions {
        let t = latest.entry((user_index(&x.user), item_index(&x.item))).or_insert(x.time);
        *t = (*t).max(x.time);
    }
    let mut by_user: Vec<Vec<(ProductIdx, i64)>> = vec![Vec::new(); users.len()];
    for (&(u, i), &t) in &latest {
        by_user[u as usize].push((i, t));
    }

    let mut rng = SplitMix64::new(seed);
    let mut train_events = Vec::new();
    let mut tests: Vec<Vec<ProductIdx>> = vec![Vec::new(); users.len()];
    for (u, events) in by_user.iter_mut().enumerate() {
        events.sort_unstable(); // a fixed order before shuffling, whatever the hash map did
        let n = events.len();
        rng.partial_shuffle(events, n);
        let n_train = (events.len() as f64 * train_share).floor() as usize;
        train_events.extend(events[..n_train].iter().map(|&(item, t)| (t, u as CustomerIdx, item)));
        tests[u] = events[n_train..].iter().map(|&(item, _)| item).collect();
    }
    train_events.sort_unstable();

    let train = Dataset {
        products: items.iter().map(|s| Product { sku: s.to_string(), in_stock: true, ..Default::default() }).collect(),
        categories: Vec::new(),
        created_at: Vec::new(),
        countries: vec![String::new()],
        customers: users.iter().map(|s| s.to_string()).collect(),
        lines: train_events.iter().map(|&(_, _, product)| Line { product, quantity: 1, unit_price: 0.0 }).collect(),
        orders: train_events
            .iter()
            .enumerate()
            .map(|(i, &(time, user, _))| Order { invoice: i.to_string(), customer: Some(user), country: 0, time, lines: i as u32..i as u32 + 1 })
            .collect(),
    };
    let owned = owned_by_customer(&train);
    let mut cold_customers = 0;
    let test_users = tests
        .into_iter()
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .filter_map(|(u, mut bought)| {
            if owned[u].is_empty() {
                cold_customers += 1;
                return None;
            }
            bought.sort_unstable();
            Some(TestUser { customer: u as CustomerIdx, country: 0, owned: owned[u].clone(), bought })
        })
        .collect();
    // "Now" is just after the last training interaction.
    Holdout { as_of: train.last_time() + 1, train, users: test_users, cold_customers }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tab_and_comma_files_with_or_without_header() {
        let dir = std::env::temp_dir().join(format!("vitrine-interactions-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let tab = dir.join("u.data");
        fs::write(&tab, "196\t242\t3\t881250949\n186\t302\t3\t891717742\n").unwrap();
        let cols = parse_columns("user,item,weight,timestamp").unwrap();
        let rows = read(&tab, &cols).unwrap();
        assert_eq!(rows[0], Interaction { user: "196".into(), item: "242".into(), time: 881250949, weight: 3.0 });

        let csv = dir.join("ratings.csv");
        fs::write(&csv, "userId,movieId,timestamp\n1,31,1260759144\n1,x,oops\n").unwrap();
        let err = read(&csv, &parse_columns("user,item,timestamp").unwrap()).unwrap_err().to_string();
        assert!(err.ends_with("ratings.csv:3: timestamp `oops` is not a number (unix seconds)"), "{err}");
        assert!(parse_columns("user,item").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn random_split_is_per_user_75_25_and_repeatable() {
        let interactions: Vec<Interaction> =
            (0..3).flat_map(|u| (0..8).map(move |i| Interaction { user: format!("u{u}"), item: format!("i{i}"), time: i, weight: 1.0 })).collect();
        let a = random_split(&interactions, 0.75, 7);
        let b = random_split(&interactions, 0.75, 7);
        assert_eq!(a.users.len(), 3);
        for (x, y) in a.users.iter().zip(&b.users) {
            assert_eq!((x.owned.len(), x.bought.len()), (6, 2));
            assert_eq!(x.bought, y.bought, "same seed, same split");
            assert!(x.bought.iter().all(|p| !x.owned.iter().any(|o| o.item == *p)));
        }
        assert_eq!(a.train.orders.len(), 18);
        let c = random_split(&interactions, 0.75, 8);
        assert!(a.users.iter().zip(&c.users).any(|(x, y)| x.bought != y.bought), "another seed, another split");
    }
}
