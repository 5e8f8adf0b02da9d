//! `VisitorDo`: one Durable Object per visitor key. It reads and writes its storage, calls
//! other objects and providers, and keeps its alarm; what each request or alarm does to the
//! visitor is `vitrine_edge::visitor_do::VisitorObject`'s (and every journey decision the
//! engine's).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use vitrine_edge::events;
use vitrine_edge::messaging::{self, Outcome};
use vitrine_edge::visitor_do::{
    attempt_line, AbsorbBody, ConfirmedBody, ContactAnswer, ContactBody, ContactRecord, EventsBody, FeedbackBody, Incoming, LinkBody, LinkStep, MeasureBody,
    Oversize, ReserveBody, SmsBody, Tally, VisitorObject, ABSORB, CONFIRMED, CONTACT, ERASE, EVENTS, EXPORT, FEEDBACK, KEY_HEADER, LINK, MEASURE, MESSAGES,
    RESERVE, SMS, STORAGE_KEY,
};
use vitrine_engine::bundle::BundleBody;
use vitrine_engine::journey::{Channel, Effect, Event, EventKind, Message};
use vitrine_engine::measure::Record as MeasureRecord;
use vitrine_engine::Engine;
use worker::{
    console_error, console_log, console_warn, durable_object, js_sys, wasm_bindgen::JsValue, DurableObject, Env, Method, Request, Response, Result,
    ScheduledTime, State,
};

use crate::bundle::serving;
use crate::env::{config, now_secs};
use crate::faults;
use crate::measure;
use crate::outbound;
use crate::stubs;
use crate::visitor::{is_erased, stored_profile};
use vitrine_edge::kv::{profile_key, PROFILES};
use vitrine_edge::live::{self, LiveOrder, Rescored};
use vitrine_edge::profile_line::ProfileLine;

#[durable_object]
pub struct VisitorDo {
    state: State,
    env: Env,
    /// `None` until the first request or alarm loads it.
    mem: RefCell<Option<VisitorObject>>,
    /// The measurement outbox is being sent (one send at a time).
    flushing: Cell<bool>,
}

/// The bundle the journeys come from: the one the worker serves (same KV, same checks), if one
/// truly loaded. Without one (none published, KV failing in a cold isolate, every version
/// refused) journeys do not run against an empty stand-in: events are held, runs are kept, and
/// the alarm retries (`VisitorObject::hold`, `wait`).
struct Journeys {
    engine: Option<Rc<Engine>>,
}

impl Journeys {
    fn loaded(&self) -> Option<&BundleBody> {
        self.engine.as_deref().map(Engine::body)
    }
}

const NO_BUNDLE: &str = "no bundle loaded (KV BUNDLES unreadable, or bundle:current missing or refused)";

async fn journeys(env: &Env) -> Journeys {
    Journeys { engine: serving(env, &config(env)).await.map(|l| l.value) }
}

/// What a change could not do: the write failed (an error, answered 5xx), or the record would
/// be over its byte limit (answered 507 with the limit).
enum Refusal {
    Failed(worker::Error),
    Oversize(Oversize),
}

impl From<worker::Error> for Refusal {
    fn from(e: worker::Error) -> Self {
        Refusal::Failed(e)
    }
}

fn oversize(o: Oversize) -> Result<Response> {
    Ok(Response::from_json(&o.json())?.with_status(507))
}

/// The channel and address a contact object's key names (`p:<E.164>`, `e:<email>`).
fn contact_of(key: &str) -> (Channel, &str) {
    match key.strip_prefix("e:") {
        Some(email) => (Channel::Email, email),
        None => (Channel::Sms, key.trim_start_matches("p:")),
    }
}

fn internal(e: String) -> worker::Error {
    worker::Error::RustError(e)
}

/// Parses a JSON body with serde_json: going through JS numbers would round the 64-bit
/// messageId hashes in a visitor's state.
async fn read_json<T: serde::de::DeserializeOwned>(req: &mut Request) -> Result<T> {
    serde_json::from_str(&req.text().await?).map_err(|e| internal(format!("bad internal request: {e}")))
}

