//! Which bundle serves, per isolate: a pure policy the wasm glue drives with KV reads.
//!
//! KV layout (namespace `BUNDLES`, public data only; the keys are `crate::kv`'s):
//!
//! ```text
//! bundle:<version>   the bundle bytes; <version> is the build id (32 hex) from its header
//!                    (over KV's 25 MiB value limit: a manifest, the bytes in `bundle:<version>:<n>`)
//! bundle:current     the version that serves
//! bundle:previous    the version that served before (rollback target, cold-start fallback)
//! ```
//!
//! Each isolate keeps the bundle in memory (its bytes once: the engine reads the catalog and
//! tables where they lie, `Engine::load_published`, and `/v1/bundle` serves the same bytes) and looks at `current` at most every
//! `check_every` (a var). A new version is loaded once; if it does not load (corrupt, newer
//! format, a rule that does not compile, or bytes that are not the version the key names) it is
//! refused once, logged, remembered, and the bundle already in memory keeps serving. A cold
//! isolate whose `bundle:current` is refused falls back to `bundle:previous`.

use std::rc::Rc;
use std::sync::Arc;

use vitrine_engine::bundle::{self, Header, FORMAT_VERSION};

/// The bytes browsers get for a bundle: one in the previous format version (the edge still
/// reads it: a worker upgraded before the bundle was republished) is the same build re-encoded
/// in the current one, which is all the SDK reads (its bytes are budgeted). A current one is
/// passed through untouched (only its header is read).
pub fn in_current_format(bytes: Arc<Vec<u8>>) -> Arc<Vec<u8>> {
    match bundle::decode_header(&bytes) {
        Ok(h) if h.format_version != FORMAT_VERSION => match bundle::decode(&bytes) {
            Ok(b) => Arc::new(bundle::encode(&Header { format_version: FORMAT_VERSION, ..b.header }, &b.body)),
            Err(_) => bytes,
        },
        _ => bytes,
    }
}

/// A loaded bundle and what it was loaded as.
pub struct Loaded<T> {
    pub version: String,
    pub value: Rc<T>,
    /// The raw bytes, served to browsers at `/v1/bundle` without another KV read (the same
    /// bytes the engine reads in place, not a copy).
    pub bytes: Arc<Vec<u8>>,
}

impl<T> Clone for Loaded<T> {
    fn clone(&self) -> Self {
        Loaded { version: self.version.clone(), value: self.value.clone(), bytes: self.bytes.clone() }
    }
}

/// What the glue should do after reading the pointer.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Keep serving what is in memory (or nothing, if nothing is).
    Serve,
    /// Read `bundle:<version>` and try it.
    Load(String),
    /// The pointer is junk: log this line, keep serving.
    Refused(String),
}

pub struct BundleCache<T> {
    current: Option<Loaded<T>>,
    checked_at_ms: Option<f64>,
    /// Versions refused in this isolate, with why (newest last, bounded).
    refused: Vec<(String, String)>,
}

const MAX_REFUSED: usize = 16;

impl<T> Default for BundleCache<T> {
    fn default() -> Self {
        BundleCache { current: None, checked_at_ms: None, refused: Vec::new() }
    }
}

