//! The staff-only report (the rules: `vitrine_edge::staff`): `PUT /v1/admin/report` stores the
//! latest HTML report in R2, `GET /staff/report` serves it behind HTTP Basic auth.

use serde_json::json;
use vitrine_edge::api::JsonReply;
use vitrine_edge::measure::BUCKET;
use vitrine_edge::privacy;
use vitrine_edge::staff::{basic_matches, CHALLENGE, CSP, REPORT_KEY};
use worker::{Env, Headers, Method, Request, Response, Result};

use crate::endpoints::json as reply;
use crate::env::config;
use crate::limits;

/// A staff page's headers: never cached, loads nothing, shown in no frame.
fn staff_headers(content_type: &str) -> Result<Headers> {
    let h = Headers::new();
    h.set("content-type", content_type)?;
    h.set("cache-control", "no-store")?;
    h.set("content-security-policy", CSP)?;
    h.set("x-content-type-options", "nosniff")?;
    h.set("referrer-policy", "no-referrer")?;
    h.set("x-frame-options", "DENY")?;
    Ok(h)
}

fn text(status: u16, body: &str, headers: Headers) -> Result<Response> {
    Ok(Response::ok(body)?.with_status(status).with_headers(headers))
}

/// `GET /staff/report`: the latest report, to staff only (Basic auth, password `ADMIN_TOKEN`).
pub async fn staff(req: Request, env: &Env) -> Result<Response> {
    let plain = || staff_headers("text/plain; charset=utf-8");
    let token = config(env).admin_token.clone();
    if token.is_none() {
        return text(503, "The staff report is off: set ADMIN_TOKEN (wrangler secret put ADMIN_TOKEN).\n", plain()?);
    }
    if !basic_matches(req.headers().get("authorization")?.as_deref(), token.as_deref()) {
        let h = plain()?;
        h.set("www-authenticate", CHALLENGE)?;
        return text(401, "Staff only: sign in with any user name and the admin token as the password.\n", h);
    }
    if !matches!(req.method(), Method::Get | Method::Head) {
        let h = plain()?;
        h.set("allow", "GET, HEAD")?;
        return text(405, "use GET\n", h);
    }
    let object = env.bucket(BUCKET)?.get(REPORT_KEY).execute().await?;
    let Some(body) = object.as_ref().and_then(|o| o.body()) else {
        return text(404, "No report yet: run scripts/report-demo.sh, or upload one with PUT /v1/admin/report.\n", plain()?);
    };
    Ok(Response::from_body(body.response_body()?)?.with_headers(staff_headers("text/html; charset=utf-8")?))
}

/// `PUT /v1/admin/report` (bearer `ADMIN_TOKEN`): the body, an HTML report of at most
/// `staff::REPORT_BODY` bytes, becomes the one `/staff/report` serves.
pub async fn upload(mut req: Request, env: &Env) -> Result<Response> {
    let token = config(env).admin_token.clone();
    if token.is_none() {
        return reply(JsonReply::error(503, "the report upload is off: set ADMIN_TOKEN (wrangler secret put ADMIN_TOKEN)"));
    }
    if !privacy::is_admin(req.headers().get("authorization")?.as_deref(), token.as_deref()) {
        return reply(JsonReply::error(401, "Authorization: Bearer <ADMIN_TOKEN> required"));
    }
    if req.method() != Method::Put {
        return reply(JsonReply::error(405, "use PUT with the report's HTML as the body"));
    }
    let body = match limits::read_body(&mut req, env).await? {
        Ok(b) => b,
        Err(refused) => return Ok(refused),
    };
    if body.is_empty() || std::str::from_utf8(&body).is_err() {
        return reply(JsonReply::error(400, "the body must be the report's HTML (UTF-8, not empty)"));
    }
    let meta = worker::HttpMetadata { content_type: Some("text/html; charset=utf-8".into()), ..Default::default() };
    let bytes = body.len();
    env.bucket(BUCKET)?.put(REPORT_KEY, body).http_metadata(meta).execute().await?;
    reply(JsonReply::ok(&json!({ "stored": REPORT_KEY, "bytes": bytes, "url": "/staff/report" })))
}
