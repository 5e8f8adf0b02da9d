//! Who a visitor is: the signed profile cookie and the demo visitor picker.
//!
//! The cookie is a [`vitrine_engine::token`] over the JSON of [`ProfileClaims`] (the engine's
//! `cookies` module spells them: `{"cid", "traits", "iat"}`); here they are signed and read. Traits
//! are what rules look at (`traits.segment`, `traits.first_name`, …); they come from the private
//! profiles in KV (`profile:<customer id>`, one line of model-builder's `--profiles` output) and
//! are re-read from KV once the cookie is older than [`REFRESH_AFTER_SECS`], so a new build's
//! segments reach returning visitors without them logging in again.

use std::rc::Rc;

use serde::{Deserialize, Serialize};
pub use vitrine_engine::cookies::ProfileClaims;
use vitrine_engine::slug;
use vitrine_engine::token::{self, TokenError};
use vitrine_engine::Value;

use crate::kv;

pub const REFRESH_AFTER_SECS: i64 = 24 * 3600;
/// Traits in the cookie stay small: a browser keeps at most 4 KiB per cookie, every request
/// carries it, and every decision reads it. The full profile stays in KV.
const MAX_TRAITS_JSON: usize = 1200;
const MAX_TRAIT_ITEMS: usize = 12;
/// Kept whatever the size: what banners and greetings need, and the predicted traits
/// placements target most (`traits.churn_risk`, `traits.p_alive`), each a few bytes.
const ESSENTIAL_TRAITS: &[&str] = &["segment", "first_name", "churn_risk", "p_alive"];

#[derive(Debug, PartialEq)]
pub enum ProfileError {
    Token(TokenError),
    /// Signed by us, but not claims we could have written (an old format, or a bug).
    Claims(String),
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            ProfileError::Token(e) => write!(f, "profile cookie refused: {e}"),
            ProfileError::Claims(e) => write!(f, "profile cookie claims unreadable: {e}"),
        }
    }
}

/// Signs `claims` as the [`PROFILE`](vitrine_engine::cookies::PROFILE) cookie's value.
pub fn issue(claims: &ProfileClaims, secret: &[u8]) -> String {
    let json = serde_json::to_vec(claims).expect("claims are plain JSON");
    token::sign(secret, &json)
}

/// Verifies a profile cookie and reads its claims.
pub fn read(secret: &[u8], cookie: &str) -> Result<ProfileClaims, ProfileError> {
    let payload = token::verify(secret, cookie).map_err(ProfileError::Token)?;
    let claims: ProfileClaims = serde_json::from_slice(&payload).map_err(|e| ProfileError::Claims(e.to_string()))?;
    if claims.cid.len() > kv::MAX_CUSTOMER_ID || !matches!(claims.traits, Value::Object(_) | Value::Null) {
        return Err(ProfileError::Claims("customer id too long or traits not an object".into()));
    }
    Ok(claims)
}

/// [`read`], remembered: the cookies this isolate (thread) verified last, with their claims. A
/// visitor's next pages carry the same cookie, and verifying it (an HMAC over ~1 KB, then the
/// claims' JSON) was a fifth of deciding a page (BENCHMARKS.md, "Edge worker"). Only cookies
/// that verified are kept, under the secret they verified with and compared whole, so a hit is
/// what `read` would answer (the claims' age is judged by the caller, as for `read`). Shared,
/// not copied: copying the traits' tree was a twentieth of deciding a page.
pub fn read_remembered(secret: &[u8], cookie: &str) -> Result<Rc<ProfileClaims>, ProfileError> {
    let hit = MEMO.with(|m| m.borrow().get(secret, cookie));
    if let Some(claims) = hit {
        return Ok(claims);
    }
    let claims = Rc::new(read(secret, cookie)?);
    MEMO.with(|m| m.borrow_mut().put(secret, cookie, &claims));
    Ok(claims)
}

