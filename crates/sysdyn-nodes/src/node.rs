//! [`NeuralOde`]: a [`NeuralField`] integrated by any `sysdyn-solvers` method, returning the
//! states at requested times, and their gradients by the chosen [`Sensitivity`].
//!
//! ```
//! use burn::optim::AdamConfig;
//! use sysdyn_core::device::{Backend, DeviceSpec, Precision};
//! use sysdyn_core::jet::MlpConfig;
//! use sysdyn_nodes::{AdjointOptions, MlpField, NeuralOde, Sensitivity};
//! use sysdyn_solvers::{SolveConfig, methods::RK4};
//!
//! let device = DeviceSpec::new(Backend::Flex, Precision::F32).with_autodiff(true).init()?;
//! let field = MlpField::autonomous(MlpConfig::new(vec![2, 16, 2]).init_seeded(&device, 0)?);
//! let mut node = NeuralOde::new(field, RK4, SolveConfig::fixed(0.1))
//!     .with_sensitivity(Sensitivity::BacksolveAdjoint(AdjointOptions::default()));
//! let x0 = device.tensor(vec![1.0, 0.0, 0.0, 1.0], [2, 2])?;
//! let target = device.tensor(vec![0.5, 0.5, -0.5, 0.5], [2, 2])?;
//! let mut optimizer = AdamConfig::new().init();
//!
//! let trajectory = node.solve(x0, &[0.0, 0.5, 1.0])?;
//! let loss = (trajectory.last().clone() - target).square().mean();
//! let grads = trajectory.backward(&loss)?;
//! assert!(grads.nfe_backward > 0);
//! node.field = optimizer.step(1e-2, node.field.clone(), grads.params);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use sysdyn_solvers::{SaveAt, SolveConfig, Stats, StepSize, solve};

use crate::adjoint::{AdjointSweep, Knot, KnotState};
use crate::augmented::AugmentedState;
use crate::error::NodeError;
use crate::field::{NeuralField, is_trainable};
use crate::params::ParamLayout;
use crate::replay::{replay, step_of};
use crate::sensitivity::{AdjointOptions, AdjointStep, Sensitivity};
use crate::tape::{SolveTape, Traced, reverse_sweep, traced_config};
use sysdyn_solvers::OdeMethod;
use sysdyn_solvers::methods::RK4;
use sysdyn_solvers::tableau::ButcherTableau;

/// A solver method a neural ODE can use: one that steps plain tensor states, the adjoint's
/// augmented states and traced states (every explicit Runge–Kutta tableau does).
pub trait NodeMethod: OdeMethod<Tensor<2>> + OdeMethod<AugmentedState> + OdeMethod<Traced> {}

impl<M: OdeMethod<Tensor<2>> + OdeMethod<AugmentedState> + OdeMethod<Traced>> NodeMethod for M {}

/// A neural ODE `dx/dt = f_θ(t, x)`: a field, a method, the forward step policy and a gradient
/// method.
#[derive(Debug, Clone)]
pub struct NeuralOde<F, M = ButcherTableau> {
    /// The vector field (a burn module; replace it after an optimizer step).
    pub field: F,
    pub(crate) method: M,
    forward: SolveConfig<Tensor<2>>,
    sensitivity: Sensitivity,
}

/// The states of a solve at the requested times, and what its gradient needs.
#[derive(Debug)]
pub struct Trajectory<'a, F, M> {
    node: &'a NeuralOde<F, M>,
    times: Vec<f64>,
    states: Vec<Tensor<2>>,
    stats: Stats,
    record: Record<F>,
}

/// What the forward pass kept for the backward pass.
#[derive(Debug)]
enum Record<F> {
    /// Backprop: the graph lives in the states; the initial state may require grad.
    Graph { initial: Box<Tensor<2>> },
    /// Taped backprop: the solver's record, the output nodes and the prepared field whose
    /// tapes it holds.
    Tape {
        tape: SolveTape,
        outputs: Vec<usize>,
        field: F,
    },
    /// Adjoints and checkpointing: the states' values (no graph) and, for checkpointing, the
    /// step grid with stored states.
    Values {
        values: Vec<Tensor<2>>,
        grid: Option<Grid>,
    },
}

