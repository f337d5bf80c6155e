//! Seeded, counter-based randomness that gives the same numbers everywhere.
//!
//! [`CounterRng`] maps `(key, counter)` to random bits with a stateless mixing function
//! (SplitMix64's finaliser applied to a Weyl sequence keyed by the seed), so any draw can be
//! recomputed from its index alone: a Brownian path queried in any order, a backward pass that
//! re-draws the forward noise, or the same data on every backend (draws are made on the host in
//! f64, then uploaded). [`SeededRng`] walks a counter for ordinary sequential use.

/// Golden-ratio increment of the Weyl sequence (SplitMix64).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stateless generator: every draw is a pure function of the key and a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CounterRng {
    key: u64,
}

impl CounterRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        CounterRng {
            key: mix64(seed.wrapping_add(GOLDEN)),
        }
    }

    /// An independent generator for sub-stream `stream` (e.g. one per layer or per path).
    pub fn fork(&self, stream: u64) -> Self {
        CounterRng {
            key: mix64(self.key ^ mix64(stream.wrapping_mul(GOLDEN).wrapping_add(1))),
        }
    }

    /// 64 random bits for `counter`.
    #[inline]
    pub fn bits(&self, counter: u64) -> u64 {
        mix64(self.key.wrapping_add(counter.wrapping_mul(GOLDEN)))
    }

    /// A uniform draw in the open interval (0, 1) for `counter`.
    #[inline]
    pub fn uniform(&self, counter: u64) -> f64 {
        // 53 random bits, shifted by half an ulp so 0 is never returned (log(u) stays finite).
        ((self.bits(counter) >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal draw for `counter` (Box–Muller on two derived uniforms).
    #[inline]
    pub fn normal(&self, counter: u64) -> f64 {
        let u1 = self.uniform(counter.wrapping_mul(2));
        let u2 = self.uniform(counter.wrapping_mul(2).wrapping_add(1));
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Where a [`SeededRng`] stands: its stream key and the next counter. Two numbers are all a
/// checkpoint needs to continue a long-lived generator (a sampler's shuffles, a data stream)
/// exactly where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RngState {
    /// The key of the stream (seed and forks already mixed in).
    pub key: u64,
    /// The counter of the next draw.
    pub counter: u64,
}

/// A sequential generator: a [`CounterRng`] and the next counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeededRng {
    rng: CounterRng,
    counter: u64,
}

impl SeededRng {
    /// A sequential generator for `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRng {
            rng: CounterRng::new(seed),
            counter: 0,
        }
    }

    /// A sequential generator walking the stream of `rng` from counter 0.
    pub fn from_counter_rng(rng: CounterRng) -> Self {
        SeededRng { rng, counter: 0 }
    }

    /// Where the generator stands, to save it (see [`SeededRng::from_state`]).
    ///
    /// ```
    /// use sysdyn_core::rng::SeededRng;
    ///
    /// let mut rng = SeededRng::new(7);
    /// rng.normals(5);
    /// let saved = rng.state();
    /// let next: Vec<f64> = rng.normals(3);
    /// let mut restored = SeededRng::from_state(saved);
    /// assert_eq!(restored.normals(3), next);
    /// ```
    pub fn state(&self) -> RngState {
        RngState {
            key: self.rng.key,
            counter: self.counter,
        }
    }

    /// The generator saved as `state`: its next draws are those the saved one would have made.
    pub fn from_state(state: RngState) -> Self {
        SeededRng {
            rng: CounterRng { key: state.key },
            counter: state.counter,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let v = self.rng.bits(self.counter);
        self.counter += 1;
        v
    }

    /// The next uniform draw in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        let v = self.rng.uniform(self.counter);
        self.counter += 1;
        v
    }

    /// The next standard normal draw.
    pub fn normal(&mut self) -> f64 {
        let v = self.rng.normal(self.counter);
        self.counter += 1;
        v
    }

    /// A uniform integer in `0..n` (`n > 0`), without modulo bias worth noticing for n << 2^64.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// `n` standard normal draws.
    pub fn normals(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.normal()).collect()
    }

    /// `n` uniform draws in (0, 1).
    pub fn uniforms(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.uniform()).collect()
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_depend_only_on_seed_and_counter() {
        let a = CounterRng::new(7);
        let forward: Vec<f64> = (0..100).map(|i| a.normal(i)).collect();
        let backward: Vec<f64> = (0..100).rev().map(|i| a.normal(i)).collect();
        assert!(forward.iter().eq(backward.iter().rev()));
        assert_ne!(CounterRng::new(8).normal(0), a.normal(0));
        assert_ne!(a.fork(1).bits(0), a.fork(2).bits(0));
    }

    #[test]
    fn normal_moments_are_standard() {
        // Mean and variance of 200k draws lie within 5 standard errors of 0 and 1.
        let mut rng = SeededRng::new(42);
        let n = 200_000;
        let xs = rng.normals(n);
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "mean {mean}");
        assert!(
            (var - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(),
            "var {var}"
        );
        let fourth = xs.iter().map(|x| x.powi(4)).sum::<f64>() / n as f64;
        assert!((fourth - 3.0).abs() < 0.1, "kurtosis {fourth}");
    }

    #[test]
    fn uniforms_are_in_the_open_interval_and_flat() {
        let mut rng = SeededRng::new(3);
        let mut bins = [0usize; 10];
        for _ in 0..100_000 {
            let u = rng.uniform();
            assert!(u > 0.0 && u < 1.0);
            bins[(u * 10.0) as usize] += 1;
        }
        // Each bin expects 10_000 with standard deviation ~95.
        assert!(
            bins.iter().all(|&b| (b as f64 - 10_000.0).abs() < 500.0),
            "{bins:?}"
        );
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = SeededRng::new(1);
        let mut v: Vec<usize> = (0..50).collect();
        rng.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(v, sorted);
    }
}
