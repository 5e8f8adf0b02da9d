//! Local time for journeys: quiet hours and "send at 10:00" in the visitor's own time zone,
//! right across daylight-saving changes.
//!
//! A visitor's zone is an IANA name (`Europe/London`), as Segment's `context.timezone` carries
//! it; the offset a zone has at an instant comes from the host ([`TimeZones`]): the edge and the
//! builder use the IANA database bundled by `jiff` (feature `tzdb`, [`Tzdb`]), a host without one
//! answers nothing and visitors fall back to the UTC offset their device last reported. The
//! engine stays pure: zones are data, the instant is an argument.

use crate::time::{ClockTime, DAY};

/// What the host knows of time zones.
pub trait TimeZones {
    /// Seconds east of UTC in `zone` (an IANA name) at unix second `at`; `None` for a zone the
    /// host does not know.
    fn offset_seconds(&self, zone: &str, at: i64) -> Option<i32>;
}

/// Longest zone name accepted (the longest IANA name is 32 characters).
pub const MAX_ZONE_LEN: usize = 64;

/// Whether `name` is shaped like an IANA zone name (`Europe/London`, `America/Argentina/Salta`,
/// `Etc/GMT+5`, `UTC`): ASCII letters, digits and `/_+-`, no empty part. Whether the zone
/// exists is the host's database's answer.
pub fn is_zone_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ZONE_LEN
        && name.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
}

/// One visitor's clock: their zone if the host knows it, else a fixed offset.
#[derive(Clone, Copy)]
pub struct LocalClock<'a> {
    zone: Option<(&'a dyn TimeZones, &'a str)>,
    fixed_offset: i64,
}

impl<'a> LocalClock<'a> {
    /// The visitor's zone if `zones` knows it; otherwise their reported offset (minutes east of
    /// UTC); otherwise the store's zone; otherwise the store's offset.
    pub fn new(zones: Option<&'a dyn TimeZones>, zone: Option<&'a str>, offset_minutes: Option<i32>, store_zone: &'a str, store_offset_minutes: i32) -> Self {
        let known = |z: &&'a str| zones.is_some_and(|db| db.offset_seconds(z, 0).is_some());
        let zone = match (zone.filter(known), offset_minutes) {
            (Some(z), _) => Some(z),
            (None, Some(_)) => None,
            (None, None) => Some(store_zone).filter(known),
        };
        let fixed_offset = i64::from(offset_minutes.unwrap_or(store_offset_minutes)) * 60;
        LocalClock { zone: zones.zip(zone), fixed_offset }
    }

    /// Seconds east of UTC at unix second `at`.
    pub fn offset(&self, at: i64) -> i64 {
        self.zone.and_then(|(db, z)| db.offset_seconds(z, at)).map_or(self.fixed_offset, i64::from)
    }

    /// The local wall-clock reading at `at`, as seconds since the local epoch.
    pub fn local(&self, at: i64) -> i64 {
        at + self.offset(at)
    }

    /// The instant whose local reading is `wall`. Twice round, so an offset that changes between
    /// `wall` read as UTC and the answer (a daylight-saving change) is taken into account; a
    /// reading inside a skipped hour lands within the hour after the jump.
    pub fn instant(&self, wall: i64) -> i64 {
        let first = wall - self.offset(wall);
        wall - self.offset(first)
    }

    /// The first instant at or after `at` when the local clock reads `time`.
    pub fn next(&self, at: i64, time: ClockTime) -> i64 {
        let local = self.local(at);
        let mut wall = local - local.rem_euclid(DAY) + time.minutes() * 60;
        if wall < local {
            wall += DAY;
        }
        self.instant(wall).max(at)
    }
}

/// The IANA time-zone database, bundled into the binary by `jiff` (workers have no
/// `/usr/share/zoneinfo`).
#[cfg(feature = "tzdb")]
pub struct Tzdb;

#[cfg(feature = "tzdb")]
impl TimeZones for Tzdb {
    fn offset_seconds(&self, zone: &str, at: i64) -> Option<i32> {
        if !is_zone_name(zone) {
            return None;
        }
        let tz = jiff::tz::db().get(zone).ok()?;
        let at = jiff::Timestamp::from_second(at).ok()?;
        Some(tz.to_offset(at).seconds())
    }
}

#[cfg(all(test, feature = "tzdb"))]
mod tests {
    use super::*;

