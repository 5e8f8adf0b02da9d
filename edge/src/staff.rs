//! The staff-only report page: `GET /staff/report` serves the latest measurement report (the
//! self-contained HTML `model-builder report --html` writes), stored in R2 by
//! `PUT /v1/admin/report` (bearer `ADMIN_TOKEN`). The page asks for HTTP Basic auth, so a
//! browser prompts for it: any user name, the password is the admin token.

use vitrine_engine::base64::{self, Alphabet::Standard};

/// Where the latest report is kept in the measurement bucket (outside `events/` and `dead/`:
/// the report reads neither it nor the export lists it).
pub const REPORT_KEY: &str = "reports/latest.html";

/// The most an uploaded report may weigh (`limits::body_limit` of `PUT /v1/admin/report`).
pub const REPORT_BODY: usize = 5 * 1024 * 1024;

/// The challenge of a refused request: a browser prompts for a user name and password.
pub const CHALLENGE: &str = "Basic realm=\"Vitrine staff\", charset=\"UTF-8\"";

/// The page is self-contained (inline CSS and SVG, no script): it may load nothing.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Whether `Authorization: Basic base64(user:password)` carries `password` (any user name),
/// compared in constant time. No password configured: closed.
pub fn basic_matches(authorization: Option<&str>, password: Option<&str>) -> bool {
    let (Some(header), Some(password)) = (authorization, password) else { return false };
    let header = header.trim();
    let Some(scheme) = header.get(..6) else { return false };
    if !scheme.eq_ignore_ascii_case("basic ") {
        return false;
    }
    let Some(decoded) = base64::decode(header[6..].trim(), Standard) else { return false };
    let Some(colon) = decoded.iter().position(|&b| b == b':') else { return false };
    let (given, expected) = (&decoded[colon + 1..], password.as_bytes());
    !expected.is_empty() && given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_password: &str) -> String {
        format!("Basic {}", base64::encode(user_password.as_bytes(), Standard))
    }

    #[test]
    fn the_password_is_the_admin_token_whatever_the_user() {
        let token = Some("an-admin-token-0123");
        assert!(basic_matches(Some(&basic("staff:an-admin-token-0123")), token));
        assert!(basic_matches(Some(&basic(":an-admin-token-0123")), token));
        assert!(basic_matches(Some(&basic("anna:an-admin-token-0123")).map(|h| h.replace("Basic", "basic")).as_deref(), token));
        assert!(!basic_matches(Some(&basic("staff:an-admin-token-0124")), token));
        assert!(!basic_matches(Some(&basic("staff:an-admin-token-012")), token));
        assert!(!basic_matches(Some(&basic("an-admin-token-0123")), token), "no colon: no password");
        assert!(!basic_matches(Some("Bearer an-admin-token-0123"), token));
        assert!(!basic_matches(Some("Basic %%%"), token));
        assert!(!basic_matches(Some("Basic"), token));
        assert!(!basic_matches(None, token));
        assert!(!basic_matches(Some(&basic("staff:")), Some("")), "an empty token opens nothing");
        assert!(!basic_matches(Some(&basic("staff:x")), None), "not configured: closed");
    }
}
