//! Contact details as Vitrine keeps them, one definition for the builder (customers export) and
//! the edge (what visitors type): phone numbers in E.164, read with the store's default country
//! when written without one; emails trimmed and lower-cased. A number the phone library calls
//! invalid is never a number to send to.

use rlibphonenumber::{PhoneNumber, PhoneNumberFormat, Region};

/// A default country for numbers written without a country code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Country(Region);

impl Country {
    /// An ISO 3166 alpha-2 code, any case (`"GB"`, `"fr"`).
    pub fn parse(code: &str) -> Result<Country, String> {
        code.trim().to_ascii_uppercase().parse::<Region>().map(Country).map_err(|_| format!("{code:?} is not an ISO 3166 country code"))
    }
}

/// `raw` in E.164 (`+447400123456`), if the phone library reads it as a valid number.
pub fn e164(raw: &str, default: Country) -> Option<String> {
    let n = PhoneNumber::parse(raw.trim(), Some(default.0)).ok()?;
    n.is_valid().then(|| n.format_as(PhoneNumberFormat::E164).into_owned())
}

/// An email address as kept and compared: trimmed, lower-cased; `None` when it cannot be one.
pub fn email(raw: &str) -> Option<String> {
    let e = raw.trim().to_ascii_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_are_one_number() {
        let gb = Country::parse("gb").unwrap();
        assert_eq!(e164("07400 123456", gb).as_deref(), Some("+447400123456"));
        assert_eq!(e164("+44 7400 123456", Country::parse("FR").unwrap()).as_deref(), Some("+447400123456"));
        assert_eq!(e164("0044 7400 123456", gb).as_deref(), Some("+447400123456"));
        assert_eq!(e164("06 12 34 56 78", Country::parse("FR").unwrap()).as_deref(), Some("+33612345678"));
        assert_eq!(e164("07400 12345", gb), None, "too short");
        assert_eq!(e164("hello", gb), None);
        assert!(Country::parse("Narnia").unwrap_err().contains("not an ISO 3166"));
    }

    #[test]
    fn emails_are_compared_trimmed_and_lower_cased() {
        assert_eq!(email(" Jane.Smith@Example.COM ").as_deref(), Some("jane.smith@example.com"));
        for bad in ["", "jane", "@example.com", "jane@", "jane@example", "ja ne@example.com"] {
            assert_eq!(email(bad), None, "{bad:?}");
        }
    }
}
