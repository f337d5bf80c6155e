//! Invertible residual networks (i-ResNet; Behrmann et al. 2019) and residual flows (Chen et
//! al. 2019): `z = x + g(x)` with `g` a contraction, so the map is invertible.
//!
//! # The contraction
//!
//! `g` is an MLP `W_L ∘ φ ∘ … ∘ φ ∘ W_1` (affine layers, 1-Lipschitz activation `φ`) whose every
//! weight is spectrally normalised to norm `c`: `W ↦ c·W/σ̂(W)` with `σ̂` the power-iteration
//! estimate of the largest singular value ([`crate::gan::spectral`]'s [`crate::gan::spectral::SpectralNorm`], the same
//! state the GAN critics use; call [`ResidualFlow::power_iteration`] after every update). Then
//! `Lip(g) ≤ c^L ≤ c < 1` (once `σ̂` has converged: it approaches `σ` from below, which is why
//! the layer runs many iterations at construction). `c ≥ 1` is refused.
//!
//! # The inverse
//!
//! `x` is the fixed point of `x ↦ z − g(x)`, a contraction with constant `c`: Banach's iteration
//! `x_0 = z`, `x_{k+1} = z − g(x_k)` converges with `‖x_n − x‖ ≤ cⁿ/(1 − c)·‖x_1 − x_0‖`. It stops
//! when the max-abs change between iterates is below the tolerance, and returns
//! [`GenerativeError::NotConverged`] when the budget runs out first (never a half-converged
//! value).
//!
//! # The log-determinant
//!
//! `log|det(I + J_g)| = tr log(I + J_g) = Σ_{k≥1} (−1)^{k+1} tr(J_gᵏ)/k`, convergent because
//! `‖J_g‖ ≤ c < 1` (and `det(I + J_g) > 0`). [`LogDetEstimator`] picks how it is computed:
//!
//! - [`LogDetEstimator::ExactTrace`]: `n` terms, `J_g` exactly by forward-mode jets (one tangent
//!   per dimension: low dimension only), its powers by batched matmul; the truncation error is
//!   at most `Σ_{k>n} d·cᵏ/k`.
//! - [`LogDetEstimator::Hutchinson`]: `n` terms of `vᵀ J_gᵏ v` with one probe `v` per row
//!   (`E[vvᵀ] = I`), the products `J_gᵏ v = J_g(J_g^{k−1} v)` by jets (one jet pass per term).
//! - [`LogDetEstimator::RussianRoulette`]: the unbiased estimator of residual flows. The number
//!   of terms is random, `N = m + G` with `G` geometric, `P(G ≥ j) = qʲ`, so
//!   `P(N ≥ k) = q^{max(0, k − m)}`; term `k` is divided by `P(N ≥ k)`, which makes
//!   `E[Σ_{k ≤ N} (−1)^{k+1} vᵀJᵏv/(k P(N ≥ k))] = Σ_k (−1)^{k+1} tr(Jᵏ)/k` exactly. One `N`
//!   is drawn per call and shared by the batch's rows (as in Chen et al.), each row with its
//!   own probe.
//!
//! Random draws (probes, `N`) come from the layer's seed in [`Flow::forward`] — the same draws
//! at every call — or from a caller's generator in [`ResidualFlow::log_det_with`].
//!
//! ```
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_generative::GenerativeError;
//! use sysdyn_generative::flow::Flow;
//! use sysdyn_generative::flow::residual::ResidualFlowConfig;
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F64).init()?;
//! let block = ResidualFlowConfig::new(2, vec![16], 0.7).init(&device, 3)?;
//! let x = device.tensor(vec![0.3, -0.4], [1, 2])?;
//! let z = block.forward(x.clone(), None)?;
//! let back = block.inverse(z.value, None)?; // fixed point to 1e-10
//! assert!((back.value - x).abs().max().into_scalar::<f64>() < 1e-9);
//! // c ≥ 1 would not be a contraction.
//! let refused = ResidualFlowConfig::new(2, vec![16], 1.0).init(&device, 3);
//! assert!(matches!(refused, Err(GenerativeError::InvalidParameter { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Activation, Jet};
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::Probe;

