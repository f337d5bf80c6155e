//! How a [`crate::NeuralOde`] computes gradients: discretise-then-optimise (autodiff through
//! the solver's steps) or optimise-then-discretise (the continuous adjoint).

use sysdyn_solvers::solve::DEFAULT_MAX_STEPS;

/// The gradient method of a neural ODE.
///
/// | method | gradient of | memory | backward cost |
/// |---|---|---|---|
/// | [`Backprop`](Sensitivity::Backprop) | the computed solution (exact) | graph of every step | one VJP per forward evaluation |
/// | [`TapedBackprop`](Sensitivity::TapedBackprop) | the computed solution (exact) | states and field tapes of every step | one VJP per forward evaluation |
/// | [`CheckpointedBackprop`](Sensitivity::CheckpointedBackprop) | the computed solution (exact) | graph of one segment + one state per step | a second forward pass + one VJP per evaluation |
/// | [`BacksolveAdjoint`](Sensitivity::BacksolveAdjoint) | the continuous problem (to solver tolerance) | independent of the number of steps | one augmented solve backwards |
/// | [`CheckpointedAdjoint`](Sensitivity::CheckpointedAdjoint) | the continuous problem (to solver tolerance) | one state per checkpoint + one segment's steps | a second forward pass + backward solves over single forward steps |
#[derive(Debug, Clone, PartialEq)]
pub enum Sensitivity {
    /// burn's autodiff through every step of the solver: the exact gradient of the computed
    /// solution. The solve records a graph whose size grows with the number of steps.
    ///
    /// Backpropagation (this and the taped and checkpointed variants) needs a method whose steps
    /// are tensor operations: the explicit Runge–Kutta methods. An implicit method's Newton
    /// iteration works on host values, which cut burn's graph (the taped variant reports it as
    /// an error); train implicit solves with an adjoint.
    Backprop,
    /// The same gradient as [`Sensitivity::Backprop`], by sysdyn's own reverse sweep over the
    /// solver's operations on states ([`crate::tape`]) with the field's vector–Jacobian
    /// products, instead of burn's graph. A field with a hand-written VJP (the MLP field, with
    /// its CPU host path) then never builds a graph at all. Works with every method that only
    /// forms linear combinations of states (all explicit Runge–Kutta methods).
    TapedBackprop,
    /// Backprop with gradient checkpointing: the forward pass keeps only the states at every
    /// step (no graph); the backward pass re-runs `steps_per_segment` steps at a time with a
    /// graph, from the last segment to the first. Same gradient as [`Sensitivity::Backprop`];
    /// graph memory bounded by one segment.
    CheckpointedBackprop {
        /// Steps re-run (and held as a graph) at a time; at least 1.
        steps_per_segment: usize,
    },
    /// The continuous adjoint, solving `(x, a, ∫ aᵀ∂f/∂θ)` backwards from the final state. The
    /// state is reconstructed by integrating backwards (reset to the forward value at each
    /// output time), so memory does not depend on the number of steps; the backward
    /// reconstruction is accurate for non-stiff, well-conditioned dynamics.
    BacksolveAdjoint(AdjointOptions),
    /// The continuous adjoint with checkpoints: the forward pass keeps the state every
    /// `steps_per_checkpoint` steps; the backward pass re-solves forward from each checkpoint
    /// (the same steps as the forward pass) and integrates the adjoint backwards over one
    /// forward step at a time, starting each from the re-solved state. Robust where backward
    /// reconstruction of the state is unstable.
    CheckpointedAdjoint {
        /// Options of the backward solves.
        options: AdjointOptions,
        /// Forward steps between stored checkpoints; at least 1.
        steps_per_checkpoint: usize,
    },
}

/// Options of the backward (adjoint) solves, separate from the forward solve's.
#[derive(Debug, Clone, PartialEq)]
pub struct AdjointOptions {
    /// Step policy of the backward solve; `None` reuses the forward one (the same fixed step,
    /// or the same scalar tolerances).
    pub step: Option<AdjointStep>,
    /// Leave the parameter-gradient components out of the error norm (the seminorm), which
    /// usually saves backward steps without hurting accuracy.
    pub seminorm: bool,
    /// Maximum number of steps of each backward solve.
    pub max_steps: usize,
}

/// Step policy of an adjoint solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AdjointStep {
    /// Fixed steps of this size.
    Fixed(f64),
    /// Adaptive steps with these scalar tolerances.
    Adaptive {
        /// Relative tolerance.
        rtol: f64,
        /// Absolute tolerance.
        atol: f64,
    },
}

impl Default for AdjointOptions {
    fn default() -> Self {
        AdjointOptions {
            step: None,
            seminorm: false,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }
}

impl AdjointOptions {
    /// Fixed backward steps of size `dt`.
    pub fn fixed(dt: f64) -> Self {
        AdjointOptions {
            step: Some(AdjointStep::Fixed(dt)),
            ..Default::default()
        }
    }

    /// Adaptive backward steps with their own tolerances.
    pub fn adaptive(rtol: f64, atol: f64) -> Self {
        AdjointOptions {
            step: Some(AdjointStep::Adaptive { rtol, atol }),
            ..Default::default()
        }
    }

    /// Switches the seminorm on or off.
    pub fn seminorm(mut self, on: bool) -> Self {
        self.seminorm = on;
        self
    }

    /// Sets the maximum number of steps of each backward solve.
    pub fn max_steps(mut self, max_steps: usize) -> Self {
        self.max_steps = max_steps;
        self
    }
}
