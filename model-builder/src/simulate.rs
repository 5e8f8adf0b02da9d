//! `model-builder simulate`: replays the journeys over a real order log and counts the messages
//! they would have sent, per journey per week and per channel. The sanity check a marketer asks
//! for before switching journeys on ("how many emails a week is that?").
//!
//! Each known customer becomes one visitor, driven through the same engine code the edge runs,
//! with a virtual clock: at their first order they identify and consent (to `--consent`
//! channels), each order is a `Checkout Started` with its lines a few minutes before an
//! `Order Completed`, and after their second order their typical gap between orders (median so
//! far, never looking ahead) is sent as the `typical_gap_days` trait. Alarms fire in time order
//! across all customers.
//!
//! What an order log cannot say: nobody browses or abandons a cart in it, so `cart_abandonment`
//! and `browse_abandonment` only fire when their first step is shorter than the checkout
//! lead time. Nor do prices or stock change in it: `back_in_stock` and `price_drop` fire on a
//! timeline of catalog changes given apart (`--catalog-changes`, `date,sku,price,in_stock`),
//! diffed with the edge's own `catalog_changes`, for customers who asked to be told: an assumed
//! share of buyers of each product (`--watch-rate`, drawn per customer and product). The
//! report says what it could not see rather than inventing abandoned carts.
//!
//! Nor does it say who opens or clicks a message: steps with `if = "not_opened"` /
//! `"not_clicked"` branch on assumed rates (`--open-rate`, `--click-rate`, per message, drawn
//! from a hash of the message's key: the same run gives the same report), the open or click
//! taken as happening right after the message. `not_purchased` follows the log's own orders.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use vitrine_engine::bundle::{BundleBody, Catalog, Stats};
use vitrine_engine::civil::day_string as day;
use vitrine_engine::journey::{Channel, Effect, Event, EventKind, Interaction, Item, Record, Runner, Traits, VisitorState, DAY};

use crate::config::LoadedConfig;
use crate::data::{CustomerIdx, Dataset, Order};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::{check, ingest, recs, rfm};

/// How long before an order its checkout starts.
pub const CHECKOUT_LEAD_SECS: i64 = 10 * 60;
const WEEK: i64 = 7 * DAY;
/// 1970-01-05, the first Monday of unix time: weeks start on Mondays.
const FIRST_MONDAY: i64 = 4 * DAY;

#[derive(Clone, Debug)]
pub struct Options {
    /// Channels every customer consents to at their first order.
    pub consent: Vec<Channel>,
    /// Keep firing alarms this long after the last order (messages that would follow the data).
    pub tail: i64,
    /// Signs the deep links (any value: the links are counted, not sent).
    pub link_secret: Vec<u8>,
    /// Share of messages opened (a click is an open too): 0 to 1.
    pub open_rate: f64,
    /// Share of messages clicked: 0 to 1, at most `open_rate`.
    pub click_rate: f64,
    /// Price and stock changes over time, for the catalog triggers (sorted by time).
    pub catalog_changes: Vec<TimedChange>,
    /// Share of (customer, product bought) pairs where the customer asks to be told when the
    /// product is back or cheaper (`Product Alert Requested` at the order): 0 to 1.
    pub watch_rate: f64,
}

/// One product's price and/or stock from `at` on (`--catalog-changes`).
#[derive(Clone, Debug, PartialEq)]
pub struct TimedChange {
    pub at: i64,
    pub sku: String,
    pub price: Option<f32>,
    pub in_stock: Option<bool>,
}

