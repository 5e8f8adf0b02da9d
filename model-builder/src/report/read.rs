//! Reading the R2 export: every `*.jsonl` and `*.jsonl.gz` under a folder, one
//! [`Record`](vitrine_engine::measure::Record) a line. A bad line is named (file:line) and
//! skipped; a bad file (unreadable, broken gzip) is named and the lines before the break kept.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::Serialize;
use vitrine_engine::measure::Record;

use crate::error::{Error, Result};

/// A record line longer than this is refused: the edge writes a few hundred bytes (strings cut
/// to `max_len`, lists to `max_items`), so a longer one is not ours.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Bad lines kept with their message (the count goes on past this).
pub const MAX_BAD_LINES_KEPT: usize = 100;

/// One unusable line: `events/day=2026-12-01/b1.jsonl.gz:17: missing field `unit``.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BadLine {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file itself.
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

/// What a folder held.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<Record>,
    pub files: u64,
    pub lines: u64,
    pub bad_count: u64,
    /// The first [`MAX_BAD_LINES_KEPT`] bad lines.
    pub bad: Vec<BadLine>,
}

impl Loaded {
    fn bad(&mut self, file: &Path, line: u64, message: String) {
        self.bad_count += 1;
        if self.bad.len() < MAX_BAD_LINES_KEPT {
            self.bad.push(BadLine { file: file.to_path_buf(), line, message });
        }
    }
}

/// Reads every record file under `dir` (or `dir` itself, if it is a file), in path order.
pub fn read_dir(dir: &Path) -> Result<Loaded> {
    let mut files = Vec::new();
    if dir.is_file() {
        files.push(dir.to_path_buf());
    } else {
        collect(dir, &mut files)?;
    }
    if files.is_empty() {
        return Err(Error::Invalid(format!("{}: no *.jsonl or *.jsonl.gz files under it", dir.display())));
    }
    files.sort();
    let mut out = Loaded::default();
    for f in &files {
        read_file(f, &mut out)?;
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if is_record_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_record_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.ends_with(".jsonl") || name.ends_with(".jsonl.gz")
}

/// Reads one file's lines into `out`.
pub fn read_file(path: &Path, out: &mut Loaded) -> Result<()> {
    let file = File::open(path).map_err(Error::io(path))?;
    out.files += 1;
    let gz = path.extension().is_some_and(|e| e == "gz");
    // Batches may be concatenated gzip members: read them all.
    let inner: Box<dyn Read> = if gz { Box::new(MultiGzDecoder::new(file)) } else { Box::new(file) };
    let mut reader = BufReader::new(inner);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        line_no += 1;
        // Read at most one byte past the limit: a huge line costs no memory.
        match (&mut reader).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                out.bad(path, line_no, format!("unreadable ({e}); the rest of the file is skipped"));
                break;
            }
        }
        if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            out.lines += 1;
            out.bad(path, line_no, format!("line longer than {MAX_LINE_BYTES} bytes"));
            if let Err(e) = skip_line(&mut reader) {
                out.bad(path, line_no, format!("unreadable ({e}); the rest of the file is skipped"));
                break;
            }
            continue;
        }
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.lines += 1;
        match parse(text) {
            Ok(r) => out.records.push(r),
            Err(message) => out.bad(path, line_no, message),
        }
    }
    Ok(())
}

fn skip_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    let mut sink = Vec::new();
    loop {
        sink.clear();
        let n = reader.take(MAX_LINE_BYTES as u64).read_until(b'\n', &mut sink)?;
        if n == 0 || sink.last() == Some(&b'\n') {
            return Ok(());
        }
    }
}

/// One line as a record, or what is wrong with it.
fn parse(line: &[u8]) -> std::result::Result<Record, String> {
    let r: Record = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    if r.message_id.is_empty() {
        return Err("empty messageId".into());
    }
    if r.event.is_empty() {
        return Err("empty event".into());
    }
    // The store's server may not know the visitor: its order copy may come without a unit.
    if r.unit.is_empty() && r.event != vitrine_engine::measure::ORDER_COMPLETED {
        return Err("empty unit".into());
    }
    if r.revenue.is_some_and(|v| !v.is_finite()) {
        return Err("revenue is not a finite number".into());
    }
    Ok(r)
}
