//! Entries for `wrangler kv bulk put`: bundles for namespace `BUNDLES`, known customers and
//! demo personas for namespace `PROFILES` (see edge-worker/src/bundles.rs and profile.rs).

use serde::Serialize;
use serde_json::Value as Json;
use vitrine_engine::Engine;

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

/// Checks a bundle the way the worker will (decode + compile every rule) and returns its
/// version. A bundle the worker would refuse is never published.
pub fn bundle_version(bytes: &[u8]) -> Result<String, String> {
    let engine = Engine::load(bytes).map_err(|e| e.to_string())?;
    Ok(engine.header().build_id_hex())
}

/// `bundle:<version>` and, when `make_current`, the `bundle:current` pointer (and
/// `bundle:previous` = `previous`, the version it replaces).
pub fn bundle_entries(bytes: &[u8], make_current: bool, previous: Option<&str>) -> Result<Vec<Entry>, String> {
    use base64::Engine as _;
    let version = bundle_version(bytes)?;
    let mut out = vec![Entry { key: format!("bundle:{version}"), value: base64::engine::general_purpose::STANDARD.encode(bytes), base64: true }];
    if make_current {
        if let Some(prev) = previous.filter(|p| *p != version) {
            out.push(Entry::text("bundle:previous", prev));
        }
        out.push(Entry::text("bundle:current", version));
    }
    Ok(out)
}

/// Demo names for personas by segment: the export has none.
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
    // segment -> (monetary, customer id)
    let mut best: Vec<(String, f64, String)> = Vec::new();
    for (n, line) in jsonl.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let where_ = || format!("profiles line {}", n + 1);
        let v: Json = serde_json::from_str(line).map_err(|e| format!("{}: not JSON: {e}", where_()))?;
        let id = v.get("customer_id").and_then(Json::as_str).filter(|s| !s.is_empty()).ok_or_else(|| format!("{}: no \"customer_id\" string", where_()))?;
        if id.len() > 64 || id.chars().any(char::is_control) {
            return Err(format!("{}: customer id {id:?} is not a usable key", where_()));
        }
        out.push(Entry::text(format!("profile:{id}"), line.trim()));
        if let Some(segment) = v.get("segment").and_then(Json::as_str) {
            let spend = v.get("monetary").and_then(Json::as_f64).unwrap_or(0.0);
            match best.iter_mut().find(|(s, _, _)| s == segment) {
                Some(b) if spend > b.1 || (spend == b.1 && id < b.2.as_str()) => (b.1, b.2) = (spend, id.to_string()),
                Some(_) => {}
                None => best.push((segment.to_string(), spend, id.to_string())),
            }
        }
    }
    for (i, (segment, _, id)) in best.iter().enumerate() {
        let persona = serde_json::json!({ "customer_id": id, "segment": segment, "first_name": demo_name(segment, i) });
        out.push(Entry::text(format!("persona:{}", persona_slug(segment)), persona.to_string()));
    }
    Ok(out)
}

/// The picker's name for a segment's persona: the engine's `slug` ("Can't lose them"
/// -> "cant-lose-them"), except RFM's "New" segment, as `new` means a first-time visitor.
pub fn persona_slug(name: &str) -> String {
    match vitrine_engine::slug(name).as_str() {
        "new" => "new-customer".into(),
        other => other.into(),
    }
}

pub fn to_bulk_json(entries: &[Entry]) -> String {
    serde_json::to_string(entries).expect("entries are plain JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn bundle_entries_point_current_and_previous() {
        let e = bundle_entries(&fixture::bundle_bytes(7), true, Some("old")).unwrap();
        let keys: Vec<&str> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, [format!("bundle:{}", fixture::version(7)).as_str(), "bundle:previous", "bundle:current"]);
        assert!(e[0].base64);
        assert_eq!(e[2].value, fixture::version(7));
        assert!(bundle_entries(b"junk", true, None).unwrap_err().contains("not a Vitrine bundle"));
    }

    #[test]
    fn profiles_and_personas() {
        let e = profile_entries(fixture::PROFILES_JSONL).unwrap();
        let get = |k: &str| e.iter().find(|e| e.key == k).map(|e| e.value.clone());
        assert!(get("profile:14646").unwrap().contains("Champions"));
        let champion: Json = serde_json::from_str(&get("persona:champions").unwrap()).unwrap();
        assert_eq!(champion["customer_id"], "14646");
        assert_eq!(champion["first_name"], "Jane");
        assert!(get("persona:at-risk").is_some());
        assert_eq!(persona_slug("New"), "new-customer");
        assert!(profile_entries("{\"x\":1}").unwrap_err().contains("line 1"));
        assert!(profile_entries("\n\nnope").unwrap_err().contains("line 3"));
    }
}
