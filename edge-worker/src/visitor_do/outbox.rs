//! Messages waiting for delivery, and the record of every attempt. Persisted with the visitor
//! before any request goes out, so a restart resumes delivery instead of losing or re-deciding
//! messages; each message keeps its idempotency key across attempts and restarts.

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
            self.pending.push(Pending { message, attempts: 0, next_attempt: now });
        }
    }

    /// The next message due at `now`, oldest first.
    pub fn due(&self, now: i64) -> Option<&Pending> {
        self.pending.iter().filter(|p| p.next_attempt <= now).min_by_key(|p| p.next_attempt)
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
            Outcome::Delivered { .. } | Outcome::Failed { .. } => {
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
