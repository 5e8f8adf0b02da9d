//! Checks a parsed config for what its types cannot say. The store, input and recs sections
//! are the builder's own; the rules (placements, offers, experiments, journeys, conditions…)
//! are checked by the engine's `Rules::check`, the same check `Engine::load` runs, which names
//! each problem's key path. Here each key path becomes the file, line and column it is on,
//! found from the TOML spans.

use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::config::{line_col, Config, LoadedConfig};
use crate::data::Product;
use crate::error::{Error, Located, Result};
use vitrine_engine::rules::SLICE_RECOMMENDER;

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
    c.predict(config);
    c.rules(config);
    locate_all(file, source, c.out)
}

/// What only the catalog being built can say, once it is read: `[[merchandising]]` SKUs that
/// are no product of it (a pin of nothing, an exclude that excludes nothing), each named at its
/// file and line. `products` are sorted by SKU.
pub fn catalog(loaded: &LoadedConfig, products: &[Product]) -> Result<()> {
    let mut c = Checker { out: Vec::new() };
    let known = |sku: &str| products.binary_search_by(|p| p.sku.as_str().cmp(sku)).is_ok();
    for (i, m) in loaded.config.merchandising.iter().enumerate() {
        for (j, sku) in m.skus.iter().enumerate().filter(|(_, s)| !known(s)) {
            let upper = sku.to_uppercase();
            let hint = if known(&upper) { format!(" (the catalog has {upper:?}: SKUs match exactly)") } else { String::new() };
            c.push(format!("merchandising[{i}].skus[{j}]"), format!("unknown SKU {sku:?}: no product of the catalog has it{hint}"));
        }
    }
    let problems = locate_all(&loaded.path, &loaded.source, c.out);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::ConfigCheck { file: loaded.path.clone(), problems })
    }
}