#[derive(Debug)]
struct Grid {
    /// Accepted step times of the forward pass, `t0` first.
    times: Vec<f64>,
    /// Steps between stored checkpoints.
    stride: usize,
    /// States at grid indices `0, stride, 2·stride, …` (no graph).
    checkpoints: Vec<Tensor<2>>,
}

/// Gradients of a loss with respect to the field's parameters (and the initial state).
#[derive(Debug)]
pub struct NodeGradients {
    /// Parameter gradients, ready for `Optimizer::step`.
    pub params: GradientsParams,
    /// `∂L/∂x(t0)`: always for the adjoints and checkpointing; for backprop when the initial
    /// state required gradients.
    pub initial_state: Option<Tensor<2>>,
    /// Vector–Jacobian products of the field evaluated by the backward pass (for backprop, one
    /// per forward evaluation; for the adjoints, one per evaluation of the augmented system).
    pub nfe_backward: usize,
    /// Plain field evaluations recomputed by the backward pass (checkpoint replays).
    pub nfe_recomputed: usize,
    /// Counters of the backward solves (adjoints only).
    pub adjoint_stats: Option<Stats>,
}

impl<F: NeuralField> NeuralOde<F, ButcherTableau> {
    /// Classical RK4 with fixed steps `dt` and backprop: the usual neural-ODE training set-up.
    pub fn rk4(field: F, dt: f64) -> Self {
        NeuralOde::new(field, RK4, SolveConfig::fixed(dt))
    }
}

impl<F: NeuralField, M: NodeMethod> NeuralOde<F, M> {
    /// A neural ODE with `method` and the forward step policy of `forward` (its `save_at` is
    /// replaced by the times given to [`NeuralOde::solve`]), gradients by [`Sensitivity::Backprop`].
    pub fn new(field: F, method: M, forward: SolveConfig<Tensor<2>>) -> Self {
        NeuralOde {
            field,
            method,
            forward,
            sensitivity: Sensitivity::Backprop,
        }
    }

    /// Sets the gradient method.
    pub fn with_sensitivity(mut self, sensitivity: Sensitivity) -> Self {
        self.sensitivity = sensitivity;
        self
    }

    /// The gradient method.
    pub fn sensitivity(&self) -> &Sensitivity {
        &self.sensitivity
    }

    /// The solver method.
    pub fn method(&self) -> &M {
        &self.method
    }

    /// The forward solve's options.
    pub fn forward_config(&self) -> &SolveConfig<Tensor<2>> {
        &self.forward
    }

