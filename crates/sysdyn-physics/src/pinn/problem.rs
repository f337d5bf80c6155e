//! A PINN problem (DeepXDE's split): a domain, a residual written once as a function of the jet
//! of `u`, boundary/initial/data conditions with their weights, unknown physical parameters, and
//! the collocation points; kept apart from the network and the optimiser.
//!
//! The loss is
//!
//! ```text
//! L = mean_f |r(x_f; u, λ)|² + Σ_i w_i mean_i |c_i(u)|²
//! ```
//!
//! with `r` the residual at the collocation points `x_f`, `λ` the learnable physical
//! parameters, and the condition terms `c_i`: Dirichlet `u − g`, Neumann `∂u/∂x_c − g`,
//! periodic `u(x_lower) − u(x_upper)`, data `u − u_obs` (an initial condition is a Dirichlet
//! term on the initial face).

use std::sync::Arc;

use burn::module::{Module, ModuleDisplay, Param};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;

use super::collocation::Points;
use super::domain::Domain;
use super::field::{FieldJet, check_pairs};
use super::network::PinnField;
use crate::PhysicsError;

/// What a residual sees: the points, the jet of `u` there, and the physical parameters.
pub struct ResidualInputs<'a> {
    /// The collocation points, `[batch, d]`.
    pub x: &'a Tensor<2>,
    /// The jet of `u` at them.
    pub u: &'a FieldJet,
    /// The physical parameters, each `[1, 1]` (broadcast against `[batch, 1]`).
    pub parameters: &'a [Tensor<2>],
}

impl ResidualInputs<'_> {
    /// Column `i` of the points, `[batch, 1]`.
    pub fn coordinate(&self, i: usize) -> Tensor<2> {
        self.x.clone().narrow(1, i, 1)
    }

    /// Physical parameter `i`, `[1, 1]`; an error if the problem has fewer.
    pub fn parameter(&self, i: usize) -> Result<Tensor<2>, PhysicsError> {
        self.parameters
            .get(i)
            .cloned()
            .ok_or(PhysicsError::SizeMismatch {
                what: "physical parameter index (declare it with PinnProblem::with_parameters)",
                expected: self.parameters.len(),
                got: i,
            })
    }
}

/// A residual `r(x; u, λ)`, `[batch, k]`.
pub type ResidualFn = dyn Fn(&ResidualInputs<'_>) -> Result<Tensor<2>, PhysicsError> + Send + Sync;

/// Which condition a term imposes.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionKind {
    /// `u = g` (boundary values, initial conditions).
    Dirichlet,
    /// `∂u/∂x_column = g`.
    Neumann {
        /// The derivative's column (the face normal).
        column: usize,
    },
    /// `u(x) = u(x')` for paired points on opposite faces.
    Periodic {
        /// The partner points, row `i` paired with row `i` of the term's points.
        partners: Points,
    },
    /// `u = u_obs` at observation points.
    Data,
}

/// One condition term: a name for logs, its kind, its points and targets (`[len, width]`
/// row-major; empty for periodic terms).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    name: String,
    kind: ConditionKind,
    points: Points,
    targets: Vec<f64>,
}

fn finite_targets(what: &'static str, values: &[f64]) -> Result<(), PhysicsError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(PhysicsError::NonFinite { what, index }),
    }
}

impl Condition {
    fn build(
        name: &str,
        kind: ConditionKind,
        points: Points,
        targets: Vec<f64>,
        what: &'static str,
    ) -> Result<Self, PhysicsError> {
        if targets.is_empty() || !targets.len().is_multiple_of(points.len()) {
            return Err(PhysicsError::SizeMismatch {
                what: "condition targets (a multiple of the number of points: one row per point)",
                expected: points.len(),
                got: targets.len(),
            });
        }
        finite_targets(what, &targets)?;
        Ok(Condition {
            name: name.to_string(),
            kind,
            points,
            targets,
        })
    }

    /// `u(x_i) = g_i` on boundary points.
    pub fn dirichlet(name: &str, points: Points, values: Vec<f64>) -> Result<Self, PhysicsError> {
        Self::build(
            name,
            ConditionKind::Dirichlet,
            points,
            values,
            "Dirichlet values",
        )
    }

    /// `u(x_i, t0) = u0_i` on the initial face (a Dirichlet term).
    pub fn initial(name: &str, points: Points, values: Vec<f64>) -> Result<Self, PhysicsError> {
        Self::build(
            name,
            ConditionKind::Dirichlet,
            points,
            values,
            "initial values",
        )
    }

