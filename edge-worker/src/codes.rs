//! Unique offer codes at run time (rules: `vitrine_edge::codes`): issuing a visitor's code
//! into its Durable Object when their exit offer or slice is answered, or a message showing it
//! is about to leave; the code objects themselves (the `VisitorDo` class under `c:<code>`
//! names: no migration); and the store backend's `POST /v1/codes/verify` and
//! `/v1/codes/redeem` (write key).

use std::cell::RefCell;
use std::collections::HashSet;

use vitrine_edge::api::JsonReply;
use vitrine_edge::codes::{self, CodeRecord};
use vitrine_edge::deep_link;
use vitrine_edge::events::bearer_matches;
use vitrine_edge::messaging::Outcome;
use vitrine_engine::bundle::BundleBody;
use vitrine_engine::journey::Message;
use vitrine_engine::rules::UniqueCode;
use vitrine_engine::{Engine, Visitor};
use worker::js_sys;
use worker::wasm_bindgen::JsValue;
use worker::{console_error, Env, Method, Request, Response, Result, ScheduledTime, State};

use crate::endpoints::json;
use crate::env::{config, now_secs};
use crate::{limits, stubs};

/// Codes this isolate issued: their objects hold them already, so a visitor's later page views
/// cost no object round trip. Forgotten whole past [`MAX_REMEMBERED`] (issuing is idempotent).
const MAX_REMEMBERED: usize = 10_000;

thread_local! {
    static ISSUED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Issues visitor `v`'s code for the exit offer they get at `now`, if that offer has unique
/// codes: `(offer id, code)` once the code's object holds it. Without `LINK_SECRET`, or when
/// the object cannot be written, the offer shows without a code and the log says why.
pub async fn issue_exit_offer_code(env: &Env, engine: &Engine, v: &Visitor, now: i64) -> Option<(String, String)> {
    let (unique, visitor) = codes::exit_offer_code(engine, v, now)?;
    issue(env, unique, &visitor, now).await
}

/// Issues (again: the same code) the unique code of the message whose deep link the request
/// came from (`referer`: the SDK's slice on the landing page), if its token is ours.
pub async fn issue_deep_link_code(env: &Env, engine: &Engine, referer: Option<&str>, now: i64) -> Option<(String, String)> {
    let vt = deep_link::vt_of_referer(referer)?;
    let config = config(env);
    let claims = deep_link::verified_link(config.code_secret().ok()?, &vt, now).ok()?;
    let (unique, visitor, issued_at) = codes::deep_link_code(engine, &claims)?;
    issue(env, unique, &visitor, issued_at).await
}

async fn issue(env: &Env, unique: &UniqueCode, visitor: &str, now: i64) -> Option<(String, String)> {
    let config = config(env);
    let secret = match config.code_secret() {
        Ok(secret) => secret,
        Err(why) => {
            console_error!("vitrine: offer {}: {why}", unique.offer);
            return None;
        }
    };
    let (code, record) = codes::issue(secret, unique, visitor, now);
    if ISSUED.with(|issued| issued.borrow().contains(&code)) {
        return Some((unique.offer.clone(), code));
    }
    match record_code(env, &code, &record).await {
        Ok(()) => Some((unique.offer.clone(), code)),
        Err(why) => {
            console_error!("vitrine: {why}: offer {} shown without a code", unique.offer);
            None
        }
    }
}

/// Writes `record` into code `code`'s object (kept if it has one), remembered by this isolate.
async fn record_code(env: &Env, code: &str, record: &CodeRecord) -> std::result::Result<(), String> {
    match stubs::post(env, &codes::object_key(code), codes::ISSUE, record).await {
        Ok(r) if r.status_code() == 200 => {
            ISSUED.with(|issued| {
                let mut issued = issued.borrow_mut();
                if issued.len() >= MAX_REMEMBERED {
                    issued.clear();
                }
                issued.insert(code.to_string());
            });
            Ok(())
        }
        Ok(r) => Err(format!("issuing code {code} answered {}", r.status_code())),
        Err(e) => Err(format!("issuing code {code} failed: {e}")),
    }
}

/// A message about to leave that shows a unique code (`Message::offer_code`, composed by the
/// journeys from the same derivation): its code's object records it first. `Some`: not
/// recorded, so not sent yet (retried like a provider's 5xx).
pub async fn record_message_code(env: &Env, bundle: &BundleBody, m: &Message) -> Option<Outcome> {
    let unique = bundle.rules.unique_code(&m.offer_id).filter(|_| !m.offer_code.is_empty())?;
    if ISSUED.with(|issued| issued.borrow().contains(&m.offer_code)) {
        return None;
    }
    let record = CodeRecord {
        offer: unique.offer.clone(),
        visitor: m.visitor.clone(),
        issued_at: m.created_at,
        expires_at: m.created_at + i64::from(unique.valid_days) * 86_400,
        redeemed_at: None,
    };
    record_code(env, &m.offer_code, &record).await.err().map(|error| Outcome::Retry { status: 0, error })
}

/// A code's object (named `c:<code>`): its record, issued once, verified, redeemed once. Each
/// answer reads and writes storage with nothing else awaited in between, so the object's input
/// gate keeps concurrent redemptions apart: exactly one sees the code valid.
pub async fn object(state: &State, mut req: Request, code: &str) -> Result<Response> {
    let path = req.path();
    if req.method() != Method::Post {
        return json(JsonReply::error(405, "use POST"));
    }
    // Read before storage is: the record's read and write stay together.
    let issued: Option<CodeRecord> = if path == codes::ISSUE { Some(req.json().await?) } else { None };
    let storage = state.storage();
    let stored: Option<String> = storage.get(codes::STORAGE_KEY).await?;
    let record = match stored.as_deref().map(serde_json::from_str::<CodeRecord>) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return json(JsonReply::error(500, format!("code {code}: the stored record does not read: {e}"))),
    };
    let now = now_secs();
    let (status, body) = match (path.as_str(), issued) {
        (codes::ISSUE, Some(new)) => match record {
            Some(kept) => (200, kept.json(code, now)),
            None => {
                storage.put(codes::STORAGE_KEY, serde_json::to_string(&new)?).await?;
                let forget_ms = new.forget_at() as f64 * 1000.0;
                storage.set_alarm(ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(forget_ms)))).await?;
                (200, new.json(code, now))
            }
        },
        (codes::VERIFY, _) => codes::verify_answer(code, record.as_ref(), now),
        (codes::REDEEM, _) => {
            let (status, body, write) = codes::redeem_answer(code, record, now);
            if let Some(redeemed) = write {
                storage.put(codes::STORAGE_KEY, serde_json::to_string(&redeemed)?).await?;
            }
            (status, body)
        }
        _ => return json(JsonReply::error(404, format!("no {path} on a code"))),
    };
    json(JsonReply { status, body: body.to_string() })
}

