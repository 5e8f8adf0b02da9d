//! Provider requests leave here: the one `fetch` of a message the rules built
//! (`vitrine_edge::messaging::request`).

use vitrine_edge::messaging::HttpRequest;
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// Sends one request; the status, body and `X-Message-Id` header, or a network error.
pub async fn send(req: &HttpRequest) -> Result<(u16, String, Option<String>), String> {
    let headers = Headers::new();
    for (k, v) in &req.headers {
        headers.set(k, v).map_err(|e| e.to_string())?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(req.body.clone().into()));
    let request = Request::new_with_init(&req.url, &init).map_err(|e| e.to_string())?;
    let mut resp = Fetch::Request(request).send().await.map_err(|e| e.to_string())?;
    let id = resp.headers().get("X-Message-Id").ok().flatten();
    let body = resp.text().await.unwrap_or_default();
    Ok((resp.status_code(), body, id))
}
