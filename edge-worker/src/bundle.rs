//! The serving bundle of this isolate: `vitrine_edge::bundles::BundleCache` fed from KV
//! `BUNDLES`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use vitrine_edge::bundles::{self, BundleCache, Loaded, Plan};
use vitrine_edge::config::Config;
use vitrine_edge::kv::{self, bundle_key, BUNDLES, CURRENT_KEY, PREVIOUS_KEY};
use vitrine_engine::Engine;
use worker::kv::KvStore;
use worker::{console_error, console_log, Env};

use crate::env::now_ms;
use crate::faults;

thread_local! {
    static CACHE: RefCell<BundleCache<Engine>> = RefCell::new(BundleCache::default());
}

/// The bundle to decide with, if any loads. Looks for a newly published one when due. `None`:
/// no bundle is loaded (none published, KV failing in a cold isolate, every version refused);
/// callers must not take that for a bundle without journeys.
pub async fn serving(env: &Env, config: &Config) -> Option<Loaded<Engine>> {
    if config.dev_mode {
        if let Some(why) = faults::current(env).await.no_bundle() {
            // As a cold isolate would be: nothing in memory, and KV failing.
            CACHE.with(|c| *c.borrow_mut() = BundleCache::default());
            console_error!("vitrine: {why}: no bundle loaded");
            return None;
        }
    }
    let now = now_ms();
    if !CACHE.with(|c| c.borrow().due(now, config.bundle_check_ms)) {
        return CACHE.with(|c| c.borrow().current());
    }
    let kv = match env.kv(BUNDLES) {
        Ok(kv) => kv,
        Err(e) => {
            console_error!("vitrine: KV binding {BUNDLES} missing ({e}): pages pass through unpersonalized");
            CACHE.with(|c| c.borrow_mut().plan(None, now));
            return None;
        }
    };
    let pointer = kv.get(CURRENT_KEY).text().await.unwrap_or_else(|e| {
        console_error!("vitrine: reading {BUNDLES}/{CURRENT_KEY} failed: {e}");
        None
    });
    match CACHE.with(|c| c.borrow_mut().plan(pointer.as_deref(), now)) {
        Plan::Load(version) => load(&kv, &version).await,
        Plan::Refused(line) => console_error!("{line}"),
        Plan::Serve => {}
    }
    if CACHE.with(|c| c.borrow().current().is_none()) {
        // A cold isolate whose `current` was refused: the previous version is the last good one.
        if let Ok(Some(previous)) = kv.get(PREVIOUS_KEY).text().await {
            let previous = previous.trim().to_string();
            if bundles::is_valid_version(&previous) && !CACHE.with(|c| c.borrow().is_refused(&previous)) {
                load(&kv, &previous).await;
            }
        }
    }
    CACHE.with(|c| c.borrow().current())
}

/// The bytes of `bundle:<version>`, joined from its chunks when it is stored in chunks.
async fn read_bundle(kv: &KvStore, version: &str) -> Result<Vec<u8>, String> {
    let read = |key: String| async move {
        match kv.get(&key).bytes().await {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(format!("no key {key}")),
            Err(e) => Err(format!("KV read of {key} failed: {e}")),
        }
    };
    let bytes = read(bundle_key(version)).await?;
    let Some((n, total)) = kv::chunk_manifest(&bytes) else { return Ok(bytes) };
    let mut joined = kv::ChunkJoin::new(total)?;
    for i in 0..n {
        joined.push(&read(kv::chunk_key(version, i)).await?)?;
    }
    joined.finish()
}

async fn load(kv: &KvStore, version: &str) {
    // Opened in place: the engine reads the catalog and tables where they lie in `bytes`.
    let outcome = match read_bundle(kv, version).await.map(Arc::new) {
        Ok(bytes) => match Engine::load_shared(Arc::clone(&bytes)) {
            Ok(engine) if engine.header().build_id_hex() == version => Ok((engine, vitrine_edge::bundles::in_current_format(bytes))),
            Ok(engine) => Err(format!("{} holds build {}, not {version}", bundle_key(version), engine.header().build_id_hex())),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok((engine, bytes)) => {
            console_log!("vitrine: serving bundle {version} ({} bytes)", bytes.len());
            CACHE.with(|c| c.borrow_mut().install(Loaded { version: version.into(), value: Rc::new(engine), bytes }));
        }
        Err(reason) => {
            let line = CACHE.with(|c| c.borrow_mut().refuse(version, reason));
            console_error!("{line}");
        }
    }
}

/// What [`serving`] would answer at `now` (ms), when it can tell without KV: `None` when a read
/// is due (the bundle pointer, or dev mode's fault switches) or a dev fault stands in for a
/// failing KV.
pub fn serving_now(config: &Config, now: f64) -> Option<Option<Loaded<Engine>>> {
    if config.dev_mode && faults::cached(true, now)?.no_bundle().is_some() {
        return None;
    }
    CACHE.with(|c| {
        let c = c.borrow();
        (!c.due(now, config.bundle_check_ms)).then(|| c.current())
    })
}

/// Versions refused in this isolate, for `/v1/health`.
pub fn refused() -> Vec<(String, String)> {
    CACHE.with(|c| c.borrow().refused().to_vec())
}

/// A specific version's bytes (for `/v1/bundle/<version>`), from memory or KV; never one that
/// does not decode.
pub async fn bytes_of(env: &Env, version: &str) -> Option<Arc<Vec<u8>>> {
    if let Some(l) = CACHE.with(|c| c.borrow().current()).filter(|l| l.version == version) {
        return Some(l.bytes);
    }
    let bytes = read_bundle(&env.kv(BUNDLES).ok()?, version).await.ok()?;
    let header = vitrine_engine::bundle::decode_header(&bytes).ok()?;
    (header.build_id_hex() == version).then(|| vitrine_edge::bundles::in_current_format(Arc::new(bytes)))
}
