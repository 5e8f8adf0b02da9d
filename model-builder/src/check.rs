//! Checks a parsed config for what its types cannot say: duplicate ids, unknown recommenders,
//! experiments on placements that do not exist, weights that do not match arms, conditions
//! that do not compile. Each problem names its key path and, found from the TOML spans, the
//! line and column it is on.

use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;
use vitrine_engine::condition::Condition;
use vitrine_engine::rules::Source;
use vitrine_engine::Value;

use crate::config::{line_col, Config, LoadedConfig};
use crate::error::{Error, Located, Result};

// The recommenders a placement source may name: the engine's own list, so the two cannot drift.
use vitrine_engine::engine::RECOMMENDERS;

/// Placeholders the URL and image templates may use.
const TEMPLATE_FIELDS: &[&str] = &["sku", "slug"];

/// Runs every check; `Err(ConfigCheck)` lists all problems at once.
pub fn check(loaded: &LoadedConfig) -> Result<()> {
    let problems = problems(&loaded.path, &loaded.source, &loaded.config);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::ConfigCheck { file: loaded.path.clone(), problems })
    }
}

pub fn problems(file: &Path, source: &str, config: &Config) -> Vec<Located> {
    let mut c = Checker { out: Vec::new() };
    c.store(config);
    c.inputs(config);
    c.recs(config);
    c.rules(config);
    let spans = DeTable::parse(source).ok();
    c.out
        .into_iter()
        .map(|(key, message)| {
            let (line, column) = spans.as_ref().and_then(|t| locate(t, &key)).map(|offset| line_col(source, offset)).unzip();
            Located { file: file.into(), line, column, key, message }
        })
        .collect()
}

struct Checker {
    /// (key path, message)
    out: Vec<(String, String)>,
}

