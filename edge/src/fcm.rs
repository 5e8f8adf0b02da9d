//! FCM HTTP v1's access tokens, minted at the edge from the store's Google service account
//! (OAuth 2.0 JWT bearer grant, RFC 7523), so push needs no token a person pastes in.
//!
//! - The key (`FCM_SERVICE_ACCOUNT`, a secret): the JSON Google's console downloads. Read:
//!   `client_email`, `private_key` (PKCS#8 PEM, RSA), `token_uri`, and `project_id` (the
//!   project messages go to). At most [`MAX_KEY_JSON_BYTES`]; a `token_uri` that is not https is
//!   refused unless [`Schemes::HttpAllowedForTests`].
//! - The assertion ([`ServiceAccount::assertion`]): an RS256 JWT, header
//!   `{"alg":"RS256","typ":"JWT","kid":<private_key_id>}`, claims `{"iss": client_email,
//!   "scope": "https://www.googleapis.com/auth/firebase.messaging", "aud": token_uri, "iat":
//!   now, "exp": now + 3600}`, signed RSASSA-PKCS1-v1_5 with SHA-256: deterministic, so no
//!   random source is needed.
//! - The exchange ([`ServiceAccount::token_request`]): `POST token_uri`, form
//!   `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>`; the answer
//!   (`{"access_token": "ya29…", "expires_in": 3599, "token_type": "Bearer"}`) becomes an
//!   [`AccessToken`] with its expiry ([`token_answer`]).
//! - The cache rule ([`AccessToken::usable`]): a token is used until [`REFRESH_MARGIN_SECS`]
//!   before it expires, then a new one is minted; the runtime keeps it (in the isolate or in
//!   the Durable Object's storage) and passes it in, with `now`.
//!
//! Costs, measured in Node 22's V8 on a wasm32 build (`opt-level = "s"`, LTO): one RS256
//! signature in wasm about 12 ms (a 2048-bit RSA private-key operation in num-bigint-dig),
//! WebCrypto in the same V8 0.4 ms. So the worker signs [`ServiceAccount::signing_input`] with
//! WebCrypto (`crypto.subtle`, RSASSA-PKCS1-v1_5 with SHA-256, the key from
//! [`ServiceAccount::pkcs8_der`]), mints once per isolate and keeps the token until a minute
//! before it expires (`edge-worker/src/push.rs`). Parsing checks the key's ASN.1 only, so the
//! `rsa` crate's bignum arithmetic is linked natively ([`ServiceAccount::assertion`]) and not
//! in the worker's wasm: measured with `scripts/build-worker.sh`, parsing and signing with `rsa`
//! in wasm cost 76 KB raw, 31 KB gzip'd more than this; all of push (Web Push, FCM, reports)
//! adds 111 KB raw, 43 KB gzip'd to the worker.
//!
//! The `rsa` crate's private-key operations are not constant-time (RUSTSEC-2023-0071, the
//! Marvin attack); here the only input signed is our own JWT, not an attacker's choice, and no
//! one but Google sees the timing of the exchange.

use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde::Deserialize;
use sha2::Sha256;
use vitrine_engine::base64::{self, Alphabet::UrlSafe};

use crate::messaging::{form, HttpRequest};
pub use crate::webpush::Schemes;

/// The OAuth scope FCM HTTP v1 sends with.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// The grant type of RFC 7523's JWT bearer assertion.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// A service-account key is about 2.4 KB (a 2048-bit key in PEM and a few fields).
pub const MAX_KEY_JSON_BYTES: usize = 16 * 1024;
/// Google refuses assertions valid for more than an hour.
pub const ASSERTION_LIFETIME_SECS: i64 = 3600;
/// A cached token is replaced this long before it expires (a request in flight, clock skew).
pub const REFRESH_MARGIN_SECS: i64 = 60;
/// Token answers over this are refused unread (Google's is about 1 KB).
pub const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;
/// Google's access tokens are a few hundred characters; OAuth allows more, not without bound.
pub const MAX_ACCESS_TOKEN_BYTES: usize = 4096;
/// A lifetime past this is taken as this (Google's are one hour).
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 24 * 3600;

