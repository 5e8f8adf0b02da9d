//! SAR (Smart Adaptive Recommendations), Microsoft Recommenders' `SARSingleNode`, as a baseline
//! (eval only, never in the bundle), as its documentation and code define it:
//! - affinity A[u][i] = Σ rating × 2^(−(time_now − t) / half-life), `time_now` the training
//!   data's last time; here one record per (user, item) as the split exports it (`train.tsv`):
//!   rating = the orders holding the item, t = the latest of them;
//! - co-occurrence C = UᵀU over the binary user × item matrix, entries below `threshold` zeroed
//!   (the diagonal too: C[i][i] is the item's number of users);
//! - similarity S = C (counts), C_ij / (C_ii + C_jj − C_ij) (Jaccard) or C_ij / (C_ii C_jj) (lift);
//! - score = A · S, the user's seen items removed for the `new` protocol.
//!
//! Users are the customers, and each guest order a user of its own (as `train.tsv` has them).
//! `bench/eval/sar_check.sh` checks it against Microsoft's own SAR on the same split.

use rayon::prelude::*;

use super::holdout::owned_by_customer;
use crate::data::{CustomerIdx, Dataset, ProductIdx};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Similarity {
    Counts,
    Jaccard,
    Lift,
}

impl Similarity {
    pub fn name(self) -> &'static str {
        match self {
            Similarity::Counts => "counts",
            Similarity::Jaccard => "jaccard",
            Similarity::Lift => "lift",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SarConfig {
    pub similarity: Similarity,
    /// Affinity half-life in days (Microsoft's `time_decay_coefficient`, 30 by default); 0: no decay.
    pub half_life_days: f64,
    /// Co-occurrences below this are zeroed (Microsoft's default 1: none).
    pub threshold: u32,
}

impl Default for SarConfig {
    fn default() -> Self {
        SarConfig { similarity: Similarity::Jaccard, half_life_days: 30.0, threshold: 1 }
    }
}

/// A fitted SAR model.
pub struct Sar {
    /// Per customer (index = `CustomerIdx`): (item, affinity).
    affinity: Vec<Vec<(ProductIdx, f64)>>,
    /// Similarity rows (CSR, by item).
    start: Vec<usize>,
    item: Vec<ProductIdx>,
    value: Vec<f64>,
    n_items: usize,
}

impl Sar {
    pub fn fit(train: &Dataset, cfg: SarConfig) -> Sar {
        let n_items = train.products.len();
        let time_now = train.last_time();
        let decay = |t: i64| {
            if cfg.half_life_days <= 0.0 {
                1.0
            } else {
                0.5f64.powf((time_now - t) as f64 / (cfg.half_life_days * 86_400.0)).min(1.0)
            }
        };
        let mut users: Vec<Vec<(ProductIdx, f64)>> = owned_by_customer(train)
            .into_iter()
            .map(|owned| {
                let mut row: Vec<(ProductIdx, f64)> = owned.iter().map(|o| (o.item, o.orders as f64 * decay(o.last_time))).collect();
                row.sort_unstable_by_key(|x| x.0);
                row
            })
            .collect();
        let n_customers = users.len();
        for order in train.orders.iter().filter(|o| o.customer.is_none()) {
            let mut items: Vec<ProductIdx> = train.order_lines(order).iter().map(|l| l.product).collect();
            items.sort_unstable();
            items.dedup();
            users.push(items.into_iter().map(|i| (i, decay(order.time))).collect());
        }

        // Item → users (transpose of the binary matrix).
        let mut item_start = vec![0usize; n_items + 1];
        for row in &users {
            for &(i, _) in row {
                item_start[i as usize + 1] += 1;
            }
        }
        for i in 0..n_items {
            item_start[i + 1] += item_start[i];
        }
        let mut next = item_start.clone();
        let mut item_users = vec![0u32; item_start[n_items]];
        for (u, row) in users.iter().enumerate() {
            for &(i, _) in row {
                item_users[next[i as usize]] = u as u32;
                next[i as usize] += 1;
            }
        }
        let frequency: Vec<f64> = (0..n_items).map(|i| (item_start[i + 1] - item_start[i]) as f64).collect();
        let threshold = cfg.threshold.max(1) as f64;
        // The diagonal after thresholding (Microsoft thresholds the whole matrix).
        let diag: Vec<f64> = frequency.iter().map(|&f| if f >= threshold { f } else { 0.0 }).collect();

        let rows: Vec<Vec<(ProductIdx, f64)>> = (0..n_items)
            .into_par_iter()
            .map_init(
                || (vec![0u32; n_items], Vec::new()),
                |(count, touched), i| {
                    for &u in &item_users[item_start[i]..item_start[i + 1]] {
                        for &(j, _) in &users[u as usize] {
                            if count[j as usize] == 0 {
                                touched.push(j);
                            }
                            count[j as usize] += 1;
                        }
                    }
                    touched.sort_unstable();
                    let row = touched
                        .iter()
                        .filter_map(|&j| {
                            let c = count[j as usize] as f64;
                            if c < threshold {
                                return None;
                            }
                            let s = match cfg.similarity {
                                Similarity::Counts => c,
                                Similarity::Jaccard => c / (diag[i] + diag[j as usize] - c),
                                Similarity::Lift => c / (diag[i] * diag[j as usize]),
                            };
                            (s.is_finite() && s != 0.0).then_some((j, s))
                        })
                        .collect();
                    for &j in touched.iter() {
                        count[j as usize] = 0;
                    }
                    touched.clear();
                    row
                },
            )
            .collect();
        let mut start = Vec::with_capacity(n_items + 1);
        start.push(0);
        let (mut item, mut value) = (Vec::new(), Vec::new());
        for row in rows {
            item.extend(row.iter().map(|x| x.0));
            value.extend(row.iter().map(|x| x.1));
            start.push(item.len());
        }
        users.truncate(n_customers);
        Sar { affinity: users, start, item, value, n_items }
    }

    /// The `n` best items for `customer` (positive scores only, best first, ties by item), leaving
    /// out the items they have seen when `remove_seen`.
    pub fn recommend(&self, customer: CustomerIdx, remove_seen: bool, n: usize) -> Vec<ProductIdx> {
        let mut ranked = self.scores(customer, remove_seen);
        let best_first = |x: &(ProductIdx, f64), y: &(ProductIdx, f64)| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0));
        if ranked.len() > n && n > 0 {
            ranked.select_nth_unstable_by(n - 1, best_first);
            ranked.truncate(n);
        }
        ranked.sort_unstable_by(best_first);
        ranked.into_iter().map(|x| x.0).collect()
    }

