//! Continuous normalizing flows (Chen et al. 2018; FFJORD, Grathwohl et al. 2019).
//!
//! A flow moves data `x = z(0)` to a latent `z(T)` along `dz/dt = f(t, z)`; the instantaneous
//! change of variables `d log p(z(t))/dt = -tr(∂f/∂z)` gives
//!
//! ```text
//! log p(x) = log N(z(T); 0, I) + ∫_0^T tr(∂f/∂z)(t, z(t)) dt.
//! ```
//!
//! The state is `[z, l]` with `dl/dt = -tr(∂f/∂z)` and `l(0) = 0`, so `log p(x) = log N(z(T)) -
//! l(T)`. Sampling integrates the same system from `T` down to 0 starting at a base draw `z`
//! with `l(T) = 0`, which gives `log q(x) = log N(z) + l(0)`.
//!
//! The trace is exact (forward-mode jets carrying one tangent per dimension: cheap in low
//! dimension) or Hutchinson's estimate `εᵀ (∂f/∂z) ε` with a Jacobian-vector product and one
//! Gaussian or Rademacher probe `ε` per sample, drawn once per solve. Both are ordinary tensor
//! ops, so every [`crate::Sensitivity`] trains a flow.

use burn::module::{Module, ModuleDisplay};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Jet, JetForward};
use sysdyn_core::rng::SeededRng;
use sysdyn_solvers::SolveConfig;

use crate::error::NodeError;
use crate::field::{FieldVjp, NeuralField, Tape, Taped, graph_taped, graph_vjp};
use crate::mlp_field::MlpField;
use crate::node::{NeuralOde, NodeGradients, NodeMethod, Trajectory};
use crate::params::ParamLayout;
use crate::sensitivity::Sensitivity;

/// A field that also gives its divergence and Jacobian-vector products with respect to the
/// state (what a continuous normalizing flow needs).
pub trait DivergenceField: NeuralField + ModuleDisplay {
    /// The state dimension `d`.
    fn dim(&self) -> usize;

    /// `f(t, z)` and the exact divergence `tr(∂f/∂z)`, `[batch, 1]`.
    fn field_and_divergence(
        &self,
        t: f64,
        z: Tensor<2>,
    ) -> Result<(Tensor<2>, Tensor<2>), NodeError>;

    /// `f(t, z)` and the Jacobian-vector product `(∂f/∂z) v` for each row, `[batch, d]`.
    fn field_and_jvp(
        &self,
        t: f64,
        z: Tensor<2>,
        v: Tensor<2>,
    ) -> Result<(Tensor<2>, Tensor<2>), NodeError>;

    /// The flow dynamics `[f, -tr(∂f/∂z)]` of states `[z, l]` (`[batch, d + 1]`) by a fused
    /// kernel with its own backward, when the field has one for this device (the prepared MLP
    /// field on CPU backends): the value, and the tape for [`DivergenceField::flow_vjp`] when
    /// `keep` is set. `None` (the default) makes the flow use jets and burn's autodiff.
    fn flow_dynamics(
        &self,
        t: f64,
        state: &Tensor<2>,
        keep: bool,
    ) -> Option<(Tensor<2>, Option<Tape>)> {
        let _ = (t, state, keep);
        None
    }

    /// The VJP `(cᵀ ∂F/∂[z, l], cᵀ ∂F/∂θ)` of the fused flow dynamics `F` from a tape made by
    /// [`DivergenceField::flow_dynamics`].
    fn flow_vjp(&self, tape: Tape, cotangent: Tensor<2>) -> FieldVjp {
        let _ = (tape, cotangent);
        unreachable!("flow_vjp is only called with tapes from flow_dynamics")
    }
}

impl DivergenceField for MlpField {
    fn dim(&self) -> usize {
        MlpField::dim(self)
    }

    fn flow_dynamics(
        &self,
        t: f64,
        state: &Tensor<2>,
        keep: bool,
    ) -> Option<(Tensor<2>, Option<Tape>)> {
        let (value, tape) = self.host()?.flow_forward(t, state, keep)?;
        Some((value, tape.map(Tape::Host)))
    }

    fn flow_vjp(&self, tape: Tape, cotangent: Tensor<2>) -> FieldVjp {
        let (Tape::Host(tape), Some(host)) = (tape, self.host()) else {
            unreachable!("flow tapes come from the host weights of a prepared field")
        };
        let (state, params) = host.flow_vjp(&tape, cotangent);
        FieldVjp { state, params }
    }

