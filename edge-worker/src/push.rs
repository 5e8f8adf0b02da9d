//! Push at run time: the providers read once per isolate, fresh random bytes for every Web Push
//! message (`crypto.getRandomValues`), FCM access tokens minted with WebCrypto and cached per
//! isolate, and the two push routes (`GET /v1/push/key`, `POST /v1/push/report`). What a
//! message becomes and what a report means are `vitrine_edge::push`'s.

use std::cell::RefCell;

use serde_json::json;
use vitrine_edge::api::JsonReply;
use vitrine_edge::fcm::{self, AccessToken, ServiceAccount, TokenError};
use vitrine_edge::messaging::{Outcome, Providers};
use vitrine_edge::push::{self, Outgoing};
use vitrine_edge::visitor_do::{MeasureBody, MEASURE};
use vitrine_edge::webpush::Randomness;
use vitrine_engine::journey::Message;
use worker::js_sys::{self, Uint8Array};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, Env, Method, Request, Response, Result};

use crate::endpoints;
use crate::env::{config, now_secs, var};
use crate::outbound;
use crate::stubs;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
    #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = importKey)]
    fn import_key(
        format: &str,
        key: &Uint8Array,
        algorithm: &JsValue,
        extractable: bool,
        usages: &js_sys::Array,
    ) -> std::result::Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = sign)]
    fn subtle_sign(algorithm: &JsValue, key: &JsValue, data: &Uint8Array) -> std::result::Result<js_sys::Promise, JsValue>;
}

thread_local! {
    /// The providers as the vars say (they change only with a deployment, which starts new
    /// isolates): the VAPID key and the service account are parsed once.
    static PROVIDERS: std::cell::OnceCell<Providers> = const { std::cell::OnceCell::new() };
    /// The FCM access token, until a minute before it expires (fcm.rs `usable`).
    static FCM_TOKEN: RefCell<Option<AccessToken>> = const { RefCell::new(None) };
}

/// The providers, for a store at `base_url` (Twilio's status callbacks); push report keys signed
/// with `LINK_SECRET`.
pub fn providers(env: &Env, base_url: &str) -> Providers {
    let read = PROVIDERS.with(|p| {
        p.get_or_init(|| {
            let providers = Providers::from_vars(|k| var(env, k));
            for problem in &providers.problems {
                console_error!("vitrine: {problem}");
            }
            providers
        })
        .clone()
    });
    let secret = config(env).journey_key().map(<[u8]>::to_vec).unwrap_or_default();
    read.with_public_url(base_url).with_report_secret(&secret)
}

/// Fresh per-message random bytes: reusing them would leak the message (webpush.rs).
fn randomness() -> Randomness {
    let mut r = Randomness { sender_secret: [0; 32], salt: [0; 16] };
    get_random_values(&mut r.sender_secret);
    get_random_values(&mut r.salt);
    r
}

/// The request for `m` at `now`: to FCM with a minted token when a service account is set, to
/// a push service encrypted with fresh random bytes. `Err`: the attempt's outcome (a token that
/// could not be minted, a message that cannot be built).
pub async fn build(m: &Message, providers: &Providers, now: i64) -> std::result::Result<Outgoing, Outcome> {
    let failed = |e: String| Outcome::Failed { status: 0, error: e };
    let account = providers.push.as_ref().and_then(|p| p.service_account.as_ref());
    match account.filter(|_| push::goes_to_fcm(m)) {
        Some(account) => {
            let token = access_token(account, providers.timeout_ms).await?;
            push::request(m, &providers.clone().with_access_token(&token), now, &randomness()).map_err(|e| failed(e.to_string()))
        }
        None => {
            // A key of zero or past the curve's order is vanishingly rare: draw once more.
            let built = push::request(m, providers, now, &randomness());
            let built =
                if matches!(&built, Err(vitrine_edge::messaging::BuildError::WebPush(_))) { push::request(m, providers, now, &randomness()) } else { built };
            built.map_err(|e| failed(e.to_string()))
        }
    }
}

