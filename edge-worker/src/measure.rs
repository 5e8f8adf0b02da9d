//! Measurement records carried out (the rules: `vitrine_edge::measure`): the page's exposures
//! after its body streamed, the queue producer, the queue consumer that writes R2, and the
//! export routes that read it back (wrangler cannot list R2 objects).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use serde_json::json;
use vitrine_edge::api::JsonReply;
use vitrine_edge::config::FAULT_CONSUMER_THROW;
use vitrine_edge::events::visitor_key;
use vitrine_edge::kv::BUNDLES;
use vitrine_edge::measure::{self, batch_files, batch_name, Listing, BUCKET, DEAD_PREFIX, DEAD_QUEUE_SUFFIX, EVENTS_PREFIX, QUEUE, SEND_BATCH};
use vitrine_edge::privacy;
use vitrine_edge::visitor_do::{MeasureBody, MEASURE};
use vitrine_engine::measure::Record;
use vitrine_engine::Decision;
use worker::wasm_bindgen::JsValue;
use worker::{
    console_error, console_log, event, Context, Env, Headers, MessageBatch, MessageExt, QueueContentType, RawMessageBuilder, Request, Response, Result,
};

use crate::endpoints::json as reply;
use crate::env::{config, fresh_visitor_id, now_secs};
use crate::faults;
use crate::stubs;

/// Sends records to the queue, packed as JSON lines into as few messages as fit
/// (`measure::queue_messages`: a page view's are one), at most [`SEND_BATCH`] messages a call.
pub async fn send(env: &Env, records: &[Record]) -> Result<()> {
    if faults::current(env).await.queue_send {
        return Err(worker::Error::RustError("fault:queue-send (dev mode): the queue refused the records".into()));
    }
    let queue = env.queue(QUEUE)?;
    let packed = measure::queue_messages(records);
    for chunk in packed.chunks(SEND_BATCH) {
        let messages: Vec<_> = chunk.iter().map(|m| RawMessageBuilder::new(JsValue::from_str(m)).build_with_content_type(QueueContentType::Text)).collect();
        queue.send_raw_batch(messages).await?;
    }
    Ok(())
}

/// Set once the rewritten page's body has streamed to its end (the rewriter's document end).
#[derive(Clone, Default)]
pub struct Streamed(Rc<RefCell<(bool, Option<Waker>)>>);

impl Streamed {
    pub fn finish(&self) {
        let mut s = self.0.borrow_mut();
        s.0 = true;
        if let Some(w) = s.1.take() {
            w.wake();
        }
    }
}

