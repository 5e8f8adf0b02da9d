//! Parquet exports, read as the rows of text fields the CSV path reads, so one set of per-row
//! cleaning rules serves both (`rows.rs`).
//!
//! Through the `parquet` crate's column readers, without `arrow` (several times less to
//! compile), only the columns the config maps, in batches per row group. Each value becomes
//! the text a CSV export would hold:
//! - strings (and enums, JSON) as they are; ints (signed or not) and floats in decimal (floats
//!   as their shortest round-trip form, so a FLOAT 2.55 reads as 2.55); booleans `true`/`false`;
//!   decimals (INT32, INT64 or bytes) with their scale (`12.50`); NULL as an empty field;
//! - DATE as `2010-12-01`; TIMESTAMP (millis, micros, nanos; legacy INT96 too) as
//!   `2010-12-01 08:26:00`, fractions of a second dropped. Like the CSV path's dates, the wall
//!   clock is kept: a UTC-adjusted timestamp is read in UTC, a local one as written. Typed
//!   columns are read in these formats whatever `orders.date_format` says (that is for text).
//!
//! A bad value is named by file, row (1-based, over the whole file), row group and column; a
//! file that is truncated or damaged is an error naming the file (and the row group and column
//! where reading failed), never a panic.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use csv::ByteRecord;
use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::data_type::{ByteArray, FixedLenByteArray, Int96};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescPtr;
use vitrine_engine::civil::day_string;

use crate::error::{Error, Result};

/// Rows decoded per column at a time.
const BATCH: usize = 8192;

/// Whether `path` is a Parquet file, by its name (`orders.parquet`).
pub fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// How a column's values become text.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Text,
    Signed,
    Unsigned,
    Float,
    Bool,
    /// Days since 1970-01-01.
    Date,
    /// Units per second.
    Timestamp(i64),
    /// Digits after the point.
    Decimal(i32),
}

/// One column's decoded batch.
enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    I96(Vec<Int96>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
    Fixed(Vec<FixedLenByteArray>),
}

struct Column {
    /// Position among the file's leaf columns (= in the header).
    index: usize,
    name: String,
    kind: Kind,
    max_def: i16,
    reader: Option<ColumnReader>,
    def: Vec<i16>,
    values: Values,
    /// The next row of `def` and the next value of `values` (NULLs take none).
    def_row: usize,
    next: usize,
}

/// A Parquet file opened for reading rows.
pub struct ParquetRows {
    path: PathBuf,
    reader: SerializedFileReader<File>,
    names: Vec<String>,
    columns: Vec<Column>,
    /// The row group being read, its rows left, and rows left in the decoded batch.
    group: usize,
    group_left: u64,
    batch_left: usize,
    /// Rows handed out so far, and in the whole file.
    row: u64,
    rows: u64,
    bytes: u64,
    scratch: String,
}

impl ParquetRows {
    pub fn open(path: &Path) -> Result<ParquetRows> {
        let file = File::open(path).map_err(Error::io(path))?;
        let bytes = file.metadata().map_err(Error::io(path))?.len();
        let reader = SerializedFileReader::new(file).map_err(|e| Error::Invalid(format!("{}: not a readable Parquet file: {e}", path.display())))?;
        let meta = reader.metadata().file_metadata();
        let schema = meta.schema_descr();
        let names = (0..schema.num_columns())
            .map(|i| {
                let c = schema.column(i);
                let parts = c.path().parts();
                if parts.len() == 1 {
                    c.name().to_string()
                } else {
                    parts.join(".")
                }
            })
            .collect();
        let rows = u64::try_from(meta.num_rows()).unwrap_or(0);
        Ok(ParquetRows {
            path: path.into(),
            reader,
            names,
            columns: Vec::new(),
            group: 0,
            group_left: 0,
            batch_left: 0,
            row: 0,
            rows,
            bytes,
            scratch: String::new(),
        })
    }

