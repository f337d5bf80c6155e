//! The deep Galerkin method (Sirignano & Spiliopoulos, *J. Comput. Phys.* 375, 2018) as the
//! sampled-residual variant of a PINN: every step draws a fresh set of `n` interior points
//! `x_1 … x_n` from the domain and takes one optimizer step on
//!
//! ```text
//! L(θ) = (1/n) Σ_k |r(x_k; u_θ, λ)|² + Σ_i w_i mean_i |c_i(u_θ)|²,
//! ```
//!
//! an unbiased estimate of `‖r‖²_{L²(Ω)} / |Ω|` (plus the condition terms), so the iteration is
//! stochastic gradient descent on the integrated residual rather than on a fixed collocation
//! set: no point set to overfit, and memory independent of how finely the domain is covered.
//! The points come from the step's own random stream ([`StepContext::rng`]), so a resumed run
//! draws the same points. The condition terms keep their points (the paper resamples them too;
//! with hard constraints there are none).
//!
//! The paper's gated "DGM layer" network is not provided; any [`PinnField`] network trains.

use std::path::Path;

use burn::module::{Module, ModuleDisplay};
use burn::optim::Optimizer;
use sysdyn_core::device::SysDevice;
use sysdyn_train::{
    BoxError, Checkpointable, NonFinite, Optim, StepContext, StepReport, TrainError, TrainStep,
};

use super::collocation::{Sampler, sample};
use super::network::PinnField;
use super::problem::{PinnModel, PinnProblem};
use super::train::PinnStep;
use crate::PhysicsError;

/// A deep Galerkin training step: a [`PinnStep`] whose collocation points are redrawn before
/// every step (`points` of them, placed by `sampler`).
pub struct DgmStep<N: Module + ModuleDisplay + PinnField, O: Optimizer> {
    inner: PinnStep<N, O>,
    sampler: Sampler,
    points: usize,
}

impl<N: Module + ModuleDisplay + PinnField, O: Optimizer> DgmStep<N, O> {
    /// A step for `network` on `problem` (its own collocation points are only the first loss's)
    /// drawing `points` fresh points per step with `sampler` (uniform or Latin hypercube: Sobol
    /// would draw the same points every step).
    pub fn new(
        device: SysDevice,
        network: N,
        optim: Optim<O>,
        problem: &PinnProblem,
        sampler: Sampler,
        points: usize,
    ) -> Result<Self, PhysicsError> {
        if points == 0 {
            return Err(PhysicsError::Empty {
                what: "the deep Galerkin method's points per step",
                unit: "point",
            });
        }
        if let Sampler::Sobol { .. } = sampler {
            return Err(PhysicsError::InvalidParameter {
                name: "deep Galerkin sampler",
                value: points as f64,
                requirement: "must be random (Uniform or LatinHypercube): Sobol points are the \
                              same every step",
            });
        }
        Ok(DgmStep {
            inner: PinnStep::new(device, network, optim, problem)?,
            sampler,
            points,
        })
    }

    /// The model.
    pub fn model(&self) -> &PinnModel<N> {
        self.inner.model()
    }

    /// The underlying fixed-point step (e.g. to finish with L-BFGS on its last points).
    pub fn inner_mut(&mut self) -> &mut PinnStep<N, O> {
        &mut self.inner
    }
}

impl<N: Module + ModuleDisplay + PinnField, O: Optimizer> Checkpointable for DgmStep<N, O> {
    fn save_checkpoint(&self, dir: &Path) -> Result<(), TrainError> {
        self.inner.save_checkpoint(dir)
    }

    fn load_checkpoint(&mut self, dir: &Path) -> Result<(), TrainError> {
        self.inner.load_checkpoint(dir)
    }
}

impl<N: Module + ModuleDisplay + PinnField, O: Optimizer> TrainStep for DgmStep<N, O> {
    fn step(&mut self, ctx: &mut StepContext) -> Result<StepReport, BoxError> {
        let domain = self.inner.problem().domain().clone();
        let fresh = sample(&domain, self.sampler, self.points, &mut ctx.rng)?;
        self.inner.set_collocation(fresh)?;
        self.inner.step(ctx)
    }

    fn non_finite_parameter(&self) -> Option<NonFinite> {
        self.inner.non_finite_parameter()
    }
}