use super::rows::{check_context, check_rows, uniform_weights};
use super::{Flow, Transformed};
use crate::error::GenerativeError;
use crate::gan::spectral::SpectralLinear;
use crate::host::{host_tensor, host_values};

/// How `log|det(I + J_g)|` is computed from its power series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LogDetEstimator {
    /// The first `terms` terms with exact traces (the Jacobian by jets: low dimension).
    ExactTrace {
        /// Number of terms `n` (≥ 1).
        terms: usize,
    },
    /// The first `terms` terms with Hutchinson's trace estimate, one probe per row.
    Hutchinson {
        /// Number of terms `n` (≥ 1).
        terms: usize,
        /// The probe distribution.
        probe: Probe,
    },
    /// The Russian-roulette estimator: `exact_terms` terms always, then each further term with
    /// probability `continue_probability`, reweighted by `1/P(N ≥ k)`; unbiased.
    RussianRoulette {
        /// Terms always computed, `m`.
        exact_terms: usize,
        /// The probability `q ∈ (0, 1)` of computing one more term.
        continue_probability: f64,
        /// The probe distribution.
        probe: Probe,
    },
}

impl LogDetEstimator {
    fn check(&self) -> Result<(), GenerativeError> {
        let terms = match *self {
            LogDetEstimator::ExactTrace { terms } | LogDetEstimator::Hutchinson { terms, .. } => {
                terms
            }
            LogDetEstimator::RussianRoulette {
                continue_probability: q,
                ..
            } => {
                if !(q > 0.0 && q < 1.0) {
                    return Err(GenerativeError::InvalidParameter {
                        name: "LogDetEstimator::RussianRoulette::continue_probability",
                        value: q,
                        requirement: "must be in (0, 1)",
                    });
                }
                1
            }
        };
        if terms == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "LogDetEstimator::terms",
                value: 0.0,
                requirement: "must be ≥ 1",
            });
        }
        Ok(())
    }
}

/// The fixed-point inverse's stopping rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedPoint {
    /// Stop when `max |x_{k+1} − x_k| ≤ tolerance` (> 0).
    pub tolerance: f64,
    /// Give up (with an error) after this many iterations (≥ 1).
    pub max_iterations: usize,
}

/// Size, contraction and estimators of a [`ResidualFlow`].
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualFlowConfig {
    /// The dimension `d`.
    pub features: usize,
    /// Hidden widths of `g` (at least one).
    pub hidden: Vec<usize>,
    /// The spectral norm `c` of every layer of `g`, in `(0, 1)`.
    pub lipschitz: f64,
    /// The activation of `g` (1-Lipschitz: not SiLU).
    pub activation: Activation,
    /// Power iterations per weight at construction.
    pub power_iterations: usize,
    /// The inverse's stopping rule.
    pub fixed_point: FixedPoint,
    /// The log-determinant estimator of [`Flow::forward`] and [`Flow::inverse`].
    pub log_det: LogDetEstimator,
    /// The seed of the estimator's draws in [`Flow::forward`] and [`Flow::inverse`].
    pub estimator_seed: u64,
}

impl ResidualFlowConfig {
    /// A residual block on `features` dimensions with `g` of the given hidden widths and
    /// per-layer norm `lipschitz`; tanh units, 100 power iterations, the fixed point to `1e-10`
    /// in at most 500 iterations, and 20 exact-trace terms. The tolerance suits f64; f32
    /// iterates stall at their rounding (≈1e-7 relative), so give f32 layers `1e-6` or so
    /// ([`ResidualFlowConfig::with_fixed_point`]) or the inverse reports
    /// [`GenerativeError::NotConverged`].
    pub fn new(features: usize, hidden: Vec<usize>, lipschitz: f64) -> Self {
        ResidualFlowConfig {
            features,
            hidden,
            lipschitz,
            activation: Activation::Tanh,
            power_iterations: 100,
            fixed_point: FixedPoint {
                tolerance: 1e-10,
                max_iterations: 500,
            },
            log_det: LogDetEstimator::ExactTrace { terms: 20 },
            estimator_seed: 0,
        }
    }