    /// The leaf columns' names (a nested one dotted: `address.city`).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Decode only these columns (positions in `names`); the others read as empty fields.
    pub fn select(&mut self, wanted: &[usize]) -> Result<()> {
        let schema = self.reader.metadata().file_metadata().schema_descr_ptr();
        let mut columns = Vec::new();
        for &index in wanted {
            if columns.iter().any(|c: &Column| c.index == index) {
                continue;
            }
            let descr = schema.column(index);
            let name = self.names[index].clone();
            if descr.max_rep_level() > 0 {
                return Err(Error::Invalid(format!("{}: column {name:?} is a list (repeated); map a column with one value per row", self.path.display())));
            }
            let kind = kind(&descr);
            let values = match descr.physical_type() {
                Physical::BOOLEAN => Values::Bool(Vec::new()),
                Physical::INT32 => Values::I32(Vec::new()),
                Physical::INT64 => Values::I64(Vec::new()),
                Physical::INT96 => Values::I96(Vec::new()),
                Physical::FLOAT => Values::F32(Vec::new()),
                Physical::DOUBLE => Values::F64(Vec::new()),
                Physical::BYTE_ARRAY => Values::Bytes(Vec::new()),
                Physical::FIXED_LEN_BYTE_ARRAY => Values::Fixed(Vec::new()),
            };
            columns.push(Column { index, name, kind, max_def: descr.max_def_level(), reader: None, def: Vec::new(), values, def_row: 0, next: 0 });
        }
        self.columns = columns;
        Ok(())
    }

    /// Whether column `index` holds typed dates or timestamps (read as `%Y-%m-%d %H:%M:%S` or
    /// `%Y-%m-%d`, not in the configured text formats).
    pub fn is_time(&self, index: usize) -> bool {
        let descr = self.reader.metadata().file_metadata().schema_descr().column(index);
        matches!(kind(&descr), Kind::Date | Kind::Timestamp(_))
    }

    /// Bytes of the file behind the rows handed out so far (for a progress bar).
    pub fn position(&self) -> u64 {
        if self.rows == 0 {
            return 0;
        }
        (self.bytes as u128 * self.row as u128 / self.rows as u128) as u64
    }

    /// The next row as text fields, one per leaf column; its 1-based row number and row group.
    pub fn next(&mut self, record: &mut ByteRecord) -> Result<Option<(u64, usize)>> {
        while self.batch_left == 0 {
            if self.group_left == 0 && !self.next_group()? {
                return Ok(None);
            }
            self.next_batch()?;
        }
        self.batch_left -= 1;
        self.group_left -= 1;
        self.row += 1;
        record.clear();
        let mut selected = self.columns.iter_mut().peekable();
        for i in 0..self.names.len() {
            match selected.next_if(|c| c.index == i) {
                Some(c) => c.push_next(record, &mut self.scratch),
                None => record.push_field(b""),
            }
        }
        Ok(Some((self.row, self.group - 1)))
    }

    fn next_group(&mut self) -> Result<bool> {
        if self.group >= self.reader.num_row_groups() {
            return Ok(false);
        }
        let g = self.group;
        let group = self.reader.get_row_group(g).map_err(|e| damaged(&self.path, g, None, e))?;
        self.group_left = u64::try_from(group.metadata().num_rows()).unwrap_or(0);
        for c in &mut self.columns {
            c.reader = Some(group.get_column_reader(c.index).map_err(|e| damaged(&self.path, g, Some(&c.name), e))?);
        }
        // Columns are kept in file order so `next` can walk them beside the header.
        self.columns.sort_by_key(|c| c.index);
        self.group += 1;
        Ok(true)
    }

    fn next_batch(&mut self) -> Result<()> {
        let want = BATCH.min(usize::try_from(self.group_left).unwrap_or(BATCH));
        let g = self.group - 1;
        for c in &mut self.columns {
            // The decoder asserts on some damaged pages (parquet 60): a panic is a damaged file.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.read(want)))
                .unwrap_or_else(|panic| {
                    let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
                    Err(parquet::errors::ParquetError::General(format!("the decoder failed ({what})")))
                })
                .map_err(|e| damaged(&self.path, g, Some(&c.name), e))?;
            if read != want {
                return Err(Error::Invalid(format!(
                    "{}: row group {g}, column {:?}: {read} values where {want} rows were due (a damaged file?)",
                    self.path.display(),
                    c.name
                )));
            }
        }
        self.batch_left = want;
        Ok(())
    }
}

fn damaged(path: &Path, group: usize, column: Option<&str>, e: parquet::errors::ParquetError) -> Error {
    let column = column.map(|c| format!(", column {c:?}")).unwrap_or_default();
    Error::Invalid(format!("{}: row group {group}{column}: {e} (a truncated or damaged file?)", path.display()))
}

