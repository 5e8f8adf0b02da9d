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
//!
//! A profile load can be incremental (`scripts/refresh.sh`): a [`Manifest`] of what the last
//! load put (a hash per key, kept outside KV by the caller) turns a profiles file into the
//! puts and deletes that bring KV from that load to this one ([`profile_changes`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    ["suppressed:", &hex(&Sha256::digest(contact_key.as_bytes()))].concat()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(2 * bytes.len()), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
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

/// Where a bundle's header holds what differs between two builds of the same content: the
/// build id and the creation time (`engine/src/bundle.rs`, bytes 12..36).
const BUILD_STAMP: std::ops::Range<usize> = 12..36;

/// Whether two bundles hold the same content (format, body, its checksum) and differ at most
/// in build id and creation time: a rebuild from the same exports, which need not be published
/// again (it would only push the real rollback target out of `bundle:previous`).
pub fn same_content(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.len() >= vitrine_engine::bundle::HEADER_LEN
        && a[..BUILD_STAMP.start] == b[..BUILD_STAMP.start]
        && a[BUILD_STAMP.end..] == b[BUILD_STAMP.end..]
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

/// A profile line's limit (a line is a few hundred bytes; KV would take 25 MiB, the worker reads
/// one per stale cookie): past it the file is refused, naming the line.
pub const MAX_PROFILE_LINE_BYTES: usize = 64 * 1024;
/// The largest profiles file read (a million customers are well under 1 GiB).
pub const MAX_PROFILES_FILE_BYTES: u64 = 4 << 30;
/// The largest manifest read: ~90 bytes a key, so room for ten million customers.
pub const MAX_MANIFEST_FILE_BYTES: u64 = 1 << 30;
/// The largest erasure list read (`scripts/privacy.sh erased`, one id a line).
pub const MAX_ERASED_FILE_BYTES: u64 = 256 << 20;

/// What a profiles file becomes for KV: its entries (profiles, then personas) and counts.
#[derive(Debug, Default)]
pub struct ProfileLoad {
    pub entries: Vec<Entry>,
    pub profiles: usize,
    pub personas: usize,
    /// Lines left out because their customer was erased by a privacy request.
    pub erased: usize,
}

/// `profile:<customer id>` per line of model-builder's `--profiles` JSONL, and one
/// `persona:<segment slug>` per segment: its customer with the highest spend.
pub fn profile_entries(jsonl: &str) -> Result<Vec<Entry>, String> {
    read_profiles(jsonl, &BTreeSet::new()).map(|load| load.entries)
}

/// [`profile_entries`] without the customers in `erased` (ids from `erased:<id>`): a privacy
/// request that arrived after the build still keeps its customer out of KV, and out of the
/// personas. A customer twice in the file is an error naming both lines.
pub fn read_profiles(jsonl: &str, erased: &BTreeSet<String>) -> Result<ProfileLoad, String> {
    let mut load = ProfileLoad::default();
    let mut line_of: HashMap<String, usize> = HashMap::new();
    // segment -> (monetary, customer id, first name)
    let mut best: Vec<(String, f64, String, String)> = Vec::new();
    for (n, line) in jsonl.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let where_ = || format!("profiles line {}", n + 1);
        if line.len() > MAX_PROFILE_LINE_BYTES {
            return Err(format!("{}: {} bytes, over the {MAX_PROFILE_LINE_BYTES} a profile may hold", where_(), line.len()));
        }
        let p = ProfileLine::parse(line).map_err(|e| format!("{}: {e}", where_()))?;
        let id = p.customer_id.as_str();
        if id.is_empty() {
            return Err(format!("{}: no \"customer_id\" string", where_()));
        }
        let key = profile_key(id).ok_or_else(|| format!("{}: customer id {id:?} is not a usable key", where_()))?;
        if let Some(first) = line_of.insert(key.clone(), n + 1) {
            return Err(format!("{}: customer {id:?} again (first on line {first})", where_()));
        }
        if erased.contains(id) {
            load.erased += 1;
            continue;
        }
        load.entries.push(Entry::text(key, line.trim()));
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
    load.profiles = load.entries.len();
    for (i, (segment, _, id, name)) in best.iter().enumerate() {
        // The customers export's first name; a demo name when the store gave none.
        let first_name = if name.is_empty() { demo_name(segment, i) } else { name.as_str() };
        let persona = serde_json::json!({ "customer_id": id, "segment": segment, "first_name": first_name });
        load.entries.push(Entry::text(persona_key(&persona_slug(segment)), persona.to_string()));
    }
    load.personas = best.len();
    Ok(load)
}

/// The erasure list as `scripts/privacy.sh erased` prints it and `model-builder build --erased`
/// reads it: one customer id a line; blank lines and `#` comments skipped.
pub fn erased_ids(text: &str) -> BTreeSet<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect()
}

