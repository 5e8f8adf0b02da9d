//! The journey state machines: (state, event, now) -> (state, effects), and the same for alarms.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::effect::{Effect, EndReason, Record, SkipReason};
use super::event::{ChurnRisk, Event, EventKind};
use super::message::Compose;
use super::state::{Run, VisitorState};
use crate::body::BundleBody;
use crate::rules::{Channel, Engagement, Journey, Trigger, HOLDOUT_ARM, PERSONALIZED_ARM};
use crate::time::DAY;
use crate::zones::{LocalClock, TimeZones};

// The catalog triggers' entry point (`Runner::catalog_changed`) and the catalogs' diff, in a
// file of their own: a child module, so it starts and ends runs through this file's paths.
#[path = "catalog.rs"]
pub(super) mod catalog;

/// SMS keywords carriers and Twilio treat as opt-out / opt-in.
const SMS_STOP: [&str; 6] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];
const SMS_START: [&str; 3] = ["START", "YES", "UNSTOP"];

/// What an inbound SMS says about texting that number: `Some(false)` to stop (STOP and the
/// carriers' other opt-out words), `Some(true)` to start again, `None` for anything else.
pub fn sms_keyword(body: &str) -> Option<bool> {
    let word = body.trim().to_ascii_uppercase();
    if SMS_STOP.contains(&word.as_str()) {
        Some(false)
    } else if SMS_START.contains(&word.as_str()) {
        Some(true)
    } else {
        None
    }
}
/// The id a visitor's key (`a:<visitor id>`, `u:<user id>`) buckets journeys on.
pub fn bucketing_unit(key: &str) -> &str {
    key.strip_prefix("a:").or_else(|| key.strip_prefix("u:")).unwrap_or(key)
}

/// Whether the welcome series waits for a confirmation: every channel the visitor consented to
/// whose address we know is one they typed and have not confirmed yet (double opt-in, e.g. the
/// exit offer's lead form). It starts on the confirmation instead ([`Runner::confirmed`], a YES
/// text), so its first message (and the code it promises) goes to a confirmed address. A
/// store's customer (addresses it vouched for), a push subscriber, or a consent given before
/// any address is known starts it at once, as before.
fn awaits_confirmation(s: &VisitorState) -> bool {
    let granted = [Channel::Email, Channel::Sms, Channel::Whatsapp, Channel::Push, Channel::Webhook].into_iter().filter(|&c| s.consent.granted(c));
    let known: Vec<Channel> = granted.filter(|&c| c != Channel::Webhook && s.profile.address(c).is_some()).collect();
    !known.is_empty() && known.iter().all(|&c| !s.profile.confirmed(c))
}

/// Whether a profile whose last order is `profile_last_order` (unix seconds, a day's
/// midnight) was made before the latest order this visitor's state knows (compared by day, the
/// profile's precision): its predictions are about an order that has come since.
fn predates_last_order(s: &VisitorState, profile_last_order: Option<i64>) -> bool {
    match (profile_last_order, s.orders.last_at) {
        (Some(profile), Some(known)) => profile.div_euclid(DAY) < known.div_euclid(DAY),
        _ => false,
    }
}

/// Order ids remembered to count a re-sent order once.
const RECENT_ORDER_IDS: usize = 20;

/// Runs the bundle's journeys. Cheap to build; borrows the bundle and the link secret.
pub struct Runner<'a> {
    body: &'a BundleBody,
    link_secret: &'a [u8],
    zones: Option<&'a dyn TimeZones>,
}

impl<'a> Runner<'a> {
    /// `link_secret` signs the `vt` tokens of deep links and unsubscribe links.
    pub fn new(body: &'a BundleBody, link_secret: &'a [u8]) -> Self {
        Runner { body, link_secret, zones: None }
    }

    /// Local times (quiet hours, a step's `at`) from the visitors' IANA zones in `zones`;
    /// without it, from the UTC offsets they reported.
    pub fn with_time_zones(self, zones: &'a dyn TimeZones) -> Self {
        Runner { zones: Some(zones), ..self }
    }

