//! The continuous-time view: optimizers as discretisations of ODEs, integrated with
//! `sysdyn-solvers` and set next to the discrete iterates.
//!
//! # Gradient flow
//!
//! Gradient descent `θ_{k+1} = θ_k - η ∇L(θ_k)` is the explicit Euler method with step `η` for
//! the gradient flow `θ' = -∇L(θ)`: iterate `k` approximates `θ(t_k)` at `t_k = kη`, and on a
//! fixed horizon `[0, T]` the largest distance between the two is `O(η)` (Euler is first order).
//! [`gd_vs_gradient_flow`] measures it.
//!
//! # The heavy-ball ODE
//!
//! Heavy-ball `θ_{k+1} = θ_k - η ∇L(θ_k) + γ (θ_k - θ_{k-1})` is a two-step recursion. Rewrite it
//! with the second and first backward differences:
//!
//! ```text
//! (θ_{k+1} - 2θ_k + θ_{k-1}) + (1 - γ)(θ_k - θ_{k-1}) = -η ∇L(θ_k).
//! ```
//!
//! Read `θ_k = Θ(kh)` for a smooth curve `Θ` and a time step `h`: the first bracket is
//! `h² Θ'' + O(h⁴)`, the second `h Θ' - h²/2 Θ'' + O(h³)`. Dividing by `h²`,
//!
//! ```text
//! (1 - (1-γ)/2) Θ'' + ((1-γ)/h) Θ' + (η/h²) ∇L(Θ) = O(h).
//! ```
//!
//! The forcing keeps a finite size when `h = √η`, and the damping then stays finite when `1 - γ`
//! shrinks like `√η`: with `b = (1-γ)/√η` held fixed and `η → 0`, the mass `(1+γ)/2 → 1` and
//! the iterates follow the damped oscillator (Polyak's heavy ball)
//!
//! ```text
//! Θ'' + b Θ' + ∇L(Θ) = 0,     Θ(0) = θ_0,  Θ'(0) = 0,     θ_k ≈ Θ(k√η),
//! ```
//!
//! the initial velocity being zero because `(θ_1 - θ_0)/h = -√η ∇L(θ_0) → 0`. The neglected
//! terms are `O(h) = O(√η)`, so the distance between iterates and ODE on `[0, T]` shrinks like
//! `√η`. [`HeavyBallOde`] integrates it as the first-order system `Θ' = P`,
//! `P' = -b P - ∇L(Θ)`.

use sysdyn_solvers::methods::DOPRI5;
use sysdyn_solvers::{SaveAt, SolveConfig, solve};

use crate::error::{OptimError, check_learning_rate, positive, unit_interval};
use crate::rules::{GradientDescent, HeavyBall, iterate};

/// Discrete iterates next to an ODE solution at the same times.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowComparison {
    /// The times `t_k` the discrete iterates stand for.
    pub times: Vec<f64>,
    /// The discrete iterates `θ_k`.
    pub discrete: Vec<Vec<f64>>,
    /// The ODE solution `Θ(t_k)`.
    pub continuous: Vec<Vec<f64>>,
}

