//! Durations (`after = "24h"`) and times of day (`start = "21:00"`) as written in the config.
//!
//! Both switch encodings on `is_human_readable`, like [`crate::Value`]: the TOML config says
//! `"1h30m"` / `"21:00"`, the binary bundle stores plain integers.

use alloc::string::String;
use core::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text::push_int;

pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;
/// Longer than any sensible delay; keeps `anchor + after` far from overflow.
const MAX_SECS: i64 = 3650 * DAY;

/// A span of time in whole seconds. Config: an integer (seconds) or a string of
/// number-unit pairs: `"30s"`, `"15m"`, `"1h30m"`, `"2d"`, `"1w"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Secs(pub i64);

impl Secs {
    pub fn parse(text: &str) -> Result<Secs, String> {
        let bad = || alloc::format!("invalid duration {text:?}: expected e.g. \"30s\", \"15m\", \"1h30m\", \"2d\", \"1w\"");
        let text = text.trim();
        if text == "0" {
            return Ok(Secs(0));
        }
        let mut total: i64 = 0;
        let mut number: Option<i64> = None;
        for c in text.chars() {
            if let Some(d) = c.to_digit(10) {
                number = Some(number.unwrap_or(0).checked_mul(10).and_then(|n| n.checked_add(d as i64)).ok_or_else(bad)?);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => MINUTE,
                'h' => HOUR,
                'd' => DAY,
                'w' => 7 * DAY,
                _ => return Err(bad()),
            };
            let n = number.take().ok_or_else(bad)?;
            total = n.checked_mul(unit).and_then(|x| total.checked_add(x)).ok_or_else(bad)?;
        }
        if number.is_some() || text.is_empty() {
            return Err(bad());
        }
        Secs::checked(total).ok_or_else(|| alloc::format!("duration {text:?} is longer than 10 years"))
    }

    fn checked(n: i64) -> Option<Secs> {
        (0..=MAX_SECS).contains(&n).then_some(Secs(n))
    }
}

impl Secs {
    /// The shortest exact form: `90` -> "1m30s", `86400` -> "1d" (without `core::fmt`: rule
    /// checks run when a bundle loads, in the browser too).
    pub fn text(self) -> String {
        if self.0 == 0 {
            return "0s".into();
        }
        let (mut out, mut rest) = (String::new(), self.0);
        for (unit, name) in [(DAY, 'd'), (HOUR, 'h'), (MINUTE, 'm'), (1, 's')] {
            if rest >= unit {
                push_int(&mut out, rest / unit);
                out.push(name);
                rest %= unit;
            }
        }
        out
    }
}

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl Serialize for Secs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Secs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration: seconds, or a string like \"30s\", \"15m\", \"1h\", \"2d\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Secs, E> {
                Secs::checked(v).ok_or_else(|| E::custom(alloc::format!("duration {v} s is negative or longer than 10 years")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Secs, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Secs, E> {
                Secs::parse(v).map_err(E::custom)
            }
        }
        if d.is_human_readable() {
            d.deserialize_any(V)
        } else {
            i64::deserialize(d).map(Secs)
        }
    }
}

/// A time of day, minutes after midnight. Config: `"HH:MM"` (24-hour clock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(pub u16);

impl ClockTime {
    pub fn parse(text: &str) -> Result<ClockTime, String> {
        let bad = || alloc::format!("invalid time of day {text:?}: expected \"HH:MM\", e.g. \"21:00\"");
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 || text.trim().len() != 5 {
            return Err(bad());
        }
        Ok(ClockTime(h * 60 + m))
    }

    pub fn minutes(self) -> i64 {
        self.0 as i64
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_u16(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            ClockTime::parse(&s).map_err(de::Error::custom)
        } else {
            let m = u16::deserialize(d)?;
            if m < 24 * 60 {
                Ok(ClockTime(m))
            } else {
                Err(de::Error::custom("time of day out of range"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn parses_and_prints_durations() {
        assert_eq!(Secs::parse("30s"), Ok(Secs(30)));
        assert_eq!(Secs::parse("1h30m"), Ok(Secs(5400)));
        assert_eq!(Secs::parse("2d"), Ok(Secs(2 * DAY)));
        assert_eq!(Secs::parse("1w"), Ok(Secs(7 * DAY)));
        assert_eq!(Secs::parse("0"), Ok(Secs(0)));
        for bad in ["", "h", "12", "1x", "-1h", "99999999999999999999d"] {
            assert!(Secs::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Secs(90).to_string(), "1m30s");
        assert_eq!(Secs(DAY + HOUR).to_string(), "1d1h");
    }

    #[test]
    fn parses_times_of_day() {
        assert_eq!(ClockTime::parse("21:00"), Ok(ClockTime(21 * 60)));
        assert_eq!(ClockTime::parse("08:30").unwrap().to_string(), "08:30");
        for bad in ["24:00", "8:00", "12:60", "noon"] {
            assert!(ClockTime::parse(bad).is_err(), "{bad}");
        }
    }
}