    /// `∂u/∂x_column (x_i) = g_i`.
    pub fn neumann(
        name: &str,
        points: Points,
        column: usize,
        values: Vec<f64>,
    ) -> Result<Self, PhysicsError> {
        if column >= points.dim() {
            return Err(PhysicsError::SizeMismatch {
                what: "Neumann derivative column (below the points' dimension)",
                expected: points.dim(),
                got: column,
            });
        }
        Self::build(
            name,
            ConditionKind::Neumann { column },
            points,
            values,
            "Neumann values",
        )
    }

    /// `u(lower_i) = u(upper_i)` for paired points.
    pub fn periodic(name: &str, lower: Points, upper: Points) -> Result<Self, PhysicsError> {
        if lower.len() != upper.len() || lower.dim() != upper.dim() {
            return Err(PhysicsError::SizeMismatch {
                what: "periodic point pairs",
                expected: lower.len(),
                got: upper.len(),
            });
        }
        Ok(Condition {
            name: name.to_string(),
            kind: ConditionKind::Periodic { partners: upper },
            points: lower,
            targets: Vec::new(),
        })
    }

    /// Observations `u(x_i) = u_obs,i` (inverse problems); a NaN or infinite observation is a
    /// typed error.
    pub fn data(name: &str, points: Points, observed: Vec<f64>) -> Result<Self, PhysicsError> {
        Self::build(name, ConditionKind::Data, points, observed, "observations")
    }

    /// The term's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The term's kind.
    pub fn kind(&self) -> &ConditionKind {
        &self.kind
    }

    /// The term's points.
    pub fn points(&self) -> &Points {
        &self.points
    }
}

/// How the condition terms are weighted.
#[derive(Debug, Clone, PartialEq)]
pub enum LossWeights {
    /// Fixed weights `w_i`, one per condition.
    Fixed(Vec<f64>),
    /// Learning-rate annealing (Wang, Teng & Perdikaris 2021, Algorithm 1): every `every` steps,
    /// `ŵ_i = max_θ |∇_θ L_r| / mean_θ |∇_θ L_i|` and `w_i ← (1 − α) w_i + α ŵ_i`, from `w_i = 1`.
    Annealing {
        /// The moving-average factor `α` in `(0, 1]` (0.1 in the paper).
        alpha: f64,
        /// Update every this many steps (≥ 1).
        every: u64,
    },
}

/// A PINN problem; see the module docs for the loss.
#[derive(Clone)]
pub struct PinnProblem {
    domain: Domain,
    residual: Arc<ResidualFn>,
    pairs: Vec<(usize, usize)>,
    collocation: Points,
    conditions: Vec<Condition>,
    weights: LossWeights,
    parameters: Vec<f64>,
}

impl std::fmt::Debug for PinnProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinnProblem")
            .field("domain", &self.domain)
            .field("pairs", &self.pairs)
            .field("collocation", &self.collocation.len())
            .field("conditions", &self.conditions.len())
            .field("weights", &self.weights)
            .field("parameters", &self.parameters)
            .finish_non_exhaustive()
    }
}

