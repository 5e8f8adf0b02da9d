//! Civil dates, once for every host: days since 1970-01-01 ↔ (year, month, day) in the
//! proleptic Gregorian calendar, UTC; `YYYY-MM-DD` read and written; ISO 8601 timestamps.
//!
//! After Howard Hinnant's public-domain `days_from_civil` / `civil_from_days`: the year is
//! shifted to start in March, so the leap day falls at its end, then counted in 400-year eras
//! (146,097 days each). Exact for every `i64` day a date can name; no tables, no `core::fmt`
//! (the SDK formats Segment timestamps with it).
//!
//! Hosts: the SDK's event timestamps, the edge's `last_order` trait, the builder's reports.

use alloc::string::String;

/// Seconds in a (UTC) day.
pub const DAY_SECS: i64 = 86_400;

/// Days since 1970-01-01 of `year-month-day` (month 1-12, day 1-31; not checked: 02-30 is 03-02).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (the year may have more or fewer digits);
/// `None` for anything else, and for days the month does not have (`2011-02-30`).
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let number = |part: Option<&str>| -> Option<u32> {
        let part = part.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?;
        part.parse().ok()
    };
    let (year, month, day) = (number(parts.next())?, number(parts.next())?, number(parts.next())?);
    if parts.next().is_some() || !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let days = days_from_civil(year.into(), month, day);
    (civil_from_days(days) == (year.into(), month, day)).then_some(days)
}

/// Unix seconds at 00:00 UTC of a `YYYY-MM-DD` date ([`parse_day`]).
pub fn parse_day_unix(text: &str) -> Option<i64> {
    parse_day(text).map(|d| d * DAY_SECS)
}

/// Writes `YYYY-MM-DD` of a day count since 1970-01-01. ISO 8601's four-digit years: a year
/// outside 0000-9999 is clamped to it.
pub fn push_day(out: &mut String, days: i64) {
    let (year, month, day) = civil_from_days(days);
    push_padded(out, year.clamp(0, 9999) as u32, 4);
    out.push('-');
    push_padded(out, month, 2);
    out.push('-');
    push_padded(out, day, 2);
}

/// `YYYY-MM-DD` (UTC) of unix seconds.
pub fn day_string(unix_secs: i64) -> String {
    let mut out = String::with_capacity(10);
    push_day(&mut out, unix_secs.div_euclid(DAY_SECS));
    out
}

/// Writes unix milliseconds as ISO 8601 UTC, e.g. `2026-11-23T09:41:07.123Z` (Segment's
/// `timestamp`).
pub fn push_iso8601(out: &mut String, unix_ms: i64) {
    let ms_of_day = unix_ms.rem_euclid(DAY_SECS * 1000) as u32;
    push_day(out, unix_ms.div_euclid(DAY_SECS * 1000));
    out.push('T');
    push_padded(out, ms_of_day / 3_600_000, 2);
    out.push(':');
    push_padded(out, ms_of_day / 60_000 % 60, 2);
    out.push(':');
    push_padded(out, ms_of_day / 1_000 % 60, 2);
    out.push('.');
    push_padded(out, ms_of_day % 1_000, 3);
    out.push('Z');
}

/// `n`'s last `width` digits (at most 10), zero-padded.
fn push_padded(out: &mut String, n: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut v = n;
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    digits[..width].iter().for_each(|&d| out.push(d as char));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let cases = [
            ("1970-01-01", 0, (1970, 1, 1)),
            ("1969-12-31", -1, (1969, 12, 31)),
            ("2000-02-29", 11_016, (2000, 2, 29)),
            ("2000-03-01", 11_017, (2000, 3, 1)),
            ("2011-12-09", 15_317, (2011, 12, 9)),
            ("0000-03-01", -719_468, (0, 3, 1)),
            ("9999-12-31", 2_932_896, (9999, 12, 31)),
        ];
        for (text, days, ymd) in cases {
            assert_eq!(days_from_civil(ymd.0, ymd.1, ymd.2), days, "{text}");
            assert_eq!(civil_from_days(days), ymd, "{text}");
            assert_eq!(parse_day(text), Some(days), "{text}");
            assert_eq!(day_string(days * DAY_SECS), text);
            assert_eq!(day_string(days * DAY_SECS + DAY_SECS - 1), text, "the last second of {text}");
        }
        assert_eq!(parse_day_unix("2000-03-01"), Some(951_868_800));
        assert_eq!(parse_day_unix("2011-05-20"), Some(1_305_849_600));
    }

    #[test]
    fn refuses_what_is_not_a_day() {
        for text in [
            "2011-02-30",
            "2011-13-01",
            "2011-00-10",
            "2011-01-00",
            "2100-02-29",
            "yesterday",
            "2011-1",
            "2011-01-01-01",
            "",
            "2011--01",
            "+2011-01-01",
            "2011-01-01T00:00",
        ] {
            assert_eq!(parse_day(text), None, "{text}");
        }
        assert_eq!(parse_day("2011-1-9"), Some(days_from_civil(2011, 1, 9)), "digits, not widths");
    }

    #[test]
    fn round_trips_every_day_of_six_centuries() {
        let (from, to) = (days_from_civil(1700, 1, 1), days_from_civil(2300, 12, 31));
        let mut previous = civil_from_days(from - 1);
        for days in from..=to {
            let ymd = civil_from_days(days);
            assert_eq!(days_from_civil(ymd.0, ymd.1, ymd.2), days);
            assert!(ymd > previous, "{ymd:?} after {previous:?}");
            previous = ymd;
            if days % 97 == 0 {
                assert_eq!(parse_day(&day_string(days * DAY_SECS)), Some(days));
            }
        }
    }

    #[test]
    fn formats_iso8601_times() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_795_426_867_123, "2026-11-23T09:41:07.123Z"),
            (4_107_542_399_999, "2100-02-28T23:59:59.999Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ];
        for (ms, text) in cases {
            let mut out = String::new();
            push_iso8601(&mut out, ms);
            assert_eq!(out, text);
        }
    }
}