/// A service account, read and its key parsed (once: parsing the PEM costs more than signing).
#[derive(Clone)]
pub struct ServiceAccount {
    pub client_email: String,
    pub token_uri: String,
    /// The Firebase project (`/v1/projects/{project_id}/messages:send`); may be empty when the
    /// project id is configured apart (`PUSH_PROJECT_ID`).
    pub project_id: String,
    pub private_key_id: String,
    /// The key's PKCS#8 DER: what WebCrypto imports (`importKey("pkcs8", …)`) in the worker,
    /// and what [`ServiceAccount::assertion`] signs with natively.
    pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("project_id", &self.project_id)
            .field("private_key_id", &self.private_key_id)
            .finish_non_exhaustive()
    }
}

/// Why a service-account key was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    TooLarge {
        max: usize,
        got: usize,
    },
    NotJson(String),
    Missing(&'static str),
    /// `type` is present and not `service_account` (a user's OAuth client, say).
    NotServiceAccount(String),
    BadTokenUri(String),
    BadPrivateKey(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("FCM_SERVICE_ACCOUNT: ")?;
        match self {
            KeyError::TooLarge { max, got } => write!(f, "{got} bytes, over the limit of {max}"),
            KeyError::NotJson(e) => write!(f, "not the JSON key file Google's console downloads ({e})"),
            KeyError::Missing(what) => write!(f, "{what} is missing or empty"),
            KeyError::NotServiceAccount(t) => write!(f, "type is {t:?}, not \"service_account\""),
            KeyError::BadTokenUri(why) => write!(f, "token_uri {why}"),
            KeyError::BadPrivateKey(why) => write!(f, "private_key is not an RSA key in PKCS#8 PEM ({why})"),
        }
    }
}

#[derive(Deserialize)]
struct KeyJson {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    client_email: String,
    #[serde(default)]
    private_key: String,
    #[serde(default)]
    private_key_id: String,
    #[serde(default)]
    token_uri: String,
    #[serde(default)]
    project_id: String,
}

impl ServiceAccount {
    /// Reads the key file's JSON.
    pub fn parse(json: &str, schemes: Schemes) -> Result<ServiceAccount, KeyError> {
        if json.len() > MAX_KEY_JSON_BYTES {
            return Err(KeyError::TooLarge { max: MAX_KEY_JSON_BYTES, got: json.len() });
        }
        let k: KeyJson = serde_json::from_str(json).map_err(|e| KeyError::NotJson(e.to_string()))?;
        if let Some(kind) = k.kind.filter(|t| t != "service_account") {
            return Err(KeyError::NotServiceAccount(kind.chars().take(40).collect()));
        }
        for (what, value) in [("client_email", &k.client_email), ("private_key", &k.private_key), ("token_uri", &k.token_uri)] {
            if value.trim().is_empty() {
                return Err(KeyError::Missing(what));
            }
        }
        let uri = url::Url::parse(k.token_uri.trim()).map_err(|e| KeyError::BadTokenUri(format!("is not an absolute URL ({e})")))?;
        match (uri.scheme(), schemes) {
            ("https", _) | ("http", Schemes::HttpAllowedForTests) => {}
            (other, _) => return Err(KeyError::BadTokenUri(format!("must be https, not {other}"))),
        }
        let pkcs8_der = rsa_pkcs8_der(k.private_key.trim()).map_err(KeyError::BadPrivateKey)?;
        Ok(ServiceAccount {
            client_email: k.client_email.trim().to_string(),
            token_uri: k.token_uri.trim().to_string(),
            project_id: k.project_id.trim().to_string(),
            private_key_id: k.private_key_id.trim().to_string(),
            pkcs8_der,
        })
    }

