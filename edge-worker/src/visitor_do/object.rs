//! `VisitorDo`: one Durable Object per visitor key. It only persists state, keeps its alarm at
//! the engine's next wake-up (or the next delivery retry) and carries out effects; every
//! decision is the engine's (`journey::Runner`).
//!
//! Internal API (the worker's stub calls, never exposed as such):
//!
//! ```text
//! POST /events   {"events":[…]}            -> {"accepted":n,"duplicates":d}
//! POST /link     {"to":"u:…"}              fold this visitor into `to`, then forward there
//! POST /absorb   {"from":"a:…","state":{…}} take another visitor's state in
//! POST /sms      {"messageId","body"}       an inbound SMS (STOP, START)
//! GET  /messages                            delivery log, outbox, state (dev mode)
//! ```
//!
//! Durability: an event is acknowledged only after the state it produced is written; messages
//! enter the outbox (written with the state) before any provider request, so a restart resumes
//! delivery with the same idempotency keys instead of deciding again.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use vitrine_engine::journey::{self, Effect, Event, EventKind, Record, Runner, VisitorState};
use vitrine_engine::Value;
use worker::{console_error, console_log, durable_object, js_sys, wasm_bindgen::JsValue, DurableObject, Env, Method, Request, RequestInit, Response, Result, ScheduledTime, State};

use super::batch::phone_key;
use super::outbox::Outbox;
use super::{bundle, link_secret, now_secs, stub};
use crate::messaging::{self, Outcome, Providers};

#[derive(Default)]
struct Memory {
    loaded: bool,
    visitor: VisitorState,
    outbox: Outbox,
    /// Set once this visitor was folded into another (identify): events go there.
    alias: String,
    /// The alarm as last set here (`None`: unknown since start-up).
    alarm: Option<Option<i64>>,
    /// The private profile was looked up (once per wake-up of a known customer's object).
    profile_read: bool,
}

#[durable_object]
pub struct VisitorDo {
    state: State,
    env: Env,
    mem: RefCell<Memory>,
}

#[derive(Deserialize)]
struct EventsBody {
    events: Vec<Value>,
}

#[derive(Deserialize)]
struct LinkBody {
    to: String,
}

#[derive(Serialize, Deserialize)]
struct AbsorbBody {
    from: String,
    state: VisitorState,
}

#[derive(Deserialize)]
struct SmsBody {
    #[serde(rename = "messageId")]
    message_id: String,
    body: String,
}

/// Everything an object keeps, under one storage key: one read to wake up, one atomic write
/// per batch. Stored as a JSON string (64-bit hashes stay exact; no JS number rounding).
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct Stored {
    visitor: VisitorState,
    outbox: Outbox,
    alias: String,
}

#[derive(Serialize)]
struct StoredRef<'a> {
    visitor: &'a VisitorState,
    outbox: &'a Outbox,
    alias: &'a str,
}

const STORAGE_KEY: &str = "record";