/// Reads `--catalog-changes`: a CSV `date,sku,price,in_stock` (date `YYYY-MM-DD`, midnight UTC;
/// an empty price or stock keeps it). A bad row is an error naming its line.
pub fn read_catalog_changes(path: &std::path::Path) -> Result<Vec<TimedChange>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| Error::Invalid(format!("{}:{}: {what} (expected date,sku,price,in_stock)", path.display(), i + 1));
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [date, sku, price, stock] = f[..] else { return Err(bad("not 4 fields")) };
        let at = vitrine_engine::civil::parse_day_unix(date).ok_or_else(|| bad("date is not YYYY-MM-DD"))?;
        if sku.is_empty() {
            return Err(bad("empty sku"));
        }
        let price = match price {
            "" => None,
            p => Some(p.parse::<f32>().ok().filter(|p| p.is_finite() && *p >= 0.0).ok_or_else(|| bad("price is not a number ≥ 0"))?),
        };
        let in_stock = match stock.to_ascii_lowercase().as_str() {
            "" => None,
            "yes" | "true" | "1" => Some(true),
            "no" | "false" | "0" => Some(false),
            _ => return Err(bad("in_stock is not yes/no")),
        };
        out.push(TimedChange { at, sku: sku.into(), price, in_stock });
    }
    out.sort_by_key(|c| c.at);
    Ok(out)
}

impl Default for Options {
    fn default() -> Self {
        Options {
            consent: Channel::ALL.to_vec(),
            tail: 0,
            link_secret: b"simulate".to_vec(),
            open_rate: 0.0,
            click_rate: 0.0,
            catalog_changes: Vec::new(),
            watch_rate: 0.0,
        }
    }
}

impl Options {
    /// What the visitor does with message `key`, as the assumed rates say: the same key, the
    /// same answer.
    fn reaction(&self, key: &str) -> Option<Interaction> {
        let draw = vitrine_engine::hashing::hash("simulate-engagement", key, 2).unwrap_or(1.0);
        if draw < self.click_rate {
            Some(Interaction::Clicked)
        } else if draw < self.open_rate.max(self.click_rate) {
            Some(Interaction::Opened)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub customers: u64,
    /// Orders without a customer id: nobody to write to, left out.
    pub guest_orders: u64,
    pub orders: u64,
    pub events: u64,
    pub alarms: u64,
    pub from: i64,
    pub until: i64,
    /// Week (Monday, unix seconds) -> journey -> messages.
    pub weeks: BTreeMap<i64, BTreeMap<String, u64>>,
    /// Week (Monday, unix seconds) -> channel -> messages.
    pub channel_weeks: BTreeMap<i64, BTreeMap<Channel, u64>>,
    /// Messages the assumed rates had opened and clicked (`--open-rate`, `--click-rate`).
    pub opened: u64,
    pub clicked: u64,
    /// Catalog triggers: products back in stock or cheaper (`--catalog-changes`), and the
    /// "notify me" requests the assumed `--watch-rate` made.
    pub catalog_changes: u64,
    pub watch_requests: u64,
    /// Journey -> channel -> messages.
    pub channels: BTreeMap<String, BTreeMap<Channel, u64>>,
    pub started: BTreeMap<String, u64>,
    /// "journey: reason" -> steps not sent.
    pub skipped: BTreeMap<String, u64>,
    /// Messages held for quiet hours (sent later, counted in `weeks` when sent).
    pub held: u64,
    /// Time spent inside the engine: `handle` (events) and `on_alarm` (steps, rendering).
    pub event_time: Duration,
    pub alarm_time: Duration,
    pub journeys: Vec<String>,
}

impl Report {
    pub fn messages(&self) -> u64 {
        self.channels.values().flat_map(|c| c.values()).sum()
    }

    /// Mean engine time per event, in microseconds.
    pub fn micros_per_event(&self) -> f64 {
        self.event_time.as_secs_f64() * 1e6 / self.events.max(1) as f64
    }

    /// Mean engine time per alarm (where messages are composed), in microseconds.
    pub fn micros_per_alarm(&self) -> f64 {
        self.alarm_time.as_secs_f64() * 1e6 / self.alarms.max(1) as f64
    }

    fn note(&mut self, fx: Vec<Effect>) {
        for e in fx {
            match e {
                Effect::Send(m) => {
                    let week = m.created_at - (m.created_at - FIRST_MONDAY).rem_euclid(WEEK);
                    *self.weeks.entry(week).or_default().entry(m.journey.clone()).or_default() += 1;
                    *self.channel_weeks.entry(week).or_default().entry(m.channel).or_default() += 1;
                    *self.channels.entry(m.journey).or_default().entry(m.channel).or_default() += 1;
                }
                Effect::Record(Record::Started { journey, .. }) => *self.started.entry(journey).or_default() += 1,
                Effect::Record(Record::Skipped { journey, reason, .. }) => *self.skipped.entry(format!("{journey}: {reason}")).or_default() += 1,
                Effect::Record(Record::Held { .. }) => self.held += 1,
                Effect::Record(_) | Effect::SetAlarm(_) | Effect::ClearAlarm => {}
            }
        }
    }
}

struct Customer {
    state: VisitorState,
    order_times: Vec<i64>,
}

struct Replay<'a> {
    ds: &'a Dataset,
    runner: Runner<'a>,
    opts: &'a Options,
    customers: Vec<Option<Customer>>,
    /// (alarm time, customer), lazily invalidated: an entry counts only if it is still the
    /// customer's alarm when popped.
    alarms: BinaryHeap<Reverse<(i64, CustomerIdx)>>,
    report: Report,
    next_message: u64,
    /// The catalog as the timeline has changed it so far, and the next change to apply.
    catalog: Catalog,
    next_change: usize,
}

impl<'a> Replay<'a> {
    /// An event of customer `c`: a known customer of the export, so their contacts are the
    /// store's own (confirmed, as an identify with proof is at the edge).
    fn event(&mut self, c: CustomerIdx, kind: EventKind) -> Event {
        self.next_message += 1;
        let user_id = self.ds.customers[c as usize].clone();
        Event { message_id: format!("sim-{}", self.next_message), anonymous_id: String::new(), user_id, utc_offset_minutes: None, time_zone: None, kind }
    }

