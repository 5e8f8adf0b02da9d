//! `/v1/events` and the opt-out endpoints: request in, rules (`vitrine_edge::events`,
//! `optout`), visitors' objects called, answer out.

use serde_json::json;
use vitrine_edge::click;
use vitrine_edge::cookies::{self, Cookies};
use vitrine_edge::events::{self, Proof, Stored};
use vitrine_edge::measure;
use vitrine_edge::optout;
use vitrine_edge::profile;
use vitrine_edge::visitor_do::{ConfirmedBody, ContactRecord, LinkBody, MeasureBody, SmsBody, CONFIRMED, EVENTS, LINK, MEASURE, MESSAGES, SMS};
use vitrine_edge::webpush::Schemes;
use vitrine_engine::journey::Channel;
use worker::{console_error, Context, Env, Headers, Method, Request, Response, Result};

use crate::env::{config, fresh_visitor_id, now_secs};
use crate::limits;
use crate::stubs;

/// Events may come from a store page on another origin (the SDK on a static site).
pub(crate) fn cors(resp: Response) -> Result<Response> {
    let headers = resp.headers().clone();
    headers.set("Access-Control-Allow-Origin", "*")?;
    headers.set("Access-Control-Allow-Methods", "POST, OPTIONS")?;
    headers.set("Access-Control-Allow-Headers", "Content-Type, Authorization")?;
    Ok(resp.with_headers(headers))
}

/// A refusal in words for a person or a provider (message links, webhooks), as `text/plain`
/// (openapi.json says so; `Response::error` would send no content type).
fn text_error(message: impl Into<String>, status: u16) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "text/plain; charset=utf-8")?;
    Ok(Response::ok(message.into())?.with_status(status).with_headers(headers))
}

fn json_response(body: &serde_json::Value, status: u16) -> Result<Response> {
    cors(Response::from_json(body)?.with_status(status))
}

/// `POST /v1/events`: checked per event; each visitor's run of events goes to its object.
pub async fn batch(mut req: Request, env: &Env) -> Result<Response> {
    match req.method() {
        Method::Post => {}
        Method::Options => return cors(Response::empty()?.with_status(204)),
        _ => return json_response(&json!({ "error": "use POST" }), 405),
    }
    let body = match limits::read_body(&mut req, env).await? {
        Ok(body) => body,
        Err(too_large) => return Ok(too_large),
    };
    let config = config(env);
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let cookie = header("cookie");
    let cookie_customer = config.profile_secret.as_deref().and_then(|secret| {
        let value = Cookies::parse(cookie.as_deref()).get(cookies::PROFILE)?;
        profile::read(secret, value).ok().map(|c| c.cid).filter(|c| !c.is_empty())
    });
    let proof = Proof {
        identity: &config.identity,
        now: now_secs(),
        cookie_customer: cookie_customer.as_deref(),
        server: events::bearer_matches(header("authorization").as_deref(), config.write_key.as_deref()),
        push_schemes: if config.dev_mode { Schemes::HttpAllowedForTests } else { Schemes::HttpsOnly },
    };
    let mut checked = match events::check(&body, &proof) {
        Ok(c) => c,
        Err(reason) => return json_response(&json!({ "accepted": 0, "error": reason }), events::refusal_status(body.len())),
    };
    limits::batch(&req, env, &mut checked, proof.server).await;
    let mut stored = Stored::default();
    // Where the site asks first, a browser that did not say yes records nothing (the store's
    // backend, with the write key, is the store's own record).
    let consented = proof.server || cookies::may_store(Cookies::parse(cookie.as_deref()).get(cookies::CONSENT), config.require_consent);
    let recording = Recording { key: config.measurement_key.as_deref().filter(|_| consented), server: proof.server, now: proof.now };
    for run in events::runs(&checked.accepted) {
        let key = &run[0].key;
        match store_run(env, key, run, &recording).await {
            Ok(v) => {
                stored.accepted += v["accepted"].as_u64().unwrap_or(0);
                stored.duplicates += v["duplicates"].as_u64().unwrap_or(0);
            }
            Err((507, reason)) => stored.record_full(run, &reason),
            Err((_, e)) => {
                console_error!("vitrine: storing events for {key} failed: {e}");
                stored.not_stored(run, &e);
            }
        }
    }
    let (status, reply) = stored.reply(&checked.refused, checked.anonymized);
    limits::with_retry_after(json_response(&reply, status)?)
}

