//! `Rules::check`: what the rules' types cannot say. Duplicate ids, unknown recommenders,
//! experiments on placements that do not exist, weights that do not match arms, journeys whose
//! steps run backwards or name offers that do not exist, and conditions that do not compile or
//! can never match.
//!
//! One check, two callers: the model builder refuses such a config (and maps each problem's
//! key to the file, line and column it is on), and `Engine::load` refuses such a bundle
//! (naming the first problem), so no host serves rules the builder would not have built.
//!
//! Runs in the browser too (every bundle load): messages are put together without `core::fmt`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::{
    journeys, Arm, Capture, Channel, MerchAction, Offer, Rules, Source, Step, Trigger, UniqueCode, HOLDOUT_EXPERIMENT, RECOMMENDERS, SLICE_RECOMMENDER,
};
use crate::condition::Condition;
use crate::render::{links_values_could_steer, raw_tags_outside, safe_url, RAW_FRAGMENTS};
use crate::text::{decimal_text, int_text};
use crate::value::Value;

/// One thing wrong with the rules: where (`key`, a path into the config such as
/// `placements[1].sources[0].recommender`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.key)?;
        f.write_str(": ")?;
        f.write_str(&self.message)
    }
}

impl Rules {
    /// Every problem, in config order (pages, segments, placements, offers, experiments,
    /// journeys and messaging, measurement, unique codes, merchandising); empty when the rules
    /// are sound.
    pub fn check(&self) -> Vec<Problem> {
        let mut c = Checker(Vec::new());
        c.pages(self);
        c.segments(self);
        c.placements(self);
        c.offers(self);
        c.experiments(self);
        c.journeys(self);
        c.measurement(self);
        c.unique_codes(self);
        c.merchandising(self);
        c.0
    }
}

/// What an experiment tests: a placement or an offer (by index), or a journey.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Placement(usize),
    Offer(usize),
    Journey,
}

/// The journeys and messaging part of [`Rules::check`] alone (`journey::check`).
pub(crate) fn journey_problems(rules: &Rules) -> Vec<Problem> {
    let mut c = Checker(Vec::new());
    c.journeys(rules);
    c.0
}

struct Checker(Vec<Problem>);

impl MerchAction {
    /// Its name in the config and in `explain.merchandising` (as serde writes it).
    pub(crate) fn name(self) -> &'static str {
        match self {
            MerchAction::Pin => "pin",
            MerchAction::Boost => "boost",
            MerchAction::Bury => "bury",
            MerchAction::Exclude => "exclude",
        }
    }
}

/// `name[i]`
fn nth(name: &str, i: usize) -> String {
    [name, "[", &int_text(i as i64), "]"].concat()
}