    /// Sets the log-determinant estimator.
    pub fn with_log_det(mut self, log_det: LogDetEstimator) -> Self {
        self.log_det = log_det;
        self
    }

    /// Sets the fixed-point stopping rule.
    pub fn with_fixed_point(mut self, fixed_point: FixedPoint) -> Self {
        self.fixed_point = fixed_point;
        self
    }

    /// Sets the activation.
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Sets the estimator's seed.
    pub fn with_estimator_seed(mut self, seed: u64) -> Self {
        self.estimator_seed = seed;
        self
    }

    fn check(&self) -> Result<(), GenerativeError> {
        let c = self.lipschitz;
        if !(c > 0.0 && c < 1.0) {
            return Err(GenerativeError::InvalidParameter {
                name: "ResidualFlowConfig::lipschitz",
                value: c,
                requirement: "must be in (0, 1): x + g(x) is invertible only for a contraction g",
            });
        }
        if self.features == 0 || self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(GenerativeError::InvalidParameter {
                name: "ResidualFlowConfig::hidden",
                value: self.hidden.len() as f64,
                requirement: "features ≥ 1 and at least one hidden layer, every width ≥ 1",
            });
        }
        if self.activation == Activation::Silu {
            return Err(GenerativeError::Unsupported {
                what: "SiLU in a residual flow (its slope reaches 1.1, so Lip(g) could exceed c): \
                       use tanh, sin, softplus, sigmoid or ReLU",
            });
        }
        if self.power_iterations == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "ResidualFlowConfig::power_iterations",
                value: 0.0,
                requirement: "must be ≥ 1",
            });
        }
        crate::error::check_positive("FixedPoint::tolerance", self.fixed_point.tolerance)?;
        if self.fixed_point.max_iterations == 0 {
            return Err(GenerativeError::InvalidParameter {
                name: "FixedPoint::max_iterations",
                value: 0.0,
                requirement: "must be ≥ 1",
            });
        }
        self.log_det.check()
    }

    /// The block, its weights drawn from `seed` (uniform in `±1/√fan_in` before
    /// normalisation).
    pub fn init(&self, device: &SysDevice, seed: u64) -> Result<ResidualFlow, GenerativeError> {
        self.check()?;
        let mut rng = SeededRng::new(seed);
        let mut widths = vec![self.features];
        widths.extend(&self.hidden);
        widths.push(self.features);
        let mut layers = Vec::with_capacity(widths.len() - 1);
        for w in widths.windows(2) {
            let (fan_in, fan_out) = (w[0], w[1]);
            let weight = host_like(
                device,
                uniform_weights(&mut rng, fan_in, fan_in * fan_out),
                [fan_in, fan_out],
            )?;
            let bias = host_like(
                device,
                uniform_weights(&mut rng, fan_in, fan_out),
                [fan_out],
            )?;
            let linear = Linear {
                weight: burn::module::Param::from_tensor(weight),
                bias: Some(burn::module::Param::from_tensor(bias)),
            };
            let mut layer = SpectralLinear::new(linear, &mut rng);
            for _ in 0..self.power_iterations {
                layer.power_iteration();
            }
            layers.push(layer);
        }
        Ok(ResidualFlow {
            layers,
            features: self.features,
            lipschitz: self.lipschitz,
            activation: self.activation,
            fixed_point: self.fixed_point,
            log_det: self.log_det,
            estimator_seed: self.estimator_seed,
        })
    }
}

fn host_like<const D: usize>(
    device: &SysDevice,
    values: Vec<f64>,
    shape: [usize; D],
) -> Result<Tensor<D>, GenerativeError> {
    device
        .tensor(values, shape)
        .map_err(|e| GenerativeError::ShapeMismatch {
            what: "a residual layer's values",
            left: e.got,
            right: e.expected,
        })
}

