//! Calls into visitors' Durable Objects (internal API: `vitrine_edge::visitor_do`).

use vitrine_edge::visitor_do::{BINDING, KEY_HEADER};
use worker::wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit, Response, Result};

/// Calls visitor `key`'s object at `path`; the key travels in a header (an object does not
/// know its own name).
pub async fn call(env: &Env, key: &str, method: Method, path: &str, body: Option<String>) -> Result<Response> {
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(b) = body {
        init.with_body(Some(JsValue::from_str(&b)));
    }
    let req = Request::new_with_init(&["https://visitor", path].concat(), &init)?;
    req.headers().set(KEY_HEADER, key)?;
    env.durable_object(BINDING)?.id_from_name(key)?.get_stub()?.fetch_with_request(req).await
}

/// A POST with a JSON body.
pub async fn post(env: &Env, key: &str, path: &str, body: &impl serde::Serialize) -> Result<Response> {
    call(env, key, Method::Post, path, Some(serde_json::to_string(body)?)).await
}