    /// Integrates from `x0` (`[batch, dim]`) at `times[0]` and returns the states at every time
    /// of `times` (the first being `x0` itself). Times must be strictly monotone; decreasing
    /// times integrate backwards.
    ///
    /// With [`Sensitivity::Backprop`] the states carry burn's graph (on an autodiff device);
    /// otherwise they are fresh autodiff leaves, so that a loss built from them can be
    /// differentiated with [`Trajectory::backward`].
    pub fn solve(&self, x0: Tensor<2>, times: &[f64]) -> Result<Trajectory<'_, F, M>, NodeError> {
        check_times(times)?;
        self.field.check_state(&x0)?;
        let span = (times[0], times[times.len() - 1]);
        match &self.sensitivity {
            Sensitivity::Backprop => {
                let config = self.forward.clone().save_at(SaveAt::Times(times.to_vec()));
                // Prepared for fast evaluation without autodiff (inference); with autodiff the
                // field records its graph as usual.
                let field = self.field.prepare();
                let mut f = |t: f64, x: &Tensor<2>| field.field(t, x.clone());
                let sol = solve(&mut f, &self.method, span, x0.clone(), &config)
                    .map_err(NodeError::forward)?;
                Ok(Trajectory {
                    node: self,
                    times: times.to_vec(),
                    states: sol.ys,
                    stats: sol.stats,
                    record: Record::Graph {
                        initial: Box::new(x0),
                    },
                })
            }
            Sensitivity::TapedBackprop => {
                self.require_trainable("the taped backprop gradient")?;
                let field = self.field.prepare();
                let start = Traced::start(x0.detach().inner());
                let config =
                    traced_config(&self.forward, &start).save_at(SaveAt::Times(times.to_vec()));
                let mut f = |t: f64, x: &Traced| x.eval(&field, t);
                let sol = solve(&mut f, &self.method, span, start.clone(), &config)
                    .map_err(NodeError::forward)?;
                let outputs = sol.ys.iter().map(Traced::node).collect();
                let values: Vec<Tensor<2>> = sol.ys.iter().map(|y| y.value().clone()).collect();
                let mut trajectory = self.leaves(times, values, sol.stats, None);
                trajectory.record = Record::Tape {
                    tape: start.tape(),
                    outputs,
                    field,
                };
                Ok(trajectory)
            }
            Sensitivity::BacksolveAdjoint(options) => {
                self.check_adjoint(options)?;
                self.require_trainable("the adjoint gradient")?;
                let valid = self.field.valid().prepare();
                let config = self.forward.clone().save_at(SaveAt::Times(times.to_vec()));
                let mut f = |t: f64, x: &Tensor<2>| valid.field(t, x.clone());
                let sol = solve(&mut f, &self.method, span, x0.detach().inner(), &config)
                    .map_err(NodeError::forward)?;
                Ok(self.leaves(times, sol.ys, sol.stats, None))
            }
            Sensitivity::CheckpointedBackprop { steps_per_segment } => {
                self.require_trainable("a checkpointed gradient")?;
                self.solve_on_grid(x0, times, *steps_per_segment)
            }
            Sensitivity::CheckpointedAdjoint {
                options,
                steps_per_checkpoint,
            } => {
                self.check_adjoint(options)?;
                self.require_trainable("the adjoint gradient")?;
                self.solve_on_grid(x0, times, *steps_per_checkpoint)
            }
        }
    }

    fn require_trainable(&self, what: &'static str) -> Result<(), NodeError> {
        if is_trainable(&self.field) {
            Ok(())
        } else {
            Err(NodeError::NotTrainable { what })
        }
    }

    fn check_adjoint(&self, options: &AdjointOptions) -> Result<(), NodeError> {
        self.adjoint_config(options, None).map(|_| ())
    }

    /// States as fresh autodiff leaves over their values.
    fn leaves(
        &self,
        times: &[f64],
        values: Vec<Tensor<2>>,
        stats: Stats,
        grid: Option<Grid>,
    ) -> Trajectory<'_, F, M> {
        let states: Vec<Tensor<2>> = values
            .iter()
            .map(|v| v.clone().autodiff().require_grad())
            .collect();
        Trajectory {
            node: self,
            times: times.to_vec(),
            states,
            stats,
            record: Record::Values { values, grid },
        }
    }

    /// Forward pass of the checkpointed methods: the step grid and the states on it (no
    /// graph), the outputs at `times`, and a checkpoint every `stride` steps.
    fn solve_on_grid(
        &self,
        x0: Tensor<2>,
        times: &[f64],
        stride: usize,
    ) -> Result<Trajectory<'_, F, M>, NodeError> {
        if stride == 0 {
            return Err(NodeError::Option(
                "steps per checkpoint segment must be at least 1".into(),
            ));
        }
        let span = (times[0], times[times.len() - 1]);
        let valid = self.field.valid().prepare();
        let x0 = x0.detach().inner();
        let config = self.forward.clone().save_at(SaveAt::Steps);
        let mut f = |t: f64, x: &Tensor<2>| valid.field(t, x.clone());
        let sol =
            solve(&mut f, &self.method, span, x0.clone(), &config).map_err(NodeError::forward)?;
        let mut stats = sol.stats;
        let grid = sol.ts;
        let states = sol.ys;
        let mut values = Vec::with_capacity(times.len());
        values.push(x0);
        for &tau in &times[1..] {
            let k = step_of(&grid, tau);
            if tau == grid[k + 1] {
                values.push(states[k + 1].clone());
            } else {
                // Inside a step: re-take that step and interpolate, as the solver would.
                let (_, mut out) = replay(
                    &mut f,
                    &self.method,
                    &grid[k..k + 2],
                    states[k].clone(),
                    &[tau],
                    &mut stats.nfe,
                );
                values.push(out.remove(0));
            }
        }
        let checkpoints = states.into_iter().step_by(stride).collect();
        let grid = Grid {
            times: grid,
            stride,
            checkpoints,
        };
        Ok(self.leaves(times, values, stats, Some(grid)))
    }

    /// The backward solve's configuration; `first_step` hints the first step.
    pub(crate) fn adjoint_config(
        &self,
        options: &AdjointOptions,
        first_step: Option<f64>,
    ) -> Result<SolveConfig<AugmentedState>, NodeError> {
        let step = match (options.step, &self.forward.step) {
            (Some(step), _) => step,
            (None, StepSize::Fixed(dt)) => AdjointStep::Fixed(*dt),
            (None, StepSize::Adaptive(a)) => match (&a.tol.rtol, &a.tol.atol) {
                (sysdyn_core::Tol::Scalar(rtol), sysdyn_core::Tol::Scalar(atol)) => {
                    AdjointStep::Adaptive {
                        rtol: *rtol,
                        atol: *atol,
                    }
                }
                _ => {
                    return Err(NodeError::Option(
                        "the forward solve has per-component tolerances, which do not apply to \
                         the augmented adjoint state; set `AdjointOptions::step` explicitly"
                            .into(),
                    ));
                }
            },
        };
        let config = match step {
            AdjointStep::Fixed(dt) => SolveConfig::fixed(dt),
            AdjointStep::Adaptive { rtol, atol } => {
                let config = SolveConfig::adaptive(rtol, atol);
                match first_step {
                    Some(h) => config.first_step(h),
                    None => config,
                }
            }
        };
        Ok(config.max_steps(options.max_steps))
    }
}

