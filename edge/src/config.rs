//! The worker's settings, from `[vars]` in wrangler.toml and secrets (`.dev.vars` locally),
//! read through one lookup the runtime passes in (a blank value counts as unset).

use crate::api;
use crate::feedback::SendgridKey;
use crate::identity::IdentityKeys;
use vitrine_contacts::Country;

pub struct Config {
    /// Where pages come from, e.g. `https://shop.example` (no trailing slash).
    pub origin_url: String,
    /// Debug overrides (country header, fixed clock, bypass, message logs): never in production.
    pub dev_mode: bool,
    /// `?vitrine_as=<persona>` switches the visitor (the demo store).
    pub demo_picker: bool,
    /// Visitors are asked before anything is remembered (`REQUIRE_CONSENT`, as the SDK's
    /// `data-require-consent`): no cookie is set until the SDK's `vt_consent` says yes.
    pub require_consent: bool,
    /// Signs the profile cookie; without it profiles (and the picker) are off.
    pub profile_secret: Option<Vec<u8>>,
    /// Signs `vt` links in messages. In dev mode a fixed one stands in when none is set.
    pub link_secret: Option<Vec<u8>>,
    /// Keys of the store backend's identity tokens (`IDENTITY_SECRET`, `IDENTITY_SECRET_PREVIOUS`).
    pub identity: IdentityKeys,
    /// Server sources (the store's backend) send events with `Authorization: Bearer <key>`.
    pub write_key: Option<String>,
    /// The privacy API (`/v1/admin/…`) answers `Authorization: Bearer <ADMIN_TOKEN>` only.
    pub admin_token: Option<String>,
    /// The country of phone numbers written without a country code (`DEFAULT_COUNTRY`, ISO
    /// 3166, default GB).
    pub country: Country,
    /// A visitor with no activity for this long is erased by its own alarm (`RETENTION_DAYS`,
    /// default 400).
    pub retention_secs: i64,
    /// Settings that were set but could not be used, for the log.
    pub problems: Vec<String>,
    /// Checks Twilio's inbound webhooks (`X-Twilio-Signature`).
    pub twilio_auth_token: Option<String>,
    /// Checks SendGrid's Event Webhook (`SENDGRID_WEBHOOK_PUBLIC_KEY`, base64 DER as the
    /// SendGrid console shows it): bounces and spam complaints suppress contacts (feedback.rs).
    pub sendgrid_webhook_key: Option<SendgridKey>,
    /// Dev mode with no key set at all: unsigned SendGrid posts are taken (a key set but
    /// unreadable turns the webhook off instead).
    pub sendgrid_unsigned_ok: bool,
    /// How often an isolate looks for a newly published bundle.
    pub bundle_check_ms: f64,
    /// Origins whose pages may call the JSON API with the visitor's cookies (`CORS_ORIGINS`).
    pub cors_origins: Vec<String>,
    /// Keys measurement units (`MEASUREMENT_KEY`, at least 16 characters; `measure::unit_key`).
    /// In dev mode a fixed one stands in when none is set; elsewhere, without it nothing is
    /// recorded (named once in `problems`).
    pub measurement_key: Option<Vec<u8>>,
}