impl DurableObject for VisitorDo {
    fn new(state: State, env: Env) -> Self {
        VisitorDo { state, env, mem: RefCell::new(None), flushing: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let key = req.headers().get(KEY_HEADER)?.unwrap_or_default();
        if let Some(code) = key.strip_prefix(vitrine_edge::codes::KEY_PREFIX) {
            // A unique offer code's object: its own record, none of a visitor's.
            return crate::codes::object(&self.state, req, code).await;
        }
        if vitrine_edge::watch::is_watch_key(&key) {
            // A product's watchers, or the catalog fan-out's coordinator (watch.rs).
            return crate::watch::object(&self.state, &self.env, req, &key).await;
        }
        self.load(&key).await?;
        let path = req.path();
        let forward = self.with(|o| o.forward_to(&path).map(str::to_string));
        if let Some(alias) = forward {
            // Folded into the customer: their object answers for this visitor now.
            let body = if req.method() == Method::Post { Some(req.text().await?) } else { None };
            return stubs::call(&self.env, &alias, req.method(), &path, body).await;
        }
        let resp = match (req.method(), path.as_str()) {
            (Method::Post, EVENTS) => {
                let body: EventsBody = read_json(&mut req).await?;
                match VisitorObject::parse_events(&body.events) {
                    Ok(_) => {
                        let incoming = if body.server { Incoming::Server } else { Incoming::Event };
                        self.receive(body.events.into_iter().map(incoming).collect(), body.records).await
                    }
                    Err(reason) => Response::error(reason, 400),
                }
            }
            (Method::Post, LINK) => {
                let body: LinkBody = read_json(&mut req).await?;
                self.link(&key, body.to).await
            }
            (Method::Post, ABSORB) => {
                let body: AbsorbBody = read_json(&mut req).await?;
                let config = config(&self.env);
                let secret = match config.journey_key() {
                    Ok(k) => k,
                    Err(why) => return Response::error(why, 503),
                };
                let journeys = journeys(&self.env).await;
                let Some(bundle) = journeys.loaded() else {
                    // The visitor being folded in keeps its state and retries (its /link fails).
                    return Response::error(NO_BUNDLE, 503);
                };
                let fx = self
                    .persist_change(|o| {
                        let now = now_secs();
                        let fx = o.absorb(bundle, secret, &body.state, now);
                        o.record_journeys(bundle, &fx, config.measure_key(), now);
                        fx
                    })
                    .await?;
                self.log_records(&fx);
                Response::ok("absorbed")
            }
            (Method::Post, SMS) if key.starts_with("p:") => {
                let body: SmsBody = read_json(&mut req).await?;
                self.number_replied(body).await
            }
            (Method::Post, SMS) => {
                let body: SmsBody = read_json(&mut req).await?;
                self.receive(vec![Incoming::Sms { message_id: body.message_id, body: body.body, channel: body.channel }], Vec::new()).await
            }
            (Method::Post, CONTACT) => {
                let body: ContactBody = read_json(&mut req).await?;
                let now = now_secs();
                // Erased once, after it said STOP: it stays stopped.
                let tombstone = self.with(|o| o.contact.is_none()) && self.tombstone(&key).await;
                let answer = self
                    .persist_change(|o| {
                        if tombstone && o.contact.is_none() {
                            o.contact = Some(ContactRecord { suppressed: true, changed_at: now, ..ContactRecord::default() });
                        }
                        o.contact.get_or_insert_with(ContactRecord::default).register(&body, now)
                    })
                    .await?;
                if answer.send_confirmation {
                    let (channel, address) = contact_of(&key);
                    self.send_confirmation(channel, address, now).await;
                }
                Response::from_json(&answer)
            }
            (Method::Post, CONFIRMED) if key.starts_with("e:") || key.starts_with("p:") => {
                // The contact's owner confirmed (the email's link): every visitor of it hears.
                let (channel, address) = contact_of(&key);
                let visitors = self
                    .persist_change(|o| {
                        let c = o.contact.get_or_insert_with(ContactRecord::default);
                        c.verified = true;
                        c.visitors.clone()
                    })
                    .await?;
                if let Err(failed) = self.tell_visitors(&visitors, CONFIRMED, &ConfirmedBody { channel, address: address.into() }).await? {
                    return Ok(failed);
                }
                Response::from_json(&serde_json::json!({ "visitors": visitors.len() }))
            }
            (Method::Post, RESERVE) if key.starts_with("e:") || key.starts_with("p:") => {
                let body: ReserveBody = read_json(&mut req).await?;
                let ok = self.persist_change(|o| o.contact.get_or_insert_with(ContactRecord::default).reserve(&body.key, body.max_per_day, now_secs())).await?;
                Response::from_json(&serde_json::json!({ "ok": ok }))
            }
            (Method::Post, FEEDBACK) if key.starts_with("e:") || key.starts_with("p:") => {
                // A provider's report (a bounce, a complaint, a dead number): a suppressing one
                // silences the contact for every visitor of it, as a STOP does.
                let body: FeedbackBody = read_json(&mut req).await?;
                match self.take_feedback(contact_of(&key).0, &body).await? {
                    Ok((visitors, suppressed)) => Response::from_json(&serde_json::json!({ "visitors": visitors, "suppressed": suppressed })),
                    Err(failed) => Ok(failed),
                }
            }
            (Method::Post, CONFIRMED) => {
                // A welcome series may start now: it needs the loaded bundle. Without one the
                // contact's object answers 503 and the confirmation link's page says to try
                // again (the contact stays confirmed there; confirming twice changes nothing).
                let body: ConfirmedBody = read_json(&mut req).await?;
                let config = config(&self.env);
                let journeys = journeys(&self.env).await;
                let (secret, bundle) = match (config.journey_key(), journeys.loaded()) {
                    (Ok(secret), Some(bundle)) => (secret, bundle),
                    (Err(why), _) => return Response::error(why, 503),
                    (_, None) => return Response::error(NO_BUNDLE, 503),
                };
                let fx = self
                    .persist_change(|o| {
                        let now = now_secs();
                        let fx = o.confirmed(bundle, secret, body.channel, &body.address, now);
                        o.record_journeys(bundle, &fx, config.measure_key(), now);
                        fx
                    })
                    .await?;
                self.log_records(&fx);
                Response::ok("confirmed")
            }
            (Method::Post, MEASURE) => {
                // A page's exposures the queue did not take: kept until it does.
                // A message's click or open is noted for the journey's next steps either way.
                let body: MeasureBody = read_json(&mut req).await?;
                let key = config(&self.env).measurement_key.clone();
                let n = if key.is_some() { body.records.len() } else { 0 };
                let engaged = self
                    .persist_change(|o| {
                        let engaged = o.note_engagement(&body.records);
                        if let Some(k) = &key {
                            o.add_records(body.records, k, now_secs());
                        }
                        engaged
                    })
                    .await?;
                match key {
                    None if engaged == 0 => Response::error("MEASUREMENT_KEY is not set: nothing is recorded", 503),
                    _ => Response::from_json(&serde_json::json!({ "kept": n, "engaged": engaged })),
                }
            }
            (Method::Post, vitrine_edge::watch::CATALOG) => {
                // A publish changed products this visitor carted or watches (watch.rs).
                let notice: vitrine_edge::watch::CatalogNotice = read_json(&mut req).await?;
                self.catalog_changed(notice).await
            }
            (Method::Get, MESSAGES) => Response::from_json(&self.with(|o| o.messages_json())),
            (Method::Get, EXPORT) => Response::from_json(&self.with(|o| o.export_json())),
            (Method::Post, ERASE) => {
                // A contact that said STOP leaves a hashed tombstone (admin.rs writes it).
                let suppressed = self.with(|o| o.contact.as_ref().is_some_and(|c| c.suppressed));
                let related = self.erase(&key).await?;
                Response::from_json(&serde_json::json!({ "erased": key, "related": related, "suppressed": suppressed }))
            }
            _ => Response::error("not found", 404),
        }?;
        self.flush_measure().await;
        if self.mem.borrow().is_some() {
            // (None: the outbox's write failed; the next request reloads and schedules.)
            self.schedule().await?;
        }
        Ok(resp)
    }

    async fn alarm(&self) -> Result<Response> {
        if crate::codes::alarm(&self.state).await? {
            return Response::ok(""); // a unique code's object, forgetting its record
        }
        if crate::watch::alarm(&self.state, &self.env).await? {
            return Response::ok(""); // a catalog object: the fan-out's next batch, or forgetting
        }
        self.load("").await?;
        let now = now_secs();
        if self.with(|o| o.is_expired(now, config(&self.env).retention_secs)) {
            let key = self.with(|o| o.visitor.id.clone());
            self.erase(&key).await?;
            console_log!("vitrine: {key} erased after RETENTION_DAYS without activity");
            return Response::ok("");
        }
        self.with(|o| o.alarm_is(None)); // it fired
        self.flush_measure().await;
        if self.mem.borrow().is_none() {
            return Err(internal("a measurement outbox write failed: the alarm runs again".into()));
        }
        let config = config(&self.env);
        let journeys = journeys(&self.env).await;
        match (config.journey_key(), journeys.engine.as_deref()) {
            (Ok(secret), Some(engine)) => {
                let bundle = engine.body();
                self.with(VisitorObject::ran);
                if self.with(|o| !o.held.is_empty()) {
                    // Events held while no bundle was loaded run first, at their own times.
                    match self.run_events(engine, secret, Vec::new(), Vec::new(), now).await {
                        Ok(_) => {}
                        Err(Refusal::Failed(e)) => return Err(e),
                        // Kept, and tried again after a wait (not at once, forever).
                        Err(Refusal::Oversize(o)) => console_error!("{}", self.with(|v| v.wait(&format!("held events not run: {}", o.reason()), now))),
                    }
                }
                let fx = self
                    .persist_change(|o| {
                        let fx = o.on_alarm(bundle, secret, now);
                        o.record_journeys(bundle, &fx, config.measure_key(), now);
                        fx
                    })
                    .await?;
                self.log_records(&fx);
                self.deliver(now, bundle).await?;
                // What the run and the deliveries recorded (entered, sent) goes now, not a retry later.
                self.flush_measure().await;
                if self.mem.borrow().is_none() {
                    return Err(internal("a measurement outbox write failed: the alarm runs again".into()));
                }
            }
            // Runs, outbox and held events stay as they are; the alarm backs off (one log line
            // per wait). Delivery waits too: the daily cap is the bundle's.
            (Err(why), _) => console_error!("{}", self.with(|o| o.wait(why, now))),
            (_, None) => console_warn!("{}", self.with(|o| o.wait(NO_BUNDLE, now))),
        }
        self.schedule().await?;
        Response::ok("")
    }
}

impl VisitorDo {
    fn with<T>(&self, f: impl FnOnce(&mut VisitorObject) -> T) -> T {
        f(self.mem.borrow_mut().as_mut().expect("loaded before use"))
    }