/// Each (key path, message) at its file, line and column.
fn locate_all(file: &Path, source: &str, out: Vec<(String, String)>) -> Vec<Located> {
    let spans = DeTable::parse(source).ok();
    out.into_iter()
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
        if !s.base_url.is_empty() {
            if let Err(why) = crate::ingest::fields::absolute_link(&s.base_url) {
                self.push("store.base_url", why);
            }
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
        for (key, name) in [("invoice", &cols.invoice), ("sku", &cols.sku), ("quantity", &cols.quantity), ("date", &cols.date), ("price", &cols.price)] {
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

        let customers = &config.customers;
        if !customers.delimiter.is_ascii() {
            self.push("customers.delimiter", format!("{:?} is not a single ASCII character", customers.delimiter));
        }
        if customers.columns.id.trim().is_empty() {
            self.push("customers.columns.id", "empty: the customers export needs an id column");
        }
        if let Err(why) = crate::ingest::customers::country(&customers.default_country) {
            self.push("customers.default_country", why);
        }

        let cat = &config.catalog;
        if !cat.delimiter.is_ascii() {
            self.push("catalog.delimiter", format!("{:?} is not a single ASCII character", cat.delimiter));
        }
        if cat.columns.id.trim().is_empty() {
            self.push("catalog.columns.id", "empty: the catalog needs an id column");
        }
        for (key, template, required) in [("catalog.url_template", &cat.url_template, true), ("catalog.image_template", &cat.image_template, false)] {
            match template_fields(template) {
                Err(bad) => self.push(key, format!("unknown placeholder {{{bad}}}; use one of {{sku}}, {{slug}}")),
                Ok(0) if required => self.push(key, "needs {sku} or {slug}, or every product gets the same URL"),
                Ok(_) => {
                    if let Err(why) = crate::ingest::fields::link(&template.replace("{sku}", "x").replace("{slug}", "x")) {
                        self.push(key, why);
                    }
                }
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
        for (i, f) in cat.date_format.iter().enumerate() {
            if let Err(why) = crate::ingest::dates::check_format(f) {
                let key = if cat.date_format.len() == 1 { "catalog.date_format".to_string() } else { format!("catalog.date_format[{i}]") };
                self.push(key, format!("{f:?}: {why}"));
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
        for (key, days) in [
            ("recs.trending_half_life_days", r.trending_half_life_days),
            ("recs.new_arrivals_days", r.new_arrivals_days),
            ("recs.new_arrivals_half_life_days", r.new_arrivals_half_life_days),
        ] {
            if !(days.is_finite() && days >= 0.0) {
                self.push(key, "must be a number of days, 0 or more");
            }
        }
        if !(r.view_weight.is_finite() && r.view_weight >= 0.0) {
            self.push("recs.view_weight", "must be a share of a purchase, 0 or more");
        }
        if !(r.learned_l2.is_finite() && r.learned_l2 >= 0.0) {
            self.push("recs.learned_l2", "must be a number, 0 or more");
        }
        // The solve costs m³ per product: a typo of a few zeros would run for hours.
        if r.learned_candidates > MAX_LEARNED_CANDIDATES {
            self.push("recs.learned_candidates", format!("at most {MAX_LEARNED_CANDIDATES} (the build solves an m×m system per product)"));
        }
    }

    /// The rules: the engine's own check, the one `Engine::load` runs on the bundle, so the
    /// builder refuses exactly the rules the edge and the SDK would.
    /// `[predict]`'s values in range.
    fn predict(&mut self, config: &Config) {
        let p = &config.predict;
        if !(p.clv_horizon_days > 0.0 && p.clv_horizon_days <= 3650.0) {
            self.push("predict.clv_horizon_days", "must be more than 0 and at most 3650");
        }
        if !(0.0..1.0).contains(&p.monthly_discount) {
            self.push("predict.monthly_discount", "must be at least 0 and below 1");
        }
        for (key, v) in [("predict.churn_high_below", p.churn_high_below), ("predict.churn_medium_below", p.churn_medium_below)] {
            if !(0.0..=1.0).contains(&v) {
                self.push(key, "is a probability: between 0 and 1");
            }
        }
        if p.churn_high_below > p.churn_medium_below {
            self.push("predict.churn_high_below", "must not exceed churn_medium_below");
        }
    }

    fn rules(&mut self, config: &Config) {
        let rules = config.rules();
        for p in rules.check() {
            self.push(p.key, p.message);
        }
        // The engine knows `decided` (a slice's copy of the edge's decision); a config has none.
        let placements = rules.placements.iter().enumerate().map(|(i, p)| (format!("placements[{i}]"), &p.sources));
        let arms = rules
            .experiments
            .iter()
            .enumerate()
            .flat_map(|(i, e)| e.arms.iter().enumerate().map(move |(j, a)| (format!("experiments[{i}].arms[{j}]"), &a.sources)));
        for (at, sources) in placements.chain(arms) {
            for (k, _) in sources.iter().enumerate().filter(|(_, s)| s.recommender == SLICE_RECOMMENDER) {
                let message = "`decided` is what a slice carries of the edge's decisions, not a recommender to configure";
                self.push(format!("{at}.sources[{k}].recommender"), message.to_string());
            }
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

/// Candidate neighbours per product the learned regression may use, at most.
pub const MAX_LEARNED_CANDIDATES: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    #[test]
    fn learned_settings_that_would_not_build_are_located() {
        let p = problems_of(&format!("{BASE}[recs]\nlearned_candidates = 100000\nlearned_l2 = -1.0\n"));
        assert!(p.iter().any(|m| m.starts_with("vitrine.toml:4:22: recs.learned_candidates: at most 256")), "{p:#?}");
        assert!(p.iter().any(|m| m.contains("recs.learned_l2: must be a number, 0 or more")), "{p:#?}");
    }

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
    fn experiments_on_offers_and_journeys_and_the_holdout_are_located() {
        let src = format!(
            "{BASE}[[offers]]\nid = \"welcome\"\nkind = \"free_shipping\"\nheadline = \"Hi\"\n\
             [[experiments]]\nkey = \"e\"\noffer = \"welcome\"\n\
             arms = [{{ name = \"control\" }}, {{ name = \"b\", offer = \"vip\" }}]\n\
             [[experiments]]\nkey = \"j\"\njourney = \"cart\"\narms = [{{ name = \"a\" }}, {{ name = \"b\", send = false }}]\n\
             [measurement]\nholdout = 5\n"
        );
        let p = problems_of(&src);
        assert!(p.iter().any(|m| m.starts_with("vitrine.toml:10:53:") && m.contains("experiments[0].arms[1].offer: unknown offer \"vip\"")), "{p:#?}");
        assert!(p.iter().any(|m| m.starts_with("vitrine.toml:13:11: experiments[1].journey: unknown journey \"cart\"")), "{p:#?}");
        assert!(p.iter().any(|m| m.starts_with("vitrine.toml:16:11: measurement.holdout: 5 is not a share")), "{p:#?}");
        assert_eq!(p.len(), 3, "{p:#?}");
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

    #[test]
    fn the_customers_country_is_checked_where_it_is_written() {
        let p = problems_of(&format!(
            "{BASE}[customers]
default_country = \"Narnia\"\n"
        ));
        assert!(p.iter().any(|m| m.contains("vitrine.toml:4:19: customers.default_country: \"Narnia\" is not an ISO 3166 country code")), "{p:#?}");
    }
}
