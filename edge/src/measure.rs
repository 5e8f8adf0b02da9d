//! The rules of recording (sans-IO): which requests and events become measurement records
//! (`vitrine_engine::measure::Record`, the one contract with `model-builder report`), their
//! envelope (message id, time, unit, source), and how the queue consumer stores a batch in R2
//! (one gzip'd JSONL file per day, named after the batch).
//!
//! The flow, carried out by the worker (edge-worker/src/measure.rs):
//!
//! ```text
//! page rewrite ──(wait_until, after the body streamed)──► MEASURE_QUEUE ─► consumer ─► R2
//!        └── send failed: POST /measure to the visitor's object (its outbox) ──┘     events/day=…/<batch>.jsonl.gz
//! /v1/events ─► visitor's object: records staged with the events (one write) ─► queue after the
//!               commit; removed once the queue took them; the alarm retries
//! consumer: a batch it cannot store is retried whole (same file names: overwritten, not
//!           duplicated); after max_retries the dead-letter queue's consumer stores it under dead/
//! ```
//!
//! Records name no customer: `unit` is `unit_key(MEASUREMENT_KEY, visitor id)`. A customer's
//! server event naming only a `userId` takes the unit of the first anonymous visitor linked to
//! that customer (the customer's object knows it), else the unit of the key `u:<userId>`: both
//! are keyed hashes. Erasing a customer deletes the objects that link them to their visitor
//! ids (and any records still waiting in their outboxes): what is stored stays, unlinkable.

use std::io::Write;

use sha2::{Digest, Sha256};

use crate::messaging::Outcome;
use crate::visitor_do::outbox::Attempt;
use vitrine_engine::journey::{Effect, LinkClaims, Record as JourneyRecord, Runner};
use vitrine_engine::measure::{self, Record, SOURCE_BROWSER, SOURCE_EDGE, SOURCE_JOURNEY, SOURCE_SERVER};
use vitrine_engine::{civil, events, Decision, Value};

/// The queue of records (producer binding) and the bucket the consumer writes to.
pub const QUEUE: &str = "MEASURE_QUEUE";
pub const BUCKET: &str = "MEASURE_BUCKET";
/// Stored files: `events/day=YYYY-MM-DD/<batch>.jsonl.gz`; what the dead-letter queue's
/// consumer got: `dead/day=…/<batch>.jsonl.gz`.
pub const EVENTS_PREFIX: &str = "events/";
pub const DEAD_PREFIX: &str = "dead/";
/// A queue whose name ends so is the dead-letter queue (wrangler.toml names both).
pub const DEAD_QUEUE_SUFFIX: &str = "-dead";

/// A client's strings are cut to this many bytes, its lists to [`MAX_ITEMS`].
pub const MAX_LEN: usize = 128;
pub const MAX_ITEMS: usize = 50;
/// Records a visitor's object keeps at most while the queue does not take them (the oldest go
/// first beyond; each is a few hundred bytes, well under the object's byte limit).
pub const MAX_PENDING: usize = 2000;
/// When a visitor's object tries its outbox again after a failed send (seconds).
pub const RETRY_SECS: i64 = 10;
/// The queue takes at most 100 messages per `sendBatch`.
pub const SEND_BATCH: usize = 100;
/// A queue message holds records as JSON lines up to this many bytes (the queue's limit is
/// 128 KB a message): a page view's exposures are one message, one send.
pub const MESSAGE_BYTES: usize = 96 * 1024;

/// `records` as queue messages: JSON lines, packed up to [`MESSAGE_BYTES`] each (a record
/// longer than that alone is a message of its own). One message per send is what makes
/// recording cheap: each message is work for the queue (measured in BENCHMARKS.md).
pub fn queue_messages(records: &[Record]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in records {
        let line = serde_json::to_string(r).expect("a record is JSON");
        match out.last_mut() {
            Some(m) if m.len() + 1 + line.len() <= MESSAGE_BYTES => {
                m.push('\n');
                m.push_str(&line);
            }
            _ => out.push(line),
        }
    }
    out
}