/// A var's value if set and not blank.
pub fn nonblank(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn flag(value: Option<String>) -> bool {
    matches!(value.as_deref().map(str::trim), Some("1" | "true" | "yes"))
}

const DEV_LINK_SECRET: &[u8] = b"vitrine-dev-link-secret";
const DEV_MEASUREMENT_KEY: &[u8] = b"vitrine-dev-measurement-key";

impl Config {
    /// The key measurement units are made with; empty when none is set (nothing is recorded).
    pub fn measure_key(&self) -> &[u8] {
        self.measurement_key.as_deref().unwrap_or_default()
    }

    /// The key journeys sign message links with. Never empty, never a fixed one outside dev
    /// mode: without `LINK_SECRET` the events that could start a message are refused (the
    /// sender retries) rather than stored under links anyone could forge.
    pub fn journey_key(&self) -> Result<&[u8], &'static str> {
        self.link_secret.as_deref().ok_or("LINK_SECRET is not set: events that run journeys are refused until it is (wrangler secret put LINK_SECRET)")
    }

    /// The secret unique offer codes are derived from (`vitrine_engine::codes::code_key`): the
    /// link secret, as messages (which show codes too) have it. Without it, no code is issued.
    pub fn code_secret(&self) -> Result<&[u8], &'static str> {
        self.link_secret.as_deref().ok_or("LINK_SECRET is not set: offers with unique codes show without a code (wrangler secret put LINK_SECRET)")
    }

    /// `var` looks a name up among vars and secrets.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Config {
        let var = |name: &str| nonblank(var(name));
        let dev_mode = flag(var("DEV_MODE"));
        let mut problems = Vec::new();
        let identity = IdentityKeys::parse(var("IDENTITY_SECRET").as_deref(), var("IDENTITY_SECRET_PREVIOUS").as_deref()).unwrap_or_else(|e| {
            problems.push(e);
            IdentityKeys::default()
        });
        let sendgrid_webhook_key = var("SENDGRID_WEBHOOK_PUBLIC_KEY")
            .and_then(|k| SendgridKey::parse(&k).map_err(|e| problems.push(format!("{e}: SendGrid's event webhook is off"))).ok());
        let measurement_key = match var("MEASUREMENT_KEY") {
            Some(k) if k.len() >= 16 => Some(k.into_bytes()),
            Some(_) => {
                problems.push("MEASUREMENT_KEY is shorter than 16 characters: nothing is recorded".into());
                None
            }
            None if dev_mode => Some(DEV_MEASUREMENT_KEY.to_vec()),
            None => {
                problems.push("MEASUREMENT_KEY is not set: nothing is recorded (wrangler secret put MEASUREMENT_KEY)".into());
                None
            }
        };
        Config {
            measurement_key,
            identity,
            sendgrid_unsigned_ok: dev_mode && var("SENDGRID_WEBHOOK_PUBLIC_KEY").is_none(),
            sendgrid_webhook_key,
            write_key: var("VITRINE_WRITE_KEY").filter(|k| k.len() >= 16).or_else(|| {
                if var("VITRINE_WRITE_KEY").is_some() {
                    problems.push("VITRINE_WRITE_KEY is shorter than 16 characters: server events are off".into());
                }
                None
            }),
            admin_token: var("ADMIN_TOKEN").filter(|k| k.len() >= 16).or_else(|| {
                if var("ADMIN_TOKEN").is_some() {
                    problems.push("ADMIN_TOKEN is shorter than 16 characters: the privacy API is off".into());
                }
                None
            }),
            country: var("DEFAULT_COUNTRY").map_or(Ok(Country::parse("GB").expect("GB is a country")), |c| Country::parse(&c)).unwrap_or_else(|e| {
                problems.push(format!("DEFAULT_COUNTRY: {e}: numbers without a country code are read as GB"));
                Country::parse("GB").expect("GB is a country")
            }),
            retention_secs: var("RETENTION_DAYS").and_then(|d| d.trim().parse::<i64>().ok()).filter(|d| *d > 0).unwrap_or(400) * 86_400,
            problems,
            origin_url: var("ORIGIN_URL").unwrap_or_default().trim().trim_end_matches('/').to_string(),
            dev_mode,
            demo_picker: flag(var("DEMO_PICKER")),
            require_consent: flag(var("REQUIRE_CONSENT")),
            profile_secret: var("PROFILE_SECRET").map(String::into_bytes),
            link_secret: var("LINK_SECRET").map(String::into_bytes).or_else(|| dev_mode.then(|| DEV_LINK_SECRET.to_vec())),
            twilio_auth_token: var("TWILIO_AUTH_TOKEN"),
            bundle_check_ms: var("BUNDLE_CHECK_SECS").and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(30.0).max(0.0) * 1000.0,
            cors_origins: var("CORS_ORIGINS").map(|v| api::parse_cors_origins(&v)).unwrap_or_default(),
        }
    }
}

