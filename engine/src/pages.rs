//! Page patterns: which page a URL path is (`[[pages]]` in the config), and the product or
//! category it shows.
//!
//! `pattern = "/products/:sku"` with `page = "product"`: `:sku` (or `:product`) captures a
//! product by SKU (percent-decoded), `:category` a category by its URL slug (the catalog's
//! `category_slugs`), any other `:name` one segment, `*` the rest. Patterns are tried in config
//! order; the first that matches wins; nothing matches: page type "other".

use alloc::string::String;
use alloc::vec::Vec;

use crate::body::{Catalog, CategoryIdx, ProductIdx};
use crate::context::Page;
use crate::rules::PageRule;
use crate::text::percent_decode;
use crate::value::Map;

/// The config's page patterns, parsed once when a bundle loads.
pub(crate) struct Pages {
    patterns: Vec<Pattern>,
    /// Category URL slug -> index, for `:category`.
    category_slugs: Map<CategoryIdx>,
}

struct Pattern {
    parts: Vec<Part>,
    page: String,
}

enum Part {
    Literal(String),
    Sku,
    Category,
    Any,
    Rest,
}

impl Pages {
    pub(crate) fn new(rules: &[PageRule], catalog: &Catalog) -> Pages {
        let patterns = rules.iter().map(|p| Pattern { parts: parse(&p.pattern), page: p.page.clone() }).collect();
        let mut category_slugs = Map::new();
        for (i, s) in catalog.category_slugs.iter().enumerate() {
            category_slugs.insert(s.clone(), i as CategoryIdx);
        }
        Pages { patterns, category_slugs }
    }

    /// The page `path` is (query and fragment ignored).
    pub(crate) fn page(&self, catalog: &Catalog, path: &str) -> Page {
        let path_only = path.split(['?', '#']).next().unwrap_or("");
        let segs: Vec<&str> = path_only.split('/').filter(|s| !s.is_empty()).collect();
        for pat in &self.patterns {
            if let Some((product, category)) = self.matches(catalog, pat, &segs) {
                return Page { path: path_only.into(), kind: pat.page.clone(), product, category };
            }
        }
        Page { path: path_only.into(), kind: "other".into(), product: None, category: None }
    }

    fn matches(&self, catalog: &Catalog, pat: &Pattern, segs: &[&str]) -> Option<(Option<ProductIdx>, Option<CategoryIdx>)> {
        let (mut product, mut category) = (None, None);
        let mut i = 0;
        for part in &pat.parts {
            match part {
                Part::Rest => return Some((product, category)),
                _ if i >= segs.len() => return None,
                Part::Literal(l) if l != segs[i] => return None,
                Part::Literal(_) | Part::Any => {}
                Part::Sku => product = Some(catalog.index_of(&percent_decode(segs[i]))?),
                Part::Category => category = Some(*self.category_slugs.get(segs[i])?),
            }
            i += 1;
        }
        (i == segs.len()).then_some((product, category))
    }
}

fn parse(pattern: &str) -> Vec<Part> {
    pattern
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            ":sku" | ":product" => Part::Sku,
            ":category" => Part::Category,
            "*" => Part::Rest,
            s if s.starts_with(':') => Part::Any,
            s => Part::Literal(s.into()),
        })
        .collect()
}
