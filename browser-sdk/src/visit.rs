//! The SDK's decisions for one visit to a page, sans I/O: the model is quinn-proto under quinn,
//! and the engine's own journeys (`Runner::handle` returns effects).
//!
//! Inputs are the page's facts ([`Start`], [`PageFacts`]), the public API's calls (`track`,
//! `identify`, `consent`, ...), what the page reports (exit-intent input, timers, how a POST
//! or the beacons went) and the time, always an argument (unix ms). Outputs are [`Effect`]s,
//! queued in order and taken with [`Visit::effects`]: fill a slot, store, set a cookie, set a
//! timer, post a batch, show an offer, tell listeners. `web/` reads the facts in and carries
//! the effects out; nothing here touches the page, so all of it is tested natively
//! (browser-sdk/tests/visit.rs).
//!
//! What the visit decides: which profile wins (the shared `vt_vid` cookie over the stored id,
//! the edge's profile cookie over stored traits), which cart and interests (the shared cookies
//! when fresher), the offer a deep link promised, what a tracked event teaches (once per page
//! view for the product it is on), when the cart and interests cookies change, what the
//! automatic events say, when consent allows storing and sending, and when exit intent shows
//! an offer (once per session, never after a purchase).

mod effect;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use vitrine_engine::context::{Device, Page, Visitor};
use vitrine_engine::cookies::{self, is_valid_visitor_id, ProfileClaims};
use vitrine_engine::events::{self, Learns, PRODUCT_CLICKED, PRODUCT_VIEWED, PROMOTION_CLICKED, PROMOTION_CLOSED, PROMOTION_VIEWED};
use vitrine_engine::measure;
use vitrine_engine::rules::Capture;
use vitrine_engine::Value;
use vitrine_engine::{DecideError, Decision, Engine, Explain, OfferDecision};

pub use effect::{AutoTrack, Config, Effect, Env, PageFacts, Start, Store, Timer};

use crate::exit_intent::{ExitIntent, Input, Surface};
use crate::exposure;
use crate::message::{self, Kind};
use crate::outbox::{Gate, Outbox, OutboxConfig};
use crate::session::{EventFacts, Learn, Profile, SessionState};

/// Where the visit keeps what it remembers.
pub const SESSION_KEY: &str = "vitrine:session";
pub const PROFILE_KEY: &str = "vitrine:profile";
pub const OUTBOX_KEY: &str = "vitrine:outbox";
const VISITOR_COOKIE_SECONDS: i64 = 365 * 24 * 3600;
const CART_COOKIE_SECONDS: i64 = 30 * 24 * 3600;

/// One page's SDK: the session, the profile, the outbox and exit intent, and the effects the
/// last calls asked for.
pub struct Visit {
    engine: Engine,
    config: Config,
    env: Env,
    session: SessionState,
    profile: Profile,
    outbox: Outbox,
    exit: ExitIntent,
    device: Device,
    here: PageFacts,
    page: Page,
    /// When the flush timer fires, if one is set.
    flush_at: Option<f64>,
    /// The product this page view already learned from (an explicit `Product Viewed` for it
    /// does not count twice).
    viewed_here: Option<String>,
    /// The shared cookies' values as last read or written (reading them again is slow).
    cookie_visitor: Option<String>,
    cookie_interests: Option<String>,
    /// This page view added to the recently viewed products: the profile is saved on settling.
    viewed_changed: bool,
    /// The exit offer on screen, and the `Promotion Clicked` properties its call to action sends.
    offer_open: Option<(String, String)>,
    /// The offer a deep link promised, as the edge checked it (`cookies::OFFER`), until shown.
    verified_offer: Option<String>,
    /// This page view's id (`page` in its exposures and clicks), new on every page view.
    page_view: String,
    /// This page view showed something (or held it out) that counts towards the global
    /// holdout's exposure ([`Visit::shown`], [`Visit::exposed`]).
    seen: bool,
    /// The page view whose slots are filled and whose rest waits for [`Visit::settle`]: its
    /// time, and on the first page whether the profile is still to save (`None` after that).
    unsettled: Option<(f64, Option<bool>)>,
    fx: Vec<Effect>,
}

/// The first non-empty value of cookie `name` in `document.cookie`, read as the edge reads
/// its Cookie header (`cookies::cookie_pairs`).
fn cookie(jar: &str, name: &str) -> Option<String> {
    let (_, value) = cookies::cookie_pairs(jar).find(|(n, _)| *n == name)?;
    (!value.is_empty()).then(|| value.into())
}

