//! Messages waiting for delivery, and the record of every attempt. Persisted with the visitor
//! before any request goes out, so a restart resumes delivery instead of losing or re-deciding
//! messages; each message keeps its idempotency key across attempts and restarts.
//!
//! Each attempt is written as in flight before its request leaves (the runtime's output gate
//! holds the request until the write is durable). A message still in flight when an object
//! wakes up was cut off by a crash: the provider may have it, so it is recorded as
//! interrupted and not sent again. Retries happen only after an answer said to retry.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use vitrine_engine::journey::{Channel, Message};

use crate::messaging::{Outcome, RetryPolicy};

/// Attempts kept for `GET /v1/visitors/{id}/messages`.
const LOG_CAPACITY: usize = 100;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub message: Message,
    pub attempts: u32,
    /// Unix seconds.
    pub next_attempt: i64,
    /// A request for it is out (or was, when the worker stopped).
    #[serde(default)]
    pub in_flight: bool,
}

/// One delivery attempt, as the messages endpoint and the logs show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: i64,
    pub key: String,
    pub journey: String,
    pub step: u32,
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub link: String,
    pub attempt: u32,
    /// `delivered`, `retry` (another attempt is scheduled) or `failed`.
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Outbox {
    pub pending: Vec<Pending>,
    pub log: VecDeque<Attempt>,
}

impl Outbox {
    /// Queues a message for delivery at `now`; a key already queued is not queued twice.
    pub fn push(&mut self, message: Message, now: i64) {
        if !self.pending.iter().any(|p| p.message.idempotency_key == message.idempotency_key) {
            self.pending.push(Pending { message, attempts: 0, next_attempt: now, in_flight: false });
        }
    }

    /// The next message due at `now`, oldest first.
    pub fn due(&self, now: i64) -> Option<&Pending> {
        self.pending.iter().filter(|p| p.next_attempt <= now && !p.in_flight).min_by_key(|p| p.next_attempt)
    }

    /// Marks `key` as being sent; write this before the request goes out.
    pub fn begin(&mut self, key: &str) {
        if let Some(p) = self.pending.iter_mut().find(|p| p.message.idempotency_key == key) {
            p.in_flight = true;
        }
    }

    /// On waking up: attempts a crash cut off are settled as interrupted (never re-sent).
    pub fn interrupted(&mut self, now: i64) -> Vec<Attempt> {
        let keys: Vec<String> = self.pending.iter().filter(|p| p.in_flight).map(|p| p.message.idempotency_key.clone()).collect();
        let error = "the worker stopped during delivery: not sent again, so it cannot arrive twice";
        keys.iter().filter_map(|k| self.settle(k, Outcome::Interrupted { error: error.into() }, now, RetryPolicy::default())).collect()
    }

    /// When delivery next needs to run.
    pub fn next_wake(&self) -> Option<i64> {
        self.pending.iter().map(|p| p.next_attempt).min()
    }

    /// Books the outcome of an attempt at `key`: delivered or failed messages leave the queue,
    /// retries are rescheduled with backoff until the policy gives up. Returns the log entry.
    pub fn settle(&mut self, key: &str, outcome: Outcome, now: i64, policy: RetryPolicy) -> Option<Attempt> {
        let i = self.pending.iter().position(|p| p.message.idempotency_key == key)?;
        let p = &mut self.pending[i];
        p.attempts += 1;
        p.in_flight = false;
        let outcome = match outcome {
            Outcome::Retry { status, error } if p.attempts >= policy.max_attempts => {
                Outcome::Failed { status, error: format!("gave up after {} attempts: {error}", p.attempts) }
            }
            o => o,
        };
        let m = &p.message;
        let attempt = Attempt {
            at: now,
            key: key.into(),
            journey: m.journey.clone(),
            step: m.step,
            channel: m.channel,
            to: m.to.clone(),
            subject: m.subject.clone(),
            text: m.text.clone(),
            link: m.link.clone(),
            attempt: p.attempts,
            outcome: outcome.clone(),
        };
        match outcome {
            Outcome::Retry { .. } => p.next_attempt = now + policy.delay(p.attempts),
            Outcome::Delivered { .. } | Outcome::Failed { .. } | Outcome::Interrupted { .. } => {
                self.pending.remove(i);
            }
        }
        if self.log.len() >= LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(attempt.clone());
        Some(attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(key: &str) -> Message {
        Message { idempotency_key: key.into(), journey: "cart".into(), channel: Channel::Sms, ..Message::default() }
    }

    #[test]
    fn retries_back_off_then_give_up() {
        let policy = RetryPolicy { base_secs: 10, max_attempts: 3 };
        let mut o = Outbox::default();
        o.push(message("k"), 100);
        o.push(message("k"), 100);
        assert_eq!(o.pending.len(), 1, "one entry per key");
        let busy = || Outcome::Retry { status: 503, error: "busy".into() };
        o.settle("k", busy(), 100, policy);
        assert_eq!(o.next_wake(), Some(110));
        assert!(o.due(105).is_none());
        o.settle("k", busy(), 110, policy);
        assert_eq!(o.next_wake(), Some(130));
        let last = o.settle("k", busy(), 130, policy).unwrap();
        assert!(matches!(last.outcome, Outcome::Failed { ref error, .. } if error.starts_with("gave up after 3 attempts")));
        assert!(o.pending.is_empty());
        assert_eq!(o.log.len(), 3);
        let json = serde_json::to_value(&o.log[0]).unwrap();
        assert_eq!((json["outcome"].as_str(), json["status"].as_u64()), (Some("retry"), Some(503)));
    }

    #[test]
    fn an_attempt_cut_off_by_a_crash_is_never_sent_again() {
        let mut o = Outbox::default();
        o.push(message("k1"), 0);
        o.push(message("k2"), 0);
        o.begin("k1");
        assert_eq!(o.due(0).map(|p| p.message.idempotency_key.as_str()), Some("k2"), "in flight is not due");
        // What storage holds when the worker dies mid-request, loaded again:
        let mut woke: Outbox = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        let cut = woke.interrupted(5);
        assert_eq!(cut.len(), 1);
        assert!(matches!(cut[0].outcome, Outcome::Interrupted { .. }));
        assert_eq!(woke.pending.iter().map(|p| p.message.idempotency_key.as_str()).collect::<Vec<_>>(), ["k2"]);
    }

    #[test]
    fn delivered_leaves_the_queue_and_the_log_is_bounded() {
        let mut o = Outbox::default();
        for i in 0..150 {
            o.push(message(&format!("k{i}")), 0);
            o.settle(&format!("k{i}"), Outcome::Delivered { status: 202, provider_id: String::new() }, 0, RetryPolicy::default());
        }
        assert!(o.pending.is_empty());
        assert_eq!(o.log.len(), LOG_CAPACITY);
        assert_eq!(o.log[0].key, "k50");
    }
}
