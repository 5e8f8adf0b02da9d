//! Vitrine's Cloudflare Worker: the thin runtime layer. It reads requests, KV, Durable Object
//! storage and the clock, calls the rules in `vitrine_edge` (tested natively), and carries out
//! what they return. Nothing here decides; wasm32 only (natively this crate is empty).
//!
//! - [`entry`]: what the JavaScript entry (`js/worker.mjs`, which streams store pages through
//!   workerd's `HTMLRewriter`) calls; [`fetch`]: one route per request
//!   (`vitrine_edge::routes::Route`);
//! - [`page`]: store pages (decided whole before they stream), the demo picker;
//! - [`endpoints`]: `/v1/decide`, `/v1/exit-offer`, `/v1/health`, bundles, SDK files;
//! - [`events`]: `/v1/events`, unsubscribe, inbound SMS -> visitors' objects; [`admin`]: the
//!   privacy API (export, erase);
//! - [`measure`]: measurement records (page exposures after the body streamed, the queue
//!   producer and consumer, R2 files, the export routes); [`report`]: the staff-only report
//!   page and its upload;
//! - [`limits`]: limits before work (body caps read as streams, rate-limit bindings);
//! - [`object`]: the `VisitorDo` Durable Object class; [`stubs`]: calls between objects;
//! - [`codes`]: unique offer codes (issued with the exit offer, their objects, the store's
//!   verify and redeem); [`watch`]: the catalog triggers (the publish trigger, the fan-out's
//!   coordinator, the per-product watcher shards, the visitors' index writes);
//! - [`bundle`] (KV `BUNDLES`), [`visitor`] (request facts, KV `PROFILES`), [`outbound`]
//!   (provider requests), [`env`] (settings, clock, ids), [`faults`] (dev-mode fault switches).

#![cfg(target_arch = "wasm32")]

mod admin;
mod bundle;
mod codes;
mod endpoints;
mod entry;
mod env;
mod events;
mod faults;
mod feedback;
mod fetch;
mod limits;
mod measure;
mod object;
mod outbound;
mod page;
mod push;
mod report;
mod stubs;
mod visitor;
mod watch;

pub use object::VisitorDo;