    /// Runs the engine on one customer and books the effects.
    fn with_customer(&mut self, c: CustomerIdx, alarm: bool, f: impl FnOnce(&Runner, &mut VisitorState) -> Vec<Effect>) {
        let customer = self.customers[c as usize].as_mut().expect("customer exists");
        let before = customer.state.alarm;
        let t = Instant::now();
        let fx = f(&self.runner, &mut customer.state);
        *(if alarm { &mut self.report.alarm_time } else { &mut self.report.event_time }) += t.elapsed();
        for m in fx.iter().filter_map(|e| if let Effect::Send(m) = e { Some(m) } else { None }) {
            if let Some(what) = self.opts.reaction(&m.idempotency_key) {
                customer.state.engaged(&m.journey, what);
                self.report.opened += 1;
                self.report.clicked += u64::from(what == Interaction::Clicked);
            }
        }
        if let Some(at) = customer.state.alarm.filter(|&a| Some(a) != before) {
            self.alarms.push(Reverse((at, c)));
        }
        self.report.note(fx);
    }

    fn send(&mut self, c: CustomerIdx, kind: EventKind, now: i64) {
        let e = self.event(c, kind);
        self.report.events += 1;
        self.with_customer(c, false, |r, s| r.handle(s, &e, now));
    }

    fn fire_alarms_until(&mut self, t: i64) {
        while let Some(&Reverse((at, c))) = self.alarms.peek() {
            if at > t {
                break;
            }
            self.alarms.pop();
            let current = self.customers[c as usize].as_ref().and_then(|x| x.state.alarm);
            if current != Some(at) {
                continue; // superseded
            }
            self.report.alarms += 1;
            self.with_customer(c, true, |r, s| r.on_alarm(s, at));
        }
    }