    fn field_and_divergence(
        &self,
        t: f64,
        z: Tensor<2>,
    ) -> Result<(Tensor<2>, Tensor<2>), NodeError> {
        let d = MlpField::dim(self);
        let input = self.network_input(t, z);
        let out = self.mlp.forward_jet(Jet::coordinates(input, ..d)?)?;
        let trace = out.trace()?;
        Ok((out.into_value(), trace))
    }

    fn field_and_jvp(
        &self,
        t: f64,
        z: Tensor<2>,
        v: Tensor<2>,
    ) -> Result<(Tensor<2>, Tensor<2>), NodeError> {
        let d = MlpField::dim(self);
        let [batch, _] = z.dims();
        let input = self.network_input(t, z);
        let (value, tangents) = self.mlp.jvp(input, v.reshape([1, batch, d]), ..d)?;
        Ok((value, tangents.reshape([batch, d])))
    }
}

/// How the flow's trace `tr(∂f/∂z)` is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceEstimator {
    /// Exactly, with one forward-mode tangent per dimension.
    Exact,
    /// Hutchinson's unbiased estimate with one probe per sample, fixed over a solve.
    Hutchinson(Probe),
}

/// Distribution of Hutchinson probes (both have identity covariance, so `E[εᵀAε] = tr A`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Standard normal entries.
    Gaussian,
    /// Entries ±1 with probability ½ (lower variance).
    Rademacher,
}

impl Probe {
    /// `rows × dim` probe entries drawn from `rng`.
    pub fn draw(self, rng: &mut SeededRng, rows: usize, dim: usize) -> Vec<f64> {
        let n = rows * dim;
        match self {
            Probe::Gaussian => rng.normals(n),
            Probe::Rademacher => (0..n)
                .map(|_| if rng.below(2) == 0 { -1.0 } else { 1.0 })
                .collect(),
        }
    }
}

/// The augmented dynamics `d[z, l]/dt = [f(t, z), -tr(∂f/∂z)]` of a flow, as a field.
#[derive(Module, Debug)]
pub struct CnfDynamics<F: Module + ModuleDisplay> {
    /// The flow's vector field.
    pub field: F,
    #[module(skip)]
    estimator: TraceEstimator,
    #[module(skip)]
    probe: Option<Tensor<2>>,
}

impl<F: DivergenceField> CnfDynamics<F> {
    /// The dynamics of `field` with the given trace estimator.
    pub fn new(field: F, estimator: TraceEstimator) -> Self {
        CnfDynamics {
            field,
            estimator,
            probe: None,
        }
    }

    /// `f(t, z)` and the trace (exact or estimated with the current probe), `[batch, 1]`.
    pub fn field_and_trace(
        &self,
        t: f64,
        z: Tensor<2>,
    ) -> Result<(Tensor<2>, Tensor<2>), NodeError> {
        match self.estimator {
            TraceEstimator::Exact => self.field.field_and_divergence(t, z),
            TraceEstimator::Hutchinson(_) => {
                let probe = self.probe.clone().ok_or_else(|| {
                    NodeError::Option(
                        "Hutchinson's estimator needs a probe: draw one with \
                         `CnfDynamics::set_probe` (Cnf does it for every solve)"
                            .into(),
                    )
                })?;
                let (value, jv) = self.field.field_and_jvp(t, z, probe.clone())?;
                Ok((value, (jv * probe).sum_dim(1)))
            }
        }
    }

    /// Sets the Hutchinson probe (`[batch, d]`) used until the next call.
    pub fn set_probe(&mut self, probe: Tensor<2>) {
        self.probe = Some(probe);
    }

    /// The trace estimator.
    pub fn estimator(&self) -> TraceEstimator {
        self.estimator
    }
}

impl<F: DivergenceField> NeuralField for CnfDynamics<F> {
    fn check_state(&self, x: &Tensor<2>) -> Result<(), sysdyn_core::ShapeMismatch> {
        let [batch, width] = x.dims();
        let d = self.field.dim();
        if width == d + 1 {
            Ok(())
        } else {
            Err(sysdyn_core::ShapeMismatch {
                context: "flow state [z, log-density] (the field's dimension plus one)".into(),
                expected: vec![batch, d + 1],
                got: vec![batch, width],
            })
        }
    }