/// How a batch's measured events become records (`vitrine_edge::measure::event_record`).
struct Recording<'a> {
    /// `MEASUREMENT_KEY`; without it nothing is recorded.
    key: Option<&'a [u8]>,
    /// The batch carried the write key: `server` records.
    server: bool,
    now: i64,
}

/// Stores one visitor's run, with the records of its measured events (the object writes them
/// with the events, then queues them); `Err((status, why))`: 507 when its record is full (for
/// good), anything else worth sending again.
async fn store_run(env: &Env, key: &str, run: &[events::Accepted], recording: &Recording<'_>) -> std::result::Result<serde_json::Value, (u16, String)> {
    let failed = |e: worker::Error| (500, e.to_string());
    for from in run.iter().filter_map(|a| a.link_from.as_ref()) {
        let mut r = stubs::post(env, from, LINK, &LinkBody { to: key.into() }).await.map_err(failed)?;
        if r.status_code() != 200 {
            return Err((500, format!("linking {from} failed: {}", r.text().await.unwrap_or_default())));
        }
    }
    // The events were checked and serialized once already: splice them in as they are.
    let events: Vec<&str> = run.iter().map(|a| a.json.as_str()).collect();
    let records: Vec<String> = match recording.key {
        Some(k) => run
            .iter()
            .filter_map(|a| measure::event_record(&a.json, recording.server, k, recording.now))
            .map(|r| serde_json::to_string(&r).expect("a record serializes"))
            .collect(),
        None => Vec::new(),
    };
    // `server`: the object re-scores a customer's profile from the backend's orders only.
    let server = if recording.server { ",\"server\":true" } else { "" };
    let body = ["{\"events\":[", &events.join(","), "],\"records\":[", &records.join(","), "]", server, "}"].concat();
    let mut r = stubs::call(env, key, Method::Post, EVENTS, Some(body)).await.map_err(failed)?;
    let text = r.text().await.map_err(failed)?;
    match r.status_code() {
        200 => serde_json::from_str(&text).map_err(|e| (500, e.to_string())),
        507 => Err((507, serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["error"].as_str().map(str::to_string)).unwrap_or(text))),
        status => Err((status, text)),
    }
}

/// `GET /v1/visitors/{key}/messages`: a visitor's delivery log, in dev mode only.
pub async fn messages(env: &Env, key: &str) -> Result<Response> {
    if !config(env).dev_mode {
        return text_error("only in dev mode (DEV_MODE=1)", 404);
    }
    stubs::call(env, key, Method::Get, MESSAGES, None).await
}

/// The unsubscribe link of every message (`optout::confirm_page` says why GET changes nothing).
/// A message's link (`click.rs`): the click goes to the visitor's object as a measurement
/// record (off the response's path; link scanners, i.e. bots, record nothing), and the visitor
/// on to the step's landing page, on this host.
pub fn click(req: Request, env: &Env, ctx: &Context) -> Result<Response> {
    let url = req.url()?;
    let vt = url.query_pairs().find(|(k, _)| k == "vt").map(|(_, v)| v.into_owned()).unwrap_or_default();
    let config = config(env);
    let now = now_secs();
    // Without LINK_SECRET no link is ours: home.
    let followed = config.link_secret.as_deref().map_or_else(click::Click::home, |secret| click::follow(secret, &vt, now));
    let user_agent = req.headers().get("user-agent")?;
    // Recorded with measurement on, and noted for the journey's next steps (`if`) either way.
    if let (Some(claims), true) = (followed.claims.as_ref(), !measure::is_bot(user_agent.as_deref())) {
        let record = measure::click_record(claims, now, &fresh_visitor_id());
        let (env, visitor) = (env.clone(), claims.visitor.clone());
        ctx.wait_until(async move {
            if let Err(e) = stubs::post(&env, &visitor, MEASURE, &MeasureBody { records: vec![record] }).await {
                console_error!("vitrine: recording a message click for {visitor} failed: {e}");
            }
        });
    }
    let headers = Headers::new();
    headers.set("location", &followed.location)?;
    headers.set("cache-control", "no-store")?;
    headers.set("referrer-policy", "no-referrer")?;
    Ok(Response::empty()?.with_status(302).with_headers(headers))
}

