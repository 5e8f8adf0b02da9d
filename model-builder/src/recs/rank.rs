//! Ranking helpers shared by every table.

use std::cmp::Ordering;

use vitrine_engine::bundle::Scored;

/// Best first; equal scores by ascending item so builds are reproducible.
pub fn by_score_desc(a: &Scored, b: &Scored) -> Ordering {
    b.score.total_cmp(&a.score).then(a.item.cmp(&b.item))
}

/// Keeps the `k` best of `candidates`, best first (partial selection: O(n + k log k)).
/// The result holds only its `k` (lists are kept by the 100k: capacity left over from the
/// candidates once held 1 GB of them).
pub fn top_k(mut candidates: Vec<Scored>, k: usize) -> Vec<Scored> {
    if candidates.len() > k && k > 0 {
        candidates.select_nth_unstable_by(k - 1, by_score_desc);
    }
    candidates.truncate(k);
    candidates.shrink_to_fit();
    candidates.sort_unstable_by(by_score_desc);
    candidates
}

/// Turns dense per-product scores into a top-k list, skipping zero scores.
pub fn top_k_dense(scores: &[f32], k: usize) -> Vec<Scored> {
    let candidates = scores.iter().enumerate().filter(|(_, &s)| s > 0.0).map(|(i, &score)| Scored { item: i as u32, score }).collect();
    top_k(candidates, k)
}