/// A string as Rust's `{:?}` shows it (quotes, backslashes escaped).
/// A zone the host's database has (feature `tzdb`); without one, one shaped like an IANA name.
fn zone_is_known(zone: &str) -> bool {
    #[cfg(feature = "tzdb")]
    return crate::zones::TimeZones::offset_seconds(&crate::zones::Tzdb, zone, 0).is_some();
    #[cfg(not(feature = "tzdb"))]
    return crate::zones::is_zone_name(zone);
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn num(x: f32) -> String {
    decimal_text(f64::from(x))
}

impl Checker {
    /// An HTML template: its raw tags as [`raw`](Self::raw), and links whose scheme a value
    /// could choose (`href="{{title}}"`): links start with `{{url}}`, `{{image}}`,
    /// `{{offer.cta_url}}`, `{{link}}` or static text that settles the scheme.
    fn html(&mut self, key: String, template: &str, allowed: &[&str]) {
        self.raw(key.clone(), template, allowed);
        for link in links_values_could_steer(template) {
            self.push(
                key.clone(),
                [
                    &link,
                    ": a value could make this link a script URL; start it with {{url}}, {{image}}, {{offer.cta_url}}, {{link}}, a path or an http(s) address",
                ]
                .concat(),
            );
        }
    }

    /// `{{{…}}}` inserts HTML unescaped: only the engine's own fragments may be (`allowed`).
    fn raw(&mut self, key: String, template: &str, allowed: &[&str]) {
        for path in raw_tags_outside(template, allowed) {
            let hint =
                if allowed.is_empty() { String::from("no triple tag is allowed here") } else { ["only {{{", &allowed.join("}}}, {{{"), "}}} may be"].concat() };
            self.push(key.clone(), ["{{{", path, "}}} would insert it unescaped (", &hint, "): write {{", path, "}}"].concat());
        }
    }

    fn push(&mut self, key: String, message: impl Into<String>) {
        self.0.push(Problem { key, message: message.into() });
    }

    /// `duplicate <what> "<id>" (first at <list>[j])` when an earlier item has the same id.
    fn unique<'a>(&mut self, key: String, what: &str, id: &str, earlier: impl Iterator<Item = &'a str>, list: &str) {
        if let Some(j) = earlier.into_iter().position(|e| e == id) {
            self.push(key, ["duplicate ", what, " ", &quoted(id), " (first at ", &nth(list, j), ")"].concat());
        }
    }

    fn pages(&mut self, rules: &Rules) {
        for (i, p) in rules.pages.iter().enumerate() {
            let at = nth("pages", i);
            if !p.pattern.starts_with('/') {
                self.push([&at, ".pattern"].concat(), [&quoted(&p.pattern), " must start with '/'"].concat());
            }
            if p.page.trim().is_empty() {
                self.push([&at, ".page"].concat(), "empty page type");
            }
        }
    }

    fn segments(&mut self, rules: &Rules) {
        for (i, s) in rules.segments.iter().enumerate() {
            let at = nth("segments", i);
            if s.name.trim().is_empty() {
                self.push([&at, ".name"].concat(), "empty");
            }
            self.unique([&at, ".name"].concat(), "segment", &s.name, rules.segments[..i].iter().map(|t| t.name.as_str()), "segments");
            self.condition([&at, ".when"].concat(), &s.when);
        }
    }

    fn placements(&mut self, rules: &Rules) {
        for (i, p) in rules.placements.iter().enumerate() {
            let at = nth("placements", i);
            if p.id.trim().is_empty() {
                self.push([&at, ".id"].concat(), "empty");
            }
            self.unique([&at, ".id"].concat(), "placement id", &p.id, rules.placements[..i].iter().map(|q| q.id.as_str()), "placements");
            self.condition([&at, ".when"].concat(), &p.when);
            match (p.sources.is_empty(), p.variants.is_empty()) {
                (true, true) => self.push(at.clone(), "needs sources (a product carousel) or variants (content)"),
                (false, false) => self.push(at.clone(), "has both sources and variants: a placement is a carousel or content, not both"),
                _ => {}
            }
            self.sources(&[&at, ".sources"].concat(), &p.sources);
            if p.max_items == 0 {
                self.push([&at, ".max_items"].concat(), "0 shows nothing");
            }
            if let Some(m) = p.max_price {
                if !(m.is_finite() && m > 0.0) {
                    self.push([&at, ".max_price"].concat(), [&num(m), " is not a price"].concat());
                }
            }
            for (k, v) in p.variants.iter().enumerate() {
                let vat = [&at, ".", &nth("variants", k)].concat();
                self.unique([&vat, ".name"].concat(), "variant", &v.name, p.variants[..k].iter().map(|w| w.name.as_str()), "variants");
                self.condition([&vat, ".when"].concat(), &v.when);
                if v.html.trim().is_empty() {
                    self.push([&vat, ".html"].concat(), "empty");
                }
                self.html([&vat, ".html"].concat(), &v.html, &RAW_FRAGMENTS);
            }
            self.html([&at, ".template"].concat(), &p.template, &RAW_FRAGMENTS);
            self.html([&at, ".item_template"].concat(), &p.item_template, &[]);
            if !p.item_template.is_empty() && !names_its_sku(&p.item_template) {
                self.push(
                    [&at, ".item_template"].concat(),
                    "no data-sku=\"{{sku}}\" on the item: clicks on it could not say which product was clicked (measurement reads it)",
                );
            }
            self.raw([&at, ".title"].concat(), &p.title, &[]);
        }
    }

    fn offers(&mut self, rules: &Rules) {
        for (i, o) in rules.offers.iter().enumerate() {
            let at = nth("offers", i);
            if o.id.trim().is_empty() {
                self.push([&at, ".id"].concat(), "empty");
            }
            self.unique([&at, ".id"].concat(), "offer id", &o.id, rules.offers[..i].iter().map(|p| p.id.as_str()), "offers");
            self.condition([&at, ".when"].concat(), &o.when);
            if o.kind.trim().is_empty() {
                self.push([&at, ".kind"].concat(), "empty");
            }
            if o.headline.trim().is_empty() {
                self.push([&at, ".headline"].concat(), "empty");
            }
            for (field, text) in [(".headline", &o.headline), (".body", &o.body), (".cta_text", &o.cta_text), (".cta_url", &o.cta_url)] {
                self.raw([&at, field].concat(), text, &[]);
            }
            if !o.cta_url.contains("{{") && safe_url(&o.cta_url) != o.cta_url {
                self.push([&at, ".cta_url"].concat(), [&quoted(&o.cta_url), " is not an http(s) or relative URL"].concat());
            }
            if !(o.value.is_finite() && o.value >= 0.0) || (o.kind == "percent_off" && !(o.value > 0.0 && o.value <= 100.0)) {
                self.push([&at, ".value"].concat(), [&num(o.value), " is not a valid value for a ", &quoted(&o.kind), " offer"].concat());
            }
            if o.capture != Capture::None {
                self.capture(rules, &at, o);
            }
        }
    }

    /// A capturing exit offer (`capture`) promises its code by email once the contact is
    /// confirmed: the code is the visitor's own (`[[unique_codes]]`: a static `code` is in the
    /// public bundle, so anyone could read it without giving an email), and a welcome journey's
    /// message carries it (the welcome series starts on the confirmation).
    fn capture(&mut self, rules: &Rules, at: &str, o: &Offer) {
        let key = [at, ".capture"].concat();
        let id = quoted(&o.id);
        if !o.code.is_empty() {
            let message = ["offer ", &id, " asks for a contact in exchange for its code, but its static code is public (in the bundle every browser downloads): remove `code` and add a [[unique_codes]] entry with offer = ", &id];
            self.push(key.clone(), message.concat());
        } else if rules.unique_code(&o.id).is_none() {
            let message = ["offer ", &id, " asks for a contact in exchange for a code but has none: add a [[unique_codes]] entry with offer = ", &id];
            self.push(key.clone(), message.concat());
        }
        let welcomes = || rules.journeys.iter().filter(|j| j.trigger == Trigger::Welcome);
        if welcomes().next().is_none() {
            let message = [
                "nothing would send the promised code: add a [[journeys]] with trigger = \"welcome\" and a step with offer = ",
                &id,
                " (it starts once the contact confirms)",
            ];
            self.push(key, message.concat());
        } else if !welcomes().any(|j| j.steps.iter().any(|s| s.offer == o.id && s.channel != Channel::Push && s.channel != Channel::Webhook)) {
            let names: Vec<String> = welcomes().map(|j| quoted(&j.id)).collect();
            let message =
                ["no email or text step of the welcome journey (", &names.join(", "), ") has offer = ", &id, ": the promised code would never be sent"];
            self.push(key, message.concat());
        }
    }

    fn experiments(&mut self, rules: &Rules) {
        for (i, e) in rules.experiments.iter().enumerate() {
            let at = nth("experiments", i);
            if e.key.trim().is_empty() {
                self.push([&at, ".key"].concat(), "empty");
            }
            self.unique([&at, ".key"].concat(), "experiment key", &e.key, rules.experiments[..i].iter().map(|f| f.key.as_str()), "experiments");
            if e.key == HOLDOUT_EXPERIMENT {
                self.push([&at, ".key"].concat(), [&quoted(&e.key), " is the global holdout's name in the measurement records ([measurement])"].concat());
            }
            let target = self.experiment_target(rules, i, &at);
            if !(0.0..=1.0).contains(&e.coverage) {
                self.push([&at, ".coverage"].concat(), [&num(e.coverage), " is not in 0..=1"].concat());
            }
            if e.arms.len() < 2 {
                self.push([&at, ".arms"].concat(), ["an experiment needs at least 2 arms, found ", &int_text(e.arms.len() as i64)].concat());
            }
            if !e.weights.is_empty() {
                if e.weights.len() != e.arms.len() {
                    let message = [&int_text(e.weights.len() as i64), " weights for ", &int_text(e.arms.len() as i64), " arms"].concat();
                    self.push([&at, ".weights"].concat(), message);
                }
                let sum: f32 = e.weights.iter().sum();
                if e.weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || (sum - 1.0).abs() > 0.01 {
                    self.push([&at, ".weights"].concat(), ["weights must be 0 or more and add up to 1 (they add up to ", &num(sum), ")"].concat());
                }
            }
            for (k, arm) in e.arms.iter().enumerate() {
                let aat = [&at, ".", &nth("arms", k)].concat();
                self.unique([&aat, ".name"].concat(), "arm", &arm.name, e.arms[..k].iter().map(|a| a.name.as_str()), "arms");
                if arm.name.trim().is_empty() {
                    self.push([&aat, ".name"].concat(), "empty");
                }
                self.sources(&[&aat, ".sources"].concat(), &arm.sources);
                if let Some(target) = target {
                    self.arm(rules, target, arm, &aat);
                }
            }
        }
    }

    /// The one thing experiment `i` tests, which must exist and have no other experiment.
    fn experiment_target(&mut self, rules: &Rules, i: usize, at: &str) -> Option<Target> {
        let e = &rules.experiments[i];
        let named = [("placement", &e.placement), ("offer", &e.offer), ("journey", &e.journey)];
        let given: Vec<&str> = named.iter().filter(|(_, id)| !id.is_empty()).map(|(field, _)| *field).collect();
        if given.len() != 1 {
            let found = if given.is_empty() { String::from("none") } else { given.join(", ") };
            self.push(at.into(), ["names one target: placement, offer or journey (found ", &found, ")"].concat());
            return None;
        }
        let (field, id) = named.iter().find(|(_, id)| !id.is_empty()).map(|(f, id)| (*f, id.as_str()))?;
        let key = [at, ".", field].concat();
        let target = match field {
            "placement" => rules.placements.iter().position(|p| p.id == id).map(Target::Placement),
            "offer" => rules.offers.iter().position(|o| o.id == id).map(Target::Offer),
            _ => rules.journeys.iter().position(|j| j.id == id).map(|_| Target::Journey),
        };
        if target.is_none() {
            let known: Vec<&str> = match field {
                "placement" => rules.placements.iter().map(|p| p.id.as_str()).collect(),
                "offer" => rules.offers.iter().map(|o| o.id.as_str()).collect(),
                _ => rules.journeys.iter().map(|j| j.id.as_str()).collect(),
            };
            let known = if known.is_empty() { String::from("(none)") } else { known.join(", ") };
            self.push(key, ["unknown ", field, " ", &quoted(id), "; ", field, "s: ", &known].concat());
            return None;
        }
        // Earlier experiments naming several targets were refused already: not counted twice.
        let same = |f: &crate::rules::Experiment| {
            let targets = [&f.placement, &f.offer, &f.journey].iter().filter(|t| !t.is_empty()).count();
            targets == 1
                && match field {
                    "placement" => f.placement == id,
                    "offer" => f.offer == id,
                    _ => f.journey == id,
                }
        };
        if let Some(j) = rules.experiments[..i].iter().position(same) {
            self.push(key, [field, " ", &quoted(id), " already has ", &nth("experiments", j)].concat());
        }
        if target == Some(Target::Journey) && e.hash_attribute != "visitor_id" {
            let message = [&quoted(&e.hash_attribute), ": journeys are bucketed by the visitor's key; leave hash_attribute out"].concat();
            self.push([at, ".hash_attribute"].concat(), message);
        }
        target
    }

    /// What arm `arm` changes must be something its target has.
    fn arm(&mut self, rules: &Rules, target: Target, arm: &Arm, at: &str) {
        let placement = match target {
            Target::Placement(p) => Some(&rules.placements[p]),
            _ => None,
        };
        let offer = match target {
            Target::Offer(o) => Some(&rules.offers[o]),
            _ => None,
        };
        let what = match target {
            Target::Placement(_) if placement.is_some_and(|p| p.variants.is_empty()) => "a carousel",
            Target::Placement(_) => "a content placement",
            Target::Offer(_) => "an offer",
            Target::Journey => "a journey",
        };
        let refuse = |c: &mut Self, field: &str| c.push([at, ".", field].concat(), ["not for ", what].concat());
        if !arm.sources.is_empty() && !placement.is_some_and(|p| p.variants.is_empty()) {
            refuse(self, "sources");
        }
        if !arm.variant.is_empty() {
            match placement.filter(|p| !p.variants.is_empty()) {
                None => refuse(self, "variant"),
                Some(p) if !p.variants.iter().any(|v| v.name == arm.variant) => {
                    let known: Vec<&str> = p.variants.iter().map(|v| v.name.as_str()).collect();
                    let message = ["unknown variant ", &quoted(&arm.variant), " of placement ", &quoted(&p.id), "; variants: ", &known.join(", ")].concat();
                    self.push([at, ".variant"].concat(), message);
                }
                Some(_) => {}
            }
        }
        if !arm.offer.is_empty() {
            match offer {
                None => refuse(self, "offer"),
                Some(_) if !rules.offers.iter().any(|o| o.id == arm.offer) => {
                    let known: Vec<&str> = rules.offers.iter().map(|o| o.id.as_str()).collect();
                    self.push([at, ".offer"].concat(), ["unknown offer ", &quoted(&arm.offer), "; offers: ", &known.join(", ")].concat());
                }
                Some(_) => {}
            }
        }
        if arm.holdout && target == Target::Journey {
            self.push([at, ".holdout"].concat(), "not for a journey: write send = false (the journey runs, nothing is sent)");
        }
        if !arm.send && target != Target::Journey {
            refuse(self, "send");
        }
        let changes = [!arm.sources.is_empty(), !arm.variant.is_empty(), !arm.offer.is_empty(), arm.holdout, !arm.send];
        if changes.iter().filter(|&&c| c).count() > 1 {
            self.push(at.into(), "an arm makes one change: sources, variant, offer, holdout or send = false");
        }
    }

    fn measurement(&mut self, rules: &Rules) {
        let h = rules.measurement.holdout;
        if !(0.0..1.0).contains(&h) {
            self.push("measurement.holdout".into(), [&decimal_text(h), " is not a share of visitors in 0..1 (0.05 is 5%)"].concat());
        }
    }

    /// `[[unique_codes]]`: an offer that exists, once, without a static code; a prefix that
    /// reads the same typed in any case; a validity the edge can keep.
    fn unique_codes(&mut self, rules: &Rules) {
        for (i, u) in rules.unique_codes.iter().enumerate() {
            let at = nth("unique_codes", i);
            match rules.offers.iter().position(|o| o.id == u.offer) {
                None => self.push([&at, ".offer"].concat(), ["no offer has id ", &quoted(&u.offer)].concat()),
                Some(k) if !rules.offers[k].code.is_empty() => {
                    let message = [
                        "offer ",
                        &quoted(&u.offer),
                        " also has a static code (",
                        &nth("offers", k),
                        ".code): an offer's code is static or unique, remove one",
                    ];
                    self.push([&at, ".offer"].concat(), message.concat());
                }
                Some(_) => {}
            }
            self.unique([&at, ".offer"].concat(), "unique code offer", &u.offer, rules.unique_codes[..i].iter().map(|v| v.offer.as_str()), "unique_codes");
            let prefix_ok =
                !u.prefix.is_empty() && u.prefix.len() <= UniqueCode::MAX_PREFIX_LEN && u.prefix.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if !prefix_ok {
                let message =
                    [&quoted(&u.prefix), " is not 1 to ", &int_text(UniqueCode::MAX_PREFIX_LEN as i64), " capital letters and digits (e.g. \"WELCOME\")"];
                self.push([&at, ".prefix"].concat(), message.concat());
            }
            if !(1..=UniqueCode::MAX_VALID_DAYS).contains(&u.valid_days) {
                let message = [&int_text(i64::from(u.valid_days)), " is not 1 to ", &int_text(i64::from(UniqueCode::MAX_VALID_DAYS)), " days"];
                self.push([&at, ".valid_days"].concat(), message.concat());
            }
        }
    }

    /// `[[merchandising]]`: unique ids, a known action with what it needs (a pin: one SKU and
    /// a position; a boost or bury: a selector and a factor that boosts or buries; an exclude: a
    /// selector), placements that exist and are carousels. SKUs are the builder's to check (it
    /// has the catalog: `model-builder/src/check.rs`).
    fn merchandising(&mut self, rules: &Rules) {
        for (i, m) in rules.merchandising.iter().enumerate() {
            let at = nth("merchandising", i);
            let key = |field: &str| [&at, ".", field].concat();
            if m.id.trim().is_empty() {
                self.push(key("id"), "empty");
            }
            self.unique(key("id"), "merchandising id", &m.id, rules.merchandising[..i].iter().map(|n| n.id.as_str()), "merchandising");
            self.condition(key("when"), &m.when);
            for (j, p) in m.placements.iter().enumerate() {
                let pat = [&at, ".", &nth("placements", j)].concat();
                match rules.placements.iter().find(|q| q.id == *p) {
                    None => {
                        let known: Vec<&str> = rules.placements.iter().map(|q| q.id.as_str()).collect();
                        self.push(pat, ["unknown placement ", &quoted(p), "; placements: ", &known.join(", ")].concat());
                    }
                    Some(q) if !q.variants.is_empty() => {
                        self.push(pat, ["placement ", &quoted(p), " is content (variants): merchandising acts on carousels"].concat());
                    }
                    Some(_) => {}
                }
            }
            for (j, s) in m.skus.iter().enumerate() {
                if s.trim().is_empty() {
                    self.push([&at, ".", &nth("skus", j)].concat(), "empty");
                }
            }
            let action = m.action;
            let selects = !m.skus.is_empty() || m.category.is_some() || m.brand.is_some() || m.tag.is_some();
            let what = action.name();
            let not_for =
                |c: &mut Self, field: &str| c.push(key(field), ["not for a ", what, " (only a pin has a position, only a boost or bury a factor)"].concat());
            for (field, value) in [("category", &m.category), ("brand", &m.brand), ("tag", &m.tag)] {
                if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    self.push(key(field), "empty: it would select nothing");
                }
            }
            if action == MerchAction::Pin {
                if m.skus.len() != 1 {
                    self.push(key("skus"), ["a pin names exactly one SKU (found ", &int_text(m.skus.len() as i64), ")"].concat());
                }
                for field in [("category", &m.category), ("brand", &m.brand), ("tag", &m.tag)].iter().filter(|f| f.1.is_some()).map(|f| f.0) {
                    self.push(key(field), "a pin names its product by skus only");
                }
                if m.position.is_none_or(|p| p < 1) {
                    self.push(key("position"), "a pin needs a position of 1 or more (1 is the first item)");
                }
            } else {
                if !selects {
                    self.push(at.clone(), [what, " selects nothing: give skus, category, brand or tag"].concat());
                }
                if m.position.is_some() {
                    not_for(self, "position");
                }
            }
            match (action, m.factor) {
                (MerchAction::Boost, Some(f)) if !(f.is_finite() && f > 1.0) => {
                    self.push(key("factor"), [&num(f), " does not boost: a boost's factor is above 1 (2 doubles the score)"].concat())
                }
                (MerchAction::Bury, Some(f)) if !(f.is_finite() && f > 0.0 && f < 1.0) => {
                    self.push(key("factor"), [&num(f), " does not bury: a bury's factor is above 0 and below 1 (0.5 halves the score)"].concat())
                }
                (MerchAction::Pin | MerchAction::Exclude, Some(_)) => not_for(self, "factor"),
                _ => {}
            }
        }
    }

    /// Journeys and messaging: unique ids, steps in order, offers that exist.
    fn journeys(&mut self, rules: &Rules) {
        let m = &rules.messaging;
        if !(-720..=840).contains(&m.default_utc_offset_minutes) {
            let message = [&int_text(i64::from(m.default_utc_offset_minutes)), " is not a UTC offset (-720..=840)"].concat();
            self.push("messaging.default_utc_offset_minutes".into(), message);
        }
        if !m.default_time_zone.is_empty() && !zone_is_known(&m.default_time_zone) {
            let message = [&quoted(&m.default_time_zone), " is not an IANA time zone (e.g. \"Europe/London\", \"America/New_York\")"].concat();
            self.push("messaging.default_time_zone".into(), message);
        }
        if !m.landing_path.starts_with('/') {
            self.push("messaging.landing_path".into(), [&quoted(&m.landing_path), " must start with '/'"].concat());
        }
        for (i, j) in rules.journeys.iter().enumerate() {
            let at = nth("journeys", i);
            if j.id.is_empty() {
                self.push([&at, ".id"].concat(), "empty");
            }
            if rules.journeys[..i].iter().any(|k| k.id == j.id) {
                self.push([&at, ".id"].concat(), [&quoted(&j.id), " is used by an earlier journey"].concat());
            }
            if j.steps.is_empty() {
                self.push([&at, ".steps"].concat(), "a journey needs at least one step");
            }
            if !(j.gap_factor > 0.0 && j.gap_factor <= 100.0) {
                self.push([&at, ".gap_factor"].concat(), [&num(j.gap_factor), " must be in (0, 100]"].concat());
            }
            if !(j.min_drop_percent > 0.0 && j.min_drop_percent < 100.0) {
                self.push([&at, ".min_drop_percent"].concat(), [&num(j.min_drop_percent), " must be in (0, 100)"].concat());
            }
            match j.late_days {
                Some(_) if j.trigger != Trigger::WinBack => {
                    let message = ["only a win_back journey is timed from the expected next order, not ", j.trigger.as_str()].concat();
                    self.push([&at, ".late_days"].concat(), message);
                }
                Some(days) if days > journeys::MAX_LATE_DAYS => {
                    let message = [&int_text(i64::from(days)), " must be at most ", &int_text(i64::from(journeys::MAX_LATE_DAYS)), " days"].concat();
                    self.push([&at, ".late_days"].concat(), message);
                }
                _ => {}
            }
            self.condition([&at, ".when"].concat(), &j.when);
            for (k, s) in j.steps.iter().enumerate() {
                let at = [&at, ".", &nth("steps", k)].concat();
                if k > 0 && s.after < j.steps[k - 1].after {
                    let message = [&s.after.text(), " comes before the previous step's ", &j.steps[k - 1].after.text()].concat();
                    self.push([&at, ".after"].concat(), message);
                }
                if !s.landing.is_empty() && !s.landing.starts_with('/') {
                    self.push([&at, ".landing"].concat(), [&quoted(&s.landing), " must start with '/'"].concat());
                }
                if !s.offer.is_empty() && !rules.offers.iter().any(|o| o.id == s.offer) {
                    self.push([&at, ".offer"].concat(), ["unknown offer ", &quoted(&s.offer)].concat());
                }
                if s.body.trim().is_empty() && s.channel != Channel::Webhook {
                    self.push([&at, ".body"].concat(), "empty");
                }
                self.raw([&at, ".subject"].concat(), &s.subject, &[]);
                self.raw([&at, ".body"].concat(), &s.body, &[]);
                self.html([&at, ".html"].concat(), &s.html, &RAW_FRAGMENTS);
                if s.subject.trim().is_empty() && matches!(s.channel, Channel::Email | Channel::Push) {
                    self.push([&at, ".subject"].concat(), ["an ", s.channel.as_str(), " needs a subject"].concat());
                }
                self.whatsapp_template(&at, &j.id, k, s);
                self.condition([&at, ".when"].concat(), &s.when);
            }
        }
    }

    /// A WhatsApp step sends an approved template (its Content SID, its variables in order);
    /// other channels have none. The journey's id is named: steps are found by it.
    fn whatsapp_template(&mut self, at: &str, journey: &str, k: usize, s: &Step) {
        let step = ["journey ", &quoted(journey), " step ", &int_text(k as i64)].concat();
        if s.channel != Channel::Whatsapp {
            if !s.template.is_empty() || !s.variables.is_empty() {
                self.push([at, ".template"].concat(), [&step, ": template and variables are for whatsapp steps only"].concat());
            }
            return;
        }
        if !journeys::is_content_sid(&s.template) {
            let found = if s.template.is_empty() { "none".into() } else { quoted(&s.template) };
            let message = [&step, ": a whatsapp step needs template = \"HX…\" (a Content SID: HX and 32 hex digits; found ", &found, ")"].concat();
            self.push([at, ".template"].concat(), message);
        }
        // The step's body is the template's text as approved: its {{1}}…{{n}} are the variables.
        let mut numbers = journeys::template_placeholders(&s.body);
        numbers.sort_unstable();
        numbers.dedup();
        if numbers.iter().enumerate().any(|(i, n)| *n != i + 1) || numbers.len() != s.variables.len() {
            let used = match numbers.last() {
                None => String::from("no {{1}}"),
                Some(_) => numbers.iter().map(|n| ["{{", &int_text(*n as i64), "}}"].concat()).collect::<Vec<_>>().join(", "),
            };
            let message = [
                &step,
                ": the template's text (body) uses ",
                &used,
                " and the step gives ",
                &int_text(s.variables.len() as i64),
                " variables (one per placeholder, numbered from {{1}} without gaps)",
            ]
            .concat();
            self.push([at, ".variables"].concat(), message);
        }
        if s.variables.len() > journeys::MAX_TEMPLATE_VARIABLES {
            let message =
                [&step, ": ", &int_text(s.variables.len() as i64), " variables, at most ", &int_text(journeys::MAX_TEMPLATE_VARIABLES as i64)].concat();
            self.push([at, ".variables"].concat(), message);
        }
        for (v, text) in s.variables.iter().enumerate() {
            let at = [at, ".", &nth("variables", v)].concat();
            if text.trim().is_empty() {
                // WhatsApp refuses a template whose variable is empty.
                self.push(at.clone(), [&step, ": variable {{", &int_text(v as i64 + 1), "}} is empty"].concat());
            }
            self.raw(at, text, &[]);
        }
    }

    fn sources(&mut self, at: &str, sources: &[Source]) {
        for (k, s) in sources.iter().enumerate() {
            let sat = [at, "[", &int_text(k as i64), "]"].concat();
            if !RECOMMENDERS.contains(&s.recommender.as_str()) {
                let message = [
                    "unknown recommender ",
                    &quoted(&s.recommender),
                    "; known: ",
                    &RECOMMENDERS.iter().filter(|r| **r != SLICE_RECOMMENDER).copied().collect::<Vec<_>>().join(", "),
                ]
                .concat();
                self.push([&sat, ".recommender"].concat(), message);
            }
            if !(s.weight.is_finite() && s.weight >= 0.0) {
                self.push([&sat, ".weight"].concat(), [&num(s.weight), " is not a weight (0 or more)"].concat());
            }
        }
    }

    /// Compiles the condition as the engine does when it loads the bundle; a condition that
    /// can never match is a problem too.
    fn condition(&mut self, key: String, when: &Value) {
        match Condition::compile(when) {
            Ok(c) => {
                for w in c.warnings() {
                    self.push(key.clone(), ["can never match: ", &w.to_string()].concat());
                }
            }
            Err(e) => self.push(key, e.to_string()),
        }
    }
}

