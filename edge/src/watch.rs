//! The catalog triggers at the edge (#21): who watches which product, and telling them when a
//! publish makes it cheaper or brings it back. Durable Objects cannot be enumerated, so the
//! edge keeps its own index, per product and sharded (a popular product is not one hot object).
//!
//! ```text
//! visitor's object, applying events  -> a SKU newly in the cart or asked about ("notify me")
//!     -> POST /watch/add {"visitor"} to watch:<sku>:<shard>   (shard = hash(visitor) % SHARDS)
//! publish-bundle.sh, after writing KV -> POST /v1/admin/catalog/publish (write key)
//!     the worker diffs bundle:previous against bundle:current ONCE (journey::catalog_changes)
//!     -> POST /catalog/fanout {"previous","current","changes"} to the coordinator `catalog:publishes`
//!        (a publish pair it knows answers "already": the same pair never fans out twice)
//! coordinator's alarm, BATCH posts at a time, its cursor written after each
//!     -> POST /watch/notify {"published","changes"} to watch:<sku>:<shard> for every shard
//!        -> POST /catalog {"published","changes"} to each live watcher's object
//!           -> Runner::catalog_changed (a change taken before does nothing again)
//! ```
//!
//! Every object here is the visitors' class (`VisitorDo`) under its own names, as codes are:
//! no migration. Everything is bounded: [`MAX_PER_SHARD`] watchers per shard (the oldest go),
//! entries forgotten after `WATCH_TTL` unless written again, [`MAX_CHANGES`] changes per
//! publish, [`MAX_PUBLISHES`] publishes remembered. A fan-out survives restarts: its plan and
//! cursor are in the coordinator's storage and its alarm resumes it; a shard or visitor that
//! fails is retried with backoff, and visitors told twice change nothing twice.

use serde::{Deserialize, Serialize};
use vitrine_engine::bundle::BundleBody;
use vitrine_engine::journey::{CatalogChange, Effect, Runner, VisitorState};
use vitrine_engine::zones::Tzdb;

/// Shards per product. A visitor is always in the same one (its key's hash).
pub const SHARDS: u32 = 16;
/// Watchers one shard keeps (the oldest go first): [`SHARDS`] × this per product.
pub const MAX_PER_SHARD: usize = 256;
/// Changes one publish fans out at most (a catalog-wide sale is not a per-visitor alert);
/// the rest are named in the answer as not sent.
pub const MAX_CHANGES: usize = 5_000;
/// Shard posts per coordinator wake-up: well under a Worker's subrequests per invocation.
pub const BATCH: usize = 40;
/// Publish pairs the coordinator remembers (and so never fans out twice).
pub const MAX_PUBLISHES: usize = 50;
/// How long an index entry lives unless written again (as long as a visitor's "notify me").
pub const ENTRY_TTL: i64 = vitrine_engine::journey::WATCH_TTL;
/// A shard post failing this many times in a row is skipped (logged): one broken object never
/// holds up the rest of a publish, or the publishes after it.
pub const MAX_TRIES: u32 = 8;
/// A failed shard post is tried again after this many seconds, doubling, at most 5 minutes.
pub const RETRY_FIRST_SECS: i64 = 5;
pub const RETRY_MAX_SECS: i64 = 300;

/// The store's publish trigger (write key): diff `bundle:previous` against `bundle:current`.
pub const PUBLISH_PATH: &str = "/v1/admin/catalog/publish";
/// Object names: a product's shard, and the one coordinator.
pub const INDEX_PREFIX: &str = "watch:";
pub const COORDINATOR_KEY: &str = "catalog:publishes";
/// Storage keys: a shard's record, the coordinator's.
pub const INDEX_STORAGE_KEY: &str = "watchers";
pub const COORDINATOR_STORAGE_KEY: &str = "fanouts";
/// Internal API (POST): a shard's, the coordinator's, a visitor's.
pub const WATCH_ADD: &str = "/watch/add";
pub const WATCH_NOTIFY: &str = "/watch/notify";
pub const FANOUT: &str = "/catalog/fanout";
pub const CATALOG: &str = "/catalog";

/// The shard `visitor` (a journeys key, `a:…`/`u:…`) is in.
pub fn shard_of(visitor: &str) -> u32 {
    (vitrine_engine::bundle::checksum(visitor.as_bytes()) % u64::from(SHARDS)) as u32
}

/// The object of `sku`'s shard `shard`: `watch:<sku>:<shard>`.
pub fn index_key(sku: &str, shard: u32) -> String {
    format!("{INDEX_PREFIX}{sku}:{shard}")
}

/// Whether an object's name is one of this module's (a shard or the coordinator).
pub fn is_watch_key(key: &str) -> bool {
    key.starts_with(INDEX_PREFIX) || key == COORDINATOR_KEY
}

