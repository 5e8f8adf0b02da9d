//! `Engine`: a loaded bundle with its rules compiled, answering decisions.
//!
//! Load once (decode + compile every condition), then decide per request: a decision is a
//! handful of table lookups and condition evaluations, with no allocation proportional to the
//! catalog. Deterministic: the same bundle, visitor and `now` give the same decision on every
//! host (edge, browser, native), which the tests check.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;

use crate::body::{BundleBody, CategoryIdx, ProductIdx};
use crate::bundle::{self, Bundle, BundleError, Header};
use crate::condition::Condition;
use crate::context::{Page, Visitor};
use crate::merchandise::{self, MerchandisingUse};
use crate::pages::Pages;
use crate::recommend::{self, Shopper};
use crate::render::{self, render, render_with, safe_url};
use crate::rules::{Arm, Experiment, Offer, Placement, Source, HOLDOUT_ARM, HOLDOUT_EXPERIMENT, PERSONALIZED_ARM};
use crate::text::{format_price, int_text};
use crate::value::Value;

/// `explain.rule` of a decision held out by `[measurement] holdout`.
const HOLDOUT_RULE: &str = "measurement.holdout";

/// The arm of experiment `e` for a visitor's attributes: their `hash_attribute` as GrowthBook
/// hashes it (`String(attr)`); none without one.
fn arm_of<'a>(e: &'a Experiment, attrs: &Value) -> Option<&'a Arm> {
    match attrs.path(&e.hash_attribute)? {
        Value::String(s) => e.arm_of(s),
        Value::Number(n) => e.arm_of(&crate::host::js_number_string(*n)),
        _ => None,
    }
}

const DEFAULT_TEMPLATE: &str = r#"<h2 class="vitrine-title">{{title}}</h2><ul class="vitrine-items">{{{items}}}</ul>"#;
const DEFAULT_ITEM_TEMPLATE: &str = r#"<li class="vitrine-item" data-sku="{{sku}}"><a href="{{url}}"><img src="{{image}}" alt="{{title}}" loading="lazy" width="160" height="160"><span class="vitrine-item-title">{{title}}</span> <span class="vitrine-price">{{price}}</span></a></li>"#;
const OFFER_TEMPLATE: &str = r#"<h2 class="vitrine-offer-headline">{{offer.headline}}</h2><p class="vitrine-offer-body">{{offer.body}}</p>{{{offer.code_html}}}<a class="vitrine-offer-cta" href="{{offer.cta_url}}">{{offer.cta_text|Shop now}}</a>"#;

#[derive(Debug)]
pub enum LoadError {
    Bundle(BundleError),
    /// A rule in the bundle fails `Rules::check` (the builder's check) or a table disagrees
    /// with another; `path` names it (e.g. `placements[2].when`, `catalog.category_slugs`).
    Rule {
        path: String,
        message: String,
    },
}