impl DurableObject for VisitorDo {
    fn new(state: State, env: Env) -> Self {
        VisitorDo { state, env, mem: RefCell::new(Memory::default()) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let key = req.headers().get(super::KEY_HEADER)?.unwrap_or_default();
        self.load(&key).await?;
        let path = req.path();
        let alias = self.mem.borrow().alias.clone();
        if !alias.is_empty() && path != "/link" {
            // Folded into the customer: their object answers for this visitor now.
            return forward(&self.env, &alias, req).await;
        }
        let resp = match (req.method(), path.as_str()) {
            (Method::Post, "/events") => {
                let body: EventsBody = read_json(&mut req).await?;
                self.events(body.events).await
            }
            (Method::Post, "/link") => {
                let body: LinkBody = read_json(&mut req).await?;
                self.link(&key, body.to).await
            }
            (Method::Post, "/absorb") => {
                let body: AbsorbBody = read_json(&mut req).await?;
                self.absorb(body).await
            }
            (Method::Post, "/sms") => {
                let body: SmsBody = read_json(&mut req).await?;
                let e = Event { message_id: body.message_id, anonymous_id: String::new(), user_id: String::new(), utc_offset_minutes: None, kind: EventKind::SmsReply { body: body.body } };
                self.apply(vec![e]).await
            }
            (Method::Get, "/messages") => {
                let m = self.mem.borrow();
                Response::from_json(&serde_json::json!({
                    "visitor": m.visitor.id,
                    "alias": m.alias,
                    "messages": m.outbox.log,
                    "pending": m.outbox.pending,
                    "state": m.visitor,
                }))
            }
            _ => Response::error("not found", 404),
        }?;
        self.schedule().await?;
        Ok(resp)
    }

    async fn alarm(&self) -> Result<Response> {
        self.load("").await?;
        self.mem.borrow_mut().alarm = Some(None); // it fired
        let now = now_secs();
        let journeys = bundle(&self.env).await;
        match link_secret(&self.env) {
            Some(secret) => {
                let fx = {
                    let mut m = self.mem.borrow_mut();
                    let fx = Runner::new(journeys.body(), &secret).on_alarm(&mut m.visitor, now);
                    for e in &fx {
                        if let Effect::Send(msg) = e {
                            m.outbox.push((**msg).clone(), now);
                        }
                    }
                    fx
                };
                self.log_records(&fx);
                self.persist().await?;
            }
            None => console_error!("vitrine: LINK_SECRET is not set: journeys wait until it is"),
        }
        self.deliver(now).await?;
        self.schedule().await?;
        Response::ok("")
    }
}

impl VisitorDo {
    async fn load(&self, key: &str) -> Result<()> {
        if self.mem.borrow().loaded {
            return Ok(());
        }
        let stored: Option<String> = self.state.storage().get(STORAGE_KEY).await?;
        let mut m = self.mem.borrow_mut();
        if m.loaded {
            return Ok(()); // another request loaded it meanwhile
        }
        let stored: Stored = match stored {
            Some(json) => serde_json::from_str(&json).map_err(|e| worker::Error::RustError(format!("stored visitor does not load: {e}")))?,
            None => Stored { visitor: VisitorState::new(key), ..Stored::default() },
        };
        m.visitor = stored.visitor;
        if m.visitor.id.is_empty() {
            m.visitor.id = key.into();
        }
        m.outbox = stored.outbox;
        m.alias = stored.alias;
        m.loaded = true;
        let cut = m.outbox.interrupted(now_secs());
        drop(m);
        if !cut.is_empty() {
            for a in &cut {
                console_error!("vitrine delivery {}", serde_json::json!({ "journey": a.journey, "step": a.step, "channel": a.channel, "key": a.key, "attempt": a.attempt, "result": a.outcome }));
            }
            self.persist().await?;
        }
        Ok(())
    }

    /// Writes state, outbox and alias together, atomically.
    async fn persist(&self) -> Result<()> {
        let json = {
            let m = self.mem.borrow();
            serde_json::to_string(&StoredRef { visitor: &m.visitor, outbox: &m.outbox, alias: &m.alias })?
        };
        self.state.storage().put(STORAGE_KEY, json).await
    }

    async fn events(&self, raw: Vec<Value>) -> Result<Response> {
        let mut events = Vec::with_capacity(raw.len());
        for v in &raw {
            // Checked by the worker already; a refusal here means a caller skipped the check.
            match journey::parse(v, 0) {
                Ok(e) => events.push(e),
                Err(r) => return Response::error(format!("refused: {r}"), 400),
            }
        }
        self.apply(events).await
    }