/// A residual flow block `z = x + g(x)` with a spectrally normalised contraction `g`.
#[derive(Module, Debug)]
pub struct ResidualFlow {
    /// The layers of `g`, each normalised to spectral norm `c`.
    pub layers: Vec<SpectralLinear>,
    #[module(skip)]
    features: usize,
    #[module(skip)]
    lipschitz: f64,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    fixed_point: FixedPoint,
    #[module(skip)]
    log_det: LogDetEstimator,
    #[module(skip)]
    estimator_seed: u64,
}

impl ResidualFlow {
    /// The per-layer spectral norm `c`.
    pub fn lipschitz(&self) -> f64 {
        self.lipschitz
    }

    /// One power iteration per layer (after each optimizer update of the weights).
    pub fn power_iteration(&mut self) {
        for layer in &mut self.layers {
            layer.power_iteration();
        }
    }

    /// The weight actually applied, `c·W/σ̂(W)`, of every layer.
    pub fn weights(&self) -> Vec<Tensor<2>> {
        self.layers
            .iter()
            .map(|l| l.normalised_weight().mul_scalar(self.lipschitz))
            .collect()
    }

    /// The residual `g(x)`, `[batch, d]`.
    pub fn residual(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers
            .iter()
            .zip(self.weights())
            .enumerate()
            .fold(x, |h, (i, (layer, weight))| {
                let bias = layer.linear.bias.as_ref().map(|b| b.val());
                let h = burn::tensor::module::linear(h, weight, bias);
                if i < last {
                    self.activation.forward(h)
                } else {
                    h
                }
            })
    }

    /// `g` on a jet (value and forward-mode tangents).
    fn residual_jet(&self, jet: Jet) -> Result<Jet, GenerativeError> {
        let last = self.layers.len() - 1;
        let mut jet = jet;
        for (i, (layer, weight)) in self.layers.iter().zip(self.weights()).enumerate() {
            jet = jet.affine(weight, layer.linear.bias.as_ref().map(|b| b.val()))?;
            if i < last {
                jet = jet.activate(self.activation);
            }
        }
        Ok(jet)
    }

    /// The Jacobian `J_g(x)`, `[batch, d, d]` (entry `[r, i, j] = ∂g_i/∂x_j`), by jets.
    pub fn jacobian(&self, x: Tensor<2>) -> Result<Tensor<3>, GenerativeError> {
        check_rows("residual flow input", &x, self.features)?;
        Ok(self.residual_jet(Jet::coordinates(x, ..)?)?.jacobian()?)
    }

    /// `J_g(x) v` per row, `[batch, d]`, by one jet pass.
    pub fn jvp(&self, x: Tensor<2>, v: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        let [batch, d] = x.dims();
        let jet = Jet::directions(x, v.reshape([1, batch, d]), ..)?;
        Ok(self.residual_jet(jet)?.tangents()?.reshape([batch, d]))
    }

    /// `log|det(I + J_g(x))|` per row by `estimator`, its draws from `rng`.
    pub fn log_det_with(
        &self,
        x: Tensor<2>,
        estimator: LogDetEstimator,
        rng: &mut SeededRng,
    ) -> Result<Tensor<1>, GenerativeError> {
        estimator.check()?;
        let batch = check_rows("residual flow input", &x, self.features)?;
        let d = self.features;
        let signed = |k: usize| {
            if k % 2 == 1 {
                1.0 / k as f64
            } else {
                -1.0 / k as f64
            }
        };
        match estimator {
            LogDetEstimator::ExactTrace { terms } => {
                let jacobian = self.jacobian(x.clone())?;
                let eye: Vec<f64> = (0..d * d)
                    .map(|i| if i / d == i % d { 1.0 } else { 0.0 })
                    .collect();
                let eye = host_tensor(eye, [1, d, d], &x);
                let mut power = jacobian.clone();
                let mut sum = x.zeros_like().sum_dim(1).reshape([batch]);
                for k in 1..=terms {
                    if k > 1 {
                        power = power.matmul(jacobian.clone());
                    }
                    let trace = (power.clone() * eye.clone())
                        .sum_dims(&[1, 2])
                        .reshape([batch]);
                    sum = sum + trace.mul_scalar(signed(k));
                }
                Ok(sum)
            }
            LogDetEstimator::Hutchinson { terms, probe } => {
                self.probed_series(x, probe, rng, |k| (k <= terms).then_some(1.0))
            }
            LogDetEstimator::RussianRoulette {
                exact_terms,
                continue_probability: q,
                probe,
            } => {
                let mut extra = 0usize;
                while rng.uniform() < q {
                    extra += 1;
                }
                let n = exact_terms + extra;
                // 1/P(N ≥ k) = q^{−max(0, k − m)}.
                self.probed_series(x, probe, rng, |k| {
                    (k <= n).then(|| q.powi(-(k.saturating_sub(exact_terms) as i32)))
                })
            }
        }
    }