/// The SKUs a visitor's catalog journeys would be about now: in the cart, or watched.
pub fn interests(s: &VisitorState, now: i64) -> Vec<String> {
    let mut skus: Vec<String> = s.cart.iter().map(|l| l.sku.clone()).collect();
    for w in s.watching.iter().filter(|w| s.watches(&w.sku, now)) {
        if !skus.contains(&w.sku) {
            skus.push(w.sku.clone());
        }
    }
    skus
}

/// Whether `notice` is about a product the visitor has in the cart or watches at `now`.
pub fn concerns(s: &VisitorState, notice: &CatalogNotice, now: i64) -> bool {
    let skus = interests(s, now);
    notice.changes.iter().any(|c| skus.contains(&c.sku))
}

/// SKUs in `after` and not in `before`: the index entries a batch of events adds.
pub fn added(before: &[String], after: &[String]) -> Vec<String> {
    after.iter().filter(|s| !before.contains(s)).cloned().collect()
}

/// `POST /watch/add`: this visitor watches the shard's product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchAdd {
    pub visitor: String,
}

/// A shard's record: its product's watchers in it, with when each was last written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IndexRecord {
    pub watchers: Vec<(String, i64)>,
}

impl IndexRecord {
    /// `visitor` watches from `now` on (again: its entry lives on). Expired entries go; over
    /// [`MAX_PER_SHARD`], the oldest.
    pub fn add(&mut self, visitor: &str, now: i64) {
        self.watchers.retain(|(v, at)| v != visitor && now - at < ENTRY_TTL);
        self.watchers.push((visitor.into(), now));
        let over = self.watchers.len().saturating_sub(MAX_PER_SHARD);
        self.watchers.drain(..over);
    }

    /// The watchers whose entries still live at `now`.
    pub fn live(&self, now: i64) -> Vec<String> {
        self.watchers.iter().filter(|(_, at)| now - at < ENTRY_TTL).map(|(v, _)| v.clone()).collect()
    }

    /// Drops what expired; when the next entry expires (the object's alarm), if any is left.
    pub fn forget_expired(&mut self, now: i64) -> Option<i64> {
        self.watchers.retain(|(_, at)| now - at < ENTRY_TTL);
        self.watchers.iter().map(|(_, at)| at + ENTRY_TTL).min()
    }
}

/// What a shard, then each watcher's object, is told: the publish (its build id) and the
/// changes of the shard's product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogNotice {
    pub published: String,
    pub changes: Vec<CatalogChange>,
}

/// `POST /catalog/fanout`: a publish to fan out, diffed once by the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FanoutBody {
    pub previous: String,
    pub current: String,
    pub changes: Vec<CatalogChange>,
}

/// One publish's fan-out: its changes, by product, to every shard of each; `next` is the next
/// post to make (product `next / SHARDS`, shard `next % SHARDS`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fanout {
    pub previous: String,
    pub current: String,
    /// The changed products in order, each with its changes.
    pub products: Vec<(String, Vec<CatalogChange>)>,
    pub next: usize,
    pub started_at: i64,
    pub done_at: Option<i64>,
    /// Failed posts in a row (the backoff), and the last reason.
    pub failures: u32,
    pub last_error: String,
    /// Not before this (a failure's backoff).
    pub retry_at: Option<i64>,
    /// Posts given up after [`MAX_TRIES`].
    pub skipped: u32,
}

impl Fanout {
    pub fn total(&self) -> usize {
        self.products.len() * SHARDS as usize
    }

    /// Post `i`: the shard object and what it is told.
    pub fn post(&self, i: usize) -> Option<(String, CatalogNotice)> {
        let (sku, changes) = self.products.get(i / SHARDS as usize)?;
        Some((index_key(sku, (i % SHARDS as usize) as u32), CatalogNotice { published: self.current.clone(), changes: changes.clone() }))
    }
}

/// What the coordinator answers a publish.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FanoutAnswer {
    /// `started`, or `already` (this pair was fanned out or is being: nothing more is sent).
    pub status: String,
    pub previous: String,
    pub current: String,
    pub products: usize,
    pub done: bool,
}

/// The coordinator's record: the recent publishes' fan-outs, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fanouts {
    pub publishes: Vec<Fanout>,
}