impl Checker {
    fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.out.push((key.into(), message.into()));
    }

    fn store(&mut self, config: &Config) {
        let s = &config.store;
        if s.name.trim().is_empty() {
            self.push("store.name", "empty: the store needs a name");
        }
        if let Some(t) = s.free_shipping_threshold {
            if !(t.is_finite() && t >= 0.0) {
                self.push("store.free_shipping_threshold", format!("{t} is not a price"));
            }
        }
    }

    fn inputs(&mut self, config: &Config) {
        let o = &config.orders;
        if !o.delimiter.is_ascii() {
            self.push("orders.delimiter", format!("{:?} is not a single ASCII character", o.delimiter));
        }
        let cols = &o.columns;
        for (key, name) in [
            ("invoice", &cols.invoice),
            ("sku", &cols.sku),
            ("quantity", &cols.quantity),
            ("date", &cols.date),
            ("price", &cols.price),
        ] {
            if name.trim().is_empty() {
                self.push(format!("orders.columns.{key}"), "empty: this column is required");
            }
        }
        if o.date_format.is_empty() {
            self.push("orders.date_format", "no date format given");
        }
        for (i, f) in o.date_format.iter().enumerate() {
            if let Err(why) = crate::ingest::dates::check_format(f) {
                let key = if o.date_format.len() == 1 { "orders.date_format".to_string() } else { format!("orders.date_format[{i}]") };
                self.push(key, format!("{f:?}: {why}"));
            }
        }

        let cat = &config.catalog;
        if !cat.delimiter.is_ascii() {
            self.push("catalog.delimiter", format!("{:?} is not a single ASCII character", cat.delimiter));
        }
        if cat.columns.id.trim().is_empty() {
            self.push("catalog.columns.id", "empty: the catalog needs an id column");
        }
        for (key, template, required) in
            [("catalog.url_template", &cat.url_template, true), ("catalog.image_template", &cat.image_template, false)]
        {
            match template_fields(template) {
                Err(bad) => self.push(key, format!("unknown placeholder {{{bad}}}; use one of {{sku}}, {{slug}}")),
                Ok(0) if required => self.push(key, "needs {sku} or {slug}, or every product gets the same URL"),
                Ok(_) => {}
            }
        }
        for (name, words) in &cat.categories {
            let key = format!("catalog.categories.{}", quote_key(name));
            if name.trim().is_empty() {
                self.push(key.clone(), "empty category name");
            }
            if words.is_empty() {
                self.push(key.clone(), "no keywords: the category can never match");
            }
            if words.iter().any(|w| w.trim().is_empty()) {
                self.push(key, "an empty keyword would match every title");
            }
        }
        if !cat.categories.is_empty() && cat.default_category.trim().is_empty() {
            self.push("catalog.default_category", "empty: products no keyword matches need a category");
        }
    }

    fn recs(&mut self, config: &Config) {
        let r = &config.recs;
        if r.top_k == 0 {
            self.push("recs.top_k", "0 keeps no neighbours");
        }
        if r.min_support == 0 {
            self.push("recs.min_support", "must be at least 1");
        }
        if !(r.trending_half_life_days.is_finite() && r.trending_half_life_days >= 0.0) {
            self.push("recs.trending_half_life_days", "must be a number of days, 0 or more");
        }
    }

    fn rules(&mut self, config: &Config) {
        for (i, p) in config.pages.iter().enumerate() {
            if !p.pattern.starts_with('/') {
                self.push(format!("pages[{i}].pattern"), format!("{:?} must start with '/'", p.pattern));
            }
            if p.page.trim().is_empty() {
                self.push(format!("pages[{i}].page"), "empty page type");
            }
        }

        for (i, s) in config.segments.iter().enumerate() {
            let at = format!("segments[{i}]");
            if s.name.trim().is_empty() {
                self.push(format!("{at}.name"), "empty");
            }
            if let Some(j) = config.segments[..i].iter().position(|t| t.name == s.name) {
                self.push(format!("{at}.name"), format!("duplicate segment {:?} (first at segments[{j}])", s.name));
            }
            self.condition(format!("{at}.when"), &s.when);
        }

        for (i, p) in config.placements.iter().enumerate() {
            let at = format!("placements[{i}]");
            if p.id.trim().is_empty() {
                self.push(format!("{at}.id"), "empty");
            }
            if let Some(j) = config.placements[..i].iter().position(|q| q.id == p.id) {
                self.push(format!("{at}.id"), format!("duplicate placement id {:?} (first at placements[{j}])", p.id));
            }
            self.condition(format!("{at}.when"), &p.when);
            match (p.sources.is_empty(), p.variants.is_empty()) {
                (true, true) => self.push(at.clone(), "needs sources (a product carousel) or variants (content)"),
                (false, false) => self.push(at.clone(), "has both sources and variants: a placement is a carousel or content, not both"),
                _ => {}
            }
            self.sources(&format!("{at}.sources"), &p.sources);
            if p.max_items == 0 {
                self.push(format!("{at}.max_items"), "0 shows nothing");
            }
            if let Some(m) = p.max_price {
                if !(m.is_finite() && m > 0.0) {
                    self.push(format!("{at}.max_price"), format!("{m} is not a price"));
                }
            }
            for (k, v) in p.variants.iter().enumerate() {
                let vat = format!("{at}.variants[{k}]");
                if let Some(j) = p.variants[..k].iter().position(|w| w.name == v.name) {
                    self.push(format!("{vat}.name"), format!("duplicate variant {:?} (first at variants[{j}])", v.name));
                }
                self.condition(format!("{vat}.when"), &v.when);
                if v.html.trim().is_empty() {
                    self.push(format!("{vat}.html"), "empty");
                }
            }
        }

        for (i, o) in config.offers.iter().enumerate() {
            let at = format!("offers[{i}]");
            if o.id.trim().is_empty() {
                self.push(format!("{at}.id"), "empty");
            }
            if let Some(j) = config.offers[..i].iter().position(|p| p.id == o.id) {
                self.push(format!("{at}.id"), format!("duplicate offer id {:?} (first at offers[{j}])", o.id));
            }
            self.condition(format!("{at}.when"), &o.when);
            if o.kind.trim().is_empty() {
                self.push(format!("{at}.kind"), "empty");
            }
            if o.headline.trim().is_empty() {
                self.push(format!("{at}.headline"), "empty");
            }
            if !(o.value.is_finite() && o.value >= 0.0) || (o.kind == "percent_off" && !(o.value > 0.0 && o.value <= 100.0)) {
                self.push(format!("{at}.value"), format!("{} is not a valid value for a {:?} offer", o.value, o.kind));
            }
        }

        for (i, e) in config.experiments.iter().enumerate() {
            let at = format!("experiments[{i}]");
            if e.key.trim().is_empty() {
                self.push(format!("{at}.key"), "empty");
            }
            if let Some(j) = config.experiments[..i].iter().position(|f| f.key == e.key) {
                self.push(format!("{at}.key"), format!("duplicate experiment key {:?} (first at experiments[{j}])", e.key));
            }
            if !config.placements.iter().any(|p| p.id == e.placement) {
                let known: Vec<&str> = config.placements.iter().map(|p| p.id.as_str()).collect();
                self.push(format!("{at}.placement"), format!("unknown placement {:?}; placements: {}", e.placement, known.join(", ")));
            } else if let Some(j) = config.experiments[..i].iter().position(|f| f.placement == e.placement) {
                self.push(format!("{at}.placement"), format!("placement {:?} already has experiments[{j}]", e.placement));
            }
            if !(0.0..=1.0).contains(&e.coverage) {
                self.push(format!("{at}.coverage"), format!("{} is not in 0..=1", e.coverage));
            }
            if e.arms.len() < 2 {
                self.push(format!("{at}.arms"), format!("an experiment needs at least 2 arms, found {}", e.arms.len()));
            }
            if !e.weights.is_empty() {
                if e.weights.len() != e.arms.len() {
                    self.push(format!("{at}.weights"), format!("{} weights for {} arms", e.weights.len(), e.arms.len()));
                }
                let sum: f32 = e.weights.iter().sum();
                if e.weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || (sum - 1.0).abs() > 0.01 {
                    self.push(format!("{at}.weights"), format!("weights must be 0 or more and add up to 1 (they add up to {sum})"));
                }
            }
            for (k, arm) in e.arms.iter().enumerate() {
                if let Some(j) = e.arms[..k].iter().position(|a| a.name == arm.name) {
                    self.push(format!("{at}.arms[{k}].name"), format!("duplicate arm {:?} (first at arms[{j}])", arm.name));
                }
                self.sources(&format!("{at}.arms[{k}].sources"), &arm.sources);
            }
        }

        // Journeys and messaging: the engine's own checks (steps in order, offers that exist, …).
        for problem in vitrine_engine::journey::check(&config.rules()) {
            match problem.split_once(": ") {
                Some((key, message)) => self.push(key, message),
                None => self.push("journeys", problem),
            }
        }
    }

    fn sources(&mut self, at: &str, sources: &[Source]) {
        for (k, s) in sources.iter().enumerate() {
            if !RECOMMENDERS.contains(&s.recommender.as_str()) {
                self.push(
                    format!("{at}[{k}].recommender"),
                    format!("unknown recommender {:?}; known: {}", s.recommender, RECOMMENDERS.join(", ")),
                );
            }
            if !(s.weight.is_finite() && s.weight >= 0.0) {
                self.push(format!("{at}[{k}].weight"), format!("{} is not a weight (0 or more)", s.weight));
            }
        }
    }

    /// Compiles the condition as the engine will when it loads the bundle.
    fn condition(&mut self, at: String, when: &Value) {
        match Condition::compile(when) {
            Ok(c) => {
                for w in c.warnings() {
                    self.push(at.clone(), format!("can never match: {w}"));
                }
            }
            Err(e) => self.push(at, e.to_string()),
        }
    }
}