impl<F: NeuralField, M: NodeMethod> Trajectory<'_, F, M> {
    /// The output times.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The states at the output times, `[batch, dim]` each; build the loss from these.
    pub fn states(&self) -> &[Tensor<2>] {
        &self.states
    }

    /// The state at the last output time.
    pub fn last(&self) -> &Tensor<2> {
        self.states
            .last()
            .expect("a trajectory holds at least two states")
    }

    /// Counters of the forward solve (its `nfe` is the forward function-evaluation count).
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Gradients of `loss` (built from [`Trajectory::states`]) with respect to the field's
    /// parameters, by the neural ODE's [`Sensitivity`]. A loss that also depends on the
    /// parameters directly (a regulariser) gets that part added.
    pub fn backward<const D: usize>(self, loss: &Tensor<D>) -> Result<NodeGradients, NodeError> {
        if !loss.is_tracked() {
            return Err(NodeError::UntrackedLoss);
        }
        let node = self.node;
        let mut grads = loss.backward();
        match self.record {
            Record::Graph { initial } => {
                let initial_state = initial.grad_remove(&mut grads);
                let params = GradientsParams::from_grads(grads, &node.field);
                Ok(NodeGradients {
                    params,
                    initial_state,
                    nfe_backward: self.stats.nfe,
                    nfe_recomputed: 0,
                    adjoint_stats: None,
                })
            }
            Record::Tape {
                tape,
                outputs,
                field,
            } => {
                let seeds: Vec<(usize, Tensor<2>)> = self
                    .states
                    .iter()
                    .zip(&outputs)
                    .filter_map(|(s, &node)| s.grad_remove(&mut grads).map(|g| (node, g)))
                    .collect();
                let mut params = GradientsParams::from_grads(grads, &node.field);
                let layout = ParamLayout::of(&node.field);
                let (initial, flat, vjps) = reverse_sweep(&field, &layout, &tape, &seeds)?;
                if let Some(flat) = flat {
                    layout.add_into(&node.field, flat, &mut params);
                }
                let initial_state = initial.unwrap_or_else(|| {
                    let x = &self.states[0];
                    Tensor::zeros(x.dims(), (&x.device().inner(), x.dtype()))
                });
                Ok(NodeGradients {
                    params,
                    initial_state: Some(initial_state),
                    nfe_backward: vjps,
                    nfe_recomputed: 0,
                    adjoint_stats: None,
                })
            }
            Record::Values { values, grid } => {
                let cotangents: Vec<Option<Tensor<2>>> = self
                    .states
                    .iter()
                    .map(|s| s.grad_remove(&mut grads))
                    .collect();
                let mut params = GradientsParams::from_grads(grads, &node.field);
                let layout = ParamLayout::of(&node.field);
                let result = match (&node.sensitivity, grid) {
                    (Sensitivity::BacksolveAdjoint(options), _) => {
                        let knots: Vec<Knot> = self
                            .times
                            .iter()
                            .zip(cotangents)
                            .enumerate()
                            .map(|(i, (&t, cotangent))| Knot {
                                t,
                                state: KnotState::Output(i),
                                cotangent,
                            })
                            .collect();
                        AdjointSweep::new(node, &layout, options, false)
                            .run(&knots, &values, None)?
                    }
                    (Sensitivity::CheckpointedAdjoint { options, .. }, Some(grid)) => {
                        let knots = checkpoint_knots(&grid.times, &self.times, cotangents);
                        AdjointSweep::new(node, &layout, options, true).run(
                            &knots,
                            &values,
                            Some((&grid.times, grid.stride, &grid.checkpoints)),
                        )?
                    }
                    (Sensitivity::CheckpointedBackprop { .. }, Some(grid)) => {
                        segment_backprop(node, &layout, &grid, &self.times, cotangents)
                    }
                    _ => unreachable!("the record matches the sensitivity it was made for"),
                };
                layout.add_into(&node.field, result.params, &mut params);
                Ok(NodeGradients {
                    params,
                    initial_state: Some(result.initial_state),
                    nfe_backward: result.nfe_backward,
                    nfe_recomputed: result.nfe_recomputed,
                    adjoint_stats: result.stats,
                })
            }
        }
    }
}