    /// From the worker's secret `FCM_SERVICE_ACCOUNT` (the key file's JSON); unset: `Ok(None)`.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>, schemes: Schemes) -> Result<Option<ServiceAccount>, KeyError> {
        match get("FCM_SERVICE_ACCOUNT").filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(json) => ServiceAccount::parse(&json, schemes).map(Some),
        }
    }

    /// What RS256 signs: `base64url(header).base64url(claims)` for an assertion issued at `now`
    /// (unix seconds). Public for a runtime that would rather sign it with WebCrypto
    /// (`RSASSA-PKCS1-v1_5`, SHA-256) than in wasm: see the measurements in this file's opening.
    pub fn signing_input(&self, now: i64) -> String {
        let mut header = serde_json::json!({ "alg": "RS256", "typ": "JWT" });
        if !self.private_key_id.is_empty() {
            header["kid"] = self.private_key_id.clone().into();
        }
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now.saturating_add(ASSERTION_LIFETIME_SECS),
        });
        format!("{}.{}", base64::encode(header.to_string().as_bytes(), UrlSafe), base64::encode(claims.to_string().as_bytes(), UrlSafe))
    }

    /// The signed JWT bearer assertion, issued at `now` (unix seconds), signed with the `rsa`
    /// crate (the worker signs with WebCrypto instead: [`Self::pkcs8_der`], [`signed`]; the
    /// crate's bignum arithmetic then stays out of its wasm). `Err` only for a key whose DER
    /// parsed but whose numbers do not make an RSA key.
    pub fn assertion(&self, now: i64) -> Result<String, KeyError> {
        let key = RsaPrivateKey::from_pkcs8_der(&self.pkcs8_der).map_err(|e| KeyError::BadPrivateKey(e.to_string()))?;
        let signing_input = self.signing_input(now);
        let signature = SigningKey::<Sha256>::new(key).sign(signing_input.as_bytes());
        Ok(signed(&signing_input, &signature.to_bytes()))
    }

    /// The private key as PKCS#8 DER: what WebCrypto imports to sign [`Self::signing_input`].
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    /// The token exchange: `POST token_uri` with the assertion, as a form.
    pub fn token_request(&self, now: i64) -> Result<HttpRequest, KeyError> {
        Ok(self.exchange(&self.assertion(now)?))
    }

    /// The token exchange for an assertion signed elsewhere (WebCrypto: [`signed`]).
    pub fn exchange(&self, assertion: &str) -> HttpRequest {
        HttpRequest {
            url: self.token_uri.clone(),
            headers: vec![("Content-Type", "application/x-www-form-urlencoded".into()), ("Accept", "application/json".into())],
            body: form(&[("grant_type", GRANT_TYPE), ("assertion", assertion)]),
        }
    }
}

/// The DER of a PKCS#8 PEM holding an RSA key, its structure checked (the ASN.1 of PKCS#8 and
/// of PKCS#1's private key, the RSA algorithm id) without the bignum arithmetic.
fn rsa_pkcs8_der(pem: &str) -> Result<Vec<u8>, String> {
    let body = pem.strip_prefix("-----BEGIN PRIVATE KEY-----").and_then(|b| b.trim_end().strip_suffix("-----END PRIVATE KEY-----"));
    let body = body.ok_or("not a \"-----BEGIN PRIVATE KEY-----\" PEM block")?;
    let text: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::decode(&text, vitrine_engine::base64::Alphabet::Standard).ok_or("the PEM body is not base64")?;
    let info = rsa::pkcs8::PrivateKeyInfo::try_from(der.as_slice()).map_err(|e| e.to_string())?;
    if info.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
        return Err(format!("algorithm {} is not RSA", info.algorithm.oid));
    }
    rsa::pkcs1::RsaPrivateKey::try_from(info.private_key).map_err(|e| e.to_string())?;
    Ok(der)
}

/// The JWT: the signing input and its RS256 signature (the raw 256 bytes of a 2048-bit key).
pub fn signed(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", base64::encode(signature, UrlSafe))
}

impl ServiceAccount {}

/// An access token and when it stops working.
#[derive(Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("AccessToken").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

impl AccessToken {
    /// Whether to send with this token at `now`: until [`REFRESH_MARGIN_SECS`] before expiry.
    pub fn usable(&self, now: i64) -> bool {
        now < self.expires_at.saturating_sub(REFRESH_MARGIN_SECS)
    }