/// Counts `{sku}`/`{slug}` placeholders; `Err(name)` for an unknown one.
pub fn template_fields(template: &str) -> Result<usize, String> {
    let mut n = 0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        let name = &rest[open + 1..open + close];
        if !TEMPLATE_FIELDS.contains(&name) {
            return Err(name.to_string());
        }
        n += 1;
        rest = &rest[open + close + 1..];
    }
    Ok(n)
}

fn quote_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

/// Byte offset of the value at a key path like `placements[2].sources[0].recommender`, or of
/// the nearest enclosing value that exists.
fn locate(root: &Spanned<DeTable>, path: &str) -> Option<usize> {
    let mut best = None;
    let mut cur: Option<&Spanned<DeValue>> = None;
    for seg in split_path(path) {
        let next = match (seg, cur) {
            (Seg::Key(k), None) => root.get_ref().get(k),
            (Seg::Key(k), Some(v)) => v.get_ref().get(k),
            (Seg::Index(i), Some(v)) => v.get_ref().get(i),
            (Seg::Index(_), None) => None,
        };
        match next {
            Some(v) => {
                best = Some(v.span().start);
                cur = Some(v);
            }
            None => break,
        }
    }
    best
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in split_dots(path) {
        let (name, mut indexes) = match part.find('[') {
            Some(i) if !part.starts_with('"') => (&part[..i], &part[i..]),
            _ => (part, ""),
        };
        out.push(Seg::Key(name.trim_matches('"')));
        while let (Some(a), Some(b)) = (indexes.find('['), indexes.find(']')) {
            if let Ok(i) = indexes[a + 1..b].parse() {
                out.push(Seg::Index(i));
            }
            indexes = &indexes[b + 1..];
        }
    }
    out
}