/// What a backward pass over stored values produces.
pub(crate) struct BackwardResult {
    pub params: Tensor<1>,
    pub initial_state: Tensor<2>,
    pub nfe_backward: usize,
    pub nfe_recomputed: usize,
    pub stats: Option<Stats>,
}

fn check_times(times: &[f64]) -> Result<(), NodeError> {
    let bad = |reason: String| Err(NodeError::Times { reason });
    if times.len() < 2 {
        return bad(format!("{} given", times.len()));
    }
    if let Some(i) = times.iter().position(|t| !t.is_finite()) {
        return bad(format!("times[{i}] = {} is not finite", times[i]));
    }
    let dir = (times[1] - times[0]).signum();
    for (i, w) in times.windows(2).enumerate() {
        if (w[1] - w[0]) * dir <= 0.0 {
            return bad(format!(
                "times[{}] = {} and times[{}] = {} are not strictly monotone",
                i,
                w[0],
                i + 1,
                w[1]
            ));
        }
    }
    Ok(())
}

/// The knots of a checkpointed adjoint sweep: every grid point, and every output time that
/// falls strictly inside a step; cotangents attached to the output times.
fn checkpoint_knots(grid: &[f64], times: &[f64], cotangents: Vec<Option<Tensor<2>>>) -> Vec<Knot> {
    let mut knots: Vec<Knot> = grid
        .iter()
        .enumerate()
        .map(|(i, &t)| Knot {
            t,
            state: KnotState::Grid(i),
            cotangent: None,
        })
        .collect();
    // Output times in order; insert each at its place (after its step's start).
    let mut inserted = 0;
    for (index, (&tau, cotangent)) in times.iter().zip(cotangents).enumerate() {
        if index == 0 {
            knots[0].cotangent = cotangent;
            continue;
        }
        let k = step_of(grid, tau);
        if tau == grid[k + 1] {
            knots[k + 1 + inserted].cotangent =
                merge(knots[k + 1 + inserted].cotangent.take(), cotangent);
        } else {
            knots.insert(
                k + 1 + inserted,
                Knot {
                    t: tau,
                    state: KnotState::Output(index),
                    cotangent,
                },
            );
            inserted += 1;
        }
    }
    knots
}