/// The records of one queue message (what [`queue_messages`] packed); lines that are no
/// record are counted, not kept.
pub fn message_records(body: &str) -> (Vec<Record>, usize) {
    let mut bad = 0;
    let records = body.lines().filter(|l| !l.trim().is_empty()).filter_map(|l| serde_json::from_str(l).map_err(|_| bad += 1).ok()).collect();
    (records, bad)
}

/// User-Agent tokens of crawlers, link previewers and monitors (lower case): a page view by
/// one exposes nothing. Headless browsers (HeadlessChrome: our own tests, some shoppers'
/// tools) are not in it.
pub const BOT_TOKENS: &[&str] = &[
    "bot",
    "crawler",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "facebookcatalog",
    "mediapartners-google",
    "adsbot",
    "bingpreview",
    "embedly",
    "quora link preview",
    "whatsapp",
    "telegrambot",
    "skypeuripreview",
    "pinterest",
    "lighthouse",
    "pingdom",
    "uptimerobot",
    "statuscake",
    "ahrefs",
    "semrush",
    "petalsearch",
    "baiduspider",
    "duckduckgo-favicons",
    "headlesschromium-prerender",
    "python-requests",
    "curl/",
    "wget/",
    "go-http-client",
    "okhttp",
    "java/",
    "libwww-perl",
    "httpclient",
    "scrapy",
    "node-fetch",
    "axios/",
];

/// Whether a request's `User-Agent` is a crawler's (no User-Agent at all counts as one: every
/// browser sends it).
pub fn is_bot(user_agent: Option<&str>) -> bool {
    let Some(ua) = user_agent.map(str::trim).filter(|u| !u.is_empty()) else { return true };
    let ua = ua.to_ascii_lowercase();
    BOT_TOKENS.iter().any(|t| ua.contains(t))
}

/// Whether a page view is recorded at all: a measurement key is set, the visitor is no bot,
/// and, where the site asks first (`REQUIRE_CONSENT`), the visitor said yes (`may_store`).
pub fn records_page(has_key: bool, user_agent: Option<&str>, may_store: bool) -> bool {
    has_key && may_store && !is_bot(user_agent)
}

/// The exposures of one page view, with their envelope: `decisions` are those of the slots the
/// page really had, as the rewrite filled them (in document order); `page` the page view's id
/// (random per request), also the stem of each record's `messageId` (`<page>-<n>`).
pub fn page_records(decisions: &[Decision], holdout_arm: Option<&str>, key: &[u8], visitor_id: &str, page: &str, now: i64) -> Vec<Record> {
    let unit = measure::unit_key(key, visitor_id);
    measure::page_exposures(decisions, holdout_arm)
        .into_iter()
        .enumerate()
        .map(|(i, r)| Record { message_id: format!("{page}-{i}"), ts: now, unit: unit.clone(), source: SOURCE_EDGE.into(), page: page.into(), ..r })
        .collect()
}

/// The record of one event `/v1/events` accepted (its JSON as checked), if its row in the
/// event table is `measured`: its properties read once (bounded), its source `server` when the
/// batch carried the write key, else `browser`. The unit is that of its `anonymousId`; an event
/// naming only a `userId` gets an empty unit, which the customer's object fills
/// ([`fill_units`]). The time is when the edge took it (`now`): a client's clock is no
/// partition key. The record carries nothing else of the event: no `userId`, no traits.
pub fn event_record(event_json: &str, server: bool, key: &[u8], now: i64) -> Option<Record> {
    let v: Value = serde_json::from_str(event_json).ok()?;
    let name = match v.path("type").and_then(Value::as_str) {
        Some("track") => v.path("event").and_then(Value::as_str)?,
        _ => return None,
    };
    if !events::track(name).is_some_and(|s| s.measured) {
        return None;
    }
    let message_id = v.path("messageId").and_then(Value::as_str).filter(|m| !m.is_empty())?;
    let anonymous = v.path("anonymousId").and_then(Value::as_str).filter(|a| !a.is_empty());
    let mut r = Record {
        message_id: cut(message_id).into(),
        event: name.into(),
        ts: now,
        unit: anonymous.map(|a| measure::unit_key(key, a)).unwrap_or_default(),
        source: if server { SOURCE_SERVER } else { SOURCE_BROWSER }.into(),
        ..Record::default()
    };
    let empty = Value::Object(Default::default());
    measure::read_properties(&mut r, v.path("properties").unwrap_or(&empty), MAX_LEN, MAX_ITEMS);
    Some(r)
}