    /// Every positive score of `customer`, by item.
    pub fn scores(&self, customer: CustomerIdx, remove_seen: bool) -> Vec<(ProductIdx, f64)> {
        let Some(affinity) = self.affinity.get(customer as usize) else { return Vec::new() };
        let mut score = vec![0.0f64; self.n_items];
        let mut touched = Vec::new();
        for &(k, a) in affinity {
            let (from, to) = (self.start[k as usize], self.start[k as usize + 1]);
            for (&j, &s) in self.item[from..to].iter().zip(&self.value[from..to]) {
                if score[j as usize] == 0.0 {
                    touched.push(j);
                }
                score[j as usize] += a * s;
            }
        }
        if remove_seen {
            for &(k, _) in affinity {
                score[k as usize] = f64::NEG_INFINITY;
            }
        }
        let mut ranked: Vec<(ProductIdx, f64)> = touched.into_iter().map(|j| (j, score[j as usize])).filter(|x| x.1 > 0.0).collect();
        ranked.sort_unstable_by_key(|x| x.0);
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recs::testdata::{TinyData, DAY_SECS};

    /// Three customers: c0 {0, 1}, c1 {0, 1, 2}, c2 {2, 3}; a guest order {1, 3}.
    /// Users × items (binary): C = UᵀU:
    ///        0  1  2  3
    ///   0 [  2  2  1  0 ]
    ///   1 [  2  3  1  1 ]
    ///   2 [  1  1  2  1 ]
    ///   3 [  0  1  1  2 ]
    fn data() -> Dataset {
        TinyData::new(&["A", "B", "C", "D"])
            .customers(3)
            .countries(&["UK"])
            .order(Some(0), 0, 0, &[0, 1])
            .order(Some(1), 0, 0, &[0, 1, 2])
            .order(None, 0, 30, &[1, 3])
            .order(Some(2), 0, 30, &[2, 3])
            .ds
    }

    #[test]
    fn jaccard_scores_affinity_times_similarity_as_worked_by_hand() {
        // No decay: c0's affinity is 1 for items 0 and 1.
        // Jaccard rows: S0 = [1, 2/3, 1/3, 0], S1 = [2/3, 1, 1/4, 1/4].
        // c0's scores: item 0: 1 + 2/3, item 1: 2/3 + 1, item 2: 1/3 + 1/4, item 3: 1/4.
        let sar = Sar::fit(&data(), SarConfig { similarity: Similarity::Jaccard, half_life_days: 0.0, threshold: 1 });
        assert_eq!(sar.recommend(0, false, 10), [0, 1, 2, 3], "0 and 1 tie at 5/3: by item");
        assert_eq!(sar.recommend(0, true, 10), [2, 3]);
        // Threshold 2 zeroes every single co-occurrence: 2 and 3 are no longer reached from c0.
        let sar = Sar::fit(&data(), SarConfig { similarity: Similarity::Jaccard, half_life_days: 0.0, threshold: 2 });
        assert_eq!(sar.recommend(0, true, 10), Vec::<u32>::new());
    }

    #[test]
    fn time_decay_halves_affinity_every_half_life() {
        // c1 bought {0, 1, 2} 30 days before the last order, so each affinity is 1/2 at a
        // 30-day half-life. Counts: c1's scores: item 3 = (0 + 1 + 1) / 2 = 1.
        // With lift, item 3: (1/(3·2) + 1/(2·2)) / 2.
        let last = data().last_time();
        assert_eq!(last - data().orders[1].time, 30 * DAY_SECS);
        let counts = Sar::fit(&data(), SarConfig { similarity: Similarity::Counts, half_life_days: 30.0, threshold: 1 });
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        let c1: Vec<(u32, f64)> = counts.scores(1, true);
        assert!(c1.len() == 1 && c1[0].0 == 3 && close(c1[0].1, 1.0), "{c1:?}");
        // Unseen kept: item 0 = (C00 + C10 + C20) / 2 = (2 + 2 + 1) / 2.
        let c1_all = counts.scores(1, false);
        assert!(close(c1_all[0].1, 2.5), "{c1_all:?}");
        let no_decay = Sar::fit(&data(), SarConfig { similarity: Similarity::Counts, half_life_days: 0.0, threshold: 1 });
        assert!(close(no_decay.scores(1, false)[0].1, 5.0));
        let lift = Sar::fit(&data(), SarConfig { similarity: Similarity::Lift, half_life_days: 30.0, threshold: 1 });
        // c2 (no decay, last day) owns {2, 3}: item 1 = 1/(2·3) + 1/(2·3) = 1/3, item 0 = 1/(2·2).
        assert_eq!(lift.recommend(2, true, 10), [1, 0]);
    }
}
