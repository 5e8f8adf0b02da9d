//! Providers' webhooks about our messages: SendGrid's Event Webhook and Twilio's status
//! callbacks. The body is read up to a limit, the rules (`vitrine_edge::feedback`) check the
//! signature and decide, and each report goes to its contact's object, which suppresses the
//! contact for every visitor of it or only records the report.

use serde_json::{json, Value};
use vitrine_edge::feedback::{self, Delivered, Refusal, Report, Status, SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP};
use vitrine_edge::visitor_do::{MeasureBody, FEEDBACK, MEASURE};
use worker::{console_error, console_log, Env, Method, Request, Response, Result};

use crate::env::{config, now_secs};
use crate::stubs;

fn reply(body: &Value, status: u16) -> Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

fn refused(r: Refusal) -> Result<Response> {
    reply(&r.json(), r.status())
}

/// Each report to its contact's object; the first that fails is answered 503, so the provider
/// retries (the reports taken already change nothing twice).
async fn take(env: &Env, reports: &[Report]) -> Result<std::result::Result<(), Response>> {
    for r in reports {
        let mut resp = stubs::post(env, &r.contact, FEEDBACK, &r.body).await?;
        if resp.status_code() != 200 {
            let why = resp.text().await?;
            console_error!("vitrine feedback: {} for {} not taken: {why}", r.body.reason, r.contact);
            return Ok(Err(reply(&json!({ "error": "not all events were taken; retry" }), 503)?));
        }
        console_log!("vitrine feedback {}", json!({ "contact": r.contact, "reason": r.body.reason, "suppress": r.body.suppress }));
    }
    Ok(Ok(()))
}

/// Each delivery to the measurement outbox of the visitor the message went to; the first that
/// fails is answered 503, so the provider retries (the records count once by message id).
async fn record(env: &Env, delivered: Vec<Delivered>) -> Result<std::result::Result<(), Response>> {
    if config(env).measurement_key.is_none() {
        return Ok(Ok(()));
    }
    for d in delivered {
        let resp = stubs::post(env, &d.visitor, MEASURE, &MeasureBody { records: vec![d.record] }).await?;
        if resp.status_code() != 200 {
            console_error!("vitrine feedback: a delivery for {} not recorded ({})", d.visitor, resp.status_code());
            return Ok(Err(reply(&json!({ "error": "not all events were taken; retry" }), 503)?));
        }
    }
    Ok(Ok(()))
}

/// A provider's POST body, within the route's limit; else the answer (405, or 413).
async fn posted_body(req: &mut Request, env: &Env) -> Result<std::result::Result<Vec<u8>, Response>> {
    if req.method() != Method::Post {
        return reply(&json!({ "error": "use POST" }), 405).map(Err);
    }
    crate::limits::read_body(req, env).await
}

/// `POST /v1/providers/sendgrid/events`: SendGrid's signed Event Webhook.
pub async fn sendgrid(mut req: Request, env: &Env) -> Result<Response> {
    let body = match posted_body(&mut req, env).await? {
        Ok(b) => b,
        Err(answer) => return Ok(answer),
    };
    let config = config(env);
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let (signature, timestamp) = (header(SENDGRID_SIGNATURE), header(SENDGRID_TIMESTAMP));
    let now = now_secs();
    if let Err(r) =
        feedback::verify_sendgrid(config.sendgrid_webhook_key.as_ref(), config.sendgrid_unsigned_ok, signature.as_deref(), timestamp.as_deref(), &body, now)
    {
        return refused(r);
    }
    let batch = match feedback::sendgrid_events(&body, now) {
        Ok(b) => b,
        Err(r) => return refused(r),
    };
    if let Err(failed) = take(env, &batch.reports).await? {
        return Ok(failed);
    }
    let answer = batch.reply();
    if let Err(failed) = record(env, batch.delivered).await? {
        return Ok(failed);
    }
    reply(&answer, 200)
}

/// `POST /v1/providers/twilio/status`: Twilio's status callback for a text we sent.
pub async fn twilio_status(mut req: Request, env: &Env) -> Result<Response> {
    let body = match posted_body(&mut req, env).await? {
        Ok(b) => b,
        Err(answer) => return Ok(answer),
    };
    let config = config(env);
    let url = req.url()?.to_string();
    let signature = req.headers().get("X-Twilio-Signature")?;
    let form = String::from_utf8_lossy(&body);
    let status =
        match feedback::twilio_status(&form, &url, signature.as_deref(), config.twilio_auth_token.as_deref(), config.dev_mode, config.country, now_secs()) {
            Ok(r) => r,
            Err(r) => return refused(r),
        };
    let reports: Vec<Report> = match status {
        Status::Report(r) => vec![r],
        Status::Delivered(d) => {
            let delivered = d.is_some();
            if let Err(failed) = record(env, d.into_iter().map(|d| *d).collect()).await? {
                return Ok(failed);
            }
            return reply(&json!({ "suppressed": false, "recorded": false, "delivered": delivered }), 200);
        }
        Status::Nothing => Vec::new(),
    };
    if let Err(failed) = take(env, &reports).await? {
        return Ok(failed);
    }
    reply(&json!({ "suppressed": reports.iter().any(|r| r.body.suppress), "recorded": reports.iter().any(|r| !r.body.suppress) }), 200)
}
