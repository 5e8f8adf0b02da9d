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
/// Shapes scored in full per shape, in multiples of the list length (see `similar_counted`).
const RESCORED: usize = 4;

/// Unit-length TF-IDF vectors, compared between "shapes": the distinct vectors (a catalog of
/// 100k products built from a few hundred product types has fewer shapes than products, and
/// products of one shape have the same neighbours). Shapes are numbered in signature order and
/// stored flat, so a window of a posting list is a run of neighbouring rows in memory.
pub struct ContentIndex {
    /// Terms of shape `s`, sorted by term: `term[start[s]..start[s + 1]]`, weights in `weight`.
    start: Vec<u32>,
    term: Vec<u32>,
    weight: Vec<f32>,
    /// Parallel to `term`: the shape's position in that term's posting list when the term is
    /// common, `u32::MAX` when it is rare (its list is walked whole).
    position: Vec<u32>,
    /// Shape of each product.
    shape_of: Vec<u32>,
    /// Products of shape `s`, one per title (the first by index), ascending.
    members: Vec<Vec<ProductIdx>>,
    /// Shapes holding term `t` with its weight there, ascending (= signature order).
    postings: Vec<Vec<(u32, f32)>>,
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

        // Shapes renumbered in signature order, so a common term's window around a shape holds
        // the shapes sharing its rarer terms (the "sorted neighbourhood" of record linkage).
        let rank = signature_rank(&shapes, &df);
        let mut order: Vec<u32> = (0..shapes.len() as u32).collect();
        order.sort_unstable_by_key(|&s| rank[s as usize]);
        let shape_of = shape_of.into_iter().map(|s: u32| rank[s as usize]).collect();
        let members = order.iter().map(|&s| std::mem::take(&mut members[s as usize])).collect();
        let mut start = vec![0u32];
        let (mut term, mut weight) = (Vec::new(), Vec::new());
        let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_terms];
        for (new, &old) in order.iter().enumerate() {
            for &(t, w) in &shapes[old as usize] {
                term.push(t);
                weight.push(w);
                postings[t as usize].push((new as u32, w));
            }
            start.push(term.len() as u32);
        }
        let mut position = vec![u32::MAX; term.len()];
        for (t, list) in postings.iter().enumerate().filter(|(_, l)| l.len() > MAX_FULL_POSTING) {
            for (at, &(s, _)) in list.iter().enumerate() {
                let row = start[s as usize] as usize..start[s as usize + 1] as usize;
                let k = term[row.clone()].binary_search(&(t as u32)).expect("the shape holds the term");
                position[row.start + k] = at as u32;
            }
        }
        ContentIndex { start, term, weight, position, shape_of, members, postings, title_key }
    }

    fn row(&self, s: usize) -> std::ops::Range<usize> {
        self.start[s] as usize..self.start[s + 1] as usize
    }

    /// Dot product of two shapes' unit vectors (a merge of their sorted terms).
    fn cosine(&self, a: usize, b: usize) -> f32 {
        let (ra, rb) = (self.row(a), self.row(b));
        let (ta, tb) = (&self.term[ra.clone()], &self.term[rb.clone()]);
        let (wa, wb) = (&self.weight[ra], &self.weight[rb]);
        let (mut i, mut j, mut dot) = (0, 0, 0f32);
        while i < ta.len() && j < tb.len() {
            match ta[i].cmp(&tb[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += wa[i] * wb[j];
                    i += 1;
                    j += 1;
                }
            }
        }
        dot
    }

    /// Top-k most similar products per product (cosine ≥ `min_similarity`).
    pub fn similar(&self, cfg: &RecsConfig) -> Neighbors {
        self.similar_counted(cfg).0
    }

    /// `similar`, and the number of candidate shape pairs scored (the work, for its bound's test).
    pub fn similar_counted(&self, cfg: &RecsConfig) -> (Neighbors, u64) {
        let n = self.start.len() - 1;
        let work = AtomicU64::new(0);
        // Per shape, the best shapes (itself included: its other titles are perfect neighbours),
        // enough to fill a list even when one title of each is the product's own. Dot products
        // are summed along the postings walked (one add per posting); a common term's share is
        // missed for shapes outside its window, so the best by that sum are scored again in
        // full before the cut.
        let scratch = || (vec![0f32; n], Vec::new());
        let near: Vec<Vec<(u32, f32)>> = (0..n)
            .into_par_iter()
            .map_init(scratch, |(dot, touched), s| {
                let mut visits = 0u64;
                for k in self.row(s) {
                    let list = &self.postings[self.term[k] as usize];
                    let window = match self.position[k] {
                        u32::MAX => list.as_slice(),
                        at => {
                            let at = at as usize;
                            &list[at.saturating_sub(COMMON_WINDOW)..(at + COMMON_WINDOW + 1).min(list.len())]
                        }
                    };
                    visits += window.len() as u64;
                    let w = self.weight[k];
                    for &(c, wc) in window {
                        let d = &mut dot[c as usize];
                        if *d == 0.0 {
                            touched.push(c);
                        }
                        // Weights are positive, so a touched shape never reads as untouched.
                        *d += w * wc;
                    }
                }
                work.fetch_add(visits, Ordering::Relaxed);
                let partial: Vec<Scored> = touched.iter().map(|&c| Scored { item: c, score: dot[c as usize] }).collect();
                for &c in touched.iter() {
                    dot[c as usize] = 0.0;
                }
                touched.clear();
                let scored = top_k(partial, RESCORED * (cfg.top_k + 1))
                    .into_iter()
                    .map(|x| Scored { item: x.item, score: if x.item as usize == s { 1.0 } else { self.cosine(s, x.item as usize) } })
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
