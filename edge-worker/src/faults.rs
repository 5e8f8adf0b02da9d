//! Fault injection for the end-to-end tests (`vitrine_edge::config::Faults`): KV keys
//! `fault:*` in `BUNDLES`, read in dev mode only, at most once a second per isolate. Outside dev
//! mode this reads nothing and returns no fault.

use std::cell::RefCell;

use vitrine_edge::config::{FaultCache, Faults, FAULT_KEYS};
use vitrine_edge::kv::BUNDLES;
use worker::Env;

use crate::env::{config, now_ms};

thread_local! {
    static CACHE: RefCell<FaultCache> = RefCell::new(FaultCache::default());
}

/// The faults switched on now (none outside dev mode).
pub async fn current(env: &Env) -> Faults {
    let dev_mode = config(env).dev_mode;
    let now = now_ms();
    if !CACHE.with(|c| c.borrow().due(dev_mode, now)) {
        return CACHE.with(|c| c.borrow().get(dev_mode));
    }
    let mut values = Vec::new();
    if let Ok(kv) = env.kv(BUNDLES) {
        for key in FAULT_KEYS {
            values.push((key, kv.get(key).text().await.ok().flatten()));
        }
    }
    let faults = Faults::parse(dev_mode, |k| values.iter().find(|(key, _)| *key == k).and_then(|(_, v)| v.clone()));
    CACHE.with(|c| c.borrow_mut().store(faults, now))
}

/// The faults as last read, when no KV read is due at `now` (ms; `None`: due, only [`current`]
/// knows).
pub fn cached(dev_mode: bool, now: f64) -> Option<Faults> {
    CACHE.with(|c| {
        let c = c.borrow();
        (!c.due(dev_mode, now)).then(|| c.get(dev_mode))
    })
}
