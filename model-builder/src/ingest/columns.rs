//! Finding the configured columns in a header: a CSV file's first row, or a Parquet file's
//! column names.

use std::path::{Path, PathBuf};

use csv::ByteRecord;

use crate::error::{Error, Result};

/// The column names of an export.
pub struct Header {
    file: PathBuf,
    names: Vec<String>,
}

impl Header {
    pub fn new(file: &Path, raw: &ByteRecord) -> Result<Header> {
        let mut names = Vec::with_capacity(raw.len());
        for (i, field) in raw.iter().enumerate() {
            let name = std::str::from_utf8(field).map_err(|_| Error::Invalid(format!("{}:1: header field {} is not UTF-8 text", file.display(), i + 1)))?;
            // Spreadsheet exports often start with a byte-order mark.
            let name = if i == 0 { name.trim_start_matches('\u{feff}') } else { name };
            names.push(name.trim().to_string());
        }
        Header::from_names(file, names)
    }

    /// Names as a Parquet file's schema gives them.
    pub fn from_names(file: &Path, names: Vec<String>) -> Result<Header> {
        if names.iter().all(|n| n.is_empty()) {
            return Err(Error::Invalid(format!("{}: empty file or empty header row", file.display())));
        }
        Ok(Header { file: file.into(), names })
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name).or_else(|| {
            // Case differs (`customerid`): accept it when only one column could be meant.
            let mut matches = self.names.iter().enumerate().filter(|(_, n)| n.eq_ignore_ascii_case(name));
            match (matches.next(), matches.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        })
    }

    /// The column `name`, which must be there; `key` is the config key that named it.
    pub fn required(&self, key: &str, name: &str) -> Result<usize> {
        self.position(name).ok_or_else(|| self.missing(key, name))
    }

    /// An optional column: unset means `default` if present, `""` means none, a name must exist.
    pub fn optional(&self, key: &str, configured: Option<&str>, default: &str) -> Result<Option<usize>> {
        match configured {
            None => Ok(self.position(default)),
            Some(name) if name.trim().is_empty() => Ok(None),
            Some(name) => self.required(key, name).map(Some),
        }
    }

    fn missing(&self, key: &str, name: &str) -> Error {
        Error::MissingColumn { file: self.file.clone(), key: key.into(), column: name.into(), available: self.names.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Header {
        Header::new(Path::new("orders.csv"), &ByteRecord::from(names.to_vec())).unwrap()
    }

    #[test]
    fn finds_columns_and_names_missing_ones() {
        let h = header(&["\u{feff}Invoice", "StockCode", "Customer ID"]);
        assert_eq!(h.required("orders.columns.invoice", "Invoice").unwrap(), 0);
        assert_eq!(h.optional("orders.columns.customer", Some("Customer ID"), "CustomerID").unwrap(), Some(2));
        assert_eq!(h.optional("orders.columns.country", None, "Country").unwrap(), None);
        assert_eq!(h.optional("orders.columns.customer", Some(""), "CustomerID").unwrap(), None);
        let e = h.required("orders.columns.price", "UnitPrice").unwrap_err().to_string();
        assert_eq!(
            e,
            "orders.csv:1: column \"UnitPrice\" (config key orders.columns.price) is not in the header; \
             the header has: Invoice, StockCode, Customer ID"
        );
    }

    #[test]
    fn case_insensitive_when_unambiguous() {
        let h = header(&["customerid", "Country"]);
        assert_eq!(h.required("k", "CustomerID").unwrap(), 0);
    }
}