impl FlowComparison {
    /// `|θ_k - Θ(t_k)|` for every `k`.
    pub fn distances(&self) -> Vec<f64> {
        self.discrete
            .iter()
            .zip(&self.continuous)
            .map(|(a, b)| {
                a.iter()
                    .zip(b)
                    .map(|(x, y)| (x - y) * (x - y))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect()
    }

    /// `max_k |θ_k - Θ(t_k)|`.
    pub fn max_distance(&self) -> f64 {
        self.distances().into_iter().fold(0.0, f64::max)
    }
}

/// The times `0, h, 2h, ...` up to `horizon` (within rounding) and their count minus one.
fn grid(h: f64, horizon: f64) -> (Vec<f64>, usize) {
    let steps = (horizon / h * (1.0 + 1e-12)).floor() as usize;
    ((0..=steps).map(|k| k as f64 * h).collect(), steps)
}

/// Solves `θ' = -∇L(θ)` from `theta0` and returns `θ(t)` at each of `times` (non-decreasing,
/// starting at or after 0), with Dormand–Prince 5(4) at relative and absolute tolerance `tol`.
pub fn gradient_flow<G>(
    mut grad: G,
    theta0: &[f64],
    times: &[f64],
    tol: f64,
) -> Result<Vec<Vec<f64>>, OptimError>
where
    G: FnMut(&[f64]) -> Vec<f64>,
{
    positive("flow tolerance", tol)?;
    let Some(&end) = times.last() else {
        return Ok(Vec::new());
    };
    let mut field = |_t: f64, y: &Vec<f64>| -> Vec<f64> { grad(y).iter().map(|g| -g).collect() };
    let config = SolveConfig::adaptive(tol, tol).save_at(SaveAt::Times(times.to_vec()));
    let sol = solve(&mut field, &DOPRI5, (0.0, end), theta0.to_vec(), &config)?;
    Ok(sol.ys)
}

/// Gradient descent with step `eta` from `theta0` for `t ∈ [0, horizon]` (iterate `k` at
/// `t_k = k η`) next to the gradient flow at the same times (solved to `tol`).
pub fn gd_vs_gradient_flow<G>(
    mut grad: G,
    theta0: &[f64],
    eta: f64,
    horizon: f64,
    tol: f64,
) -> Result<FlowComparison, OptimError>
where
    G: FnMut(&[f64]) -> Vec<f64>,
{
    check_learning_rate(eta)?;
    positive("flow horizon", horizon)?;
    let (times, steps) = grid(eta, horizon);
    let discrete = iterate(&GradientDescent, eta, theta0, steps, &mut grad)?;
    let continuous = gradient_flow(&mut grad, theta0, &times, tol)?;
    Ok(FlowComparison {
        times,
        discrete,
        continuous,
    })
}

/// The heavy-ball ODE `Θ'' + b Θ' + ∇L(Θ) = 0` that heavy-ball with step `η` and momentum `γ`
/// discretises with time step `h = √η` and damping `b = (1-γ)/√η` (derivation in the module
/// documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeavyBallOde {
    gamma: f64,
    eta: f64,
}

impl HeavyBallOde {
    /// The ODE of heavy-ball with learning rate `eta > 0` and momentum `gamma ∈ [0, 1)`.
    pub fn new(gamma: f64, eta: f64) -> Result<Self, OptimError> {
        Ok(HeavyBallOde {
            gamma: unit_interval("momentum gamma", gamma)?,
            eta: check_learning_rate(eta)?,
        })
    }

    /// The heavy-ball parameters whose limit is damping `damping` at step `eta`:
    /// `γ = 1 - b√η`, which must lie in `[0, 1)`.
    pub fn from_damping(damping: f64, eta: f64) -> Result<Self, OptimError> {
        positive("heavy-ball damping", damping)?;
        check_learning_rate(eta)?;
        Self::new(1.0 - damping * eta.sqrt(), eta)
    }

    /// Momentum `γ`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Learning rate `η`.
    pub fn eta(&self) -> f64 {
        self.eta
    }

    /// Time per iteration, `h = √η`.
    pub fn time_step(&self) -> f64 {
        self.eta.sqrt()
    }

    /// Damping `b = (1-γ)/√η`.
    pub fn damping(&self) -> f64 {
        (1.0 - self.gamma) / self.time_step()
    }

    /// Solves the ODE from rest at `theta0` and returns the positions `Θ(t)` at `times`.
    pub fn positions<G>(
        &self,
        mut grad: G,
        theta0: &[f64],
        times: &[f64],
        tol: f64,
    ) -> Result<Vec<Vec<f64>>, OptimError>
    where
        G: FnMut(&[f64]) -> Vec<f64>,
    {
        positive("flow tolerance", tol)?;
        let Some(&end) = times.last() else {
            return Ok(Vec::new());
        };
        let n = theta0.len();
        let b = self.damping();
        // State (Θ, P): Θ' = P, P' = -b P - ∇L(Θ).
        let mut field = |_t: f64, s: &Vec<f64>| -> Vec<f64> {
            let (theta, p) = s.split_at(n);
            let g = grad(theta);
            let mut out = p.to_vec();
            out.extend(p.iter().zip(&g).map(|(pi, gi)| -b * pi - gi));
            out
        };
        let mut s0 = theta0.to_vec();
        s0.resize(2 * n, 0.0);
        let config = SolveConfig::adaptive(tol, tol).save_at(SaveAt::Times(times.to_vec()));
        let sol = solve(&mut field, &DOPRI5, (0.0, end), s0, &config)?;
        Ok(sol.ys.into_iter().map(|s| s[..n].to_vec()).collect())
    }

