//! One route per request (`vitrine_edge::routes`), called by the entry (`entry::Edge::fetch`).
//! Every route answers something deliberate; an unexpected error is logged there and answered
//! with a short message, never a stack trace.

use vitrine_edge::api::JsonReply;
use vitrine_edge::routes::Route;
use worker::{Context, Env, Method, Request, Response, Result};

use crate::entry::Answer;
use crate::{admin, codes, endpoints, events, feedback, limits, measure, page, push, report, watch};

/// Answers one request (the entry: `entry::Edge::fetch`).
pub async fn route(req: Request, env: &Env, ctx: &Context) -> Result<Answer> {
    let method = req.method();
    let route = Route::of(&req.path(), matches!(method, Method::Get | Method::Head), method == Method::Options);
    // Limits before work: a body declared too large, a client or visitor over its rate.
    if let Some(refused) = limits::gate(&req, env, &route).await? {
        return Ok(refused.into());
    }
    // A body no handler reads is cancelled once answered: workerd would wait for all of it.
    let body = req.inner().body();
    let resp = dispatch(req, env, ctx, route).await;
    limits::discard_unread(body);
    resp
}

async fn dispatch(req: Request, env: &Env, ctx: &Context, route: Route) -> Result<Answer> {
    let response = match route {
        Route::Events => events::batch(req, env).await,
        Route::VisitorMessages(key) => events::messages(env, &key).await,
        Route::AdminCustomer(id) => admin::customer(req, env, &id).await,
        Route::AdminMeasureList => measure::list(req, env).await,
        Route::AdminMeasureFile(key) => measure::file(req, env, &key).await,
        Route::Click => events::click(req, env, ctx),
        Route::AdminReport => report::upload(req, env).await,
        Route::CatalogPublish => watch::publish(req, env).await,
        Route::StaffReport => report::staff(req, env).await,
        Route::Unsubscribe => events::unsubscribe(req, env).await,
        Route::Confirm => events::confirm(req, env).await,
        Route::CodeVerify => codes::verify(req, env).await,
        Route::CodeRedeem => codes::redeem(req, env).await,
        Route::SmsInbound => events::sms_inbound(req, env).await,
        Route::SendgridEvents => feedback::sendgrid(req, env).await,
        Route::TwilioStatus => feedback::twilio_status(req, env).await,
        Route::Preflight => endpoints::with_cors(&req, env, Response::empty()?.with_status(204)),
        Route::UseGet => endpoints::json(JsonReply::error(405, "use GET")),
        Route::Decide => endpoints::decide(req, env).await,
        Route::ExitOffer => endpoints::exit_offer(req, env).await,
        Route::PushKey => push::key(&req, env),
        Route::PushReport => push::report(req, env).await,
        Route::Health => endpoints::health(env).await,
        Route::OpenApi => endpoints::openapi(),
        Route::Bundle => endpoints::bundle(req, env).await,
        Route::Slice => endpoints::slice(req, env).await,
        Route::NotFound => endpoints::json(JsonReply::error(404, format!("no endpoint {}", req.path()))),
        Route::Asset => endpoints::asset(req, env).await,
        Route::Page => return page::handle(req, env, ctx, None).await,
    };
    response.map(Answer::from)
}