    /// 2027-03-28 01:00 UTC: London's clocks go from 01:00 GMT to 02:00 BST.
    const LONDON_SPRING: i64 = 1_806_195_600;
    /// 2027-10-31 01:00 UTC: from 02:00 BST back to 01:00 GMT.
    const LONDON_AUTUMN: i64 = 1_824_944_400;
    const H: i64 = 3600;

    fn london() -> LocalClock<'static> {
        LocalClock::new(Some(&Tzdb), Some("Europe/London"), None, "", 0)
    }

    #[test]
    fn offsets_follow_the_database() {
        let c = london();
        assert_eq!(c.offset(LONDON_SPRING - 1), 0);
        assert_eq!(c.offset(LONDON_SPRING), H);
        assert_eq!(c.offset(LONDON_AUTUMN - 1), H);
        assert_eq!(c.offset(LONDON_AUTUMN), 0);
        let ny = LocalClock::new(Some(&Tzdb), Some("America/New_York"), None, "", 0);
        assert_eq!(ny.offset(LONDON_SPRING), -4 * H, "New York is on EDT from 2027-03-14");
        assert_eq!(ny.offset(LONDON_AUTUMN), -4 * H, "until 2027-11-07");
        assert_eq!(ny.offset(LONDON_AUTUMN + 8 * DAY), -5 * H);
    }

    #[test]
    fn ten_oclock_stays_ten_oclock_across_a_change() {
        let c = london();
        // 2027-03-27 12:00 UTC (noon GMT): the next 10:00 local is the 28th's, in BST: 09:00 UTC.
        let next = c.next(LONDON_SPRING - 13 * H, ClockTime(10 * 60));
        assert_eq!(next, LONDON_SPRING + 8 * H);
        assert_eq!(c.local(next).rem_euclid(DAY), 10 * H);
        // Autumn: 2027-10-30 12:00 UTC (13:00 BST) -> the 31st's 10:00 GMT, 10:00 UTC.
        let next = c.next(LONDON_AUTUMN - 13 * H, ClockTime(10 * 60));
        assert_eq!(next, LONDON_AUTUMN + 9 * H);
        assert_eq!(c.local(next).rem_euclid(DAY), 10 * H);
        // A time already reached today is tomorrow's.
        assert_eq!(c.next(LONDON_SPRING + 8 * H, ClockTime(10 * 60)), LONDON_SPRING + 8 * H);
        assert_eq!(c.next(LONDON_SPRING + 8 * H + 1, ClockTime(10 * 60)), LONDON_SPRING + 8 * H + DAY);
    }

    #[test]
    fn a_skipped_hour_lands_after_the_jump() {
        // 01:30 on the 28th does not exist in London: the clock reads 02:00 BST at 01:00 UTC.
        let c = london();
        let t = c.next(LONDON_SPRING - 2 * H, ClockTime(90));
        assert!((LONDON_SPRING - H..=LONDON_SPRING + H).contains(&t), "{t}");
    }

    #[test]
    fn precedence_zone_then_reported_offset_then_store() {
        let z = |zone, offset, store| LocalClock::new(Some(&Tzdb), zone, offset, store, 30).offset(LONDON_SPRING);
        assert_eq!(z(Some("Europe/London"), Some(-300), "Asia/Tokyo"), H, "the visitor's zone first");
        assert_eq!(z(Some("Mars/Olympus"), Some(-300), "Asia/Tokyo"), -300 * 60, "an unknown zone: the reported offset");
        assert_eq!(z(None, None, "Asia/Tokyo"), 9 * H, "nothing from the visitor: the store's zone");
        assert_eq!(z(None, None, ""), 30 * 60, "then the store's offset");
        let no_db = LocalClock::new(None, Some("Europe/London"), None, "Europe/London", 30);
        assert_eq!(no_db.offset(LONDON_SPRING), 30 * 60, "a host without a database uses offsets");
    }

    #[test]
    fn zone_names_are_checked_before_the_database() {
        for ok in ["Europe/London", "America/Argentina/Salta", "Etc/GMT+5", "UTC", "America/Port-au-Prince"] {
            assert!(is_zone_name(ok), "{ok}");
        }
        for bad in ["", "/etc/passwd", "Europe//London", "../Europe/London", "Europe/London ", "Europe/Lon\u{0}don", "A".repeat(65).as_str()] {
            assert!(!is_zone_name(bad), "{bad:?}");
            assert_eq!(Tzdb.offset_seconds(bad, 0), None);
        }
    }
}
