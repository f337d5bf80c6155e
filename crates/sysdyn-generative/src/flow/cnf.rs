//! The continuous normalizing flow of sysdyn-nodes ([`sysdyn_nodes::Cnf`]; Chen et al. 2018,
//! FFJORD) behind the [`Flow`] trait, so it stacks and trains like any other layer.
//!
//! The layer is the ODE `dz/dt = f(t, z)` over `[0, T]`: [`Flow::forward`] integrates data
//! `x = z(0)` to `z(T)`, and the instantaneous change of variables gives
//!
//! ```text
//! log|det ∂z(T)/∂x| = ∫_0^T tr(∂f/∂z)(t, z(t)) dt,
//! ```
//!
//! integrated alongside the state (sysdyn-nodes carries `l` with `dl/dt = −tr`); the trace is
//! exact (jets) or Hutchinson's estimate with probes drawn from the layer's seed.
//! [`Flow::inverse`] integrates from `T` back to 0 and returns `−∫_0^T tr dt` along the
//! backward path. Both are exact up to the solver's error: with an adaptive method the round
//! trip and the log-determinant are as accurate as the tolerances given.

use burn::module::{Module, ModuleDisplay};
use burn::tensor::Tensor;
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::{Cnf, DivergenceField, TraceEstimator, standard_normal_log_density};
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::tableau::ButcherTableau;

use super::rows::{check_context, check_rows};
use super::{Flow, Transformed};
use crate::error::GenerativeError;

/// How a [`CnfFlow`] integrates: the Runge–Kutta method, the step policy, the trace, the
/// flow time `T` and the seed of Hutchinson probes.
#[derive(Debug, Clone)]
pub struct CnfSolver {
    /// The Runge–Kutta method.
    pub method: ButcherTableau,
    /// Step policy (fixed or adaptive) and limits.
    pub config: SolveConfig<Tensor<2>>,
    /// Exact or Hutchinson trace.
    pub estimator: TraceEstimator,
    /// The flow time `T` (> 0).
    pub flow_time: f64,
    /// The seed of the Hutchinson probes (the same probes at every call).
    pub seed: u64,
}

/// A continuous normalizing flow as a [`Flow`] layer (unconditional).
#[derive(Module, Debug)]
pub struct CnfFlow<F: Module + ModuleDisplay> {
    /// The vector field `f(t, z)`.
    pub field: F,
    #[module(skip)]
    solver: CnfSolver,
}

impl<F: DivergenceField> CnfFlow<F> {
    /// The flow of `field` integrated as `solver` says; refuses a flow time that is not
    /// positive and finite.
    pub fn new(field: F, solver: CnfSolver) -> Result<Self, GenerativeError> {
        crate::error::check_positive("CnfSolver::flow_time", solver.flow_time)?;
        Ok(CnfFlow { field, solver })
    }

    /// The integration settings.
    pub fn solver(&self) -> &CnfSolver {
        &self.solver
    }

    fn cnf(&self) -> Result<Cnf<F, ButcherTableau>, GenerativeError> {
        Ok(Cnf::new(
            self.field.clone(),
            self.solver.estimator,
            self.solver.method,
            self.solver.config.clone(),
        )
        .with_flow_time(self.solver.flow_time)?)
    }

    fn check(
        &self,
        points: &Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<usize, GenerativeError> {
        let batch = check_rows("CNF input", points, self.field.dim())?;
        check_context("CNF context", context, 0, batch)?;
        Ok(batch)
    }
}

impl<F: DivergenceField> Flow<2> for CnfFlow<F> {
    fn forward(
        &self,
        x: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let batch = self.check(&x, context)?;
        let mut cnf = self.cnf()?;
        let mut rng = SeededRng::new(self.solver.seed);
        let pass = cnf.log_density(x, &mut rng)?;
        let z = pass.points.clone();
        // log p(x) = log N(z) + log|det ∂z/∂x|.
        let log_det = pass.log_density.clone() - standard_normal_log_density(z.clone());
        Ok(Transformed {
            value: z,
            log_det: log_det.reshape([batch]),
        })
    }

    fn inverse(
        &self,
        z: Tensor<2>,
        context: Option<&Tensor<2>>,
    ) -> Result<Transformed<2>, GenerativeError> {
        let batch = self.check(&z, context)?;
        let mut cnf = self.cnf()?;
        let mut rng = SeededRng::new(self.solver.seed);
        let base = standard_normal_log_density(z.clone());
        let pass = cnf.sample(z, &mut rng)?;
        // log q(x) = log N(z) − log|det ∂x/∂z|.
        let log_det = base - pass.log_density.clone();
        Ok(Transformed {
            value: pass.points.clone(),
            log_det: log_det.reshape([batch]),
        })
    }
}