    /// Applies the catalog changes due by `t`, one date at a time: the edge's own diff of the
    /// catalog before and after, handed to every customer who carts or watches a product in it.
    fn apply_catalog_changes_until(&mut self, t: i64) {
        while let Some(at) = self.opts.catalog_changes.get(self.next_change).map(|c| c.at).filter(|&at| at <= t) {
            self.fire_alarms_until(at);
            let mut products: Vec<vitrine_engine::bundle::Product> = self.catalog.iter().map(|p| p.to_product()).collect();
            while let Some(c) = self.opts.catalog_changes.get(self.next_change).filter(|c| c.at == at) {
                if let Some(p) = products.iter_mut().find(|p| p.sku == c.sku) {
                    p.price = c.price.unwrap_or(p.price);
                    p.in_stock = c.in_stock.unwrap_or(p.in_stock);
                }
                self.next_change += 1;
            }
            let after = Catalog::new(products, self.catalog.categories.clone());
            let changes = vitrine_engine::journey::catalog_changes(&self.catalog, &after);
            self.catalog = after;
            self.report.catalog_changes += changes.len() as u64;
            if changes.is_empty() {
                continue;
            }
            let published = format!("simulate-{at}");
            for c in 0..self.customers.len() as CustomerIdx {
                let concerned = self.customers[c as usize]
                    .as_ref()
                    .is_some_and(|x| changes.iter().any(|ch| x.state.cart.iter().any(|l| l.sku == ch.sku) || x.state.watches(&ch.sku, at)));
                if concerned {
                    self.with_customer(c, false, |r, s| r.catalog_changed(s, &published, &changes, at));
                }
            }
        }
    }

    fn items(&self, o: &Order) -> Vec<Item> {
        self.ds
            .order_lines(o)
            .iter()
            .map(|l| Item {
                sku: self.ds.products[l.product as usize].sku.clone(),
                quantity: l.quantity.clamp(1, 10_000),
                price: Some(l.unit_price),
                ..Item::default()
            })
            .collect()
    }

    fn order(&mut self, o: &Order) {
        let Some(c) = o.customer else {
            self.report.guest_orders += 1;
            return;
        };
        self.report.orders += 1;
        let checkout = o.time - CHECKOUT_LEAD_SECS;
        self.apply_catalog_changes_until(checkout);
        self.fire_alarms_until(checkout);
        if self.customers[c as usize].is_none() {
            self.report.customers += 1;
            let id = format!("u:{}", self.ds.customers[c as usize]);
            self.customers[c as usize] = Some(Customer { state: VisitorState::new(id), order_times: Vec::new() });
            // Synthetic addresses: the replay counts messages, it never sends them.
            let traits = Traits {
                email: Some(format!("customer-{}@example.invalid", self.ds.customers[c as usize])),
                phone: Some("+15555550100".into()),
                push_token: Some("simulated".into()),
                ..Traits::default()
            };
            self.send(c, EventKind::Identify(traits), checkout);
            let changes = self.opts.consent.iter().map(|&ch| (ch, true)).collect();
            self.send(c, EventKind::Consent { changes, push_token: None }, checkout);
        }
        let items = self.items(o);
        self.send(c, EventKind::CheckoutStarted(Some(items.clone())), checkout);
        self.fire_alarms_until(o.time);
        self.send(c, EventKind::OrderCompleted { order_id: o.invoice.clone(), products: items.clone() }, o.time);
        if self.opts.watch_rate > 0.0 {
            let customer = self.ds.customers[c as usize].clone();
            for item in items {
                let draw = vitrine_engine::hashing::hash("simulate-watch", &[customer.as_str(), ":", &item.sku].concat(), 2).unwrap_or(1.0);
                if draw < self.opts.watch_rate {
                    self.report.watch_requests += 1;
                    self.send(c, EventKind::ProductAlertRequested { sku: item.sku }, o.time);
                }
            }
        }

        let customer = self.customers[c as usize].as_mut().expect("customer exists");
        customer.order_times.push(o.time);
        if let Some(gap) = median_gap_days(&customer.order_times) {
            let traits = Traits { typical_gap_days: Some(gap), ..Traits::default() };
            self.send(c, EventKind::Identify(traits), o.time);
        }
    }
}

/// Median days between consecutive orders (None before the second order). Orders on the same
/// day count as one visit.
fn median_gap_days(times: &[i64]) -> Option<f32> {
    let mut gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).filter(|&g| g >= DAY).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    Some((gaps[gaps.len() / 2] as f64 / DAY as f64) as f32)
}

/// What `model-builder simulate` was asked.
#[derive(Clone, Debug, Default)]
pub struct SimulateOptions {
    pub config: PathBuf,
    /// Overrides `orders.path` of the config.
    pub orders: Option<PathBuf>,
    /// Overrides `catalog.path` of the config.
    pub catalog: Option<PathBuf>,
    pub replay: Options,
}

