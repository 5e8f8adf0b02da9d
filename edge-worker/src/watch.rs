//! The catalog triggers at run time (rules: `vitrine_edge::watch`): the publish trigger
//! `POST /v1/admin/catalog/publish` (write key) that diffs `bundle:previous` against
//! `bundle:current` once, the coordinator object (`catalog:publishes`) that fans a publish
//! out from its alarm, the per-product shard objects (`watch:<sku>:<shard>`) that know their
//! watchers, and the visitor object's index writes. All are the `VisitorDo` class under their
//! own names (as codes are): no migration.

use vitrine_edge::api::JsonReply;
use vitrine_edge::events::bearer_matches;
use vitrine_edge::kv::{BUNDLES, CURRENT_KEY, PREVIOUS_KEY};
use vitrine_edge::watch::{
    self, CatalogNotice, FanoutBody, Fanouts, IndexRecord, WatchAdd, BATCH, CATALOG, COORDINATOR_KEY, COORDINATOR_STORAGE_KEY, FANOUT, INDEX_STORAGE_KEY,
    MAX_CHANGES, WATCH_ADD, WATCH_NOTIFY,
};
use vitrine_engine::bundle;
use vitrine_engine::journey::catalog_changes;
use worker::js_sys;
use worker::wasm_bindgen::JsValue;
use worker::{console_error, console_log, Env, Method, Request, Response, Result, ScheduledTime, State};

use crate::endpoints::json;
use crate::env::{config, now_secs};
use crate::stubs;

fn at(secs: i64) -> ScheduledTime {
    ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(secs as f64 * 1000.0)))
}

/// `POST /v1/admin/catalog/publish` (the store's publish script, after writing KV): what
/// changed from `bundle:previous` to `bundle:current`, computed here once, handed to the
/// coordinator, which fans each pair out once. Answers the coordinator's `FanoutAnswer`, or
/// why there is nothing to compare.
pub async fn publish(req: Request, env: &Env) -> Result<Response> {
    if req.method() != Method::Post {
        return json(JsonReply::error(405, "use POST"));
    }
    let config = config(env);
    if config.write_key.is_none() {
        return json(JsonReply::error(503, "the catalog publish trigger is off: set VITRINE_WRITE_KEY (wrangler secret put VITRINE_WRITE_KEY)"));
    }
    if !bearer_matches(req.headers().get("authorization")?.as_deref(), config.write_key.as_deref()) {
        return json(JsonReply::error(401, "Authorization: Bearer <VITRINE_WRITE_KEY> required"));
    }
    let kv = env.kv(BUNDLES)?;
    let previous = kv.get(PREVIOUS_KEY).text().await?;
    let current = kv.get(CURRENT_KEY).text().await?;
    let (previous, current) = match watch::publish_pair(previous.as_deref(), current.as_deref()) {
        Ok(pair) => pair,
        Err(why) => return Response::from_json(&serde_json::json!({ "status": "nothing to compare", "reason": why })),
    };
    let mut catalogs = Vec::new();
    for version in [&previous, &current] {
        let decoded = match crate::bundle::bytes_of(env, version).await {
            Some(bytes) => bundle::decode(&bytes).map_err(|e| e.to_string()),
            None => Err(format!("bundle:{version} is missing or does not decode")),
        };
        match decoded {
            Ok(b) => catalogs.push(b.body.catalog),
            Err(why) => return json(JsonReply::error(409, format!("cannot compare: {why}"))),
        }
    }
    let mut changes = catalog_changes(&catalogs[0], &catalogs[1]);
    let not_sent = changes.len().saturating_sub(MAX_CHANGES);
    if not_sent > 0 {
        console_error!("vitrine: publish {current}: {} catalog changes, over {MAX_CHANGES}: the last {not_sent} are not sent", changes.len());
        changes.truncate(MAX_CHANGES);
    }
    let n = changes.len();
    let mut answer = stubs::post(env, COORDINATOR_KEY, FANOUT, &FanoutBody { previous, current, changes }).await?;
    if answer.status_code() != 200 {
        return json(JsonReply::error(503, format!("the fan-out could not start: {}", answer.text().await?)));
    }
    let mut body: serde_json::Value = serde_json::from_str(&answer.text().await?)?;
    body["changes"] = n.into();
    body["not_sent"] = not_sent.into();
    Response::from_json(&body)
}

