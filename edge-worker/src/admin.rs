//! The privacy API: `GET|DELETE /v1/admin/customers/{id}` (`vitrine_edge::privacy`).

use serde_json::{json, Value};
use vitrine_edge::api::JsonReply;
use vitrine_edge::events::visitor_key;
use vitrine_edge::kv::{erased_key, profile_key, suppressed_key, PROFILES};
use vitrine_edge::privacy;
use vitrine_edge::visitor_do::{ERASE, EXPORT};
use worker::{console_log, Env, Method, Request, Response, Result};

use crate::endpoints::json as reply;
use crate::env::{config, now_secs};
use crate::stubs;

async fn object_json(env: &Env, key: &str, method: Method, path: &str) -> Result<Value> {
    let body = (method == Method::Post).then(String::new);
    let mut r = stubs::call(env, key, method, path, body).await?;
    let text = r.text().await?;
    if r.status_code() != 200 {
        return Err(worker::Error::RustError(format!("{key}{path}: {} {text}", r.status_code())));
    }
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("{key}{path}: {e}")))
}

pub async fn customer(req: Request, env: &Env, id: &str) -> Result<Response> {
    let config = config(env);
    if config.admin_token.is_none() {
        return reply(JsonReply::error(503, "the privacy API is off: set ADMIN_TOKEN (wrangler secret put ADMIN_TOKEN)"));
    }
    if !privacy::is_admin(req.headers().get("authorization")?.as_deref(), config.admin_token.as_deref()) {
        return reply(JsonReply::error(401, "Authorization: Bearer <ADMIN_TOKEN> required"));
    }
    let key = visitor_key(id, "");
    let kv = env.kv(PROFILES)?;
    let profile_key = profile_key(id).expect("the route checked the id");
    match req.method() {
        Method::Get => {
            let main = object_json(env, &key, Method::Get, EXPORT).await?;
            let mut objects = vec![(key.clone(), main.clone())];
            for related in keys(&main["related"]) {
                objects.push((related.clone(), object_json(env, &related, Method::Get, EXPORT).await?));
            }
            let profile = kv.get(&profile_key).text().await.map_err(|e| worker::Error::RustError(e.to_string()))?;
            match privacy::export(id, &objects, profile.as_deref()) {
                Some(export) => reply(JsonReply::ok(&export)),
                None => reply(JsonReply::error(404, format!("nothing is stored about customer {id}"))),
            }
        }
        Method::Delete => {
            let erased = object_json(env, &key, Method::Post, ERASE).await?;
            let related = keys(&erased["related"]);
            let kv_err = |e: worker::kv::KvError| worker::Error::RustError(e.to_string());
            for k in &related {
                let gone = object_json(env, k, Method::Post, ERASE).await?;
                if gone["suppressed"].as_bool() == Some(true) {
                    // It said STOP: a later import of the same contact must not message it.
                    kv.put(&suppressed_key(k), now_secs().to_string()).map_err(kv_err)?.execute().await.map_err(kv_err)?;
                }
            }
            kv.delete(&profile_key).await.map_err(kv_err)?;
            kv.put(&erased_key(id).expect("the route checked the id"), now_secs().to_string()).map_err(kv_err)?.execute().await.map_err(kv_err)?;
            console_log!("vitrine: customer {id} erased ({} objects)", related.len() + 1);
            reply(JsonReply::ok(&json!({ "erased": id, "objects": 1 + related.len(), "profile": true })))
        }
        _ => reply(JsonReply::error(405, "use GET (export) or DELETE (erase)")),
    }
}

fn keys(list: &Value) -> Vec<String> {
    list.as_array().map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect()).unwrap_or_default()
}
