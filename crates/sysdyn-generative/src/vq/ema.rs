//! The codebook updated by exponential moving averages instead of the codebook loss (van den
//! Oord et al. 2017, appendix A.1; Razavi, van den Oord & Vinyals 2019).
//!
//! With `n_i` the number of encoder outputs assigned to code `i` in the batch and
//! `s_i = Σ_{j→i} z_e,j` their sum, one update is
//!
//! ```text
//! N_i ← γ N_i + (1 − γ) n_i
//! m_i ← γ m_i + (1 − γ) s_i
//! Ñ_i = (N_i + ε) / (Σ_k N_k + K ε) · Σ_k N_k      (Laplace smoothing)
//! e_i = m_i / Ñ_i
//! ```
//!
//! so each code is the running mean of the outputs assigned to it. Laplace smoothing keeps the
//! division finite for a code that has gone unused (`N_i → 0`) while leaving `Σ Ñ = Σ N`. As in
//! Sonnet's `VectorQuantizerEMA`, the stored count `N_i` is the unsmoothed average and `Ñ` is
//! used only for the division. The state starts as if every code had been assigned once to
//! its own initial value (`N_i = 1`, `m_i = e_i`), so the first update moves used codes to
//! `≈` their batch means and leaves unused ones in place up to the smoothing.
//!
//! `N` and `m` are parameters without gradient, so they are saved with the model's
//! checkpoints and a resumed run continues the same averages.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use crate::error::GenerativeError;
use crate::vq::codebook::{
    Codebook, check_shape, host_tensor, host_values, one_hot, replace_param,
};

/// The decay `γ` and smoothing `ε` of the moving averages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmaConfig {
    /// `γ` (0.99 in both papers).
    pub decay: f64,
    /// Laplace smoothing's `ε` (Sonnet: 1e-5).
    pub epsilon: f64,
}

impl Default for EmaConfig {
    fn default() -> Self {
        EmaConfig {
            decay: 0.99,
            epsilon: 1e-5,
        }
    }
}

impl EmaConfig {
    /// Checks `0 ≤ γ < 1` and `ε > 0`.
    pub fn validate(&self) -> Result<(), GenerativeError> {
        if !(self.decay >= 0.0 && self.decay < 1.0) {
            return Err(GenerativeError::InvalidParameter {
                name: "EMA decay γ",
                value: self.decay,
                requirement: "must lie in [0, 1) (0.99 is usual)",
            });
        }
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(GenerativeError::InvalidParameter {
                name: "Laplace smoothing ε",
                value: self.epsilon,
                requirement: "must be finite and > 0 (1e-5 is usual)",
            });
        }
        Ok(())
    }
}

/// The moving averages `N` (`[K]`) and `m` (`[K, D]`) of an EMA codebook.
#[derive(Module, Debug)]
pub struct EmaCodebook {
    /// `N_i`, the average number of outputs assigned to code `i` per batch (not trained).
    pub counts: Param<Tensor<1>>,
    /// `m_i`, the average sum of the outputs assigned to code `i` per batch (not trained).
    pub sums: Param<Tensor<2>>,
    #[module(skip)]
    config: EmaConfig,
}

impl EmaCodebook {
    /// The averages of `codebook` as if each code had been assigned once to its own value.
    pub fn new(codebook: &Codebook, config: EmaConfig) -> Result<Self, GenerativeError> {
        config.validate()?;
        let vectors = codebook.vectors.val().detach();
        let [codes, _] = vectors.dims();
        let counts = Tensor::<1>::ones([codes], (&vectors.device(), vectors.dtype()));
        Ok(EmaCodebook {
            counts: Param::from_tensor(counts).set_require_grad(false),
            sums: Param::from_tensor(vectors).set_require_grad(false),
            config,
        })
    }

    /// The decay and smoothing.
    pub fn config(&self) -> EmaConfig {
        self.config
    }

    /// One update with the encoder outputs `z_e` (`[n, D]`) assigned to `codes`: the moving
    /// averages move (see the module documentation) and `codebook` takes `e_i = m_i / Ñ_i`.
    pub fn update(
        &mut self,
        codebook: &mut Codebook,
        z_e: Tensor<2>,
        codes: &[usize],
    ) -> Result<(), GenerativeError> {
        let [k, d] = self.sums.dims();
        check_shape("codebook and EMA sums", &codebook.vectors.dims(), &[k, d])?;
        let [rows, width] = z_e.dims();
        check_shape("encoder outputs and their codes", &[rows], &[codes.len()])?;
        check_shape("encoder output width and code width D", &[width], &[d])?;
        let gamma = self.config.decay;
        let z_e = z_e.detach();
        let assignment = one_hot(codes, k, &z_e)?.transpose(); // [K, n]
        let batch_counts = assignment.clone().sum_dim(1).reshape([k]);
        let batch_sums = assignment.matmul(z_e);
        let counts = self
            .counts
            .val()
            .detach()
            .mul_scalar(gamma)
            .add(batch_counts.mul_scalar(1.0 - gamma));
        let sums = self
            .sums
            .val()
            .detach()
            .mul_scalar(gamma)
            .add(batch_sums.mul_scalar(1.0 - gamma));
        let smoothed = laplace_smoothed(counts.clone(), self.config.epsilon);
        codebook.set_vectors(sums.clone() / smoothed.reshape([k, 1]))?;
        self.counts = replace_param(&self.counts, counts);
        self.sums = replace_param(&self.sums, sums);
        Ok(())
    }

    /// Sets the averages of each of `codes` to `count` assignments of its new value
    /// (`N_i = count`, `m_i = count · value`, so `e_i = value` at the next update if unused),
    /// as for a freshly initialised code: what a dead-code restart does.
    pub fn reset_codes(
        &mut self,
        codes: &[usize],
        values: &[Vec<f64>],
        count: f64,
    ) -> Result<(), GenerativeError> {
        let [k, d] = self.sums.dims();
        check_shape(
            "restarted codes and their values",
            &[codes.len()],
            &[values.len()],
        )?;
        let mut counts = host_values(self.counts.val(), "EMA counts")?;
        let mut sums = host_values(self.sums.val(), "EMA sums")?;
        for (&code, value) in codes.iter().zip(values) {
            check_shape(
                "restarted code's value and code width D",
                &[value.len()],
                &[d],
            )?;
            if code >= k {
                return Err(GenerativeError::InvalidParameter {
                    name: "code index",
                    value: code as f64,
                    requirement: "must be below the number of codes K",
                });
            }
            counts[code] = count;
            for (sum, v) in sums[code * d..(code + 1) * d].iter_mut().zip(value) {
                *sum = count * v;
            }
        }
        let like = self.sums.val();
        self.counts = replace_param(&self.counts, host_tensor(counts, [k], &like));
        self.sums = replace_param(&self.sums, host_tensor(sums, [k, d], &like));
        Ok(())
    }
}

/// `Ñ_i = (N_i + ε) / (Σ N + K ε) · Σ N`.
pub fn laplace_smoothed(counts: Tensor<1>, epsilon: f64) -> Tensor<1> {
    let [k] = counts.dims();
    let total = counts.clone().sum(); // [1]
    let denominator = total.clone().add_scalar(k as f64 * epsilon);
    counts.add_scalar(epsilon) / denominator * total
}