/// What the last profile load put into KV, to load only what changed next time: per key, a
/// hash of its value (never the value: the manifest is no second copy of the profiles).
///
/// As text, one `<hash> <key>` a line, sorted by key (`sha256sum`'s layout; a key may hold a
/// space, never a line break), after a `#` comment line:
///
/// ```text
/// # vitrine-kv profiles manifest: <hash> <key>, the hash = SHA-256 of the value, first 16 bytes, hex
/// 3f1c…9a0b persona:champions
/// 8d2e…41c7 profile:12347
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifest {
    hashes: BTreeMap<String, String>,
}

const MANIFEST_HEADER: &str = "# vitrine-kv profiles manifest: <hash> <key>, the hash = SHA-256 of the value, first 16 bytes, hex";
/// Hex digits of a value's hash: 128 bits, no collision between two versions of a profile.
const HASH_HEX: usize = 32;

impl Manifest {
    /// The manifest of these entries (as they will be in KV once put).
    pub fn of(entries: &[Entry]) -> Manifest {
        Manifest { hashes: entries.iter().map(|e| (e.key.clone(), value_hash(&e.value))).collect() }
    }

    /// Reads a manifest written by [`Manifest::to_text`]; errors name `source` and the line.
    /// Only profile and persona keys are taken: a manifest decides what is deleted.
    pub fn parse(text: &str, source: &str) -> Result<Manifest, String> {
        if text.len() as u64 > MAX_MANIFEST_FILE_BYTES {
            return Err(format!("{source}: {} bytes, over the {MAX_MANIFEST_FILE_BYTES} a manifest may hold", text.len()));
        }
        let mut hashes = BTreeMap::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
            let bad = |what: String| format!("{source}: line {}: {what} (a manifest line is `<hash> <key>`; delete the file to load everything again)", n + 1);
            let (hash, key) = line.split_once(' ').ok_or_else(|| bad("no space between hash and key".into()))?;
            if hash.len() != HASH_HEX || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(bad(format!("{hash:?} is not a hash ({HASH_HEX} lowercase hex digits)")));
            }
            if !is_profile_load_key(key) {
                return Err(bad(format!("{key:?} is not a profile:<customer id> or persona:<segment> key")));
            }
            if hashes.insert(key.to_string(), hash.to_string()).is_some() {
                return Err(bad(format!("{key:?} twice")));
            }
        }
        Ok(Manifest { hashes })
    }

    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(MANIFEST_HEADER.len() + self.hashes.len() * (HASH_HEX + 24));
        out.push_str(MANIFEST_HEADER);
        out.push('\n');
        for (key, hash) in &self.hashes {
            out.extend([hash.as_str(), " ", key.as_str(), "\n"]);
        }
        out
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

/// The keys a profile load writes, hence the only keys a manifest may name (and a load delete).
fn is_profile_load_key(key: &str) -> bool {
    match (key.strip_prefix("profile:"), key.strip_prefix(PERSONA_PREFIX)) {
        (Some(id), _) => is_customer_id(id),
        (_, Some(slug)) => !slug.chars().any(char::is_control),
        _ => false,
    }
}

/// A value's hash in a manifest: SHA-256, its first 16 bytes in hex.
pub fn value_hash(value: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(value.as_bytes())[..HASH_HEX / 2])
}

/// What a profile load does to KV: put what is new or changed, delete what the last load put
/// and this one does not (a customer gone from the build, a segment no longer there), and the
/// manifest to keep once both are done.
#[derive(Debug)]
pub struct ProfileChanges {
    pub put: Vec<Entry>,
    pub delete: Vec<String>,
    pub unchanged: usize,
    pub manifest: Manifest,
}