    async fn load(&self, key: &str) -> Result<()> {
        if self.mem.borrow().is_some() {
            return Ok(());
        }
        let stored: Option<String> = self.state.storage().get(STORAGE_KEY).await?;
        if self.mem.borrow().is_some() {
            return Ok(()); // another request loaded it meanwhile
        }
        let (object, cut) = VisitorObject::load(stored.as_deref(), key, now_secs()).map_err(internal)?;
        let id = object.visitor.id.clone();
        *self.mem.borrow_mut() = Some(object);
        if !cut.is_empty() {
            // Attempts a crash cut off, settled: if this write fails the object is dropped and
            // settles them again on its next load.
            for a in &cut {
                console_error!("{}", attempt_line(&id, a));
            }
            self.persist_change(|_| ()).await?;
        }
        Ok(())
    }

    /// Erases everything this object keeps (state, outbox, alias, alarm); it answers as a new,
    /// empty visitor afterwards. Returns the other keys that held this visitor's data.
    async fn erase(&self, key: &str) -> Result<Vec<String>> {
        let related = self.with(|o| o.related_keys());
        let storage = self.state.storage();
        storage.delete_alarm().await?;
        storage.delete_all().await?;
        let (fresh, _) = VisitorObject::load(None, key, now_secs()).map_err(internal)?;
        *self.mem.borrow_mut() = Some(fresh);
        self.with(|o| o.alarm_is(None));
        Ok(related)
    }

