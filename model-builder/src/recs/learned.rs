//! Learned item-to-item weights: EASE (Steck 2019, "Embarrassingly Shallow Autoencoders")
//! restricted to each item's candidate neighbours, so it builds in seconds at 100k products.
//!
//! EASE's column j is the ridge regression of item j's basket indicator on every other item's:
//! w = (G_NN + λI)⁻¹ G_Nj with G = XᵀX the item-item Gram matrix (shared baskets) and N every
//! item but j. Here N is j's `learned_candidates` strongest co-occurring items (cosine of the
//! shared baskets), so each column is one small dense solve (Cholesky, M×M) instead of one
//! inversion of the whole n×n matrix. G comes from the aggregates (`pairs`: the off-diagonal,
//! decayed shared baskets at `min_support` or more; `items[].basket_weight`: the diagonal), the
//! same counts `bought_together` scores, so a build `--aggregates` learns the same weights.
//! G entries between two candidates that are in neither one's candidate list count as 0 (the
//! "restricted" in restricted EASE); with every item a candidate and `min_support` 1 the weights
//! are exactly dense EASE's (tested).
//!
//! The table: for a seed item a, the items j whose regressions gave a the largest positive
//! weight, top `learned_top_k`.

use rayon::prelude::*;
use vitrine_engine::bundle::{Neighbors, ProductIdx, Scored};

use super::baskets::Pair;
use super::rank::top_k;
use super::RecsConfig;

/// The learned table from the Gram matrix's diagonal (`diag[p]`: decayed baskets holding p) and
/// off-diagonal (`pairs`).
pub fn learned(n_products: usize, diag: &[f64], pairs: &[Pair], cfg: &RecsConfig) -> Neighbors {
    let m = cfg.learned_candidates;
    if m == 0 || cfg.learned_top_k == 0 || n_products == 0 {
        return Neighbors::from_lists(vec![Vec::new(); n_products]);
    }
    let candidates = Candidates::from_pairs(n_products, diag, pairs, cfg);
    let l2 = cfg.learned_l2.max(0.0) as f64;
    // Column by column: (j, [(a, B[a][j])]).
    let columns: Vec<Vec<(ProductIdx, f32)>> = (0..n_products)
        .into_par_iter()
        .map_init(|| (vec![u32::MAX; n_products], Vec::new()), |(slot, gram), j| candidates.solve(j, diag, l2, slot, gram))
        .collect();
    drop(candidates);
    // Rows: seed a → the items j it predicts.
    let mut lengths = vec![0u32; n_products];
    for column in &columns {
        for &(a, w) in column {
            if w > 0.0 {
                lengths[a as usize] += 1;
            }
        }
    }
    let mut rows: Vec<Vec<Scored>> = lengths.iter().map(|&l| Vec::with_capacity(l as usize)).collect();
    for (j, column) in columns.into_iter().enumerate() {
        for (a, w) in column {
            if w > 0.0 {
                rows[a as usize].push(Scored { item: j as ProductIdx, score: w });
            }
        }
    }
    let lists = rows.into_par_iter().map(|row| top_k(row, cfg.learned_top_k)).collect();
    Neighbors::from_lists(lists)
}

/// Each item's candidate neighbours with their shared baskets G[i][c], sorted by item (CSR).
struct Candidates {
    start: Vec<u32>,
    item: Vec<ProductIdx>,
    gram: Vec<f64>,
}