/// Fault injection for the end-to-end tests, switched at run time by KV keys in `BUNDLES`
/// (value `1` on, anything else off), honoured in dev mode only: outside it they are not even
/// read ([`FaultCache::due`]).
pub const FAULT_KEYS: [&str; 4] = [FAULT_KV_READ, FAULT_BUNDLE_MISSING, FAULT_STORAGE_WRITE, FAULT_QUEUE_SEND];
/// Reading the bundle from KV fails, as in a cold isolate (nothing in memory either).
pub const FAULT_KV_READ: &str = "fault:kv-read";
/// `bundle:current` is missing, as in a cold isolate.
pub const FAULT_BUNDLE_MISSING: &str = "fault:bundle-missing";
/// Every Durable Object storage write fails.
pub const FAULT_STORAGE_WRITE: &str = "fault:storage-write";
/// Every send to the measurement queue fails (records wait in the visitors' objects).
pub const FAULT_QUEUE_SEND: &str = "fault:queue-send";
/// The measurement queue's consumer stores half of its next batch, then fails it (the batch is
/// redelivered), and clears the switch: once (`1`); `always`: every batch until switched off
/// (they end in the dead-letter queue). Read by the consumer itself (dev mode only), not with
/// the switches above.
pub const FAULT_CONSUMER_THROW: &str = "fault:consumer-throw";
/// How long an isolate trusts the switches it read.
pub const FAULT_CHECK_MS: f64 = 1000.0;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    pub kv_read: bool,
    pub bundle_missing: bool,
    pub storage_write: bool,
    pub queue_send: bool,
}

impl Faults {
    /// The switches from their KV values; none outside dev mode.
    pub fn parse(dev_mode: bool, value: impl Fn(&str) -> Option<String>) -> Faults {
        if !dev_mode {
            return Faults::default();
        }
        let on = |key: &str| flag(value(key));
        Faults {
            kv_read: on(FAULT_KV_READ),
            bundle_missing: on(FAULT_BUNDLE_MISSING),
            storage_write: on(FAULT_STORAGE_WRITE),
            queue_send: on(FAULT_QUEUE_SEND),
        }
    }

    /// No bundle can load (`kv_read`, `bundle_missing`): why, for the log.
    pub fn no_bundle(&self) -> Option<&'static str> {
        match (self.kv_read, self.bundle_missing) {
            (true, _) => Some("fault:kv-read (dev mode): reading KV BUNDLES fails"),
            (_, true) => Some("fault:bundle-missing (dev mode): bundle:current is missing"),
            _ => None,
        }
    }
}

/// The switches as last read in this isolate.
#[derive(Default)]
pub struct FaultCache {
    faults: Faults,
    read_at_ms: Option<f64>,
}

impl FaultCache {
    /// Whether to read the switches from KV now: never outside dev mode, else at most every
    /// [`FAULT_CHECK_MS`].
    pub fn due(&self, dev_mode: bool, now_ms: f64) -> bool {
        dev_mode && self.read_at_ms.is_none_or(|at| now_ms - at >= FAULT_CHECK_MS || now_ms < at)
    }

    pub fn get(&self, dev_mode: bool) -> Faults {
        if dev_mode {
            self.faults
        } else {
            Faults::default()
        }
    }