/// Whether an item template marks its item with `data-sku="{{sku}}"` (quoted either way, or
/// not): the browser SDK's `Product Clicked` reads the product from it.
fn names_its_sku(template: &str) -> bool {
    template.match_indices("data-sku=").any(|(i, m)| {
        let value = template[i + m.len()..].trim_start_matches(['"', '\'']);
        value.starts_with("{{sku}}") || value.starts_with("{{ sku }}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Arm, Experiment, Placement};
    use alloc::vec;

    fn placement(id: &str, recommender: &str) -> Placement {
        Placement {
            id: id.into(),
            when: Value::object(),
            title: String::new(),
            sources: vec![Source { recommender: recommender.into(), weight: 1.0 }],
            max_items: 8,
            max_price: None,
            variants: Vec::new(),
            template: String::new(),
            item_template: String::new(),
            exclude_owned: false,
        }
    }

    #[test]
    fn unique_codes_name_an_offer_without_a_static_code_a_plain_prefix_and_a_validity() {
        let offer = |id: &str, code: &str| crate::rules::Offer {
            id: id.into(),
            scenario: String::new(),
            when: Value::object(),
            kind: "percent_off".into(),
            value: 10.0,
            code: code.into(),
            headline: "10% off".into(),
            body: String::new(),
            cta_text: String::new(),
            cta_url: "/".into(),
            capture: Default::default(),
        };
        let unique = |o: &str, prefix: &str, valid_days: u32| UniqueCode { offer: o.into(), prefix: prefix.into(), valid_days };
        let problems = |u: Vec<UniqueCode>| {
            let rules = Rules { offers: vec![offer("welcome", ""), offer("static", "SAVE10")], unique_codes: u, ..Rules::default() };
            rules.check().iter().map(|p| p.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(problems(vec![unique("welcome", "WELCOME10", 14)]), Vec::<String>::new());
        assert_eq!(problems(vec![unique("nope", "W", 1)]), ["unique_codes[0].offer: no offer has id \"nope\""]);
        assert_eq!(
            problems(vec![unique("static", "W", 1)]),
            ["unique_codes[0].offer: offer \"static\" also has a static code (offers[1].code): an offer's code is static or unique, remove one"]
        );
        assert_eq!(
            problems(vec![unique("welcome", "W", 1), unique("welcome", "V", 1)]),
            ["unique_codes[1].offer: duplicate unique code offer \"welcome\" (first at unique_codes[0])"]
        );
        for bad in ["", "welcome", "WEL-COME", "A\u{e9}", "ABCDEFGHIJKLMNOPQ"] {
            let p = problems(vec![unique("welcome", bad, 14)]);
            assert!(p.len() == 1 && p[0].starts_with("unique_codes[0].prefix: ") && p[0].contains("capital letters and digits"), "{bad:?}: {p:?}");
        }
        for bad in [0, 367] {
            assert_eq!(problems(vec![unique("welcome", "W", bad)]), [alloc::format!("unique_codes[0].valid_days: {bad} is not 1 to 366 days")]);
        }
    }

    #[test]
    fn a_capturing_offer_has_a_code_to_promise_and_a_welcome_journey_that_sends_it() {
        let rules = |offer: &str, unique: bool, journeys: &str| {
            let json = ["{\"offers\": [", offer, "], \"journeys\": [", journeys, "]}"].concat();
            let mut r: Rules = serde_json::from_str(&json).unwrap();
            if unique {
                r.unique_codes = vec![UniqueCode { offer: "join".into(), prefix: "JOIN".into(), valid_days: 30 }];
            }
            r.check().iter().map(|p| p.to_string()).collect::<Vec<_>>()
        };
        let capturing = r#"{"id": "join", "kind": "percent_off", "value": 10, "headline": "10% off", "capture": "email"}"#;
        let with_code = r#"{"id": "join", "kind": "percent_off", "value": 10, "headline": "10% off", "capture": "email_and_sms", "code": "JOIN10"}"#;
        let welcome = |offer: &str, channel: &str| {
            [
                r#"{"id": "hello", "trigger": "welcome", "steps": [{"after": "0s", "channel": ""#,
                channel,
                r#"", "subject": "Hi", "body": "Hi", "offer": ""#,
                offer,
                "\"}]}",
            ]
            .concat()
        };
        assert_eq!(rules(capturing, true, &welcome("join", "email")), Vec::<String>::new());
        assert_eq!(rules(capturing, true, &welcome("join", "sms")), Vec::<String>::new());
        assert_eq!(
            rules(with_code, false, &welcome("join", "email")),
            ["offers[0].capture: offer \"join\" asks for a contact in exchange for its code, but its static code is public (in the bundle every browser downloads): remove `code` and add a [[unique_codes]] entry with offer = \"join\""]
        );
        assert_eq!(
            rules(capturing, false, &welcome("join", "email")),
            ["offers[0].capture: offer \"join\" asks for a contact in exchange for a code but has none: add a [[unique_codes]] entry with offer = \"join\""]
        );
        assert_eq!(
            rules(capturing, true, ""),
            ["offers[0].capture: nothing would send the promised code: add a [[journeys]] with trigger = \"welcome\" and a step with offer = \"join\" (it starts once the contact confirms)"]
        );
        let expected =
            ["offers[0].capture: no email or text step of the welcome journey (\"hello\") has offer = \"join\": the promised code would never be sent"];
        assert_eq!(rules(capturing, true, &welcome("", "email")), expected);
        assert_eq!(rules(capturing, true, &welcome("join", "push")), expected, "a push carries no code to an inbox");
        // A journey with another trigger sending it does not count.
        let cart =
            r#"{"id": "hello", "trigger": "cart_abandonment", "steps": [{"after": "1h", "channel": "email", "subject": "Hi", "body": "Hi", "offer": "join"}]}"#;
        assert_eq!(rules(capturing, true, cart).len(), 1);
        // Offers that capture nothing need none of it.
        assert_eq!(rules(&capturing.replace("\"email\"", "\"none\""), false, ""), Vec::<String>::new());
    }

    #[test]
    fn a_custom_item_template_names_its_product() {
        let with = |t: &str| {
            let mut p = placement("recs", "popular");
            p.item_template = t.into();
            Rules { placements: vec![p], ..Rules::default() }.check().iter().map(|p| p.to_string()).collect::<Vec<_>>()
        };
        for ok in
            [r#"<li data-sku="{{sku}}"><a href="{{url}}">{{title}}</a></li>"#, "<li data-sku='{{sku}}'>{{title}}</li>", "<li data-sku={{ sku }}>x</li>", ""]
        {
            assert_eq!(with(ok), Vec::<String>::new(), "{ok}");
        }
        let missing = with(r#"<li><a href="{{url}}">{{title}}</a></li>"#);
        assert_eq!(missing.len(), 1);
        assert!(missing[0].starts_with("placements[0].item_template: no data-sku=\"{{sku}}\""), "{missing:?}");
        assert_eq!(with(r#"<li data-sku="{{title}}">x</li>"#).len(), 1, "another value is not the product");
    }

    #[test]
    fn a_whatsapp_step_names_an_approved_template_and_fills_each_placeholder() {
        let problems = |step: &str| {
            let json = [
                r#"{"journeys": [{"id": "cart", "trigger": "cart_abandonment", "steps": [{"after": "1h", "channel": "email", "subject": "s", "body": "b"}, "#,
                step,
                "]}]}",
            ]
            .concat();
            let rules: Rules = serde_json::from_str(&json).unwrap();
            rules.check().iter().map(|p| p.to_string()).collect::<Vec<_>>()
        };
        let sid = "HXb5b62575e6e4ff6129ad7c8efe1f983e";
        let good = [
            r#"{"after": "2h", "channel": "whatsapp", "template": ""#,
            sid,
            r#"", "body": "Hi {{1}}, {{2}} off: {{3}}", "variables": ["{{first_name}}", "{{offer.code}}", "{{link}}"]}"#,
        ]
        .concat();
        assert_eq!(problems(&good), Vec::<String>::new());
        let at = "journeys[0].steps[1]";
        assert_eq!(
            problems(r#"{"after": "2h", "channel": "whatsapp", "body": "Hi {{1}}", "variables": ["{{first_name}}"]}"#),
            [alloc::format!(
                "{at}.template: journey \"cart\" step 1: a whatsapp step needs template = \"HX…\" (a Content SID: HX and 32 hex digits; found none)"
            )]
        );
        assert_eq!(
            problems(r#"{"after": "2h", "channel": "whatsapp", "template": "MG123", "body": "Hi {{1}}", "variables": ["{{first_name}}"]}"#)[0],
            alloc::format!(
                "{at}.template: journey \"cart\" step 1: a whatsapp step needs template = \"HX…\" (a Content SID: HX and 32 hex digits; found \"MG123\")"
            )
        );
        let short =
            [r#"{"after": "2h", "channel": "whatsapp", "template": ""#, sid, r#"", "body": "Hi {{1}}, {{2}} off", "variables": ["{{first_name}}"]}"#].concat();
        assert_eq!(
            problems(&short),
            [alloc::format!("{at}.variables: journey \"cart\" step 1: the template's text (body) uses {{{{1}}}}, {{{{2}}}} and the step gives 1 variables (one per placeholder, numbered from {{{{1}}}} without gaps)")]
        );
        let gap = [r#"{"after": "2h", "channel": "whatsapp", "template": ""#, sid, r#"", "body": "Hi {{1}} {{3}}", "variables": ["a", "b"]}"#].concat();
        assert_eq!(problems(&gap).len(), 1, "{{2}} missing");
        let empty = [r#"{"after": "2h", "channel": "whatsapp", "template": ""#, sid, r#"", "body": "Hi {{1}}", "variables": [" "]}"#].concat();
        assert!(problems(&empty)[0].ends_with("variable {{1}} is empty"), "{:?}", problems(&empty));
        let raw = [r#"{"after": "2h", "channel": "whatsapp", "template": ""#, sid, r#"", "body": "Hi {{1}}", "variables": ["{{{first_name}}}"]}"#].concat();
        assert_eq!(problems(&raw).len(), 1, "no triple tags in variables either");
        let sms = [r#"{"after": "2h", "channel": "sms", "template": ""#, sid, r#"", "body": "Hi"}"#].concat();
        assert_eq!(problems(&sms), [alloc::format!("{at}.template: journey \"cart\" step 1: template and variables are for whatsapp steps only")]);
    }

    #[test]
    fn problems_name_their_rule() {
        let mut rules = Rules { placements: vec![placement("a", "popular"), placement("a", "bestsellers")], ..Rules::default() };
        rules.experiments.push(Experiment {
            key: "e".into(),
            placement: "nowhere".into(),
            weights: vec![0.3],
            arms: vec![Arm { name: "a".into(), ..Arm::default() }, Arm { name: "b".into(), ..Arm::default() }],
            ..Experiment::default()
        });
        let p: Vec<String> = rules.check().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            p,
            [
                "placements[1].id: duplicate placement id \"a\" (first at placements[0])",
                "placements[1].sources[0].recommender: unknown recommender \"bestsellers\"; known: bought_together, similar, trending, popular, popular_country, popular_category, popular_segment, affinity, buy_again, cart_addons, learned, viewed_together, bought_after_viewing, recently_viewed, brand_affinity, new_arrivals",
                "experiments[0].placement: unknown placement \"nowhere\"; placements: a, a",
                "experiments[0].weights: 1 weights for 2 arms",
                "experiments[0].weights: weights must be 0 or more and add up to 1 (they add up to 0.3)",
            ]
        );
        assert_eq!(Rules::default().check(), Vec::new());
    }

    #[test]
    fn experiments_name_one_target_that_exists_and_arms_it_can_take() {
        let mut hero = placement("hero", "popular");
        hero.sources.clear();
        hero.variants.push(crate::rules::Variant { name: "default".into(), when: Value::object(), html: "<h1>Hi</h1>".into() });
        let rules_json = r#"{
            "offers": [{"id": "welcome", "kind": "percent_off", "value": 10, "headline": "10% off"}],
            "journeys": [{"id": "cart", "trigger": "cart_abandonment", "steps": [{"after": "1h", "channel": "push", "subject": "Hi", "body": "Your cart"}]}]
        }"#;
        let mut rules: Rules = serde_json::from_str(rules_json).unwrap();
        rules.placements = vec![hero, placement("recs", "popular")];
        let arms = |second: Arm| vec![Arm { name: "control".into(), ..Arm::default() }, Arm { name: "b".into(), ..second }];
        let exp = |key: &str, target: fn(&mut Experiment, &str), id: &str, second: Arm| {
            let mut e = Experiment { key: key.into(), arms: arms(second), ..Experiment::default() };
            target(&mut e, id);
            e
        };
        let placement_target: fn(&mut Experiment, &str) = |e, id| e.placement = id.into();
        let offer_target: fn(&mut Experiment, &str) = |e, id| e.offer = id.into();
        let journey_target: fn(&mut Experiment, &str) = |e, id| e.journey = id.into();
        rules.experiments = vec![
            exp("none", |_, _| {}, "", Arm::default()),
            Experiment { offer: "welcome".into(), ..exp("two", placement_target, "recs", Arm::default()) },
            exp("no-offer", offer_target, "nope", Arm::default()),
            exp("no-journey", journey_target, "nope", Arm::default()),
            exp("no-variant", placement_target, "hero", Arm { variant: "nope".into(), ..Arm::default() }),
            exp("hero-sources", placement_target, "hero", Arm { sources: vec![Source { recommender: "popular".into(), weight: 1.0 }], ..Arm::default() }),
            exp("recs-variant", placement_target, "recs", Arm { variant: "default".into(), ..Arm::default() }),
            exp("offer-a", offer_target, "welcome", Arm { offer: "gone".into(), ..Arm::default() }),
            exp("offer-b", offer_target, "welcome", Arm { send: false, ..Arm::default() }),
            Experiment { hash_attribute: "traits.email".into(), ..exp("journey-a", journey_target, "cart", Arm { holdout: true, ..Arm::default() }) },
            exp("journey-b", journey_target, "cart", Arm { offer: "welcome".into(), send: false, ..Arm::default() }),
        ];
        rules.measurement.holdout = 1.0;
        rules.experiments[0].key = "vitrine-holdout".into();
        let p: Vec<String> = rules.check().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            p,
            [
                "experiments[0].key: \"vitrine-holdout\" is the global holdout's name in the measurement records ([measurement])",
                "experiments[0]: names one target: placement, offer or journey (found none)",
                "experiments[1]: names one target: placement, offer or journey (found placement, offer)",
                "experiments[2].offer: unknown offer \"nope\"; offers: welcome",
                "experiments[3].journey: unknown journey \"nope\"; journeys: cart",
                "experiments[4].arms[1].variant: unknown variant \"nope\" of placement \"hero\"; variants: default",
                "experiments[5].placement: placement \"hero\" already has experiments[4]",
                "experiments[5].arms[1].sources: not for a content placement",
                "experiments[6].arms[1].variant: not for a carousel",
                "experiments[7].arms[1].offer: unknown offer \"gone\"; offers: welcome",
                "experiments[8].offer: offer \"welcome\" already has experiments[7]",
                "experiments[8].arms[1].send: not for an offer",
                "experiments[9].hash_attribute: \"traits.email\": journeys are bucketed by the visitor's key; leave hash_attribute out",
                "experiments[9].arms[1].holdout: not for a journey: write send = false (the journey runs, nothing is sent)",
                "experiments[10].journey: journey \"cart\" already has experiments[9]",
                "experiments[10].arms[1].offer: not for a journey",
                "experiments[10].arms[1]: an arm makes one change: sources, variant, offer, holdout or send = false",
                "measurement.holdout: 1 is not a share of visitors in 0..1 (0.05 is 5%)",
            ]
        );
    }

    #[test]
    fn raw_html_only_for_the_engines_fragments_and_links_only_http_or_relative() {
        let mut carousel = placement("a", "popular");
        carousel.template = "<ul>{{{items}}}</ul><p>{{{utm.source}}}</p>".into();
        let offer = |cta_url: &str| crate::rules::Offer {
            id: "o".into(),
            scenario: String::new(),
            when: Value::object(),
            kind: "free_shipping".into(),
            value: 0.0,
            code: String::new(),
            headline: "Free shipping, {{{traits.first_name}}}".into(),
            body: String::new(),
            cta_text: String::new(),
            cta_url: cta_url.into(),
            capture: Default::default(),
        };
        let rules = Rules { placements: vec![carousel], offers: vec![offer("java\tscript:alert(1)")], ..Rules::default() };
        let p: Vec<String> = rules.check().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            p,
            [
                "placements[0].template: {{{utm.source}}} would insert it unescaped (only {{{items}}}, {{{offer.code_html}}} may be): write {{utm.source}}",
                "offers[0].headline: {{{traits.first_name}}} would insert it unescaped (no triple tag is allowed here): write {{traits.first_name}}",
                "offers[0].cta_url: \"java\\tscript:alert(1)\" is not an http(s) or relative URL",
            ]
        );
        let fine = Rules { offers: vec![offer("/cart?c={{offer.code}}")], ..Rules::default() };
        assert_eq!(fine.check().len(), 1, "only the headline: a URL built from tokens is checked when rendered");
    }

    #[test]
    fn merchandising_rules_say_what_they_select_and_where() {
        let problems = |merch: &str| {
            let json = [
                r#"{"placements": [{"id": "recs", "sources": [{"recommender": "popular"}]}, {"id": "hero", "variants": [{"name": "a", "html": "<h1>Hi</h1>"}]}], "merchandising": ["#,
                merch,
                "]}",
            ]
            .concat();
            let rules: Rules = serde_json::from_str(&json).unwrap();
            rules.check().iter().map(|p| p.to_string()).collect::<Vec<_>>()
        };
        let good = r#"{"id": "a", "action": "pin", "skus": ["X"], "position": 1, "placements": ["recs"]},
            {"id": "b", "action": "boost", "category": "Garden", "factor": 1.5, "when": {"segment": "Champions"}},
            {"id": "c", "action": "bury", "tag": "clearance"},
            {"id": "d", "action": "exclude", "skus": ["Y", "Z"]},
            {"id": "e", "action": "boost", "brand": "Acme"}"#;
        assert_eq!(problems(good), Vec::<String>::new());
        assert_eq!(
            problems(
                r#"{"id": "a", "action": "pin", "skus": ["X", "Y"], "position": 0, "brand": "Acme", "factor": 2},
                {"id": "a", "action": "boost", "factor": 0.5},
                {"id": "c", "action": "bury", "skus": [""], "factor": 1.5, "position": 3},
                {"id": "d", "action": "exclude", "skus": ["X"], "category": " "},
                {"id": "", "action": "exclude", "placements": ["nowhere", "hero"], "when": {"age": {"$gtx": 3}}},
                {"id": "f", "action": "pin", "position": 2},
                {"id": "g", "action": "bury", "brand": "Acme", "factor": 0}"#
            ),
            [
                "merchandising[0].skus: a pin names exactly one SKU (found 2)",
                "merchandising[0].brand: a pin names its product by skus only",
                "merchandising[0].position: a pin needs a position of 1 or more (1 is the first item)",
                "merchandising[0].factor: not for a pin (only a pin has a position, only a boost or bury a factor)",
                "merchandising[1].id: duplicate merchandising id \"a\" (first at merchandising[0])",
                "merchandising[1]: boost selects nothing: give skus, category, brand or tag",
                "merchandising[1].factor: 0.5 does not boost: a boost's factor is above 1 (2 doubles the score)",
                "merchandising[2].skus[0]: empty",
                "merchandising[2].position: not for a bury (only a pin has a position, only a boost or bury a factor)",
                "merchandising[2].factor: 1.5 does not bury: a bury's factor is above 0 and below 1 (0.5 halves the score)",
                "merchandising[3].category: empty: it would select nothing",
                "merchandising[4].id: empty",
                "merchandising[4].when: age: unknown operator $gtx",
                "merchandising[4].placements[0]: unknown placement \"nowhere\"; placements: recs, hero",
                "merchandising[4].placements[1]: placement \"hero\" is content (variants): merchandising acts on carousels",
                "merchandising[4]: exclude selects nothing: give skus, category, brand or tag",
                "merchandising[5].skus: a pin names exactly one SKU (found 0)",
                "merchandising[6].factor: 0 does not bury: a bury's factor is above 0 and below 1 (0.5 halves the score)",
            ]
        );
    }
}