/// How many verified cookies an isolate keeps (~2 KB each).
const MEMO_ENTRIES: usize = 32;

thread_local! {
    static MEMO: std::cell::RefCell<Memo> = const { std::cell::RefCell::new(Memo { secret: Vec::new(), entries: Vec::new(), next: 0 }) };
}

/// Verified cookies under one secret (another secret empties it), replaced in turn.
struct Memo {
    secret: Vec<u8>,
    entries: Vec<(String, Rc<ProfileClaims>)>,
    next: usize,
}

impl Memo {
    fn get(&self, secret: &[u8], cookie: &str) -> Option<Rc<ProfileClaims>> {
        if self.secret != secret {
            return None;
        }
        self.entries.iter().find(|(c, _)| c == cookie).map(|(_, claims)| claims.clone())
    }

    fn put(&mut self, secret: &[u8], cookie: &str, claims: &Rc<ProfileClaims>) {
        if self.secret != secret {
            *self = Memo { secret: secret.to_vec(), entries: Vec::new(), next: 0 };
        }
        let entry = (cookie.to_string(), claims.clone());
        if self.entries.len() < MEMO_ENTRIES {
            self.entries.push(entry);
        } else {
            self.entries[self.next] = entry;
            self.next = (self.next + 1) % MEMO_ENTRIES;
        }
    }
}

/// A known customer's claims older than [`REFRESH_AFTER_SECS`]: re-read their traits from KV.
pub fn is_stale(claims: &ProfileClaims, now: i64) -> bool {
    !claims.cid.is_empty() && now - claims.iat > REFRESH_AFTER_SECS
}

/// What the customers export adds that only the journeys may use: the cookie is readable by any
/// script on the store's pages and travels with every request, so contacts stay server-side.
const CONTACT_TRAITS: &[&str] = &["last_name", "email", "phone", "phone_raw", "consent", "created_at"];

/// Bounds traits for the cookie: contacts never go in; lists keep their first (most relevant)
/// entries, then the largest traits go until the rest fits; the essentials (`segment`,
/// `first_name`, `churn_risk`, `p_alive`) always stay.
pub fn cookie_traits(traits: Value) -> Value {
    let Value::Object(mut map) = traits else { return Value::Null };
    for k in CONTACT_TRAITS {
        map.remove(k);
    }
    for v in map.values_mut() {
        if let Value::Array(items) = v {
            items.truncate(MAX_TRAIT_ITEMS);
        }
    }
    let size = |v: &Value| serde_json::to_string(v).map_or(usize::MAX, |s| s.len());
    while size(&Value::Object(map.clone())) > MAX_TRAITS_JSON {
        let largest = map.iter().filter(|(k, _)| !ESSENTIAL_TRAITS.contains(&k.as_str())).max_by_key(|(_, v)| size(v)).map(|(k, _)| k.clone());
        match largest {
            Some(k) => map.remove(&k),
            None => break,
        };
    }
    Value::Object(map)
}

/// What `?vitrine_as=…` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickerChoice {
    /// `new` (or `anonymous`): forget the profile and the visitor id: a first visit.
    Reset,
    /// A persona by segment name (`champions`, `champion`, `at-risk`, …): KV keys to try, in order.
    Persona(Vec<String>),
    /// `customer:<id>`: that customer's stored profile.
    Customer(String),
}

impl PickerChoice {
    pub fn parse(value: &str) -> Option<PickerChoice> {
        let value = value.trim();
        if let Some(id) = value.strip_prefix("customer:") {
            return kv::is_customer_id(id).then(|| PickerChoice::Customer(id.into()));
        }
        let slug = slug(value);
        match slug.as_str() {
            "" => None,
            "new" | "anonymous" | "reset" => Some(PickerChoice::Reset),
            _ if slug.len() > 40 => None,
            _ => Some(PickerChoice::Persona(vec![kv::persona_key(&slug), kv::persona_key(&[slug.as_str(), "s"].concat())])),
        }
    }
}

