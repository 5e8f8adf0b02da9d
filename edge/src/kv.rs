//! The edge's Workers KV layout, once: binding names, keys, and the entries a publish writes.
//!
//! ```text
//! BUNDLES (public)   bundle:<version>        the bundle bytes; <version> = build id (hex);
//!                                            over KV's 25 MiB value limit, a manifest
//!                                            `vitrine-chunks <n> <bytes>` instead, and
//!                    bundle:<version>:<i>    the bundle's bytes in n chunks (i from 0)
//!                    bundle:current          the version that serves
//!                    bundle:previous         the version that served before (rollback target)
//! PROFILES (private) profile:<customer id>   one line of model-builder's --profiles JSONL
//!                    persona:<slug>          the demo picker's customer for a segment
//!                    erased:<customer id>    erased by a privacy request (when, unix seconds):
//!                                            old profile cookies stop, the next build skips them
//!                    suppressed:<sha256>     an erased contact that had said STOP: a tombstone,
//!                                            hashed (no contact detail kept), so a later import
//!                                            of the same number or email is never messaged
//! ```
//!
//! The worker reads these (`bundles.rs`, `profile.rs`); `vitrine-kv` (src/bin) and the test
//! stacks write them, so a key spelled here is the only spelling.

use serde::Serialize;
use vitrine_engine::base64::{self, Alphabet};
use vitrine_engine::Engine;

use crate::profile_line::ProfileLine;

pub const BUNDLES: &str = "BUNDLES";
pub const PROFILES: &str = "PROFILES";

pub const CURRENT_KEY: &str = "bundle:current";
pub const PREVIOUS_KEY: &str = "bundle:previous";
pub const PERSONA_PREFIX: &str = "persona:";

/// Customer ids are KV key parts and cookie claims: short, no control characters.
pub const MAX_CUSTOMER_ID: usize = 64;

pub fn bundle_key(version: &str) -> String {
    ["bundle:", version].concat()
}

pub fn is_customer_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CUSTOMER_ID && !id.chars().any(char::is_control)
}

/// KV key of a known customer's profile; `None` for an id that cannot be one.
pub fn profile_key(customer_id: &str) -> Option<String> {
    is_customer_id(customer_id).then(|| ["profile:", customer_id].concat())
}

pub const ERASED_PREFIX: &str = "erased:";

pub fn erased_key(customer_id: &str) -> Option<String> {
    is_customer_id(customer_id).then(|| [ERASED_PREFIX, customer_id].concat())
}