impl Column {
    /// Decodes the next `want` rows; returns how many rows came.
    fn read(&mut self, want: usize) -> parquet::errors::Result<usize> {
        self.def.clear();
        self.def_row = 0;
        self.next = 0;
        let def = Some(&mut self.def);
        let reader = self.reader.as_mut().expect("a reader per row group");
        let (records, _, _) = match (reader, &mut self.values) {
            (ColumnReader::BoolColumnReader(r), Values::Bool(v)) => {
                v.clear();
                r.read_records(want, def, None, v)?
            }
            (ColumnReader::Int32ColumnReader(r), Values::I32(v)) => {
                v.clear();
                r.read_records(want, def, None, v)?
            }
            (ColumnReader::Int64ColumnReader(r), Values::I64(v)) => {
                v.clear();
                r.read_records(want, def, None, v)?
            }
            (ColumnReader::Int96ColumnReader(r), Values::I96(v)) => {
                v.clear();
                r.read_records(want, def, None, v)?
            }
            (ColumnReader::FloatColumnReader(r), Values::F32(v)) => {
                v.clear();
                r.read_records(want, def, None, v)?
            }
            (ColumnReader::DoubleColumnReader(r), Values::F64(v)) => {
                v.clear();
                r.read_records(want, def, None, v)?
            }
            (ColumnReader::ByteArrayColumnReader(r), Values::Bytes(v)) => {
                v.clear();
                r.read_records(want, def, None, v)?
            }
            (ColumnReader::FixedLenByteArrayColumnReader(r), Values::Fixed(v)) => {
                v.clear();
                r.read_records(want, def, None, v)?
            }
            _ => return Err(parquet::errors::ParquetError::General("column reader and schema disagree on the type".into())),
        };
        Ok(records)
    }

    /// Appends the next row's value to `record` as text (NULL: an empty field).
    fn push_next(&mut self, record: &mut ByteRecord, s: &mut String) {
        let null = self.max_def > 0 && self.def.get(self.def_row).is_none_or(|&d| d < self.max_def);
        self.def_row += 1;
        if null {
            record.push_field(b"");
            return;
        }
        let i = self.next;
        self.next += 1;
        s.clear();
        let bytes: &[u8] = match &self.values {
            Values::Bytes(v) => match v.get(i) {
                Some(b) => return push_bytes(record, b.data(), self.kind, s),
                None => b"",
            },
            Values::Fixed(v) => match v.get(i) {
                Some(b) => return push_bytes(record, b.data(), self.kind, s),
                None => b"",
            },
            Values::Bool(v) => match v.get(i) {
                Some(true) => b"true",
                Some(false) => b"false",
                None => b"",
            },
            Values::I32(v) => {
                if let Some(&n) = v.get(i) {
                    match self.kind {
                        Kind::Unsigned => write_int(s, i128::from(n as u32), 0),
                        Kind::Decimal(scale) => write_int(s, i128::from(n), scale),
                        Kind::Date => s.push_str(&day_string(i64::from(n) * 86_400)),
                        _ => write_int(s, i128::from(n), 0),
                    }
                }
                s.as_bytes()
            }
            Values::I64(v) => {
                if let Some(&n) = v.get(i) {
                    match self.kind {
                        Kind::Unsigned => write_int(s, i128::from(n as u64), 0),
                        Kind::Decimal(scale) => write_int(s, i128::from(n), scale),
                        Kind::Timestamp(per_second) => write_time(s, n.div_euclid(per_second)),
                        Kind::Date => s.push_str(&day_string(n * 86_400)),
                        _ => write_int(s, i128::from(n), 0),
                    }
                }
                s.as_bytes()
            }
            Values::I96(v) => {
                if let Some(t) = v.get(i) {
                    write_time(s, t.to_seconds());
                }
                s.as_bytes()
            }
            Values::F32(v) => {
                if let Some(x) = v.get(i) {
                    let _ = write!(s, "{x}");
                }
                s.as_bytes()
            }
            Values::F64(v) => {
                if let Some(x) = v.get(i) {
                    let _ = write!(s, "{x}");
                }
                s.as_bytes()
            }
        };
        record.push_field(bytes);
    }
}

fn push_bytes(record: &mut ByteRecord, b: &[u8], kind: Kind, s: &mut String) {
    match kind {
        Kind::Decimal(scale) => {
            match decimal_bytes(b) {
                Some(n) => write_int(s, n, scale),
                None => s.push_str("(a decimal wider than 128 bits)"),
            }
            record.push_field(s.as_bytes());
        }
        _ => record.push_field(b),
    }
}