    /// Makes a change and writes it (state, outbox and alias together, atomically); the object
    /// takes the change in only once the write succeeded. The change runs on a copy, with no
    /// await between it and the write (the input gate holds other events meanwhile). After a
    /// failed write the object reloads from storage on its next event.
    async fn change<T>(&self, change: impl FnOnce(&mut VisitorObject) -> T) -> std::result::Result<T, Refusal> {
        let faults = faults::current(&self.env).await; // before the copy: no await in between
        let staged = self.with(|o| o.stage(change)).map_err(Refusal::Oversize)?;
        let written = if faults.storage_write {
            Err(internal("fault:storage-write (dev mode): the storage write failed".into()))
        } else {
            self.state.storage().put(STORAGE_KEY, staged.json()).await
        };
        match written {
            Ok(()) => Ok(self.with(|o| o.commit(staged))),
            Err(e) => {
                console_error!("vitrine: writing a visitor failed, nothing of the change kept: {e}");
                *self.mem.borrow_mut() = None;
                Err(Refusal::Failed(e))
            }
        }
    }

    /// [`change`](Self::change) where going over the byte limit is an error like any other.
    async fn persist_change<T>(&self, change: impl FnOnce(&mut VisitorObject) -> T) -> Result<T> {
        self.change(change).await.map_err(|r| match r {
            Refusal::Failed(e) => e,
            Refusal::Oversize(o) => internal(o.reason()),
        })
    }

    /// Events (or an inbound SMS) for the journeys: run now against the loaded bundle, or held
    /// until one loads. Answered once stored; 507 when the record would be over its limit.
    async fn receive(&self, incoming: Vec<Incoming>, records: Vec<MeasureRecord>) -> Result<Response> {
        let config = config(&self.env);
        let secret = match config.journey_key() {
            Ok(k) => k,
            Err(why) => {
                console_error!("vitrine: {why}");
                return Response::error(why, 503);
            }
        };
        let now = now_secs();
        let journeys = journeys(&self.env).await;
        let tally = match journeys.engine.as_deref() {
            Some(engine) => {
                self.with(VisitorObject::ran);
                self.run_events(engine, secret, incoming, records, now).await
            }
            None => {
                let stage = |o: &mut VisitorObject| {
                    let held = o.hold(incoming, now);
                    if held.is_ok() {
                        o.add_records(records, config.measure_key(), now);
                    }
                    held
                };
                let held = match self.change(stage).await {
                    Ok(Ok(tally)) => Ok(tally),
                    Ok(Err(full)) => return Response::error(full, 503),
                    Err(r) => Err(r),
                };
                if held.is_ok() && !self.with(|o| o.waiting(now)) {
                    console_warn!("{}", self.with(|o| o.wait(NO_BUNDLE, now)));
                }
                held
            }
        };
        match tally {
            Ok(t) => Response::from_json(&serde_json::json!({ "accepted": t.accepted, "duplicates": t.duplicates })),
            Err(Refusal::Oversize(o)) => oversize(o),
            Err(Refusal::Failed(e)) => Err(e),
        }
    }

