//! Content similarity: TF-IDF vectors over title words, category, tags and brand, compared by
//! cosine. Candidates come from an inverted index (only products sharing a term are touched),
//! with bounded work per product: rare terms' posting lists whole, common terms' (a 20k-product
//! category, a word in half the titles) only a window of products with similar terms.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use vitrine_engine::bundle::{Neighbors, Product, ProductIdx, Scored};

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

/// A term held by more shapes than this is "common" (a big category, a word in every other
/// title): its posting list is not walked whole, only the `COMMON_WINDOW` shapes nearest in
/// signature order on each side (see `signature_rank`). Walking every posting list whole is
/// Σ df² work: a 20k-product category alone is 400M pairs.
const MAX_FULL_POSTING: usize = 256;
const COMMON_WINDOW: usize = 128;

/// Unit-length TF-IDF vectors, compared between "shapes": the distinct vectors (a catalog of
/// 100k products built from a few hundred product types has far fewer shapes than products,
/// and products of one shape have the same neighbours).
pub struct ContentIndex {
    /// Terms of shape `s` with their weights, sorted by term.
    shapes: Vec<Vec<(u32, f32)>>,
    /// Shape of each product.
    shape_of: Vec<u32>,
    /// Products of shape `s`, one per title (the first by index), ascending.
    members: Vec<Vec<ProductIdx>>,
    /// Shapes holding term `t`: `postings[t]`, in signature order.
    postings: Vec<Vec<u32>>,
    /// Position of shape `s` in each of its common terms' posting lists, parallel to
    /// `shapes[s]` (`u32::MAX` for a rare term, whose list is walked whole).
    position: Vec<Vec<u32>>,
    /// Normalized titles, interned: variants sold under one title look like one product to a
    /// shopper, so a list never shows the same title twice.
    title_key: Vec<u32>,
}

impl ContentIndex {
    pub fn from_dataset(ds: &Dataset, cfg: &RecsConfig) -> Self {
        Self::from_products(&ds.products, cfg)
    }

    pub fn from_products(products: &[Product], cfg: &RecsConfig) -> Self {
        let mut vocabulary: HashMap<String, u32> = HashMap::new();
        let mut term_id = |term: String| {
            let next = vocabulary.len() as u32;
            *vocabulary.entry(term).or_insert(next)
        };
        // Raw weighted term frequencies per product; fields get their own namespace so the tag
        // "red" and the title word "red" stay apart.
        let raw: Vec<Vec<(u32, f32)>> = products
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
        let n = products.len() as f32;
        let idf: Vec<f32> = df.iter().map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0).collect();

        let mut titles: HashMap<String, u32> = HashMap::new();
        let title_key: Vec<u32> = products
            .iter()
            .map(|p| {
                let key = p.title.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
                let next = titles.len() as u32;
                *titles.entry(key).or_insert(next)
            })
            .collect();