/// Units for the records of an object that came without one (a server event naming only the
/// `userId`, what the journeys did, a message's click): an anonymous visitor's own id (object
/// key `a:<visitor id>`, the id its pages are measured under); for a customer's object the first
/// anonymous visitor linked to the customer (`linked`, object keys as the object keeps them),
/// else the object's own key.
pub fn fill_units(records: &mut [Record], key: &[u8], own_key: &str, linked: &[String]) {
    if records.iter().all(|r| !r.unit.is_empty()) {
        return;
    }
    let anchor = own_key.strip_prefix("a:").or_else(|| linked.iter().find_map(|k| k.strip_prefix("a:"))).unwrap_or(own_key);
    let unit = measure::unit_key(key, anchor);
    for r in records.iter_mut().filter(|r| r.unit.is_empty()) {
        r.unit.clone_from(&unit);
    }
}

/// What the journeys did, as records (units left to [`fill_units`]): per run started,
/// `Journey Entered`, with the visitor's arm of the journey's experiment and of the global
/// holdout (`Experiment Viewed`: a journey experiment's units are those who entered). Message
/// ids come from the visitor's key and the run, so a replayed run is counted once.
pub fn journey_records(runner: &Runner, visitor_key: &str, effects: &[Effect], now: i64) -> Vec<Record> {
    let mut out = Vec::new();
    for e in effects {
        let Effect::Record(JourneyRecord::Started { journey, run }) = e else { continue };
        let id = format!("{visitor_key}:{journey}:{run}");
        let base = Record { ts: now, source: SOURCE_JOURNEY.into(), journey: journey.clone(), ..Record::default() };
        out.push(Record { message_id: format!("{id}:entered"), event: measure::JOURNEY_ENTERED.into(), ..base.clone() });
        if let Some((experiment, arm)) = runner.journey_arm(visitor_key, journey) {
            out.push(Record {
                message_id: format!("{id}:arm"),
                event: measure::EXPERIMENT_VIEWED.into(),
                experiment: experiment.into(),
                arm: arm.into(),
                ..base.clone()
            });
        }
        if let Some(arm) = runner.holdout_arm(visitor_key) {
            out.push(Record {
                message_id: format!("{id}:holdout"),
                event: measure::EXPERIMENT_VIEWED.into(),
                experiment: measure::HOLDOUT_EXPERIMENT.into(),
                arm: arm.into(),
                ..base.clone()
            });
        }
    }
    out
}

/// A message the provider took (`delivered` in the delivery log): `Message Sent`, once per
/// message (its idempotency key).
pub fn sent_record(attempt: &Attempt) -> Option<Record> {
    matches!(attempt.outcome, Outcome::Delivered { .. }).then(|| Record {
        message_id: format!("{}:sent", attempt.key),
        event: measure::MESSAGE_SENT.into(),
        ts: attempt.at,
        source: SOURCE_JOURNEY.into(),
        journey: attempt.journey.clone(),
        step: Some(attempt.step),
        channel: attempt.channel.as_str().into(),
        ..Record::default()
    })
}

/// A message its provider reports delivered (SendGrid's `delivered` event, Twilio's
/// `delivered` status; `feedback.rs`): `Message Delivered`, once per message (its idempotency
/// `key`), for the visitor object it went to (which fills the unit).
pub fn delivered_record(key: &str, journey: &str, step: Option<u32>, channel: &str, at: i64) -> Record {
    provider_record(measure::MESSAGE_DELIVERED, "delivered", key, journey, step, channel, at)
}

/// An email its provider reports opened (SendGrid's `open` event): `Message Opened`, once per
/// message; the journey's next step may ask for no open (`if = "not_opened"`).
pub fn opened_record(key: &str, journey: &str, step: Option<u32>, channel: &str, at: i64) -> Record {
    provider_record(measure::MESSAGE_OPENED, "opened", key, journey, step, channel, at)
}