    /// Runs the held events, then `incoming`, against a loaded bundle; writes the result, then
    /// tells contacts' objects what they need to know.
    async fn run_events(
        &self,
        engine: &Engine,
        secret: &[u8],
        incoming: Vec<Incoming>,
        records: Vec<MeasureRecord>,
        now: i64,
    ) -> std::result::Result<Tally, Refusal> {
        let bundle = engine.body();
        let held = self.with(|o| o.held.clone());
        let orders = self.with(|o| o.live_orders(held.iter().map(|h| &h.incoming).chain(&incoming)));
        let country = config(&self.env).country;
        let mut replay = Vec::new();
        for h in &held {
            match h.incoming.parse() {
                Ok(e) => replay.push((h.at, e)),
                Err(why) => console_error!("vitrine: a held event no longer parses, dropped: {why}"),
            }
        }
        let mut fresh = incoming.iter().map(Incoming::parse).collect::<std::result::Result<Vec<Event>, String>>().map_err(internal)?;
        for (_, e) in replay.iter_mut() {
            for why in VisitorObject::normalize_contacts(core::slice::from_mut(e), country) {
                console_warn!("vitrine: {why}: not kept");
            }
        }
        for why in VisitorObject::normalize_contacts(&mut fresh, country) {
            console_warn!("vitrine: {why}: not kept");
        }
        let mut all: Vec<Event> = replay.iter().map(|(_, e)| e.clone()).chain(fresh.iter().cloned()).collect();
        let mut stored = None;
        if let Some(customer) = self.with(|o| o.profile_to_read(&all)) {
            stored = stored_profile(&self.env, &customer).await;
            if let Some(line) = &stored {
                // The first identify, held or new, gets what the private profile knows.
                self.with(|o| o.enrich(&mut all, line));
                let (replayed, new) = all.split_at(replay.len());
                for ((_, e), enriched) in replay.iter_mut().zip(replayed) {
                    e.clone_from(enriched);
                }
                fresh = new.to_vec();
            }
        }
        // The backend's orders re-score the customer's profile now, not at the next build.
        let rescored = match self.with(|o| o.customer_id().map(str::to_string)) {
            Some(customer) if !orders.is_empty() => self.rescore(engine, &customer, stored, &orders, now).await,
            _ => None,
        };
        if let Some(identify) = rescored.as_ref().and_then(|r| self.with(|o| o.rescored_identify(r, &orders, now))) {
            fresh.push(identify);
        }
        // Every held event is taken, parsed or not (one that no longer parses never will).
        let taken = held.len();
        // The events' measurement records go in the same write as the events.
        let config = config(&self.env);
        let key = config.measure_key();
        let interests_before = self.with(|o| vitrine_edge::watch::interests(&o.visitor, now));
        let applied = self
            .change(|o| {
                o.add_records(records, key, now);
                if let Some(r) = &rescored {
                    o.rescored(r, &orders);
                }
                let applied = o.run(bundle, secret, taken, &replay, &fresh, now);
                o.record_journeys(bundle, &applied.effects, key, now);
                applied
            })
            .await?;
        self.log_records(&applied.effects);
        // Products newly carted or asked about: their watch index learns this visitor.
        let (visitor, interests) = self.with(|o| (o.visitor.id.clone(), vitrine_edge::watch::interests(&o.visitor, now)));
        crate::watch::index(&self.env, &visitor, &vitrine_edge::watch::added(&interests_before, &interests)).await;
        for (channel, address) in applied.contacts {
            // The contact's object learns this visitor uses it (a STOP reaches everyone who gave
            // it; it asks for a confirmation when due); a contact that opted out is silenced here
            // at once.
            if self.register_contact(bundle, secret, channel, &address).await? {
                let silence = Event {
                    message_id: format!("suppressed-{}", events::contact_key(channel, &address)),
                    anonymous_id: String::new(),
                    user_id: String::new(),
                    utc_offset_minutes: None,
                    time_zone: None,
                    kind: EventKind::Consent { changes: vec![(channel, false)], push_token: None },
                };
                let fx = self
                    .change(|o| {
                        let fx = o.apply(bundle, secret, &[silence], now_secs()).effects;
                        o.record_journeys(bundle, &fx, key, now_secs());
                        fx
                    })
                    .await?;
                self.log_records(&fx);
            }
        }
        Ok(Tally { accepted: applied.accepted, duplicates: applied.duplicates })
    }

    /// The customer's profile after the backend's `orders`, scored as the build would with the
    /// bundle's customer model (on the data's clock), and written to KV `profile:<id>` for the
    /// next page's cookie and the next object's read. None for an erased customer (a late order
    /// must not bring their profile back) or when nothing could be read: the next build has it.
    async fn rescore(&self, engine: &Engine, customer: &str, stored: Option<ProfileLine>, orders: &[LiveOrder], now: i64) -> Option<Rescored> {
        if is_erased(&self.env, customer).await {
            console_warn!("vitrine: an order for erased customer {customer}: their profile stays erased");
            return None;
        }
        let stored = match stored {
            Some(line) => Some(line),
            None => stored_profile(&self.env, customer).await,
        };
        let Some(model) = &engine.body().stats.customer_model else {
            console_warn!("vitrine: the serving bundle has no customer model (format v9): the order reaches {customer}'s profile at the next build");
            return None;
        };
        let rescored = live::after_orders(stored.as_ref(), customer, model, orders, engine.data_time(now));
        let (Some(key), Ok(kv)) = (profile_key(customer), self.env.kv(PROFILES)) else { return Some(rescored) };
        let written = async { kv.put(&key, rescored.line.to_json())?.execute().await };
        if let Err(e) = written.await {
            // The journeys still take the new traits; the page's cookie waits for the next build.
            console_error!("vitrine: writing {PROFILES}/{key} after an order failed: {e}");
        }
        Some(rescored)
    }

