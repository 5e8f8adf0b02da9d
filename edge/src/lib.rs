//! Vitrine's edge rules: everything the worker decides, as plain Rust tested natively. The
//! runtime crate (`edge-worker`, wasm32) reads requests, KV, Durable Object storage and the
//! clock, calls these, and carries out what they return; nothing here touches the runtime.
//!
//! - requests: [`routes`] (which handler), [`context`] (request -> visitor), [`cookies`],
//!   [`profile`] (the signed profile cookie, the demo picker), [`query`];
//! - limits before work: [`limits`] (body caps, rate-limit keys, fan-out per batch);
//! - settings and storage layout: [`config`] (vars and secrets), [`kv`] (KV keys and the
//!   entries a publish writes), [`bundles`] (which bundle serves);
//! - answers: [`api`] (`/v1/decide`, `/v1/exit-offer`, caching, CORS), [`pages`] and
//!   [`rewrite`] (what each slot of a streamed page becomes);
//! - the conversation: [`events`] (`/v1/events` batches), [`visitor_do`] (the per-visitor
//!   Durable Object's state and outbox), [`messaging`] (provider requests), [`webpush`] (Web
//!   Push to the browser's push service: RFC 8291 payloads, VAPID, the service's answers),
//!   [`fcm`] (FCM HTTP v1 access tokens minted from a service account), [`optout`]
//!   (unsubscribe links, inbound SMS), [`feedback`] (providers' bounces, complaints and
//!   failed texts), [`privacy`] (export and erasure of a customer);
//! - measurement: [`measure`] (which page views and events become records, and how the
//!   queue consumer stores them in R2), [`staff`] (the staff-only report page's auth).

pub mod api;
pub mod bundles;
pub mod click;
pub mod codes;
pub mod config;
pub mod context;
pub mod cookies;
pub mod deep_link;
pub mod events;
pub mod fcm;
pub mod feedback;
pub mod identity;
pub mod kv;
pub mod limits;
pub mod live;
pub mod measure;
pub mod messaging;
pub mod openapi;
pub mod optout;
pub mod pages;
pub mod privacy;
pub mod profile;
pub mod profile_line;
pub mod push;
pub mod query;
pub mod rewrite;
pub mod routes;
pub mod staff;
pub mod visitor_do;
pub mod watch;
pub mod webpush;

/// A one-product bundle with the given rules, for unit tests.
#[cfg(test)]
mod test_bundle {
    use vitrine_engine::bundle::{self, Catalog, Header, Product, RecTables, Scored};
    use vitrine_engine::rules::Rules;
    use vitrine_engine::{BundleBody, Engine};

    pub fn engine(rules: serde_json::Value) -> Engine {
        let rules: Rules = serde_json::from_value(rules).unwrap();
        let product = Product {
            sku: "A1".into(),
            title: "Lamp".into(),
            url: "/p/A1".into(),
            image: String::new(),
            price: 2.5,
            category: None,
            brand: String::new(),
            tags: vec![],
            in_stock: true,
        };
        let body = BundleBody {
            store: Default::default(),
            catalog: Catalog::new(vec![product], vec![]),
            stats: Default::default(),
            recs: RecTables { popular: vec![Scored { item: 0, score: 1.0 }], ..Default::default() },
            rules,
        };
        Engine::load(&bundle::encode(&Header { format_version: bundle::FORMAT_VERSION, build_id: [1; 16], created_at: 0 }, &body)).unwrap()
    }
}