impl Candidates {
    fn from_pairs(n: usize, diag: &[f64], pairs: &[Pair], cfg: &RecsConfig) -> Candidates {
        let kept = |p: &&Pair| (p.a as usize) < n && (p.b as usize) < n && p.a != p.b && p.baskets >= cfg.min_support && p.weight > 0.0;
        // Both directions of every pair, by product (CSR), then each row cut to its m best.
        let mut start = vec![0u32; n + 1];
        for pair in pairs.iter().filter(kept) {
            start[pair.a as usize + 1] += 1;
            start[pair.b as usize + 1] += 1;
        }
        for p in 0..n {
            start[p + 1] += start[p];
        }
        let mut next = start.clone();
        let mut all = vec![(0 as ProductIdx, 0.0f64); start[n] as usize];
        for pair in pairs.iter().filter(kept) {
            for (i, j) in [(pair.a, pair.b), (pair.b, pair.a)] {
                all[next[i as usize] as usize] = (j, pair.weight);
                next[i as usize] += 1;
            }
        }
        drop(next);
        let m = cfg.learned_candidates;
        let norm = |p: ProductIdx| diag.get(p as usize).copied().unwrap_or(0.0).max(f64::MIN_POSITIVE).sqrt();
        let rows: Vec<Vec<(ProductIdx, f64)>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut row = all[start[i] as usize..start[i + 1] as usize].to_vec();
                if row.len() > m {
                    // The strongest by cosine G_ij / sqrt(G_ii G_jj) (ties by item).
                    let cosine = |&(j, g): &(ProductIdx, f64)| g / norm(j);
                    row.select_nth_unstable_by(m - 1, |x, y| cosine(y).total_cmp(&cosine(x)).then(x.0.cmp(&y.0)));
                    row.truncate(m);
                }
                row.sort_unstable_by_key(|x| x.0);
                row
            })
            .collect();
        drop(all);
        let mut start = Vec::with_capacity(n + 1);
        start.push(0u32);
        let mut item = Vec::new();
        let mut gram = Vec::new();
        for row in rows {
            item.extend(row.iter().map(|x| x.0));
            gram.extend(row.iter().map(|x| x.1));
            start.push(item.len() as u32);
        }
        Candidates { start, item, gram }
    }

    fn row(&self, i: usize) -> (&[ProductIdx], &[f64]) {
        let (a, b) = (self.start[i] as usize, self.start[i + 1] as usize);
        (&self.item[a..b], &self.gram[a..b])
    }

    /// Column j of the restricted EASE: (candidate, weight) pairs. `slot` is a scratch map
    /// product → position in j's candidates (all `u32::MAX` between calls).
    fn solve(&self, j: usize, diag: &[f64], l2: f64, slot: &mut [u32], gram: &mut Vec<f64>) -> Vec<(ProductIdx, f32)> {
        let (items, rhs) = self.row(j);
        let m = items.len();
        if m == 0 {
            return Vec::new();
        }
        for (k, &c) in items.iter().enumerate() {
            slot[c as usize] = k as u32;
        }
        gram.clear();
        gram.resize(m * m, 0.0);
        for (r, &a) in items.iter().enumerate() {
            gram[r * m + r] = diag.get(a as usize).copied().unwrap_or(0.0) + l2;
            let (row_items, row_gram) = self.row(a as usize);
            for (&b, &g) in row_items.iter().zip(row_gram) {
                let c = slot[b as usize];
                if c != u32::MAX {
                    gram[r * m + c as usize] = g;
                    gram[c as usize * m + r] = g;
                }
            }
        }
        for &c in items {
            slot[c as usize] = u32::MAX;
        }
        let mut w = rhs.to_vec();
        if !cholesky_solve(gram, m, &mut w) {
            return Vec::new(); // not positive definite (l2 = 0 on a singular G): no list
        }
        items.iter().zip(w).map(|(&a, w)| (a, w as f32)).collect()
    }
}