/// A catalog object's request (its name: a shard `watch:…` or the coordinator).
pub async fn object(state: &State, env: &Env, mut req: Request, key: &str) -> Result<Response> {
    if req.method() != Method::Post {
        return json(JsonReply::error(405, "use POST"));
    }
    let path = req.path();
    let now = now_secs();
    let storage = state.storage();
    match path.as_str() {
        FANOUT if key == COORDINATOR_KEY => {
            let body: FanoutBody = serde_json::from_str(&req.text().await?)?;
            let mut fanouts = read::<Fanouts>(state, COORDINATOR_STORAGE_KEY).await?;
            let answer = fanouts.begin(body, now);
            storage.put(COORDINATOR_STORAGE_KEY, serde_json::to_string(&fanouts)?).await?;
            if let Some(t) = fanouts.wake_at(now) {
                storage.set_alarm(at(t)).await?;
            }
            console_log!("vitrine catalog publish {}", serde_json::to_string(&answer)?);
            Response::from_json(&answer)
        }
        WATCH_ADD if key.starts_with(watch::INDEX_PREFIX) => {
            let body: WatchAdd = serde_json::from_str(&req.text().await?)?;
            let mut record = read::<IndexRecord>(state, INDEX_STORAGE_KEY).await?;
            record.add(&body.visitor, now);
            storage.put(INDEX_STORAGE_KEY, serde_json::to_string(&record)?).await?;
            if let Some(t) = record.forget_expired(now) {
                storage.set_alarm(at(t)).await?;
            }
            Response::ok("watching")
        }
        WATCH_NOTIFY if key.starts_with(watch::INDEX_PREFIX) => {
            let notice: CatalogNotice = serde_json::from_str(&req.text().await?)?;
            let watchers = read::<IndexRecord>(state, INDEX_STORAGE_KEY).await?.live(now);
            // Every watcher is tried; one that fails makes the coordinator post again later
            // (those told already change nothing twice).
            let mut failed = Vec::new();
            for v in &watchers {
                match stubs::post(env, v, CATALOG, &notice).await {
                    Ok(r) if r.status_code() == 200 => {}
                    Ok(mut r) => failed.push(format!("{v}: {} {}", r.status_code(), r.text().await.unwrap_or_default())),
                    Err(e) => failed.push(format!("{v}: {e}")),
                }
            }
            if failed.is_empty() {
                Response::from_json(&serde_json::json!({ "told": watchers.len() }))
            } else {
                Response::error(format!("{} of {} watchers not told: {}", failed.len(), watchers.len(), failed.join("; ")), 503)
            }
        }
        _ => json(JsonReply::error(404, format!("no {path} on {key}"))),
    }
}

async fn read<T: serde::de::DeserializeOwned + Default>(state: &State, storage_key: &str) -> Result<T> {
    let stored: Option<String> = state.storage().get(storage_key).await?;
    Ok(match stored {
        Some(json) => serde_json::from_str(&json)?,
        None => T::default(),
    })
}

/// A catalog object's alarm: the coordinator's next batch of shard posts, or a shard
/// forgetting its expired watchers. `false`: not a catalog object (a visitor's alarm).
pub async fn alarm(state: &State, env: &Env) -> Result<bool> {
    let storage = state.storage();
    let now = now_secs();
    if let Some(stored) = storage.get::<String>(COORDINATOR_STORAGE_KEY).await? {
        let mut fanouts: Fanouts = serde_json::from_str(&stored)?;
        if let Some(i) = fanouts.pending(now) {
            let f = fanouts.publishes[i].clone();
            let mut next = f.next;
            let end = (f.next + BATCH).min(f.total());
            let mut failure = None;
            while next < end {
                let Some((shard, notice)) = f.post(next) else { break };
                match stubs::post(env, &shard, WATCH_NOTIFY, &notice).await {
                    Ok(r) if r.status_code() == 200 => next += 1,
                    Ok(mut r) => {
                        failure = Some(format!("{shard}: {}", r.text().await.unwrap_or_default()));
                        break;
                    }
                    Err(e) => {
                        failure = Some(format!("{shard}: {e}"));
                        break;
                    }
                }
            }
            match failure {
                Some(why) => {
                    let skipped = fanouts.failed(i, next, why.clone(), now);
                    let then = if skipped { "skipped after too many tries" } else { "tried again later" };
                    console_error!("vitrine: catalog fan-out {} -> {}: {why}; {then}", f.previous, f.current);
                }
                None => fanouts.advanced(i, next, now),
            }
            if fanouts.publishes[i].done_at.is_some() {
                console_log!("vitrine: catalog fan-out {} -> {} done ({} products)", f.previous, f.current, f.products.len());
            }
            // The cursor is written before the next batch: a restart resumes here.
            storage.put(COORDINATOR_STORAGE_KEY, serde_json::to_string(&fanouts)?).await?;
        }
        if let Some(t) = fanouts.wake_at(now) {
            storage.set_alarm(at(t)).await?;
        }
        return Ok(true);
    }
    if let Some(stored) = storage.get::<String>(INDEX_STORAGE_KEY).await? {
        let mut record: IndexRecord = serde_json::from_str(&stored).unwrap_or_default();
        match record.forget_expired(now) {
            Some(t) => {
                storage.put(INDEX_STORAGE_KEY, serde_json::to_string(&record)?).await?;
                storage.set_alarm(at(t)).await?;
            }
            None => storage.delete_all().await?,
        }
        return Ok(true);
    }
    Ok(false)
}

/// A visitor's object added these SKUs to its cart or watch list: each product's shard for
/// this visitor learns it (best effort: a failure is logged; carting again writes it again).
pub async fn index(env: &Env, visitor: &str, skus: &[String]) {
    let shard = watch::shard_of(visitor);
    for sku in skus {
        let key = watch::index_key(sku, shard);
        match stubs::post(env, &key, WATCH_ADD, &WatchAdd { visitor: visitor.into() }).await {
            Ok(r) if r.status_code() == 200 => {}
            Ok(r) => console_error!("vitrine: the watch index {key} answered {}", r.status_code()),
            Err(e) => console_error!("vitrine: writing the watch index {key} failed: {e}"),
        }
    }
}