    fn prepare(&self) -> Self {
        CnfDynamics {
            field: self.field.prepare(),
            estimator: self.estimator,
            probe: self.probe.clone(),
        }
    }

    fn taped(&self, t: f64, x: Tensor<2>) -> Taped {
        if self.estimator == TraceEstimator::Exact
            && let Some((value, Some(tape))) = self.field.flow_dynamics(t, &x.clone().inner(), true)
        {
            return Taped { value, tape };
        }
        graph_taped(self, t, x)
    }

    fn vjp(&self, tape: Tape, cotangent: Tensor<2>, layout: &ParamLayout) -> FieldVjp {
        match tape {
            Tape::Graph(_) => graph_vjp(self, tape, cotangent, layout),
            fused => self.field.flow_vjp(fused, cotangent),
        }
    }

    fn field(&self, t: f64, x: Tensor<2>) -> Tensor<2> {
        // The fused kernel records no graph: only for a prepared field without autodiff.
        if self.estimator == TraceEstimator::Exact
            && !crate::field::is_trainable(&self.field)
            && let Some((value, _)) = self.field.flow_dynamics(t, &x, false)
        {
            return value;
        }
        let d = self.field.dim();
        let [batch, _] = x.dims();
        let z = x.slice([0..batch, 0..d]);
        let (value, trace) = self
            .field_and_trace(t, z)
            .unwrap_or_else(|e| panic!("CnfDynamics: {e} (widths are checked by Cnf)"));
        Tensor::cat(vec![value, trace.neg()], 1)
    }
}

/// A continuous normalizing flow from data (time 0) to a standard normal latent (time `T`).
#[derive(Debug, Clone)]
pub struct Cnf<F: Module + ModuleDisplay, M> {
    node: NeuralOde<CnfDynamics<F>, M>,
    flow_time: f64,
}

/// One pass of a flow: the trajectory (for gradients), the end points and their
/// log-densities.
#[derive(Debug)]
pub struct FlowPass<'a, F: Module + ModuleDisplay, M> {
    trajectory: Trajectory<'a, CnfDynamics<F>, M>,
    /// End points of the pass: latents `z(T)` for a density pass, samples `x` for sampling.
    pub points: Tensor<2>,
    /// `log p(x)` per row, `[batch, 1]` (of the data for a density pass, of the samples for
    /// sampling).
    pub log_density: Tensor<2>,
}

impl<F: DivergenceField, M: NodeMethod> FlowPass<'_, F, M> {
    /// Gradients of a loss built from this pass (see [`Trajectory::backward`]).
    pub fn backward<const D: usize>(self, loss: &Tensor<D>) -> Result<NodeGradients, NodeError> {
        self.trajectory.backward(loss)
    }

    /// Forward function evaluations of the pass.
    pub fn nfe(&self) -> usize {
        self.trajectory.stats().nfe
    }
}

/// `log N(z; 0, I)` per row, `[batch, 1]`.
pub fn standard_normal_log_density(z: Tensor<2>) -> Tensor<2> {
    let [_, d] = z.dims();
    z.square()
        .sum_dim(1)
        .mul_scalar(-0.5)
        .sub_scalar(0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln())
}

impl<F: DivergenceField, M: NodeMethod> Cnf<F, M> {
    /// A flow of `field` over `[0, 1]` integrated by `method` with `config`, gradients by
    /// backprop through the solver.
    pub fn new(
        field: F,
        estimator: TraceEstimator,
        method: M,
        config: SolveConfig<Tensor<2>>,
    ) -> Self {
        Cnf {
            node: NeuralOde::new(CnfDynamics::new(field, estimator), method, config),
            flow_time: 1.0,
        }
    }

    /// Sets the gradient method.
    pub fn with_sensitivity(mut self, sensitivity: Sensitivity) -> Self {
        self.node = self.node.with_sensitivity(sensitivity);
        self
    }

    /// Sets the flow time `T` (> 0).
    pub fn with_flow_time(mut self, flow_time: f64) -> Result<Self, NodeError> {
        if !(flow_time.is_finite() && flow_time > 0.0) {
            return Err(NodeError::Option(format!(
                "the flow time must be positive and finite, got {flow_time}"
            )));
        }
        self.flow_time = flow_time;
        Ok(self)
    }