    /// A publish changed products this visitor carted or watches: its catalog journeys start
    /// (their messages go when the alarm runs them). Without a loaded bundle or `LINK_SECRET`,
    /// 503: the shard tries again later.
    async fn catalog_changed(&self, notice: vitrine_edge::watch::CatalogNotice) -> Result<Response> {
        let config = config(&self.env);
        let secret = match config.journey_key() {
            Ok(k) => k,
            Err(why) => return Response::error(why, 503),
        };
        let journeys = journeys(&self.env).await;
        let Some(bundle) = journeys.loaded() else { return Response::error(NO_BUNDLE, 503) };
        let now = now_secs();
        // A stale index entry (the product left the cart, the visitor was erased): nothing to
        // write, and no record made for an object that has none.
        if !self.with(|o| vitrine_edge::watch::concerns(&o.visitor, &notice, now)) {
            return Response::from_json(&serde_json::json!({ "started": 0 }));
        }
        let fx = self
            .persist_change(|o| {
                let fx = vitrine_edge::watch::catalog_changed(&mut o.visitor, bundle, secret, &notice, now);
                o.record_journeys(bundle, &fx, config.measure_key(), now);
                fx
            })
            .await?;
        self.log_records(&fx);
        let started = fx.iter().filter(|e| matches!(e, Effect::Record(vitrine_engine::journey::Record::Started { .. }))).count();
        Response::from_json(&serde_json::json!({ "started": started }))
    }

    /// Tells the contact's object this visitor uses it (and asks it for messages when due);
    /// whether the contact is suppressed. A confirmation elsewhere counts here too.
    async fn register_contact(&self, bundle: &BundleBody, secret: &[u8], channel: Channel, address: &str) -> std::result::Result<bool, Refusal> {
        let body = self.with(|o| o.contact_body(channel, now_secs()));
        let answer = async {
            let mut r = stubs::post(&self.env, &events::contact_key(channel, address), CONTACT, &body).await?;
            Ok::<ContactAnswer, worker::Error>(serde_json::from_str(&r.text().await?)?)
        };
        match answer.await {
            Ok(a) => {
                let measure_key = config(&self.env).measure_key().to_vec();
                let fx = self
                    .change(|o| {
                        let now = now_secs();
                        let fx = o.contact_answered(bundle, secret, channel, address, a, now);
                        o.record_journeys(bundle, &fx, &measure_key, now);
                        fx
                    })
                    .await?;
                self.log_records(&fx);
                Ok(a.suppressed)
            }
            Err(e) => {
                console_error!("vitrine: registering a contact failed: {e}");
                Ok(false)
            }
        }
    }

    /// Whether an erased contact of this key left a suppression tombstone (KV, hashed).
    async fn tombstone(&self, key: &str) -> bool {
        let Ok(kv) = self.env.kv(vitrine_edge::kv::PROFILES) else { return false };
        matches!(kv.get(&vitrine_edge::kv::suppressed_key(key)).text().await, Ok(Some(_)))
    }

    /// The double opt-in message to this contact (its object decided it is due).
    async fn send_confirmation(&self, channel: Channel, address: &str, now: i64) {
        let journeys = journeys(&self.env).await;
        let store = journeys.loaded().map(|b| b.store.clone()).unwrap_or_default();
        let link = match (channel, config(&self.env).journey_key()) {
            (Channel::Email, Ok(secret)) if !store.base_url.is_empty() => ContactRecord::confirm_link(&store.base_url, address, secret, now),
            (Channel::Email, _) => {
                console_error!("vitrine: no confirmation email: it needs LINK_SECRET and the bundle's store.base_url");
                return;
            }
            _ => String::new(),
        };
        let message = ContactRecord::confirmation(channel, address, &store.name, &link, now);
        let providers = crate::push::providers(&self.env, &store.base_url);
        let mut refused_number = None;
        let outcome = match messaging::request(&message, &providers, now) {
            Err(e) => Outcome::Failed { status: 0, error: e.to_string() },
            Ok(req) => match outbound::send(&req, providers.timeout_ms).await {
                Ok((status, body, id)) => {
                    if channel == Channel::Sms {
                        refused_number = vitrine_edge::feedback::twilio_send_refusal(channel, status, &body, address, &message.idempotency_key, now);
                    }
                    messaging::outcome(status, &body, id.as_deref())
                }
                Err(e) => messaging::unanswered(channel, e),
            },
        };
        console_log!("vitrine confirmation {}", serde_json::json!({ "channel": channel, "contact": address, "result": outcome }));
        if let Some(report) = refused_number {
            // Twilio refused the number outright (it texted STOP to our sender): this object
            // is the number's, so it takes the report itself.
            match self.take_feedback(channel, &report.body).await {
                Ok(Ok(_)) => {}
                Ok(Err(_)) | Err(_) => console_error!("vitrine: {address} refused by Twilio: not every visitor could be told"),
            }
        }
    }

