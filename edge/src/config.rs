//! The worker's settings, from `[vars]` in wrangler.toml and secrets (`.dev.vars` locally),
//! read through one lookup the runtime passes in (a blank value counts as unset).

use crate::api;

pub struct Config {
    /// Where pages come from, e.g. `https://shop.example` (no trailing slash).
    pub origin_url: String,
    /// Debug overrides (country header, fixed clock, bypass, message logs): never in production.
    pub dev_mode: bool,
    /// `?vitrine_as=<persona>` switches the visitor (the demo store).
    pub demo_picker: bool,
    /// Signs the profile cookie; without it profiles (and the picker) are off.
    pub profile_secret: Option<Vec<u8>>,
    /// Signs `vt` links in messages. In dev mode a fixed one stands in when none is set.
    pub link_secret: Option<Vec<u8>>,
    /// Checks Twilio's inbound webhooks (`X-Twilio-Signature`).
    pub twilio_auth_token: Option<String>,
    /// How often an isolate looks for a newly published bundle.
    pub bundle_check_ms: f64,
    /// Origins whose pages may call the JSON API with the visitor's cookies (`CORS_ORIGINS`).
    pub cors_origins: Vec<String>,
}

/// A var's value if set and not blank.
pub fn nonblank(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn flag(value: Option<String>) -> bool {
    matches!(value.as_deref().map(str::trim), Some("1" | "true" | "yes"))
}

const DEV_LINK_SECRET: &[u8] = b"vitrine-dev-link-secret";

impl Config {
    /// `var` looks a name up among vars and secrets.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Config {
        let var = |name: &str| nonblank(var(name));
        let dev_mode = flag(var("DEV_MODE"));
        Config {
            origin_url: var("ORIGIN_URL").unwrap_or_default().trim().trim_end_matches('/').to_string(),
            dev_mode,
            demo_picker: flag(var("DEMO_PICKER")),
            profile_secret: var("PROFILE_SECRET").map(String::into_bytes),
            link_secret: var("LINK_SECRET").map(String::into_bytes).or_else(|| dev_mode.then(|| DEV_LINK_SECRET.to_vec())),
            twilio_auth_token: var("TWILIO_AUTH_TOKEN"),
            bundle_check_ms: var("BUNDLE_CHECK_SECS").and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(30.0).max(0.0) * 1000.0,
            cors_origins: var("CORS_ORIGINS").map(|v| api::parse_cors_origins(&v)).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn blank_is_unset_and_dev_switches_are_explicit() {
        let c = config(&[("ORIGIN_URL", "https://shop.example/ "), ("PROFILE_SECRET", "  "), ("DEV_MODE", "0")]);
        assert_eq!(c.origin_url, "https://shop.example");
        assert_eq!((c.profile_secret, c.link_secret, c.dev_mode, c.demo_picker), (None, None, false, false));
        assert_eq!(c.bundle_check_ms, 30_000.0);
        let dev = config(&[("DEV_MODE", "true"), ("BUNDLE_CHECK_SECS", "2")]);
        assert_eq!((dev.dev_mode, dev.link_secret.as_deref(), dev.bundle_check_ms), (true, Some(DEV_LINK_SECRET), 2000.0));
        let set = config(&[("DEV_MODE", "1"), ("LINK_SECRET", "s3cret")]);
        assert_eq!(set.link_secret.as_deref(), Some(&b"s3cret"[..]));
    }
}