/// Versions are build ids (hex); anything else in `current` is a publishing mistake.
pub fn is_valid_version(v: &str) -> bool {
    (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl<T> BundleCache<T> {
    pub fn current(&self) -> Option<Loaded<T>> {
        self.current.clone()
    }

    /// True when the pointer should be read again.
    pub fn due(&self, now_ms: f64, check_every_ms: f64) -> bool {
        match self.checked_at_ms {
            None => true,
            Some(at) => now_ms - at >= check_every_ms || now_ms < at,
        }
    }

    /// Given the pointer's value (`None`: no `current` key), what to do. Records the check.
    pub fn plan(&mut self, pointer: Option<&str>, now_ms: f64) -> Plan {
        self.checked_at_ms = Some(now_ms);
        let Some(version) = pointer.map(str::trim).filter(|v| !v.is_empty()) else { return Plan::Serve };
        if self.current.as_ref().is_some_and(|c| c.version == version) || self.is_refused(version) {
            return Plan::Serve;
        }
        if !is_valid_version(version) {
            return Plan::Refused(self.refuse(version, "bundle:current does not name a bundle version".into()));
        }
        Plan::Load(version.to_string())
    }

    pub fn install(&mut self, loaded: Loaded<T>) {
        self.current = Some(loaded);
    }

    /// Remembers a refused version; returns the log line.
    pub fn refuse(&mut self, version: &str, reason: String) -> String {
        let serving = match &self.current {
            Some(c) => format!("still serving {}", c.version),
            None => "no bundle to serve: pages pass through unpersonalized".to_string(),
        };
        let line = format!("vitrine: refused bundle {version}: {reason}; {serving}");
        if !self.is_refused(version) {
            if self.refused.len() == MAX_REFUSED {
                self.refused.remove(0);
            }
            self.refused.push((version.to_string(), reason));
        }
        line
    }

    pub fn is_refused(&self, version: &str) -> bool {
        self.refused.iter().any(|(v, _)| v == version)
    }

    pub fn refused(&self) -> &[(String, String)] {
        &self.refused
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn browsers_get_a_previous_format_bundle_in_the_current_one() {
        let old = include_bytes!("../../engine/tests/golden/bundle-v9.bin").to_vec();
        let served = super::in_current_format(Arc::new(old.clone()));
        let (read_old, read_new) = (vitrine_engine::bundle::decode(&old).unwrap(), vitrine_engine::bundle::decode(&served).unwrap());
        assert_eq!((read_new.header.format_version, read_new.header.build_id), (super::FORMAT_VERSION, read_old.header.build_id));
        assert_eq!(read_new.body, read_old.body);
        let current = Arc::new(include_bytes!("../../engine/tests/golden/bundle-v10.bin").to_vec());
        assert!(Arc::ptr_eq(&super::in_current_format(current.clone()), &current), "untouched, not copied");
    }

    use super::*;

    fn loaded(v: &str) -> Loaded<&'static str> {
        Loaded { version: v.into(), value: Rc::new("engine"), bytes: Arc::new(vec![]) }
    }

    #[test]
    fn checks_the_pointer_at_most_every_interval() {
        let mut c = BundleCache::<&str>::default();
        assert!(c.due(0.0, 1000.0));
        assert_eq!(c.plan(Some("aa01"), 0.0), Plan::Load("aa01".into()));
        c.install(loaded("aa01"));
        assert!(!c.due(999.0, 1000.0));
        assert!(c.due(1000.0, 1000.0));
        assert!(c.due(-5.0, 1000.0), "a clock going backwards forces a check");
        assert_eq!(c.plan(Some("aa01\n"), 1000.0), Plan::Serve);
    }

    #[test]
    fn a_refused_version_is_not_retried_and_the_last_good_keeps_serving() {
        let mut c = BundleCache::<&str>::default();
        c.plan(Some("good"), 0.0);
        c.install(loaded("good"));
        assert_eq!(c.plan(Some("bad"), 10.0), Plan::Load("bad".into()));
        let line = c.refuse("bad", "bundle corrupt: checksum".into());
        assert_eq!(line, "vitrine: refused bundle bad: bundle corrupt: checksum; still serving good");
        assert_eq!(c.plan(Some("bad"), 20.0), Plan::Serve);
        assert_eq!(c.current().unwrap().version, "good");
        // Publishing a fixed bundle (new version) is picked up.
        assert_eq!(c.plan(Some("fixed"), 30.0), Plan::Load("fixed".into()));
    }

    #[test]
    fn junk_pointers_and_missing_pointers() {
        let mut c = BundleCache::<&str>::default();
        assert_eq!(c.plan(None, 0.0), Plan::Serve);
        assert!(matches!(c.plan(Some("not a version!"), 0.0), Plan::Refused(line) if line.contains("does not name")));
        assert_eq!(c.plan(Some("not a version!"), 1.0), Plan::Serve, "refused once, then ignored");
        assert!(c.is_refused("not a version!"));
        assert!(c.current().is_none());
        for i in 0..40 {
            c.refuse(&format!("v{i}"), "x".into());
        }
        assert_eq!(c.refused().len(), MAX_REFUSED);
    }
}
