//! How much of a codebook is used: the fraction of codes assigned at least once, and the
//! perplexity `exp(−Σ_k p_k log p_k)` of the average assignment `p_k = n_k / Σ n`.
//!
//! The perplexity is the number of equally used codes that would have the same entropy: `K`
//! when every code is used equally often, 1 when every output goes to one code (collapse).
//! Counts accumulate over batches ([`CodeUsage::record`]), so the same numbers describe a
//! batch or a whole data set.

use crate::error::GenerativeError;

/// Assignment counts `n_k` of a codebook of `K` codes.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeUsage {
    counts: Vec<u64>,
}

impl CodeUsage {
    /// No assignments yet, for `codes` codes.
    pub fn new(codes: usize) -> Result<Self, GenerativeError> {
        if codes == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "codes K",
                value: 0.0,
                requirement: "the codebook needs at least one code",
            });
        }
        Ok(CodeUsage {
            counts: vec![0; codes],
        })
    }

    /// The counts of `assigned` codes among `codes` codes.
    pub fn of(codes: usize, assigned: &[usize]) -> Result<Self, GenerativeError> {
        let mut usage = CodeUsage::new(codes)?;
        usage.record(assigned)?;
        Ok(usage)
    }

    /// Adds the assignments `assigned` (code indices below `K`).
    pub fn record(&mut self, assigned: &[usize]) -> Result<(), GenerativeError> {
        if let Some(&bad) = assigned.iter().find(|&&k| k >= self.counts.len()) {
            return Err(GenerativeError::InvalidParameter {
                name: "code index",
                value: bad as f64,
                requirement: "must be below the number of codes K",
            });
        }
        for &k in assigned {
            self.counts[k] += 1;
        }
        Ok(())
    }

    /// `n_k` for every code.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// `Σ n_k`.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The number of codes assigned at least once.
    pub fn used(&self) -> usize {
        self.counts.iter().filter(|&&n| n > 0).count()
    }

    /// The fraction of the `K` codes assigned at least once (0 before any assignment).
    pub fn fraction_used(&self) -> f64 {
        self.used() as f64 / self.counts.len() as f64
    }

    /// `exp(−Σ_k p_k log p_k)` with `p_k = n_k / Σ n` (`0 log 0 = 0`); 1 before any
    /// assignment.
    pub fn perplexity(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 1.0;
        }
        let total = total as f64;
        let entropy: f64 = self
            .counts
            .iter()
            .filter(|&&n| n > 0)
            .map(|&n| {
                let p = n as f64 / total;
                -p * p.ln()
            })
            .sum();
        entropy.exp()
    }
}