/// Splits on dots outside double quotes.
fn split_dots(path: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in path.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => {
                parts.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&path[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn problems_of(src: &str) -> Vec<String> {
        let file = Path::new("vitrine.toml");
        problems(file, src, &parse(file, src).unwrap()).iter().map(|p| p.to_string()).collect()
    }

    const BASE: &str = "[store]\nname = \"Shop\"\n";

    #[test]
    fn a_clean_config_has_no_problems() {
        let src = format!(
            "{BASE}[[placements]]\nid = \"a\"\nsources = [{{ recommender = \"popular\" }}]\n\
             [[experiments]]\nkey = \"e\"\nplacement = \"a\"\nweights = [0.5, 0.5]\n\
             arms = [{{ name = \"control\" }}, {{ name = \"b\", sources = [{{ recommender = \"trending\" }}] }}]\n"
        );
        assert_eq!(problems_of(&src), Vec::<String>::new());
    }

    #[test]
    fn duplicate_ids_and_unknown_recommenders_are_located() {
        let src = format!(
            "{BASE}\n[[placements]]\nid = \"a\"\nsources = [{{ recommender = \"popular\" }}]\n\n\
             [[placements]]\nid = \"a\"\nsources = [{{ recommender = \"bestsellers\" }}]\n"
        );
        let p = problems_of(&src);
        assert!(p.iter().any(|m| m.starts_with("vitrine.toml:9:6: placements[1].id: duplicate placement id \"a\"")), "{p:#?}");
        assert!(p.iter().any(|m| m.contains("placements[1].sources[0].recommender: unknown recommender \"bestsellers\"")), "{p:#?}");
    }

    #[test]
    fn experiments_must_match_placements_and_arms() {
        let src = format!(
            "{BASE}[[experiments]]\nkey = \"e\"\nplacement = \"nowhere\"\nweights = [1.0]\n\
             arms = [{{ name = \"a\" }}, {{ name = \"b\" }}]\n"
        );
        let p = problems_of(&src);
        assert!(p.iter().any(|m| m.contains("experiments[0].placement: unknown placement \"nowhere\"")), "{p:#?}");
        assert!(p.iter().any(|m| m.contains("experiments[0].weights: 1 weights for 2 arms")), "{p:#?}");
    }

    #[test]
    fn conditions_are_compiled() {
        let src = format!("{BASE}[[segments]]\nname = \"s\"\nwhen = {{ \"cart.value\" = {{ \"$gtt\" = 3 }} }}\n");
        let p = problems_of(&src);
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].starts_with("vitrine.toml:5:8: segments[0].when: "), "{p:#?}");
        assert!(p[0].contains("$gtt"), "{p:#?}");
    }

    #[test]
    fn templates_and_date_formats_are_checked() {
        let src = format!("{BASE}[orders]\ndate_format = \"%Y-%m-%d %Q\"\n[catalog]\nurl_template = \"/p/{{id}}\"\n");
        let p = problems_of(&src);
        assert!(p.iter().any(|m| m.contains("orders.date_format")), "{p:#?}");
        assert!(p.iter().any(|m| m.contains("catalog.url_template: unknown placeholder {id}")), "{p:#?}");
    }
}
