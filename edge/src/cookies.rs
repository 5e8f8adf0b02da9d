//! The cookies the worker reads and writes, parsed defensively: a forged or oversized Cookie
//! header costs a bounded amount of work and never fails the request.

use std::fmt;

/// The cookies the edge shares with the browser SDK (the engine names them; `PROFILE` is
/// signed in [`crate::profile`]), and their one rule for visitor ids.
pub use vitrine_engine::cookies::{is_valid_visitor_id, may_store, CART, CONSENT, INTERESTS, OFFER, PROFILE, SEEN, VISITOR};

/// A parsed Cookie header; the first occurrence of a name wins, as in browsers' ordering.
#[derive(Clone, Debug, Default)]
pub struct Cookies<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Cookies<'a> {
    pub fn parse(header: Option<&'a str>) -> Self {
        Cookies { pairs: vitrine_engine::cookies::cookie_pairs(header.unwrap_or("")).collect() }
    }

    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).filter(|v| !v.is_empty())
    }
}

/// A `Set-Cookie` value. Every cookie is site-wide (`Path=/`) and `SameSite=Lax`. None is
/// HttpOnly: the SDK reads the visitor id (one visitor for browser and edge) and the profile
/// cookie's traits; the profile is signed, and neither is a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCookie {
    pub name: &'static str,
    pub value: String,
    /// Seconds; 0 deletes the cookie.
    pub max_age: i64,
    /// Only for https requests: browsers drop `Secure` cookies set over plain http.
    pub secure: bool,
}

pub const ONE_YEAR: i64 = 365 * 24 * 3600;
pub const THIRTY_DAYS: i64 = 30 * 24 * 3600;

impl SetCookie {
    pub fn new(name: &'static str, value: impl Into<String>, max_age: i64, secure: bool) -> Self {
        SetCookie { name, value: value.into(), max_age, secure }
    }

    pub fn delete(name: &'static str, secure: bool) -> Self {
        SetCookie::new(name, "", 0, secure)
    }

    /// Whether it may go out to a visitor who did (`may_store`) or did not allow cookies:
    /// clearing one always may, setting one only with their consent.
    pub fn allowed(&self, may_store: bool) -> bool {
        may_store || self.max_age == 0
    }
}

impl fmt::Display for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}={}; Path=/; Max-Age={}; SameSite=Lax", self.name, self.value, self.max_age)?;
        if self.secure {
            f.write_str("; Secure")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_first_occurrence_and_trims() {
        let c = Cookies::parse(Some(" vt_vid=abc12345 ; other=1; vt_vid=second; q=\"quoted\"; empty=; novalue"));
        assert_eq!(c.get(VISITOR), Some("abc12345"));
        assert_eq!(c.get("q"), Some("quoted"));
        assert_eq!(c.get("empty"), None);
        assert_eq!(c.get("novalue"), None);
        assert_eq!(Cookies::parse(None).get(VISITOR), None);
    }

    #[test]
    fn huge_headers_are_cut_not_refused() {
        let header = format!("vt_vid=abcdefgh; junk={}; late=1", "x".repeat(100_000));
        let c = Cookies::parse(Some(&header));
        assert_eq!(c.get(VISITOR), Some("abcdefgh"));
        assert_eq!(c.get("late"), None, "beyond the limit");
    }

    #[test]
    fn set_cookie_attributes() {
        assert_eq!(SetCookie::new(VISITOR, "v1", 60, false).to_string(), "vt_vid=v1; Path=/; Max-Age=60; SameSite=Lax");
        assert_eq!(SetCookie::delete(PROFILE, true).to_string(), "vt_profile=; Path=/; Max-Age=0; SameSite=Lax; Secure");
    }
}
