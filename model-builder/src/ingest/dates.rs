//! Order dates (and the catalog's `created_at`) in the export's configured chrono format(s),
//! as unix seconds of the export's local wall-clock time read as UTC (the data's own calendar
//! days, whatever its time zone).

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::intern::LastSeen;

pub struct DateParser {
    formats: Vec<String>,
    /// RFC 3339 (`2024-05-01T09:30:00Z`, `…+02:00`) is tried before the formats: what
    /// platforms export timestamps as (the catalog's `created_at`).
    rfc3339: bool,
    /// Rows of one order repeat its date: parse each distinct string once in a row.
    last: LastSeen<i64>,
}

impl DateParser {
    pub fn new(formats: &[String]) -> Self {
        DateParser { formats: formats.to_vec(), rfc3339: false, last: LastSeen::default() }
    }

    /// For the catalog's `created_at`: RFC 3339 first, then `formats`.
    pub fn with_rfc3339(formats: &[String]) -> Self {
        DateParser { rfc3339: true, ..DateParser::new(formats) }
    }

    /// Unix seconds, or a message saying what was expected.
    pub fn parse(&mut self, s: &str) -> Result<i64, String> {
        if let Some(t) = self.last.get(s.as_bytes()) {
            return Ok(t);
        }
        let rfc3339 = || DateTime::parse_from_rfc3339(s).ok().filter(|_| self.rfc3339).map(|d| d.naive_local().and_utc().timestamp());
        let t = rfc3339().or_else(|| self.formats.iter().find_map(|f| parse_one(s, f))).ok_or_else(|| {
            let mut expected: Vec<String> = self.rfc3339.then(|| "RFC 3339 (2024-05-01T09:30:00Z)".to_string()).into_iter().collect();
            expected.extend(self.formats.iter().map(|f| format!("{f:?}")));
            format!("{s:?} is not a date in the format {}", expected.join(" or "))
        })?;
        self.last.set(s.as_bytes(), t);
        Ok(t)
    }
}

fn parse_one(s: &str, format: &str) -> Option<i64> {
    if format.contains("%z") || format.contains("%:z") || format.contains("%#z") {
        // Keep the wall-clock time the shop saw; the offset only has to parse.
        return DateTime::parse_from_str(s, format).ok().map(|d| d.naive_local().and_utc().timestamp());
    }
    NaiveDateTime::parse_from_str(s, format)
        .ok()
        .or_else(|| NaiveDate::parse_from_str(s, format).ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
        .map(|d| d.and_utc().timestamp())
}

/// Rejects formats chrono cannot read, and text without any `%` field.
pub fn check_format(format: &str) -> Result<(), &'static str> {
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err("not a valid chrono format (see chrono::format::strftime)");
    }
    if !format.contains('%') {
        return Err("has no date fields such as %Y or %d");
    }
    Ok(())
}

/// `YYYY-MM-DD` of unix seconds: the engine's one civil-date formatter.
pub use vitrine_engine::civil::day_string;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(formats: &[&str], s: &str) -> Result<i64, String> {
        DateParser::new(&formats.iter().map(|f| f.to_string()).collect::<Vec<_>>()).parse(s)
    }

    #[test]
    fn uci_us_and_shopify_formats() {
        let uci = parse(&["%Y-%m-%d %H:%M:%S"], "2010-12-01 08:26:00").unwrap();
        assert_eq!(day_string(uci), "2010-12-01");
        assert_eq!(parse(&["%m/%d/%Y %H:%M"], "12/1/2010 8:26").unwrap(), uci);
        assert_eq!(parse(&["%Y-%m-%d %H:%M:%S %z"], "2010-12-01 08:26:00 -0500").unwrap(), uci);
        assert_eq!(parse(&["%Y-%m-%d"], "2010-12-01").unwrap() + 8 * 3600 + 26 * 60, uci);
    }

    #[test]
    fn tries_each_format_in_turn() {
        let f = ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"];
        assert_eq!(parse(&f, "01/12/2010 08:26").unwrap(), parse(&f, "2010-12-01 08:26:00").unwrap());
    }

    #[test]
    fn a_bad_date_says_what_was_expected() {
        let e = parse(&["%Y-%m-%d %H:%M:%S"], "2010-13-45 08:26:00").unwrap_err();
        assert_eq!(e, "\"2010-13-45 08:26:00\" is not a date in the format \"%Y-%m-%d %H:%M:%S\"");
    }

    #[test]
    fn catalog_dates_read_rfc3339_and_the_formats() {
        let formats = ["%Y-%m-%d".to_string(), "%d/%m/%Y".to_string()];
        let mut p = DateParser::with_rfc3339(&formats);
        let day = p.parse("2024-05-01").unwrap();
        assert_eq!(day_string(day), "2024-05-01");
        assert_eq!(p.parse("01/05/2024").unwrap(), day);
        assert_eq!(p.parse("2024-05-01T09:30:00Z").unwrap(), day + 9 * 3600 + 30 * 60);
        assert_eq!(p.parse("2024-05-01T09:30:00+02:00").unwrap(), day + 9 * 3600 + 30 * 60, "wall-clock time, as order dates");
        let e = p.parse("yesterday").unwrap_err();
        assert_eq!(e, "\"yesterday\" is not a date in the format RFC 3339 (2024-05-01T09:30:00Z) or \"%Y-%m-%d\" or \"%d/%m/%Y\"");
        assert!(DateParser::new(&formats).parse("2024-05-01T09:30:00Z").is_err(), "order dates keep their configured formats");
    }

    #[test]
    fn format_check() {
        assert!(check_format("%Y-%m-%d").is_ok());
        assert!(check_format("%Y-%m-%d %Q").is_err());
        assert!(check_format("yyyy-mm-dd").is_err());
    }
}
