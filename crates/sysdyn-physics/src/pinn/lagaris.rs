//! Lagaris trial solutions for initial value problems (Lagaris, Likas & Fotiadis, *IEEE Trans.
//! Neural Netw.* 9, 1998): the initial conditions are built into the solution's form, so only
//! the ODE residual is trained,
//!
//! ```text
//! first order:   ψ(t) = A + (t − t0) N(t)                       ψ(t0) = A
//! second order:  ψ(t) = A + B (t − t0) + (t − t0)² N(t)         ψ(t0) = A, ψ'(t0) = B
//! ```
//!
//! with `N` any network (one input column, `t`; one output per component of `ψ`). The form is a
//! [`HardConstraint`] written in jet arithmetic, so a residual on the jet of `ψ` (`ψ' = d(0)`,
//! `ψ'' = d2(0, 0)`) sees its exact derivatives. [`LagarisIvp::problem`] pairs it with a
//! residual on the interval `[t0, t1]`.

use burn::tensor::Tensor;

use super::collocation::{Sampler, sample};
use super::domain::Domain;
use super::field::FieldJet;
use super::network::HardConstraint;
use super::problem::{PinnProblem, ResidualInputs};
use crate::PhysicsError;
use sysdyn_core::rng::SeededRng;

/// An initial value problem's trial-solution form; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct LagarisIvp {
    t0: f64,
    initial: Vec<f64>,
    velocity: Option<Vec<f64>>,
}

fn finite_row(what: &'static str, row: &[f64]) -> Result<(), PhysicsError> {
    if row.is_empty() {
        return Err(PhysicsError::Empty {
            what,
            unit: "value per component of ψ",
        });
    }
    match row.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(PhysicsError::NonFinite { what, index }),
    }
}

impl LagarisIvp {
    /// `ψ' = f(t, ψ)`, `ψ(t0) = initial`: `ψ = A + (t − t0) N(t)`.
    pub fn first_order(t0: f64, initial: Vec<f64>) -> Result<Self, PhysicsError> {
        finite_row("initial values", &[t0])?;
        finite_row("initial values", &initial)?;
        Ok(LagarisIvp {
            t0,
            initial,
            velocity: None,
        })
    }

    /// `ψ'' = f(t, ψ, ψ')`, `ψ(t0) = initial`, `ψ'(t0) = velocity`:
    /// `ψ = A + B (t − t0) + (t − t0)² N(t)`.
    pub fn second_order(
        t0: f64,
        initial: Vec<f64>,
        velocity: Vec<f64>,
    ) -> Result<Self, PhysicsError> {
        finite_row("initial values", &[t0])?;
        finite_row("initial values", &initial)?;
        finite_row("initial velocities", &velocity)?;
        if velocity.len() != initial.len() {
            return Err(PhysicsError::SizeMismatch {
                what: "initial velocities (one per initial value)",
                expected: initial.len(),
                got: velocity.len(),
            });
        }
        Ok(LagarisIvp {
            t0,
            initial,
            velocity: Some(velocity),
        })
    }

    /// The number of components of `ψ` (the network's output width).
    pub fn width(&self) -> usize {
        self.initial.len()
    }

    /// The trial-solution form as an output transform for [`PinnNetwork::with_constraint`](super::PinnNetwork::with_constraint).
    pub fn constraint(&self) -> HardConstraint {
        let form = self.clone();
        HardConstraint::new(move |x: &Tensor<2>, n: FieldJet| {
            let pairs = n.pairs().to_vec();
            let tau = FieldJet::coordinate(x, 0, &pairs)?.add_scalar(-form.t0);
            let mut psi = match &form.velocity {
                None => tau.clone().times(&n)?,
                Some(b) => tau
                    .clone()
                    .times(&tau)?
                    .times(&n)?
                    .plus(&tau.times_row(b)?)?,
            };
            psi = psi.offset(&form.initial)?;
            Ok(psi)
        })
    }

    /// The problem on `[t0, t1]` with `points` collocation points placed by `sampler` and the
    /// residual `residual` (e.g. `ψ' − f(t, ψ)`); second-order forms carry `ψ''` (the pair
    /// `(0, 0)`).
    pub fn problem<R>(
        &self,
        t1: f64,
        sampler: Sampler,
        points: usize,
        rng: &mut SeededRng,
        residual: R,
    ) -> Result<PinnProblem, PhysicsError>
    where
        R: Fn(&ResidualInputs<'_>) -> Result<Tensor<2>, PhysicsError> + Send + Sync + 'static,
    {
        let domain = Domain::interval(self.t0, t1)?;
        let collocation = sample(&domain, sampler, points, rng)?;
        let pairs: &[(usize, usize)] = if self.velocity.is_some() {
            &[(0, 0)]
        } else {
            &[]
        };
        PinnProblem::new(domain, pairs, collocation, residual)
    }
}