pub async fn unsubscribe(req: Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let vt = url.query_pairs().find(|(k, _)| k == "vt").map(|(_, v)| v.into_owned()).unwrap_or_default();
    let config = config(env);
    let Some(secret) = &config.link_secret else { return text_error("unsubscribe is not configured", 503) };
    let Some(claims) = optout::unsubscribe_claims(secret, &vt) else { return text_error("this unsubscribe link is not valid", 400) };
    if req.method() != Method::Post {
        return Response::from_html(optout::confirm_page(&claims));
    }
    let mut r = stubs::post(env, &claims.visitor, EVENTS, &json!({ "events": [optout::withdrawal(&claims, now_secs())] })).await?;
    if r.status_code() != 200 {
        return text_error(format!("could not unsubscribe, try again: {}", r.text().await?), 503);
    }
    Response::from_html(optout::done_page(&claims))
}

/// An email's double opt-in link: GET shows the button, POST confirms the contact for every
/// visitor of it.
pub async fn confirm(req: Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let vt = url.query_pairs().find(|(k, _)| k == "vt").map(|(_, v)| v.into_owned()).unwrap_or_default();
    let config = config(env);
    let Some(secret) = &config.link_secret else { return text_error("confirmation is not configured", 503) };
    let Some(key) = ContactRecord::confirmed_by(secret, &vt, now_secs()) else {
        return text_error("this confirmation link is not valid (or has expired)", 400);
    };
    if req.method() != Method::Post {
        return Response::from_html(optout::opt_in_page());
    }
    let address = key.trim_start_matches("e:").to_string();
    let mut r = stubs::post(env, &key, CONFIRMED, &ConfirmedBody { channel: Channel::Email, address }).await?;
    if r.status_code() != 200 {
        return text_error(format!("could not confirm, try again: {}", r.text().await?), 503);
    }
    Response::from_html(optout::opted_in_page())
}

/// Twilio's inbound-message webhook: the number's index object forwards to its visitor.
pub async fn sms_inbound(mut req: Request, env: &Env) -> Result<Response> {
    let form = match limits::read_body(&mut req, env).await? {
        Ok(body) => String::from_utf8_lossy(&body).into_owned(),
        Err(too_large) => return Ok(too_large),
    };
    let config = config(env);
    let url = req.url()?.to_string();
    let signature = req.headers().get("X-Twilio-Signature")?;
    let sms = match optout::inbound_sms(&form, &url, signature.as_deref(), config.twilio_auth_token.as_deref(), config.dev_mode, config.country, now_secs()) {
        Ok(sms) => sms,
        Err(refusal) => return text_error(refusal.message(), refusal.status()),
    };
    if let Some(over) = limits::over(env, &vitrine_edge::limits::sms_check(&sms.from), &req.path()).await? {
        return Ok(over);
    }
    let mut r = stubs::post(env, &events::phone_key(&sms.from), SMS, &SmsBody { message_id: sms.message_id, body: sms.body, channel: sms.channel }).await?;
    if r.status_code() != 200 {
        return text_error(r.text().await?, 503);
    }
    let headers = Headers::new();
    headers.set("Content-Type", "text/xml")?;
    Ok(Response::ok(optout::EMPTY_TWIML)?.with_headers(headers))
}
