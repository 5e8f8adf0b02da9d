//! Unique offer codes (`[[unique_codes]]`, #21) at the edge: each visitor's own single-use
//! code for an offer, never in the public bundle. How a code is derived (from `LINK_SECRET`,
//! the offer, the visitor's key and the validity window) is the engine's
//! (`vitrine_engine::codes`): the exit offer, the slice, a deep link's landing and journey
//! messages show a visitor the same code without asking one another.
//!
//! Issuing records the code in its own Durable Object (the visitors' class, named
//! [`object_key`]: `c:<code>`), holding a [`CodeRecord`]; issuing again keeps the first record.
//! The store's backend verifies and redeems with the write key (`POST /v1/codes/verify`,
//! `/v1/codes/redeem`); redeeming is one read-and-write inside that object, so of two
//! concurrent redemptions exactly one succeeds. Codes typed by people are read leniently
//! (any case, Crockford's look-alikes `O`→`0`, `I`/`L`→`1`) and bounded in length.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use vitrine_engine::civil::push_iso8601;
pub use vitrine_engine::codes::RANDOM_LEN;
use vitrine_engine::codes::{code_for, code_key, ALPHABET};
use vitrine_engine::journey::LinkClaims;
use vitrine_engine::rules::{Capture, UniqueCode};
use vitrine_engine::{BundleBody, Engine, OfferDecision, Visitor};

/// The longest code there is (prefix, dash, random part); longer input is refused unread.
pub const MAX_CODE_LEN: usize = UniqueCode::MAX_PREFIX_LEN + 1 + RANDOM_LEN;
/// The store's backend's routes (write key).
pub const VERIFY_PATH: &str = "/v1/codes/verify";
pub const REDEEM_PATH: &str = "/v1/codes/redeem";
/// Their bodies (`{"code": "…"}`) are read up to this many bytes.
pub const MAX_BODY_BYTES: usize = 256;
/// Durable Object names of codes: `c:<code>`.
pub const KEY_PREFIX: &str = "c:";
/// Where a code's object keeps its record.
pub const STORAGE_KEY: &str = "code";
/// The code object's internal API (POST; issue: a [`CodeRecord`], the others: nothing).
pub const ISSUE: &str = "/code/issue";
pub const VERIFY: &str = "/code/verify";
pub const REDEEM: &str = "/code/redeem";

const DAY_SECS: i64 = 86_400;
/// How long a code's record outlives its validity (a late dispute, a refund), then its object
/// forgets it: records name a visitor, and code objects cannot be found by an erasure.
pub const KEPT_AFTER_EXPIRY_SECS: i64 = 30 * DAY_SECS;

/// Visitor `visitor`'s (a journeys' key: `a:<id>`, `u:<id>`) code issued at `now`: the code and
/// the record its object keeps (unless it has one already). `link_secret`: `LINK_SECRET`.
pub fn issue(link_secret: &[u8], unique: &UniqueCode, visitor: &str, now: i64) -> (String, CodeRecord) {
    let record = CodeRecord {
        offer: unique.offer.clone(),
        visitor: visitor.to_string(),
        issued_at: now,
        expires_at: now + i64::from(unique.valid_days) * DAY_SECS,
        redeemed_at: None,
    };
    (code_for(&code_key(link_secret), unique, visitor, now), record)
}

/// The unique code visitor `v`'s exit offer issues at `now`, if it issues one (the offer has
/// `[[unique_codes]]` and the visitor an id to tie the code to), with the key it is issued to:
/// the visitor's journeys key (`a:<vt_vid>`), so their messages show the same code.
pub fn exit_offer_code<'e>(engine: &'e Engine, v: &Visitor, now: i64) -> Option<(&'e UniqueCode, String)> {
    // Most bundles have none: no second exit-offer decision per request for them.
    if v.visitor_id.is_empty() || engine.body().rules.unique_codes.is_empty() {
        return None;
    }
    let offer = engine.exit_offer(v, now)?;
    if captures(engine, &offer.id) {
        return None; // promised by email once the contact confirms, never shown
    }
    Some((engine.body().rules.unique_code(&offer.id)?, crate::events::visitor_key("", &v.visitor_id)))
}

/// Whether offer `offer_id` asks for a contact before it gives its code (`capture`): its codes
/// (unique: `Rules::check` refuses a static one) go only in the welcome message after double
/// opt-in, so the exit offer and the slice carry none (that message's deep link restores it).
pub fn captures(engine: &Engine, offer_id: &str) -> bool {
    engine.offer(offer_id).is_some_and(|o| o.capture != Capture::None)
}