impl Fanouts {
    /// A publish of `body.current` after `body.previous`: planned, unless this pair is known.
    pub fn begin(&mut self, body: FanoutBody, now: i64) -> FanoutAnswer {
        if let Some(f) = self.publishes.iter().find(|f| f.previous == body.previous && f.current == body.current) {
            return FanoutAnswer {
                status: "already".into(),
                previous: f.previous.clone(),
                current: f.current.clone(),
                products: f.products.len(),
                done: f.done_at.is_some(),
            };
        }
        let mut products: Vec<(String, Vec<CatalogChange>)> = Vec::new();
        for c in body.changes.into_iter().take(MAX_CHANGES) {
            match products.iter_mut().find(|(sku, _)| *sku == c.sku) {
                Some((_, list)) => list.push(c),
                None => products.push((c.sku.clone(), vec![c])),
            }
        }
        let done_at = products.is_empty().then_some(now);
        let f = Fanout { previous: body.previous, current: body.current, products, started_at: now, done_at, ..Fanout::default() };
        let answer = FanoutAnswer {
            status: "started".into(),
            previous: f.previous.clone(),
            current: f.current.clone(),
            products: f.products.len(),
            done: f.done_at.is_some(),
        };
        self.publishes.push(f);
        let over = self.publishes.len().saturating_sub(MAX_PUBLISHES);
        self.publishes.drain(..over);
        answer
    }

    /// The fan-out to work on at `now` (the oldest unfinished one, unless it is backing off).
    pub fn pending(&self, now: i64) -> Option<usize> {
        let i = self.publishes.iter().position(|f| f.done_at.is_none())?;
        self.publishes[i].retry_at.is_none_or(|t| now >= t).then_some(i)
    }

    /// Posts up to `next` of fan-out `i` were made.
    pub fn advanced(&mut self, i: usize, next: usize, now: i64) {
        let f = &mut self.publishes[i];
        f.next = next;
        f.failures = 0;
        f.retry_at = None;
        if next >= f.total() {
            f.done_at = Some(now);
        }
    }

    /// Post `next` of fan-out `i` failed (`why`): tried again after the backoff, or skipped
    /// after [`MAX_TRIES`] (true).
    pub fn failed(&mut self, i: usize, next: usize, why: String, now: i64) -> bool {
        let f = &mut self.publishes[i];
        f.next = next;
        f.last_error = why;
        if f.failures + 1 >= MAX_TRIES {
            f.skipped += 1;
            self.advanced(i, next + 1, now);
            return true;
        }
        let wait = RETRY_FIRST_SECS.saturating_mul(1 << f.failures.min(16)).min(RETRY_MAX_SECS);
        f.failures = f.failures.saturating_add(1);
        f.retry_at = Some(now + wait);
        false
    }

    /// When the coordinator's alarm should fire next: now for work ready, the backoff's end
    /// for work waiting, `None` when every fan-out is done.
    pub fn wake_at(&self, now: i64) -> Option<i64> {
        let f = self.publishes.iter().find(|f| f.done_at.is_none())?;
        Some(f.retry_at.unwrap_or(now).max(now))
    }
}

/// What the publish trigger compares: `bundle:previous` and `bundle:current` as KV has them.
/// `Err`: why there is nothing to compare (the answer says so, 200: not an error).
pub fn publish_pair(previous: Option<&str>, current: Option<&str>) -> Result<(String, String), &'static str> {
    let valid = |v: Option<&str>| v.map(str::trim).filter(|v| crate::bundles::is_valid_version(v)).map(str::to_string);
    match (valid(previous), valid(current)) {
        (_, None) => Err("no bundle:current: nothing is published"),
        (None, Some(_)) => Err("no bundle:previous: a first publish changes nothing for anyone"),
        (Some(p), Some(c)) if p == c => Err("bundle:previous is bundle:current: nothing changed"),
        (Some(p), Some(c)) => Ok((p, c)),
    }
}