    async fn apply(&self, mut events: Vec<Event>) -> Result<Response> {
        self.enrich_from_profile(&mut events).await;
        let now = now_secs();
        let journeys = bundle(&self.env).await;
        let secret = link_secret(&self.env).unwrap_or_default();
        let (fx, duplicates, new_phone) = {
            let mut m = self.mem.borrow_mut();
            let runner = Runner::new(journeys.body(), &secret);
            let phone_before = m.visitor.profile.phone.clone();
            let mut fx = Vec::new();
            for e in &events {
                fx.extend(runner.handle(&mut m.visitor, e, now));
            }
            let duplicates = fx.iter().filter(|e| matches!(e, Effect::Record(Record::Duplicate { .. }))).count();
            let phone = m.visitor.profile.phone.clone();
            (fx, duplicates, (phone != phone_before && !phone.is_empty()).then_some(phone))
        };
        self.log_records(&fx);
        self.persist().await?;
        if let Some(phone) = new_phone {
            // Index the number, so an inbound STOP finds this visitor.
            let own = self.mem.borrow().visitor.id.clone();
            if let Err(e) = call(&self.env, &phone_key(&phone), "/link", &serde_json::json!({ "to": own })).await {
                console_error!("vitrine: indexing a phone number failed: {e}");
            }
        }
        Response::from_json(&serde_json::json!({ "accepted": events.len() - duplicates, "duplicates": duplicates }))
    }

    /// A known customer's identify gets what their private profile knows (typical gap between
    /// orders, last order), so win-back can count from their real history.
    async fn enrich_from_profile(&self, events: &mut [Event]) {
        let user = {
            let m = self.mem.borrow();
            if m.profile_read || m.visitor.profile.typical_gap_days.is_some() {
                return;
            }
            m.visitor.id.strip_prefix("u:").unwrap_or_default().to_string()
        };
        let Some(t) = events.iter_mut().find_map(|e| match &mut e.kind {
            EventKind::Identify(t) if !user.is_empty() => Some(t),
            _ => None,
        }) else {
            return;
        };
        self.mem.borrow_mut().profile_read = true;
        let Some(key) = crate::profile::profile_key(&user) else { return };
        let json = match self.env.kv("PROFILES") {
            Ok(kv) => kv.get(&key).text().await.unwrap_or_else(|e| {
                console_error!("vitrine: reading PROFILES/{key} failed: {e}");
                None
            }),
            Err(_) => None, // no profile store bound: journeys go by events alone
        };
        if let Some(p) = json.as_deref().and_then(super::profile_traits) {
            t.typical_gap_days = t.typical_gap_days.or(p.typical_gap_days);
            t.last_order_at = t.last_order_at.or(p.last_order_at);
            t.first_name = t.first_name.take().or(p.first_name);
        }
    }

    /// Identify: fold this (anonymous) visitor into `to` — state first, then the alias, so a
    /// crash in between re-sends the state (absorbing is idempotent) rather than losing it.
    async fn link(&self, own: &str, to: String) -> Result<Response> {
        if self.mem.borrow().alias == to || own == to {
            return Response::ok("already linked");
        }
        let state = {
            let m = self.mem.borrow();
            (!m.visitor.seen.is_empty() || !m.visitor.cart.is_empty()).then(|| m.visitor.clone())
        };
        if let Some(state) = state {
            let mut resp = call(&self.env, &to, "/absorb", &AbsorbBody { from: own.into(), state }).await?;
            if resp.status_code() != 200 {
                return Response::error(format!("absorb failed: {}", resp.text().await?), 503);
            }
        }
        {
            let mut m = self.mem.borrow_mut();
            m.alias = to;
            m.visitor.runs.clear();
            m.visitor.alarm = None;
        }
        self.persist().await?;
        Response::ok("linked")
    }

    async fn absorb(&self, body: AbsorbBody) -> Result<Response> {
        let journeys = bundle(&self.env).await;
        let secret = link_secret(&self.env).unwrap_or_default();
        let fx = {
            let mut m = self.mem.borrow_mut();
            let _ = &body.from; // the engine dedupes on the absorbed state's id
            Runner::new(journeys.body(), &secret).absorb(&mut m.visitor, &body.state, now_secs())
        };
        self.log_records(&fx);
        self.persist().await?;
        Response::ok("absorbed")
    }