impl PinnProblem {
    /// A problem on `domain` with residual `residual`, which may read the second derivatives of
    /// the column pairs `second_order` (e.g. `[(0, 0)]` for `u_xx` with `x` in column 0, add
    /// `(0, 1)` for `u_xt`); first derivatives in every column are always carried. Collocation
    /// points must lie in the domain's dimension.
    pub fn new<R>(
        domain: Domain,
        second_order: &[(usize, usize)],
        collocation: Points,
        residual: R,
    ) -> Result<Self, PhysicsError>
    where
        R: Fn(&ResidualInputs<'_>) -> Result<Tensor<2>, PhysicsError> + Send + Sync + 'static,
    {
        check_pairs(second_order, domain.dim())?;
        if collocation.dim() != domain.dim() {
            return Err(PhysicsError::SizeMismatch {
                what: "collocation point dimension (the domain's)",
                expected: domain.dim(),
                got: collocation.dim(),
            });
        }
        Ok(PinnProblem {
            domain,
            residual: Arc::new(residual),
            pairs: second_order.to_vec(),
            collocation,
            conditions: Vec::new(),
            weights: LossWeights::Fixed(Vec::new()),
            parameters: Vec::new(),
        })
    }

    /// Adds a condition with fixed weight `weight` (> 0; ignored under annealing).
    pub fn with_condition(
        mut self,
        condition: Condition,
        weight: f64,
    ) -> Result<Self, PhysicsError> {
        if condition.points.dim() != self.domain.dim() {
            return Err(PhysicsError::SizeMismatch {
                what: "condition point dimension (the domain's)",
                expected: self.domain.dim(),
                got: condition.points.dim(),
            });
        }
        if !(weight.is_finite() && weight > 0.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "condition weight",
                value: weight,
                requirement: "must be finite and > 0",
            });
        }
        if let LossWeights::Fixed(w) = &mut self.weights {
            w.push(weight);
        }
        self.conditions.push(condition);
        Ok(self)
    }

    /// Learning-rate annealing of the condition weights instead of fixed ones.
    pub fn with_annealing(mut self, alpha: f64, every: u64) -> Result<Self, PhysicsError> {
        if !(alpha > 0.0 && alpha <= 1.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "annealing alpha",
                value: alpha,
                requirement: "must lie in (0, 1] (0.1 in Wang et al. 2021)",
            });
        }
        if every == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "annealing period",
                value: 0.0,
                requirement: "must be at least 1 step",
            });
        }
        self.weights = LossWeights::Annealing { alpha, every };
        Ok(self)
    }

    /// Unknown physical parameters with their initial guesses (inverse problems); the residual
    /// reads them with [`ResidualInputs::parameter`].
    pub fn with_parameters(mut self, initial: Vec<f64>) -> Result<Self, PhysicsError> {
        finite_targets("initial physical parameters", &initial)?;
        self.parameters = initial;
        Ok(self)
    }

    /// Replaces the collocation points (e.g. after [`refine_by_residual`](super::collocation::refine_by_residual)).
    pub fn with_collocation(mut self, collocation: Points) -> Result<Self, PhysicsError> {
        if collocation.dim() != self.domain.dim() {
            return Err(PhysicsError::SizeMismatch {
                what: "collocation point dimension (the domain's)",
                expected: self.domain.dim(),
                got: collocation.dim(),
            });
        }
        self.collocation = collocation;
        Ok(self)
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The collocation points.
    pub fn collocation(&self) -> &Points {
        &self.collocation
    }

    /// The condition terms.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The weighting.
    pub fn weights(&self) -> &LossWeights {
        &self.weights
    }

    /// The initial guesses of the physical parameters.
    pub fn initial_parameters(&self) -> &[f64] {
        &self.parameters
    }

    /// The second-order pairs the residual may read.
    pub fn second_order(&self) -> &[(usize, usize)] {
        &self.pairs
    }

    /// The residual of `field` at `x` (`[batch, d]`), `[batch, k]`.
    pub fn residual_at<F: PinnField + ?Sized>(
        &self,
        field: &F,
        x: Tensor<2>,
        parameters: &[Tensor<2>],
    ) -> Result<Tensor<2>, PhysicsError> {
        let u = field.field_jet(x.clone(), &self.pairs)?;
        self.residual_of(&x, &u, parameters)
    }

    /// The residual at `x` for the jet `u` of the field there.
    fn residual_of(
        &self,
        x: &Tensor<2>,
        u: &FieldJet,
        parameters: &[Tensor<2>],
    ) -> Result<Tensor<2>, PhysicsError> {
        let r = (self.residual)(&ResidualInputs { x, u, parameters })?;
        let [rows, _] = r.dims();
        if rows != x.dims()[0] {
            return Err(PhysicsError::SizeMismatch {
                what: "residual rows (one per collocation point)",
                expected: x.dims()[0],
                got: rows,
            });
        }
        Ok(r)
    }

    /// The loss terms on `device`, tensors built once.
    pub fn prepare(&self, device: &SysDevice) -> Result<PreparedLoss, PhysicsError> {
        let terms = self
            .conditions
            .iter()
            .map(|c| {
                let x = c.points.to_tensor(device)?;
                let rows = c.points.len();
                let target = if c.targets.is_empty() {
                    None
                } else {
                    let width = c.targets.len() / rows;
                    Some(
                        device
                            .tensor(c.targets.clone(), [rows, width])
                            .map_err(|_| PhysicsError::SizeMismatch {
                                what: "condition targets",
                                expected: rows * width,
                                got: c.targets.len(),
                            })?,
                    )
                };
                let partners = match &c.kind {
                    ConditionKind::Periodic { partners } => Some(partners.to_tensor(device)?),
                    _ => None,
                };
                Ok(PreparedTerm {
                    kind: c.kind.clone(),
                    x,
                    target,
                    partners,
                })
            })
            .collect::<Result<Vec<_>, PhysicsError>>()?;
        Ok(PreparedLoss {
            problem: self.clone(),
            collocation: self.collocation.to_tensor(device)?,
            terms,
        })
    }
}