/// A code object's alarm: its record forgotten once `CodeRecord::forget_at` passed. `false`:
/// not a code's object (a visitor's alarm, theirs to handle).
pub async fn alarm(state: &State) -> Result<bool> {
    let storage = state.storage();
    let stored: Option<String> = storage.get(codes::STORAGE_KEY).await?;
    let Some(stored) = stored else { return Ok(false) };
    match serde_json::from_str::<CodeRecord>(&stored) {
        Ok(record) if now_secs() < record.forget_at() => {
            storage.set_alarm(ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(record.forget_at() as f64 * 1000.0)))).await?;
        }
        // Its time, or unreadable: nothing to keep it for.
        _ => storage.delete_all().await?,
    }
    Ok(true)
}

/// `POST /v1/codes/verify`.
pub async fn verify(req: Request, env: &Env) -> Result<Response> {
    from_store(req, env, codes::VERIFY).await
}

/// `POST /v1/codes/redeem`.
pub async fn redeem(req: Request, env: &Env) -> Result<Response> {
    from_store(req, env, codes::REDEEM).await
}

/// The store's backend asks the code's object (`path`): write key, bounded body, a code shaped
/// as issued; the object's answer as it is.
async fn from_store(mut req: Request, env: &Env, path: &str) -> Result<Response> {
    if req.method() != Method::Post {
        return json(JsonReply::error(405, "use POST"));
    }
    let config = config(env);
    if config.write_key.is_none() {
        return json(JsonReply::error(503, "the codes API is off: set VITRINE_WRITE_KEY (wrangler secret put VITRINE_WRITE_KEY)"));
    }
    if !bearer_matches(req.headers().get("authorization")?.as_deref(), config.write_key.as_deref()) {
        return json(JsonReply::error(401, "Authorization: Bearer <VITRINE_WRITE_KEY> required"));
    }
    let body = match limits::read_body(&mut req, env).await? {
        Ok(body) => body,
        Err(refused) => return Ok(refused),
    };
    let code = match codes::read_request(&body) {
        Ok(code) => code,
        Err(why) => return json(JsonReply::error(400, why)),
    };
    let mut answer = stubs::call(env, &codes::object_key(&code), Method::Post, path, None).await?;
    let status = answer.status_code();
    json(JsonReply { status, body: answer.text().await? })
}
