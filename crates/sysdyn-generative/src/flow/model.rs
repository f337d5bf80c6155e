//! A flow model: a base distribution and a flow, as zuko and nflows define it.
//!
//! With `z = f(x)`, the change of variables gives
//! `log q(x) = log p_Z(f(x)) + log|det ∂f/∂x|` ([`FlowModel::log_prob`]); sampling draws
//! `z ~ p_Z` and returns `x = f⁻¹(z)` with `log q(x) = log p_Z(z) − log|det ∂f⁻¹/∂z|`
//! ([`FlowModel::sample`]).
//!
//! For a target known up to its normaliser, `p(x) = p̃(x) / Z`, the reverse KL
//! `KL(q ‖ p) = E_q[log q(x) − log p̃(x)] + log Z` is estimated on samples of the model itself
//! ([`FlowModel::reverse_kl`]; its value is the KL minus the unknown `log Z`). Its importance
//! weights `wᵢ = p̃(xᵢ) / q(xᵢ)` give the effective sample size
//! `ESS = (Σ wᵢ)² / (n Σ wᵢ²)` ([`effective_sample_size`]), 1 when `q ∝ p̃`.
//!
//! ```
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_core::rng::SeededRng;
//! use sysdyn_generative::flow::base::StandardNormal;
//! use sysdyn_generative::flow::chain::{Chain, VectorLayer};
//! use sysdyn_generative::flow::coupling::{AffineCoupling, Parity, ScaleBound};
//! use sysdyn_generative::flow::model::FlowModel;
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F64).init()?;
//! // A small RealNVP on vectors of width 2: two couplings with alternating masks.
//! let couplings = [(Parity::Even, 1), (Parity::Odd, 2)]
//!     .into_iter()
//!     .map(|(parity, seed)| {
//!         AffineCoupling::new(&device, 2, &[16], parity, ScaleBound::Exp, 0, seed)
//!             .map(VectorLayer::Affine)
//!     })
//!     .collect::<Result<Vec<_>, _>>()?;
//! let model = FlowModel::new(StandardNormal::new(2)?, Chain::new(couplings));
//! let sample = model.sample(&device, [5, 2], None, &mut SeededRng::new(0))?;
//! // The density of a sample is what sampling reported for it.
//! let log_q = model.log_prob(sample.value, None)?;
//! let gap = (log_q - sample.log_prob).abs().max().into_scalar::<f64>();
//! assert!(gap < 1e-10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use burn::module::{Module, ModuleDisplay};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

use crate::error::GenerativeError;
use crate::flow::Flow;
use crate::flow::base::BaseDistribution;
use crate::host::host_values;

/// An unnormalised target log-density `log p̃(x)`, one value per row of `x`.
pub type LogDensity<const D: usize> = Box<dyn Fn(&Tensor<D>) -> Tensor<1> + Send>;

/// A flow model: latents `z = flow(x)` follow `base`.
#[derive(Module, Debug)]
pub struct FlowModel<B, F> {
    /// The base distribution `p_Z`.
    pub base: B,
    /// The flow `f`, data → latent.
    pub flow: F,
}

/// Samples of a flow model with their log-density under it.
#[derive(Debug, Clone)]
pub struct FlowSample<const D: usize> {
    /// The samples `x = f⁻¹(z)`.
    pub value: Tensor<D>,
    /// `log q(x)` per row, `[rows]`.
    pub log_prob: Tensor<1>,
}

/// The reverse-KL objective on one batch of the model's own samples.
#[derive(Debug, Clone)]
pub struct ReverseKl<const D: usize> {
    /// `mean(log q(x) − log p̃(x))`, one element: the loss to minimise (the KL minus `log Z`).
    pub loss: Tensor<1>,
    /// The log importance weights `log p̃(xᵢ) − log q(xᵢ)`, `[rows]`.
    pub log_weights: Tensor<1>,
    /// The samples.
    pub samples: Tensor<D>,
}

impl<B: BaseDistribution, F: Module + ModuleDisplay> FlowModel<B, F> {
    /// A model from its base distribution and flow.
    pub fn new(base: B, flow: F) -> Self {
        FlowModel { base, flow }
    }