/// A visitor's object is told a publish changed products it watches or carted: the catalog
/// journeys start (or take the products in); their messages go when the alarm runs them.
pub fn catalog_changed(visitor: &mut VisitorState, journeys: &BundleBody, link_secret: &[u8], notice: &CatalogNotice, now: i64) -> Vec<Effect> {
    Runner::new(journeys, link_secret).with_time_zones(&Tzdb).catalog_changed(visitor, &notice.published, &notice.changes, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitrine_engine::journey::Change;

    fn drop(sku: &str) -> CatalogChange {
        CatalogChange { sku: sku.into(), change: Change::PriceDrop { old: 10.0, new: 8.0, percent: 20.0 } }
    }

    #[test]
    fn a_visitor_is_always_in_one_shard_and_visitors_spread() {
        assert_eq!(shard_of("a:v1"), shard_of("a:v1"));
        let used: std::collections::BTreeSet<u32> = (0..200).map(|i| shard_of(&format!("a:visitor-{i}"))).collect();
        assert_eq!(used.len(), SHARDS as usize, "200 visitors use every shard");
        assert_eq!(index_key("85123A", 3), "watch:85123A:3");
        assert!(is_watch_key("watch:85123A:3") && is_watch_key(COORDINATOR_KEY) && !is_watch_key("a:watch:1"));
    }

    #[test]
    fn a_shard_is_bounded_and_forgets_expired_entries() {
        let mut r = IndexRecord::default();
        for i in 0..(MAX_PER_SHARD + 10) {
            r.add(&format!("a:{i}"), 1_000 + i as i64);
        }
        assert_eq!(r.watchers.len(), MAX_PER_SHARD);
        assert!(!r.live(2_000).contains(&"a:0".to_string()), "the oldest went");
        r.add("a:20", 5_000); // written again: lives on, once
        assert_eq!(r.live(5_000).iter().filter(|v| *v == "a:20").count(), 1);
        // a:10 ..= a:30 were written at 1010 ..= 1030; a:20 again at 5000.
        assert_eq!(r.live(1_030 + ENTRY_TTL).len(), MAX_PER_SHARD - 20, "entries as old as the TTL are not live");
        assert_eq!(r.forget_expired(5_000 + ENTRY_TTL), None);
        assert!(r.watchers.is_empty());
    }

    #[test]
    fn a_publish_pair_fans_out_once_every_shard_of_every_changed_product() {
        let mut f = Fanouts::default();
        let body = FanoutBody {
            previous: "p".into(),
            current: "c".into(),
            changes: vec![drop("A"), drop("B"), CatalogChange { sku: "A".into(), change: Change::BackInStock }],
        };
        let a = f.begin(body.clone(), 100);
        assert_eq!((a.status.as_str(), a.products, a.done), ("started", 2, false));
        assert_eq!(f.begin(body.clone(), 200).status, "already", "the same pair never fans out twice");
        let i = f.pending(100).unwrap();
        assert_eq!(f.publishes[i].total(), 2 * SHARDS as usize);
        let (key, notice) = f.publishes[i].post(SHARDS as usize + 2).unwrap();
        assert_eq!((key.as_str(), notice.published.as_str(), notice.changes.len()), ("watch:B:2", "c", 1));
        assert_eq!(f.publishes[i].post(0).unwrap().1.changes.len(), 2, "both of A's changes go together");
        // A failure backs off, then the work resumes where it stopped.
        assert!(!f.failed(i, 5, "shard down".into(), 100));
        assert_eq!(f.pending(101), None);
        assert_eq!(f.wake_at(101), Some(100 + RETRY_FIRST_SECS));
        assert_eq!(f.pending(100 + RETRY_FIRST_SECS), Some(i));
        f.advanced(i, 2 * SHARDS as usize, 110);
        assert_eq!((f.pending(110), f.wake_at(110)), (None, None));
        assert!(f.begin(body, 300).done);
    }

    #[test]
    fn a_post_failing_again_and_again_is_skipped_not_blocking_the_rest() {
        let mut f = Fanouts::default();
        f.begin(FanoutBody { previous: "p".into(), current: "c".into(), changes: vec![drop("A")] }, 0);
        let mut now = 0;
        for _ in 1..MAX_TRIES {
            assert!(!f.failed(0, 3, "visitor object full".into(), now));
            now = f.wake_at(now).unwrap();
        }
        assert!(f.failed(0, 3, "visitor object full".into(), now), "skipped");
        assert_eq!((f.publishes[0].next, f.publishes[0].skipped, f.pending(now)), (4, 1, Some(0)));
    }

    #[test]
    fn the_publish_pair_needs_two_different_valid_versions() {
        let v = |n: u8| format!("{n:02x}").repeat(16);
        assert_eq!(publish_pair(Some(&v(1)), Some(&v(2))), Ok((v(1), v(2))));
        assert!(publish_pair(None, Some(&v(2))).is_err());
        assert!(publish_pair(Some(&v(2)), Some(&v(2))).is_err());
        assert!(publish_pair(Some("../etc"), Some(&v(2))).is_err());
        assert!(publish_pair(Some(&v(1)), None).is_err());
    }

    #[test]
    fn new_interests_are_what_entered_the_cart_or_the_watch_list() {
        let mut s = VisitorState::new("a:v");
        let before = interests(&s, 0);
        s.watch("W", 0);
        s.cart.add(vitrine_engine::cart::Line { sku: "C".into(), quantity: 1, ..Default::default() });
        assert_eq!(added(&before, &interests(&s, 0)), ["C", "W"]);
        assert!(added(&interests(&s, 0), &interests(&s, 0)).is_empty());
        let notice = |sku: &str| CatalogNotice { published: "b".into(), changes: vec![drop(sku)] };
        assert!(concerns(&s, &notice("W"), 0) && concerns(&s, &notice("C"), 0));
        assert!(!concerns(&s, &notice("X"), 0) && !concerns(&s, &notice("W"), ENTRY_TTL), "not watched, or no longer");
    }
}
