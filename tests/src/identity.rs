//! Identity tokens as a store's backend signs them (HS256, `kid` header), with a stock JWT
//! library rather than the worker's own code, so the e2e tests check the contract, not a copy.

use serde::Serialize;

/// The key id and secret every test stack's worker has as `IDENTITY_SECRET`.
pub const KID: &str = "e2e-2026";
pub const SECRET: &str = "vitrine-e2e-identity-secret-0123456789";

pub fn secret_var() -> String {
    format!("{KID}:{SECRET}")
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
}

/// A token for `customer` valid for ten minutes from now, signed with `kid`/`secret`.
pub fn token_with(kid: &str, secret: &str, customer: &str, first_name: Option<&str>, exp: i64) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, &Claims { sub: customer, exp, first_name }, &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes())).expect("HS256 signs")
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

/// A valid token for `customer`, as the store's backend would hand it out after login.
pub fn token(customer: &str, first_name: Option<&str>) -> String {
    token_with(KID, SECRET, customer, first_name, now() + 600)
}