/// A persona as the profile loader stores it under `persona:<slug>`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Persona {
    pub customer_id: String,
    pub segment: String,
    /// A demo name: the export has none, and "Welcome back, Jane" needs one.
    #[serde(default)]
    pub first_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn champion() -> ProfileClaims {
        let mut traits = Value::object();
        traits.set("segment", "Champions").set("first_name", "Jane");
        ProfileClaims { cid: "12346".into(), traits, iat: 1_700_000_000 }
    }

    #[test]
    fn a_remembered_cookie_reads_as_it_verified_and_nothing_else_hits() {
        let token = issue(&champion(), b"secret");
        assert_eq!(read_remembered(b"secret", &token), Ok(Rc::new(champion())));
        assert_eq!(read_remembered(b"secret", &token), Ok(Rc::new(champion())), "read again from memory");
        // A twin with its last signature character changed, or the same cookie under another
        // secret (a rotation), is verified, not taken from memory.
        let mut forged = token.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(matches!(read_remembered(b"secret", &forged), Err(ProfileError::Token(_))));
        assert!(matches!(read_remembered(b"rotated", &token), Err(ProfileError::Token(_))));
        // Other claims signed with the other secret are read; the first are still refused there.
        let other = ProfileClaims { cid: "777".into(), ..champion() };
        assert_eq!(read_remembered(b"rotated", &issue(&other, b"rotated")), Ok(Rc::new(other)));
        assert!(read_remembered(b"rotated", &token).is_err());
        // Many visitors: the memory stays bounded and every cookie still reads right.
        for i in 0..3 * MEMO_ENTRIES {
            let c = ProfileClaims { cid: i.to_string(), ..champion() };
            assert_eq!(read_remembered(b"secret", &issue(&c, b"secret")), Ok(Rc::new(c)));
        }
        assert!(MEMO.with(|m| m.borrow().entries.len()) <= MEMO_ENTRIES);
        assert_eq!(read_remembered(b"secret", &token), Ok(Rc::new(champion())));
    }

    #[test]
    fn issues_and_reads_back() {
        let token = issue(&champion(), b"secret");
        assert_eq!(read(b"secret", &token).unwrap(), champion());
        assert!(matches!(read(b"other", &token), Err(ProfileError::Token(TokenError::BadSignature))));
    }

    #[test]
    fn refuses_signed_nonsense() {
        let token = token::sign(b"k", br#"{"traits": [1, 2]}"#);
        assert!(matches!(read(b"k", &token), Err(ProfileError::Claims(_))));
        let token = token::sign(b"k", b"not json");
        assert!(matches!(read(b"k", &token), Err(ProfileError::Claims(_))));
    }

    #[test]
    fn staleness_only_for_known_customers() {
        let c = champion();
        assert!(!is_stale(&c, c.iat + 60));
        assert!(is_stale(&c, c.iat + REFRESH_AFTER_SECS + 1));
        assert!(!is_stale(&ProfileClaims { cid: String::new(), ..c }, i64::MAX));
    }

    #[test]
    fn contacts_from_the_customers_export_never_reach_the_cookie() {
        let line = crate::profile_line::ProfileLine::parse(r#"{"customer_id":"1","segment":"Loyal","first_name":"Jane","last_name":"Smith","email":"j@example.com","phone":"+447400123456","consent":{"sms":true},"created_at":"2009-01-01"}"#).unwrap();
        let cookie = cookie_traits(line.traits);
        let json = serde_json::to_string(&cookie).unwrap();
        assert_eq!(json, r#"{"first_name":"Jane","segment":"Loyal"}"#);
    }

    #[test]
    fn cookie_traits_stay_small_and_keep_the_essentials() {
        let items: Vec<String> = (0..60).map(|i| format!(r#"["SKU{i}",1323367380,{i}]"#)).collect();
        let json = format!(r#"{{"segment":"Champions","first_name":"Jane","frequency":29,"items":[{}],"notes":"{}"}}"#, items.join(","), "x".repeat(3000));
        let t = cookie_traits(serde_json::from_str(&json).unwrap());
        assert!(serde_json::to_string(&t).unwrap().len() <= MAX_TRAITS_JSON);
        assert_eq!(t.path("segment").and_then(Value::as_str), Some("Champions"));
        assert_eq!(t.path("first_name").and_then(Value::as_str), Some("Jane"));
        assert_eq!(t.path("items").and_then(Value::as_array).map(|a| a.len()), Some(MAX_TRAIT_ITEMS));
        assert!(t.path("notes").is_none(), "the largest trait went first");
        let token = issue(&ProfileClaims { cid: "1".repeat(64), traits: t, iat: 1 }, b"k");
        assert!(token.len() < 2500, "{} bytes", token.len());
    }

    /// A full profile line as the builder writes it with the predicted traits (#20): twelve
    /// owned items, categories, brands, RFM, the prediction.
    fn predicted_line(notes: usize) -> String {
        let items: Vec<String> = (0..40).map(|i| format!(r#"["SKU-{i:05}",1323367380,{i}]"#)).collect();
        format!(
            r#"{{"customer_id":"17850","segment":"At risk","first_name":"Jane","email":"jane@example.com","recency":120,"frequency":34,"monetary":5391.21,"r":2,"f":5,"m":5,"typical_gap_days":12.5,"last_order":"2026-08-01","top_categories":["Home decor","Kitchen","Garden","Lighting"],"top_brands":["Acme Home","Zeta Lighting","Northwind"],"items":[{}],"p_alive":0.1834,"expected_orders_30":0.2412,"expected_orders_90":0.6870,"expected_orders_365":2.3519,"expected_next_order":"2026-12-14","clv":1843.57,"churn_risk":"high","notes":"{}"}}"#,
            items.join(","),
            "x".repeat(notes)
        )
    }

    #[test]
    fn the_predicted_traits_reach_the_cookie_and_its_bound_holds() {
        let line = crate::profile_line::ProfileLine::parse(&predicted_line(0)).unwrap();
        let t = cookie_traits(line.traits);
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.len() <= MAX_TRAITS_JSON, "{} bytes: {json}", json.len());
        for (key, value) in [("churn_risk", "\"high\""), ("p_alive", "0.1834"), ("clv", "1843.57"), ("expected_next_order", "\"2026-12-14\"")] {
            assert!(json.contains(&format!("\"{key}\":{value}")), "{key} kept: {json}");
        }
        // However large the rest, the essentials stay and the bound holds.
        let line = crate::profile_line::ProfileLine::parse(&predicted_line(5000)).unwrap();
        let t = cookie_traits(line.traits);
        assert!(serde_json::to_string(&t).unwrap().len() <= MAX_TRAITS_JSON);
        for key in ESSENTIAL_TRAITS {
            assert!(t.path(key).is_some(), "{key} kept");
        }
        let token = issue(&ProfileClaims { cid: "1".repeat(kv::MAX_CUSTOMER_ID), traits: t, iat: 1_700_000_000 }, b"k");
        assert!(token.len() < 2500, "{} bytes: under a browser's 4 KiB per cookie with room", token.len());
    }

    #[test]
    fn picker_choices() {
        assert_eq!(PickerChoice::parse("new"), Some(PickerChoice::Reset));
        assert_eq!(PickerChoice::parse("At risk"), Some(PickerChoice::Persona(vec!["persona:at-risk".into(), "persona:at-risks".into()])));
        assert_eq!(PickerChoice::parse("customer:12346"), Some(PickerChoice::Customer("12346".into())));
        assert_eq!(PickerChoice::parse("customer:"), None);
        assert_eq!(PickerChoice::parse("!!!"), None);
        assert_eq!(slug("Can't lose them"), "cant-lose-them");
    }
}