/// A token's payload as JSON, unverified: it only chooses what to show; the edge verifies a
/// token before honouring anything.
fn token_json(env: &Env, token: &str) -> Option<Value> {
    let payload = vitrine_engine::token::unverified_payload(token).ok()?;
    (env.parse_json)(core::str::from_utf8(&payload).ok()?)
}

/// Merges `new` into `traits` (made an object if it was not one).
pub fn merge_traits(traits: &mut Value, new: vitrine_engine::Map) {
    if !matches!(traits, Value::Object(_)) {
        *traits = Value::object();
    }
    for (k, v) in new {
        traits.set(&k, v);
    }
}

impl Visit {
    /// Starts the visit on its first page: restores the profile, session and outbox, reads the
    /// shared cookies, then does what [`Visit::page`] does.
    pub fn start(engine: Engine, start: Start, here: PageFacts, env: Env, now: f64) -> Visit {
        let mut v = Visit::start_fill(engine, start, here, env, now);
        v.settle();
        v
    }

    /// [`Visit::start`] up to the slots' fill: the rest waits for [`Visit::settle`].
    pub fn start_fill(engine: Engine, start: Start, here: PageFacts, env: Env, now: f64) -> Visit {
        let Start { config, user_agent, cookies: jar, stored_profile, stored_session, stored_outbox, anonymous_id, landing } = start;
        // The profile: stored (traits as JSON text) or new.
        let (mut profile, created) = match Profile::decode(stored_profile.as_deref().unwrap_or_default()) {
            Some((mut p, traits)) => {
                p.traits = traits.and_then(env.parse_json).unwrap_or_default();
                (p, false)
            }
            None => (Profile { visitor_id: (env.new_id)(), ..Profile::default() }, true),
        };
        // One id per visitor for edge and browser (experiments bucket by it): a readable
        // `vt_vid` cookie, the edge's or ours from an earlier page, wins.
        let mut unsaved = created;
        let cookie_visitor = cookie(&jar, cookies::VISITOR);
        // The id the site gives (Segment's, say) wins over both: one visitor for the two tools.
        if let Some(id) = anonymous_id.into_iter().chain(cookie_visitor.clone()).find(|id| is_valid_visitor_id(id)) {
            unsaved |= id != profile.visitor_id;
            profile.visitor_id = id;
        }
        // The edge's signed profile cookie is the freshest word on a known customer.
        if let Some(Value::Object(traits)) = cookie(&jar, &config.profile_cookie).and_then(|t| token_json(&env, &t)).map(|parsed| {
            match parsed.as_object().and_then(|o| o.get(ProfileClaims::TRAITS)) {
                Some(t @ (Value::Object(_) | Value::Array(_))) => t.clone(),
                _ => parsed,
            }
        }) {
            merge_traits(&mut profile.traits, traits);
        }

        let gate = match (config.require_consent, profile.consent) {
            (_, Some(false)) => Gate::Closed,
            (_, Some(true)) | (false, None) => Gate::Open,
            (true, None) => Gate::Held,
        };
        let mut outbox = Outbox::new(OutboxConfig::default(), gate);
        // Before this page queues anything: saving the outbox overwrites what is stored.
        let restored = if gate == Gate::Held { Ok(()) } else { outbox.restore(stored_outbox.as_deref().unwrap_or_default(), now) };
        let mut session = stored_session.as_deref().and_then(SessionState::decode).unwrap_or_default();
        if session.page_views == 0 {
            session.new_visitor = created;
            session.landing = landing;
        }
        // The store's pages (or the edge) may keep the cart in the shared cookie: it wins. So do
        // interests another tab of this session wrote.
        if let Some(raw) = cookie(&jar, cookies::CART) {
            session.cart = cookies::parse_cart_cookie(&raw);
        }
        let cookie_interests = cookie(&jar, cookies::INTERESTS);
        if let Some((categories, products, at)) = cookie_interests.as_deref().and_then(cookies::parse_interests_cookie) {
            if at >= session.interests_at {
                (session.categories, session.products, session.interests_at) = (categories, products, at);
            }
        }
        let device = Device::from_user_agent(&user_agent);
        let mut v = Visit {
            exit: ExitIntent::spent(config.exit, Surface::of(device), now),
            engine,
            config,
            env,
            session,
            profile,
            outbox,
            device,
            here: PageFacts::default(),
            page: Page::default(),
            flush_at: None,
            viewed_here: None,
            cookie_visitor,
            cookie_interests,
            viewed_changed: false,
            offer_open: None,
            verified_offer: cookie(&jar, cookies::OFFER),
            page_view: String::new(),
            seen: false,
            unsettled: None,
            fx: Vec::new(),
        };
        if let Err(refusal) = restored {
            v.error(&["stored events: ", refusal.reason()].concat());
        }
        v.page_fill(here, now);
        v.unsettled = Some((now, Some(unsaved)));
        v
    }

