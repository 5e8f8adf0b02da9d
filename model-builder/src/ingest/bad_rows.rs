//! The bad-row policy: `stop` at the first, or `skip` and count (up to `max_bad_rows`).

use std::path::PathBuf;

use crate::config::BadRowPolicy;
use crate::error::{BadRow, Error, Result};

use super::report::BAD_ROWS_SHOWN;
use super::rows::Place;

pub struct BadRows {
    file: PathBuf,
    policy: BadRowPolicy,
    max: u64,
    pub count: u64,
    pub first: Vec<BadRow>,
}

impl BadRows {
    pub fn new(file: PathBuf, policy: BadRowPolicy, max: u64) -> Self {
        BadRows { file, policy, max, count: 0, first: Vec::new() }
    }

    /// Records one bad row; `Err` when the policy says the build stops.
    pub fn record(&mut self, place: Place, field: Option<&str>, message: String) -> Result<()> {
        let bad = BadRow { file: self.file.clone(), line: place.line, row_group: place.row_group, field: field.map(str::to_owned), message };
        if self.policy == BadRowPolicy::Stop {
            return Err(Error::BadRow(bad));
        }
        self.count += 1;
        if self.count > self.max {
            let first = self.first.first().cloned().unwrap_or(bad);
            return Err(Error::TooManyBadRows { file: self.file.clone(), count: self.count, max: self.max, first: Box::new(first) });
        }
        if self.first.len() < BAD_ROWS_SHOWN {
            self.first.push(bad);
        }
        Ok(())
    }
}
