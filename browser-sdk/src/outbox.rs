//! The event outbox: batching, consent gating, retry with backoff, and a bounded store for
//! offline periods. Pure: the host tells it the time, whether the browser is online, and how
//! each send went; it answers what to send and when to wake up.
//!
//! Delivery is at least once: a batch stays queued until the endpoint acknowledges it, and the
//! endpoint deduplicates by `messageId`. Nothing is dropped silently: an event that cannot be
//! kept is refused with a [`Refusal`] the host reports.

use alloc::string::String;
use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutboxConfig {
    /// Most events per request.
    pub max_batch: usize,
    /// An event waits at most this long for others to share its request.
    pub flush_delay_ms: f64,
    /// Most events kept (sending, waiting, or stored while offline).
    pub capacity: usize,
    /// Largest request body; sendBeacon refuses more than 64 KiB.
    pub max_body_bytes: usize,
    pub base_backoff_ms: f64,
    pub max_backoff_ms: f64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig { max_batch: 20, flush_delay_ms: 1_000.0, capacity: 200, max_body_bytes: 60_000, base_backoff_ms: 1_000.0, max_backoff_ms: 5.0 * 60_000.0 }
    }
}

/// Why an event was not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The store is full (long offline, endpoint down): the oldest events are kept.
    Full,
    /// One event larger than a request may be.
    TooLarge,
    /// The visitor refused consent.
    NoConsent,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Full => "event queue full (offline or endpoint down): event refused",
            Refusal::TooLarge => "event larger than the 60 KB request limit: event refused",
            Refusal::NoConsent => "visitor has not consented: event not collected",
        }
    }
}

/// Consent state, as far as sending is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Sent and stored.
    Open,
    /// Consent required and not yet given: kept in memory only, nothing sent or stored.
    Held,
    /// Consent refused: new events refused; what was collected with consent still goes out
    /// (including the revocation itself).
    Closed,
}

/// One request to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub id: u32,
    /// `{"batch":[…],"sentAt":"…"}`
    pub body: String,
    pub events: usize,
}

#[derive(Clone, Debug)]
struct Queued {
    json: String,
    at: f64,
}

#[derive(Clone, Debug)]
pub struct Outbox {
    config: OutboxConfig,
    /// The identity token `identify` was given (empty: none), sent with every batch: the edge
    /// stores events naming a customer only with proof.
    pub identity: String,
    gate: Gate,
    /// Oldest first; the first `in_flight` events are the batch being sent.
    queue: Vec<Queued>,
    in_flight: usize,
    batch_id: u32,
    failures: u32,
    retry_at: f64,
}

impl Outbox {
    pub fn new(config: OutboxConfig, gate: Gate) -> Self {
        Outbox { config, identity: String::new(), gate, queue: Vec::new(), in_flight: 0, batch_id: 0, failures: 0, retry_at: f64::MIN }
    }