/// A big-endian two's complement integer of up to 16 bytes.
fn decimal_bytes(b: &[u8]) -> Option<i128> {
    if b.len() > 16 {
        return None;
    }
    let fill = if b.first().is_some_and(|&x| x & 0x80 != 0) { 0xff } else { 0 };
    let mut full = [fill; 16];
    full[16 - b.len()..].copy_from_slice(b);
    Some(i128::from_be_bytes(full))
}

/// `n` with `scale` digits after the point (`1250`, 2 → `12.50`).
fn write_int(s: &mut String, n: i128, scale: i32) {
    if scale <= 0 {
        let _ = write!(s, "{n}");
        for _ in 0..-scale {
            s.push('0');
        }
        return;
    }
    let scale = scale as usize;
    let digits = n.unsigned_abs().to_string();
    if n < 0 {
        s.push('-');
    }
    if digits.len() <= scale {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', scale - digits.len()));
        s.push_str(&digits);
    } else {
        let (whole, frac) = digits.split_at(digits.len() - scale);
        s.push_str(whole);
        s.push('.');
        s.push_str(frac);
    }
}

/// The text of typed timestamps and dates (`write_time`, `day_string`), as chrono formats.
pub const TYPED_TIME_FORMATS: [&str; 2] = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"];

/// `2010-12-01 08:26:00` of unix seconds.
fn write_time(s: &mut String, t: i64) {
    let second = t.rem_euclid(86_400);
    let _ = write!(s, "{} {:02}:{:02}:{:02}", day_string(t), second / 3600, second / 60 % 60, second % 60);
}

fn kind(descr: &ColumnDescPtr) -> Kind {
    let physical = descr.physical_type();
    match descr.logical_type_ref() {
        Some(LogicalType::Decimal(d)) => return Kind::Decimal(d.scale),
        Some(LogicalType::Date) => return Kind::Date,
        Some(LogicalType::Timestamp(t)) => {
            return Kind::Timestamp(match t.unit {
                TimeUnit::MILLIS => 1_000,
                TimeUnit::MICROS => 1_000_000,
                TimeUnit::NANOS => 1_000_000_000,
            })
        }
        Some(LogicalType::Integer(i)) if !i.is_signed => return Kind::Unsigned,
        _ => {}
    }
    match descr.converted_type() {
        ConvertedType::DECIMAL => return Kind::Decimal(descr.type_scale()),
        ConvertedType::DATE => return Kind::Date,
        ConvertedType::TIMESTAMP_MILLIS => return Kind::Timestamp(1_000),
        ConvertedType::TIMESTAMP_MICROS => return Kind::Timestamp(1_000_000),
        ConvertedType::UINT_8 | ConvertedType::UINT_16 | ConvertedType::UINT_32 | ConvertedType::UINT_64 => return Kind::Unsigned,
        _ => {}
    }
    match physical {
        Physical::BOOLEAN => Kind::Bool,
        Physical::INT32 | Physical::INT64 => Kind::Signed,
        // Legacy timestamps (Spark, Impala, old pandas): nanoseconds of a Julian day.
        Physical::INT96 => Kind::Timestamp(1),
        Physical::FLOAT | Physical::DOUBLE => Kind::Float,
        Physical::BYTE_ARRAY | Physical::FIXED_LEN_BYTE_ARRAY => Kind::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_their_scale() {
        let text = |n: i128, scale: i32| {
            let mut s = String::new();
            write_int(&mut s, n, scale);
            s
        };
        assert_eq!(text(1250, 2), "12.50");
        assert_eq!(text(-5, 2), "-0.05");
        assert_eq!(text(7, 0), "7");
        assert_eq!(text(7, -2), "700");
        assert_eq!(decimal_bytes(&[0xff, 0x85]), Some(-123));
        assert_eq!(decimal_bytes(&[0x04, 0xe2]), Some(1250));
        assert_eq!(decimal_bytes(&[1; 17]), None);
    }

    #[test]
    fn times_are_wall_clock_text() {
        let mut s = String::new();
        write_time(&mut s, 1_291_191_960);
        assert_eq!(s, "2010-12-01 08:26:00");
        s.clear();
        write_time(&mut s, -1);
        assert_eq!(s, "1969-12-31 23:59:59");
    }
}