    /// A provider's report on this contact (a bounce, a complaint, a dead number): a
    /// suppressing one silences it for every visitor of it, as a STOP does. `Ok(Err(_))`: a
    /// visitor could not be told (answered 503, so the sender retries; told ones change nothing
    /// twice). Else how many visitors the contact has and whether it is suppressed now.
    async fn take_feedback(&self, channel: Channel, body: &FeedbackBody) -> Result<std::result::Result<(usize, bool), Response>> {
        let (tell, visitors) = self
            .persist_change(|o| {
                let c = o.contact.get_or_insert_with(ContactRecord::default);
                (c.feedback(channel, body, now_secs()), c.visitors.clone())
            })
            .await?;
        if let Some(withdrawal) = &tell {
            if let Err(failed) = self.tell_visitors(&visitors, EVENTS, withdrawal).await? {
                return Ok(Err(failed));
            }
        }
        Ok(Ok((visitors.len(), tell.is_some())))
    }

    /// An inbound SMS to a number's object: STOP or START reaches every visitor that gave it.
    async fn number_replied(&self, body: SmsBody) -> Result<Response> {
        let changed = self.persist_change(|o| o.contact.get_or_insert_with(ContactRecord::default).reply(body.channel, &body.body, now_secs())).await?;
        let visitors = self.with(|o| o.contact.as_ref().map(|c| c.visitors.clone()).unwrap_or_default());
        if changed.is_some() {
            if let Err(failed) = self.tell_visitors(&visitors, SMS, &body).await? {
                return Ok(failed);
            }
        }
        Response::from_json(&serde_json::json!({ "visitors": visitors.len(), "changed": changed.is_some() }))
    }

    /// Tells every visitor of a contact the same thing; the first refusal is answered 503, so
    /// the caller retries (the visitors told already deduplicate by message id, or change
    /// nothing twice).
    async fn tell_visitors(&self, visitors: &[String], path: &str, body: &impl serde::Serialize) -> Result<std::result::Result<(), Response>> {
        for v in visitors {
            let mut r = stubs::post(&self.env, v, path, body).await?;
            if r.status_code() != 200 {
                return Ok(Err(Response::error(format!("telling {v} failed: {}", r.text().await?), 503)?));
            }
        }
        Ok(Ok(()))
    }

    async fn link(&self, own: &str, to: String) -> Result<Response> {
        match self.with(|o| o.link_step(own, &to)) {
            LinkStep::Already => return Response::ok("already linked"),
            LinkStep::AliasOnly => {}
            LinkStep::Absorb(state) => {
                let mut resp = stubs::post(&self.env, &to, ABSORB, &AbsorbBody { from: own.into(), state: *state }).await?;
                if resp.status_code() != 200 {
                    return Response::error(format!("absorb failed: {}", resp.text().await?), 503);
                }
            }
        }
        self.persist_change(|o| o.linked(to)).await?;
        Response::ok("linked")
    }

    /// Delivers every outbox message due at `now`, writing each outcome before the next. 429,
    /// 5xx, network errors and timeouts are retried with backoff under the same idempotency key
    /// (`Outbox::settle`); an attempt is written as in flight before it leaves, so none is sent
    /// twice by a crash or a failed write.
    async fn deliver(&self, now: i64, bundle: &BundleBody) -> Result<()> {
        let providers = crate::push::providers(&self.env, &bundle.store.base_url);
        let cap = bundle.rules.messaging.max_per_day;
        let config = config(&self.env);
        while let Some(pending) = self.with(|o| o.outbox.due(now).cloned()) {
            let m = &pending.message;
            let mut refused_number = None;
            let mut subscription_gone = false;
            let wanted = self.with(|o| o.still_wanted(m)).map_err(|why| Outcome::Failed { status: 0, error: why.into() });
            // Built for each attempt: a Web Push retry is encrypted again with fresh random bytes.
            let built = match wanted {
                Ok(()) => crate::push::build(m, &providers, now).await,
                Err(dropped) => Err(dropped),
            };
            let outcome = match built {
                Err(dropped) => dropped,
                Ok(req) => match self.before_send(m, cap, bundle).await {
                    Some(refused) => refused,
                    None => {
                        // Durable before the request leaves: a crash from here on cannot resend it.
                        self.persist_change(|o| o.outbox.begin(&m.idempotency_key)).await?;
                        match outbound::send_outgoing(&req, providers.timeout_ms).await {
                            Ok((status, body, id)) => {
                                if matches!(m.channel, Channel::Sms | Channel::Whatsapp) {
                                    refused_number = vitrine_edge::feedback::twilio_send_refusal(m.channel, status, &body, &m.to, &m.idempotency_key, now);
                                }
                                subscription_gone = req.subscription_gone(status);
                                req.outcome(status, &body, id.as_deref())
                            }
                            Err(e) => messaging::unanswered(m.channel, e),
                        }
                    }
                },
            };
            if subscription_gone && self.persist_change(|o| o.push_subscription_gone(&m.to)).await? {
                console_log!("vitrine: {}'s push subscription is gone (404/410 from its push service): dropped", m.visitor);
            }
            if let Some(a) = self.persist_change(|o| o.settle(&m.idempotency_key, outcome, now_secs(), providers.retry, config.measure_key())).await? {
                console_log!("{}", attempt_line(&m.visitor, &a));
            }
            if let Some(report) = refused_number {
                // Twilio refused the number (e.g. it texted STOP to our sender): its object
                // silences it for every visitor, as the status callback would.
                if let Err(e) = stubs::post(&self.env, &report.contact, FEEDBACK, &report.body).await {
                    console_error!("vitrine: reporting {} refused by Twilio failed: {e}", report.contact);
                }
            }
        }
        Ok(())
    }

