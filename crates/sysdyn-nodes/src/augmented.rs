//! The augmented state of the continuous adjoint: the state `x(t)`, the adjoint
//! `a(t) = ∂L/∂x(t)` and the running parameter-gradient integral, solved backwards in time as
//! one [`State`] by any `sysdyn-solvers` method.
//!
//! The error norm is the weighted RMS over all components, or, with the *seminorm* (Kidger et
//! al. 2021, "Hey, that's not an ODE"), over the state and adjoint only: the parameter-gradient
//! integral does not feed back into the dynamics, so its local error need not limit the step.

use burn::tensor::Tensor;
use sysdyn_core::{State, Tol, Tolerance};

/// `(x, a, g)`: state, adjoint and parameter-gradient integral of a backward adjoint solve.
#[derive(Debug, Clone)]
pub struct AugmentedState {
    /// The state `x(t)`, `[batch, dim]`.
    pub state: Tensor<2>,
    /// The adjoint `a(t) = ∂L/∂x(t)`, `[batch, dim]`.
    pub adjoint: Tensor<2>,
    /// The parameter-gradient integral, flat in [`crate::ParamLayout`] order.
    pub params: Tensor<1>,
    /// Whether the parameter part counts in the error norm (`false` = seminorm).
    params_in_norm: bool,
}

impl AugmentedState {
    /// An augmented state; `params_in_norm = false` selects the seminorm.
    pub fn new(
        state: Tensor<2>,
        adjoint: Tensor<2>,
        params: Tensor<1>,
        params_in_norm: bool,
    ) -> Self {
        AugmentedState {
            state,
            adjoint,
            params,
            params_in_norm,
        }
    }

    /// Whether the parameter part counts in the error norm.
    pub fn params_in_norm(&self) -> bool {
        self.params_in_norm
    }

    fn sizes(&self) -> [usize; 3] {
        [
            self.state.num_components(),
            self.adjoint.num_components(),
            self.params.num_components(),
        ]
    }

    fn map(
        &self,
        state: impl FnOnce(&Tensor<2>) -> Tensor<2>,
        adjoint: impl FnOnce(&Tensor<2>) -> Tensor<2>,
        params: impl FnOnce(&Tensor<1>) -> Tensor<1>,
    ) -> Self {
        AugmentedState {
            state: state(&self.state),
            adjoint: adjoint(&self.adjoint),
            params: params(&self.params),
            params_in_norm: self.params_in_norm,
        }
    }
}

fn parts<const D: usize>(
    stages: &[AugmentedState],
    pick: impl Fn(&AugmentedState) -> &Tensor<D>,
) -> Vec<Tensor<D>> {
    stages.iter().map(|s| pick(s).clone()).collect()
}

fn part_tol<const D: usize>(
    tol: &Tol<AugmentedState>,
    pick: impl Fn(&AugmentedState) -> &Tensor<D>,
) -> Tol<Tensor<D>> {
    match tol {
        Tol::Scalar(v) => Tol::Scalar(*v),
        Tol::PerComponent(s) => Tol::PerComponent(pick(s).clone()),
    }
}

fn part_tolerance<const D: usize>(
    tol: &Tolerance<AugmentedState>,
    pick: impl Fn(&AugmentedState) -> &Tensor<D> + Copy,
) -> Tolerance<Tensor<D>> {
    Tolerance::with(part_tol(&tol.rtol, pick), part_tol(&tol.atol, pick))
}

impl State for AugmentedState {
    fn num_components(&self) -> usize {
        self.sizes().iter().sum()
    }

    fn shape(&self) -> Vec<usize> {
        vec![self.num_components()]
    }

    fn add_stages(&self, h: f64, coeffs: &[f64], stages: &[Self]) -> Self {
        let xs = parts(stages, |s| &s.state);
        let adjs = parts(stages, |s| &s.adjoint);
        let ps = parts(stages, |s| &s.params);
        self.map(
            |x| x.add_stages(h, coeffs, &xs),
            |a| a.add_stages(h, coeffs, &adjs),
            |p| p.add_stages(h, coeffs, &ps),
        )
    }

    fn stage_sum(h: f64, coeffs: &[f64], stages: &[Self]) -> Self {
        let xs = parts(stages, |s| &s.state);
        let adjs = parts(stages, |s| &s.adjoint);
        let ps = parts(stages, |s| &s.params);
        AugmentedState {
            state: Tensor::stage_sum(h, coeffs, &xs),
            adjoint: Tensor::stage_sum(h, coeffs, &adjs),
            params: Tensor::stage_sum(h, coeffs, &ps),
            params_in_norm: stages[0].params_in_norm,
        }
    }

    fn linear_combination(terms: &[(f64, &Self)]) -> Self {
        let xs: Vec<(f64, &Tensor<2>)> = terms.iter().map(|(c, s)| (*c, &s.state)).collect();
        let adjs: Vec<(f64, &Tensor<2>)> = terms.iter().map(|(c, s)| (*c, &s.adjoint)).collect();
        let ps: Vec<(f64, &Tensor<1>)> = terms.iter().map(|(c, s)| (*c, &s.params)).collect();
        AugmentedState {
            state: Tensor::linear_combination(&xs),
            adjoint: Tensor::linear_combination(&adjs),
            params: Tensor::linear_combination(&ps),
            params_in_norm: terms[0].1.params_in_norm,
        }
    }

    fn weighted_rms_norm(x: &Self, a: &Self, b: &Self, tol: &Tolerance<Self>) -> f64 {
        // RMS of each part, recombined into the RMS over the parts that count.
        let [nx, na, np] = x.sizes();
        let rx = Tensor::weighted_rms_norm(
            &x.state,
            &a.state,
            &b.state,
            &part_tolerance(tol, |s| &s.state),
        );
        let ra = Tensor::weighted_rms_norm(
            &x.adjoint,
            &a.adjoint,
            &b.adjoint,
            &part_tolerance(tol, |s| &s.adjoint),
        );
        let mut sum = rx * rx * nx as f64 + ra * ra * na as f64;
        let mut count = nx + na;
        if x.params_in_norm && np > 0 {
            let rp = Tensor::weighted_rms_norm(
                &x.params,
                &a.params,
                &b.params,
                &part_tolerance(tol, |s| &s.params),
            );
            sum += rp * rp * np as f64;
            count += np;
        }
        if count == 0 {
            0.0
        } else {
            (sum / count as f64).sqrt()
        }
    }

    fn first_non_finite(&self) -> Option<usize> {
        let [nx, na, _] = self.sizes();
        self.state
            .first_non_finite()
            .or_else(|| self.adjoint.first_non_finite().map(|i| nx + i))
            .or_else(|| self.params.first_non_finite().map(|i| nx + na + i))
    }

    fn to_f64_vec(&self) -> Vec<f64> {
        let mut out = self.state.to_f64_vec();
        out.extend(self.adjoint.to_f64_vec());
        out.extend(self.params.to_f64_vec());
        out
    }

    fn with_components(&self, values: &[f64]) -> Self {
        let [nx, na, _] = self.sizes();
        AugmentedState {
            state: self.state.with_components(&values[..nx]),
            adjoint: self.adjoint.with_components(&values[nx..nx + na]),
            params: self.params.with_components(&values[nx + na..]),
            params_in_norm: self.params_in_norm,
        }
    }
}
