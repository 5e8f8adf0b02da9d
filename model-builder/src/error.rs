//! The builder's one error type. Every variant says where (file, line, column, field or key)
//! so the message alone tells a user what to fix; `main` prints it as `error: …`.

use std::fmt;
use std::path::{Path, PathBuf};

use vitrine_engine::BundleError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    /// The config does not parse, or a value has the wrong type or name.
    #[error("{}", .0)]
    Config(Located),

    /// The config parses but says something inconsistent; one entry per problem.
    #[error("{} has {} problem{}:\n{}", file.display(), problems.len(), plural(problems.len()), list(problems))]
    ConfigCheck { file: PathBuf, problems: Vec<Located> },

    /// A mapped column is not in the CSV header.
    #[error("{}:1: column {column:?} (config key {key}) is not in the header; the header has: {}", file.display(), available.join(", "))]
    MissingColumn { file: PathBuf, key: String, column: String, available: Vec<String> },

    /// A row of a data file is unusable (policy `stop`, or too many under `skip`).
    #[error("{0}")]
    BadRow(BadRow),

    #[error("{} bad rows in {} exceed cleaning.max_bad_rows = {max}; the first: {first}", count, file.display())]
    TooManyBadRows { file: PathBuf, count: u64, max: u64, first: Box<BadRow> },

    #[error("{}: {source}", path.display())]
    Bundle { path: PathBuf, source: BundleError },

    /// A valid request about something that is not there (an unknown SKU, segment, …).
    #[error("{0}")]
    NotFound(String),

    /// Anything else the user can fix, said in words.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The config problems this error is made of (`validate --json`): a parse error is one,
    /// a failed check lists each; any other error (an unreadable file) is one without a place.
    pub fn config_problems(&self, file: &Path) -> Vec<Located> {
        match self {
            Error::Config(located) => vec![located.clone()],
            Error::ConfigCheck { problems, .. } => problems.clone(),
            other => vec![Located { file: file.into(), line: None, column: None, key: String::new(), message: other.to_string() }],
        }
    }

    pub fn io(path: impl AsRef<Path>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.as_ref().to_path_buf();
        move |source| Error::Io { path, source }
    }

    /// Exit status for the CLI: 2 for a file that is not a usable bundle, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Bundle { .. } => 2,
            _ => 1,
        }
    }
}

/// A message tied to a place in a file: `vitrine.toml:12:5: orders.delimiter: …`. As JSON
/// (`validate --json`): `{"file", "line", "column", "key", "message"}`, unknown line and column
/// `null`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Located {
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key path, e.g. `placements[2].sources[0].recommender`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.key, self.message)
        }
    }
}

/// One unusable row: `orders.csv:1043: field Quantity: "12x" is not a number`, or in Parquet
/// `orders.parquet: row 1042 (row group 0): field Quantity: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub file: PathBuf,
    /// The line of a CSV file; the row (1-based, over the file) of a Parquet file.
    pub line: u64,
    /// The row group of a Parquet file's row.
    pub row_group: Option<usize>,
    /// The header name of the field, when the problem is in one field.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.row_group {
            None => write!(f, "{}:{}: ", self.file.display(), self.line)?,
            Some(g) => write!(f, "{}: row {} (row group {g}): ", self.file.display(), self.line)?,
        }
        if let Some(field) = &self.field {
            write!(f, "field {field}: ")?;
        }
        f.write_str(&self.message)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn list(problems: &[Located]) -> String {
    problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
}
