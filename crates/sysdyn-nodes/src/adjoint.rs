//! The continuous adjoint: solve the augmented system backwards through a list of knots.
//!
//! With `a(t) = ∂L/∂x(t)` the adjoint and `g(t)` the running parameter gradient,
//!
//! ```text
//! dx/dt = f(t, x),   da/dt = -aᵀ ∂f/∂x,   dg/dt = -aᵀ ∂f/∂θ,
//! ```
//!
//! integrated from the last knot to the first. At each knot the state is reset to its forward
//! value (an output of the forward solve, or a re-solved grid state for the checkpointed
//! variant) and the loss's cotangent for that time is added to `a`. At the first knot,
//! `a = ∂L/∂x(t0)` and `g = ∂L/∂θ`.
//!
//! Both products come from one [`NeuralField::vjp`] with cotangent `-a` per evaluation.

use burn::tensor::Tensor;
use sysdyn_solvers::{SaveAt, Stats, VectorField, solve};

use crate::augmented::AugmentedState;
use crate::error::NodeError;
use crate::field::NeuralField;
use crate::node::{BackwardResult, NeuralOde, NodeMethod};
use crate::params::ParamLayout;
use crate::replay::replay;
use crate::sensitivity::AdjointOptions;

/// A time at which the backward sweep resets the state and adds a cotangent.
#[derive(Debug)]
pub(crate) struct Knot {
    pub t: f64,
    pub state: KnotState,
    pub cotangent: Option<Tensor<2>>,
}

/// Where a knot's forward state comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KnotState {
    /// The forward output at this index of the output times.
    Output(usize),
    /// The state at this index of the checkpointed step grid.
    Grid(usize),
}

/// The augmented dynamics `(f, -aᵀ∂f/∂x, -aᵀ∂f/∂θ)`.
struct AugmentedField<'a, F> {
    field: &'a F,
    layout: &'a ParamLayout,
}

impl<F: NeuralField> VectorField<AugmentedState> for AugmentedField<'_, F> {
    fn eval(&mut self, t: f64, s: &AugmentedState) -> AugmentedState {
        let taped = self.field.taped(t, s.state.clone());
        let vjp = self
            .field
            .vjp(taped.tape, s.adjoint.clone().neg(), self.layout);
        AugmentedState::new(taped.value, vjp.state, vjp.params, s.params_in_norm())
    }
}

/// One backward adjoint pass.
pub(crate) struct AdjointSweep<'a, F, M> {
    node: &'a NeuralOde<F, M>,
    layout: &'a ParamLayout,
    options: &'a AdjointOptions,
    /// Whether knots are forward steps (then each backward solve starts with the forward step
    /// as its first step guess).
    per_step: bool,
}

/// Re-solved grid states of the segment last asked for.
struct SegmentCache {
    segment: usize,
    states: Vec<Tensor<2>>,
}

impl<'a, F: NeuralField, M: NodeMethod> AdjointSweep<'a, F, M> {
    pub(crate) fn new(
        node: &'a NeuralOde<F, M>,
        layout: &'a ParamLayout,
        options: &'a AdjointOptions,
        per_step: bool,
    ) -> Self {
        AdjointSweep {
            node,
            layout,
            options,
            per_step,
        }
    }

    /// Runs the sweep over `knots` (in the forward direction of time). `outputs` are the forward
    /// values at the output times; `grid` is `(grid times, stride, checkpoints)` for knots on
    /// the checkpointed grid.
    pub(crate) fn run(
        &self,
        knots: &[Knot],
        outputs: &[Tensor<2>],
        grid: Option<(&[f64], usize, &[Tensor<2>])>,
    ) -> Result<BackwardResult, NodeError> {
        let node = self.node;
        let reference = &outputs[0];
        let (device, dtype) = (reference.device(), reference.dtype());
        let zeros_state = || Tensor::<2>::zeros(reference.dims(), (&device, dtype));
        let mut adjoint = knots
            .last()
            .and_then(|k| k.cotangent.clone())
            .unwrap_or_else(zeros_state);
        let mut params = Tensor::<1>::zeros([self.layout.num_params()], (&device, dtype));
        let mut stats = Stats::default();
        let mut recomputed = 0;
        let mut cache: Option<SegmentCache> = None;
        let valid = grid.map(|_| node.field.valid().prepare());
        let prepared = node.field.prepare();
        let mut aug = AugmentedField {
            field: &prepared,
            layout: self.layout,
        };
        for m in (1..knots.len()).rev() {
            let (upper, lower) = (&knots[m], &knots[m - 1]);
            let state = match upper.state {
                KnotState::Output(i) => outputs[i].clone(),
                KnotState::Grid(i) => {
                    let (times, stride, checkpoints) =
                        grid.expect("grid knots come with the checkpointed grid");
                    let valid = valid.as_ref().expect("made with the grid");
                    grid_state(
                        i,
                        times,
                        stride,
                        checkpoints,
                        valid,
                        &node.method,
                        &mut cache,
                        &mut recomputed,
                    )
                }
            };
            let first_step = self.per_step.then(|| (upper.t - lower.t).abs());
            let config = node
                .adjoint_config(self.options, first_step)?
                .save_at(SaveAt::Final);
            let start = AugmentedState::new(state, adjoint, params, !self.options.seminorm);
            let sol = solve(&mut aug, &node.method, (upper.t, lower.t), start, &config)
                .map_err(NodeError::adjoint)?;
            stats.accepted += sol.stats.accepted;
            stats.rejected += sol.stats.rejected;
            stats.nfe += sol.stats.nfe;
            let end = sol
                .ys
                .into_iter()
                .last()
                .expect("SaveAt::Final keeps the end");
            adjoint = match &lower.cotangent {
                Some(c) => end.adjoint + c.clone(),
                None => end.adjoint,
            };
            params = end.params;
        }
        Ok(BackwardResult {
            params,
            initial_state: adjoint,
            nfe_backward: stats.nfe,
            nfe_recomputed: recomputed,
            stats: Some(stats),
        })
    }
}

/// The forward state at grid index `i`, re-solving its segment from the checkpoint if needed.
#[allow(clippy::too_many_arguments)]
fn grid_state<F: NeuralField, M: NodeMethod>(
    i: usize,
    times: &[f64],
    stride: usize,
    checkpoints: &[Tensor<2>],
    valid: &F,
    method: &M,
    cache: &mut Option<SegmentCache>,
    recomputed: &mut usize,
) -> Tensor<2> {
    if i.is_multiple_of(stride) {
        return checkpoints[i / stride].clone();
    }
    let segment = i / stride;
    if cache.as_ref().is_none_or(|c| c.segment != segment) {
        let start = segment * stride;
        let end = (start + stride).min(times.len() - 1);
        let mut f = |t: f64, x: &Tensor<2>| valid.field(t, x.clone());
        let (states, _) = replay(
            &mut f,
            method,
            &times[start..=end],
            checkpoints[segment].clone(),
            &[],
            recomputed,
        );
        *cache = Some(SegmentCache { segment, states });
    }
    let cache = cache.as_ref().expect("filled above");
    cache.states[i - segment * stride].clone()
}
