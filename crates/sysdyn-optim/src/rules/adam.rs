//! Adam (Kingma & Ba, 2015) with bias correction:
//!
//! ```text
//! m_{k} = β1 m_{k-1} + (1 - β1) g_k,      v_k = β2 v_{k-1} + (1 - β2) g_k²,
//! θ_k = θ_{k-1} - η m̂_k / (√v̂_k + ε),    m̂_k = m_k / (1 - β1^k),  v̂_k = v_k / (1 - β2^k),
//! ```
//!
//! with `m_0 = v_0 = 0` and `k` counting from 1. burn's `Adam` (without AMSGrad or weight decay)
//! is the same update, written as `m √(1-β2^k)/(1-β1^k) / (√v + ε √(1-β2^k))`, so the burn path
//! is burn's optimizer, wrapped in [`BurnAdam`] so that code holding it can read the
//! hyper-parameters back (burn's `Adam` keeps them private): a training step that runs the whole
//! update on the host (the RealNVP fast path of sysdyn-generative) applies [`Adam::update`] with
//! the same values and hands its state back in burn's form. burn keeps `β1`, `β2`, `ε` and the bias corrections in `f32`; on f64
//! tensors its iterates match the f64 slice update to about 1e-7 relative.

use super::UpdateRule;
use crate::error::{OptimError, positive, unit_interval};

/// Adam hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    beta1: f64,
    beta2: f64,
    epsilon: f64,
}

/// Adam's moment estimates and step count.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamState {
    /// Steps taken so far.
    pub step: u32,
    /// First moment `m_k`.
    pub m: Vec<f64>,
    /// Second moment `v_k`.
    pub v: Vec<f64>,
}

impl Default for Adam {
    /// `β1 = 0.9`, `β2 = 0.999`, `ε = 1e-8` (the paper's values).
    fn default() -> Self {
        Adam {
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
        }
    }
}

impl Adam {
    /// Adam with `beta1, beta2 ∈ [0, 1)` and `epsilon > 0`.
    pub fn new(beta1: f64, beta2: f64, epsilon: f64) -> Result<Self, OptimError> {
        Ok(Adam {
            beta1: unit_interval("Adam beta1", beta1)?,
            beta2: unit_interval("Adam beta2", beta2)?,
            epsilon: positive("Adam epsilon", epsilon)?,
        })
    }

    /// `β1`.
    pub fn beta1(&self) -> f64 {
        self.beta1
    }

    /// `β2`.
    pub fn beta2(&self) -> f64 {
        self.beta2
    }

    /// `ε`.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }
}

impl UpdateRule for Adam {
    type State = AdamState;

    fn name(&self) -> &'static str {
        "adam"
    }

    fn init_state(&self, dim: usize) -> AdamState {
        AdamState {
            step: 0,
            m: vec![0.0; dim],
            v: vec![0.0; dim],
        }
    }

    fn update(&self, lr: f64, params: &mut [f64], grad: &[f64], state: &mut AdamState) {
        state.step += 1;
        let k = state.step as i32;
        let correction1 = 1.0 - self.beta1.powi(k);
        let correction2 = 1.0 - self.beta2.powi(k);
        let moments = state.m.iter_mut().zip(state.v.iter_mut());
        for ((p, g), (m, v)) in params.iter_mut().zip(grad).zip(moments) {
            *m = self.beta1 * *m + (1.0 - self.beta1) * g;
            *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
            let m_hat = *m / correction1;
            let v_hat = *v / correction2;
            *p -= lr * m_hat / (v_hat.sqrt() + self.epsilon);
        }
    }

    #[cfg(feature = "burn")]
    type BurnOptimizer = BurnAdam;

    #[cfg(feature = "burn")]
    fn burn_optimizer(&self) -> BurnAdam {
        // burn stores these as f32; the cast is the documented precision of burn's path.
        let inner = burn::optim::AdamConfig::new()
            .with_beta_1(self.beta1 as f32)
            .with_beta_2(self.beta2 as f32)
            .with_epsilon(self.epsilon as f32)
            .build();
        BurnAdam { rule: *self, inner }
    }
}

/// burn's `Adam` (no weight decay, no AMSGrad) built from an [`Adam`] rule, which it keeps so
/// that the rule can be read back ([`BurnAdam::rule`]). Its per-parameter state is burn's
/// [`AdamState`](burn::optim::AdamState): checkpoints are those of burn's optimizer.
#[cfg(feature = "burn")]
#[derive(Clone)]
pub struct BurnAdam {
    rule: Adam,
    inner: burn::optim::Adam,
}

#[cfg(feature = "burn")]
impl BurnAdam {
    /// The hyper-parameters it was built from.
    pub fn rule(&self) -> &Adam {
        &self.rule
    }
}

#[cfg(feature = "burn")]
impl std::fmt::Debug for BurnAdam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BurnAdam")
            .field("rule", &self.rule)
            .finish()
    }
}

#[cfg(feature = "burn")]
impl burn::optim::Optimizer for BurnAdam {
    type State<const D: usize> = burn::optim::AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        tensor: burn::tensor::Tensor<D>,
        grad: burn::tensor::Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (burn::tensor::Tensor<D>, Option<Self::State<D>>) {
        self.inner.step(lr, tensor, grad, state)
    }

    fn to_device<const D: usize>(
        state: Self::State<D>,
        device: &burn::tensor::Device,
    ) -> Self::State<D> {
        <burn::optim::Adam as burn::optim::Optimizer>::to_device(state, device)
    }
}
