//! Shared helpers for the end-to-end tests: a fixture bundle, the demo storefront generator,
//! a static origin, an HTTP client, KV entries, and a `wrangler dev` stack that cleans up.

pub mod demo_store;
pub mod fixture;
pub mod harness;
pub mod http;
pub mod identity;
pub mod origin;
pub mod stack;
pub mod traffic;
