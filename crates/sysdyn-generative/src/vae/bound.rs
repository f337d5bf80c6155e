//! The bounds a VAE is trained on and evaluated with, as data: the objective (ELBO with `L`
//! samples, or IWAE with `k`), the weight `β` on the KL term and its schedule, free bits, and
//! the log-mean-exp that turns importance weights into a bound, on tensors (for training) and
//! on the host in chunks (for NLL estimates with thousands of samples).
//!
//! With `log wₛ = log p(x|zₛ) + log p(zₛ) − log q(zₛ|x)`, `zₛ ~ q(z|x)`:
//! - ELBO: `L₁ = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))`, the KL analytic, the expectation over
//!   `L` reparametrised samples; trained as `−(E[log p(x|z)] − β·KL)`.
//! - IWAE (Burda et al. 2016): `L_k = E[log (1/k) Σₛ wₛ] ≤ log p(x)`, increasing in `k`, equal
//!   to `log p(x)` when `q` is the exact posterior (every weight is then `p(x)`).

use burn::tensor::Tensor;

use crate::error::GenerativeError;

/// What a training step maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// The ELBO, its reconstruction term averaged over `samples` draws of `z` per row.
    Elbo {
        /// `L ≥ 1`.
        samples: usize,
    },
    /// The importance-weighted bound with `samples` draws per row.
    Iwae {
        /// `k ≥ 1` (`k = 1` is the ELBO with the KL estimated by sampling).
        samples: usize,
    },
}

impl Objective {
    /// The number of draws of `z` per row.
    pub fn samples(&self) -> usize {
        match self {
            Objective::Elbo { samples } | Objective::Iwae { samples } => *samples,
        }
    }

    /// Refuses zero samples.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        check_samples(self.samples())
    }
}

pub(crate) fn check_samples(samples: usize) -> Result<(), GenerativeError> {
    if samples == 0 {
        Err(GenerativeError::InvalidParameter {
            name: "samples per row (L or k)",
            value: 0.0,
            requirement: "a bound needs at least one sample of z per row",
        })
    } else {
        Ok(())
    }
}

/// The weight `β` on the ELBO's KL term over training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KlWeight {
    /// `β` throughout (`β = 1`: the ELBO; `β > 1`: β-VAE, Higgins et al. 2017).
    Constant(f64),
    /// `β(t) = target · min(1, t / steps)` at step `t` (counted from 0): the KL term is
    /// switched on gradually (Bowman et al. 2016; Sønderby et al. 2016), against posterior
    /// collapse early in training.
    LinearWarmup {
        /// The final `β`.
        target: f64,
        /// Steps until `β` reaches `target`, at least 1.
        steps: u64,
    },
}

impl KlWeight {
    /// `β` at step `step`.
    pub fn beta(&self, step: u64) -> f64 {
        match *self {
            KlWeight::Constant(beta) => beta,
            KlWeight::LinearWarmup { target, steps } => {
                target * (step as f64 / steps.max(1) as f64).min(1.0)
            }
        }
    }

    /// Refuses a negative or non-finite `β` and a warm-up of zero steps.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        let (beta, steps) = match *self {
            KlWeight::Constant(beta) => (beta, 1),
            KlWeight::LinearWarmup { target, steps } => (target, steps),
        };
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(GenerativeError::InvalidParameter {
                name: "β (KL weight)",
                value: beta,
                requirement: "must be finite and ≥ 0 (1 for the ELBO)",
            });
        }
        if steps == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "KL warm-up steps",
                value: 0.0,
                requirement: "a linear warm-up takes at least one step; use KlWeight::Constant",
            });
        }
        Ok(())
    }
}

/// Free bits (Kingma et al. 2016): each latent dimension's KL, averaged over the batch, counts
/// at least `λ` nats, `Σⱼ max(λ, E_batch[KLⱼ])`, so the encoder is not pushed to the prior in
/// dimensions already using fewer than `λ` nats (the gradient there is zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreeBits {
    /// The floor `λ ≥ 0` in nats per dimension.
    pub lambda: f64,
}