fn merge(a: Option<Tensor<2>>, b: Option<Tensor<2>>) -> Option<Tensor<2>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Checkpointed backprop: re-run each segment of the grid with a graph, last segment first,
/// and backpropagate the cotangents of its outputs and of its end state.
fn segment_backprop<F: NeuralField, M: NodeMethod>(
    node: &NeuralOde<F, M>,
    layout: &ParamLayout,
    grid: &Grid,
    times: &[f64],
    cotangents: Vec<Option<Tensor<2>>>,
) -> BackwardResult {
    let steps = grid.times.len() - 1;
    let segments = steps.div_ceil(grid.stride);
    let mut cotangents: Vec<Option<Tensor<2>>> = cotangents;
    let initial_cotangent = cotangents[0].take();
    // Output times (after the first) with the step they fall in.
    let output_steps: Vec<usize> = times[1..]
        .iter()
        .map(|&tau| step_of(&grid.times, tau))
        .collect();
    let mut lambda: Option<Tensor<2>> = None;
    let mut params: Option<Tensor<1>> = None;
    let mut nfe = 0;
    for segment in (0..segments).rev() {
        let start = segment * grid.stride;
        let end = (start + grid.stride).min(steps);
        // Outputs whose step lies in [start, end).
        let outputs: Vec<usize> = (0..output_steps.len())
            .filter(|&q| output_steps[q] >= start && output_steps[q] < end)
            .map(|q| q + 1)
            .collect();
        let has_work = lambda.is_some() || outputs.iter().any(|&i| cotangents[i].is_some());
        let y_start = grid.checkpoints[segment].clone().autodiff().require_grad();
        if !has_work {
            continue;
        }
        let saves: Vec<f64> = outputs.iter().map(|&i| times[i]).collect();
        let mut f = |t: f64, x: &Tensor<2>| node.field.field(t, x.clone());
        let (states, outs) = replay(
            &mut f,
            &node.method,
            &grid.times[start..=end],
            y_start.clone(),
            &saves,
            &mut nfe,
        );
        let mut surrogate: Option<Tensor<1>> = None;
        let mut add = |term: Tensor<1>| {
            surrogate = Some(match surrogate.take() {
                Some(s) => s + term,
                None => term,
            });
        };
        for (&i, out) in outputs.iter().zip(outs) {
            if let Some(c) = cotangents[i].take() {
                add((out * c).sum());
            }
        }
        if let Some(l) = lambda.take() {
            let y_end = states.last().expect("a segment has an end").clone();
            add((y_end * l).sum());
        }
        let surrogate = surrogate.expect("a segment with work has a surrogate loss");
        let grads = surrogate.backward();
        let flat = layout.flatten_grads(&node.field, &grads);
        params = Some(match params.take() {
            Some(p) => p + flat,
            None => flat,
        });
        lambda = y_start.grad(&grads);
    }
    let x0 = &grid.checkpoints[0];
    let zero_state = || Tensor::zeros(x0.dims(), (&x0.device(), x0.dtype()));
    let initial_state = match (lambda, initial_cotangent) {
        (Some(l), Some(c)) => l + c.inner(),
        (Some(l), None) => l,
        (None, Some(c)) => c.inner(),
        (None, None) => zero_state(),
    };
    let params =
        params.unwrap_or_else(|| Tensor::zeros([layout.num_params()], (&x0.device(), x0.dtype())));
    BackwardResult {
        params,
        initial_state,
        nfe_backward: nfe,
        nfe_recomputed: nfe,
        stats: None,
    }
}