        // Shapes: products with the same raw terms and weights share one vector.
        let mut shape_ids: HashMap<Vec<(u32, u32)>, u32> = HashMap::new();
        let mut shapes: Vec<Vec<(u32, f32)>> = Vec::new();
        let mut members: Vec<Vec<ProductIdx>> = Vec::new();
        let mut shape_of = Vec::with_capacity(raw.len());
        for (p, tf) in raw.into_iter().enumerate() {
            let key: Vec<(u32, u32)> = tf.iter().map(|&(t, w)| (t, w.to_bits())).collect();
            let s = *shape_ids.entry(key).or_insert_with(|| {
                let mut v: Vec<(u32, f32)> = tf.iter().map(|&(t, w)| (t, w * idf[t as usize])).collect();
                let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|(_, w)| *w /= norm);
                }
                shapes.push(v);
                members.push(Vec::new());
                shapes.len() as u32 - 1
            });
            shape_of.push(s);
            let m = &mut members[s as usize];
            if !m.iter().any(|&q| title_key[q as usize] == title_key[p]) {
                m.push(p as ProductIdx);
            }
        }

        // Posting lists in signature order, so a common term's window around a shape holds
        // the shapes sharing its rarer terms (the "sorted neighbourhood" of record linkage).
        let rank = signature_rank(&shapes, &df);
        let mut by_rank: Vec<u32> = (0..shapes.len() as u32).collect();
        by_rank.sort_unstable_by_key(|&s| rank[s as usize]);
        let mut postings: Vec<Vec<u32>> = vec![Vec::new(); n_terms];
        for &s in &by_rank {
            for &(t, _) in &shapes[s as usize] {
                postings[t as usize].push(s);
            }
        }
        let mut position: Vec<Vec<u32>> = shapes.iter().map(|v| vec![u32::MAX; v.len()]).collect();
        for (t, list) in postings.iter().enumerate().filter(|(_, l)| l.len() > MAX_FULL_POSTING) {
            for (at, &s) in list.iter().enumerate() {
                let k = shapes[s as usize].binary_search_by_key(&(t as u32), |&(t, _)| t).expect("the shape holds the term");
                position[s as usize][k] = at as u32;
            }
        }
        ContentIndex { shapes, shape_of, members, postings, position, title_key }
    }

    /// Top-k most similar products per product (cosine ≥ `min_similarity`).
    pub fn similar(&self, cfg: &RecsConfig) -> Neighbors {
        self.similar_counted(cfg).0
    }

    /// `similar`, and the number of candidate shape pairs scored (the work, for its bound's test).
    pub fn similar_counted(&self, cfg: &RecsConfig) -> (Neighbors, u64) {
        let n = self.shapes.len();
        let work = AtomicU64::new(0);
        // Per shape, the best shapes (itself included: its other titles are perfect neighbours),
        // enough to fill a list even when one title of each is the product's own.
        let scratch = || (vec![0u32; n], Vec::new());
        let near: Vec<Vec<(u32, f32)>> = (0..n)
            .into_par_iter()
            .map_init(scratch, |(seen, candidates), s| {
                // `seen[c] == s + 1` marks c as a candidate of s already: no reset between rows.
                let mut mark = |c: u32| {
                    if seen[c as usize] != s as u32 + 1 {
                        seen[c as usize] = s as u32 + 1;
                        candidates.push(c);
                    }
                };
                for (k, &(t, _)) in self.shapes[s].iter().enumerate() {
                    let list = &self.postings[t as usize];
                    match self.position[s][k] {
                        u32::MAX => list.iter().for_each(|&c| mark(c)),
                        at => {
                            let at = at as usize;
                            list[at.saturating_sub(COMMON_WINDOW)..(at + COMMON_WINDOW + 1).min(list.len())].iter().for_each(|&c| mark(c));
                        }
                    }
                }
                work.fetch_add(candidates.len() as u64, Ordering::Relaxed);
                let scored = candidates
                    .drain(..)
                    .map(|c| Scored { item: c, score: if c as usize == s { 1.0 } else { cosine(&self.shapes[s], &self.shapes[c as usize]) } })
                    .filter(|x| x.score >= cfg.min_similarity)
                    .collect();
                top_k(scored, cfg.top_k + 1).into_iter().map(|x| (x.item, x.score)).collect()
            })
            .collect();

        let lists = (0..self.shape_of.len())
            .into_par_iter()
            .map(|i| {
                let title = self.title_key[i];
                let candidates = near[self.shape_of[i] as usize]
                    .iter()
                    .flat_map(|&(c, score)| {
                        let products = self.members[c as usize].iter().filter(|&&j| self.title_key[j as usize] != title);
                        products.take(cfg.top_k).map(move |&j| Scored { item: j, score })
                    })
                    .collect();
                self.distinct_titles(top_k(candidates, cfg.top_k * 2), cfg.top_k)
            })
            .collect();
        (Neighbors::from_lists(lists), work.into_inner())
    }

    /// Keeps the first product of each title, then the `k` best.
    fn distinct_titles(&self, mut ranked: Vec<Scored>, k: usize) -> Vec<Scored> {
        let mut seen: Vec<u32> = Vec::with_capacity(ranked.len());
        ranked.retain(|s| {
            let key = self.title_key[s.item as usize];
            let first = !seen.contains(&key);
            seen.push(key);
            first
        });
        ranked.truncate(k);
        ranked
    }
}

/// Dot product of two unit vectors sorted by term.
fn cosine(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut dot) = (0, 0, 0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    dot
}

/// Each shape's rank when shapes are sorted by their shared terms, rarest first (a term no
/// other product holds says nothing about neighbours and is left out), ties by index.
fn signature_rank(shapes: &[Vec<(u32, f32)>], df: &[u32]) -> Vec<u32> {
    let signatures: Vec<Vec<(u32, u32)>> = shapes
        .iter()
        .map(|v| {
            let mut s: Vec<(u32, u32)> = v.iter().map(|&(t, _)| (df[t as usize], t)).filter(|&(d, _)| d > 1).collect();
            s.sort_unstable();
            s
        })
        .collect();
    let mut order: Vec<usize> = (0..shapes.len()).collect();
    order.sort_by(|&a, &b| signatures[a].cmp(&signatures[b]).then(a.cmp(&b)));
    let mut rank = vec![0u32; shapes.len()];
    for (r, s) in order.into_iter().enumerate() {
        rank[s] = r as u32;
    }
    rank
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