/// The unique code a deep link's message showed, to show again on its landing: the offer the
/// link promises (checked, `deep_link::verified_link`), issued to the link's visitor at the time
/// the message was composed (its expiry less the bundle's `link_ttl`), so the same code.
pub fn deep_link_code<'e>(engine: &'e Engine, claims: &LinkClaims) -> Option<(&'e UniqueCode, String, i64)> {
    let rules = &engine.body().rules;
    let unique = rules.unique_code(&claims.offer)?;
    (!claims.visitor.is_empty() && claims.exp != 0).then(|| (unique, claims.visitor.clone(), claims.exp - rules.messaging.link_ttl.0))
}

/// `decision` (an offer of `engine`'s for `v`) showing `code`: rendered again with it, as a
/// static code would be (`{{offer.code}}`, the dialog's code line).
pub fn with_code(engine: &Engine, v: &Visitor, decision: OfferDecision, code: &str) -> OfferDecision {
    let Some(offer) = engine.offer(&decision.id) else { return decision };
    let mut offer = offer.clone();
    offer.code = code.to_string();
    engine.render_offer(&offer, engine.attributes(v), decision.explain)
}

/// A visitor's slice carrying their code: offer `offer_id` gets it as its `code` (what the
/// SDK's dialog, and a deep link's offer, show unchanged) and leaves `unique_codes`, so the
/// slice's rules are those of an offer with a static code.
/// An offer filled already keeps its code (a deep link's, put first, wins over the exit offer's).
/// A capturing offer's code comes only through its welcome message's deep link: that visitor
/// gave (and confirmed) their contact, so in their slice it captures nothing more.
pub fn slice_with_code(body: &mut BundleBody, offer_id: &str, code: &str) {
    if !body.rules.unique_codes.iter().any(|u| u.offer == offer_id) {
        return;
    }
    if let Some(o) = body.rules.offers.iter_mut().find(|o| o.id == offer_id) {
        o.code = code.to_string();
        o.capture = Capture::None;
        body.rules.unique_codes.retain(|u| u.offer != offer_id);
    }
}

/// The code object's name.
pub fn object_key(code: &str) -> String {
    [KEY_PREFIX, code].concat()
}

/// A code as a person or a backend sent it, in the form it was issued: trimmed, upper case,
/// look-alikes read as Crockford does. Refused (with why): empty, too long, or not
/// `PREFIX-` and 12 base32 characters.
pub fn parse(input: &str) -> Result<String, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("the code is empty".into());
    }
    if input.len() > MAX_CODE_LEN {
        return Err(format!("the code is {} bytes long, over the {MAX_CODE_LEN} a code has at most", input.len()));
    }
    let shape = format!("not a unique code (PREFIX-, then {RANDOM_LEN} letters and digits)");
    let Some((prefix, random)) = input.rsplit_once('-') else { return Err(shape) };
    let prefix_ok = !prefix.is_empty() && prefix.len() <= UniqueCode::MAX_PREFIX_LEN && prefix.bytes().all(|b| b.is_ascii_alphanumeric());
    if !prefix_ok || random.len() != RANDOM_LEN {
        return Err(shape);
    }
    let mut code = prefix.to_ascii_uppercase();
    code.push('-');
    for b in random.bytes() {
        let c = match b.to_ascii_uppercase() {
            b'O' => b'0',
            b'I' | b'L' => b'1',
            c if ALPHABET.contains(&c) => c,
            _ => return Err(shape),
        };
        code.push(char::from(c));
    }
    Ok(code)
}

/// What a code's object keeps. Times are unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub offer: String,
    /// The visitor's key as the edge knows them (`vt_vid`): opaque to the store.
    pub visitor: String,
    pub issued_at: i64,
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeemed_at: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeState {
    Valid,
    Redeemed,
    Expired,
}

impl CodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeState::Valid => "valid",
            CodeState::Redeemed => "redeemed",
            CodeState::Expired => "expired",
        }
    }
}

impl CodeRecord {
    /// Redeemed wins over expired: a code used in time stays "redeemed".
    pub fn state(&self, now: i64) -> CodeState {
        match self.redeemed_at {
            Some(_) => CodeState::Redeemed,
            None if now >= self.expires_at => CodeState::Expired,
            None => CodeState::Valid,
        }
    }

    /// When the code's object forgets this record (its alarm).
    pub fn forget_at(&self) -> i64 {
        self.expires_at + KEPT_AFTER_EXPIRY_SECS
    }