impl FreeBits {
    /// Refuses a negative or non-finite floor.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        if self.lambda.is_finite() && self.lambda >= 0.0 {
            Ok(())
        } else {
            Err(GenerativeError::InvalidParameter {
                name: "free bits λ",
                value: self.lambda,
                requirement: "must be finite and ≥ 0 (nats per latent dimension)",
            })
        }
    }

    /// `Σⱼ max(λ, (1/B) Σᵢ KLᵢⱼ)` of per-row, per-dimension KLs `[B, latent]`, shape `[1]`.
    pub fn kl_term(&self, kl_per_dimension: Tensor<2>) -> Tensor<1> {
        let [_, latent] = kl_per_dimension.dims();
        kl_per_dimension
            .mean_dim(0)
            .reshape([latent])
            .clamp_min(self.lambda)
            .sum()
    }
}

/// `log (1/k) Σₛ exp(log wₛ)` over the first axis of `[k, rows]` log-weights, per row
/// (`[rows]`), stabilised by the (detached) maximum: `m + log (1/k) Σₛ exp(log wₛ − m)`.
pub fn log_mean_exp(log_weights: Tensor<2>) -> Tensor<1> {
    let [k, rows] = log_weights.dims();
    let max = log_weights.clone().max_dim(0).detach();
    let shifted = (log_weights - max.clone()).exp().sum_dim(0).log();
    (shifted + max).sub_scalar((k as f64).ln()).reshape([rows])
}

/// A running `log (1/n) Σ exp(log wₛ)` per row on the host, fed chunk by chunk, so an NLL
/// estimate with `k` in the thousands never holds all `k` weights at once.
#[derive(Debug, Clone)]
pub struct LogMeanExp {
    max: Vec<f64>,
    /// `Σ exp(log w − max)` per row.
    scaled_sum: Vec<f64>,
    count: usize,
}

impl LogMeanExp {
    /// An accumulator for `rows` rows.
    pub fn new(rows: usize) -> Self {
        LogMeanExp {
            max: vec![f64::NEG_INFINITY; rows],
            scaled_sum: vec![0.0; rows],
            count: 0,
        }
    }

    /// Adds a chunk of `samples` log-weights per row, laid out `[samples, rows]` row-major.
    pub fn add(&mut self, log_weights: &[f64], samples: usize) -> Result<(), GenerativeError> {
        let rows = self.max.len();
        if log_weights.len() != samples * rows {
            return Err(GenerativeError::ShapeMismatch {
                what: "log-weights and samples × rows",
                left: vec![log_weights.len()],
                right: vec![samples * rows],
            });
        }
        for row in 0..rows {
            let chunk_max = (0..samples)
                .map(|s| log_weights[s * rows + row])
                .fold(f64::NEG_INFINITY, f64::max);
            let new_max = self.max[row].max(chunk_max);
            if new_max == f64::NEG_INFINITY {
                continue;
            }
            let rescale = (self.max[row] - new_max).exp();
            let added: f64 = (0..samples)
                .map(|s| (log_weights[s * rows + row] - new_max).exp())
                .sum();
            self.scaled_sum[row] = self.scaled_sum[row] * rescale + added;
            self.max[row] = new_max;
        }
        self.count += samples;
        Ok(())
    }

    /// The number of samples added per row.
    pub fn count(&self) -> usize {
        self.count
    }

    /// `log (1/n) Σₛ wₛ` per row.
    pub fn value(&self) -> Vec<f64> {
        let log_n = (self.count as f64).ln();
        self.max
            .iter()
            .zip(&self.scaled_sum)
            .map(|(m, s)| m + s.ln() - log_n)
            .collect()
    }
}

/// An estimate of the negative log-likelihood over a data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NllEstimate {
    /// `−(1/N) Σᵢ L_k(xᵢ)` in nats per data point (an upper bound on the true NLL in
    /// expectation, tightening as `k` grows).
    pub nats: f64,
    /// The same in bits per dimension, `nats / (D ln 2)`: meaningful for discrete
    /// likelihoods (Bernoulli, discretised logistic).
    pub bits_per_dim: f64,
    /// The importance samples per data point.
    pub samples: usize,
}

/// `nats / (D ln 2)`: a per-example NLL in bits per dimension for `D`-dimensional data.
pub fn bits_per_dim(nats: f64, dims: usize) -> f64 {
    nats / (dims as f64 * std::f64::consts::LN_2)
}
