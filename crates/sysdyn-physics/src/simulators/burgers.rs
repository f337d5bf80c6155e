//! Viscous Burgers' equation on the periodic interval `[−1, 1)`, pseudo-spectral:
//!
//! `u_t + u u_x = ν u_xx`, written `u_t = −½ (u²)_x + ν u_xx` with the product dealiased by the
//! 2/3 rule (derivatives from [`sysdyn_core::spectral`]). The default initial condition is
//! `u0 = −sin(πx)` with `ν = 0.01/π` (Raissi et al., *Physics-informed neural networks*, J.
//! Comput. Phys. 378, 2019), and [`BurgersSine::exact`] gives its exact solution by the
//! Cole–Hopf transform: `u = −2ν φ_x / φ` where `φ` solves the heat equation `φ_t = ν φ_xx`
//! from `φ0(x) = exp(−cos(πx) / (2πν))`. `φ0` is expanded in its cosine series (coefficients by
//! the trapezoidal rule, spectrally accurate for this smooth periodic function), each mode
//! `cos(mπx)` decaying like `exp(−ν m² π² t)`. The series loses relative accuracy where `φ` is
//! tiny (near `x = 0` for small `ν`: `φ0` spans `exp(−1/(πν))`): use it for `ν ≳ 0.02`, where it
//! is accurate to about 1e-12.

use burn::tensor::Tensor;
use sysdyn_core::spectral::Spectral1d;

use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

use crate::error::PhysicsError;
use crate::model::{
    PhysicalModel, check_parameter_count, check_state, check_tensor_input, host_tensor,
    non_negative, param_column,
};
use crate::simulators::{Dataset, simulated_dataset};
use crate::stencil::{operator_matrix, spectral_derivative_matrix};

/// Viscous Burgers on `n` points of `[−1, 1)` (`x_i = −1 + 2i/n`), viscosity `ν`.
#[derive(Debug, Clone)]
pub struct Burgers {
    nu: f64,
    ops: Spectral1d,
    scratch: (Vec<f64>, Vec<f64>, Vec<f64>),
}

const NAMES: &[&str] = &["nu"];

impl Burgers {
    /// Raissi et al.'s setting: `ν = 0.01/π` on 256 points (start it from
    /// [`Burgers::sine_initial_condition`]). The front at `x = 0` steepens to a width of about
    /// `ν`-scale; 256 modes resolve it up to `t ≈ 1` only roughly, and [`BurgersSine`] is not
    /// accurate at this `ν` (see its docs).
    pub fn raissi() -> Self {
        Self::new(256, 0.01 / std::f64::consts::PI).expect("256 points and ν > 0 are valid")
    }

    /// `n` points (at least 3) and viscosity `ν ≥ 0`.
    pub fn new(n: usize, nu: f64) -> Result<Self, PhysicsError> {
        if n < 3 {
            return Err(PhysicsError::GridTooSmall {
                what: "pseudo-spectral Burgers",
                got: n,
                needed: 3,
            });
        }
        let mut m = Burgers {
            nu: 0.0,
            ops: Spectral1d::new(n, 2.0)?,
            scratch: (vec![0.0; n], vec![0.0; n], vec![0.0; n]),
        };
        m.set_parameters(&[nu])?;
        Ok(m)
    }

    /// The grid points `x_i = −1 + 2i/n`.
    pub fn grid(&self) -> Vec<f64> {
        let n = self.ops.n();
        (0..n).map(|i| -1.0 + 2.0 * i as f64 / n as f64).collect()
    }

    /// `count` trajectories on `times` from random smooth initial conditions
    /// `u0 = Σ_{m=1}^{3} (a_m sin(mπx) + b_m cos(mπx)) / m` with `a_m, b_m` standard normal
    /// (Dopri5, `rtol = 1e-8`).
    pub fn dataset(&self, count: usize, seed: u64, times: &[f64]) -> Result<Dataset, PhysicsError> {
        let grid = self.grid();
        let pi = std::f64::consts::PI;
        simulated_dataset(
            self,
            count,
            seed,
            times,
            &DOPRI5,
            SolveConfig::adaptive(1e-8, 1e-10),
            |_, rng| {
                let coeffs: Vec<(f64, f64)> =
                    (0..3).map(|_| (rng.normal(), rng.normal())).collect();
                Ok(grid
                    .iter()
                    .map(|&x| {
                        coeffs
                            .iter()
                            .enumerate()
                            .map(|(m, (a, b))| {
                                let k = (m + 1) as f64;
                                (a * (k * pi * x).sin() + b * (k * pi * x).cos()) / k
                            })
                            .sum()
                    })
                    .collect())
            },
        )
    }