    pub fn store(&mut self, faults: Faults, now_ms: f64) -> Faults {
        *self = FaultCache { faults, read_at_ms: Some(now_ms) };
        faults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_switches_are_read_and_honoured_in_dev_mode_only() {
        let all_on = |_: &str| Some("1".to_string());
        assert_eq!(Faults::parse(false, all_on), Faults::default(), "production ignores them");
        let mut cache = FaultCache::default();
        assert!(!cache.due(false, 0.0) && !cache.due(false, 1e12), "and never reads KV for them");
        cache.store(Faults::parse(true, all_on), 0.0);
        assert_eq!(cache.get(false), Faults::default());
        let dev = Faults::parse(true, |k| (k == FAULT_STORAGE_WRITE).then(|| "1".to_string()));
        assert_eq!(dev, Faults { storage_write: true, ..Faults::default() });
        assert_eq!(Faults::parse(true, |_| Some("0".into())), Faults::default(), "0 lifts a fault");
        assert!(Faults::parse(true, all_on).no_bundle().unwrap().contains("fault:kv-read"));
        let mut cache = FaultCache::default();
        assert!(cache.due(true, 0.0));
        cache.store(dev, 0.0);
        assert!(!cache.due(true, 999.0) && cache.due(true, 1000.0), "read at most once a second");
        assert_eq!(cache.get(true), dev);
    }

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn blank_is_unset_and_dev_switches_are_explicit() {
        let c = config(&[("ORIGIN_URL", "https://shop.example/ "), ("PROFILE_SECRET", "  "), ("DEV_MODE", "0")]);
        assert_eq!(c.origin_url, "https://shop.example");
        assert!(c.journey_key().unwrap_err().contains("LINK_SECRET is not set"));
        assert_eq!((c.profile_secret, c.link_secret, c.dev_mode, c.demo_picker), (None, None, false, false));
        assert_eq!(c.bundle_check_ms, 30_000.0);
        let dev = config(&[("DEV_MODE", "true"), ("BUNDLE_CHECK_SECS", "2")]);
        assert_eq!((dev.dev_mode, dev.link_secret.as_deref(), dev.bundle_check_ms), (true, Some(DEV_LINK_SECRET), 2000.0));
        let set = config(&[("DEV_MODE", "1"), ("LINK_SECRET", "s3cret")]);
        assert_eq!(set.link_secret.as_deref(), Some(&b"s3cret"[..]));
    }

    #[test]
    fn identity_and_write_keys_refuse_weak_settings_by_name() {
        let c = config(&[("IDENTITY_SECRET", "k1:0123456789abcdef0123"), ("VITRINE_WRITE_KEY", "0123456789abcdef"), ("MEASUREMENT_KEY", "0123456789abcdef")]);
        assert!(!c.identity.is_empty() && c.write_key.is_some() && c.problems.is_empty());
        let weak = config(&[("IDENTITY_SECRET", "no-kid"), ("VITRINE_WRITE_KEY", "short"), ("MEASUREMENT_KEY", "0123456789abcdef")]);
        assert!(weak.identity.is_empty() && weak.write_key.is_none());
        assert_eq!(weak.problems.len(), 2);
        assert!(weak.problems[0].contains("IDENTITY_SECRET") && weak.problems[1].contains("VITRINE_WRITE_KEY"));
    }

    #[test]
    fn the_measurement_key_is_required_outside_dev_mode() {
        let prod = config(&[]);
        assert!(prod.measurement_key.is_none() && prod.problems.iter().any(|p| p.contains("MEASUREMENT_KEY is not set")));
        assert_eq!(config(&[("DEV_MODE", "1")]).measurement_key.as_deref(), Some(DEV_MEASUREMENT_KEY));
        assert_eq!(config(&[("MEASUREMENT_KEY", "0123456789abcdef")]).measurement_key.as_deref(), Some(&b"0123456789abcdef"[..]));
        let weak = config(&[("DEV_MODE", "1"), ("MEASUREMENT_KEY", "short")]);
        assert!(weak.measurement_key.is_none() && weak.problems[0].contains("MEASUREMENT_KEY"), "a weak key is refused, even in dev mode");
    }

    #[test]
    fn sendgrids_webhook_takes_unsigned_posts_only_in_dev_mode_with_no_key_set() {
        assert!(config(&[("DEV_MODE", "1")]).sendgrid_unsigned_ok);
        assert!(!config(&[]).sendgrid_unsigned_ok, "production never");
        let bad = config(&[("DEV_MODE", "1"), ("SENDGRID_WEBHOOK_PUBLIC_KEY", "garbage")]);
        assert!(bad.sendgrid_webhook_key.is_none() && !bad.sendgrid_unsigned_ok, "a bad key turns it off, even in dev mode");
        assert!(bad.problems[0].contains("SENDGRID_WEBHOOK_PUBLIC_KEY"));
    }
}