    /// `Σ_k (−1)^{k+1} weight(k)·vᵀJᵏv/k` over the `k` with a weight (a prefix of 1, 2, …).
    fn probed_series(
        &self,
        x: Tensor<2>,
        probe: Probe,
        rng: &mut SeededRng,
        weight: impl Fn(usize) -> Option<f64>,
    ) -> Result<Tensor<1>, GenerativeError> {
        let [batch, d] = x.dims();
        let v = host_tensor(probe.draw(rng, batch, d), [batch, d], &x);
        let mut w = v.clone();
        let mut sum = x.zeros_like().sum_dim(1).reshape([batch]);
        let mut k = 1;
        while let Some(factor) = weight(k) {
            w = self.jvp(x.clone(), w)?;
            let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
            let term = (v.clone() * w.clone()).sum_dim(1).reshape([batch]);
            sum = sum + term.mul_scalar(sign * factor / k as f64);
            k += 1;
        }
        Ok(sum)
    }

    /// The fixed-point iterates `x_0 = z, x_1, …, x_n` of `x_{k+1} = z − g(x_k)` (for studying
    /// the convergence; [`Flow::inverse`] stops at its tolerance).
    pub fn inverse_iterates(
        &self,
        z: Tensor<2>,
        n: usize,
    ) -> Result<Vec<Tensor<2>>, GenerativeError> {
        check_rows("residual flow input", &z, self.features)?;
        let mut iterates = vec![z.clone()];
        for _ in 0..n {
            let last = iterates[iterates.len() - 1].clone();
            iterates.push(z.clone() - self.residual(last));
        }
        Ok(iterates)
    }

    /// `x` with `x + g(x) = z`, by the fixed-point iteration to the layer's tolerance.
    pub fn solve_inverse(&self, z: Tensor<2>) -> Result<Tensor<2>, GenerativeError> {
        check_rows("residual flow input", &z, self.features)?;
        let FixedPoint {
            tolerance,
            max_iterations,
        } = self.fixed_point;
        let mut x = z.clone();
        let mut change = f64::INFINITY;
        for _ in 0..max_iterations {
            let next = z.clone() - self.residual(x.clone());
            change = host_values((next.clone() - x).abs().max(), "the fixed-point change")?[0];
            x = next;
            if change <= tolerance {
                return Ok(x);
            }
        }
        Err(GenerativeError::NotConverged {
            what: "the residual flow's fixed-point inverse",
            iterations: max_iterations,
            change,
            tolerance,
        })
    }
}

impl Flow<2> for ResidualFlow {
    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let batch = check_rows("residual flow input", &x, self.features)?;
        check_context("residual flow context", context, 0, batch)?;
        let mut rng = SeededRng::new(self.estimator_seed);
        let log_det = self.log_det_with(x.clone(), self.log_det, &mut rng)?;
        Ok(Transformed {
            value: x.clone() + self.residual(x),
            log_det,
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let batch = check_rows("residual flow input", &z, self.features)?;
        check_context("residual flow context", context, 0, batch)?;
        let x = self.solve_inverse(z)?;
        let mut rng = SeededRng::new(self.estimator_seed);
        let log_det = self.log_det_with(x.clone(), self.log_det, &mut rng)?.neg();
        Ok(Transformed { value: x, log_det })
    }
}
