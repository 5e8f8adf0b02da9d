//! The engine's sorts: `sort_by` and `top_k_by` (the best `k` of a list, sorted).
//!
//! Every order the engine sorts by is total (ties broken by product index), so any correct sort
//! gives the same list. Hosts choose by what they value: the standard library's pattern-defeating
//! quicksort by default (the edge: fastest), and with the `compact` feature (the browser SDK) a
//! heap sort, because each element type instantiated std's sort with its sorting networks (5–10
//! KB of wasm apiece, a tenth of the SDK's download) where a heap takes a few hundred bytes and,
//! on a decision's few hundred items, a fraction of a millisecond.

use alloc::vec::Vec;
use core::cmp::Ordering;

/// Sorts `v` by `order` (first in order first). Not stable: give a total order.
pub fn sort_by<T>(v: &mut [T], order: impl Fn(&T, &T) -> Ordering) {
    if cfg!(feature = "compact") {
        heap_sort_by(v, order);
    } else {
        v.sort_unstable_by(order);
    }
}

/// Keeps the first `k` of `v` by `order`, sorted.
pub fn top_k_by<T>(v: &mut Vec<T>, k: usize, order: impl Fn(&T, &T) -> Ordering) {
    if cfg!(feature = "compact") {
        heap_top_k_by(v, k, order);
    } else {
        if v.len() > k && k > 0 {
            v.select_nth_unstable_by(k - 1, &order);
        }
        v.truncate(k);
        v.sort_unstable_by(order);
    }
}

fn heap_sort_by<T>(v: &mut [T], order: impl Fn(&T, &T) -> Ordering) {
    let n = v.len();
    pop_firsts(v, n, &order);
    v.reverse();
}

/// O(n + k log n).
fn heap_top_k_by<T>(v: &mut Vec<T>, k: usize, order: impl Fn(&T, &T) -> Ordering) {
    let n = v.len();
    let k = k.min(n);
    pop_firsts(v, k, &order);
    v.drain(..n - k);
    v.reverse();
}

/// Heapifies `v` with the first in `order` at the root, then moves the first `k` to the end
/// of `v`, last position first (so they end up in reverse order there).
fn pop_firsts<T>(v: &mut [T], k: usize, order: &impl Fn(&T, &T) -> Ordering) {
    let n = v.len();
    for i in (0..n / 2).rev() {
        sift_down(v, i, n, order);
    }
    for end in (n - k..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, order);
    }
}

fn sift_down<T>(v: &mut [T], mut i: usize, len: usize, order: &impl Fn(&T, &T) -> Ordering) {
    loop {
        let mut child = 2 * i + 1;
        if child >= len {
            return;
        }
        if child + 1 < len && order(&v[child + 1], &v[child]) == Ordering::Less {
            child += 1;
        }
        if order(&v[child], &v[i]) != Ordering::Less {
            return;
        }
        v.swap(i, child);
        i = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Deterministic pseudo-random lists of every small length: the heap against the standard
    /// sort, and the public functions (whichever they use).
    #[test]
    fn sorts_and_selects_like_the_standard_sort() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in 0..70 {
            let list: Vec<u32> = (0..n).map(|_| (next() % 50) as u32).collect();
            let mut expected = list.clone();
            expected.sort_unstable_by(|a, b| b.cmp(a));
            let sorts: [fn(&mut [u32]); 2] = [|v| heap_sort_by(v, |a, b| b.cmp(a)), |v| sort_by(v, |a, b| b.cmp(a))];
            for sort in sorts {
                let mut sorted = list.clone();
                sort(&mut sorted);
                assert_eq!(sorted, expected, "n={n}");
            }
            let top_ks: [fn(&mut Vec<u32>, usize); 2] = [|v, k| heap_top_k_by(v, k, |a, b| b.cmp(a)), |v, k| top_k_by(v, k, |a, b| b.cmp(a))];
            for k in [0, 1, 3, 8, n, n + 5] {
                for top_k in top_ks {
                    let mut top = list.clone();
                    top_k(&mut top, k);
                    assert_eq!(top, expected[..k.min(n)], "n={n} k={k}");
                }
            }
        }
        let mut pairs = vec![(2, 0.5f32), (1, 0.5), (3, 0.9)];
        heap_sort_by(&mut pairs, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        assert_eq!(pairs, vec![(3, 0.9), (1, 0.5), (2, 0.5)]);
    }
}
