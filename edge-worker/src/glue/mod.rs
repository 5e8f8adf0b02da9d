//! The Workers runtime side (wasm32 only): read the request, call the pure modules, do the I/O.
//! Every route answers something deliberate; an unexpected error is logged and answered with a
//! short message, never a stack trace.

mod bundle;
mod config;
mod endpoints;
mod html;
mod page;
mod visitor;

pub use bundle::serving;
pub use config::Config;

use worker::{console_error, event, Context, Env, Method, Request, Response, Result};

use crate::api::{self, JsonReply};
use crate::visitor_do;

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let method = req.method();
    match route(req, &env).await {
        Ok(resp) => Ok(resp),
        Err(e) => {
            console_error!("vitrine: {method:?} {path}: {e}");
            if path.starts_with("/v1/") {
                endpoints::json(JsonReply::error(500, "internal error (logged at the edge)"))
            } else {
                Response::error("Something went wrong at the edge; please reload.", 500)
            }
        }
    }
}

async fn route(req: Request, env: &Env) -> Result<Response> {
    let path = req.path();
    let get = matches!(req.method(), Method::Get | Method::Head);
    match path.as_str() {
        "/v1/events" => visitor_do::handle_events(req, env.clone()).await,
        p if visitor_do::serves(p) => visitor_do::handle(req, env.clone()).await,
        "/v1/decide" | "/v1/exit-offer" if req.method() == Method::Options => endpoints::with_cors(&req, env, Response::empty()?.with_status(204)),
        "/v1/decide" | "/v1/exit-offer" | "/v1/health" if !get => endpoints::json(JsonReply::error(405, "use GET")),
        "/v1/decide" => endpoints::decide(req, env).await,
        "/v1/exit-offer" => endpoints::exit_offer(req, env).await,
        "/v1/health" => endpoints::health(env).await,
        p if api::bundle_path_version(p).is_some() => endpoints::bundle(req, env).await,
        p if p.starts_with("/v1/") => endpoints::json(JsonReply::error(404, format!("no endpoint {p}"))),
        p if p.starts_with(api::SDK_PREFIX) => endpoints::asset(req, env).await,
        _ => page::handle(req, env).await,
    }
}
