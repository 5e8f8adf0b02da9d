//! The sync endpoint and the per-visitor Durable Object that runs journeys.
//!
//! ```text
//! POST /v1/events                  batch -> checked per event -> each visitor's VisitorDo
//! GET  /v1/visitors/{key}/messages delivery log of a visitor (DEV_MODE=1 only)
//! GET|POST /v1/unsubscribe?vt=…    signed one-click unsubscribe from an email/SMS/push link
//! POST /v1/sms/inbound             Twilio's inbound-message webhook: STOP / START (signed)
//! ```
//!
//! Visitors are keyed `u:<userId>` when known, else `a:<anonymousId>`; an identify that names
//! both folds the anonymous visitor into the customer (their cart, views, consent and running
//! journeys) and leaves an alias behind, so the phone's cart is the laptop's cart and an order
//! on either ends the one cart journey.
//!
//! Bindings and vars: Durable Object `VISITORS` (class `VisitorDo`); `LINK_SECRET` (signs `vt`
//! links); `DEV_MODE`; provider vars in `messaging.rs`; the bundle the worker serves (KV
//! `BUNDLES`, see `bundles.rs`).

pub mod batch;
pub mod outbox;

#[cfg(target_arch = "wasm32")]
mod object;
#[cfg(target_arch = "wasm32")]
pub use host::*;
#[cfg(target_arch = "wasm32")]
pub use object::VisitorDo;

/// The Durable Object binding.
pub const BINDING: &str = "VISITORS";
/// Tells an object its own key (its name) on every internal call.
pub const KEY_HEADER: &str = "X-Vitrine-Visitor";

/// Paths this module answers besides `/v1/events`.
pub fn serves(path: &str) -> bool {
    path.starts_with("/v1/visitors/") || path == "/v1/unsubscribe" || path == "/v1/sms/inbound"
}

/// What a known customer's private profile (KV `PROFILES`, `profile:<customer id>`, written
/// from `model-builder build --profiles`) tells the journeys: their typical gap between orders
/// and their last order (`"last_order": "YYYY-MM-DD"`, read as that day's midnight UTC).
pub fn profile_traits(json: &str) -> Option<vitrine_engine::journey::Traits> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let gap = v.get("typical_gap_days").and_then(serde_json::Value::as_f64).filter(|d| *d > 0.0 && *d < 3650.0).map(|d| d as f32);
    let last = v.get("last_order").and_then(serde_json::Value::as_str).and_then(day_to_unix);
    let first_name = v.get("first_name").and_then(serde_json::Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    Some(vitrine_engine::journey::Traits { typical_gap_days: gap, last_order_at: last, first_name, ..Default::default() })
}