    pub fn gate(&self) -> Gate {
        self.gate
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queues one event (a JSON object).
    pub fn push(&mut self, json: String, now: f64) -> Result<(), Refusal> {
        if self.gate == Gate::Closed {
            return Err(Refusal::NoConsent);
        }
        // Room for the batch wrapper too.
        if json.len() + 64 > self.config.max_body_bytes {
            return Err(Refusal::TooLarge);
        }
        if self.queue.len() >= self.config.capacity {
            return Err(Refusal::Full);
        }
        self.queue.push(Queued { json, at: now });
        Ok(())
    }

    /// Consent given: held events become sendable.
    pub fn grant(&mut self) {
        self.gate = Gate::Open;
    }

    /// Consent refused. Returns how many held (never consented) events were discarded.
    pub fn deny(&mut self) -> usize {
        let discarded = if self.gate == Gate::Held { core::mem::take(&mut self.queue).len() } else { 0 };
        self.in_flight = self.in_flight.min(self.queue.len());
        self.gate = Gate::Closed;
        discarded
    }

    fn may_send(&self) -> bool {
        self.gate != Gate::Held
    }

    /// The batch to send now, if one is due: full, or its oldest event has waited long enough.
    /// `now_ms` is wall-clock unix milliseconds (also written as `sentAt`).
    pub fn poll(&mut self, now_ms: f64, online: bool) -> Option<Batch> {
        if !self.may_send() || !online || self.in_flight > 0 || now_ms < self.retry_at {
            return None;
        }
        let oldest = self.queue.first()?;
        if self.queue.len() < self.config.max_batch && now_ms < oldest.at + self.config.flush_delay_ms {
            return None;
        }
        let count = self.fitting(0, self.config.max_batch);
        self.in_flight = count;
        self.batch_id = self.batch_id.wrapping_add(1);
        Some(Batch { id: self.batch_id, body: self.body(0..count, now_ms), events: count })
    }

    /// How many events from `start` fit in one request (at least one: each was checked on push).
    fn fitting(&self, start: usize, max_events: usize) -> usize {
        let mut size = 64;
        let mut count = 0;
        for q in self.queue.iter().skip(start).take(max_events) {
            size += q.json.len() + 1;
            if count > 0 && size > self.config.max_body_bytes {
                break;
            }
            count += 1;
        }
        count
    }

    fn body(&self, range: core::ops::Range<usize>, now_ms: f64) -> String {
        let mut out = String::with_capacity(self.queue[range.clone()].iter().map(|q| q.json.len() + 1).sum::<usize>() + 64);
        out.push_str("{\"batch\":[");
        for (i, q) in self.queue[range].iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&q.json);
        }
        out.push_str("],");
        if !self.identity.is_empty() {
            out.push_str("\"identity\":");
            crate::json::push_str_literal(&mut out, &self.identity);
            out.push(',');
        }
        out.push_str("\"sentAt\":\"");
        crate::json::push_iso8601(&mut out, now_ms as i64);
        out.push_str("\"}");
        out
    }

    /// The endpoint took batch `id` (2xx, or a 4xx that retrying cannot fix).
    pub fn acknowledged(&mut self, id: u32) {
        if id == self.batch_id && self.in_flight > 0 {
            self.queue.drain(..self.in_flight);
            self.in_flight = 0;
            self.failures = 0;
            self.retry_at = f64::MIN;
        }
    }

    /// Batch `id` failed (network error, 5xx, 429): retry later with exponential backoff.
    /// `jitter` in [0, 1) spreads retries from many visitors after an outage.
    pub fn failed(&mut self, id: u32, now_ms: f64, jitter: f64) {
        if id == self.batch_id && self.in_flight > 0 {
            self.in_flight = 0;
            self.failures = self.failures.saturating_add(1);
            let exp = self.config.base_backoff_ms * f64::from(1u32 << self.failures.min(16).saturating_sub(1));
            self.retry_at = now_ms + exp.min(self.config.max_backoff_ms) * (0.5 + jitter.clamp(0.0, 1.0) / 2.0);
        }
    }

    /// When the host should call [`Outbox::poll`] next, if anything is waiting to be sent.
    pub fn next_wakeup(&self) -> Option<f64> {
        if !self.may_send() || self.in_flight > 0 {
            return None;
        }
        let oldest = self.queue.first()?;
        let due = if self.queue.len() >= self.config.max_batch { f64::MIN } else { oldest.at + self.config.flush_delay_ms };
        Some(due.max(self.retry_at))
    }

    /// The page is going away: every waiting event (not the batch in flight, which the
    /// browser finishes with `keepalive`), as request bodies for sendBeacon. Call
    /// [`Outbox::beaconed`] with how many bodies the browser accepted.
    pub fn beacon_bodies(&self, now_ms: f64) -> Vec<String> {
        let mut bodies = Vec::new();
        if !self.may_send() {
            return bodies;
        }
        let mut start = self.in_flight;
        while start < self.queue.len() {
            let count = self.fitting(start, self.config.max_batch * 4);
            bodies.push(self.body(start..start + count, now_ms));
            start += count;
        }
        bodies
    }

    /// The browser accepted the first `accepted` of the bodies from `beacon_bodies`.
    pub fn beaconed(&mut self, accepted: usize) {
        let mut start = self.in_flight;
        for _ in 0..accepted {
            if start >= self.queue.len() {
                break;
            }
            let count = self.fitting(start, self.config.max_batch * 4);
            self.queue.drain(start..start + count);
            // The next body starts where this one did, now that it is gone.
            start = self.in_flight;
        }
    }

    /// What to keep in localStorage: one event per line, in flight included (at least once).
    /// Nothing while consent is pending.
    pub fn stored(&self) -> String {
        let mut out = String::new();
        if self.gate == Gate::Held {
            return out;
        }
        for q in &self.queue {
            out.push_str(&q.json);
            out.push('\n');
        }
        out
    }

    /// Takes back events stored by an earlier page: due at once, and ahead of this page's
    /// own (a visitor's events reach the endpoint in the order they happened).
    pub fn restore(&mut self, stored: &str, now_ms: f64) -> Result<(), Refusal> {
        let due = now_ms - self.config.flush_delay_ms;
        let earlier: Vec<Queued> = stored.lines().filter(|l| l.starts_with('{')).map(|l| Queued { json: l.into(), at: due }).collect();
        let room = self.config.capacity.saturating_sub(self.queue.len());
        let refused = earlier.len() > room;
        let at = self.in_flight;
        self.queue.splice(at..at, earlier.into_iter().take(room));
        if refused {
            Err(Refusal::Full)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn event(n: usize) -> String {
        alloc::format!(r#"{{"messageId":"m{n}","type":"track","event":"Product Viewed"}}"#)
    }

    fn ids(body: &str) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).expect("body is JSON");
        assert!(v["sentAt"].as_str().unwrap().ends_with('Z'));
        v["batch"].as_array().unwrap().iter().map(|e| e["messageId"].as_str().unwrap().to_string()).collect()
    }

    fn open() -> Outbox {
        Outbox::new(OutboxConfig::default(), Gate::Open)
    }

    #[test]
    fn waits_for_the_flush_delay_then_sends_one_batch() {
        let mut o = open();
        o.push(event(1), 0.0).unwrap();
        o.push(event(2), 300.0).unwrap();
        assert_eq!(o.poll(999.0, true), None);
        assert_eq!(o.next_wakeup(), Some(1_000.0));
        let b = o.poll(1_000.0, true).expect("due");
        assert_eq!((b.events, ids(&b.body)), (2, vec!["m1".to_string(), "m2".into()]));
        assert_eq!(o.poll(5_000.0, true), None, "one request at a time");
        o.acknowledged(b.id);
        assert!(o.is_empty());
        assert_eq!(o.next_wakeup(), None);
    }

    #[test]
    fn a_full_batch_goes_at_once_and_the_rest_follows() {
        let mut o = open();
        (0..25).for_each(|n| o.push(event(n), 0.0).unwrap());
        let b = o.poll(0.0, true).expect("full batch is due immediately");
        assert_eq!(b.events, 20);
        o.acknowledged(b.id);
        assert_eq!(o.poll(10.0, true), None, "5 left: wait for the delay");
        assert_eq!(o.poll(1_000.0, true).unwrap().events, 5);
    }

    #[test]
    fn backs_off_exponentially_after_failures_and_resets_on_success() {
        let mut o = open();
        o.push(event(1), 0.0).unwrap();
        let b = o.poll(1_000.0, true).unwrap();
        o.failed(b.id, 1_000.0, 0.999_999);
        assert_eq!(o.poll(1_999.0, true), None);
        let b = o.poll(2_000.0, true).expect("retried after 1 s");
        o.failed(b.id, 2_000.0, 0.999_999);
        assert_eq!(o.next_wakeup().map(f64::round), Some(4_000.0), "then 2 s");
        let b = o.poll(4_000.0, true).unwrap();
        o.failed(b.id, 4_000.0, 0.0);
        assert_eq!(o.next_wakeup(), Some(6_000.0), "then 4 s, halved by zero jitter");
        let b = o.poll(6_000.0, true).unwrap();
        assert_eq!(ids(&b.body), vec!["m1"], "the same event, same messageId");
        o.acknowledged(b.id);
        o.push(event(2), 7_000.0).unwrap();
        assert_eq!(o.next_wakeup(), Some(8_000.0), "backoff forgotten after a success");
    }

    #[test]
    fn backoff_is_capped() {
        let mut o = open();
        o.push(event(1), 0.0).unwrap();
        let mut now = 1_000.0;
        for _ in 0..40 {
            let b = o.poll(now, true).unwrap();
            o.failed(b.id, now, 0.999_999);
            now = o.next_wakeup().unwrap();
        }
        let b = o.poll(now, true).unwrap();
        o.failed(b.id, now, 0.999_999);
        assert!((o.next_wakeup().unwrap() - now - 300_000.0).abs() < 1.0);
    }

    #[test]
    fn sends_nothing_while_offline() {
        let mut o = open();
        o.push(event(1), 0.0).unwrap();
        assert_eq!(o.poll(10_000.0, false), None);
        assert!(o.poll(10_000.0, true).is_some());
    }

    #[test]
    fn stale_acknowledgements_change_nothing() {
        let mut o = open();
        o.push(event(1), 0.0).unwrap();
        let b = o.poll(1_000.0, true).unwrap();
        o.acknowledged(b.id + 7);
        o.failed(b.id + 7, 1_000.0, 0.5);
        assert_eq!(o.len(), 1);
        assert_eq!(o.poll(1_000.0, true), None, "still in flight");
    }

    #[test]
    fn refuses_with_a_reason_when_full_and_keeps_the_oldest() {
        let mut o = Outbox::new(OutboxConfig { capacity: 3, ..OutboxConfig::default() }, Gate::Open);
        (0..3).for_each(|n| o.push(event(n), 0.0).unwrap());
        assert_eq!(o.push(event(3), 0.0), Err(Refusal::Full));
        assert!(!Refusal::Full.reason().is_empty());
        assert_eq!(ids(&o.poll(1_000.0, true).unwrap().body), vec!["m0", "m1", "m2"]);
    }

    #[test]
    fn refuses_an_event_too_big_for_a_request() {
        let mut o = open();
        assert_eq!(o.push("x".repeat(70_000), 0.0), Err(Refusal::TooLarge));
    }

    #[test]
    fn splits_batches_by_size() {
        let mut o = Outbox::new(OutboxConfig { max_body_bytes: 300, ..OutboxConfig::default() }, Gate::Open);
        (0..6).for_each(|n| o.push(event(n), 0.0).unwrap());
        let b = o.poll(1_000.0, true).unwrap();
        assert!(b.body.len() <= 300 + 40, "{}", b.body.len());
        assert!(b.events < 6);
    }

    #[test]
    fn holds_events_until_consent_then_sends_them() {
        let mut o = Outbox::new(OutboxConfig::default(), Gate::Held);
        o.push(event(1), 0.0).unwrap();
        assert_eq!(o.poll(60_000.0, true), None, "nothing sent before consent");
        assert_eq!(o.next_wakeup(), None);
        assert_eq!(o.stored(), "", "nothing stored before consent");
        assert!(o.beacon_bodies(60_000.0).is_empty(), "nothing beaconed before consent");
        o.grant();
        assert_eq!(ids(&o.poll(60_000.0, true).unwrap().body), vec!["m1"]);
    }

    #[test]
    fn refusing_consent_discards_held_events_and_refuses_new_ones() {
        let mut o = Outbox::new(OutboxConfig::default(), Gate::Held);
        o.push(event(1), 0.0).unwrap();
        assert_eq!(o.deny(), 1);
        assert!(o.is_empty());
        assert_eq!(o.push(event(2), 0.0), Err(Refusal::NoConsent));
    }

    #[test]
    fn revoking_consent_still_delivers_what_was_collected_with_it() {
        let mut o = open();
        o.push(event(1), 0.0).unwrap();
        o.push(event(2), 0.0).unwrap(); // the revocation event itself
        assert_eq!(o.deny(), 0);
        assert_eq!(o.push(event(3), 0.0), Err(Refusal::NoConsent));
        assert_eq!(ids(&o.poll(1_000.0, true).unwrap().body), vec!["m1", "m2"]);
    }

    #[test]
    fn beacons_everything_waiting_but_the_batch_in_flight() {
        let mut o = open();
        (0..3).for_each(|n| o.push(event(n), 0.0).unwrap());
        let b = o.poll(1_000.0, true).unwrap();
        o.push(event(3), 1_100.0).unwrap();
        o.push(event(4), 1_200.0).unwrap();
        let bodies = o.beacon_bodies(1_300.0);
        assert_eq!(bodies.len(), 1);
        assert_eq!(ids(&bodies[0]), vec!["m3", "m4"]);
        o.beaconed(1);
        assert_eq!(o.len(), 3, "the in-flight batch is still ours");
        o.acknowledged(b.id);
        assert!(o.is_empty());
    }

    #[test]
    fn beacon_bodies_respect_the_size_limit_and_partial_acceptance() {
        let mut o = Outbox::new(OutboxConfig { max_body_bytes: 300, ..OutboxConfig::default() }, Gate::Open);
        (0..10).for_each(|n| o.push(event(n), 0.0).unwrap());
        let bodies = o.beacon_bodies(0.0);
        assert!(bodies.len() > 1);
        let all: Vec<String> = bodies.iter().flat_map(|b| ids(b)).collect();
        assert_eq!(all, (0..10).map(|n| alloc::format!("m{n}")).collect::<Vec<_>>(), "each once, in order");
        o.beaconed(1);
        let left: Vec<String> = o.beacon_bodies(0.0).iter().flat_map(|b| ids(b)).collect();
        assert_eq!(left, all[ids(&bodies[0]).len()..].to_vec(), "refused bodies stay queued");
    }

    #[test]
    fn stores_and_restores_across_pages() {
        let mut o = open();
        (0..3).for_each(|n| o.push(event(n), 0.0).unwrap());
        let _in_flight = o.poll(1_000.0, true).unwrap();
        let stored = o.stored();
        assert_eq!(stored.lines().count(), 3, "in-flight events are stored too: at least once");
        let mut next = open();
        next.push(event(9), 50_000.0).unwrap(); // the new page's own event
        next.restore(&stored, 50_000.0).unwrap();
        assert_eq!(ids(&next.poll(50_000.0, true).expect("due at once").body), vec!["m0", "m1", "m2", "m9"], "older first");
        let mut full = Outbox::new(OutboxConfig { capacity: 2, ..OutboxConfig::default() }, Gate::Open);
        assert_eq!(full.restore(&stored, 0.0), Err(Refusal::Full), "what does not fit is refused, with a reason");
        assert_eq!(full.len(), 2);
    }
}