impl LoadError {
    /// What `Display` writes, without `core::fmt` (the browser SDK's download: BENCHMARKS.md).
    pub fn text(&self) -> String {
        match self {
            LoadError::Bundle(e) => e.text(),
            LoadError::Rule { path, message } => ["bundle rule ", path, ": ", message].concat(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl core::error::Error for LoadError {}

impl From<BundleError> for LoadError {
    fn from(e: BundleError) -> Self {
        LoadError::Bundle(e)
    }
}

/// A visitor as the rules see them at one moment: the rule segments they are in and the
/// attributes object conditions and templates read (`Engine::rule_input`).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleInput {
    pub segments: Vec<String>,
    pub attributes: Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecideError {
    UnknownPlacement(String),
}

impl DecideError {
    /// What `Display` writes, without `core::fmt` (the browser SDK's download: BENCHMARKS.md).
    pub fn text(&self) -> String {
        match self {
            DecideError::UnknownPlacement(p) => ["unknown placement \"", p, "\""].concat(),
        }
    }
}

impl fmt::Display for DecideError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl core::error::Error for DecideError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The slot gets `html`.
    Filled,
    /// The placement's `when` does not match this visitor: keep the page's own content.
    NotTargeted,
    /// The visitor is in an experiment's holdout arm or the global holdout (`[measurement]`):
    /// keep the page's own content.
    Holdout,
    /// Targeted, but nothing to show (no variant matched, no items left after filters).
    Empty,
}

impl Status {
    /// Its name in the JSON shape (`"filled"`, `"not_targeted"`, …), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Filled => "filled",
            Status::NotTargeted => "not_targeted",
            Status::Holdout => "holdout",
            Status::Empty => "empty",
        }
    }
}

// The JSON shape of decisions and offers, one for every host: `/v1/decide` and
// `/v1/exit-offer` write these structs with serde (edge/src/api.rs), the browser SDK builds
// the same objects for `vitrine.decide()` and `vitrine.on('offer')` (browser-sdk/src/web/js.rs),
// and `browser-sdk/js/vitrine.d.ts` declares them. Each type's `FIELDS` lists its JSON names
// (camelCase where two words meet, as in the JS API); tests hold every host to them (this
// crate's tests/decide.rs for serde, browser-sdk/tests/contracts.rs for the d.ts,
// browser-sdk/tests/browser.rs for the SDK's objects, edge/src/api.rs for the endpoints).

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub placement: String,
    pub status: Status,
    pub title: String,
    pub variant: Option<String>,
    pub items: Vec<DecidedItem>,
    /// Inner HTML for the slot (escaped); empty unless `status` is `Filled`.
    pub html: String,
    pub explain: Explain,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecidedItem {
    pub sku: String,
    pub title: String,
    pub url: String,
    pub image: String,
    pub price: f32,
    /// The recommender that contributed most to this item's score.
    pub source: &'static str,
    pub score: f32,
}

/// Why the decision came out as it did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Explain {
    /// The rule that decided: `placements.<id>.variants.<name>`, `placements.<id>.sources`, …
    pub rule: String,
    /// The visitor's RFM segment ("New" when unknown).
    pub segment: String,
    /// Rule segments the visitor is in.
    pub segments: Vec<String>,
    pub experiment: Option<ExperimentArm>,
    /// Per source: how many candidates it offered.
    pub sources: Vec<SourceUse>,
    /// What each `[[merchandising]]` rule did to which product, in config order (empty in the
    /// browser, feature `compact`: the edge's `/v1/decide?explain=1` says it).
    pub merchandising: Vec<MerchandisingUse>,
    /// The profile traits the conditions that decided read (`traits.*` in the `when` of the
    /// placement, of its variants up to the one shown, of the offers up to the one picked, of
    /// the rule segments the visitor is in), each with the visitor's value, null for none:
    /// `{"churn_risk": "high"}`. Not in the browser's build (feature `compact`; 15 B of gzip
    /// as a field left empty there): the edge says it.
    #[cfg(not(feature = "compact"))]
    pub traits: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExperimentArm {
    pub key: String,
    pub arm: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceUse {
    pub recommender: &'static str,
    pub weight: f32,
    pub candidates: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferDecision {
    pub id: String,
    pub scenario: String,
    pub kind: String,
    pub value: f32,
    pub code: String,
    pub headline: String,
    pub body: String,
    pub cta_text: String,
    pub cta_url: String,
    /// The pop-up's inner HTML (escaped).
    pub html: String,
    pub explain: Explain,
}

impl Decision {
    pub const FIELDS: [&'static str; 7] = ["placement", "status", "title", "variant", "items", "html", "explain"];

    /// What the decision puts into its slot, the one rule for every host (the edge's rewrite,
    /// the SDK's fill): its HTML when it is `Filled` with HTML that is not empty. Otherwise the
    /// page keeps its own content (an empty template never blanks a slot's fallback).
    pub fn slot_html(&self) -> Option<&str> {
        (self.status == Status::Filled && !self.html.is_empty()).then_some(self.html.as_str())
    }
}

impl DecidedItem {
    pub const FIELDS: [&'static str; 7] = ["sku", "title", "url", "image", "price", "source", "score"];
}

impl Explain {
    /// What every host's explanation has (the SDK's objects and types too).
    pub const FIELDS: [&'static str; 6] = ["rule", "segment", "segments", "experiment", "sources", "merchandising"];
    /// What only the edge's (`/v1/decide?explain=1`, `/v1/exit-offer?explain=1`) adds.
    pub const SERVER_FIELDS: [&'static str; 1] = ["traits"];
}

/// `explain.traits`: every `traits.*` attribute read by the `when` of the rule segments the
/// visitor is in (`segments`) and of the conditions `asked`, with its value in `attrs` (null for
/// none). Not in the browser.
#[cfg(not(feature = "compact"))]
fn traits_read<'w>(rules: &'w crate::rules::Rules, segments: &[String], attrs: &Value, asked: impl Iterator<Item = &'w Value>) -> Value {
    let mut read = Value::object();
    let in_segments = rules.segments.iter().filter(|s| segments.contains(&s.name)).map(|s| &s.when);
    for when in in_segments.chain(asked) {
        note_traits(&mut read, when, attrs);
    }
    read
}

/// Sets in `read` each `traits.*` attribute `when` reads, through `$and`, `$or`, `$nor`, `$not`.
#[cfg(not(feature = "compact"))]
fn note_traits(read: &mut Value, when: &Value, attrs: &Value) {
    let Value::Object(condition) = when else { return };
    for (key, operand) in condition.iter() {
        match key.as_str() {
            "$and" | "$or" | "$nor" => operand.as_array().unwrap_or(&[]).iter().for_each(|c| note_traits(read, c, attrs)),
            "$not" => note_traits(read, operand, attrs),
            _ => {
                if let Some(name) = key.strip_prefix("traits.") {
                    read.set(name, attrs.path(key).cloned().unwrap_or_default());
                }
            }
        }
    }
}

impl ExperimentArm {
    pub const FIELDS: [&'static str; 2] = ["key", "arm"];
}

impl SourceUse {
    pub const FIELDS: [&'static str; 3] = ["recommender", "weight", "candidates"];
}

impl OfferDecision {
    pub const FIELDS: [&'static str; 11] = ["id", "scenario", "kind", "value", "code", "headline", "body", "ctaText", "ctaUrl", "html", "explain"];

    /// The offer's string fields with their JSON names (all but `value` and `explain`), for
    /// hosts that build the object field by field (the SDK).
    pub fn text_fields(&self) -> [(&'static str, &str); 9] {
        let f = Self::FIELDS;
        [
            (f[0], &self.id),
            (f[1], &self.scenario),
            (f[2], &self.kind),
            (f[4], &self.code),
            (f[5], &self.headline),
            (f[6], &self.body),
            (f[7], &self.cta_text),
            (f[8], &self.cta_url),
            (f[9], &self.html),
        ]
    }
}

struct CompiledPlacement {
    when: Condition,
    variants: Vec<Condition>,
    experiment: Option<usize>,
}

pub struct Engine {
    header: Header,
    body: BundleBody,
    segments: Vec<(String, Condition)>,
    placements: Vec<CompiledPlacement>,
    offers: Vec<Condition>,
    /// `[[merchandising]]`'s `when`, in config order.
    merchandising: Vec<Condition>,
    pages: Pages,
}

fn compile(cond: &Value, path: impl FnOnce() -> String) -> Result<Condition, LoadError> {
    Condition::compile(cond).map_err(|e| LoadError::Rule { path: path(), message: e.text() })
}

impl Engine {
    /// Decodes and compiles a bundle. Refuses corrupt bundles and rules `Rules::check` refuses
    /// (the first problem, named).
    pub fn load(bytes: &[u8]) -> Result<Engine, LoadError> {
        Engine::from_bundle(bundle::decode(bytes)?)
    }

    /// [`Engine::load`] keeping `bytes` (`bundle::decode_shared`): the edge's cold start reads
    /// the catalog and tables where they lie, and serves the same bytes to browsers.
    pub fn load_shared(bytes: impl Into<alloc::sync::Arc<Vec<u8>>>) -> Result<Engine, LoadError> {
        Engine::from_bundle(bundle::decode_shared(bytes)?)
    }

    pub fn from_bundle(bundle: Bundle) -> Result<Engine, LoadError> {
        let Bundle { header, body } = bundle;
        let rules = &body.rules;
        // The builder's own check: a bundle it would have refused is refused here too. Not in
        // the browser (feature `compact`): it would cost the SDK about 6 KB of gzip (measured on
        // the release module), its budget has 1.6 KB left, and the SDK loads the bundle the edge
        // serves, which the edge loaded, so checked. Conditions are compiled below everywhere.
        #[cfg(not(feature = "compact"))]
        if let Some(p) = rules.check().into_iter().next() {
            return Err(LoadError::Rule { path: p.key, message: p.message });
        }
        let segments = rules
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| Ok((s.name.clone(), compile(&s.when, || ["segments[", &int_text(i as i64), "].when"].concat())?)))
            .collect::<Result<_, LoadError>>()?;
        let placements = rules
            .placements
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let variants = p
                    .variants
                    .iter()
                    .enumerate()
                    .map(|(j, v)| compile(&v.when, || ["placements[", &int_text(i as i64), "].variants[", &int_text(j as i64), "].when"].concat()))
                    .collect::<Result<_, _>>()?;
                Ok(CompiledPlacement {
                    when: compile(&p.when, || ["placements[", &int_text(i as i64), "].when"].concat())?,
                    variants,
                    experiment: rules.experiments.iter().position(|e| e.placement == p.id),
                })
            })
            .collect::<Result<_, LoadError>>()?;
        let offers =
            rules.offers.iter().enumerate().map(|(i, o)| compile(&o.when, || ["offers[", &int_text(i as i64), "].when"].concat())).collect::<Result<_, _>>()?;
        let catalog = &body.catalog;
        // A loop, not a `collect` into a `Result`: one iterator adapter less in the SDK.
        let mut merchandising = Vec::new();
        for (i, m) in rules.merchandising.iter().enumerate().filter(|_| !cfg!(feature = "compact")) {
            merchandising.push(compile(&m.when, || ["merchandising[", &int_text(i as i64), "].when"].concat())?);
        }
        if catalog.category_slugs.len() != catalog.categories.len() {
            let message = [&int_text(catalog.category_slugs.len() as i64), " slugs for ", &int_text(catalog.categories.len() as i64), " categories"].concat();
            return Err(LoadError::Rule { path: "catalog.category_slugs".into(), message });
        }
        let pages = Pages::new(&rules.pages, catalog);
        Ok(Engine { header, body, segments, placements, offers, merchandising, pages })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn body(&self) -> &BundleBody {
        &self.body
    }

    /// The page a URL path is, by the config's `[[pages]]` patterns (first match wins).
    pub fn page(&self, path: &str) -> Page {
        self.pages.page(&self.body.catalog, path)
    }

    /// The rule segments `v` is in, in config order.
    pub fn segments_of(&self, v: &Visitor) -> Vec<String> {
        self.rule_input(v).segments
    }

    /// The attributes conditions and templates see (see `context` for the shape).
    pub fn attributes(&self, v: &Visitor) -> Value {
        self.rule_input(v).attributes
    }

    /// `v` as the rules see them. Built once per page view and shared by all its decisions:
    /// segment rules are evaluated on the attributes before `segments` is set (a segment rule
    /// cannot depend on other segments), then `segments` is filled in.
    pub fn rule_input(&self, v: &Visitor) -> RuleInput {
        let mut attributes = self.attributes_without_segments(v);
        let segments: Vec<String> = self.segments.iter().filter(|(_, c)| c.eval(&attributes, &self.body.rules.saved_groups)).map(|(n, _)| n.clone()).collect();
        attributes.set("segments", Value::Array(segments.iter().map(|s| Value::from(s.as_str())).collect()));
        RuleInput { segments, attributes }
    }

    fn attributes_without_segments(&self, v: &Visitor) -> Value {
        let store = &self.body.store;
        let mut a = v.attributes(&self.body.catalog, &[]);
        let cart_value = v.cart_value(&self.body.catalog);
        if let Some(Value::Object(cart)) = match &mut a {
            Value::Object(m) => m.get_mut("cart"),
            _ => None,
        } {
            let missing = store.free_shipping_threshold.map_or(0.0, |t| (t - cart_value).max(0.0));
            cart.insert("free_shipping_missing".into(), Value::Number(libm::round((missing as f64) * 100.0) / 100.0));
            cart.insert("free_shipping_missing_text".into(), Value::String(format_price(&store.currency_symbol, missing)));
        }
        let mut s = Value::object();
        s.set("name", store.name.as_str()).set("currency", store.currency.as_str()).set("currency_symbol", store.currency_symbol.as_str());
        a.set("store", s);
        a
    }

    pub fn offer(&self, id: &str) -> Option<&Offer> {
        self.body.rules.offers.iter().find(|o| o.id == id)
    }

    /// Decides one placement for one visitor at `now` (unix seconds).
    pub fn decide(&self, v: &Visitor, placement: &str, now: i64) -> Result<Decision, DecideError> {
        self.decide_with(v, &self.rule_input(v), placement, now)
    }

    /// `decide` with `v`'s rule input already built (`rule_input`): the way to decide several
    /// placements of one page. In order: the placement's `when` (not targeted), the global
    /// holdout (status `Holdout` for every slot it would have filled), the placement's
    /// experiment (an arm's holdout, sources or variant), then the placement as configured.
    pub fn decide_with(&self, v: &Visitor, input: &RuleInput, placement: &str, now: i64) -> Result<Decision, DecideError> {
        let i = self.body.rules.placements.iter().position(|p| p.id == placement).ok_or_else(|| DecideError::UnknownPlacement(placement.into()))?;
        let (p, compiled) = (&self.body.rules.placements[i], &self.placements[i]);
        let attrs = &input.attributes;
        let groups = &self.body.rules.saved_groups;
        let mut d = Decision {
            placement: p.id.clone(),
            status: Status::Empty,
            title: String::new(),
            variant: None,
            items: Vec::new(),
            html: String::new(),
            explain: Explain { segment: v.segment().into(), segments: input.segments.clone(), ..Explain::default() },
        };
        #[cfg(not(feature = "compact"))]
        {
            d.explain.traits = traits_read(&self.body.rules, &input.segments, attrs, core::iter::once(&p.when));
        }
        if !compiled.when.eval(attrs, groups) {
            d.status = Status::NotTargeted;
            d.explain.rule = ["placements.", &p.id, ".when"].concat();
            return Ok(d);
        }

        // The global holdout sees the store's own page: every slot it would have had is held.
        if self.in_holdout(v) {
            d.status = Status::Holdout;
            d.explain.rule = HOLDOUT_RULE.into();
            d.explain.experiment = Some(ExperimentArm { key: HOLDOUT_EXPERIMENT.into(), arm: HOLDOUT_ARM.into() });
            return Ok(d);
        }

        let mut sources: &[Source] = &p.sources;
        let mut forced_variant = None;
        if let Some(e) = compiled.experiment.map(|e| &self.body.rules.experiments[e]) {
            // Outside the experiment's coverage (no arm): the placement as configured.
            if let Some(arm) = arm_of(e, attrs) {
                d.explain.experiment = Some(ExperimentArm { key: e.key.clone(), arm: arm.name.clone() });
                if arm.holdout {
                    d.status = Status::Holdout;
                    d.explain.rule = ["experiments.", &e.key, ".arms.", &arm.name].concat();
                    return Ok(d);
                }
                if !arm.sources.is_empty() {
                    sources = &arm.sources;
                }
                if !arm.variant.is_empty() {
                    forced_variant = p.variants.iter().find(|v| v.name == arm.variant);
                }
            }
        }

        if !p.variants.is_empty() {
            // An arm's variant is shown without asking its `when`: the arm is the treatment.
            let chosen = forced_variant.or_else(|| p.variants.iter().zip(&compiled.variants).find(|(_, c)| c.eval(attrs, groups)).map(|(var, _)| var));
            #[cfg(not(feature = "compact"))]
            if forced_variant.is_none() {
                // Each variant's `when` was asked in turn, up to the one shown.
                let asked = chosen.and_then(|c| p.variants.iter().position(|v| v.name == c.name)).map_or(p.variants.len(), |i| i + 1);
                let whens = core::iter::once(&p.when).chain(p.variants[..asked].iter().map(|var| &var.when));
                d.explain.traits = traits_read(&self.body.rules, &input.segments, attrs, whens);
            }
            d.explain.rule = match chosen {
                Some(var) => {
                    d.status = Status::Filled;
                    d.variant = Some(var.name.clone());
                    d.html = render(&var.html, attrs);
                    ["placements.", &p.id, ".variants.", &var.name].concat()
                }
                None => ["placements.", &p.id, ".variants (none matched)"].concat(),
            };
            return Ok(d);
        }

        d.title = render(&p.title, attrs);
        d.items = self.recommend(v, p, sources, now, attrs, &mut d.explain);
        d.explain.rule = ["placements.", &p.id, ".sources"].concat();
        if !d.items.is_empty() {
            d.status = Status::Filled;
            d.html = self.render_items(p, &d.title, &d.items, attrs);
        }
        Ok(d)
    }

    /// Picks the exit-intent offer for `v`: the first offer whose scenario matches, or what
    /// the arm of an experiment on that offer gives instead. None right after a purchase, when
    /// no scenario matches, for the global holdout and for an offer experiment's holdout arm.
    pub fn exit_offer(&self, v: &Visitor, _now: i64) -> Option<OfferDecision> {
        if v.session.purchased || self.in_holdout(v) {
            return None;
        }
        let RuleInput { segments, attributes: attrs } = self.rule_input(v);
        let rules = &self.body.rules;
        let i = self.offers.iter().position(|c| c.eval(&attrs, &rules.saved_groups))?;
        let mut o = &rules.offers[i];
        let mut explain = Explain { rule: ["offers.", &o.id].concat(), segment: v.segment().into(), ..Explain::default() };
        #[cfg(not(feature = "compact"))]
        {
            // The offers' `when` were asked in turn, up to the one picked.
            explain.traits = traits_read(rules, &segments, &attrs, rules.offers[..=i].iter().map(|offer| &offer.when));
        }
        // Set after the literal, not in it: 41 B less gzip in the SDK's build (measured; the
        // same code otherwise).
        explain.segments = segments;
        if let Some(e) = rules.experiments.iter().find(|e| e.offer == o.id) {
            if let Some(arm) = arm_of(e, &attrs) {
                if arm.holdout {
                    return None;
                }
                if let Some(given) = rules.offers.iter().find(|g| !arm.offer.is_empty() && g.id == arm.offer) {
                    o = given;
                    explain.rule = ["experiments.", &e.key, ".arms.", &arm.name].concat();
                }
                explain.experiment = Some(ExperimentArm { key: e.key.clone(), arm: arm.name.clone() });
            }
        }
        Some(self.render_offer(o, attrs, explain))
    }

    /// The arm of the offer experiment `v` is in when exit intent fires, its holdout arm too
    /// (whose visitors get no offer, so no `OfferDecision` names it): for the hosts' exposure
    /// records. `None` when `exit_offer` would not consult an experiment.
    pub fn exit_offer_arm(&self, v: &Visitor) -> Option<ExperimentArm> {
        if v.session.purchased || self.in_holdout(v) {
            return None;
        }
        let attrs = self.rule_input(v).attributes;
        let rules = &self.body.rules;
        let i = self.offers.iter().position(|c| c.eval(&attrs, &rules.saved_groups))?;
        let e = rules.experiments.iter().find(|e| e.offer == rules.offers[i].id)?;
        Some(ExperimentArm { key: e.key.clone(), arm: arm_of(e, &attrs)?.name.clone() })
    }

    /// The global holdout's arm for `v` ([`HOLDOUT_ARM`] or [`PERSONALIZED_ARM`]), for
    /// `measure::page_exposures`; `None` when the store has no holdout (`holdout = 0`) or `v`
    /// has no visitor id to bucket (not measured).
    pub fn holdout_arm(&self, v: &Visitor) -> Option<&'static str> {
        let held = self.body.rules.measurement.in_holdout(&v.visitor_id)?;
        Some(if held { HOLDOUT_ARM } else { PERSONALIZED_ARM })
    }

    /// Whether `v` is in the global holdout.
    pub fn in_holdout(&self, v: &Visitor) -> bool {
        self.body.rules.measurement.in_holdout(&v.visitor_id) == Some(true)
    }

    /// Renders offer `o` for a visitor's attributes (exit intent, deep-link landings, messages).
    pub fn render_offer(&self, o: &Offer, mut attrs: Value, explain: Explain) -> OfferDecision {
        let headline = render(&o.headline, &attrs);
        let body = render(&o.body, &attrs);
        let cta_url = safe_url(&render(&o.cta_url, &attrs)).to_string();
        let code_html = if o.code.is_empty() {
            String::new()
        } else {
            [r#"<p class="vitrine-offer-code">Code: <strong>"#, &render::escape(&o.code), "</strong></p>"].concat()
        };
        let mut ov = Value::object();
        ov.set("headline", headline.as_str())
            .set("body", body.as_str())
            .set("code_html", code_html)
            .set("cta_url", cta_url.as_str())
            .set("cta_text", o.cta_text.as_str());
        attrs.set("offer", ov);
        OfferDecision {
            id: o.id.clone(),
            scenario: o.scenario.clone(),
            kind: o.kind.clone(),
            value: o.value,
            code: o.code.clone(),
            html: render(OFFER_TEMPLATE, &attrs),
            headline,
            body,
            cta_text: o.cta_text.clone(),
            cta_url,
            explain,
        }
    }

    /// Blends the sources into a ranked, filtered list of items (see `recommend`), then applies
    /// the merchandising rules for this placement and visitor (see `merchandise`).
    fn recommend(&self, v: &Visitor, p: &Placement, sources: &[Source], now: i64, attrs: &Value, explain: &mut Explain) -> Vec<DecidedItem> {
        let catalog = &self.body.catalog;
        let shopper = Shopper { placement: &p.id, ..self.shopper(v, now) };
        let page_product = v.request.page.product;
        let eligible = |item: ProductIdx| {
            catalog.get(item).is_some_and(|prod| {
                prod.in_stock && !prod.ranks_only() && !v.in_cart(item) && Some(item) != page_product && p.max_price.is_none_or(|m| prod.price <= m)
            })
        };
        let rules = &self.body.rules;
        // Rules may remove, lift or sink any candidate: they see every one, then the list is cut.
        // The browser's build has no merchandising (a server-only part it steps over).
        let merchandised = !cfg!(feature = "compact") && !rules.merchandising.is_empty();
        let k = if merchandised { usize::MAX } else { p.max_items as usize };
        let mut r = recommend::recommend(&self.body.recs, &shopper, sources, p.exclude_owned, self.data_time(now), k, eligible);
        explain.sources.extend(r.offered.iter().map(|o| SourceUse { recommender: o.recommender, weight: o.weight, candidates: o.candidates }));
        if merchandised {
            let owned = |item: ProductIdx| p.exclude_owned && shopper.owned.iter().any(|o| o.item == item);
            let eligible = |item: ProductIdx| eligible(item) && !owned(item);
            let (max, groups) = (p.max_items as usize, &rules.saved_groups);
            explain.merchandising = merchandise::apply(&rules.merchandising, &self.merchandising, &p.id, attrs, groups, catalog, &mut r.items, max, eligible);
        }
        r.items
            .into_iter()
            .filter_map(|r| {
                let prod = catalog.get(r.item)?;
                Some(DecidedItem {
                    sku: prod.sku().into(),
                    title: prod.title().into(),
                    url: prod.url().into(),
                    image: prod.image().into(),
                    price: prod.price,
                    source: r.source,
                    score: r.score,
                })
            })
            .collect()
    }

    /// What the recommenders may know about `v` at `now`: the products of the moment (the
    /// page's product, then the cart, then what was looked at this session, most recent first),
    /// session interests decayed to `now`, and a known customer's traits (segment, favourite
    /// categories, purchase history).
    pub fn shopper<'a>(&'a self, v: &'a Visitor, now: i64) -> Shopper<'a> {
        let catalog = &self.body.catalog;
        let category_name = |c: CategoryIdx| catalog.categories.get(c as usize).map(String::as_str);
        let mut seeds: Vec<(ProductIdx, f32)> = Vec::new();
        if let Some(p) = v.request.page.product {
            seeds.push((p, 2.0));
        }
        seeds.extend(v.cart.iter().map(|l| (l.product, 1.5)));
        seeds.extend(v.interests.products.iter().rev().map(|&(p, w)| (p, w.min(1.0))));
        seeds.dedup_by_key(|s| s.0);

        let mut interests = v.interests.clone();
        if interests.updated_at != 0 {
            // Decay to `now` without recording anything.
            interests.record(catalog, crate::context::Signal::CategoryView, None, None, now);
        }
        let top_categories = v
            .traits
            .path("top_categories")
            .and_then(Value::as_array)
            .unwrap_or(&[])
            .iter()
            .filter_map(|c| category_name(catalog.category_index(c.as_str()?)?))
            .collect();
        // Brands and recently viewed feed only the server-only recommenders: not in the browser.
        let (mut top_brands, mut interest_brands, mut recently_viewed) = (Vec::new(), Vec::new(), Vec::new());
        if !cfg!(feature = "compact") {
            top_brands = v.traits.path("top_brands").and_then(Value::as_array).unwrap_or(&[]).iter().filter_map(Value::as_str).collect();
            // A session's brands: the brands of the products it showed interest in, summed.
            for &(p, w) in &interests.products {
                let Some(brand) = catalog.get(p).map(|r| r.brand()).filter(|b| !b.is_empty()) else { continue };
                match interest_brands.iter_mut().find(|b: &&mut (&str, f32)| b.0 == brand) {
                    Some(b) => b.1 += w,
                    None => interest_brands.push((brand, w)),
                }
            }
            recently_viewed = v.recently_viewed.clone();
        }
        Shopper {
            seeds,
            recently_viewed,
            top_brands,
            interest_brands,
            owned: recommend::owned_from_traits(&v.traits, |sku| catalog.index_of(sku), self.body.stats.data_end),
            cart: v.cart.iter().map(|l| l.product).collect(),
            country: v.request.country.as_deref(),
            segment: Some(v.segment()),
            page_category: v.request.page.category.and_then(category_name),
            interest_categories: interests.categories.iter().filter_map(|&(c, w)| Some((category_name(c)?, w))).collect(),
            interest_products: interests.products,
            top_categories,
            placement: "",
        }
    }

    /// `now` on the clock of the data the bundle was built from, for the purchase times in a
    /// profile's `items` trait. Those are stored as absolute unix seconds (they do not go stale
    /// while a profile sits in KV or in a cookie), but a bundle may be built long after its data
    /// ends (the demo store's orders stop in 2011): an item's age is then its age when the
    /// data ended plus the time since the build, not years. For a store built daily from its
    /// live orders, the two clocks agree within a day.
    pub fn data_time(&self, now: i64) -> i64 {
        let end = self.body.stats.data_end;
        if end <= 0 || self.header.created_at <= end {
            return now;
        }
        end.saturating_add(now.saturating_sub(self.header.created_at).max(0))
    }

    fn render_items(&self, p: &Placement, title: &str, items: &[DecidedItem], attrs: &Value) -> String {
        let item_tpl = if p.item_template.is_empty() { DEFAULT_ITEM_TEMPLATE } else { &p.item_template };
        let symbol = &self.body.store.currency_symbol;
        let mut rendered = String::new();
        for it in items {
            rendered.push_str(&render_with(item_tpl, |field| {
                Some(match field {
                    "sku" => Cow::Borrowed(it.sku.as_str()),
                    "title" => Cow::Borrowed(it.title.as_str()),
                    "url" => Cow::Borrowed(safe_url(&it.url)),
                    "image" => Cow::Borrowed(safe_url(&it.image)),
                    "price" => Cow::Owned(format_price(symbol, it.price)),
                    "source" => Cow::Borrowed(it.source),
                    _ => return None,
                })
            }));
        }
        // The slot template sees the visitor's attributes too, with `title` and `items` on top.
        let outer = if p.template.is_empty() { DEFAULT_TEMPLATE } else { &p.template };
        render_with(outer, |path| match path {
            "title" => Some(Cow::Borrowed(title)),
            "items" => Some(Cow::Borrowed(rendered.as_str())),
            _ => attrs.path(path).map(|v| Cow::Owned(render::display(v))),
        })
    }
}