/// Reads the config and the order log, builds the tables the journeys use (as `build` does,
/// without writing a bundle), and replays.
pub fn run(opts: &SimulateOptions, progress: Progress) -> Result<Report> {
    let loaded = LoadedConfig::read(&opts.config)?;
    check::check(&loaded)?;
    let config = &loaded.config;
    let journey_problems = vitrine_engine::journey::check(&config.rules());
    if !journey_problems.is_empty() {
        return Err(Error::Invalid(format!("{}: {}", opts.config.display(), journey_problems.join("; "))));
    }
    if config.journeys.is_empty() {
        return Err(Error::Invalid(format!("{}: no [[journeys]] to simulate", opts.config.display())));
    }
    let orders = match (&opts.orders, &config.orders.path) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => loaded.resolve(p),
        (None, None) => return Err(Error::Invalid(format!("no orders file: pass --orders CSV or set orders.path in {}", opts.config.display()))),
    };
    let catalog_path = opts.catalog.clone().or_else(|| config.catalog.path.as_deref().map(|p| loaded.resolve(p)));
    let bar = progress.bytes("reading order lines");
    let (ds, _) = ingest::ingest(config, &orders, catalog_path.as_deref(), &bar)?;
    bar.finish_and_clear();
    let spinner = progress.spinner("building recommendation tables");
    let profiles = rfm::profiles(&ds);
    let segments: Vec<&str> = profiles.iter().map(|p| p.segment.name()).collect();
    let recs = recs::build_tables(&ds, &config.recs, &segments);
    spinner.finish_and_clear();
    let body = BundleBody {
        store: config.store.clone(),
        catalog: Catalog::new(ds.products.clone(), ds.categories.clone()),
        stats: Stats::default(),
        recs,
        rules: config.rules(),
    };
    let spinner = progress.spinner("replaying journeys");
    let report = replay(&ds, &body, &opts.replay);
    spinner.finish_and_clear();
    Ok(report)
}

