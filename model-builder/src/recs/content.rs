//! Content similarity: TF-IDF vectors over title words, category, tags and brand, compared by
//! cosine through an inverted index (only products sharing a term are ever touched).

use std::collections::HashMap;

use vitrine_engine::bundle::{Neighbors, ProductIdx, Scored};

use super::rank::top_k;
use super::RecsConfig;
use crate::data::Dataset;

/// Words that join a title together but say nothing about the product.
const STOP_WORDS: &[&str] = &["a", "an", "and", "the", "of", "in", "on", "with", "for", "to", "by", "or"];

/// Lowercase words of a title: split on anything not alphanumeric, numbers and stop words
/// dropped, a plural "s" folded ("hearts" = "heart").
pub fn tokenize(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(|w| {
            let mut w = w.to_lowercase();
            if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                w.pop();
            }
            w
        })
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
}

/// Unit-length TF-IDF vectors, stored by product and by term.
pub struct ContentIndex {
    /// Terms of product `p` with their weights: `terms[p]`.
    terms: Vec<Vec<(u32, f32)>>,
    /// Products holding term `t` with their weights: `postings[t]`.
    postings: Vec<Vec<(ProductIdx, f32)>>,
    /// Normalized titles: variants sold under one title look like one product to a shopper,
    /// so a list never shows the same title twice.
    title_key: Vec<String>,
}

impl ContentIndex {
    pub fn from_dataset(ds: &Dataset, cfg: &RecsConfig) -> Self {
        let mut vocabulary: HashMap<String, u32> = HashMap::new();
        let mut term_id = |term: String| {
            let next = vocabulary.len() as u32;
            *vocabulary.entry(term).or_insert(next)
        };
        // Raw weighted term frequencies per product; fields get their own namespace so the tag
        // "red" and the title word "red" stay apart.
        let raw: Vec<Vec<(u32, f32)>> = ds
            .products
            .iter()
            .map(|p| {
                let mut tf: Vec<(u32, f32)> = tokenize(&p.title).map(|w| (term_id(w), 1.0)).collect();
                if let Some(c) = p.category {
                    tf.push((term_id(format!("category:{c}")), cfg.category_weight));
                }
                for tag in &p.tags {
                    tf.push((term_id(format!("tag:{}", tag.trim().to_lowercase())), cfg.tag_weight));
                }
                if !p.brand.trim().is_empty() {
                    tf.push((term_id(format!("brand:{}", p.brand.trim().to_lowercase())), cfg.brand_weight));
                }
                merge_repeats(tf)
            })
            .collect();

        let n_terms = vocabulary.len();
        let mut df = vec![0u32; n_terms];
        for tf in &raw {
            for &(t, _) in tf {
                df[t as usize] += 1;
            }
        }
        let n = ds.products.len() as f32;
        let idf: Vec<f32> = df.iter().map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0).collect();

        let mut postings = vec![Vec::new(); n_terms];
        let terms: Vec<Vec<(u32, f32)>> = raw
            .into_iter()
            .enumerate()
            .map(|(p, tf)| {
                let mut v: Vec<(u32, f32)> = tf.into_iter().map(|(t, w)| (t, w * idf[t as usize])).collect();
                let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|(_, w)| *w /= norm);
                }
                for &(t, w) in &v {
                    postings[t as usize].push((p as ProductIdx, w));
                }
                v
            })
            .collect();
        let title_key = ds.products.iter().map(|p| p.title.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()).collect();
        ContentIndex { terms, postings, title_key }
    }

    /// Top-k most similar products per product (cosine ≥ `min_similarity`).
    pub fn similar(&self, cfg: &RecsConfig) -> Neighbors {
        let mut dot = vec![0f32; self.terms.len()];
        let mut touched = Vec::new();
        let lists = (0..self.terms.len())
            .map(|i| {
                for &(t, wi) in &self.terms[i] {
                    for &(j, wj) in &self.postings[t as usize] {
                        let j = j as usize;
                        if dot[j] == 0.0 {
                            touched.push(j);
                        }
                        dot[j] += wi * wj;
                    }
                }
                let candidates = touched
                    .iter()
                    .filter(|&&j| dot[j] >= cfg.min_similarity && self.title_key[j] != self.title_key[i])
                    .map(|&j| Scored { item: j as ProductIdx, score: dot[j] })
                    .collect();
                for &j in &touched {
                    dot[j] = 0.0;
                }
                touched.clear();
                self.distinct_titles(top_k(candidates, cfg.top_k * 2), cfg.top_k)
            })
            .collect();
        Neighbors::from_lists(lists)
    }

    /// Keeps the first product of each title, then the `k` best.
    fn distinct_titles(&self, mut ranked: Vec<Scored>, k: usize) -> Vec<Scored> {
        let mut seen: Vec<&str> = Vec::with_capacity(ranked.len());
        ranked.retain(|s| {
            let key = self.title_key[s.item as usize].as_str();
            let first = !seen.contains(&key);
            seen.push(key);
            first
        });
        ranked.truncate(k);
        ranked
    }
}

/// Sums the weights of a repeated term, then damps repetition (1 + ln tf) so "pink pink" in a
/// title does not outweigh a second word.
fn merge_repeats(mut tf: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    tf.sort_unstable_by_key(|&(t, _)| t);
    let mut merged: Vec<(u32, f32, u32)> = Vec::with_capacity(tf.len());
    for (t, w) in tf {
        match merged.last_mut() {
            Some((last, weight, count)) if *last == t => {
                *weight += w;
                *count += 1;
            }
            _ => merged.push((t, w, 1)),
        }
    }
    merged.into_iter().map(|(t, w, count)| (t, w / count as f32 * (1.0 + (count as f32).ln()))).collect()
}
