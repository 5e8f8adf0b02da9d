//! What ingest saw and did, counted: the first half of the build summary.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::BadRow;

/// How many bad rows the summary lists; the rest are only counted.
pub const BAD_ROWS_SHOWN: usize = 5;

#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    pub file: PathBuf,
    pub bytes: u64,
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Distinct values in the file as read, before any cleaning.
    pub as_read: AsRead,
    pub dropped: Dropped,
    /// Rows that could not be read (malformed, bad number or date, invalid UTF-8).
    pub bad_rows: u64,
    #[serde(serialize_with = "display_all")]
    pub first_bad_rows: Vec<BadRow>,
    /// Sales lines kept: `rows = bad_rows + dropped.total() + kept_lines`.
    pub kept_lines: u64,
    /// Kept lines without a customer: they count for baskets and popularity, not profiles.
    pub guest_lines: u64,
    /// Kept lines whose description was blank or a placeholder ("Unknown"): the product's
    /// title comes from its other lines.
    pub placeholder_title_lines: u64,
    pub catalog: Option<CatalogReport>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct AsRead {
    /// Distinct invoice numbers, cancellations included.
    pub invoices: u64,
    /// Distinct stock codes exactly as written (case-sensitive).
    pub skus: u64,
    /// Distinct non-blank customer ids.
    pub customers: u64,
    pub countries: u64,
    /// Sum of quantity × unit price over every row (returns and cancellations negative).
    pub value: f64,
}

/// Rows kept out of the sales, by the first reason that applies (in this order).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Dropped {
    /// Lines of cancellation invoices (invoice number starts with the cancel prefix).
    pub cancelled: u64,
    /// Postage, fees, manual adjustments, vouchers.
    pub non_product: u64,
    /// Quantity zero or negative: returns and stock adjustments.
    pub non_positive_quantity: u64,
    /// Price zero or negative: samples, damages, bad-debt adjustments.
    pub non_positive_price: u64,
    /// Products the catalog does not list (only with a catalog).
    pub not_in_catalog: u64,
    /// Sales undone by a later cancellation of the same customer, SKU and quantity.
    pub reversed_by_cancellation: u64,
}

impl Dropped {
    pub fn total(&self) -> u64 {
        self.cancelled + self.non_product + self.non_positive_quantity + self.non_positive_price + self.not_in_catalog + self.reversed_by_cancellation
    }

    /// (label, count) pairs, for printing.
    pub fn reasons(&self) -> [(&'static str, u64); 6] {
        [
            ("cancelled invoice", self.cancelled),
            ("reversed by a cancellation", self.reversed_by_cancellation),
            ("non-product code", self.non_product),
            ("quantity <= 0 (return)", self.non_positive_quantity),
            ("price <= 0", self.non_positive_price),
            ("not in catalog", self.not_in_catalog),
        ]
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CatalogReport {
    pub file: PathBuf,
    pub rows: u64,
    pub products: u64,
    pub bad_rows: u64,
}

fn display_all<S: serde::Serializer>(rows: &[BadRow], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(rows.iter().map(|r| r.to_string()))
}
