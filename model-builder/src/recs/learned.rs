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
//! The regressors are restricted, the Gram entries are not: G between two candidates is looked
//! up in the full pair list (a pair under `min_support` counts 0). With every item a candidate
//! and `min_support` 1 the weights are exactly dense EASE's (tested).
//!
//! The table: for a seed item a, the items j whose regressions gave a the largest positive
//! weight, top `learned_top_k`.

use rayon::prelude::*;
use vitrine_engine::bundle::{Neighbors, ProductIdx, Scored};

use super::baskets::{pairs_both_ways, Pair};
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
    let columns: Vec<Vec<(ProductIdx, f32)>> = (0..n_products).into_par_iter().map_init(Vec::new, |gram, j| candidates.solve(j, diag, l2, gram)).collect();
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

/// Every product's co-purchases (sorted by item, CSR) and, per product, its candidates: the
/// `learned_candidates` strongest of them by cosine, sorted by item.
struct Candidates {
    start: Vec<usize>,
    item: Vec<ProductIdx>,
    gram: Vec<f32>,
    /// Candidates of product p: positions `cand[cand_start[p]..cand_start[p + 1]]` into `item`.
    cand_start: Vec<usize>,
    cand: Vec<u32>,
}

impl Candidates {
    fn from_pairs(n: usize, diag: &[f64], pairs: &[Pair], cfg: &RecsConfig) -> Candidates {
        let kept = |p: &&Pair| (p.a as usize) < n && (p.b as usize) < n && p.a != p.b && p.baskets >= cfg.min_support && p.weight > 0.0;
        // Pairs come by `a` then `b`, so the rows' forward halves are sorted; each row is sorted
        // once below.
        let (start, entries) = pairs_both_ways(n, pairs, kept, |pair, _, j| (j, pair.weight as f32));
        let m = cfg.learned_candidates;
        let norm = |p: ProductIdx| diag.get(p as usize).copied().unwrap_or(0.0).max(f64::MIN_POSITIVE).sqrt();
        // Per product: its row sorted by item, and the positions of its candidates in it.
        type Sorted = (Vec<(ProductIdx, f32)>, Vec<u32>);
        let rows: Vec<Sorted> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut row: Vec<(ProductIdx, f32)> = entries[start[i]..start[i + 1]].to_vec();
                row.sort_unstable_by_key(|x| x.0);
                // The strongest by cosine G_ij / sqrt(G_ii G_jj) (ties by item), as positions.
                let mut best: Vec<u32> = (0..row.len() as u32).collect();
                if best.len() > m {
                    let cosine = |k: &u32| row[*k as usize].1 as f64 / norm(row[*k as usize].0);
                    best.select_nth_unstable_by(m - 1, |x, y| cosine(y).total_cmp(&cosine(x)).then(x.cmp(y)));
                    best.truncate(m);
                    best.sort_unstable();
                }
                (row, best)
            })
            .collect();
        drop(entries);
        let mut item = vec![0 as ProductIdx; start[n]];
        let mut gram = vec![0f32; start[n]];
        let mut cand_start = Vec::with_capacity(n + 1);
        cand_start.push(0);
        let mut cand = Vec::new();
        for (i, (row, best)) in rows.into_iter().enumerate() {
            for (k, (j, g)) in row.into_iter().enumerate() {
                item[start[i] + k] = j;
                gram[start[i] + k] = g;
            }
            cand.extend(best.iter().map(|&k| start[i] as u32 + k));
            cand_start.push(cand.len());
        }
        Candidates { start, item, gram, cand_start, cand }
    }

    /// G[a][b] for a ≠ b (0 when the pair is not counted), searching a's row from `from` on;
    /// returns the value and where to search from for a larger b.
    fn gram_at(&self, a: usize, b: ProductIdx, from: usize) -> (f64, usize) {
        let row = &self.item[from..self.start[a + 1]];
        let k = from + row.partition_point(|&x| x < b);
        match self.item.get(k) {
            Some(&x) if x == b && k < self.start[a + 1] => (self.gram[k] as f64, k + 1),
            _ => (0.0, k),
        }
    }

    /// Column j of the restricted EASE: (candidate, weight) pairs.
    fn solve(&self, j: usize, diag: &[f64], l2: f64, gram: &mut Vec<f64>) -> Vec<(ProductIdx, f32)> {
        let positions = &self.cand[self.cand_start[j]..self.cand_start[j + 1]];
        let m = positions.len();
        if m == 0 {
            return Vec::new();
        }
        let items: Vec<ProductIdx> = positions.iter().map(|&k| self.item[k as usize]).collect();
        let mut w: Vec<f64> = positions.iter().map(|&k| self.gram[k as usize] as f64).collect();
        gram.clear();
        gram.resize(m * m, 0.0);
        for (r, &a) in items.iter().enumerate() {
            gram[r * m + r] = diag.get(a as usize).copied().unwrap_or(0.0) + l2;
            // Candidates are sorted: one forward search through a's row for all b > a.
            let mut from = self.start[a as usize];
            for (c, &b) in items.iter().enumerate().skip(r + 1) {
                let (g, next) = self.gram_at(a as usize, b, from);
                from = next;
                gram[r * m + c] = g;
                gram[c * m + r] = g;
            }
        }
        if !cholesky_solve(gram, m, &mut w) {
            return Vec::new(); // not positive definite (l2 = 0 on a singular G): no list
        }
        items.into_iter().zip(w).map(|(a, w)| (a, w as f32)).collect()
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
    use crate::aggregates::Aggregates;
    use crate::recs::testdata::TinyData;
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
        let baskets: [&[u32]; 13] = [
            &[0, 1, 2, 3, 4, 5, 6],
            &[0, 1, 2],
            &[0, 1],
            &[1, 2, 3],
            &[3, 4],
            &[4, 5, 6],
            &[5, 6],
            &[0, 6],
            &[2, 3, 4],
            &[1, 5],
            &[0, 2, 4, 6],
            &[3, 5],
            &[1, 2],
        ];
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