    /// `u0 = −sin(πx)` on the grid.
    pub fn sine_initial_condition(&self) -> Vec<f64> {
        self.grid()
            .iter()
            .map(|x| -(std::f64::consts::PI * x).sin())
            .collect()
    }
}

/// The exact (Cole–Hopf) solution of Burgers' equation from `u0 = −sin(πx)` on `[−1, 1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct BurgersSine {
    nu: f64,
    /// Cosine coefficients `a_m` of `φ0`, `m = 0, 1, …`.
    coefficients: Vec<f64>,
}

impl BurgersSine {
    /// The solution for viscosity `ν > 0`, with `φ0`'s cosine series computed by the
    /// trapezoidal rule on `quadrature` points (1024 is ample down to `ν = 0.01/π`).
    pub fn new(nu: f64, quadrature: usize) -> Result<Self, PhysicsError> {
        crate::model::positive("nu", nu)?;
        if quadrature < 8 {
            return Err(PhysicsError::GridTooSmall {
                what: "Cole-Hopf quadrature",
                got: quadrature,
                needed: 8,
            });
        }
        let pi = std::f64::consts::PI;
        let xs: Vec<f64> = (0..quadrature)
            .map(|j| -1.0 + 2.0 * j as f64 / quadrature as f64)
            .collect();
        // Scale φ0 by its maximum so the exponentials stay in range for small ν.
        let amp = 1.0 / (2.0 * pi * nu);
        let phi0: Vec<f64> = xs
            .iter()
            .map(|x| (-amp * ((pi * x).cos() + 1.0)).exp())
            .collect();
        let mut coefficients: Vec<f64> = (0..quadrature / 2)
            .map(|m| {
                let s: f64 = xs
                    .iter()
                    .zip(&phi0)
                    .map(|(x, p)| p * (m as f64 * pi * x).cos())
                    .sum();
                s * if m == 0 { 1.0 } else { 2.0 } / quadrature as f64
            })
            .collect();
        // The coefficients decay (like modified Bessel functions I_m(1/(2πν))); past the
        // first one below 1e-17 · a_0 they are quadrature rounding, which the factor m in φ_x
        // would amplify.
        let a0 = coefficients[0].abs();
        if let Some(cut) = coefficients.iter().position(|a| a.abs() < 1e-17 * a0) {
            coefficients.truncate(cut);
        }
        Ok(BurgersSine { nu, coefficients })
    }

    /// `u(x, t)`.
    pub fn exact(&self, x: f64, t: f64) -> f64 {
        let pi = std::f64::consts::PI;
        let (mut phi, mut dphi) = (0.0, 0.0);
        for (m, a) in self.coefficients.iter().enumerate() {
            let mf = m as f64;
            let decay = a * (-self.nu * mf * mf * pi * pi * t).exp();
            phi += decay * (mf * pi * x).cos();
            dphi -= decay * mf * pi * (mf * pi * x).sin();
        }
        -2.0 * self.nu * dphi / phi
    }
}

/// An exact solution of Burgers' equation on the whole line by the Cole–Hopf transform with
/// `φ` a sum of heat-equation exponentials, `φ = Σᵢ exp(−aᵢ (x − aᵢ t/2) / (2ν) + cᵢ)`. Then
/// `u = −2ν φ_x/φ = Σᵢ aᵢ wᵢ / Σᵢ wᵢ` with `wᵢ` the terms of `φ`: `u` is a weighted mean of the
/// constant states `aᵢ`, joined by viscous shocks of width `~ν / (aᵢ − aⱼ)` that travel at
/// `(aᵢ + aⱼ)/2` and merge. Two states give the travelling `tanh` front, three with decreasing
/// `aᵢ` two shocks that merge (PDE-FIND's test data: a single front satisfies `u_t = −c u_x`
/// too, merging shocks only Burgers' equation).
#[derive(Debug, Clone, PartialEq)]
pub struct BurgersShocks {
    nu: f64,
    states: Vec<f64>,
    offsets: Vec<f64>,
}

