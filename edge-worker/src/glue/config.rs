//! The worker's settings, from `[vars]` in wrangler.toml and secrets (`.dev.vars` locally).

use std::rc::Rc;

use worker::Env;

pub struct Config {
    /// Where pages come from, e.g. `https://shop.example` (no trailing slash).
    pub origin_url: String,
    /// Debug overrides (country header, fixed clock): never in production.
    pub dev_mode: bool,
    /// `?vitrine_as=<persona>` switches the visitor (the demo store).
    pub demo_picker: bool,
    /// Signs the profile cookie; without it profiles (and the picker) are off.
    pub profile_secret: Option<Vec<u8>>,
    /// How often an isolate looks for a newly published bundle.
    pub bundle_check_ms: f64,
    /// Origins whose pages may call the JSON API with the visitor's cookies (`CORS_ORIGINS`).
    pub cors_origins: Vec<String>,
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|v| v.to_string()))
        .ok()
        .filter(|v| !v.trim().is_empty())
}

fn flag(env: &Env, name: &str) -> bool {
    matches!(var(env, name).as_deref().map(str::trim), Some("1" | "true" | "yes"))
}

thread_local! {
    static CURRENT: std::cell::OnceCell<Rc<Config>> = const { std::cell::OnceCell::new() };
}

impl Config {
    /// This isolate's settings, read once: vars and secrets only change with a new deployment,
    /// which starts new isolates.
    pub fn from_env(env: &Env) -> Rc<Config> {
        CURRENT.with(|c| c.get_or_init(|| Rc::new(Config::read(env))).clone())
    }

    fn read(env: &Env) -> Config {
        Config {
            origin_url: var(env, "ORIGIN_URL").unwrap_or_default().trim().trim_end_matches('/').to_string(),
            dev_mode: flag(env, "DEV_MODE"),
            demo_picker: flag(env, "DEMO_PICKER"),
            profile_secret: var(env, "PROFILE_SECRET").map(String::into_bytes),
            bundle_check_ms: var(env, "BUNDLE_CHECK_SECS").and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(30.0).max(0.0) * 1000.0,
            cors_origins: var(env, "CORS_ORIGINS").map(|v| crate::api::parse_cors_origins(&v)).unwrap_or_default(),
        }
    }
}

pub fn now_ms() -> f64 {
    worker::Date::now().as_millis() as f64
}

pub fn now_secs() -> i64 {
    (now_ms() / 1000.0) as i64
}