fn provider_record(event: &str, what: &str, key: &str, journey: &str, step: Option<u32>, channel: &str, at: i64) -> Record {
    Record {
        message_id: format!("{}:{what}", cut(key)),
        event: event.into(),
        ts: at,
        source: SOURCE_JOURNEY.into(),
        journey: cut(journey).into(),
        step,
        channel: channel.into(),
        ..Record::default()
    }
}

/// A push notification clicked, as the service worker reports it (`push.rs`): `Message
/// Clicked`, once per message (its idempotency `key`); the link it opens records its own.
pub fn push_click_record(key: &str, journey: &str, step: u32, at: i64) -> Record {
    Record {
        message_id: format!("{}:clicked", cut(key)),
        event: measure::MESSAGE_CLICKED.into(),
        ts: at,
        source: SOURCE_JOURNEY.into(),
        journey: cut(journey).into(),
        step: Some(step),
        channel: vitrine_engine::journey::Channel::Push.as_str().into(),
        ..Record::default()
    }
}

/// A message's link followed (the click redirect, `click.rs`): `Message Clicked`, one per click.
pub fn click_record(claims: &LinkClaims, now: i64, nonce: &str) -> Record {
    Record {
        message_id: format!("{}:{}:{}:click:{nonce}", claims.visitor, claims.journey, claims.step),
        event: measure::MESSAGE_CLICKED.into(),
        ts: now,
        source: SOURCE_JOURNEY.into(),
        journey: cut(&claims.journey).into(),
        step: Some(claims.step),
        channel: cut(&claims.channel).into(),
        offer: cut(&claims.offer).into(),
        ..Record::default()
    }
}

fn cut(s: &str) -> &str {
    vitrine_engine::truncate(s, MAX_LEN)
}

/// A stored batch's name: hex of SHA-256 over the queue's ids of its messages, in order. A
/// redelivered batch has the same messages, so its files overwrite the first try's.
pub fn batch_name<'a>(message_ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for id in message_ids {
        h.update(id.as_bytes());
        h.update([0]);
    }
    h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// One file to store: its key and gzip'd JSONL.
#[derive(Debug)]
pub struct BatchFile {
    pub key: String,
    pub records: usize,
    pub gzip: Vec<u8>,
}

/// A batch as files, one per day of its records' `ts` (days in order, records in batch order):
/// `<prefix>day=YYYY-MM-DD/<batch>.jsonl.gz`, `prefix` [`EVENTS_PREFIX`] or [`DEAD_PREFIX`].
pub fn batch_files(records: &[Record], prefix: &str, batch: &str) -> Vec<BatchFile> {
    let mut days: Vec<(String, Vec<&Record>)> = Vec::new();
    for r in records {
        let day = civil::day_string(r.ts);
        match days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, list)) => list.push(r),
            None => days.push((day, vec![r])),
        }
    }
    days.sort_by(|a, b| a.0.cmp(&b.0));
    days.into_iter()
        .map(|(day, list)| {
            let mut jsonl = String::new();
            for r in &list {
                jsonl.push_str(&serde_json::to_string(r).expect("a record serializes"));
                jsonl.push('\n');
            }
            BatchFile { key: format!("{prefix}day={day}/{batch}.jsonl.gz"), records: list.len(), gzip: gzip(jsonl.as_bytes()) }
        })
        .collect()
}

/// gzip (flate2's pure-Rust backend: the same bytes natively and in wasm).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4 + 64), flate2::Compression::default());
    e.write_all(bytes).expect("writing to memory");
    e.finish().expect("writing to memory")
}

/// The export route's listing options: a prefix under the stored folders only, a cursor, a
/// page size within 1..=1000.
#[derive(Debug, PartialEq)]
pub struct Listing {
    pub prefix: String,
    pub cursor: Option<String>,
    pub limit: u32,
}

impl Listing {
    /// From the query string (`prefix`, `cursor`, `limit`): `Err` names what is wrong.
    pub fn parse(query: &str) -> Result<Listing, String> {
        let prefix = crate::query::get(query, "prefix").unwrap_or_else(|| EVENTS_PREFIX.into());
        if !(prefix.starts_with(EVENTS_PREFIX) || prefix.starts_with(DEAD_PREFIX)) {
            return Err(format!("prefix must start with {EVENTS_PREFIX:?} or {DEAD_PREFIX:?}"));
        }
        let limit = match crate::query::get(query, "limit") {
            None => 1000,
            Some(l) => l.parse::<u32>().ok().filter(|l| (1..=1000).contains(l)).ok_or("limit must be 1 to 1000")?,
        };
        Ok(Listing { prefix, cursor: crate::query::get(query, "cursor").filter(|c| !c.is_empty()), limit })
    }
}