struct PreparedTerm {
    kind: ConditionKind,
    x: Tensor<2>,
    target: Option<Tensor<2>>,
    partners: Option<Tensor<2>>,
}

/// Which points of a prepared loss a jet of `u` is asked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PointSet {
    /// The collocation points (with the problem's second-order pairs).
    Collocation,
    /// The points of condition `i` (no second-order pairs).
    Term(usize),
    /// The partner points of periodic condition `i` (no second-order pairs).
    Partners(usize),
}

/// A problem's loss with its point and target tensors on a device.
pub struct PreparedLoss {
    problem: PinnProblem,
    collocation: Tensor<2>,
    terms: Vec<PreparedTerm>,
}

/// The parts of the loss: the mean squared residual and each condition's mean squared error
/// (unweighted), as one-element tensors on the autodiff graph.
#[derive(Debug, Clone)]
pub struct LossParts {
    /// `mean |r|²`.
    pub residual: Tensor<1>,
    /// `mean |c_i|²`, in the order of the conditions.
    pub conditions: Vec<Tensor<1>>,
}

impl LossParts {
    /// `L_r + Σ w_i L_i`; `weights` must have one entry per condition.
    pub fn total(&self, weights: &[f64]) -> Result<Tensor<1>, PhysicsError> {
        if weights.len() != self.conditions.len() {
            return Err(PhysicsError::SizeMismatch {
                what: "loss weights (one per condition)",
                expected: self.conditions.len(),
                got: weights.len(),
            });
        }
        Ok(self
            .conditions
            .iter()
            .zip(weights)
            .fold(self.residual.clone(), |acc, (l, &w)| {
                acc + l.clone().mul_scalar(w)
            }))
    }
}

impl PreparedLoss {
    /// The problem.
    pub fn problem(&self) -> &PinnProblem {
        &self.problem
    }

    /// Replaces the collocation points (fresh points each step in the deep Galerkin method);
    /// the condition terms stay.
    pub fn set_collocation(
        &mut self,
        collocation: Points,
        device: &SysDevice,
    ) -> Result<(), PhysicsError> {
        let tensor = collocation.to_tensor(device)?;
        self.problem = self.problem.clone().with_collocation(collocation)?;
        self.collocation = tensor;
        Ok(())
    }

    /// The loss parts of `field` with physical parameters `parameters` (each `[1, 1]`).
    pub fn parts<F: PinnField + ?Sized>(
        &self,
        field: &F,
        parameters: &[Tensor<2>],
    ) -> Result<LossParts, PhysicsError> {
        self.parts_with(parameters, |_, x, pairs| field.field_jet(x.clone(), pairs))
    }

    /// Every point set the loss reads `u` at, with its host points and whether the
    /// second-order pairs are needed there.
    pub(crate) fn point_sets(&self) -> Vec<(PointSet, &Points, bool)> {
        let mut sets = vec![(PointSet::Collocation, &self.problem.collocation, true)];
        for (i, c) in self.problem.conditions.iter().enumerate() {
            sets.push((PointSet::Term(i), &c.points, false));
            if let ConditionKind::Periodic { partners } = &c.kind {
                sets.push((PointSet::Partners(i), partners, false));
            }
        }
        sets
    }