/// Solves A x = b in place (`b` becomes x) for a symmetric positive definite `a` (row-major,
/// n×n, overwritten by its Cholesky factor). False when `a` is not positive definite.
pub(crate) fn cholesky_solve(a: &mut [f64], n: usize, b: &mut [f64]) -> bool {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 1e-12 * a[j * n + j].abs().max(1e-300) || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    // L y = b, then Lᵀ x = y.
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recs::testdata::TinyData;
    use crate::aggregates::Aggregates;
    use crate::recs::{Baskets, CoPurchaseScope};

    /// Dense EASE: B = I − P·diag(1/diag P), P = (G + λI)⁻¹, diagonal zero.
    fn dense_ease(g: &[Vec<f64>], l2: f64) -> Vec<Vec<f64>> {
        let n = g.len();
        // Gauss–Jordan inverse of G + λI.
        let mut a: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| g[i][j] + if i == j { l2 } else { 0.0 }).collect()).collect();
        let mut p: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| (i == j) as u8 as f64).collect()).collect();
        for c in 0..n {
            let pivot = (c..n).max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs())).unwrap();
            a.swap(c, pivot);
            p.swap(c, pivot);
            let d = a[c][c];
            for j in 0..n {
                a[c][j] /= d;
                p[c][j] /= d;
            }
            for r in (0..n).filter(|&r| r != c) {
                let f = a[r][c];
                for j in 0..n {
                    a[r][j] -= f * a[c][j];
                    p[r][j] -= f * p[c][j];
                }
            }
        }
        (0..n).map(|i| (0..n).map(|j| if i == j { 0.0 } else { -p[i][j] / p[j][j] }).collect()).collect()
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0].
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, 1.0];
        assert!(cholesky_solve(&mut a, 2, &mut b));
        assert!((b[0] - 0.5).abs() < 1e-12 && b[1].abs() < 1e-12, "{b:?}");
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        assert!(!cholesky_solve(&mut singular, 2, &mut [1.0, 1.0]));
    }

    #[test]
    fn with_every_item_a_candidate_the_weights_are_dense_ease() {
        // Seven products, baskets with overlapping structure (no decay: weights are counts).
        // The last basket holds everything, so every pair co-occurs: dense EASE's regressions
        // may use every item, and so may ours.
        let baskets: [&[u32]; 13] =
            [&[0, 1, 2, 3, 4, 5, 6], &[0, 1, 2], &[0, 1], &[1, 2, 3], &[3, 4], &[4, 5, 6], &[5, 6], &[0, 6], &[2, 3, 4], &[1, 5], &[0, 2, 4, 6], &[3, 5], &[1, 2]];
        let mut data = TinyData::new(&["A", "B", "C", "D", "E", "F", "G"]).customers(1).countries(&["UK"]);
        for (day, b) in baskets.iter().enumerate() {
            data = data.order(Some(0), 0, day as i64, b);
        }
        let cfg = RecsConfig {
            min_support: 1,
            co_purchase_half_life_days: 0.0,
            co_purchase_scope: CoPurchaseScope::Basket,
            learned_candidates: 100,
            learned_top_k: 100,
            learned_l2: 2.0,
            ..Default::default()
        };
        let b = Baskets::from_dataset(&data.ds, &cfg);
        let diag: Vec<f64> = b.items().iter().map(|x| x.1).collect();
        let pairs = b.pairs(1);
        let n = 7;
        let mut g = vec![vec![0.0; n]; n];
        for (i, d) in diag.iter().enumerate() {
            g[i][i] = *d;
        }
        for p in &pairs {
            g[p.a as usize][p.b as usize] = p.weight;
            g[p.b as usize][p.a as usize] = p.weight;
        }
        let dense = dense_ease(&g, 2.0);
        let table = learned(n, &diag, &pairs, &cfg);
        let mut positives = 0;
        for (a, row) in dense.iter().enumerate() {
            let list: Vec<Scored> = table.of(a as u32).collect();
            for (j, &w) in row.iter().enumerate() {
                let got = list.iter().find(|s| s.item == j as u32).map(|s| s.score as f64);
                if w > 1e-9 {
                    positives += 1;
                    let got = got.unwrap_or_else(|| panic!("B[{a}][{j}] = {w} missing from {list:?}"));
                    assert!((got - w).abs() < 1e-5 * w.abs().max(1.0), "B[{a}][{j}]: {got} vs dense {w}");
                } else {
                    assert!(got.is_none(), "B[{a}][{j}] = {w} ≤ 0 must not be listed");
                }
            }
        }
        assert!(positives > 10, "a test that compares something: {positives}");
    }

    #[test]
    fn learned_weights_recover_a_planted_co_purchase_structure() {
        // Planted pairs (0, 1), (2, 3), (4, 5): a basket holds one pair, both items 60% of the
        // time, one of them otherwise; plus a filler (6..=9) and, 80% of the time, the
        // bestseller 10. Given 0, its partner is in 75% of the baskets and the bestseller in 80%:
        // co-occurrence ranks the bestseller first; the regression sees that the bestseller is
        // in every kind of basket alike and puts each item's partner first.
        let titles: Vec<String> = (0..11).map(|i| format!("P{i}")).collect();
        let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
        let mut data = TinyData::new(&titles).customers(1).countries(&["UK"]);
        let mut rng = crate::rng::SplitMix64::new(7);
        for day in 0..600 {
            let pair = rng.below(3) as u32 * 2;
            let mut basket = match rng.below(10) {
                0..6 => vec![pair, pair + 1],
                6 | 7 => vec![pair],
                _ => vec![pair + 1],
            };
            basket.push(6 + rng.below(4) as u32);
            if rng.below(10) < 8 {
                basket.push(10);
            }
            data = data.order(Some(0), 0, day, &basket);
        }
        let cfg = RecsConfig { learned_candidates: 10, learned_top_k: 3, learned_l2: 5.0, co_purchase_half_life_days: 0.0, ..Default::default() };
        let a = Aggregates::from_dataset(&data.ds, &cfg);
        let diag: Vec<f64> = a.items.iter().map(|i| i.basket_weight).collect();
        let table = learned(11, &diag, &a.pairs, &cfg);
        let together = crate::recs::baskets::bought_together(11, &diag, &a.pairs, &RecsConfig { bestseller_damping: 0.0, ..cfg.clone() });
        for p in 0..6u32 {
            let partner = p ^ 1;
            assert_eq!(table.of(p).next().map(|s| s.item), Some(partner), "{p}: learned {:?}", table.list(p));
            assert_eq!(together.of(p).next().map(|s| s.item), Some(10), "{p}: the planted trap is real: {:?}", together.list(p));
        }
    }
}