/// This isolate's FCM token, minted when there is none usable: the assertion signed with
/// WebCrypto (RSASSA-PKCS1-v1_5, SHA-256; 0.4 ms, against 12 ms in wasm), exchanged at the
/// account's `token_uri`.
async fn access_token(account: &ServiceAccount, timeout_ms: u64) -> std::result::Result<AccessToken, Outcome> {
    let now = now_secs();
    if let Some(token) = FCM_TOKEN.with(|t| fcm::cached(t.borrow().as_ref(), now).cloned()) {
        return Ok(token);
    }
    let signing_input = account.signing_input(now);
    let signature = sign_rs256(account.pkcs8_der(), signing_input.as_bytes())
        .await
        .map_err(|e| Outcome::Failed { status: 0, error: format!("FCM assertion not signed (WebCrypto): {e}") })?;
    let exchange = account.exchange(&fcm::signed(&signing_input, &signature));
    let (status, body, _) = outbound::send(&exchange, timeout_ms).await.map_err(|e| Outcome::Retry { status: 0, error: format!("FCM token exchange: {e}") })?;
    match fcm::token_answer(status, &body, now_secs()) {
        Ok(token) => {
            FCM_TOKEN.with(|t| *t.borrow_mut() = Some(token.clone()));
            Ok(token)
        }
        Err(e @ TokenError::Retry { .. }) => Err(Outcome::Retry { status, error: e.to_string() }),
        Err(e) => Err(Outcome::Failed { status, error: e.to_string() }),
    }
}

async fn sign_rs256(pkcs8_der: &[u8], data: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let text = |e: JsValue| e.as_string().unwrap_or_else(|| format!("{e:?}"));
    let algorithm = js_sys::JSON::parse(r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256"}"#).map_err(text)?;
    let usages = js_sys::Array::of1(&JsValue::from_str("sign"));
    let key = JsFuture::from(import_key("pkcs8", &Uint8Array::from(pkcs8_der), &algorithm, false, &usages).map_err(text)?).await.map_err(text)?;
    let signature = JsFuture::from(subtle_sign(&JsValue::from_str("RSASSA-PKCS1-v1_5"), &key, &Uint8Array::from(data)).map_err(text)?).await.map_err(text)?;
    Ok(Uint8Array::new(&signature).to_vec())
}

/// `GET /v1/push/key`: the VAPID public key the SDK subscribes with; 404 when not configured.
pub fn key(req: &Request, env: &Env) -> Result<Response> {
    let reply = match providers(env, "").web_push {
        Some(api) => JsonReply::ok(&json!({ "publicKey": api.vapid.public_key() })),
        None => JsonReply::error(404, "web push is not configured (VAPID_PRIVATE_KEY, VAPID_SUBJECT)"),
    };
    endpoints::with_cors(req, env, endpoints::json(reply)?)
}

/// `POST /v1/push/report`: the service worker's `{"key", "event"}`, recorded for the visitor the
/// message went to (`Message Delivered` when displayed, `Message Clicked` when clicked).
pub async fn report(mut req: Request, env: &Env) -> Result<Response> {
    if req.method() != Method::Post {
        return endpoints::json(JsonReply::error(405, "use POST"));
    }
    let body = match crate::limits::read_body(&mut req, env).await? {
        Ok(b) => b,
        Err(answer) => return Ok(answer),
    };
    let config = config(env);
    let Ok(secret) = config.journey_key() else {
        return endpoints::json(JsonReply::error(503, "push reports need LINK_SECRET"));
    };
    let report = match push::read_report(&body, secret, now_secs()) {
        Ok(r) => r,
        Err(why) => return endpoints::json(JsonReply::error(400, why)),
    };
    if config.measurement_key.is_none() {
        return endpoints::json(JsonReply::ok(&json!({ "recorded": false })));
    }
    let resp = stubs::post(env, &report.visitor, MEASURE, &MeasureBody { records: vec![report.record] }).await?;
    if resp.status_code() != 200 {
        console_error!("vitrine push report: not recorded for {} ({})", report.visitor, resp.status_code());
        return endpoints::json(JsonReply::error(503, "not recorded; retry"));
    }
    endpoints::json(JsonReply::ok(&json!({ "recorded": true })))
}