/// The changes from `since` (the last load's manifest) to `entries`; without one, everything
/// is put and nothing deleted (nothing is known to be there). Keys no load put (a profile the
/// edge wrote itself, an `erased:` mark) are never in a manifest, so never deleted.
pub fn profile_changes(entries: Vec<Entry>, since: Option<&Manifest>) -> ProfileChanges {
    let manifest = Manifest::of(&entries);
    let Some(since) = since else { return ProfileChanges { put: entries, delete: Vec::new(), unchanged: 0, manifest } };
    let delete: Vec<String> = since.hashes.keys().filter(|k| !manifest.hashes.contains_key(*k)).cloned().collect();
    let (put, same): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(|e| since.hashes.get(&e.key) != manifest.hashes.get(&e.key));
    ProfileChanges { put, delete, unchanged: same.len(), manifest }
}

/// `wrangler kv bulk delete`'s file: a JSON array of keys.
pub fn to_bulk_delete_json(keys: &[String]) -> String {
    serde_json::to_string(keys).expect("keys are plain JSON")
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
    fn a_rebuild_of_the_same_content_is_the_same_bundle() {
        use vitrine_engine::bundle::{self, Header, FORMAT_VERSION};
        let golden = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../engine/tests/golden/bundle-v10.bin")).unwrap();
        let body = bundle::decode(&golden).unwrap().body;
        let built = |id: u8, at: i64| bundle::encode(&Header { format_version: FORMAT_VERSION, build_id: [id; 16], created_at: at }, &body);
        let (monday, tuesday) = (built(1, 1_700_000_000), built(2, 1_700_086_400));
        assert_ne!(bundle_version(&monday).unwrap(), bundle_version(&tuesday).unwrap());
        assert!(same_content(&monday, &tuesday), "another build id and time, the same content");
        let mut changed = tuesday.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert!(!same_content(&monday, &changed), "a byte of the body");
        assert!(!same_content(&monday, &monday[..monday.len() - 1]) && !same_content(b"VITRINE", b"VITRINE"), "lengths; shorter than a header");
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

    fn line(id: &str, segment: &str, monetary: f64) -> String {
        format!("{{\"customer_id\":\"{id}\",\"segment\":\"{segment}\",\"monetary\":{monetary}}}")
    }

    fn load(lines: &[String]) -> Vec<Entry> {
        profile_entries(&lines.join("\n")).unwrap()
    }

    fn keys_of(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn an_incremental_load_puts_what_is_new_or_changed_and_deletes_what_went_away() {
        let first = load(&[line("1", "Champions", 50.0), line("2", "Champions", 20.0), line("3", "Loyal", 10.0), line("4", "At risk", 5.0)]);
        // Without a manifest: everything, nothing deleted (nothing is known to be in KV).
        let full = profile_changes(first.clone(), None);
        assert_eq!((full.put.len(), full.delete.len(), full.unchanged), (7, 0, 0));
        let since = Manifest::parse(&full.manifest.to_text(), "state/manifest").unwrap();
        assert_eq!(since, full.manifest, "the manifest reads back as written");

        // 1 unchanged; 2 spent more and is now the champions' persona (the persona moved);
        // 3 left (and with them the Loyal segment's persona); 4 unchanged; 5 is new.
        let second = load(&[line("1", "Champions", 50.0), line("2", "Champions", 90.0), line("4", "At risk", 5.0), line("5", "New", 1.0)]);
        let c = profile_changes(second.clone(), Some(&since));
        assert_eq!(keys_of(&c.put), ["profile:2", "profile:5", "persona:champions", "persona:new-customer"]);
        assert!(c.put.iter().any(|e| e.key == "persona:champions" && e.value.contains("\"customer_id\":\"2\"")), "{:?}", c.put);
        assert_eq!(c.delete, ["persona:loyal", "profile:3"]);
        assert_eq!(c.unchanged, 3, "profile:1, profile:4 and persona:at-risk");
        assert_eq!(c.manifest, Manifest::of(&second));

        // The same file again: nothing to do.
        let again = profile_changes(second, Some(&c.manifest));
        assert_eq!((again.put.len(), again.delete.len(), again.unchanged), (0, 0, 7));
    }

    #[test]
    fn the_manifest_holds_hashes_never_the_profiles() {
        let e = load(&["{\"customer_id\":\"7\",\"segment\":\"Loyal\",\"email\":\"rosa@example.com\",\"first_name\":\"Rosa\"}".into()]);
        let text = Manifest::of(&e).to_text();
        assert!(!text.contains("rosa") && !text.contains("Rosa") && !text.contains("Loyal"), "{text}");
        assert!(text.lines().nth(1).unwrap().ends_with(" persona:loyal") && text.contains(" profile:7\n"), "{text}");
        assert_eq!(value_hash("a").len(), 32);
        assert_ne!(value_hash("a"), value_hash("b"));
    }

    #[test]
    fn a_manifest_that_does_not_parse_is_an_error_naming_the_file_and_line() {
        let hash = value_hash("x");
        let err = |text: &str| Manifest::parse(text, "state/profiles.manifest").unwrap_err();
        for (text, says) in [
            ("not-a-manifest".to_string(), "line 1: no space"),
            ("not a manifest".to_string(), "line 1: \"not\" is not a hash"),
            (format!("# header\n{hash} profile:1\nzz profile:2"), "line 3: \"zz\" is not a hash"),
            (format!("{} profile:1", hash.to_uppercase()), "is not a hash"),
            // A manifest decides what is deleted: never a bundle, an erasure mark or a tombstone.
            (format!("{hash} bundle:current"), "\"bundle:current\" is not a profile"),
            (format!("{hash} erased:1"), "is not a profile"),
            (format!("{hash} profile:"), "is not a profile"),
            (format!("{hash} profile:1\n{hash} profile:1"), "line 2: \"profile:1\" twice"),
            ("{\"profile:1\": \"ab\"}".to_string(), "line 1"),
        ] {
            let e = err(&text);
            assert!(e.starts_with("state/profiles.manifest: ") && e.contains(says), "{text:?}: {e}");
        }
        assert!(err("\u{0}\u{1}\u{ff} \u{7f}").contains("line 1"), "binary junk is an error, not a panic");
        assert_eq!(Manifest::parse("", "m").unwrap(), Manifest::default(), "an empty manifest: nothing loaded yet");
        let with_space = Manifest::parse(&format!("{hash} profile:Ann Lee\n"), "m").unwrap();
        assert_eq!(with_space.hashes.keys().collect::<Vec<_>>(), ["profile:Ann Lee"], "a key may hold a space");
    }

    #[test]
    fn a_bad_profiles_file_names_its_line() {
        let e = |text: &str| read_profiles(text, &BTreeSet::new()).unwrap_err();
        assert!(e(&format!("{}\n{{\"customer_id\":", line("1", "Loyal", 1.0))).starts_with("profiles line 2: not JSON"));
        let dup = e(&[line("1", "Loyal", 1.0), line("2", "Loyal", 1.0), line("1", "Loyal", 2.0)].join("\n"));
        assert_eq!(dup, "profiles line 3: customer \"1\" again (first on line 1)");
        let long = format!("{{\"customer_id\":\"1\",\"note\":\"{}\"}}", "x".repeat(MAX_PROFILE_LINE_BYTES));
        assert!(e(&format!("\n{long}")).starts_with("profiles line 2: 65"), "over the line limit");
    }

    #[test]
    fn erased_customers_are_left_out_of_profiles_and_personas() {
        let erased = erased_ids("# scripts/privacy.sh erased\n2\n\n 9 \n");
        assert_eq!(erased.iter().map(String::as_str).collect::<Vec<_>>(), ["2", "9"]);
        let load = read_profiles(&[line("1", "Champions", 10.0), line("2", "Champions", 99.0), line("3", "Loyal", 1.0)].join("\n"), &erased).unwrap();
        assert_eq!((load.profiles, load.personas, load.erased), (2, 2, 1));
        assert_eq!(keys_of(&load.entries), ["profile:1", "profile:3", "persona:champions", "persona:loyal"]);
        assert!(load.entries.iter().all(|e| !e.value.contains("\"customer_id\":\"2\"")), "the top spender was erased: {:?}", load.entries);
    }
}