impl Future for Streamed {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let mut s = self.0.borrow_mut();
        if s.0 {
            Poll::Ready(())
        } else {
            s.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// How long after its end a page's exposures are sent (`wait_until` keeps the request's
/// context alive for up to 30 s after the response).
pub const SEND_AFTER_MS: u64 = 50;

/// What a page view records: the decisions of its slots, gathered as the rewrite fills them.
pub struct PageView {
    pub decisions: Rc<RefCell<Vec<Decision>>>,
    pub streamed: Streamed,
}

/// Once the page has streamed (a page the visitor did not get to the end of exposed nothing
/// for sure, and records nothing), its exposures go to the queue, off the response's path;
/// if the queue refuses them, to the visitor's object, which keeps them until it takes them.
/// `holdout_arm`: the visitor's arm of the global holdout (`Engine::holdout_arm`).
pub fn after_page(ctx: &Context, env: &Env, key: Vec<u8>, visitor_id: String, holdout_arm: Option<&'static str>) -> PageView {
    let view = PageView { decisions: Rc::default(), streamed: Streamed::default() };
    let (decisions, streamed, env) = (view.decisions.clone(), view.streamed.clone(), env.clone());
    ctx.wait_until(async move {
        streamed.await;
        // Off the response's last bytes: sent at once, the queue's work shared the thread with
        // the page's end (+0.8 ms at the median on local workerd, BENCHMARKS.md).
        worker::Delay::from(std::time::Duration::from_millis(SEND_AFTER_MS)).await;
        let decisions = std::mem::take(&mut *decisions.borrow_mut());
        send_page(&env, &decisions, holdout_arm, &key, &visitor_id).await;
    });
    view
}

/// A page view's exposures (the decisions of the slots it had) to the queue, or if the queue
/// refuses them to the visitor's object.
pub async fn send_page(env: &Env, decisions: &[Decision], holdout_arm: Option<&'static str>, key: &[u8], visitor_id: &str) {
    let records = measure::page_records(decisions, holdout_arm, key, visitor_id, &fresh_visitor_id(), now_secs());
    if records.is_empty() {
        return;
    }
    if let Err(e) = send(env, &records).await {
        console_error!("vitrine: queueing a page's {} exposures failed ({e}): kept by the visitor's object", records.len());
        let posted = stubs::post(env, &visitor_key("", visitor_id), MEASURE, &MeasureBody { records }).await;
        match posted {
            Ok(r) if r.status_code() == 200 => {}
            Ok(r) => console_error!("vitrine: the visitor's object refused the exposures ({}): lost", r.status_code()),
            Err(e) => console_error!("vitrine: the visitor's object did not take the exposures ({e}): lost"),
        }
    }
}

/// The queue consumer (`[[queues.consumers]]`): each batch becomes one gzip'd JSONL file per
/// day in R2, named after the batch (a redelivered batch overwrites its files). A batch that
/// cannot be stored is retried whole; after `max_retries` it goes to the dead-letter queue, whose
/// batches this same handler stores under `dead/`.
#[event(queue)]
pub async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    let dead = batch.queue().ends_with(DEAD_QUEUE_SUFFIX);
    let messages: Vec<_> = batch.raw_iter().collect();
    let ids: Vec<String> = messages.iter().map(|m| m.id()).collect();
    let mut records = Vec::with_capacity(messages.len());
    for m in &messages {
        match m.body().as_string().map(|s| measure::message_records(&s)) {
            Some((mut rs, bad)) => {
                if bad > 0 {
                    console_error!("vitrine: {bad} lines of a queued message are not records: dropped");
                }
                records.append(&mut rs);
            }
            None => console_error!("vitrine: a queued message is not text: dropped"),
        }
    }
    let name = batch_name(ids.iter().map(String::as_str));
    let prefix = if dead { DEAD_PREFIX } else { EVENTS_PREFIX };
    // Dev mode's fault switch: half the batch stored, then the batch fails (once, or always).
    let fault = !dead && consumer_fault(&env).await;
    let stored = if fault { &records[..records.len() / 2] } else { &records[..] };
    match store(&env, batch_files(stored, prefix, &name)).await {
        Ok(files) if fault => {
            console_error!("vitrine: {FAULT_CONSUMER_THROW} (dev mode): {files} files of batch {name} stored, then the batch fails");
            batch.retry_all();
        }
        Ok(files) => console_log!("vitrine: measurement batch {name}: {} records in {files} files under {prefix}", records.len()),
        Err(e) => {
            console_error!("vitrine: storing measurement batch {name} failed, retried: {e}");
            batch.retry_all();
        }
    }
    Ok(())
}

async fn store(env: &Env, files: Vec<measure::BatchFile>) -> Result<usize> {
    let bucket = env.bucket(BUCKET)?;
    let count = files.len();
    for f in files {
        let meta = worker::HttpMetadata { content_type: Some("application/gzip".into()), ..Default::default() };
        bucket.put(&f.key, f.gzip).http_metadata(meta).execute().await?;
    }
    Ok(count)
}

/// Whether the consumer's fault switch is on (dev mode only): `1` once (cleared as it is
/// taken), `always` until switched off (batches end in the dead-letter queue).
async fn consumer_fault(env: &Env) -> bool {
    if !config(env).dev_mode {
        return false;
    }
    let Ok(kv) = env.kv(BUNDLES) else { return false };
    match kv.get(FAULT_CONSUMER_THROW).text().await.ok().flatten().as_deref().map(str::trim) {
        Some("1") => kv.delete(FAULT_CONSUMER_THROW).await.is_ok(),
        Some("always") => true,
        _ => false,
    }
}

fn admin(req: &Request, env: &Env) -> Result<Option<Response>> {
    let config = config(env);
    if config.admin_token.is_none() {
        return reply(JsonReply::error(503, "the export is off: set ADMIN_TOKEN (wrangler secret put ADMIN_TOKEN)")).map(Some);
    }
    if !privacy::is_admin(req.headers().get("authorization")?.as_deref(), config.admin_token.as_deref()) {
        return reply(JsonReply::error(401, "Authorization: Bearer <ADMIN_TOKEN> required")).map(Some);
    }
    Ok(None)
}

/// `GET /v1/admin/measure?prefix=events/day=…&cursor=…&limit=…`: the stored files.
pub async fn list(req: Request, env: &Env) -> Result<Response> {
    if let Some(refused) = admin(&req, env)? {
        return Ok(refused);
    }
    let listing = match Listing::parse(req.url()?.query().unwrap_or("")) {
        Ok(l) => l,
        Err(why) => return reply(JsonReply::error(400, why)),
    };
    let bucket = env.bucket(BUCKET)?;
    let mut q = bucket.list().prefix(listing.prefix).limit(listing.limit);
    if let Some(c) = listing.cursor {
        q = q.cursor(c);
    }
    let objects = q.execute().await?;
    let files: Vec<serde_json::Value> =
        objects.objects().iter().map(|o| json!({ "key": o.key(), "size": o.size(), "uploaded": o.uploaded().as_millis() / 1000 })).collect();
    let cursor = if objects.truncated() { objects.cursor() } else { None };
    reply(JsonReply::ok(&json!({ "files": files, "cursor": cursor })))
}

/// `GET /v1/admin/measure/<key>`: one stored file as stored (gzip'd JSONL), streamed.
pub async fn file(req: Request, env: &Env, key: &str) -> Result<Response> {
    if let Some(refused) = admin(&req, env)? {
        return Ok(refused);
    }
    let Some(object) = env.bucket(BUCKET)?.get(key).execute().await? else {
        return reply(JsonReply::error(404, format!("no stored file {key}")));
    };
    let Some(body) = object.body() else { return reply(JsonReply::error(404, format!("no stored file {key}"))) };
    let headers = Headers::new();
    headers.set("content-type", "application/gzip")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::from_body(body.response_body()?)?.with_headers(headers))
}