    /// Redeems the code if it is valid; the state it was in either way.
    pub fn redeem(&mut self, now: i64) -> CodeState {
        let state = self.state(now);
        if state == CodeState::Valid {
            self.redeemed_at = Some(now);
        }
        state
    }

    /// The answer's body: the code, its offer and visitor, times (ISO 8601), its state.
    pub fn json(&self, code: &str, now: i64) -> Json {
        let iso = |secs: i64| {
            let mut s = String::new();
            push_iso8601(&mut s, secs * 1000);
            s
        };
        json!({
            "code": code,
            "offer": self.offer,
            "visitor": self.visitor,
            "issued_at": iso(self.issued_at),
            "expires_at": iso(self.expires_at),
            "redeemed_at": self.redeemed_at.map(iso),
            "state": self.state(now).as_str(),
        })
    }
}

/// The status and body of `POST /v1/codes/verify` for `code` and what its object holds.
pub fn verify_answer(code: &str, record: Option<&CodeRecord>, now: i64) -> (u16, Json) {
    match record {
        None => unknown(code),
        Some(r) => (200, r.json(code, now)),
    }
}

/// `POST /v1/codes/redeem`: the status and body, and the record to write when it changed.
/// 200 redeemed now, 409 redeemed before (with when), 410 expired, 404 never issued.
pub fn redeem_answer(code: &str, record: Option<CodeRecord>, now: i64) -> (u16, Json, Option<CodeRecord>) {
    let Some(mut r) = record else {
        let (status, body) = unknown(code);
        return (status, body, None);
    };
    let before = r.redeem(now);
    let mut body = r.json(code, now);
    let status = match before {
        CodeState::Valid => 200,
        CodeState::Redeemed => 409,
        CodeState::Expired => 410,
    };
    body["redeemed"] = Json::Bool(before == CodeState::Valid);
    if status != 200 {
        body["error"] = Json::String(format!("code {code} is {}", before.as_str()));
    }
    (status, body, (before == CodeState::Valid).then_some(r))
}

fn unknown(code: &str) -> (u16, Json) {
    (404, json!({ "error": format!("no code {code} was issued") }))
}

/// The body of the store's verify and redeem requests.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    code: String,
}

