//! The engine's one sort: a heap sort, and from the same heap the best `k` of a list.
//!
//! Why not `slice::sort_unstable_by`: each element type instantiated the standard library's
//! pattern-defeating quicksort with its sorting networks (5–10 KB of wasm apiece), a tenth of
//! the browser SDK. A heap is a few hundred bytes per type, and for the lists a decision sees
//! (hundreds of items, often only the best eight wanted) it is as quick. Every order the engine
//! sorts by is total (ties broken by product index), so any correct sort gives the same list
//! on every host.

use alloc::vec::Vec;
use core::cmp::Ordering;

/// Sorts `v` by `order` (first in order first). Not stable: give a total order.
pub fn sort_by<T>(v: &mut [T], order: impl Fn(&T, &T) -> Ordering) {
    let n = v.len();
    pop_firsts(v, n, &order);
    v.reverse();
}

/// Keeps the first `k` of `v` by `order`, sorted: O(n + k log n).
pub fn top_k_by<T>(v: &mut Vec<T>, k: usize, order: impl Fn(&T, &T) -> Ordering) {
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

    /// Deterministic pseudo-random lists of every small length, checked against the standard sort.
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
            let mut sorted = list.clone();
            sort_by(&mut sorted, |a, b| b.cmp(a));
            assert_eq!(sorted, expected, "n={n}");
            for k in [0, 1, 3, 8, n, n + 5] {
                let mut top = list.clone();
                top_k_by(&mut top, k, |a, b| b.cmp(a));
                assert_eq!(top, expected[..k.min(n)], "n={n} k={k}");
            }
        }
        let mut pairs = vec![(2, 0.5f32), (1, 0.5), (3, 0.9)];
        sort_by(&mut pairs, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        assert_eq!(pairs, vec![(3, 0.9), (1, 0.5), (2, 0.5)]);
    }
}