/// The tombstone of an erased, suppressed contact (`events::contact_key`): its SHA-256, hex.
pub fn suppressed_key(contact_key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(contact_key.as_bytes());
    let mut out = String::from("suppressed:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

pub fn persona_key(slug: &str) -> String {
    [PERSONA_PREFIX, slug].concat()
}

/// The picker's name for a segment's persona: the engine's `slug` ("Can't lose them"
/// -> "cant-lose-them"), except RFM's "New" segment, as `new` means a first-time visitor.
pub fn persona_slug(segment: &str) -> String {
    match vitrine_engine::slug(segment).as_str() {
        "new" => "new-customer".into(),
        other => other.into(),
    }
}

/// One entry of `wrangler kv bulk put`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub key: String,
    pub value: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub base64: bool,
}

impl Entry {
    pub fn text(key: impl Into<String>, value: impl Into<String>) -> Entry {
        Entry { key: key.into(), value: value.into(), base64: false }
    }
}

pub fn to_bulk_json(entries: &[Entry]) -> String {
    serde_json::to_string(entries).expect("entries are plain JSON")
}

/// Workers KV's limit on one value: a bundle over it is stored in chunks.
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;

/// What `bundle:<version>` holds when the bundle is in chunks (a bundle starts with its magic
/// bytes, never with this).
const CHUNKS_PREFIX: &str = "vitrine-chunks ";

pub fn chunk_key(version: &str, i: usize) -> String {
    format!("bundle:{version}:{i}")
}

/// A `bundle:<version>` value that is a chunk manifest: (chunks, total bytes).
pub fn chunk_manifest(value: &[u8]) -> Option<(usize, usize)> {
    let text = std::str::from_utf8(value.strip_prefix(CHUNKS_PREFIX.as_bytes())?).ok()?;
    let (n, len) = text.trim().split_once(' ')?;
    Some((n.parse().ok()?, len.parse().ok()?))
}

/// Largest chunked bundle a worker joins (an isolate has 128 MB): a manifest asking for more
/// is refused before anything is allocated.
pub const MAX_JOINED_BYTES: usize = 96 * 1024 * 1024;

/// A chunked bundle joined as its chunks arrive, in order: each is copied in and can be let go
/// at once, so memory holds the bundle and one chunk, not every chunk and then the bundle.
pub struct ChunkJoin {
    bytes: Vec<u8>,
    total: usize,
}

impl ChunkJoin {
    /// For a manifest's `total` bytes.
    pub fn new(total: usize) -> Result<ChunkJoin, String> {
        if total > MAX_JOINED_BYTES {
            return Err(format!("the manifest says {total} bytes, over the {MAX_JOINED_BYTES} a worker joins"));
        }
        Ok(ChunkJoin { bytes: Vec::with_capacity(total), total })
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), String> {
        if self.bytes.len() + chunk.len() > self.total {
            return Err(format!("the chunks hold over {} bytes, the manifest says {}", self.bytes.len() + chunk.len(), self.total));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The bundle; refused unless the chunks added up to the manifest's length.
    pub fn finish(self) -> Result<Vec<u8>, String> {
        match self.bytes.len() {
            len if len == self.total => Ok(self.bytes),
            len => Err(format!("the chunks hold {len} bytes, the manifest says {}", self.total)),
        }
    }
}

/// Checks a bundle the way the worker will (decode + compile every rule) and returns its
/// version. A bundle the worker would refuse is never published.
pub fn bundle_version(bytes: &[u8]) -> Result<String, String> {
    let engine = Engine::load(bytes).map_err(|e| e.to_string())?;
    Ok(engine.header().build_id_hex())
}

/// `bundle:<version>` and, when `make_current`, the `bundle:current` pointer (and
/// `bundle:previous` = `previous`, the version it replaces).
pub fn bundle_entries(bytes: &[u8], make_current: bool, previous: Option<&str>) -> Result<Vec<Entry>, String> {
    chunked_entries(bytes, make_current, previous, MAX_VALUE_BYTES)
}

/// [`bundle_entries`] with values of at most `max_value` bytes: a larger bundle goes in chunks,
/// written before the manifest that names them (and the pointer last). Tests chunk small
/// bundles with it.
pub fn chunked_entries(bytes: &[u8], make_current: bool, previous: Option<&str>, max_value: usize) -> Result<Vec<Entry>, String> {
    let version = bundle_version(bytes)?;
    let binary = |key: String, bytes: &[u8]| Entry { key, value: base64::encode(bytes, Alphabet::Standard), base64: true };
    let mut out = if bytes.len() <= max_value {
        vec![binary(bundle_key(&version), bytes)]
    } else {
        let mut chunks: Vec<Entry> = bytes.chunks(max_value).enumerate().map(|(i, c)| binary(chunk_key(&version, i), c)).collect();
        chunks.push(Entry::text(bundle_key(&version), format!("{CHUNKS_PREFIX}{} {}", chunks.len(), bytes.len())));
        chunks
    };
    if make_current {
        if let Some(prev) = previous.filter(|p| *p != version) {
            out.push(Entry::text(PREVIOUS_KEY, prev));
        }
        out.push(Entry::text(CURRENT_KEY, version));
    }
    Ok(out)
}

/// Demo names for personas by segment, for exports without names.
fn demo_name(segment: &str, i: usize) -> &'static str {
    match segment {
        "Champions" => "Jane",
        "Loyal" => "Tom",
        "At risk" => "Priya",
        "Can't lose them" => "Olu",
        "Potential loyalist" => "Mei",
        "New" => "Lars",
        "Hibernating" => "Ana",
        _ => ["Sam", "Noor", "Felix", "Ines", "Kai"][i % 5],
    }
}

/// `profile:<customer id>` per line of model-builder's `--profiles` JSONL, and one
/// `persona:<segment slug>` per segment: its customer with the highest spend.
pub fn profile_entries(jsonl: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    // segment -> (monetary, customer id, first name)
    let mut best: Vec<(String, f64, String, String)> = Vec::new();
    for (n, line) in jsonl.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let where_ = || format!("profiles line {}", n + 1);
        let p = ProfileLine::parse(line).map_err(|e| format!("{}: {e}", where_()))?;
        let id = p.customer_id.as_str();
        if id.is_empty() {
            return Err(format!("{}: no \"customer_id\" string", where_()));
        }
        let key = profile_key(id).ok_or_else(|| format!("{}: customer id {id:?} is not a usable key", where_()))?;
        out.push(Entry::text(key, line.trim()));
        if let Some(segment) = p.segment() {
            let spend = p.spend();
            let name = p.traits.path("first_name").and_then(vitrine_engine::Value::as_str).unwrap_or("").to_string();
            match best.iter_mut().find(|(s, _, _, _)| s == segment) {
                Some(b) if spend > b.1 || (spend == b.1 && id < b.2.as_str()) => (b.1, b.2, b.3) = (spend, id.to_string(), name),
                Some(_) => {}
                None => best.push((segment.to_string(), spend, id.to_string(), name)),
            }
        }
    }
    for (i, (segment, _, id, name)) in best.iter().enumerate() {
        // The customers export's first name; a demo name when the store gave none.
        let first_name = if name.is_empty() { demo_name(segment, i) } else { name.as_str() };
        let persona = serde_json::json!({ "customer_id": id, "segment": segment, "first_name": first_name });
        out.push(Entry::text(persona_key(&persona_slug(segment)), persona.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(profile_key("17850").as_deref(), Some("profile:17850"));
        assert_eq!(profile_key(""), None);
        assert_eq!(profile_key(&"9".repeat(65)), None);
        assert_eq!(profile_key("a\nb"), None);
        assert_eq!(persona_slug("Can't lose them"), "cant-lose-them");
        assert_eq!(persona_slug("New"), "new-customer");
        let tomb = suppressed_key("p:+447400123456");
        assert!(tomb.starts_with("suppressed:") && tomb.len() == 11 + 64 && !tomb.contains("7400123456"), "no contact detail in the key");
        assert!(bundle_entries(b"junk", true, None).unwrap_err().contains("not a Vitrine bundle"));
    }

    #[test]
    fn a_bundle_over_the_value_limit_is_stored_in_chunks_the_worker_joins() {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../engine/tests/golden/bundle-v9.bin")).unwrap();
        let version = bundle_version(&bytes).unwrap();
        // Under the limit: one value, the bundle itself.
        let whole = chunked_entries(&bytes, false, None, bytes.len()).unwrap();
        assert_eq!(whole.len(), 1);
        assert_eq!(chunk_manifest(&base64::decode(&whole[0].value, Alphabet::Standard).unwrap()), None);
        // Over it: chunks of at most the limit, then the manifest naming them, then the pointer.
        let max = bytes.len() / 3 + 1;
        let entries = chunked_entries(&bytes, true, None, max).unwrap();
        let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
        let chunk_keys = [chunk_key(&version, 0), chunk_key(&version, 1), chunk_key(&version, 2)];
        assert_eq!(keys[..3], chunk_keys.iter().map(String::as_str).collect::<Vec<_>>()[..]);
        assert_eq!(keys[3..], [bundle_key(&version).as_str(), CURRENT_KEY]);
        let (n, total) = chunk_manifest(entries[3].value.as_bytes()).expect("a manifest");
        assert_eq!((n, total), (3, bytes.len()));
        let chunks: Vec<Vec<u8>> = entries[..n].iter().map(|e| base64::decode(&e.value, Alphabet::Standard).unwrap()).collect();
        assert!(chunks.iter().all(|c| c.len() <= max));
        let join = |chunks: &[Vec<u8>], total| -> Result<Vec<u8>, String> {
            let mut j = ChunkJoin::new(total)?;
            chunks.iter().try_for_each(|c| j.push(c))?;
            j.finish()
        };
        assert_eq!(join(&chunks, total).unwrap(), bytes);
        assert!(join(&chunks[..2], total).unwrap_err().contains("manifest says"), "a missing chunk is refused");
        assert!(join(&[chunks.concat(), chunks[0].clone()], total).unwrap_err().contains("manifest says"), "so is one too many");
        assert!(join(&chunks, MAX_JOINED_BYTES + 1).unwrap_err().contains("over the"), "and a manifest past an isolate's memory");
    }

    #[test]
    fn profiles_and_personas() {
        let jsonl = "{\"customer_id\":\"1\",\"segment\":\"Champions\",\"monetary\":10}\n\n{\"customer_id\":\"2\",\"segment\":\"Champions\",\"monetary\":20}\n";
        let e = profile_entries(jsonl).unwrap();
        let get = |k: &str| e.iter().find(|e| e.key == k).map(|e| e.value.clone());
        assert!(get("profile:1").unwrap().contains("Champions"));
        let champion: serde_json::Value = serde_json::from_str(&get("persona:champions").unwrap()).unwrap();
        assert_eq!((champion["customer_id"].as_str(), champion["first_name"].as_str()), (Some("2"), Some("Jane")));
        let named = profile_entries("{\"customer_id\":\"3\",\"segment\":\"Loyal\",\"first_name\":\"Rosa\"}").unwrap();
        assert!(named.iter().any(|e| e.key == "persona:loyal" && e.value.contains("\"first_name\":\"Rosa\"")), "the export's name wins");
        assert!(profile_entries("{\"x\":1}").unwrap_err().contains("line 1"));
        assert!(profile_entries("\n\nnope").unwrap_err().contains("line 3"));
        assert!(profile_entries(&format!("{{\"customer_id\":\"{}\"}}", "9".repeat(65))).unwrap_err().contains("not a usable key"));
    }
}