    /// What must hold before `m` leaves: its unique code recorded (`codes::record_message_code`),
    /// then room under the daily cap ([`Self::reserve`]); `None`: send it.
    async fn before_send(&self, m: &Message, cap: u32, bundle: &BundleBody) -> Option<Outcome> {
        if let Some(unrecorded) = crate::codes::record_message_code(&self.env, bundle, m).await {
            return Some(unrecorded);
        }
        self.reserve(m, cap).await
    }

    /// Asks the contact's object whether the message fits the daily cap (`cap`, the bundle's
    /// `[messaging] max_per_day`) across every visitor of the email or number; `None`: send it.
    async fn reserve(&self, m: &Message, cap: u32) -> Option<Outcome> {
        // SMS and WhatsApp reach the same number's object: one daily cap across both.
        if !matches!(m.channel, Channel::Email | Channel::Sms | Channel::Whatsapp) {
            return None;
        }
        if cap == 0 {
            return None;
        }
        let body = ReserveBody { key: m.idempotency_key.clone(), max_per_day: cap };
        let answer = async {
            let mut r = stubs::post(&self.env, &events::contact_key(m.channel, &m.to), RESERVE, &body).await?;
            Ok::<serde_json::Value, worker::Error>(serde_json::from_str(&r.text().await?)?)
        };
        match answer.await {
            Ok(a) if a["ok"] == true => None,
            Ok(_) => Some(Outcome::Failed { status: 0, error: format!("daily cap ({cap}) for this contact reached across its visitors") }),
            Err(e) => Some(Outcome::Retry { status: 0, error: format!("the contact's cap could not be checked: {e}") }),
        }
    }

    /// Keeps the alarm at the earliest of the engine's wake-up and the next delivery.
    async fn schedule(&self) -> Result<()> {
        let storage = self.state.storage();
        let current = match self.with(|o| o.known_alarm()) {
            Some(c) => c,
            None => storage.get_alarm().await?.map(|ms| ms / 1000),
        };
        let retention = config(&self.env).retention_secs;
        match self.with(|o| o.alarm_change(current, retention)) {
            Some(t) => {
                storage.set_alarm(ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(t as f64 * 1000.0)))).await?;
                self.with(|o| o.alarm_is(Some(t)));
            }
            None => self.with(|o| o.alarm_is(current)),
        }
        Ok(())
    }

    /// Sends the measurement outbox to the queue; what it took leaves the outbox (a failed
    /// write after the send leaves them in: sent again later, counted once by message id). A
    /// refused send is retried by the alarm (`VisitorObject::records_failed`).
    async fn flush_measure(&self) {
        if self.flushing.get() || self.mem.borrow().as_ref().is_none_or(|o| o.measure.is_empty()) {
            return;
        }
        self.flushing.set(true);
        let records = self.with(|o| o.measure.clone());
        let changed = match measure::send(&self.env, &records).await {
            Ok(()) => {
                let sent: Vec<String> = records.iter().map(|r| r.message_id.clone()).collect();
                self.change(|o| o.records_sent(&sent)).await
            }
            Err(e) => {
                console_error!("vitrine: queueing {} measurement records failed, the alarm retries: {e}", records.len());
                let now = now_secs();
                self.change(|o| o.records_failed(now)).await
            }
        };
        if changed.is_err() {
            console_error!("vitrine: the measurement outbox could not be written: it is sent again later");
        }
        self.flushing.set(false);
    }

    fn log_records(&self, fx: &[Effect]) {
        for line in self.with(|o| o.record_lines(fx)) {
            console_log!("{line}");
        }
    }
}
