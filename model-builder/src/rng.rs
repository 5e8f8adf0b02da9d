//! A tiny seeded generator: the eval's random baseline and splits, and the report's simulated
//! traffic, must repeat exactly from run to run and machine to machine, which a fixed
//! algorithm guarantees.

/// SplitMix64 (Steele, Lea & Flood 2014): one u64 of state, good enough for shuffles.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (0 for `n` = 0); the modulo bias is negligible for our sizes.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % (n as u64).max(1)) as usize
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }

    /// Fisher–Yates on the first `k` positions: they become a uniform random sample.
    pub fn partial_shuffle<T>(&mut self, items: &mut [T], k: usize) {
        for i in 0..k.min(items.len()) {
            let j = i + self.below(items.len() - i);
            items.swap(i, j);
        }
    }
}

/// Draws indices in proportion to fixed weights in O(1) each: Walker's alias method, built the
/// Vose way (linear, no sorting). `model-builder generate` draws millions of products and
/// customers from Zipf-like and heavy-tailed weights; a binary search per draw was the slower
/// alternative. Deterministic: the table depends only on the weights.
pub struct Alias {
    /// Chance of keeping column `i` rather than taking its alias.
    keep: Vec<f64>,
    alias: Vec<u32>,
}

impl Alias {
    /// `weights` must be finite and non-negative with a positive sum (else every index is
    /// equally likely).
    pub fn new(weights: &[f64]) -> Alias {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let uniform = !(total > 0.0 && total.is_finite());
        let mut keep: Vec<f64> = weights.iter().map(|&w| if uniform { 1.0 } else { w * n as f64 / total }).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<u32>, Vec<u32>) = (0..n as u32).partition(|&i| keep[i as usize] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            alias[s as usize] = l;
            keep[l as usize] -= 1.0 - keep[s as usize];
            if keep[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left is 1 up to rounding.
        for i in small.into_iter().chain(large) {
            keep[i as usize] = 1.0;
        }
        Alias { keep, alias }
    }

    pub fn len(&self) -> usize {
        self.keep.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keep.is_empty()
    }

    /// An index below `len()` (0 when empty).
    pub fn sample(&self, rng: &mut SplitMix64) -> usize {
        let i = rng.below(self.keep.len());
        if self.keep.is_empty() || rng.uniform() < self.keep[i] {
            i
        } else {
            self.alias[i] as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_draws_follow_the_weights() {
        let weights = [1.0, 0.0, 3.0, 6.0];
        let table = Alias::new(&weights);
        let mut rng = SplitMix64::new(3);
        let mut counts = [0u32; 4];
        for _ in 0..100_000 {
            counts[table.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0, "a zero weight is never drawn");
        for (c, w) in counts.iter().zip(weights) {
            let share = f64::from(*c) / 100_000.0;
            assert!((share - w / 10.0).abs() < 0.01, "{counts:?}");
        }
    }
}