/// `YYYY-MM-DD` -> unix seconds at midnight UTC (days-from-civil).
fn day_to_unix(day: &str) -> Option<i64> {
    let mut parts = day.get(..10)?.split('-');
    let (y, m, d): (i64, i64, i64) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

/// `key=value&…` (`application/x-www-form-urlencoded`), decoded: the same rules as query strings.
pub fn parse_form(body: &str) -> Vec<(String, String)> {
    crate::query::pairs(body).collect()
}

#[cfg(target_arch = "wasm32")]
mod host {
    use std::rc::Rc;

    use serde::Serialize;
    use serde_json::json;
    use vitrine_engine::bundle::BundleBody;
    use vitrine_engine::journey::LinkClaims;
    use vitrine_engine::{token, Engine};
    use worker::{console_error, console_warn, Env, Headers, Method, Request, RequestInit, Response, Result, Stub};

    use super::batch::{self, phone_key, Refused};
    use super::{parse_form, BINDING, KEY_HEADER};

    pub fn now_secs() -> i64 {
        (worker::Date::now().as_millis() / 1000) as i64
    }

    /// A var or secret, if set and not blank.
    pub fn var(env: &Env, name: &str) -> Option<String> {
        env.var(name).map(|v| v.to_string()).or_else(|_| env.secret(name).map(|v| v.to_string())).ok().filter(|v| !v.trim().is_empty())
    }

    fn dev_mode(env: &Env) -> bool {
        matches!(var(env, "DEV_MODE").as_deref().map(str::trim), Some("1" | "true" | "yes"))
    }

    /// The key signing `vt` links. In dev mode a fixed one stands in when none is set.
    pub fn link_secret(env: &Env) -> Option<Vec<u8>> {
        var(env, "LINK_SECRET").map(String::into_bytes).or_else(|| dev_mode(env).then(|| b"vitrine-dev-link-secret".to_vec()))
    }

    pub fn stub(env: &Env, key: &str) -> Result<Stub> {
        env.durable_object(BINDING)?.id_from_name(key)?.get_stub()
    }

    /// The bundle the journeys come from: the one the worker serves (same KV, same checks).
    /// With none published yet, an empty one: events are still accepted and stored, and no
    /// journey runs.
    pub struct Journeys {
        engine: Option<Rc<Engine>>,
        empty: BundleBody,
    }

    impl Journeys {
        pub fn body(&self) -> &BundleBody {
            self.engine.as_ref().map_or(&self.empty, |e| e.body())
        }
    }

    pub async fn bundle(env: &Env) -> Journeys {
        let engine = crate::glue::serving(env, &crate::glue::Config::from_env(env)).await.map(|l| l.value);
        if engine.is_none() {
            console_warn!("vitrine: no bundle published (KV BUNDLES, bundle:current): journeys are off");
        }
        Journeys { engine, empty: BundleBody { store: Default::default(), catalog: Default::default(), stats: Default::default(), recs: Default::default(), rules: Default::default() } }
    }

    /// Events may come from a store page on another origin (the SDK on a static site).
    fn cors(resp: Response) -> Result<Response> {
        let headers = resp.headers().clone();
        headers.set("Access-Control-Allow-Origin", "*")?;
        headers.set("Access-Control-Allow-Methods", "POST, OPTIONS")?;
        headers.set("Access-Control-Allow-Headers", "Content-Type")?;
        Ok(resp.with_headers(headers))
    }

    fn json_response(body: &impl Serialize, status: u16) -> Result<Response> {
        cors(Response::from_json(body)?.with_status(status))
    }

    async fn call(env: &Env, key: &str, method: Method, path: &str, body: Option<String>) -> Result<Response> {
        let mut init = RequestInit::new();
        init.with_method(method);
        if let Some(b) = body {
            init.with_body(Some(b.into()));
        }
        let req = Request::new_with_init(&format!("https://visitor{path}"), &init)?;
        req.headers().set(KEY_HEADER, key)?;
        stub(env, key)?.fetch_with_request(req).await
    }

    /// `POST /v1/events`: 200 when every event was stored; 400 with a reason per refused event
    /// (the valid ones are stored all the same); 413 for a body over the limit; 503 when a
    /// visitor's storage failed (those events are listed: send them again).
    pub async fn handle_events(mut req: Request, env: Env) -> Result<Response> {
        match req.method() {
            Method::Post => {}
            Method::Options => return cors(Response::empty()?.with_status(204)),
            _ => return json_response(&json!({ "error": "use POST" }), 405),
        }
        let body = req.bytes().await?;
        let checked = match batch::check(&body) {
            Ok(c) => c,
            Err(reason) => {
                let status = if body.len() > vitrine_engine::journey::event::MAX_BATCH_BYTES { 413 } else { 400 };
                return json_response(&json!({ "accepted": 0, "error": reason }), status);
            }
        };
        let (mut accepted, mut duplicates) = (0u64, 0u64);
        let mut failed: Vec<Refused> = Vec::new();
        for run in batch::runs(&checked.accepted) {
            let key = &run[0].key;
            let outcome: std::result::Result<serde_json::Value, String> = async {
                for from in run.iter().filter_map(|a| a.link_from.as_ref()) {
                    let mut r = call(&env, from, Method::Post, "/link", Some(json!({ "to": key }).to_string())).await.map_err(|e| e.to_string())?;
                    if r.status_code() != 200 {
                        return Err(format!("linking {from} failed: {}", r.text().await.unwrap_or_default()));
                    }
                }
                let events: Vec<&str> = run.iter().map(|a| a.json.as_str()).collect();
                let mut r = call(&env, key, Method::Post, "/events", Some(format!("{{\"events\":[{}]}}", events.join(",")))).await.map_err(|e| e.to_string())?;
                let text = r.text().await.map_err(|e| e.to_string())?;
                if r.status_code() != 200 {
                    return Err(text);
                }
                serde_json::from_str(&text).map_err(|e| e.to_string())
            }
            .await;
            match outcome {
                Ok(v) => {
                    accepted += v["accepted"].as_u64().unwrap_or(0);
                    duplicates += v["duplicates"].as_u64().unwrap_or(0);
                }
                Err(e) => {
                    console_error!("vitrine: storing events for {key} failed: {e}");
                    failed.extend(run.iter().map(|a| Refused { index: a.index, message_id: Some(a.message_id.clone()), reason: format!("not stored, send again: {e}") }));
                }
            }
        }
        let status = if !failed.is_empty() {
            503
        } else if !checked.refused.is_empty() {
            400
        } else {
            200
        };
        json_response(&json!({ "accepted": accepted, "duplicates": duplicates, "refused": checked.refused, "failed": failed }), status)
    }

    /// The routes of [`super::serves`].
    pub async fn handle(req: Request, env: Env) -> Result<Response> {
        let path = req.path();
        if let Some(rest) = path.strip_prefix("/v1/visitors/") {
            let Some(key) = rest.strip_suffix("/messages") else { return Response::error("not found", 404) };
            if !dev_mode(&env) {
                return Response::error("only in dev mode (DEV_MODE=1)", 404);
            }
            let key = vitrine_engine::context::percent_decode(key);
            return call(&env, &key, Method::Get, "/messages", None).await;
        }
        match path.as_str() {
            "/v1/unsubscribe" => unsubscribe(req, env).await,
            "/v1/sms/inbound" => sms_inbound(req, env).await,
            _ => Response::error("not found", 404),
        }
    }

    /// The unsubscribe link of every message. GET shows a page with one button (link scanners
    /// in mail systems open links: a GET changes nothing); POST withdraws consent for the
    /// token's channel: the button, and RFC 8058 one-click from the mail client.
    async fn unsubscribe(req: Request, env: Env) -> Result<Response> {
        let url = req.url()?;
        let vt = url.query_pairs().find(|(k, _)| k == "vt").map(|(_, v)| v.into_owned()).unwrap_or_default();
        let Some(secret) = link_secret(&env) else { return Response::error("unsubscribe is not configured", 503) };
        let claims: LinkClaims = match token::verify(&secret, &vt).ok().and_then(|p| serde_json::from_slice::<LinkClaims>(&p).ok()) {
            Some(c) if !c.unsubscribe.is_empty() && !c.visitor.is_empty() => c,
            _ => return Response::error("this unsubscribe link is not valid", 400),
        };
        let what = match claims.unsubscribe.as_str() {
            "sms" => "text messages",
            "push" => "notifications",
            "email" => "emails",
            _ => "messages",
        };
        if req.method() != Method::Post {
            return Response::from_html(format!(
                "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>Unsubscribe</title>\
                 <form method=post><p>Stop {what} from us?</p><button type=submit>Unsubscribe</button></form>"
            ));
        }
        let event = json!({
            "type": "consent",
            "messageId": format!("unsubscribe-{}-{}", claims.unsubscribe, now_secs()),
            "anonymousId": claims.visitor,
            "channels": { claims.unsubscribe.clone(): false }
        });
        let mut r = call(&env, &claims.visitor, Method::Post, "/events", Some(json!({ "events": [event] }).to_string())).await?;
        if r.status_code() != 200 {
            return Response::error(format!("could not unsubscribe, try again: {}", r.text().await?), 503);
        }
        Response::from_html(format!("<!doctype html><meta charset=utf-8><title>Unsubscribed</title><p>You will get no more {what} from us.</p>"))
    }

    /// Twilio posts inbound messages form-encoded (`From`, `Body`, `MessageSid`); the number's
    /// index object forwards to its visitor. Answers with empty TwiML (no auto-reply). Only
    /// requests signed with the account's auth token count (`X-Twilio-Signature` over this
    /// URL): anyone else could stop or restart someone's messages. Without a token configured
    /// the endpoint is off, except in dev mode.
    async fn sms_inbound(mut req: Request, env: Env) -> Result<Response> {
        let form = parse_form(&req.text().await?);
        match var(&env, "TWILIO_AUTH_TOKEN") {
            Some(token) => {
                let url = req.url()?.to_string();
                let signature = req.headers().get("X-Twilio-Signature")?;
                if !crate::messaging::twilio_signature_matches(&token, &url, &form, signature.as_deref()) {
                    return Response::error("X-Twilio-Signature does not match this request", 403);
                }
            }
            None if dev_mode(&env) => {}
            None => return Response::error("inbound SMS is not configured (TWILIO_AUTH_TOKEN)", 503),
        }
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let (from, body, sid) = (get("From"), get("Body"), get("MessageSid"));
        if from.is_empty() {
            return Response::error("missing From", 400);
        }
        let message_id = if sid.is_empty() { format!("sms-{from}-{}", now_secs()) } else { sid };
        let mut r = call(&env, &phone_key(&from), Method::Post, "/sms", Some(json!({ "messageId": message_id, "body": body }).to_string())).await?;
        if r.status_code() != 200 {
            return Response::error(r.text().await?, 503);
        }
        let headers = Headers::new();
        headers.set("Content-Type", "text/xml")?;
        Ok(Response::ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")?.with_headers(headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        assert_eq!(
            parse_form("From=%2B447700900123&Body=Stop+it&Empty=&Bad=%zz%4%C3%A9"),
            [("From".into(), "+447700900123".into()), ("Body".into(), "Stop it".into()), ("Empty".into(), String::new()), ("Bad".into(), "%zz%4é".into())]
        );
        assert!(serves("/v1/visitors/u:1/messages"));
    }

    #[test]
    fn profiles_give_the_gap_and_the_last_order() {
        let t = profile_traits(r#"{"customer_id":"17850","typical_gap_days":30.0,"last_order":"2011-05-20","segment":"At risk"}"#).unwrap();
        assert_eq!((t.typical_gap_days, t.last_order_at), (Some(30.0), Some(1_305_849_600)));
        assert_eq!(day_to_unix("1970-01-01"), Some(0));
        assert_eq!(day_to_unix("2000-03-01"), Some(951_868_800));
        assert_eq!(profile_traits(r#"{"typical_gap_days":null}"#).unwrap().typical_gap_days, None);
        assert!(profile_traits("nope").is_none());
        assert!(!serves("/v1/events"));
    }
}