impl BurgersShocks {
    /// Viscosity `ν > 0`, the states `aᵢ` and the offsets `cᵢ` (as many, finite; the offsets
    /// place the shocks: the one between `aᵢ` and `aⱼ` starts where
    /// `−aᵢ x/(2ν) + cᵢ = −aⱼ x/(2ν) + cⱼ`).
    pub fn new(nu: f64, states: &[f64], offsets: &[f64]) -> Result<Self, PhysicsError> {
        crate::model::positive("nu", nu)?;
        if states.is_empty() {
            return Err(PhysicsError::Empty {
                what: "Cole-Hopf states",
                unit: "state a_i",
            });
        }
        crate::stencil::check_len(
            "Cole-Hopf offsets (one per state)",
            states.len(),
            offsets.len(),
        )?;
        for (&a, &c) in states.iter().zip(offsets) {
            crate::model::finite("state a_i", a)?;
            crate::model::finite("offset c_i", c)?;
        }
        Ok(BurgersShocks {
            nu,
            states: states.to_vec(),
            offsets: offsets.to_vec(),
        })
    }

    /// Two shocks that merge: states `1, ½, 0` with `ν = 0.1` and offsets `(−5, 0, 0)`: the
    /// faster shock (speed 0.75) starts at `x = −2` behind the slower one (speed 0.25) at
    /// `x = 0`; they meet at `t = 4`, `x = 1`.
    pub fn merging() -> Self {
        Self::new(0.1, &[1.0, 0.5, 0.0], &[-5.0, 0.0, 0.0]).expect("valid constants")
    }

    /// The viscosity.
    pub fn nu(&self) -> f64 {
        self.nu
    }

    /// `u(x, t)`, evaluated with the largest exponent factored out (no overflow for small `ν`).
    pub fn exact(&self, x: f64, t: f64) -> f64 {
        let exponent = |(a, c): (&f64, &f64)| -a * (x - a * t / 2.0) / (2.0 * self.nu) + c;
        let pairs = || self.states.iter().zip(&self.offsets);
        let top = pairs().map(exponent).fold(f64::NEG_INFINITY, f64::max);
        let (mut num, mut den) = (0.0, 0.0);
        for pair in pairs() {
            let w = (exponent(pair) - top).exp();
            num += pair.0 * w;
            den += w;
        }
        num / den
    }
}

impl PhysicalModel for Burgers {
    fn name(&self) -> &'static str {
        "viscous Burgers"
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![self.ops.n()]
    }

    fn parameter_names(&self) -> &'static [&'static str] {
        NAMES
    }

    fn parameters(&self) -> Vec<f64> {
        vec![self.nu]
    }

    fn set_parameters(&mut self, values: &[f64]) -> Result<(), PhysicsError> {
        check_parameter_count(NAMES, values)?;
        self.nu = non_negative("nu", values[0])?;
        Ok(())
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), PhysicsError> {
        let n = self.ops.n();
        check_state(n, y, dy)?;
        let (sq, filtered, lap) = &mut self.scratch;
        for (s, u) in sq.iter_mut().zip(y) {
            *s = u * u;
        }
        self.ops.dealias(sq, filtered)?;
        self.ops.derivative(filtered, sq)?;
        self.ops.laplacian(y, lap)?;
        for i in 0..n {
            dy[i] = -0.5 * sq[i] + self.nu * lap[i];
        }
        Ok(())
    }

    fn jacobian_pattern(&self) -> Option<Vec<(usize, usize)>> {
        None
    }

    /// The same operators as dense `n × n` matrices (rebuilt from the host FFTs on each call:
    /// `O(n² log n)`, negligible next to training for the grids used here).
    fn rhs_tensor(
        &self,
        _t: f64,
        y: Tensor<2>,
        params: Tensor<2>,
    ) -> Result<Tensor<2>, PhysicsError> {
        check_tensor_input(self, &y, &params)?;
        let n = self.ops.n();
        let mut ops = self.ops.clone();
        let dx = spectral_derivative_matrix(n, 2.0, 1)?;
        let lap = operator_matrix(n, |u, o| Ok(ops.laplacian(u, o)?))?;
        let dealias = operator_matrix(n, |u, o| Ok(ops.dealias(u, o)?))?;
        let like = y.clone();
        let apply = |u: Tensor<2>, m: Vec<f64>| u.matmul(host_tensor(m, [n, n], &like).transpose());
        let flux = apply(apply(y.clone() * y.clone(), dealias), dx).mul_scalar(-0.5);
        Ok(flux + param_column(&params, 0) * apply(y, lap))
    }
}

