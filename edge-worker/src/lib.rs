//! Vitrine edge worker: a thin host between the visitor and the store's origin.
//!
//! Everything that decides something (cookies, context, routes, caching, HTML rewriting) is a
//! plain module tested natively; only `glue` (wasm32) touches the Workers runtime.

pub mod api;
pub mod bundles;
pub mod context;
pub mod cookies;
pub mod pages;
pub mod profile;
pub mod query;
pub mod rewrite;
pub mod messaging;
pub mod visitor_do;

#[cfg(target_arch = "wasm32")]
pub mod glue;