    /// The vector field.
    pub fn field(&self) -> &F {
        &self.node.field.field
    }

    /// Replaces the vector field (after an optimizer step).
    pub fn set_field(&mut self, field: F) {
        self.node.field.field = field;
    }

    /// The underlying neural ODE on `[z, l]`.
    pub fn node(&self) -> &NeuralOde<CnfDynamics<F>, M> {
        &self.node
    }

    fn prepare(&mut self, points: &Tensor<2>, rng: &mut SeededRng) -> Result<(), NodeError> {
        let [batch, width] = points.dims();
        let d = self.node.field.field.dim();
        if width != d {
            return Err(sysdyn_core::ShapeMismatch {
                context: "flow input".into(),
                expected: vec![batch, d],
                got: points.dims().to_vec(),
            }
            .into());
        }
        if let TraceEstimator::Hutchinson(probe) = self.node.field.estimator() {
            let values = probe.draw(rng, batch, d);
            let data =
                burn::tensor::TensorData::new(values, [batch, d]).convert_dtype(points.dtype());
            let device = points.device().inner();
            self.node
                .field
                .set_probe(Tensor::from_data(data, (&device, points.dtype())));
        }
        Ok(())
    }

    fn augment(points: Tensor<2>) -> Tensor<2> {
        let [batch, _] = points.dims();
        let zeros = Tensor::zeros([batch, 1], (&points.device(), points.dtype()));
        Tensor::cat(vec![points, zeros], 1)
    }

    fn split(state: &Tensor<2>, d: usize) -> (Tensor<2>, Tensor<2>) {
        let [batch, _] = state.dims();
        (
            state.clone().slice([0..batch, 0..d]),
            state.clone().slice([0..batch, d..d + 1]),
        )
    }

    /// `log p(x)` of data points `x` (`[batch, d]`): integrates `[x, 0]` from 0 to `T`. `rng`
    /// draws the Hutchinson probes (unused with the exact trace).
    pub fn log_density(
        &mut self,
        x: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<FlowPass<'_, F, M>, NodeError> {
        self.prepare(&x, rng)?;
        let d = x.dims()[1];
        let trajectory = self.node.solve(Self::augment(x), &[0.0, self.flow_time])?;
        let (z, l) = Self::split(trajectory.last(), d);
        let log_density = standard_normal_log_density(z.clone()) - l;
        Ok(FlowPass {
            trajectory,
            points: z,
            log_density,
        })
    }

    /// Samples from base draws `z` (`[batch, d]`, standard normal): integrates `[z, 0]` from `T`
    /// back to 0; `log_density` is the model's `log q(x)` of each sample.
    pub fn sample(
        &mut self,
        z: Tensor<2>,
        rng: &mut SeededRng,
    ) -> Result<FlowPass<'_, F, M>, NodeError> {
        self.prepare(&z, rng)?;
        let d = z.dims()[1];
        let base = standard_normal_log_density(z.clone());
        let trajectory = self.node.solve(Self::augment(z), &[self.flow_time, 0.0])?;
        let (x, l) = Self::split(trajectory.last(), d);
        Ok(FlowPass {
            trajectory,
            points: x,
            log_density: base + l,
        })
    }

    /// Draws `n` standard normal base points on `device` from `rng`.
    pub fn base_draws(device: &SysDevice, rng: &mut SeededRng, n: usize, d: usize) -> Tensor<2> {
        device.randn(rng, [n, d])
    }
}

/// Maximum likelihood: the mean negative log-likelihood `-mean log p(x)` of a density pass.
pub fn negative_log_likelihood<F: DivergenceField, M: NodeMethod>(
    pass: &FlowPass<'_, F, M>,
) -> Tensor<1> {
    pass.log_density.clone().mean().neg()
}

/// Reverse KL to an unnormalised target `p̃`: `mean(log q(x) - log p̃(x))` over the samples of a
/// sampling pass, which is `KL(q ‖ p) - log Z` and is minimised by `q = p̃ / Z`.
pub fn reverse_kl<F: DivergenceField, M: NodeMethod>(
    pass: &FlowPass<'_, F, M>,
    log_target: impl FnOnce(Tensor<2>) -> Tensor<2>,
) -> Tensor<1> {
    (pass.log_density.clone() - log_target(pass.points.clone())).mean()
}
