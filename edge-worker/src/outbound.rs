//! Provider requests leave here: the one `fetch` of a message the rules built
//! (`vitrine_edge::push::request`: text for most providers, bytes for Web Push), with a timeout: workers-rs has none of its own, so the
//! request races a timer and is aborted (`AbortController`) when the timer wins.

use std::time::Duration;

use futures_util::future::{select, Either};
use vitrine_edge::messaging::{HttpRequest, DEFAULT_TIMEOUT_SECS};
use vitrine_edge::push::Outgoing;
use worker::js_sys::Uint8Array;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

/// Sends a message's request (see [`send`]).
pub async fn send_outgoing(out: &Outgoing, timeout_ms: u64) -> Result<(u16, String, Option<String>), String> {
    match out {
        Outgoing::Text(r) => send(r, timeout_ms).await,
        Outgoing::WebPush(r) => send(r, timeout_ms).await,
    }
}

/// Sends one request, its body as bytes (Web Push's is binary); the status, body and the
/// provider's id for the message (SendGrid's `X-Message-Id`, a push service's `Location`), or
/// why there is no answer (a network error, or none within `timeout_ms`:
/// `messaging::unanswered` decides what follows).
pub async fn send<B: AsRef<[u8]>>(req: &HttpRequest<B>, timeout_ms: u64) -> Result<(u16, String, Option<String>), String> {
    let headers = Headers::new();
    for (k, v) in &req.headers {
        headers.set(k, v).map_err(|e| e.to_string())?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(Uint8Array::from(req.body.as_ref()).into()));
    let request = Request::new_with_init(&req.url, &init).map_err(|e| e.to_string())?;
    let timeout_ms = if timeout_ms == 0 { DEFAULT_TIMEOUT_SECS * 1000 } else { timeout_ms };
    let controller = AbortController::default();
    let signal = controller.signal();
    let answer = Box::pin(async move {
        let mut resp = Fetch::Request(request).send_with_signal(&signal).await.map_err(|e| e.to_string())?;
        let header = |name: &str| resp.headers().get(name).ok().flatten();
        let id = header("X-Message-Id").or_else(|| header("Location"));
        let body = resp.text().await.unwrap_or_default();
        Ok((resp.status_code(), body, id))
    });
    match select(answer, Delay::from(Duration::from_millis(timeout_ms))).await {
        Either::Left((result, _)) => result,
        Either::Right((_, pending)) => {
            drop(pending);
            controller.abort();
            Err(format!("no answer within {:.1} s (PROVIDER_TIMEOUT_SECS)", timeout_ms as f64 / 1000.0))
        }
    }
}