/// The reference solution of Raissi et al.'s Burgers problem at any viscosity, down to
/// `ν = 0.01/π` and below: the Cole–Hopf solution on the infinite line written as a Gaussian
/// integral (Basdevant et al., *Comput. Fluids* 14, 1986),
///
/// ```text
/// u(x, t) = −∫ sin(π(x − c z)) F(x − c z) e^{−z²} dz / ∫ F(x − c z) e^{−z²} dz,
/// F(y) = exp(−cos(πy) / (2πν)),   c = 2√(νt),
/// ```
///
/// which for `u0 = −sin(πx)` (odd and 2-periodic) is the periodic solution, so `u(±1, t) = 0`
/// holds exactly. The integrals are taken by the trapezoidal rule on `z ∈ [−L, L]` with
/// `L = √(1/(πν) + 40)` (the tail is below `e^{−40}` of the peak): for an integrand analytic in a
/// strip and decaying like `e^{−z²}` the rule converges exponentially in the spacing (Trefethen
/// & Weideman 2014), as Gauss–Hermite does, without the node computation. The exponents are
/// shifted by their maximum before exponentiation, so `F`'s range of `e^{±1/(2πν)}` does not
/// overflow. Unlike [`BurgersSine`] it has no cancellation where `φ` is tiny: the test suite
/// checks it against `BurgersSine` at `ν = 0.05` and against a 2048-mode pseudo-spectral solve
/// at `ν = 0.01/π`, and its maximum slope against Basdevant et al.'s 152.00516.
#[derive(Debug, Clone, PartialEq)]
pub struct BurgersReference {
    nu: f64,
    nodes: Vec<f64>,
}

impl BurgersReference {
    /// Raissi et al.'s `ν = 0.01/π` with 4001 nodes (spacing 0.006 on `|z| ≤ 12.1`).
    pub fn raissi() -> Self {
        Self::new(0.01 / std::f64::consts::PI, 4001)
            .expect("ν = 0.01/π > 0 and 4001 nodes are valid")
    }

    /// Viscosity `ν > 0` with `nodes` trapezoidal nodes (at least 64; the spacing must resolve
    /// the integrand's peaks of width `1/(π c √(1/(2πν)))` in `z`: 2000 nodes suffice for
    /// `t ≤ 1` at `ν = 0.01/π`).
    pub fn new(nu: f64, nodes: usize) -> Result<Self, PhysicsError> {
        crate::model::positive("nu", nu)?;
        if nodes < 64 {
            return Err(PhysicsError::GridTooSmall {
                what: "Cole-Hopf trapezoidal nodes",
                got: nodes,
                needed: 64,
            });
        }
        let half = (1.0 / (std::f64::consts::PI * nu) + 40.0).sqrt();
        let h = 2.0 * half / (nodes - 1) as f64;
        Ok(BurgersReference {
            nu,
            nodes: (0..nodes).map(|i| -half + i as f64 * h).collect(),
        })
    }

    /// The viscosity.
    pub fn nu(&self) -> f64 {
        self.nu
    }

    /// `u(x, t)` (`t ≥ 0`; at `t = 0` exactly `−sin(πx)`).
    pub fn value(&self, x: f64, t: f64) -> f64 {
        let pi = std::f64::consts::PI;
        if t <= 0.0 {
            return -(pi * x).sin();
        }
        let c = 2.0 * (self.nu * t).sqrt();
        let a = 1.0 / (2.0 * pi * self.nu);
        let exponent = |z: f64| -a * (pi * (x - c * z)).cos() - z * z;
        let peak = self
            .nodes
            .iter()
            .map(|&z| exponent(z))
            .fold(f64::MIN, f64::max);
        let (mut num, mut den) = (0.0, 0.0);
        for &z in &self.nodes {
            let w = (exponent(z) - peak).exp();
            num += (pi * (x - c * z)).sin() * w;
            den += w;
        }
        -num / den
    }

    /// `u` on the tensor grid `xs × ts`, row `i` at time `ts[i]` (`[ts.len(), xs.len()]`
    /// row-major); rayon over the points.
    pub fn grid(&self, xs: &[f64], ts: &[f64]) -> Vec<f64> {
        use rayon::prelude::*;
        (0..xs.len() * ts.len())
            .into_par_iter()
            .map(|k| self.value(xs[k % xs.len()], ts[k / xs.len()]))
            .collect()
    }
}