/// Whether `key` names a stored file the export route may stream.
pub fn is_stored_file(key: &str) -> bool {
    (key.starts_with(EVENTS_PREFIX) || key.starts_with(DEAD_PREFIX)) && key.ends_with(".jsonl.gz") && !key.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use vitrine_engine::{DecidedItem, ExperimentArm, Explain, Status};

    #[test]
    fn records_go_as_few_messages_and_come_back_whole() {
        let rec = |i: usize| Record {
            message_id: format!("m{i}"),
            event: "Promotion Viewed".into(),
            ts: 1,
            unit: "u".into(),
            source: "edge".into(),
            ..Record::default()
        };
        let page: Vec<Record> = (0..5).map(rec).collect();
        let messages = queue_messages(&page);
        assert_eq!(messages.len(), 1, "a page view's exposures: one message");
        assert_eq!(message_records(&messages[0]), (page, 0));
        let many: Vec<Record> = (0..2000).map(rec).collect();
        let messages = queue_messages(&many);
        assert!(messages.len() > 1 && messages.iter().all(|m| m.len() <= MESSAGE_BYTES), "packed within the queue's limit");
        let back: Vec<Record> = messages.iter().flat_map(|m| message_records(m).0).collect();
        assert_eq!(back, many, "nothing lost, order kept");
        assert_eq!(message_records("not json\n\n{\"messageId\":\"x\"}").1, 2, "lines that are no record are counted");
    }

    #[test]
    fn crawlers_are_bots_and_browsers_including_headless_ones_are_not() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
            "Twitterbot/1.0",
            "WhatsApp/2.23.20.0",
            "curl/8.5.0",
            "python-requests/2.31",
            "Some Web Crawler",
            "Baiduspider+(+http://www.baidu.com/search/spider.htm)",
        ] {
            assert!(is_bot(Some(ua)), "{ua}");
        }
        assert!(is_bot(None) && is_bot(Some("  ")), "every browser sends a User-Agent");
        for ua in [
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
        ] {
            assert!(!is_bot(Some(ua)), "{ua}");
        }
        assert!(records_page(true, Some("Mozilla/5.0 Firefox/128.0"), true));
        assert!(!records_page(true, Some("Mozilla/5.0 Firefox/128.0"), false), "no consent where it is asked: nothing");
        assert!(!records_page(false, Some("Mozilla/5.0 Firefox/128.0"), true), "no key: nothing");
    }

    fn filled(placement: &str, skus: &[&str]) -> Decision {
        Decision {
            placement: placement.into(),
            status: Status::Filled,
            title: String::new(),
            variant: None,
            items: skus
                .iter()
                .map(|s| DecidedItem {
                    sku: (*s).into(),
                    title: String::new(),
                    url: String::new(),
                    image: String::new(),
                    price: 1.0,
                    source: "popular",
                    score: 1.0,
                })
                .collect(),
            html: "<p>x</p>".into(),
            explain: Explain { experiment: Some(ExperimentArm { key: "e".into(), arm: "b".into() }), ..Explain::default() },
        }
    }

    #[test]
    fn a_page_views_records_carry_one_envelope_and_unique_ids() {
        let r = page_records(&[filled("recs", &["A", "B"]), filled("side", &["C"])], None, b"k", "visitor-1", "pv1", 1_764_633_600);
        assert_eq!(r.iter().map(|r| r.message_id.as_str()).collect::<Vec<_>>(), ["pv1-0", "pv1-1", "pv1-2", "pv1-3"]);
        assert!(r.iter().all(|r| r.unit == measure::unit_key(b"k", "visitor-1") && r.source == "edge" && r.page == "pv1" && r.ts == 1_764_633_600));
        assert_eq!(r[1].event, measure::PRODUCT_LIST_VIEWED);
        assert_eq!(r[1].items, ["A", "B"]);
    }

    #[test]
    fn measured_events_become_records_without_the_customer() {
        let order = r#"{"type":"track","event":"Order Completed","messageId":"m1","userId":"17850","anonymousId":"v1","context":{"traits":{"email":"jo@x.test"}},"properties":{"order_id":"o1","revenue":42.5,"currency":"GBP","products":[{"product_id":"A"}],"email":"jo@x.test"}}"#;
        let r = event_record(order, true, b"k", 100).unwrap();
        assert_eq!(
            (r.event.as_str(), r.source.as_str(), r.order_id.as_str(), r.revenue, r.unit.clone()),
            ("Order Completed", "server", "o1", Some(42.5), measure::unit_key(b"k", "v1"))
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("17850") && !json.contains("jo@x.test"), "{json}");
        let clicked = r#"{"type":"track","event":"Product Clicked","messageId":"m2","anonymousId":"v1","properties":{"product_id":"A","list_id":"recs"}}"#;
        assert_eq!(event_record(clicked, false, b"k", 100).unwrap().source, "browser");
        let searched = r#"{"type":"track","event":"Products Searched","messageId":"m3","anonymousId":"v1"}"#;
        assert!(event_record(searched, false, b"k", 100).is_none(), "not measured");
        assert!(event_record(r#"{"type":"page","messageId":"m4","anonymousId":"v1"}"#, false, b"k", 100).is_none());
        let only_user = r#"{"type":"track","event":"Order Completed","messageId":"m5","userId":"17850","properties":{"order_id":"o2"}}"#;
        let mut records = vec![event_record(only_user, true, b"k", 100).unwrap()];
        assert!(records[0].unit.is_empty());
        fill_units(&mut records, b"k", "u:17850", &["a:phone".into(), "a:laptop".into()]);
        assert_eq!(records[0].unit, measure::unit_key(b"k", "phone"), "the first linked visitor's unit");
        let mut alone = vec![event_record(only_user, true, b"k", 100).unwrap()];
        fill_units(&mut alone, b"k", "u:17850", &[]);
        assert_eq!(alone[0].unit, measure::unit_key(b"k", "u:17850"));
        assert_ne!(alone[0].unit, "u:17850");
    }

    #[test]
    fn a_batch_is_stored_as_one_gzip_file_per_day_named_after_the_batch() {
        let rec = |id: &str, ts: i64| Record {
            message_id: id.into(),
            event: "Product Clicked".into(),
            ts,
            unit: "u".into(),
            source: "edge".into(),
            ..Record::default()
        };
        let day = 86_400;
        let records = [rec("a", 20_000 * day + 5), rec("b", 19_999 * day), rec("c", 20_000 * day + 7)];
        let name = batch_name(["q1", "q2", "q3"]);
        assert_eq!(name, batch_name(["q1", "q2", "q3"]), "a redelivery names the same files");
        assert_ne!(name, batch_name(["q1", "q2"]));
        let files = batch_files(&records, EVENTS_PREFIX, &name);
        assert_eq!(
            files.iter().map(|f| (f.key.clone(), f.records)).collect::<Vec<_>>(),
            [(format!("events/day=2024-10-03/{name}.jsonl.gz"), 1), (format!("events/day=2024-10-04/{name}.jsonl.gz"), 2)]
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(&files[1].gzip[..]).read_to_string(&mut text).unwrap();
        let back: Vec<Record> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(back, [records[0].clone(), records[2].clone()]);
        assert!(is_stored_file(&files[0].key) && !is_stored_file("events/../secret.jsonl.gz") && !is_stored_file("bundle:current"));
    }

    #[test]
    fn the_export_lists_only_stored_folders() {
        assert_eq!(Listing::parse("").unwrap(), Listing { prefix: "events/".into(), cursor: None, limit: 1000 });
        assert_eq!(Listing::parse("prefix=dead%2F&cursor=c1&limit=5").unwrap(), Listing { prefix: "dead/".into(), cursor: Some("c1".into()), limit: 5 });
        assert!(Listing::parse("prefix=other/").is_err() && Listing::parse("limit=0").is_err());
    }
}