    /// `log q(x) = log p_Z(f(x)) + log|det ∂f/∂x|` per row.
    pub fn log_prob<const D: usize>(
        &self,
        x: Tensor<D>,
        context: Option<&Tensor<2>>,
    ) -> Result<Tensor<1>, GenerativeError>
    where
        F: Flow<D>,
    {
        let out = self.flow.forward(x, context)?;
        Ok(self.base.log_prob(out.value)? + out.log_det)
    }

    /// Draws `shape[0]` samples of shape `shape` (`[rows, features]` or `[rows, c, h, w]`; the
    /// latent shape the flow's inverse takes): `z ~ p_Z`, `x = f⁻¹(z)` and `log q(x)`.
    pub fn sample<const D: usize>(
        &self,
        device: &SysDevice,
        shape: [usize; D],
        context: Option<&Tensor<2>>,
        rng: &mut SeededRng,
    ) -> Result<FlowSample<D>, GenerativeError>
    where
        F: Flow<D>,
    {
        let rows = shape[0];
        let rest: usize = shape[1..].iter().product();
        if rows == 0 {
            return Err(GenerativeError::EmptyBatch {
                what: "samples of a flow model",
            });
        }
        if D < 2 || rest != self.base.features() {
            return Err(GenerativeError::ShapeMismatch {
                what: "sample shape and the base distribution's width",
                left: shape.to_vec(),
                right: vec![rows, self.base.features()],
            });
        }
        let z = self.base.sample_rows(device, rows, rng);
        let log_base = self.base.log_prob_rows(z.clone());
        let out = self.flow.inverse(z.reshape(shape), context)?;
        Ok(FlowSample {
            value: out.value,
            log_prob: log_base - out.log_det,
        })
    }

    /// The reverse-KL objective `mean(log q(x) − log p̃(x))` on `shape[0]` reparametrised samples
    /// of the model (gradients flow through the samples into the flow and the base), with
    /// the log importance weights `log p̃(x) − log q(x)`. `target` returns one value per row.
    pub fn reverse_kl<const D: usize>(
        &self,
        device: &SysDevice,
        shape: [usize; D],
        context: Option<&Tensor<2>>,
        target: &dyn Fn(&Tensor<D>) -> Tensor<1>,
        rng: &mut SeededRng,
    ) -> Result<ReverseKl<D>, GenerativeError>
    where
        F: Flow<D>,
    {
        let sample = self.sample(device, shape, context, rng)?;
        let log_target = target(&sample.value);
        if log_target.dims() != [shape[0]] {
            return Err(GenerativeError::ShapeMismatch {
                what: "the target log-density (one value per sample)",
                left: log_target.dims().to_vec(),
                right: vec![shape[0]],
            });
        }
        let gap = sample.log_prob - log_target;
        Ok(ReverseKl {
            loss: gap.clone().mean(),
            log_weights: gap.neg(),
            samples: sample.value,
        })
    }
}

impl<const D: usize> ReverseKl<D> {
    /// The effective sample size of the batch's importance weights, normalised by its size.
    pub fn effective_sample_size(&self) -> Result<f64, GenerativeError> {
        effective_sample_size(&host_values(
            self.log_weights.clone(),
            "log importance weights",
        )?)
    }
}

/// `(Σ wᵢ)² / (n Σ wᵢ²)` for weights given by their logarithms, in `(0, 1]`: 1 when every
/// weight is equal, `1/n` when one weight carries everything. Computed with the largest log
/// weight subtracted, so that huge or tiny weights neither overflow nor underflow.
pub fn effective_sample_size(log_weights: &[f64]) -> Result<f64, GenerativeError> {
    if log_weights.is_empty() {
        return Err(GenerativeError::EmptyBatch {
            what: "importance weights",
        });
    }
    if let Some(bad) = log_weights
        .iter()
        .find(|w| w.is_nan() || **w == f64::INFINITY)
    {
        return Err(GenerativeError::InvalidParameter {
            name: "log importance weight",
            value: *bad,
            requirement: "must not be NaN or +∞ (a target or model density that is not finite)",
        });
    }
    let max = log_weights
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return Err(GenerativeError::InvalidParameter {
            name: "log importance weight",
            value: max,
            requirement: "at least one weight must be positive",
        });
    }
    let (sum, sum_sq) = log_weights.iter().fold((0.0, 0.0), |(s, q), &lw| {
        let w = (lw - max).exp();
        (s + w, q + w * w)
    });
    Ok(sum * sum / (log_weights.len() as f64 * sum_sq))
}
