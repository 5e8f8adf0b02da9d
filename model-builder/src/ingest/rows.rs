//! An export's rows as text fields, whatever its format: CSV (gzip'd or not, `ingest::open`)
//! or Parquet (`parquet.rs`), chosen by the file's name. The per-row cleaning code
//! (`orders.rs`, `catalog.rs`, `customers.rs`) reads only these, so it exists once.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use super::columns::Header;
use super::parquet::{is_parquet, ParquetRows};
use crate::error::{Error, Result};

/// Where a row is: its line in a CSV file, or its row (1-based, over the file) and row
/// group in a Parquet file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub line: u64,
    pub row_group: Option<usize>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.row_group {
            None => write!(f, "line {}", self.line),
            Some(g) => write!(f, "row {} (row group {g})", self.line),
        }
    }
}

enum Source<'a> {
    Csv(csv::Reader<Box<dyn Read + 'a>>),
    Parquet(Box<ParquetRows>),
}

pub struct Rows<'a> {
    path: PathBuf,
    header: Header,
    source: Source<'a>,
}

impl<'a> Rows<'a> {
    /// CSV from `input` (already decompressed), fields split at `delimiter`.
    pub fn csv(path: &Path, input: impl Read + 'a, delimiter: char) -> Result<Rows<'a>> {
        let input: Box<dyn Read + 'a> = Box::new(input);
        let mut reader = csv::ReaderBuilder::new().delimiter(delimiter as u8).flexible(true).buffer_capacity(1 << 18).from_reader(input);
        let header = Header::new(path, reader.byte_headers().map_err(|e| csv_error(path, e))?)?;
        Ok(Rows { path: path.into(), header, source: Source::Csv(reader) })
    }

    /// The header's columns, and the columns the caller will read (only these are decoded
    /// from Parquet; the rest read as empty).
    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn select(&mut self, columns: &[Option<usize>]) -> Result<()> {
        match &mut self.source {
            Source::Csv(_) => Ok(()),
            Source::Parquet(p) => p.select(&columns.iter().flatten().copied().collect::<Vec<_>>()),
        }
    }

    /// Whether `column` holds typed dates or timestamps (Parquet), which read as
    /// `%Y-%m-%d %H:%M:%S` or `%Y-%m-%d` whatever the configured text formats are.
    pub fn is_time(&self, column: usize) -> bool {
        match &self.source {
            Source::Csv(_) => false,
            Source::Parquet(p) => p.is_time(column),
        }
    }

    /// The next row into `record`, and where it is; `None` at the end.
    pub fn next(&mut self, record: &mut ByteRecord) -> Result<Option<Place>> {
        match &mut self.source {
            Source::Csv(reader) => {
                if !reader.read_byte_record(record).map_err(|e| csv_error(&self.path, e))? {
                    return Ok(None);
                }
                Ok(Some(Place { line: record.position().map_or(0, |p| p.line()), row_group: None }))
            }
            Source::Parquet(p) => Ok(p.next(record)?.map(|(row, group)| Place { line: row, row_group: Some(group) })),
        }
    }

    /// Bytes read so far (of the stream the CSV reader sees; of the file for Parquet).
    pub fn position(&self) -> u64 {
        match &self.source {
            Source::Csv(reader) => reader.position().byte(),
            Source::Parquet(p) => p.position(),
        }
    }
}

/// The file at `path`, by its name: Parquet (`.parquet`), gzip'd CSV (`.gz`) or CSV.
pub fn open_rows(path: &Path, delimiter: char) -> Result<Rows<'static>> {
    if is_parquet(path) {
        let parquet = ParquetRows::open(path)?;
        let header = Header::from_names(path, parquet.names().to_vec())?;
        return Ok(Rows { path: path.into(), header, source: Source::Parquet(Box::new(parquet)) });
    }
    Rows::csv(path, super::open(path)?, delimiter)
}

/// An error from the CSV reader itself (I/O), with the line it was at.
pub fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(source) => Error::Io { path: path.into(), source },
        _ => Error::Invalid(format!("{}:{line}: {message}", path.display())),
    }
}