    /// Heavy-ball iterates from `theta0` (zero initial velocity) for `t ∈ [0, horizon]`, iterate
    /// `k` at `t_k = k√η`, next to the ODE solution at the same times.
    pub fn compare<G>(
        &self,
        mut grad: G,
        theta0: &[f64],
        horizon: f64,
        tol: f64,
    ) -> Result<FlowComparison, OptimError>
    where
        G: FnMut(&[f64]) -> Vec<f64>,
    {
        positive("flow horizon", horizon)?;
        let (times, steps) = grid(self.time_step(), horizon);
        let rule = HeavyBall::new(self.gamma)?;
        let discrete = iterate(&rule, self.eta, theta0, steps, &mut grad)?;
        let continuous = self.positions(&mut grad, theta0, &times, tol)?;
        Ok(FlowComparison {
            times,
            discrete,
            continuous,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_flow_of_a_quadratic_is_exponential() {
        // L = ½(x² + 4y²): θ(t) = (e^{-t} x0, e^{-4t} y0).
        let grad = |x: &[f64]| vec![x[0], 4.0 * x[1]];
        let times = [0.0, 0.5, 1.0, 2.0];
        let ys = gradient_flow(grad, &[1.0, -2.0], &times, 1e-11).unwrap();
        for (t, y) in times.iter().zip(&ys) {
            assert!((y[0] - (-t).exp()).abs() < 1e-8, "{t}");
            assert!((y[1] + 2.0 * (-4.0 * t).exp()).abs() < 1e-8, "{t}");
        }
        assert!(
            gradient_flow(grad, &[1.0, 0.0], &[], 1e-8)
                .unwrap()
                .is_empty()
        );
        assert!(gradient_flow(grad, &[1.0, 0.0], &[1.0], -1.0).is_err());
    }

    #[test]
    fn heavy_ball_ode_matches_the_damped_oscillator() {
        // Θ'' + bΘ' + ω²Θ = 0 with b = 1, ω² = 4, Θ(0) = 1, Θ'(0) = 0 (underdamped):
        // Θ = e^{-t/2}(cos νt + sin(νt)/(2ν)), ν = √(4 - 1/4).
        let ode = HeavyBallOde::from_damping(1.0, 0.01).unwrap();
        assert!((ode.gamma() - 0.9).abs() < 1e-15 && (ode.damping() - 1.0).abs() < 1e-12);
        let times = [0.0, 0.7, 1.9, 4.0];
        let pos = ode
            .positions(|x| vec![4.0 * x[0]], &[1.0], &times, 1e-11)
            .unwrap();
        let nu = (4.0f64 - 0.25).sqrt();
        for (t, p) in times.iter().zip(&pos) {
            let exact = (-t / 2.0f64).exp() * ((nu * t).cos() + (nu * t).sin() / (2.0 * nu));
            assert!((p[0] - exact).abs() < 1e-8, "{t}: {} vs {exact}", p[0]);
        }
        assert!(
            HeavyBallOde::from_damping(20.0, 0.01).is_err(),
            "γ would be < 0"
        );
        assert!(HeavyBallOde::new(1.0, 0.1).is_err());
    }

    #[test]
    fn comparisons_line_up_iterates_and_times() {
        let grad = |x: &[f64]| vec![x[0]];
        let c = gd_vs_gradient_flow(grad, &[1.0], 0.1, 1.0, 1e-10).unwrap();
        assert_eq!(c.times.len(), 11);
        assert_eq!(c.discrete.len(), 11);
        assert!((c.times[10] - 1.0).abs() < 1e-12);
        // GD on θ' = -θ: (1-η)^k vs e^{-kη}.
        for (k, (d, f)) in c.discrete.iter().zip(&c.continuous).enumerate() {
            assert!((d[0] - 0.9f64.powi(k as i32)).abs() < 1e-14);
            assert!((f[0] - (-(k as f64) * 0.1).exp()).abs() < 1e-8);
        }
        assert_eq!(c.distances()[0], 0.0);
    }
}