    /// The loss parts with the jet of `u` at each point set from `jet(set, x, pairs)`: the
    /// field's own jets on the tensor path, the host engine's channels on the fast path. The
    /// residual and the condition terms are the same code either way.
    pub(crate) fn parts_with(
        &self,
        parameters: &[Tensor<2>],
        mut jet: impl FnMut(PointSet, &Tensor<2>, &[(usize, usize)]) -> Result<FieldJet, PhysicsError>,
    ) -> Result<LossParts, PhysicsError> {
        let u = jet(
            PointSet::Collocation,
            &self.collocation,
            &self.problem.pairs,
        )?;
        let r = self
            .problem
            .residual_of(&self.collocation, &u, parameters)?;
        let residual = r.square().mean();
        let conditions = self
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let error = match &t.kind {
                    ConditionKind::Dirichlet | ConditionKind::Data => {
                        jet(PointSet::Term(i), &t.x, &[])?.value()
                    }
                    ConditionKind::Neumann { column } => {
                        jet(PointSet::Term(i), &t.x, &[])?.d(*column)?
                    }
                    ConditionKind::Periodic { .. } => {
                        let partners = t.partners.as_ref().ok_or(PhysicsError::Empty {
                            what: "periodic partner points",
                            unit: "point",
                        })?;
                        jet(PointSet::Term(i), &t.x, &[])?.value()
                            - jet(PointSet::Partners(i), partners, &[])?.value()
                    }
                };
                let error = match &t.target {
                    Some(target) => {
                        if target.dims() != error.dims() {
                            return Err(PhysicsError::SizeMismatch {
                                what: "condition target width (the field's output width)",
                                expected: error.dims()[1],
                                got: target.dims()[1],
                            });
                        }
                        error - target.clone()
                    }
                    None => error,
                };
                Ok(error.square().mean())
            })
            .collect::<Result<Vec<_>, PhysicsError>>()?;
        Ok(LossParts {
            residual,
            conditions,
        })
    }
}

/// A PINN's trainable state: the network and, for inverse problems, the physical parameters.
#[derive(Module, Debug)]
pub struct PinnModel<N> {
    /// The network.
    pub network: N,
    /// The learnable physical parameters `λ` (none for forward problems).
    pub physical: Option<Param<Tensor<1>>>,
}

impl<N: Module + ModuleDisplay + PinnField> PinnModel<N> {
    /// The network with the problem's initial physical parameters on `device`.
    pub fn new(
        network: N,
        problem: &PinnProblem,
        device: &SysDevice,
    ) -> Result<Self, PhysicsError> {
        let initial = problem.initial_parameters();
        let physical = if initial.is_empty() {
            None
        } else {
            Some(Param::from_tensor(
                device
                    .tensor(initial.to_vec(), [initial.len()])
                    .map_err(|_| PhysicsError::SizeMismatch {
                        what: "physical parameters",
                        expected: initial.len(),
                        got: 0,
                    })?
                    .require_grad(),
            ))
        };
        Ok(PinnModel { network, physical })
    }

    /// The physical parameters as `[1, 1]` tensors for the residual.
    pub fn parameter_tensors(&self) -> Vec<Tensor<2>> {
        match &self.physical {
            None => Vec::new(),
            Some(p) => {
                let n = p.dims()[0];
                (0..n)
                    .map(|i| p.val().narrow(0, i, 1).reshape([1, 1]))
                    .collect()
            }
        }
    }

    /// The physical parameters on the host.
    pub fn parameters(&self) -> Result<Vec<f64>, PhysicsError> {
        match &self.physical {
            None => Ok(Vec::new()),
            Some(p) => {
                p.val()
                    .detach()
                    .try_into_vec_as::<f64>()
                    .map_err(|e| PhysicsError::HostRead {
                        what: "the physical parameters",
                        reason: format!("{e:?}"),
                    })
            }
        }
    }

    /// The loss parts of this model.
    pub fn parts(&self, loss: &PreparedLoss) -> Result<LossParts, PhysicsError> {
        loss.parts(&self.network, &self.parameter_tensors())
    }
}

/// The relative L2 error `‖u − u*‖₂ / ‖u*‖₂` of `field` at `points` against `exact` values.
pub fn relative_l2<F: PinnField + ?Sized>(
    field: &F,
    points: &Points,
    exact: &[f64],
    device: &SysDevice,
) -> Result<f64, PhysicsError> {
    if exact.len() != points.len() {
        return Err(PhysicsError::SizeMismatch {
            what: "exact values (one per point)",
            expected: points.len(),
            got: exact.len(),
        });
    }
    let u = field
        .field_jet(points.to_tensor(device)?, &[])?
        .value()
        .detach()
        .try_into_vec_as::<f64>()
        .map_err(|e| PhysicsError::HostRead {
            what: "the field u",
            reason: format!("{e:?}"),
        })?;
    let num: f64 = u.iter().zip(exact).map(|(a, b)| (a - b).powi(2)).sum();
    let den: f64 = exact.iter().map(|b| b * b).sum();
    Ok((num / den).sqrt())
}