/// Replays every order of `ds` (sorted by time) through the journeys of `body`.
pub fn replay(ds: &Dataset, body: &BundleBody, opts: &Options) -> Report {
    let mut r = Replay {
        ds,
        runner: Runner::new(body, &opts.link_secret).with_time_zones(&vitrine_engine::zones::Tzdb),
        opts,
        customers: (0..ds.customers.len()).map(|_| None).collect(),
        alarms: BinaryHeap::new(),
        report: Report { from: ds.first_time(), until: ds.last_time() + opts.tail, ..Report::default() },
        next_message: 0,
        catalog: body.catalog.clone(),
        next_change: 0,
    };
    r.report.journeys = body.rules.journeys.iter().map(|j| j.id.clone()).collect();
    for o in &ds.orders {
        r.order(o);
    }
    let until = r.report.until;
    r.apply_catalog_changes_until(until);
    r.fire_alarms_until(until);
    r.report
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(
            f,
            "Replayed {} orders of {} customers, {} to {} ({} guest orders left out: no one to write to)",
            self.orders,
            self.customers,
            day(self.from),
            day(self.until),
            self.guest_orders
        )?;
        writeln!(
            f,
            "Engine time: {:.2} µs per event ({} events), {:.2} µs per alarm ({} alarms, where messages are composed)",
            self.micros_per_event(),
            self.events,
            self.micros_per_alarm(),
            self.alarms
        )?;
        writeln!(f)?;
        writeln!(f, "Messages per week")?;
        let width = self.journeys.iter().map(|j| j.len()).max().unwrap_or(0).max(5);
        write!(f, "{:<10}", "week")?;
        for j in &self.journeys {
            write!(f, "  {j:>width$}")?;
        }
        writeln!(f, "  {:>width$}", "total")?;
        for (week, counts) in &self.weeks {
            write!(f, "{:<10}", day(*week))?;
            for j in &self.journeys {
                write!(f, "  {:>width$}", counts.get(j).copied().unwrap_or(0))?;
            }
            writeln!(f, "  {:>width$}", counts.values().sum::<u64>())?;
        }
        writeln!(f)?;
        writeln!(f, "Messages per channel per week")?;
        let channels: Vec<Channel> = Channel::ALL.into_iter().filter(|c| self.channel_weeks.values().any(|w| w.contains_key(c))).collect();
        write!(f, "{:<10}", "week")?;
        for c in &channels {
            write!(f, "  {:>8}", c.as_str())?;
        }
        writeln!(f)?;
        for (week, counts) in &self.channel_weeks {
            write!(f, "{:<10}", day(*week))?;
            for c in &channels {
                write!(f, "  {:>8}", counts.get(c).copied().unwrap_or(0))?;
            }
            writeln!(f)?;
        }
        let weeks = self.weeks.len().max(1) as f64;
        writeln!(f)?;
        writeln!(f, "Per journey and channel (total, mean per week over {} weeks with messages; runs started)", self.weeks.len())?;
        for j in &self.journeys {
            let by = self.channels.get(j);
            let total: u64 = by.map_or(0, |b| b.values().sum());
            write!(f, "  {j:<width$}  {total:>8}  {:>8.1}/week  started {:>6}  ", total as f64 / weeks, self.started.get(j).copied().unwrap_or(0))?;
            let parts: Vec<String> = Channel::ALL.iter().filter_map(|c| by.and_then(|b| b.get(c)).map(|n| format!("{c} {n}"))).collect();
            writeln!(f, "{}", if parts.is_empty() { "-".to_string() } else { parts.join(", ") })?;
        }
        let mut per_channel: BTreeMap<Channel, u64> = BTreeMap::new();
        for by in self.channels.values() {
            for (c, n) in by {
                *per_channel.entry(*c).or_default() += n;
            }
        }
        writeln!(f, "  {:<width$}  {:>8}  {}", "all", self.messages(), per_channel.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", "))?;
        if !self.skipped.is_empty() || self.held > 0 {
            writeln!(f)?;
            writeln!(
                f,
                "Not sent: {}",
                if self.skipped.is_empty() { "-".into() } else { self.skipped.iter().map(|(k, n)| format!("{k} ×{n}")).collect::<Vec<_>>().join("; ") }
            )?;
            writeln!(f, "Held for quiet hours, then sent: {}", self.held)?;
        }
        if self.catalog_changes > 0 || self.watch_requests > 0 {
            writeln!(f)?;
            writeln!(
                f,
                "Catalog triggers: {} products back in stock or cheaper (--catalog-changes), {} notify-me requests (--watch-rate)",
                self.catalog_changes, self.watch_requests
            )?;
        }
        if self.opened > 0 {
            writeln!(f)?;
            writeln!(f, "Assumed engagement: {} messages opened, {} of them clicked (--open-rate, --click-rate)", self.opened, self.clicked)?;
        }
        writeln!(f)?;
        write!(
            f,
            "Note: an order log has no browsing, abandoned carts, price or stock changes; cart and browse journeys fire here only if their first step comes within {} min of a checkout, back_in_stock and price_drop only on --catalog-changes.",
            CHECKOUT_LEAD_SECS / 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Line;
    use vitrine_engine::bundle::{Catalog, Neighbors, Product, RecTables, Scored};
    use vitrine_engine::rules::Rules;

    const T0: i64 = 1_291_190_400; // 2010-12-01 08:00 UTC, a Wednesday

    fn dataset() -> Dataset {
        let product = |sku: &str| Product { sku: sku.into(), title: sku.into(), price: 2.0, in_stock: true, ..Product::default() };
        let mut ds = Dataset { products: vec![product("A"), product("B")], customers: vec!["17850".into(), "13047".into()], ..Dataset::default() };
        // Customer 0 orders every 10 days, three times; customer 1 once; one guest order.
        let mut order = |customer: Option<u32>, time: i64, product: u32| {
            let start = ds.lines.len() as u32;
            ds.lines.push(Line { product, quantity: 2, unit_price: 2.0 });
            ds.orders.push(Order { invoice: format!("{}", 536_000 + ds.orders.len()), customer, country: 0, time, lines: start..start + 1 });
        };
        order(Some(0), T0, 0);
        order(None, T0 + DAY, 1);
        order(Some(1), T0 + 2 * DAY, 1);
        order(Some(0), T0 + 10 * DAY, 0);
        order(Some(0), T0 + 19 * DAY, 0);
        ds
    }

    fn body() -> BundleBody {
        let rules: Rules = serde_json::from_str(
            r#"{"journeys": [
              {"id": "cart", "trigger": "cart_abandonment", "steps": [{"after": "1h", "channel": "push", "subject": "s", "body": "b"}]},
              {"id": "thanks", "trigger": "post_purchase", "steps": [{"after": "3d", "channel": "email", "subject": "s", "body": "{{products}}"}]},
              {"id": "welcome", "trigger": "welcome", "steps": [{"after": "0s", "channel": "email", "subject": "s", "body": "b"}]},
              {"id": "winback", "trigger": "win_back", "steps": [{"after": "0s", "channel": "sms", "body": "b"},
                {"after": "1d", "channel": "whatsapp", "template": "HXb5b62575e6e4ff6129ad7c8efe1f983e", "body": "Hi {{1}}", "variables": ["{{first_name}}"]}]}
            ]}"#,
        )
        .unwrap();
        let p = |sku: &str| Product { sku: sku.into(), title: sku.into(), price: 2.0, in_stock: true, ..Product::default() };
        BundleBody {
            store: Default::default(),
            catalog: Catalog::new(vec![p("A"), p("B")], vec![]),
            stats: Default::default(),
            recs: RecTables { bought_together: Neighbors::from_lists(vec![vec![Scored { item: 1, score: 1.0 }], vec![]]), ..RecTables::default() },
            rules,
        }
    }

    #[test]
    fn counts_messages_per_journey_week_and_channel() {
        let report = replay(&dataset(), &body(), &Options { tail: 30 * DAY, ..Options::default() });
        assert_eq!((report.customers, report.orders, report.guest_orders), (2, 4, 1));
        let count = |j: &str, c: Channel| report.channels.get(j).and_then(|m| m.get(&c)).copied().unwrap_or(0);
        assert_eq!(count("welcome", Channel::Email), 2);
        assert_eq!(count("thanks", Channel::Email), 4, "one per order");
        assert_eq!(count("cart", Channel::Push), 0, "every checkout became an order within 10 minutes");
        // Customer 0's gap is 10 days: after the third order, "we miss you" 10 days later (in the tail).
        assert_eq!(count("winback", Channel::Sms), 1);
        assert_eq!(count("winback", Channel::Whatsapp), 1, "WhatsApp counted per channel");
        let no_whatsapp = Options { tail: 30 * DAY, consent: vec![Channel::Email, Channel::Sms, Channel::Push], ..Options::default() };
        let report = replay(&dataset(), &body(), &no_whatsapp);
        assert_eq!(report.channels["winback"].get(&Channel::Whatsapp), None, "no consent to it, nothing sent");
        assert_eq!(report.channels["winback"].get(&Channel::Sms), Some(&1));
        assert_eq!(report.weeks.values().map(|w| w.values().sum::<u64>()).sum::<u64>(), report.messages());
        // Weeks start on Monday: 2010-11-29 for the first welcome.
        assert_eq!(*report.weeks.keys().next().unwrap(), 1_290_988_800);
        let text = report.to_string();
        assert!(text.contains("2010-11-29"), "{text}");
    }

    /// The escalation: a push, then WhatsApp and email only for who did not click. With every
    /// message clicked only the push goes; with none, all three; a half, in between.
    #[test]
    fn branches_follow_the_assumed_click_rate_and_weeks_count_per_channel() {
        let mut b = body();
        b.rules.journeys = vec![serde_json::from_value(serde_json::json!({
            "id": "thanks", "trigger": "post_purchase", "steps": [
                {"after": "1h", "channel": "push", "subject": "s", "body": "b"},
                {"after": "1d", "channel": "sms", "if": "not_clicked", "body": "b"},
                {"after": "2d", "channel": "email", "if": "not_clicked", "subject": "s", "body": "b"}
            ]
        }))
        .unwrap()];
        let with = |click_rate: f64| {
            let r = replay(&dataset(), &b, &Options { tail: 30 * DAY, open_rate: click_rate, click_rate, ..Options::default() });
            let count = |c: Channel| r.channels.get("thanks").and_then(|m| m.get(&c)).copied().unwrap_or(0);
            let per_week: u64 = r.channel_weeks.values().flat_map(|w| w.values()).sum();
            assert_eq!(per_week, r.messages(), "every message in one week's channel count");
            (count(Channel::Push), count(Channel::Sms), count(Channel::Email))
        };
        assert_eq!(with(1.0), (4, 0, 0));
        assert_eq!(with(0.0), (4, 4, 4));
        let (push, sms, email) = with(0.5);
        assert_eq!(push, 4);
        assert!(sms < 4 && email <= sms, "{sms} {email}");
        let text = replay(&dataset(), &b, &Options { tail: 30 * DAY, open_rate: 0.5, click_rate: 0.5, ..Options::default() }).to_string();
        assert!(text.contains("Messages per channel per week") && text.contains("clicked (--open-rate, --click-rate)"), "{text}");
    }

    /// A price drop on the timeline reaches the customers the assumed watch rate had asking
    /// about the product, once; a drop smaller than the journey's minimum reaches nobody.
    #[test]
    fn a_price_drop_on_the_timeline_messages_the_watchers_once() {
        let mut b = body();
        b.rules.journeys = vec![serde_json::from_value(serde_json::json!({
            "id": "cheaper", "trigger": "price_drop", "min_drop_percent": 20,
            "steps": [{"after": "0s", "channel": "email", "subject": "s", "body": "{{products}}"}]
        }))
        .unwrap()];
        let change = |day: i64, price: f32| TimedChange { at: T0 + day * DAY, sku: "A".into(), price: Some(price), in_stock: None };
        let run = |watch_rate: f64, changes: Vec<TimedChange>| {
            let r = replay(&dataset(), &b, &Options { tail: 30 * DAY, watch_rate, catalog_changes: changes, ..Options::default() });
            (r.channels.get("cheaper").and_then(|m| m.get(&Channel::Email)).copied().unwrap_or(0), r.watch_requests, r.catalog_changes)
        };
        // Customer 0 buys A on days 0, 10 and 19, customer 1 B once (four requests): with everyone
        // watching, customer 0 gets one message for the day-25 drop (2.00 -> 1.00), none for
        // day 26's small one (1.00 -> 0.90).
        assert_eq!(run(1.0, vec![change(25, 1.0), change(26, 0.9)]), (1, 4, 2));
        assert_eq!(run(0.0, vec![change(25, 1.0)]), (0, 0, 1), "nobody asked");
        assert_eq!(run(1.0, vec![]), (0, 4, 0));
    }

    #[test]
    fn catalog_change_rows_are_read_and_bad_ones_named() {
        let dir = std::env::temp_dir().join(format!("vitrine-sim-changes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("changes.csv");
        std::fs::write(&p, "date,sku,price,in_stock\n2011-01-02,A,1.5,\n2011-01-01,B,,yes\n").unwrap();
        let c = read_catalog_changes(&p).unwrap();
        assert_eq!(c.iter().map(|c| (c.sku.as_str(), c.price, c.in_stock)).collect::<Vec<_>>(), [("B", None, Some(true)), ("A", Some(1.5), None)]);
        std::fs::write(&p, "date,sku,price,in_stock\n2011-01-02,A,cheap,\n").unwrap();
        let e = read_catalog_changes(&p).unwrap_err().to_string();
        assert!(e.contains("changes.csv:2") && e.contains("price"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn days_print_as_dates() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(T0), "2010-12-01");
        assert_eq!(day(951_782_400), "2000-02-29");
    }

    #[test]
    fn typical_gap_is_a_median_that_never_looks_ahead() {
        assert_eq!(median_gap_days(&[0]), None);
        assert_eq!(median_gap_days(&[0, 10 * DAY, 12 * DAY, 40 * DAY]), Some(10.0));
        assert_eq!(median_gap_days(&[0, 3600]), None, "same-day orders are one visit");
    }
}