    /// The visitor's clock: their zone, else their reported offset, else the store's.
    fn clock<'s>(&'s self, s: &'s VisitorState) -> LocalClock<'s> {
        let m = &self.body.rules.messaging;
        LocalClock::new(self.zones, s.time_zone.as_deref(), s.utc_offset_minutes, &m.default_time_zone, m.default_utc_offset_minutes)
    }

    fn journeys(&self) -> &'a [Journey] {
        &self.body.rules.journeys
    }

    fn journey(&self, id: &str) -> Option<&'a Journey> {
        self.journeys().iter().find(|j| j.id == id)
    }

    /// Applies one validated event received at `now` (unix seconds, the host's clock).
    pub fn handle(&self, s: &mut VisitorState, e: &Event, now: i64) -> Vec<Effect> {
        let mut fx = Vec::new();
        if !s.seen.insert(&e.message_id) {
            fx.push(Effect::Record(Record::Duplicate { message_id: e.message_id.clone() }));
            return fx;
        }
        if let Some(offset) = e.utc_offset_minutes {
            s.utc_offset_minutes = Some(offset);
        }
        if let Some(zone) = &e.time_zone {
            s.time_zone = Some(zone.clone());
        }
        if !e.user_id.is_empty() && s.profile.user_id.is_empty() {
            s.profile.user_id.clone_from(&e.user_id);
        }
        // Browsing and cart events are activity: the visitor has not abandoned anything yet.
        let activity = !matches!(e.kind, EventKind::Identify(_) | EventKind::Consent { .. } | EventKind::SmsReply { .. });
        if activity {
            s.last_activity = now;
        }
        match &e.kind {
            EventKind::ProductViewed(item) => {
                s.viewed(&item.sku);
                if s.cart.is_empty() {
                    self.start_or_touch(s, Trigger::BrowseAbandonment, now, now, &mut fx);
                }
            }
            EventKind::ProductAdded(item) => {
                s.cart_add(item);
                self.end_all(s, Trigger::BrowseAbandonment, EndReason::AddedToCart, &mut fx);
            }
            EventKind::ProductRemoved(item) => s.cart_remove(item),
            EventKind::ProductAlertRequested { sku } => s.watch(sku, now),
            EventKind::CartViewed(Some(items)) | EventKind::CheckoutStarted(Some(items)) => s.cart_replace(items),
            EventKind::OrderCompleted { order_id, products } => self.order_completed(s, order_id, products, now, &mut fx),
            EventKind::Identify(t) => {
                let p = &mut s.profile;
                // A customer's contacts the store vouches for (the edge stores an identify naming
                // a userId only with proof) are confirmed; a new one typed by an anonymous
                // visitor waits for its owner's answer (double opt-in).
                if let Some(phone) = &t.phone {
                    p.phone_verified = !e.user_id.is_empty() || (p.phone_verified && p.phone == *phone);
                }
                if let Some(email) = &t.email {
                    p.email_verified = !e.user_id.is_empty() || (p.email_verified && p.email == *email);
                }
                for (mine, theirs) in
                    [(&mut p.first_name, &t.first_name), (&mut p.email, &t.email), (&mut p.phone, &t.phone), (&mut p.push_token, &t.push_token)]
                {
                    if let Some(v) = theirs {
                        mine.clone_from(v);
                    }
                }
                if t.typical_gap_days.is_some() {
                    p.typical_gap_days = t.typical_gap_days;
                }
                // Predictions are the store's word about a customer (an identify naming them),
                // and only if made after their latest order we know of.
                let predicted = !e.user_id.is_empty() && !predates_last_order(s, t.last_order_at);
                if predicted {
                    let p = &mut s.profile;
                    p.churn_risk = t.churn_risk.or(p.churn_risk);
                    p.expected_next_order_at = t.expected_next_order_at.or(p.expected_next_order_at);
                }
                if let Some(at) = t.last_order_at.filter(|&at| s.orders.last_at.is_none_or(|l| at > l)) {
                    s.orders.last_at = Some(at);
                }
                if predicted && t.churn_risk.is_some() {
                    self.follow_churn_risk(s, now, &mut fx);
                }
                if t.typical_gap_days.is_some() || t.last_order_at.is_some() || (predicted && t.expected_next_order_at.is_some()) {
                    self.arm_win_back(s, now, &mut fx);
                }
            }
            EventKind::Consent { changes, push_token } => {
                if let Some(t) = push_token {
                    s.profile.push_token.clone_from(t);
                }
                for &(channel, granted) in changes {
                    s.consent.set(channel, granted, now);
                }
                self.after_consent(s, changes.iter().any(|c| c.1), changes.iter().any(|c| !c.1), now, &mut fx);
            }
            EventKind::SmsReply { body, channel } => {
                if let Some(granted) = sms_keyword(body) {
                    // The number itself answered: a YES confirms it. The answer is for the channel
                    // it came on (a STOP on WhatsApp leaves texts as they were).
                    s.profile.phone_verified |= granted && !s.profile.phone.is_empty();
                    let channel = if *channel == Channel::Whatsapp { Channel::Whatsapp } else { Channel::Sms };
                    s.consent.set(channel, granted, now);
                    self.after_consent(s, granted, !granted, now, &mut fx);
                }
            }
            EventKind::CartViewed(None) | EventKind::CheckoutStarted(None) | EventKind::Other(_) | EventKind::Page { .. } => {}
        }
        // The cart journey follows the cart: activity with items in it (re)starts its clock.
        if activity && !matches!(e.kind, EventKind::OrderCompleted { .. }) {
            if s.cart.is_empty() {
                self.end_all(s, Trigger::CartAbandonment, EndReason::CartEmptied, &mut fx);
            } else {
                self.start_or_touch(s, Trigger::CartAbandonment, now, now, &mut fx);
            }
        }
        self.settle_alarm(s, &mut fx);
        fx
    }

    /// Sends (or holds, or skips) every step that is due at `now`.
    pub fn on_alarm(&self, s: &mut VisitorState, now: i64) -> Vec<Effect> {
        let mut fx = Vec::new();
        s.alarm = None; // the host's alarm fired; settle_alarm sets the next one
        while let Some(i) = self.next_due(s, now) {
            self.advance(s, i, now, &mut fx);
        }
        self.settle_alarm(s, &mut fx);
        fx
    }

    /// Identify stitching: folds `other` (an anonymous visitor's state) into `s` (the known
    /// customer's), so the cart on the phone is the cart on the laptop and one journey runs for
    /// both. A journey running in both keeps the furthest progress and the latest clock.
    /// Absorbing the same visitor (by `id`) twice changes nothing.
    pub fn absorb(&self, s: &mut VisitorState, other: &VisitorState, now: i64) -> Vec<Effect> {
        let mut fx = Vec::new();
        if !s.absorb_facts(other) {
            return fx;
        }
        for theirs in &other.runs {
            match s.runs.iter_mut().find(|r| r.journey == theirs.journey) {
                Some(mine) => {
                    mine.next_step = mine.next_step.max(theirs.next_step);
                    mine.anchor = mine.anchor.max(theirs.anchor);
                    mine.held_until = None;
                }
                None => {
                    let run = Run { id: s.next_run_id, held_until: None, ..theirs.clone() };
                    s.next_run_id += 1;
                    fx.push(Effect::Record(Record::Started { journey: run.journey.clone(), run: run.id }));
                    s.runs.push(run);
                }
            }
        }
        if !s.cart.is_empty() {
            self.end_all(s, Trigger::BrowseAbandonment, EndReason::AddedToCart, &mut fx);
        }
        if !self.has_run(s, Trigger::WinBack) {
            self.arm_win_back(s, now, &mut fx);
        }
        self.settle_alarm(s, &mut fx);
        fx
    }

    fn order_completed(&self, s: &mut VisitorState, order_id: &str, products: &[super::event::Item], now: i64, fx: &mut Vec<Effect>) {
        if !order_id.is_empty() {
            if s.orders.recent_ids.iter().any(|o| o == order_id) {
                return; // the same order sent again under a new messageId
            }
            s.orders.recent_ids.push(order_id.into());
            if s.orders.recent_ids.len() > RECENT_ORDER_IDS {
                s.orders.recent_ids.remove(0);
            }
        }
        s.orders.count += 1;
        s.orders.last_at = Some(now);
        for run in &mut s.runs {
            run.engaged.purchased = true;
        }
        s.orders.last_products =
            if products.is_empty() { s.cart.iter().map(|l| l.sku.clone()).collect() } else { products.iter().map(|p| p.sku.clone()).collect() };
        // Enough to recommend from; a 500-line wholesale order need not weigh on every event.
        s.orders.last_products.truncate(super::state::MAX_LAST_ORDER_PRODUCTS);
        s.cart.clear();
        self.end_all(s, Trigger::CartAbandonment, EndReason::OrderCompleted, fx);
        self.end_all(s, Trigger::BrowseAbandonment, EndReason::OrderCompleted, fx);
        self.end_catalog_runs(s, fx);
        for j in self.journeys().iter().filter(|j| j.trigger == Trigger::PostPurchase) {
            if self.may_start(s, j, now) {
                self.end_run(s, &j.id, EndReason::Replaced, fx);
                self.start(s, j, now, now, fx);
            }
        }
        self.end_all(s, Trigger::WinBack, EndReason::OrderCompleted, fx);
        self.end_all(s, Trigger::PredictedChurn, EndReason::OrderCompleted, fx);
        // What was predicted before this order is about the order that just came: until a
        // new profile says otherwise, win-back keeps the typical gap and the churn episode is over.
        s.profile.churn_risk = None;
        s.profile.expected_next_order_at = None;
        self.arm_win_back(s, now, fx);
    }

    /// When win-back's steps count from for `j`: `late_days` after the predicted next order
    /// where the profile has one and the journey asks for it, else the customer's typical gap
    /// (× `gap_factor`) after their last order; `None` when neither is known.
    fn win_back_anchor(s: &VisitorState, j: &Journey) -> Option<i64> {
        if let (Some(late), Some(expected)) = (j.late_days, s.profile.expected_next_order_at) {
            return Some(expected.saturating_add(i64::from(late) * DAY));
        }
        let (last, gap) = (s.orders.last_at?, s.profile.typical_gap_days?);
        Some(last.saturating_add((gap as f64 * j.gap_factor as f64 * DAY as f64) as i64))
    }

    /// Win-back's clock (see [`Runner::win_back_anchor`]). A run that has sent nothing yet
    /// follows a newer prediction; one under way keeps its clock.
    fn arm_win_back(&self, s: &mut VisitorState, now: i64, fx: &mut Vec<Effect>) {
        for j in self.journeys().iter().filter(|j| j.trigger == Trigger::WinBack) {
            let Some(anchor) = Self::win_back_anchor(s, j) else { continue };
            if let Some(run) = s.runs.iter_mut().find(|r| r.journey == j.id) {
                if run.next_step == 0 && run.anchor != anchor {
                    run.anchor = anchor;
                    run.held_until = None;
                }
            } else if self.matches(s, &j.when) {
                self.start(s, j, anchor, now, fx);
            }
        }
    }

    /// Predicted churn follows the store's latest word on the risk: a known customer whose
    /// profile says it is high starts each `predicted_churn` journey not already running, once
    /// per churn episode (a journey started since their latest order waits for the next one,
    /// so a model wavering near the line does not start it twice); a profile saying it is no
    /// longer high ends a run under way (an order ends it too: [`Runner::order_completed`]).
    fn follow_churn_risk(&self, s: &mut VisitorState, now: i64, fx: &mut Vec<Effect>) {
        if s.profile.user_id.is_empty() || s.profile.churn_risk.is_none() {
            return;
        }
        if s.profile.churn_risk != Some(ChurnRisk::High) {
            self.end_all(s, Trigger::PredictedChurn, EndReason::RiskLowered, fx);
            return;
        }
        for j in self.journeys().iter().filter(|j| j.trigger == Trigger::PredictedChurn) {
            let this_episode = s.last_start(&j.id).is_some_and(|started| s.orders.last_at.is_none_or(|order| started >= order));
            if !this_episode && s.run(&j.id).is_none() && self.may_start(s, j, now) {
                self.start(s, j, now, now, fx);
            }
        }
    }

    /// The owner of `address` on `channel` confirmed it (an email's signed link; a number's YES
    /// comes as an `SmsReply`): the contact is confirmed, and a welcome series that waited for
    /// the confirmation starts now.
    pub fn confirmed(&self, s: &mut VisitorState, channel: Channel, address: &str, now: i64) -> Vec<Effect> {
        let mut fx = Vec::new();
        s.profile.confirm(channel, address);
        self.after_consent(s, s.consent.granted(channel) && s.profile.confirmed(channel), false, now, &mut fx);
        self.settle_alarm(s, &mut fx);
        fx
    }

    fn after_consent(&self, s: &mut VisitorState, granted: bool, revoked: bool, now: i64, fx: &mut Vec<Effect>) {
        if granted && s.subscribed_at.is_none() && !awaits_confirmation(s) {
            s.subscribed_at = Some(now);
            self.start_or_touch(s, Trigger::Welcome, now, now, fx);
        }
        if revoked {
            // A journey none of whose remaining steps may still be sent is over.
            let over: Vec<(alloc::string::String, u32)> = s
                .runs
                .iter()
                .filter(|r| self.journey(&r.journey).is_some_and(|j| j.steps.iter().skip(r.next_step as usize).all(|st| !s.consent.granted(st.channel))))
                .map(|r| (r.journey.clone(), r.id))
                .collect();
            for (journey, run) in over {
                s.runs.retain(|r| r.id != run);
                fx.push(Effect::Record(Record::Ended { journey, run, reason: EndReason::ConsentRevoked }));
            }
        }
    }

    fn has_run(&self, s: &VisitorState, trigger: Trigger) -> bool {
        s.runs.iter().any(|r| self.journey(&r.journey).is_some_and(|j| j.trigger == trigger))
    }

    fn may_start(&self, s: &VisitorState, j: &Journey, now: i64) -> bool {
        (j.trigger == Trigger::WinBack || s.last_start(&j.id).is_none_or(|t| now - t >= j.reentry.0)) && self.matches(s, &j.when)
    }

    /// Whether the visitor matches a journey's or a step's `when` (`{}`: everyone). The rules
    /// were checked when the bundle was built and loaded: a condition that does not compile
    /// matches no one.
    fn matches(&self, s: &VisitorState, when: &crate::value::Value) -> bool {
        if when.as_object().is_some_and(|m| m.is_empty()) {
            return true;
        }
        crate::condition::Condition::compile(when).is_ok_and(|c| c.eval(&s.attributes(self.body), &self.body.rules.saved_groups))
    }

    /// Why the visitor should not get `step` of `run` now: what they did since its previous
    /// message (`if`) or who they are (`when`).
    fn unwanted(&self, s: &VisitorState, run: &Run, step: &crate::rules::Step) -> Option<SkipReason> {
        let e = run.engaged;
        let engaged = match step.only_if {
            Some(Engagement::NotOpened) if e.opened => Some(SkipReason::Opened),
            Some(Engagement::NotClicked) if e.clicked => Some(SkipReason::Clicked),
            Some(Engagement::NotPurchased) if e.purchased => Some(SkipReason::Purchased),
            _ => None,
        };
        engaged.or_else(|| (!self.matches(s, &step.when)).then_some(SkipReason::NotTargeted))
    }

    fn start(&self, s: &mut VisitorState, j: &Journey, anchor: i64, now: i64, fx: &mut Vec<Effect>) {
        let run = Run { id: s.next_run_id, journey: j.id.clone(), started_at: now, anchor, ..Run::default() };
        s.next_run_id += 1;
        s.note_start(&j.id, now);
        fx.push(Effect::Record(Record::Started { journey: j.id.clone(), run: run.id }));
        s.runs.push(run);
    }

    /// Starts the trigger's journeys, or moves the clock of those already running to `anchor`.
    fn start_or_touch(&self, s: &mut VisitorState, trigger: Trigger, anchor: i64, now: i64, fx: &mut Vec<Effect>) {
        for j in self.journeys().iter().filter(|j| j.trigger == trigger) {
            if let Some(run) = s.runs.iter_mut().find(|r| r.journey == j.id) {
                run.anchor = run.anchor.max(anchor);
                run.held_until = None;
            } else if self.may_start(s, j, now) {
                self.start(s, j, anchor, now, fx);
            }
        }
    }

    fn end_run(&self, s: &mut VisitorState, journey: &str, reason: EndReason, fx: &mut Vec<Effect>) {
        if let Some(i) = s.runs.iter().position(|r| r.journey == journey) {
            let run = s.runs.remove(i);
            fx.push(Effect::Record(Record::Ended { journey: run.journey, run: run.id, reason }));
        }
    }

    fn end_all(&self, s: &mut VisitorState, trigger: Trigger, reason: EndReason, fx: &mut Vec<Effect>) {
        for j in self.journeys().iter().filter(|j| j.trigger == trigger) {
            self.end_run(s, &j.id, reason, fx);
        }
    }

    /// When a run's next step is due: its quiet-hours hold, else anchor + the step's delay (and
    /// then its local time of day, `at`, in the visitor's zone).
    fn due(&self, s: &VisitorState, run: &Run) -> i64 {
        match (run.held_until, self.journey(&run.journey).and_then(|j| j.steps.get(run.next_step as usize))) {
            (Some(t), _) => t,
            (None, Some(step)) => {
                let due = run.anchor.saturating_add(step.after.0);
                step.at.map_or(due, |at| self.clock(s).next(due, at))
            }
            // Journey removed from the config, or no step left: due at once, so `advance` ends it.
            (None, None) => run.anchor,
        }
    }

    fn next_due(&self, s: &VisitorState, now: i64) -> Option<usize> {
        s.runs.iter().enumerate().map(|(i, r)| (self.due(s, r), i)).filter(|&(t, _)| t <= now).min().map(|(_, i)| i)
    }

    /// Handles the due step of run `i`: sent, held, or skipped; the run moves on or ends.
    fn advance(&self, s: &mut VisitorState, i: usize, now: i64, fx: &mut Vec<Effect>) {
        let run = s.runs[i].clone();
        let Some(j) = self.journey(&run.journey) else {
            s.runs.remove(i);
            fx.push(Effect::Record(Record::Ended { journey: run.journey, run: run.id, reason: EndReason::JourneyRemoved }));
            return;
        };
        let Some(step) = j.steps.get(run.next_step as usize) else {
            s.runs.remove(i);
            fx.push(Effect::Record(Record::Ended { journey: run.journey, run: run.id, reason: EndReason::Completed }));
            return;
        };
        if j.trigger == Trigger::CartAbandonment && s.cart.is_empty() {
            s.runs.remove(i);
            fx.push(Effect::Record(Record::Ended { journey: run.journey, run: run.id, reason: EndReason::CartEmptied }));
            return;
        }
        let m = &self.body.rules.messaging;
        let mut skip = if let Some(why) = self.unwanted(s, &run, step) {
            Some(why)
        } else if !s.consent.granted(step.channel) {
            Some(SkipReason::NoConsent)
        } else if s.profile.address(step.channel).is_none() {
            Some(SkipReason::NoAddress)
        } else if !s.profile.confirmed(step.channel) {
            Some(SkipReason::Unconfirmed)
        } else {
            None
        };
        if skip.is_none() {
            // Quiet hours hold the message (not drop it); caps are checked when it goes out.
            // The end is a local time: across a daylight-saving change it is not `now + wait`.
            let clock = self.clock(s);
            let local = clock.local(now);
            if let Some(wait) = m.quiet_hours.and_then(|q| q.remaining(local.rem_euclid(DAY))) {
                let until = clock.instant(local + wait).max(now + 1);
                s.runs[i].held_until = Some(until);
                fx.push(Effect::Record(Record::Held { journey: j.id.clone(), step: run.next_step, until }));
                return;
            }
            if m.max_per_day > 0 && s.sent_since(now - DAY, None) >= m.max_per_day as usize {
                skip = Some(SkipReason::DailyCap);
            } else if j.max_per_day > 0 && s.sent_since(now - DAY, Some(&j.id)) >= j.max_per_day as usize {
                skip = Some(SkipReason::JourneyCap);
            }
        }
        if skip.is_none() {
            // Last: a held-out message is one that would have gone, so funnels compare arms.
            skip = self.held_back(s, j);
        }
        match skip {
            Some(reason) => fx.push(Effect::Record(Record::Skipped { journey: j.id.clone(), step: run.next_step, channel: step.channel, reason })),
            None => {
                let message =
                    Compose { body: self.body, link_secret: self.link_secret, state: s, journey: j, step_index: run.next_step, run: &run, now }.message();
                s.note_sent(&j.id, now);
                s.runs[i].engaged = Default::default();
                fx.push(Effect::Send(Box::new(message)));
            }
        }
        let r = &mut s.runs[i];
        r.held_until = None;
        r.next_step += 1;
        if r.next_step as usize >= j.steps.len() {
            s.runs.remove(i);
            fx.push(Effect::Record(Record::Ended { journey: run.journey, run: run.id, reason: EndReason::Completed }));
        }
    }

    /// The experiment on journey `journey` and the arm of the visitor keyed `visitor_key`
    /// (`a:…`, `u:…`) in it, as `(key, arm)`: for the host's measurement records (entered,
    /// sent). `None` without an experiment on it, or outside its coverage.
    pub fn journey_arm(&self, visitor_key: &str, journey: &str) -> Option<(&'a str, &'a str)> {
        let e = self.body.rules.experiments.iter().find(|e| !journey.is_empty() && e.journey == journey)?;
        Some((e.key.as_str(), e.arm_of(bucketing_unit(visitor_key))?.name.as_str()))
    }

    /// The global holdout's arm of the visitor keyed `visitor_key`, as `Engine::holdout_arm`
    /// says for pages (the same for an anonymous visitor: their key holds their visitor id).
    pub fn holdout_arm(&self, visitor_key: &str) -> Option<&'static str> {
        let held = self.body.rules.measurement.in_holdout(bucketing_unit(visitor_key))?;
        Some(if held { HOLDOUT_ARM } else { PERSONALIZED_ARM })
    }

    /// Why journey `j` sends `s` nothing even when a message would go: the global holdout
    /// (with `holdout_journeys`) or an arm of the journey's experiment with `send = false`.
    /// Bucketed on the visitor's key without its `a:`/`u:` prefix: an anonymous visitor's id is
    /// the visitor id pages are decided for (one holdout for pages and messages), a known
    /// customer's is their user id (one arm on all their devices).
    fn held_back(&self, s: &VisitorState, j: &Journey) -> Option<SkipReason> {
        let unit = bucketing_unit(&s.id);
        let rules = &self.body.rules;
        if rules.measurement.holdout_journeys && rules.measurement.in_holdout(unit) == Some(true) {
            return Some(SkipReason::Holdout);
        }
        let arm = rules.experiments.iter().find(|e| e.journey == j.id)?.arm_of(unit)?;
        (!arm.send).then_some(SkipReason::ExperimentArm)
    }

    fn settle_alarm(&self, s: &mut VisitorState, fx: &mut Vec<Effect>) {
        let next = s.runs.iter().map(|r| self.due(s, r)).min();
        if next != s.alarm {
            s.alarm = next;
            fx.push(match next {
                Some(t) => Effect::SetAlarm(t),
                None => Effect::ClearAlarm,
            });
        }
    }
}
