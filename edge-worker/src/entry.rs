//! What the worker's JavaScript entry (`js/worker.mjs`) calls: [`Edge::fetch`] answers every
//! request, once, with either a finished `Response` or a [`StorePage`]: the origin's HTML
//! response with every slot already decided, which the entry streams through workerd's
//! `HTMLRewriter` with element handlers that only look each slot up (no call into wasm per
//! element). Why a JavaScript entry at all: see BENCHMARKS.md, "Edge worker".

use vitrine_edge::api::JsonReply;
use vitrine_edge::pages::PageDecisions;
use vitrine_edge::rewrite::{SLOT_ATTR, SLOT_SELECTOR};
use worker::wasm_bindgen::prelude::*;
// The async export below expands to calls into these crates, by these names (which one
// depends on how worker-build invokes cargo).
use worker::{console_error, web_sys, worker_sys, Context, Env, Request, Response};
#[allow(unused_imports)]
use worker::{js_sys, wasm_bindgen_futures};

use crate::endpoints;
use crate::fetch::route;
use crate::measure::PageView;

/// A request's answer: most routes finish here; a store page streams from the entry.
pub enum Answer {
    Response(Response),
    Page(StorePage),
}

impl From<Response> for Answer {
    fn from(r: Response) -> Answer {
        Answer::Response(r)
    }
}

/// A store page about to stream: the response to send (status and headers final, the origin's
/// body), what each slot gets, and the page view to record once the body went by.
#[wasm_bindgen]
pub struct StorePage {
    response: web_sys::Response,
    decided: Option<PageDecisions>,
    view: Option<PageView>,
}

impl StorePage {
    /// `decided`: `None` streams the page through the rewriter with no slot touched (dev mode's
    /// rewriter-only bypass); `view`: the page view's exposures, recorded at its end.
    pub fn new(response: Response, decided: Option<PageDecisions>, view: Option<PageView>) -> StorePage {
        StorePage { response: response.into(), decided, view }
    }
}

#[wasm_bindgen]
impl StorePage {
    #[wasm_bindgen(getter)]
    pub fn response(&self) -> web_sys::Response {
        // `Clone::clone`, the same JS object: the inherent `clone()` is the Fetch API's (a copy).
        Clone::clone(&self.response)
    }

    /// Every placement and what its slots get, as JSON entries for a `Map`:
    /// `[[placement, {"html"?: string, "marks": [[attribute, value], …]}], …]`.
    #[wasm_bindgen(getter)]
    pub fn slots(&self) -> String {
        let entries = self.decided.iter().flat_map(PageDecisions::outcomes).map(|(placement, outcome)| {
            let mut slot = serde_json::json!({ "marks": outcome.marks() });
            if let Some(html) = outcome.inner_html() {
                slot["html"] = html.into();
            }
            (placement, slot)
        });
        serde_json::to_string(&entries.collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
    }

    /// Whether the entry should report the slots it filled ([`StorePage::streamed`]).
    #[wasm_bindgen(getter)]
    pub fn records(&self) -> bool {
        self.view.is_some()
    }

    /// The page went by to its end; `placements` are its slot elements' placements that the
    /// rewrite found in [`StorePage::slots`], in document order: what the page view exposed.
    pub fn streamed(self, placements: Vec<String>) {
        let (Some(view), Some(decided)) = (self.view, self.decided) else { return };
        *view.decisions.borrow_mut() = decided.of_slots(placements.iter().map(String::as_str));
        view.streamed.finish();
    }
}

/// The entry's calls into Rust (static methods: a free function would become an RPC method of
/// the worker's entrypoint).
#[wasm_bindgen]
pub struct Edge;

#[wasm_bindgen]
impl Edge {
    /// Answers one request: a `Response`, or a [`StorePage`] for the entry to stream. Never
    /// throws: an unexpected error is logged and answered with a short message.
    pub async fn fetch(req: web_sys::Request, env: Env, ctx: worker_sys::Context) -> JsValue {
        let req = Request::from(req);
        let (path, method) = (req.path(), req.method());
        let answer = match route(req, &env, &Context::new(ctx)).await {
            Ok(answer) => answer,
            Err(e) => {
                console_error!("vitrine: {method:?} {path}: {e}");
                let failed = if path.starts_with("/v1/") {
                    endpoints::json(JsonReply::error(500, "internal error (logged at the edge)"))
                } else {
                    Response::error("Something went wrong at the edge; please reload.", 500)
                };
                match failed {
                    Ok(r) => Answer::Response(r),
                    Err(_) => return JsValue::UNDEFINED,
                }
            }
        };
        match answer {
            Answer::Response(r) => web_sys::Response::from(r).into(),
            Answer::Page(page) => page.into(),
        }
    }

    #[wasm_bindgen(js_name = slotAttribute)]
    pub fn slot_attribute() -> String {
        SLOT_ATTR.into()
    }

    #[wasm_bindgen(js_name = slotSelector)]
    pub fn slot_selector() -> String {
        SLOT_SELECTOR.into()
    }
}