/// The code a verify or redeem body (`{"code": "…"}`, at most [`MAX_BODY_BYTES`]) names, as
/// issued ([`parse`]); else the 400's message.
pub fn read_request(body: &[u8]) -> Result<String, String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("the body is {} bytes, over its {MAX_BODY_BYTES}-byte limit", body.len()));
    }
    let request: CodeRequest = serde_json::from_slice(body).map_err(|e| format!("the body is not {{\"code\": \"…\"}}: {e}"))?;
    parse(&request.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"link-secret-for-tests";
    const NOW: i64 = 1_790_000_000;

    fn welcome(valid_days: u32) -> UniqueCode {
        UniqueCode { offer: "welcome10".into(), prefix: "WELCOME".into(), valid_days }
    }

    fn code_for(secret: &[u8], unique: &UniqueCode, visitor: &str, now: i64) -> String {
        vitrine_engine::codes::code_for(&code_key(secret), unique, visitor, now)
    }

    #[test]
    fn a_code_is_the_visitors_own_for_the_offer_and_window() {
        let w = welcome(14);
        let code = code_for(SECRET, &w, "v-1", NOW);
        assert!(code.starts_with("WELCOME-") && code.len() == "WELCOME-".len() + RANDOM_LEN, "{code}");
        assert_eq!(parse(&code), Ok(code.clone()), "what is issued reads back as itself");
        assert_eq!(code_for(SECRET, &w, "v-1", NOW + 60), code, "the same later in the window: a deep link restores it");
        let others = [
            code_for(SECRET, &w, "v-2", NOW),
            code_for(SECRET, &UniqueCode { offer: "other".into(), ..w.clone() }, "v-1", NOW),
            code_for(b"another-secret", &w, "v-1", NOW),
            code_for(SECRET, &w, "v-1", NOW + 14 * DAY_SECS),
        ];
        for other in &others {
            assert_ne!(other, &code, "another visitor, offer, secret or window gives another code");
        }
        // Length-prefixed fields: moving bytes between offer and visitor changes the code.
        let shifted = code_for(SECRET, &UniqueCode { offer: "welcome10v".into(), ..w.clone() }, "-1", NOW);
        assert_ne!(shifted, code);
    }

    #[test]
    fn issuing_records_offer_visitor_and_validity() {
        let (code, record) = issue(SECRET, &welcome(14), "v-1", NOW);
        assert_eq!(code, code_for(SECRET, &welcome(14), "v-1", NOW));
        assert_eq!(record, CodeRecord { offer: "welcome10".into(), visitor: "v-1".into(), issued_at: NOW, expires_at: NOW + 14 * DAY_SECS, redeemed_at: None });
        assert_eq!(object_key(&code), format!("c:{code}"));
    }

    #[test]
    fn typed_codes_are_read_leniently_and_bounded() {
        assert_eq!(parse(" welcome-0123456789ab "), Ok("WELCOME-0123456789AB".into()));
        assert_eq!(parse("WELCOME-O1234567I9AL"), Ok("WELCOME-0123456719A1".into()), "Crockford's look-alikes");
        for bad in [
            "",
            "WELCOME",
            "WELCOME-0123",
            "WELCOME-0123456789ABC",
            "-0123456789AB",
            "WEL COME-0123456789AB",
            "WELCOME-0123456789AU",
            "WELCOME-01234567\u{e9}9",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}-0123456789AB", "A".repeat(17));
        assert!(parse(&long).unwrap_err().contains("over the 29"), "refused by length first");
        assert!(parse(&"A".repeat(100_000)).is_err());
    }

    #[test]
    fn a_code_is_redeemed_once_and_not_after_it_expires() {
        let (code, record) = issue(SECRET, &welcome(1), "v-1", NOW);
        let (status, body) = verify_answer(&code, Some(&record), NOW);
        assert_eq!((status, body["state"].as_str(), body["offer"].as_str(), body["visitor"].as_str()), (200, Some("valid"), Some("welcome10"), Some("v-1")));

        let (status, body, write) = redeem_answer(&code, Some(record.clone()), NOW + 10);
        assert_eq!((status, body["redeemed"].as_bool(), body["state"].as_str()), (200, Some(true), Some("redeemed")));
        let redeemed = write.expect("the redemption is written");
        assert_eq!(redeemed.redeemed_at, Some(NOW + 10));

        let (status, body, write) = redeem_answer(&code, Some(redeemed.clone()), NOW + 20);
        assert_eq!((status, body["redeemed"].as_bool(), write), (409, Some(false), None));
        assert_eq!(body["redeemed_at"], redeemed.json(&code, 0)["redeemed_at"], "says when it was redeemed");
        assert!(body["error"].as_str().unwrap().contains("redeemed"));

        let (status, _, write) = redeem_answer(&code, Some(record.clone()), NOW + DAY_SECS);
        assert_eq!((status, write), (410, None), "expired at issued_at + valid_days");
        assert_eq!(verify_answer(&code, Some(&record), NOW + DAY_SECS).1["state"], "expired");
        assert_eq!(record.forget_at(), NOW + DAY_SECS + 30 * DAY_SECS, "kept a month past its validity, then forgotten");

        let forged = parse("WELCOME-000000000000").unwrap();
        assert_eq!(verify_answer(&forged, None, NOW).0, 404);
        assert_eq!(redeem_answer(&forged, None, NOW).0, 404);
    }

    /// The public bundle holds no code; the visitor's exit offer and slice hold theirs, shown
    /// as a static code would be; a visitor without an id gets none.
    #[test]
    fn the_visitors_exit_offer_and_slice_carry_their_code_and_the_bundle_none() {
        let engine = crate::test_bundle::engine(json!({
            "offers": [{ "id": "welcome10", "kind": "percent_off", "value": 10, "headline": "10% off", "body": "Use {{offer.code}}", "cta_url": "/" }],
            "unique_codes": [{ "offer": "welcome10", "prefix": "WELCOME", "valid_days": 14 }],
            "measurement": { "holdout": 0 },
        }));
        let visitor = |id: &str| Visitor { visitor_id: id.into(), ..Visitor::default() };
        let (a, b) = (visitor("v-a"), visitor("v-b"));
        let (unique, key) = exit_offer_code(&engine, &a, NOW).expect("the exit offer issues a code");
        assert_eq!(key, "a:v-a", "issued to the visitor's journeys key");
        assert!(exit_offer_code(&engine, &visitor(""), NOW).is_none(), "no visitor id: nothing to tie a code to");
        let code_a = code_for(SECRET, unique, &key, NOW);

        let q = crate::api::parse_decide_query("", false, false).unwrap();
        let shown = crate::api::exit_offer_with_code(&engine, &a, &q, NOW, Some(&code_a)).unwrap().body;
        let json: Json = serde_json::from_str(&shown).unwrap();
        assert_eq!(json["code"], code_a.as_str());
        assert!(json["html"].as_str().unwrap().contains(&code_a), "the dialog's code line: {shown}");
        let plain = crate::api::exit_offer(&engine, &b, &q, NOW).unwrap().body;
        assert!(!plain.contains(&code_a) && !plain.contains("WELCOME-"), "{plain}");

        let bytes = crate::api::slice_with_codes(&engine, &a, NOW, &[("welcome10".into(), code_a.clone())]);
        let from_slice = Engine::load(&bytes).expect("the slice's rules are sound");
        assert_eq!(from_slice.exit_offer(&a, NOW).unwrap().code, code_a, "the SDK decides the offer with the code in it");
        assert!(from_slice.body().rules.unique_codes.is_empty());
        let contains = |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert!(!contains(&crate::api::slice(&engine, &b, NOW), &code_a));
        let public = vitrine_engine::bundle::encode(engine.header(), engine.body());
        assert!(!contains(&public, "WELCOME-"), "the public bundle has the prefix, never a code");
    }

    /// A capturing exit offer promises its code by email (after double opt-in): neither its
    /// exit offer nor the slice the SDK decides it from carries one (none is issued); a deep
    /// link from the welcome message restores the visitor's code.
    #[test]
    fn a_capturing_exit_offer_reveals_no_code_before_the_contact_confirmed() {
        let offers =
            json!([{ "id": "join", "kind": "percent_off", "value": 10, "headline": "10% off", "body": "Join us", "cta_url": "/", "capture": "email" }]);
        let engine = crate::test_bundle::engine(json!({
            "offers": offers,
            "unique_codes": [{ "offer": "join", "prefix": "JOIN", "valid_days": 14 }],
            "journeys": [{ "id": "welcome", "trigger": "welcome", "steps": [
                { "after": "0s", "channel": "email", "subject": "Welcome", "body": "{{offer.code}}", "offer": "join" },
            ] }],
            "measurement": { "holdout": 0 },
        }));
        let a = Visitor { visitor_id: "v-a".into(), ..Visitor::default() };
        assert!(exit_offer_code(&engine, &a, NOW).is_none(), "no code issued when the form shows");
        let q = crate::api::parse_decide_query("", false, false).unwrap();
        let shown = crate::api::exit_offer_with_code(&engine, &a, &q, NOW, None).unwrap().body;
        let json: Json = serde_json::from_str(&shown).unwrap();
        assert_eq!((json["id"].as_str(), json["code"].as_str()), (Some("join"), Some("")), "{shown}");
        assert!(!shown.contains("JOIN-") && !shown.contains("vitrine-offer-code"), "{shown}");

        let contains = |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
        let slice = crate::api::slice(&engine, &a, NOW);
        assert!(!contains(&slice, "JOIN-"), "the slice has the prefix, never a code");
        let from_slice = Engine::load(&slice).unwrap();
        assert_eq!(from_slice.exit_offer(&a, NOW).unwrap().code, "");

        // The welcome message's deep link: the code it carried, restored on landing.
        let code = code_for(SECRET, rules_unique(&engine, "join"), "a:v-a", NOW);
        let landed = crate::api::slice_with_codes(&engine, &a, NOW, &[("join".into(), code.clone())]);
        let landed = Engine::load(&landed).unwrap();
        assert_eq!((landed.offer("join").unwrap().code.as_str(), landed.offer("join").unwrap().capture), (code.as_str(), Capture::None));
    }

    fn rules_unique<'e>(engine: &'e Engine, offer: &str) -> &'e UniqueCode {
        engine.body().rules.unique_code(offer).unwrap()
    }

    #[test]
    fn the_store_names_a_code_in_a_small_json_body() {
        assert_eq!(read_request(br#"{"code": "welcome-0123456789ab"}"#), Ok("WELCOME-0123456789AB".into()));
        for bad in [&b"WELCOME-0123456789AB"[..], br#"{"code": 1}"#, br#"{"code": "x", "visitor": "v"}"#, br#"{"code": "WELCOME-01"}"#] {
            assert!(read_request(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let padded = format!(r#"{{"code": "WELCOME-0123456789AB"{}}}"#, " ".repeat(MAX_BODY_BYTES));
        assert!(read_request(padded.as_bytes()).unwrap_err().contains("limit"));
    }

    #[test]
    fn the_record_round_trips_as_stored() {
        let (_, record) = issue(SECRET, &welcome(14), "v-1", NOW);
        let text = serde_json::to_string(&record).unwrap();
        assert!(!text.contains("redeemed_at"));
        assert_eq!(serde_json::from_str::<CodeRecord>(&text).unwrap(), record);
    }
}