    /// Delivers every outbox message due at `now`, writing each outcome before the next.
    async fn deliver(&self, now: i64) -> Result<()> {
        let providers = Providers::from_vars(|k| super::var(&self.env, k));
        loop {
            let Some(pending) = self.mem.borrow().outbox.due(now).cloned() else { break };
            let m = &pending.message;
            let outcome = match messaging::request(m, &providers, now) {
                Err(e) => Outcome::Failed { status: 0, error: e.to_string() },
                Ok(req) => match {
                    // Durable before the request leaves: a crash from here on cannot resend it.
                    self.mem.borrow_mut().outbox.begin(&m.idempotency_key);
                    self.persist().await?;
                    messaging::send(&req).await
                } {
                    Ok((status, body, id)) => messaging::outcome(status, &body, id.as_deref()),
                    Err(e) => Outcome::Retry { status: 0, error: e },
                },
            };
            let attempt = self.mem.borrow_mut().outbox.settle(&m.idempotency_key, outcome, now_secs(), providers.retry);
            if let Some(a) = attempt {
                console_log!("vitrine delivery {}", serde_json::json!({ "visitor": m.visitor, "journey": a.journey, "step": a.step, "channel": a.channel, "key": a.key, "attempt": a.attempt, "result": a.outcome }));
            }
            self.persist().await?;
        }
        Ok(())
    }

    /// Keeps the alarm at the earliest of the engine's wake-up and the next delivery.
    async fn schedule(&self) -> Result<()> {
        let (want, known) = {
            let m = self.mem.borrow();
            let want = match (m.visitor.alarm, m.outbox.next_wake()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            (want, m.alarm)
        };
        let storage = self.state.storage();
        let current = match known {
            Some(c) => c,
            None => storage.get_alarm().await?.map(|ms| ms / 1000),
        };
        // An alarm at or before the wanted time stays: waking early is harmless (`on_alarm`
        // finds nothing due and sets the next one), and most events only move the wake-up
        // later (the cart clock restarts), so this saves a storage write per event.
        let keep = matches!((current, want), (Some(c), Some(w)) if c <= w) || want.is_none();
        if !keep {
            let t = want.expect("keep covers None");
            storage.set_alarm(ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(t as f64 * 1000.0)))).await?;
        }
        self.mem.borrow_mut().alarm = Some(if keep { current } else { want });
        Ok(())
    }

    fn log_records(&self, fx: &[Effect]) {
        let id = &self.mem.borrow().visitor.id;
        for e in fx {
            if let Effect::Record(r) = e {
                if !matches!(r, Record::Duplicate { .. }) {
                    console_log!("vitrine journey {id}: {r}");
                }
            }
        }
    }
}

/// Parses a JSON body with serde_json: going through JS numbers would round the 64-bit
/// messageId hashes in a visitor's state.
async fn read_json<T: serde::de::DeserializeOwned>(req: &mut Request) -> Result<T> {
    serde_json::from_str(&req.text().await?).map_err(|e| worker::Error::RustError(format!("bad internal request: {e}")))
}

/// Calls another visitor's object with a JSON body.
async fn call(env: &Env, key: &str, path: &str, body: &impl Serialize) -> Result<Response> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(JsValue::from_str(&serde_json::to_string(body)?)));
    let req = Request::new_with_init(&format!("https://visitor{path}"), &init)?;
    req.headers().set(super::KEY_HEADER, key)?;
    stub(env, key)?.fetch_with_request(req).await
}

async fn forward(env: &Env, key: &str, mut req: Request) -> Result<Response> {
    let mut init = RequestInit::new();
    init.with_method(req.method());
    if req.method() == Method::Post {
        init.with_body(Some(JsValue::from_str(&req.text().await?)));
    }
    let out = Request::new_with_init(&format!("https://visitor{}", req.path()), &init)?;
    out.headers().set(super::KEY_HEADER, key)?;
    stub(env, key)?.fetch_with_request(out).await
}