    /// `Authorization: Bearer …` for FCM.
    pub fn authorization(&self) -> String {
        format!("Bearer {}", self.access_token)
    }
}

/// The cached token if it is still usable at `now`; `None`: mint one ([`ServiceAccount::token_request`]).
pub fn cached(token: Option<&AccessToken>, now: i64) -> Option<&AccessToken> {
    token.filter(|t| t.usable(now))
}

/// Why no token came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// 429, 5xx, 408: ask again later.
    Retry { status: u16, error: String },
    /// Any other non-2xx (`invalid_grant`: a revoked key, a wrong clock; `unauthorized_client`):
    /// asking again will not help until the key or the settings change.
    Refused { status: u16, error: String },
    /// 2xx, but not the answer of RFC 6749 §5.1.
    Malformed(String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            TokenError::Retry { status, error } => write!(f, "FCM token exchange: HTTP {status}, try later: {error}"),
            TokenError::Refused { status, error } => write!(f, "FCM token exchange refused (HTTP {status}): {error}"),
            TokenError::Malformed(why) => write!(f, "FCM token exchange: unreadable answer ({why})"),
        }
    }
}

#[derive(Deserialize)]
struct TokenJson {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    token_type: Option<String>,
}

/// Reads the token endpoint's answer, received at `now`.
pub fn token_answer(status: u16, body: &str, now: i64) -> Result<AccessToken, TokenError> {
    if !(200..300).contains(&status) {
        // OAuth's error shape: {"error": "invalid_grant", "error_description": "…"}.
        let error = serde_json::from_str::<serde_json::Value>(body.get(..MAX_TOKEN_ANSWER_BYTES.min(body.len())).unwrap_or_default())
            .ok()
            .and_then(|v| {
                let code = v.get("error")?.as_str()?.to_string();
                Some(match v.get("error_description").and_then(|d| d.as_str()) {
                    Some(d) => format!("{code}: {d}"),
                    None => code,
                })
            })
            .unwrap_or_else(|| body.chars().take(300).collect());
        let error: String = error.chars().take(300).collect();
        return Err(if status == 408 || status == 429 || status >= 500 { TokenError::Retry { status, error } } else { TokenError::Refused { status, error } });
    }
    if body.len() > MAX_TOKEN_ANSWER_BYTES {
        return Err(TokenError::Malformed(format!("{} bytes, over the limit of {MAX_TOKEN_ANSWER_BYTES}", body.len())));
    }
    let t: TokenJson = serde_json::from_str(body).map_err(|e| TokenError::Malformed(e.to_string()))?;
    if t.access_token.is_empty() || t.access_token.len() > MAX_ACCESS_TOKEN_BYTES || !t.access_token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::Malformed(format!("access_token missing, over {MAX_ACCESS_TOKEN_BYTES} bytes, or not printable ASCII")));
    }
    if let Some(kind) = t.token_type.filter(|k| !k.eq_ignore_ascii_case("bearer")) {
        return Err(TokenError::Malformed(format!("token_type {:?}, not Bearer", kind.chars().take(40).collect::<String>())));
    }
    let lifetime = match t.expires_in {
        Some(s) if s > 0 => s.min(MAX_TOKEN_LIFETIME_SECS),
        Some(s) => return Err(TokenError::Malformed(format!("expires_in {s} is not positive"))),
        None => return Err(TokenError::Malformed("expires_in missing".into())),
    };
    Ok(AccessToken { access_token: t.access_token, expires_at: now.saturating_add(lifetime) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    /// A key made for these tests with `openssl genpkey -algorithm RSA` (never a Google key).
    pub(crate) const TEST_KEY_PEM: &str = include_str!("../tests/data/fcm-test-key.pem");

    fn key_json(token_uri: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "shop-push",
            "private_key_id": "k1",
            "private_key": TEST_KEY_PEM,
            "client_email": "vitrine@shop-push.iam.gserviceaccount.com",
            "client_id": "1",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        })
        .to_string()
    }

    fn account() -> ServiceAccount {
        ServiceAccount::parse(&key_json("https://oauth2.googleapis.com/token"), Schemes::HttpsOnly).unwrap()
    }

    fn b64(s: &str) -> Vec<u8> {
        base64::decode(s, UrlSafe).unwrap()
    }

    #[test]
    fn the_assertion_is_an_rs256_jwt_that_verifies_with_the_public_half() {
        let sa = account();
        let now = 1_700_000_000;
        let jwt = sa.assertion(now).unwrap();
        let (signing_input, signature) = jwt.rsplit_once('.').unwrap();
        let public = RsaPrivateKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap().to_public_key();
        let verifier = VerifyingKey::<Sha256>::new(public);
        let signature = Signature::try_from(b64(signature).as_slice()).unwrap();
        verifier.verify(signing_input.as_bytes(), &signature).expect("verifies with the key's public half");
        assert!(verifier.verify(b"another input", &signature).is_err());
        let (header, claims) = signing_input.split_once('.').unwrap();
        let header: serde_json::Value = serde_json::from_slice(&b64(header)).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}));
        let claims: serde_json::Value = serde_json::from_slice(&b64(claims)).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({
                "iss": "vitrine@shop-push.iam.gserviceaccount.com",
                "scope": "https://www.googleapis.com/auth/firebase.messaging",
                "aud": "https://oauth2.googleapis.com/token",
                "iat": now,
                "exp": now + 3600,
            })
        );
        // Deterministic: the same input signs the same (no random source involved).
        assert_eq!(sa.assertion(now).unwrap(), jwt);
        // What WebCrypto imports is the same key, and its signature makes the same JWT.
        let der_key = RsaPrivateKey::from_pkcs8_der(sa.pkcs8_der()).unwrap();
        assert_eq!(der_key, RsaPrivateKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap());
        let webcrypto_like = SigningKey::<Sha256>::new(der_key).sign(signing_input.as_bytes());
        assert_eq!(signed(signing_input, &webcrypto_like.to_bytes()), jwt);
        assert_eq!(sa.exchange(&jwt), sa.token_request(now).unwrap());
        assert_eq!(sa.project_id, "shop-push");
    }

    #[test]
    fn the_token_request_is_a_jwt_bearer_grant_form() {
        let r = account().token_request(1_700_000_000).unwrap();
        assert_eq!(r.url, "https://oauth2.googleapis.com/token");
        assert!(r.headers.contains(&("Content-Type", "application/x-www-form-urlencoded".to_string())));
        assert_eq!(crate::query::get(&r.body, "grant_type").as_deref(), Some("urn:ietf:params:oauth:grant-type:jwt-bearer"));
        assert_eq!(crate::query::get(&r.body, "assertion").unwrap(), account().assertion(1_700_000_000).unwrap());
    }

    #[test]
    fn token_answers_become_cached_tokens_used_until_a_minute_before_expiry() {
        let now = 1_700_000_000;
        let t = token_answer(200, r#"{"access_token":"ya29.c.abc","expires_in":3599,"token_type":"Bearer"}"#, now).unwrap();
        assert_eq!(t, AccessToken { access_token: "ya29.c.abc".into(), expires_at: now + 3599 });
        assert_eq!(t.authorization(), "Bearer ya29.c.abc");
        // The boundaries: usable up to 61 s before expiry; from 60 s before, mint another.
        assert!(t.usable(now));
        assert!(t.usable(t.expires_at - 61));
        assert!(!t.usable(t.expires_at - 60));
        assert!(!t.usable(t.expires_at - 59));
        assert!(!t.usable(t.expires_at + 1));
        assert_eq!(cached(Some(&t), t.expires_at - 61), Some(&t));
        assert_eq!(cached(Some(&t), t.expires_at - 60), None);
        assert_eq!(cached(None, now), None);
        // Debug output never shows the token.
        assert!(!format!("{t:?}").contains("ya29"));
    }

    #[test]
    fn bad_token_answers_are_classified() {
        let now = 0;
        let refused = token_answer(400, r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#, now).unwrap_err();
        assert_eq!(refused, TokenError::Refused { status: 400, error: "invalid_grant: Invalid JWT Signature.".into() });
        assert!(matches!(token_answer(503, "unavailable", now), Err(TokenError::Retry { status: 503, .. })));
        assert!(matches!(token_answer(429, "", now), Err(TokenError::Retry { status: 429, .. })));
        for body in [
            "not json",
            r#"{"expires_in":3599}"#,
            r#"{"access_token":"","expires_in":3599}"#,
            r#"{"access_token":"a b","expires_in":3599}"#,
            r#"{"access_token":"t"}"#,
            r#"{"access_token":"t","expires_in":0}"#,
            r#"{"access_token":"t","expires_in":-5}"#,
            r#"{"access_token":"t","expires_in":3599,"token_type":"MAC"}"#,
        ] {
            assert!(matches!(token_answer(200, body, now), Err(TokenError::Malformed(_))), "{body}");
        }
        let long = format!(r#"{{"access_token":"{}","expires_in":3599}}"#, "a".repeat(MAX_ACCESS_TOKEN_BYTES + 1));
        assert!(matches!(token_answer(200, &long, now), Err(TokenError::Malformed(_))));
        let huge = " ".repeat(MAX_TOKEN_ANSWER_BYTES + 1);
        assert!(token_answer(200, &huge, now).unwrap_err().to_string().contains("over the limit"));
        // A lifetime past a day is taken as a day.
        assert_eq!(token_answer(200, r#"{"access_token":"t","expires_in":999999999}"#, now).unwrap().expires_at, MAX_TOKEN_LIFETIME_SECS);
    }

    #[test]
    fn bad_keys_are_refused_by_name() {
        let err = |json: &str| ServiceAccount::parse(json, Schemes::HttpsOnly).unwrap_err();
        assert!(matches!(err(&key_json("http://oauth2.googleapis.com/token")), KeyError::BadTokenUri(_)));
        assert_eq!(err(&key_json("http://x/token")).to_string(), "FCM_SERVICE_ACCOUNT: token_uri must be https, not http");
        assert!(ServiceAccount::parse(&key_json("http://127.0.0.1:9999/token"), Schemes::HttpAllowedForTests).is_ok());
        assert!(matches!(err(&key_json("/token")), KeyError::BadTokenUri(_)));
        assert_eq!(err(&key_json("")), KeyError::Missing("token_uri"));
        assert_eq!(err(r#"{"type":"authorized_user"}"#), KeyError::NotServiceAccount("authorized_user".into()));
        assert_eq!(err(r#"{"token_uri":"https://t"}"#), KeyError::Missing("client_email"));
        let mut v: serde_json::Value = serde_json::from_str(&key_json("https://t")).unwrap();
        v["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into();
        assert!(matches!(err(&v.to_string()), KeyError::BadPrivateKey(_)));
        // A P-256 key in PKCS#8 is a private key, not an RSA one.
        v["private_key"] = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\nOF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n-----END PRIVATE KEY-----\n".into();
        assert_eq!(
            err(&v.to_string()).to_string(),
            "FCM_SERVICE_ACCOUNT: private_key is not an RSA key in PKCS#8 PEM (algorithm 1.2.840.10045.2.1 is not RSA)"
        );
        v["private_key"] = "".into();
        assert_eq!(err(&v.to_string()), KeyError::Missing("private_key"));
        assert!(matches!(err("[1"), KeyError::NotJson(_)));
        assert!(ServiceAccount::from_vars(|_| None, Schemes::HttpsOnly).unwrap().is_none());
        let from_env = ServiceAccount::from_vars(|k| (k == "FCM_SERVICE_ACCOUNT").then(|| key_json("https://t")), Schemes::HttpsOnly);
        assert_eq!(from_env.unwrap().unwrap().client_email, "vitrine@shop-push.iam.gserviceaccount.com");
        let huge = key_json("https://t") + &" ".repeat(MAX_KEY_JSON_BYTES);
        assert!(matches!(err(&huge), KeyError::TooLarge { .. }));
        // Debug output never shows the key.
        assert!(!format!("{:?}", account()).contains("PRIVATE"));
    }
}
