//! Ranking metrics with binary relevance, averaged over users.

use std::collections::HashSet;

use serde::Serialize;

use crate::data::ProductIdx;

/// The cut-off of the headline metrics.
pub const K: usize = 10;
/// The deeper cut-off of recall (a carousel scrolls).
pub const RECALL_K: usize = 20;

/// Averages over the evaluated users.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub users: usize,
    pub hr_at_10: f64,
    pub ndcg_at_10: f64,
    pub precision_at_10: f64,
    pub recall_at_20: f64,
    /// Share of the catalog that appears in at least one user's top 10.
    pub coverage: f64,
    /// Share of users whose top 10 came up short because the recommender's own signal ran out
    /// (the engine fills nothing: a placement shows fewer items); `None` for recommenders that
    /// are not personal.
    pub cold_start_share: Option<f64>,
}

/// Accumulates one recommender's results user by user.
pub struct MetricsAcc {
    catalog_size: usize,
    users: usize,
    hits: f64,
    ndcg: f64,
    precision: f64,
    recall: f64,
    shown: HashSet<ProductIdx>,
    fell_back: usize,
    personal: bool,
}

impl MetricsAcc {
    pub fn new(catalog_size: usize, personal: bool) -> Self {
        MetricsAcc { catalog_size, users: 0, hits: 0.0, ndcg: 0.0, precision: 0.0, recall: 0.0, shown: HashSet::new(), fell_back: 0, personal }
    }

    /// Adds one user: `ranked` best first (at least `RECALL_K` long when possible), `relevant`
    /// the items they bought in the test period (non-empty, no duplicates), `from_fallback`
    /// whether any of the top `K` came from the fallback.
    pub fn add(&mut self, ranked: &[ProductIdx], relevant: &[ProductIdx], from_fallback: bool) {
        debug_assert!(!relevant.is_empty());
        let is_relevant = |p: &ProductIdx| relevant.contains(p);
        let top = &ranked[..ranked.len().min(K)];
        let hits_at_k = top.iter().filter(|p| is_relevant(p)).count();
        let dcg: f64 = top.iter().enumerate().filter(|(_, p)| is_relevant(p)).map(|(rank, _)| 1.0 / (rank as f64 + 2.0).log2()).sum();
        let ideal: f64 = (0..relevant.len().min(K)).map(|rank| 1.0 / (rank as f64 + 2.0).log2()).sum();
        let hits_at_recall_k = ranked.iter().take(RECALL_K).filter(|p| is_relevant(p)).count();

        self.users += 1;
        self.hits += (hits_at_k > 0) as u8 as f64;
        self.ndcg += dcg / ideal;
        self.precision += hits_at_k as f64 / K as f64;
        self.recall += hits_at_recall_k as f64 / relevant.len() as f64;
        self.shown.extend(top.iter().copied());
        self.fell_back += from_fallback as usize;
    }

    pub fn finish(self) -> Metrics {
        let n = self.users.max(1) as f64;
        Metrics {
            users: self.users,
            hr_at_10: self.hits / n,
            ndcg_at_10: self.ndcg / n,
            precision_at_10: self.precision / n,
            recall_at_20: self.recall / n,
            coverage: self.shown.len() as f64 / self.catalog_size.max(1) as f64,
            cold_start_share: self.personal.then(|| self.fell_back as f64 / n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Worked by hand. Catalog of 40 items; two users.
    ///
    /// User A bought {1, 2, 30}. Ranked 1, 9, 2, then 10..=26 (20 items); 30 is not in the top 20.
    ///   hits@10 = 2 (ranks 1 and 3) -> HR 1, precision 0.2
    ///   DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5 = 1.5; IDCG (3 relevant) = 1 + 1/log2(3) + 0.5
    ///   recall@20 = 2/3
    /// User B bought {5}. Ranked 6, 7, 8, then 11..=27; 5 is at no rank.
    ///   everything 0; their top 10 used the fallback.
    #[test]
    fn metrics_match_hand_computation() {
        let mut acc = MetricsAcc::new(40, true);
        let ranked_a: Vec<u32> = [1, 9, 2].into_iter().chain(10..=26).collect();
        let ranked_b: Vec<u32> = [6, 7, 8].into_iter().chain(11..=27).collect();
        acc.add(&ranked_a, &[1, 2, 30], false);
        acc.add(&ranked_b, &[5], true);
        let m = acc.finish();

        let idcg_a = 1.0 + 1.0 / 3f64.log2() + 0.5;
        assert_eq!(m.users, 2);
        assert!(close(m.hr_at_10, 0.5));
        assert!(close(m.ndcg_at_10, (1.5 / idcg_a) / 2.0), "{}", m.ndcg_at_10);
        assert!(close(m.precision_at_10, 0.1));
        assert!(close(m.recall_at_20, (2.0 / 3.0) / 2.0));
        // Top 10s: A shows 1, 9, 2, 10..=16 and B shows 6, 7, 8, 11..=17: {1, 2} and 6..=17 = 14.
        assert!(close(m.coverage, 14.0 / 40.0), "{}", m.coverage);
        assert_eq!(m.cold_start_share, Some(0.5));
    }

    #[test]
    fn perfect_ranking_scores_one_and_short_lists_are_fine() {
        let mut acc = MetricsAcc::new(3, false);
        acc.add(&[2, 0], &[0, 2], false);
        let m = acc.finish();
        assert!(close(m.ndcg_at_10, 1.0) && close(m.hr_at_10, 1.0) && close(m.recall_at_20, 1.0));
        assert!(close(m.precision_at_10, 0.2));
        assert_eq!(m.cold_start_share, None);
    }
}