    /// The effects queued since the last call, oldest first.
    pub fn effects(&mut self) -> Vec<Effect> {
        core::mem::take(&mut self.fx)
    }

    /// The oldest effect still to carry out (the host's loop: one effect at a time, so what an
    /// effect's outcome queues follows it).
    pub fn poll_effect(&mut self) -> Option<Effect> {
        (!self.fx.is_empty()).then(|| self.fx.remove(0))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn session(&self) -> &SessionState {
        &self.session
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// A page view (single-page apps report each route change): learns from the URL, fills
    /// the slots, sends `page`, shows a deep link's offer.
    pub fn page(&mut self, here: PageFacts, now: f64) {
        self.page_fill(here, now);
        self.settle();
    }

    /// [`Visit::page`] up to the slots' fill: learns from the URL and fills them; the rest waits
    /// for [`Visit::settle`] (the last page view's, if it still waited, is done first).
    pub fn page_fill(&mut self, here: PageFacts, now: f64) {
        self.settle();
        self.page = self.engine.page(&here.path);
        // A single-page app names the product in the page's properties: a product page.
        if let Some(p) = here.product.as_deref().and_then(|sku| self.engine.body().catalog.index_of(sku)) {
            (self.page.product, self.page.kind) = (Some(p), "product".into());
        }
        self.here = here;
        self.session.page_views = self.session.page_views.saturating_add(1);
        self.viewed_here = None;
        self.page_view = (self.env.new_id)();
        self.seen = false;
        self.learn_from_page(now);
        self.fill_slots(now);
        self.unsettled = Some((now, None));
    }

    /// What a page view does once its slots are filled (after [`Visit::start_fill`] or
    /// [`Visit::page_fill`]; a no-op otherwise): the deep link's offer, the session saved,
    /// `page` (and `Product Viewed`) sent, exit intent armed; on the first page, the visitor's
    /// id shared with the edge (a cookie) and a new visitor's profile saved. Nothing in it
    /// changes a decision, so a host may fill the page first and settle after (a cold load
    /// then compiles less wasm and calls the page less before the fill), as long as it settles
    /// before any other call into the visit and reports what the fill showed (`shown`,
    /// `exposed`) after settling: what is queued then keeps the order [`Visit::start`] and
    /// [`Visit::page`] give it.
    pub fn settle(&mut self) {
        let Some((now, first)) = self.unsettled.take() else { return };
        let promised = self.deep_link();
        self.save_session();
        self.send_page_events(now);
        let spent = self.session.exit_offer_shown || self.session.purchased;
        self.exit = if spent {
            ExitIntent::spent(self.config.exit, Surface::of(self.device), now)
        } else {
            ExitIntent::new(self.config.exit, Surface::of(self.device), now)
        };
        // Touch devices: one history entry to catch a back press (only while the detector
        // can still fire; the host never stacks a second one).
        if self.config.back_intent && !self.exit.is_spent() && Surface::of(self.device) == Surface::Touch {
            self.fx.push(Effect::ArmBack);
        }
        self.schedule_idle_check(now);
        if let Some(offer) = promised {
            self.show_offer(offer, "deep_link", Capture::None, now);
        }
        if let Some(unsaved) = first {
            self.share_visitor_id();
            if unsaved {
                self.save_profile();
            }
        }
        self.save_viewed();
    }

    /// A deep link from an email or SMS: the offer it promised, once the edge checked the
    /// link's signature and expiry (the `vt_offer` cookie; the token itself proves nothing in
    /// the browser). Remembers it for the session and returns it to show.
    fn deep_link(&mut self) -> Option<OfferDecision> {
        let id = self.verified_offer.take()?;
        self.fx.push(Effect::SetCookie(cookies::OFFER, String::new(), Some(0)));
        self.engine.offer(&id)?;
        self.session.promised_offer = Some(id);
        // Behind the worker the edge may have rendered the offer already.
        if self.here.offer_on_page {
            return None;
        }
        self.promised_offer("deep_link")
    }

    fn promised_offer(&self, rule: &str) -> Option<OfferDecision> {
        let offer = self.engine.offer(self.session.promised_offer.as_deref()?)?;
        let v = self.visitor();
        let explain = Explain { rule: [rule, ".offers.", &offer.id].concat(), segment: v.segment().into(), ..Explain::default() };
        Some(self.engine.render_offer(offer, self.engine.attributes(&v), explain))
    }

    /// Product and category pages teach the session by themselves.
    fn learn_from_page(&mut self, now: f64) {
        let catalog = &self.engine.body().catalog;
        let lesson = if let Some(p) = self.page.product.and_then(|p| catalog.get(p)) {
            self.viewed_here = Some(p.sku().into());
            Some(Learn::ProductViewed(p.sku().into()))
        } else {
            self.page.category.and_then(|c| catalog.categories.get(c as usize)).map(|c| Learn::CategoryViewed(c.clone()))
        };
        if let Some(lesson) = lesson {
            self.session.learn(catalog, lesson, secs(now));
        }
        if let Some(sku) = self.viewed_here.take() {
            self.remember_viewed(&sku);
            self.viewed_here = Some(sku);
        }
    }

    /// The store's name (`[store] name`): the lead form's SMS consent names it.
    pub fn store_name(&self) -> &str {
        &self.engine.body().store.name
    }

    /// The engine's view of this visitor now.
    pub fn visitor(&self) -> Visitor {
        let catalog = &self.engine.body().catalog;
        self.session.visitor(&self.profile, catalog, self.page.clone(), self.device, None)
    }

    /// `vitrine.decide(placement)`: the decision for this visitor now.
    pub fn decide(&self, placement: &str, now: f64) -> Result<Decision, DecideError> {
        self.engine.decide(&self.visitor(), placement, secs(now))
    }

    fn fill_slots(&mut self, now: f64) {
        let v = self.visitor();
        let input = self.engine.rule_input(&v);
        for (i, placement) in self.here.slots.iter().enumerate() {
            let decision = self.engine.decide_with(&v, &input, placement, secs(now)).ok().map(Box::new);
            self.fx.push(Effect::Fill(i as u32, placement.clone(), decision));
        }
        self.fx.push(Effect::Filled);
    }

    /// The host showed this slot's decision in time (its html, or for a holdout the page's own
    /// content): its exposures go, as `measure::page_exposures` says (`Product List Viewed`,
    /// `Promotion Viewed`, `Experiment Viewed`; crate::exposure). A decision that came after the
    /// anti-flicker deadline was not shown and is not reported. Only slots we filled: the edge
    /// records those it filled, and the page side never hands them to us. Sent whatever
    /// `auto_track` says (the site cannot send them itself); nothing once consent was refused.
    pub fn shown(&mut self, decision: &Decision, now: f64) {
        if self.outbox.gate() == Gate::Closed {
            return;
        }
        let page = core::mem::take(&mut self.page_view);
        self.seen |= exposure::exposures(decision, &page, |event, props| self.enqueue(Kind::Track(event), &props, now));
        self.page_view = page;
    }

    /// Every slot of this page view is decided ([`Effect::Filled`] carried out): with a global
    /// holdout, the visitor's arm of it, once, if the page showed (or held out) anything.
    pub fn exposed(&mut self, now: f64) {
        let holdout_arm = self.engine.holdout_arm(&self.visitor());
        if let Some(arm) = holdout_arm.filter(|_| core::mem::take(&mut self.seen)) {
            let e = measure::holdout_exposure(arm);
            let props = exposure::exposure_properties(&e, &self.page_view);
            self.enqueue(Kind::Track(e.event), &props, now);
        }
    }

    /// A link inside a Vitrine slot (the edge's or ours) was followed: `Product Clicked` with
    /// the slot's placement and the item's SKU (`product_id`; empty when the item's template
    /// does not name it: left out), sent at once (the page navigates next).
    pub fn product_clicked(&mut self, placement: &str, sku: &str, now: f64) {
        if self.outbox.gate() == Gate::Closed {
            return;
        }
        let props = exposure::properties(&[("placement", placement), ("product_id", sku)], &[], &self.page_view);
        self.enqueue(Kind::Track(PRODUCT_CLICKED), &props, now);
        self.flush(now);
    }

    fn send_page_events(&mut self, now: f64) {
        if self.config.auto_track == AutoTrack::Off {
            return;
        }
        let props = message::page_properties(&self.context(), &self.here.properties);
        self.enqueue(Kind::Page, &props, now);
        if self.config.auto_track != AutoTrack::All {
            return;
        }
        let body = self.engine.body();
        let catalog = &body.catalog;
        if let Some(p) = self.page.product.and_then(|p| catalog.get(p)) {
            let mut props = String::new();
            let mut o = crate::json::Object::new(&mut props);
            o.str("product_id", p.sku()).str("sku", p.sku()).str("name", p.title()).str("url", p.url()).str("image_url", p.image());
            // Two decimals, as the engine shows prices ("2.50").
            o.raw("price", &vitrine_engine::two_decimals(f64::from(p.price)));
            if let Some(c) = p.category.and_then(|c| catalog.categories.get(c as usize)) {
                o.str("category", c);
            }
            o.str("currency", &body.store.currency);
            o.end();
            self.enqueue(Kind::Track(PRODUCT_VIEWED), &props, now);
        }
    }

    fn context(&self) -> message::Context<'_> {
        message::Context {
            anonymous_id: &self.profile.visitor_id,
            user_id: self.profile.user_id.as_deref(),
            path: &self.here.path,
            url: &self.here.url,
            title: &self.here.title,
            referrer: &self.here.referrer,
            page_type: &self.page.kind,
            utc_offset_minutes: self.here.utc_offset_minutes,
            timezone: &self.here.timezone,
        }
    }

    /// `vitrine.track(event, properties)`: `facts` are what the session learns from out of the
    /// properties, `properties` their JSON text.
    pub fn track(&mut self, event: &str, facts: &EventFacts, properties: &str, now: f64) {
        if let Some(lesson) = lesson(event, facts) {
            let repeat_view = matches!(&lesson, Learn::ProductViewed(sku) if self.viewed_here.as_ref() == Some(sku));
            if matches!(lesson, Learn::Purchased) {
                self.exit.disarm();
            }
            if !repeat_view {
                let cart_before = self.session.cart.clone();
                self.session.learn(&self.engine.body().catalog, lesson, secs(now));
                if self.session.cart != cart_before {
                    let cart = &self.session.cart;
                    let age = if cart.is_empty() { 0 } else { CART_COOKIE_SECONDS };
                    self.fx.push(Effect::SetCookie(cookies::CART, cookies::cart_cookie(cart), Some(age)));
                }
                self.save_session();
            }
        }
        self.enqueue(Kind::Track(event), properties, now);
    }

    /// `vitrine.identify(userId, traits)`: `traits` as a value and as JSON text.
    /// `token`: the identity token the site's backend signed (empty: none given). `user_id`
    /// None (`undefined`) keeps the user and adds traits; an empty one (`null`) forgets the
    /// user, their traits and token, then takes the traits given as the anonymous visitor's.
    pub fn identify(&mut self, user_id: Option<String>, traits: Value, traits_json: &str, token: String, now: f64) {
        if user_id.as_deref() == Some("") {
            self.forget_user(now);
        } else if user_id.is_some() {
            if user_id != self.profile.user_id || !token.is_empty() {
                self.outbox.identity = token;
            }
            self.profile.user_id = user_id;
        }
        if let Value::Object(new) = traits {
            merge_traits(&mut self.profile.traits, new);
        }
        self.save_profile();
        self.enqueue(Kind::Identify, traits_json, now);
    }

    /// `vitrine.consent(granted)` (`purposes` empty) or `vitrine.consent({ personalization,
    /// email, sms, push })` (`purposes` that object's JSON, `personalization` its answer, if any).
    /// Only the personalization answer opens or closes storage and sending, and only it is
    /// written to the `vt_consent` cookie for the edge; channel answers travel as an event.
    pub fn consent(&mut self, personalization: Option<bool>, purposes: &str, now: f64) {
        let Some(granted) = personalization else {
            self.enqueue(Kind::Consent(true, purposes), "{}", now);
            return;
        };
        self.profile.consent = Some(granted);
        self.fx.push(Effect::SetCookie(cookies::CONSENT, if granted { "1" } else { "0" }.into(), Some(VISITOR_COOKIE_SECONDS)));
        if granted {
            self.outbox.grant();
            self.enqueue(Kind::Consent(true, purposes), "{}", now);
            self.share_visitor_id();
        } else {
            // A revocation must reach the endpoint (it stops running journeys); a refusal
            // before any consent sends nothing at all.
            if self.outbox.gate() == Gate::Open {
                self.enqueue(Kind::Consent(false, purposes), "{}", now);
            }
            let discarded = self.outbox.deny();
            if discarded > 0 {
                let mut reason = String::from("consent refused: ");
                crate::json::push_int(&mut reason, discarded as i64);
                reason.push_str(" unsent events discarded");
                self.error(&reason);
            }
        }
        self.save_profile();
        self.save_outbox();
        self.fx.push(Effect::Consent(granted));
    }

    fn enqueue(&mut self, kind: Kind, payload: &str, now: f64) {
        let json = message::envelope(kind, payload, &self.context(), &(self.env.new_id)(), now as i64);
        let name = match kind {
            Kind::Track(e) => e,
            Kind::Page => events::PAGE,
            Kind::Identify => events::IDENTIFY,
            Kind::Consent(..) => events::CONSENT,
        };
        match self.outbox.push(json, now) {
            Ok(()) => {
                self.save_outbox();
                self.fx.push(Effect::Event(name.into()));
            }
            Err(refusal) => self.error(&[name, ": ", refusal.reason()].concat()),
        }
        self.schedule(now);
    }

    /// Sets the flush timer for the outbox's next wake-up (keeping an earlier one).
    fn schedule(&mut self, now: f64) {
        let Some(due) = self.outbox.next_wakeup() else { return };
        if self.flush_at.is_some_and(|at| at <= due) {
            return;
        }
        self.flush_at = Some(due);
        self.fx.push(Effect::Timer(Timer::Flush, due - now));
    }

    /// Sends the batch that is due, if any.
    fn pump(&mut self, now: f64, online: bool) {
        if let Some(batch) = self.outbox.poll(now, online) {
            self.fx.push(Effect::Post(batch.id, batch.body));
        }
        self.schedule(now);
    }

    /// A timer of ours fired (`online`: the browser thinks it is).
    pub fn wake(&mut self, timer: Timer, now: f64, online: bool) {
        match timer {
            Timer::Flush => {
                self.flush_at = None;
                self.pump(now, online);
            }
            Timer::Idle => {
                self.observe(Input::Tick, now);
            }
        }
    }

    /// Back online: send what waits now.
    pub fn resume(&mut self, now: f64, online: bool) {
        self.pump(now, online);
    }

    /// How the POST of `batch` ended: `retry` for a network error, 5xx, 408 or 429 (else it
    /// was taken, or refused for good); `reasons`: a refusal's response body; `jitter` in [0, 1).
    pub fn sent(&mut self, batch: u32, retry: bool, reasons: Option<&str>, jitter: f64, now: f64, online: bool) {
        if retry {
            self.outbox.failed(batch, now, jitter);
        } else {
            self.outbox.acknowledged(batch);
        }
        if let Some(reasons) = reasons.filter(|r| !r.is_empty()) {
            self.error(&["events refused by the endpoint: ", reasons].concat());
        }
        self.save_outbox();
        self.fx.push(Effect::Sent(!retry));
        self.pump(now, online);
    }

    /// The page hides or ends: what is queued goes by sendBeacon ([`Effect::Beacon`]).
    pub fn flush(&mut self, now: f64) {
        self.fx.push(Effect::Beacon(self.outbox.beacon_bodies(now)));
    }

    /// The browser took the first `accepted` bodies of the last [`Effect::Beacon`].
    pub fn beaconed(&mut self, accepted: usize) {
        self.outbox.beaconed(accepted);
        self.save_outbox();
        self.save_session();
    }

    /// Exit-intent input; true when it showed the offer.
    pub fn observe(&mut self, input: Input, now: f64) -> bool {
        let fired = self.exit.observe(input, now);
        self.schedule_idle_check(now);
        match fired {
            Some(trigger) => self.exit_intent(trigger.as_str(), now),
            None => false,
        }
    }

    /// The exit-intent moment (`trigger`: why, or "api" for `showExitOffer()`): the promised
    /// offer if a deep link brought one, else the engine's pick by scenario. Once per session,
    /// never after a purchase, never over an open one. True when an offer shows.
    pub fn exit_intent(&mut self, trigger: &'static str, now: f64) -> bool {
        self.exit.disarm();
        if self.session.exit_offer_shown || self.session.purchased || self.offer_open.is_some() {
            return false;
        }
        // A promised offer's visitor came from its message: no contact to capture.
        let (offer, capture) = match self.promised_offer("exit_intent") {
            Some(o) => (Some(o), Capture::None),
            None => {
                let offer = self.engine.exit_offer(&self.visitor(), secs(now));
                let capture = offer.as_ref().and_then(|o| self.engine.offer(&o.id)).map_or(Capture::None, |o| o.capture);
                (offer, capture)
            }
        };
        let Some(offer) = offer else { return false };
        self.session.exit_offer_shown = true;
        self.save_session();
        self.show_offer(offer, trigger, capture, now);
        true
    }

    /// `Promotion Viewed` as `measure::offer_exposure` says (`offer`, its experiment's arm),
    /// with the headline (`name`) and why it showed (`position`); its click and its closing
    /// send the same properties.
    fn show_offer(&mut self, offer: OfferDecision, trigger: &'static str, capture: Capture, now: f64) {
        let props = exposure::offer_properties(&offer, [("name", &offer.headline), ("position", trigger)], &self.page_view);
        self.enqueue(Kind::Track(PROMOTION_VIEWED), &props, now);
        self.offer_open = Some((offer.id.clone(), props));
        self.fx.push(Effect::ShowOffer(Box::new(offer), trigger, capture));
    }

    /// The offer's call to action was followed (the page navigates next): `Promotion Clicked`,
    /// once per offer, sent at once.
    pub fn offer_clicked(&mut self, now: f64) {
        if let Some(props) = self.offer_open.as_mut().map(|(_, props)| core::mem::take(props)).filter(|p| !p.is_empty()) {
            self.enqueue(Kind::Track(PROMOTION_CLICKED), &props, now);
            self.flush(now);
        }
    }

    /// The offer's dialog closed: `reason` is "escape" or "dismissed". `Promotion Closed`
    /// unless its call to action was followed.
    pub fn offer_closed(&mut self, reason: &str, now: f64) {
        if let Some((id, props)) = self.offer_open.take() {
            if !props.is_empty() {
                self.enqueue(Kind::Track(PROMOTION_CLOSED), &props, now);
            }
            self.fx.push(Effect::OfferClosed(id, reason.into()));
        }
    }

    /// Idle detection needs a timer; the detector says when.
    fn schedule_idle_check(&mut self, now: f64) {
        if let Some(at) = self.exit.next_check_at() {
            self.fx.push(Effect::Timer(Timer::Idle, at - now));
        }
    }

    /// Writes the `vt_vid` cookie so the edge uses our id too (never before consent when
    /// the site requires it).
    fn share_visitor_id(&mut self) {
        if self.may_store() && self.cookie_visitor.as_deref() != Some(self.profile.visitor_id.as_str()) {
            self.fx.push(Effect::SetCookie(cookies::VISITOR, self.profile.visitor_id.clone(), Some(VISITOR_COOKIE_SECONDS)));
            self.cookie_visitor = Some(self.profile.visitor_id.clone());
        }
    }

    /// What is queued goes now (it happened, as whoever it names, with their token), then the
    /// user, their traits and token are forgotten.
    fn forget_user(&mut self, now: f64) {
        self.flush(now);
        (self.profile.user_id, self.profile.traits) = (None, Value::Null);
        self.outbox.identity = String::new();
    }

    /// `vitrine.reset()` (a sign-out on a shared device): what is queued goes now, then the
    /// visitor is someone new: no user, no traits, a new
    /// anonymous id (in `vt_vid` too), an empty session, the cart and interests cookies
    /// deleted, no recently viewed products. Consent stays: it is this browser's answer.
    pub fn reset(&mut self, now: f64) {
        self.forget_user(now);
        self.profile.visitor_id = (self.env.new_id)();
        self.profile.viewed = String::new();
        self.session = SessionState::default();
        self.cookie_interests = None;
        self.fx.push(Effect::SetCookie(cookies::CART, String::new(), Some(0)));
        self.fx.push(Effect::SetCookie(cookies::INTERESTS, String::new(), Some(0)));
        self.save_session();
        // Saves the profile, and empties the edge's copy of the list.
        self.viewed_changed = true;
        self.save_viewed();
        self.share_visitor_id();
    }

    /// `vitrine.anonymousId(id?)`: the anonymous id, after setting it to `id` if one is given
    /// (ids as the edge accepts them: 8 to 64 letters, digits, `-`, `_`; others are refused,
    /// named in an error).
    pub fn anonymous_id(&mut self, id: Option<String>) -> &str {
        if let Some(id) = id.filter(|id| *id != self.profile.visitor_id) {
            if is_valid_visitor_id(&id) {
                self.profile.visitor_id = id;
                self.save_profile();
                self.share_visitor_id();
            } else {
                self.error("anonymousId: 8 to 64 letters, digits, - or _");
            }
        }
        &self.profile.visitor_id
    }

    /// Lasting storage (localStorage, cookies) is allowed: consent given, or not required.
    fn may_store(&self) -> bool {
        self.profile.consent == Some(true) || (!self.config.require_consent && self.profile.consent.is_none())
    }

    fn save_session(&mut self) {
        self.fx.push(Effect::Store(Store::Session, SESSION_KEY, self.session.encode()));
        if self.may_store() && self.session.interests_at != 0 {
            let cookie = self.session.interests_cookie();
            if self.cookie_interests.as_deref() != Some(cookie.as_str()) {
                self.fx.push(Effect::SetCookie(cookies::INTERESTS, cookie.clone(), None));
                self.cookie_interests = Some(cookie);
            }
        }
    }

    /// A product was viewed: first in the recently viewed list, saved when the page settles.
    fn remember_viewed(&mut self, sku: &str) {
        let viewed = cookies::remember_viewed(&self.profile.viewed, sku);
        self.viewed_changed |= viewed != self.profile.viewed;
        self.profile.viewed = viewed;
    }

    /// The recently viewed products, when they changed: with the profile, and to the edge
    /// (`vt_seen`; like `vt_int`, only once cookies are allowed). The cookie lasts as long as
    /// the stored profile is expected to: the SDK decides from its own copy, the edge from this.
    fn save_viewed(&mut self) {
        if core::mem::take(&mut self.viewed_changed) {
            self.save_profile();
            if self.may_store() {
                self.fx.push(Effect::SetCookie(cookies::SEEN, self.profile.viewed.clone(), Some(VISITOR_COOKIE_SECONDS)));
            }
        }
    }

    /// Nothing goes to lasting storage until consent when the site requires it.
    fn save_profile(&mut self) {
        let encoded = self.profile.encode(&(self.env.to_json)(&self.profile.traits));
        if self.may_store() {
            self.fx.push(Effect::Store(Store::Local, PROFILE_KEY, encoded));
        } else {
            self.fx.push(Effect::Store(Store::Local, PROFILE_KEY, String::new()));
            self.fx.push(Effect::Store(Store::Session, PROFILE_KEY, encoded));
        }
    }

    fn save_outbox(&mut self) {
        if self.outbox.gate() != Gate::Held {
            self.fx.push(Effect::Store(Store::Local, OUTBOX_KEY, self.outbox.stored()));
        }
    }

    fn error(&mut self, reason: &str) {
        self.fx.push(Effect::Error(reason.into()));
    }
}

/// Unix seconds, as the engine takes time.
/// What a tracked event teaches the session: its `learns` column in the engine's event table
/// (`vitrine_engine::events`); names the table does not hold teach nothing.
pub fn lesson(event: &str, facts: &EventFacts) -> Option<Learn> {
    let product = facts.product.clone();
    match events::learns(event) {
        Learns::Product => product.map(Learn::ProductViewed),
        Learns::Category => facts.category.clone().map(Learn::CategoryViewed),
        Learns::Added => product.map(|p| Learn::Added(p, facts.quantity.unwrap_or(1).max(1))),
        Learns::Removed => product.map(|p| Learn::Removed(p, facts.quantity)),
        Learns::Cart => facts.products.clone().map(Learn::CartReplaced),
        Learns::Order => Some(Learn::Purchased),
        Learns::Nothing => None,
    }
}

fn secs(now_ms: f64) -> i64 {
    (now_ms / 1000.0) as i64
}
