//! The runtime's inputs that are not the request: settings (vars and secrets), the clock, ids.

use std::rc::Rc;

use vitrine_edge::config::{nonblank, Config};
use worker::wasm_bindgen::prelude::*;
use worker::Env;

/// A var or secret, if set and not blank.
pub fn var(env: &Env, name: &str) -> Option<String> {
    nonblank(env.var(name).map(|v| v.to_string()).or_else(|_| env.secret(name).map(|v| v.to_string())).ok())
}

thread_local! {
    static CURRENT: std::cell::OnceCell<Rc<Config>> = const { std::cell::OnceCell::new() };
}

/// This isolate's settings, read once: vars and secrets only change with a new deployment,
/// which starts new isolates.
pub fn config(env: &Env) -> Rc<Config> {
    CURRENT.with(|c| {
        c.get_or_init(|| {
            let config = Config::from_vars(|name| var(env, name));
            for problem in &config.problems {
                worker::console_error!("vitrine: {problem}");
            }
            Rc::new(config)
        })
        .clone()
    })
}

pub fn now_ms() -> f64 {
    worker::Date::now().as_millis() as f64
}

pub fn now_secs() -> i64 {
    (now_ms() / 1000.0) as i64
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    fn random_uuid() -> String;
}

pub fn fresh_visitor_id() -> String {
    random_uuid()
}
